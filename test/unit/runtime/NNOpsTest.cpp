//===- NNOpsTest.cpp - Eager NN and shape ops against the reference --------===//
#include "TestUtil.h"

#include "kiln/NNOps.h"
#include "kiln/Random.h"

#include <array>
#include <cmath>
#include <limits>

using namespace kiln;
using kiln::test::closeTo;
using kiln::test::nonContiguous;
using kiln::test::randomTensor;

namespace {

Window2D window(std::vector<int64_t> kernel, std::vector<int64_t> strides,
                std::vector<int64_t> pads, std::vector<int64_t> dilations,
                bool ceilMode = false) {
  Window2D w;
  w.kernel = std::move(kernel);
  w.strides = std::move(strides);
  w.pads = std::move(pads);
  w.dilations = std::move(dilations);
  w.ceilMode = ceilMode;
  return w;
}

/// Sums of K products: DESIGN.md's tolerance widened by sqrt(K).
ref::Tolerance widened(DType dt, int64_t k) {
  ref::Tolerance t = ref::toleranceFor(dt);
  double s = std::max(1.0, std::sqrt(double(k)));
  return {t.rtol * s, t.atol * s};
}

struct ConvCase {
  Shape x, w;
  Window2D win;
  int64_t groups;
  bool bias;
};

std::vector<ConvCase> convCases() {
  return {
      {{1, 1, 5, 5}, {1, 1, 3, 3}, window({3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}), 1, false},
      {{2, 3, 7, 6}, {4, 3, 3, 3}, window({3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}), 1, true},
      {{1, 4, 9, 9}, {6, 2, 3, 2}, window({3, 2}, {2, 1}, {1, 0, 2, 1}, {1, 2}), 2, true},
      {{1, 4, 8, 8}, {4, 1, 3, 3}, window({3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}), 4, false},
      {{1, 2, 1, 1}, {3, 2, 1, 1}, window({1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}), 1, true},
      {{0, 2, 4, 4}, {3, 2, 3, 3}, window({3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}), 1, false},
  };
}

TEST(NNOps, Conv2dMatchesReference) {
  uint64_t seed = 1;
  for (ConvBackend backend : {ConvBackend::Auto, ConvBackend::Im2colGemm})
  for (DType dt : {DType::F32, DType::F64, DType::F16})
    for (const ConvCase &c : convCases()) {
      Tensor x = nonContiguous(randomTensor(c.x, dt, -1, 1, seed++));
      Tensor w = randomTensor(c.w, dt, -1, 1, seed++);
      Tensor b = c.bias ? randomTensor({c.w[0]}, dt, -1, 1, seed++) : Tensor();
      ASSERT_TRUE(setConvBackend(backend).isOk());
      auto got = conv2d(x, w, b, c.win, c.groups);
      ASSERT_TRUE(setConvBackend(ConvBackend::Auto).isOk());
      ASSERT_TRUE(got.ok()) << got.status();
      auto want = ref::conv2d(x, w, b, c.win, c.groups);
      ASSERT_TRUE(want.ok()) << want.status();
      EXPECT_TRUE(closeTo(*got, *want, widened(dt, c.w[1] * c.w[2] * c.w[3])))
          << dtypeName(dt) << " " << x.toString(0) << " * " << w.toString(0);
    }
}

TEST(NNOps, ConvTranspose2dMatchesReference) {
  uint64_t seed = 100;
  struct Case {
    Shape x, w;
    Window2D win;
    std::vector<int64_t> outPad;
    int64_t groups;
  };
  std::vector<Case> cases = {
      {{1, 2, 3, 3}, {2, 3, 3, 3}, window({3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}), {0, 0}, 1},
      {{2, 4, 4, 5}, {4, 2, 3, 3}, window({3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}), {1, 0}, 2},
      {{1, 3, 5, 4}, {3, 2, 2, 3}, window({2, 3}, {2, 1}, {0, 1, 0, 1}, {2, 1}), {1, 0}, 1},
  };
  for (DType dt : {DType::F32, DType::F64})
    for (const Case &c : cases) {
      Tensor x = randomTensor(c.x, dt, -1, 1, seed++);
      Tensor w = randomTensor(c.w, dt, -1, 1, seed++);
      Tensor b = randomTensor({c.w[1] * c.groups}, dt, -1, 1, seed++);
      auto got = convTranspose2d(x, w, b, c.win, c.outPad, c.groups);
      ASSERT_TRUE(got.ok()) << got.status();
      auto want = ref::convTranspose2d(x, w, b, c.win, c.outPad, c.groups);
      ASSERT_TRUE(want.ok()) << want.status();
      EXPECT_TRUE(closeTo(*got, *want, widened(dt, c.w[0] * c.w[2] * c.w[3])))
          << x.toString(0);
    }
}

TEST(NNOps, PoolingMatchesReference) {
  uint64_t seed = 200;
  std::vector<Window2D> wins = {
      window({2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}),
      window({3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}),
      window({3, 2}, {2, 3}, {1, 0, 1, 1}, {1, 1}, /*ceilMode=*/true),
      window({2, 2}, {1, 1}, {0, 0, 0, 0}, {2, 2}),
  };
  for (DType dt : {DType::F32, DType::F64, DType::BF16, DType::I32})
    for (size_t i = 0; i < wins.size(); ++i)
      for (bool isMax : {true, false})
        for (bool includePad : {false, true}) {
          if (!isMax && (!isFloat(dt) || wins[i].dilations[0] != 1))
            continue;
          Tensor x = nonContiguous(randomTensor({2, 3, 7, 8}, dt, -5, 5, seed++));
          auto got = isMax ? maxPool2d(x, wins[i]) : avgPool2d(x, wins[i], includePad);
          ASSERT_TRUE(got.ok()) << got.status();
          auto want = ref::pool2d(x, wins[i], isMax, includePad);
          ASSERT_TRUE(want.ok()) << want.status();
          EXPECT_TRUE(closeTo(*got, *want, ref::toleranceFor(dt)))
              << dtypeName(dt) << " window " << i << (isMax ? " max" : " avg")
              << (includePad ? " include-pad" : "");
        }
  // A NaN in a window wins wherever it sits in it; -inf stays -inf.
  {
    float nan = std::nanf(""), inf = std::numeric_limits<float>::infinity();
    Tensor x = *Tensor::fromVector<float>({1, nan, -inf, -inf, 3, 2, -inf, -inf},
                                          {1, 1, 2, 4});
    Tensor y = *maxPool2d(x, window({2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}));
    EXPECT_TRUE(std::isnan(y.data<float>()[0]));
    EXPECT_EQ(y.data<float>()[1], -inf);
    Tensor z = *maxPool2d(x, window({1, 2}, {1, 2}, {0, 0, 0, 0}, {1, 1}));
    EXPECT_TRUE(std::isnan(z.data<float>()[0]));
    EXPECT_EQ(z.data<float>()[2], 3.f);
  }
  Tensor x = randomTensor({2, 3, 4, 5}, DType::F32, -1, 1, 7);
  auto g = globalAvgPool(x);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->shape(), (Shape{2, 3, 1, 1}));
  EXPECT_TRUE(closeTo(*g, *ref::reduce(ReduceOp::Mean, x, std::vector<int64_t>{2, 3}, true),
                      ref::toleranceFor(DType::F32)));
}

TEST(NNOps, SoftmaxAndLogSoftmax) {
  uint64_t seed = 300;
  for (DType dt : {DType::F32, DType::F64, DType::F16, DType::BF16})
    for (int64_t axis : {-1, 0, 1})
      for (bool logForm : {false, true}) {
        Tensor x = nonContiguous(randomTensor({5, 7, 3}, dt, -8, 8, seed++));
        auto got = logForm ? logSoftmax(x, axis) : softmax(x, axis);
        ASSERT_TRUE(got.ok()) << got.status();
        EXPECT_TRUE(closeTo(*got, *ref::softmax(x, axis, logForm),
                            ref::toleranceFor(dt)))
            << dtypeName(dt) << " axis " << axis << (logForm ? " log" : "");
      }
  // Large logits do not overflow.
  Tensor big = *Tensor::fromVector<float>({1000, 1000, -1000}, {3});
  EXPECT_EQ(softmax(big)->toDoubles(), (std::vector<double>{0.5, 0.5, 0}));
  EXPECT_EQ(softmax(big, 1).status().code(), StatusCode::InvalidArgument);
}

TEST(NNOps, LayerNormAndBatchNorm) {
  uint64_t seed = 400;
  for (DType dt : {DType::F32, DType::F64, DType::BF16})
    for (int64_t axis : {-1, 1}) {
      Tensor x = nonContiguous(randomTensor({4, 6, 5}, dt, -3, 3, seed++));
      Shape ns(x.shape().begin() + (axis < 0 ? 2 : 1), x.shape().end());
      Tensor s = randomTensor(ns, dt, 0.5, 1.5, seed++);
      Tensor b = randomTensor(ns, dt, -1, 1, seed++);
      for (bool withBias : {false, true}) {
        Tensor bias = withBias ? b : Tensor();
        auto got = layerNorm(x, s, bias, axis, 1e-5);
        ASSERT_TRUE(got.ok()) << got.status();
        EXPECT_TRUE(closeTo(*got, *ref::layerNorm(x, s, bias, axis, 1e-5),
                            widened(dt, 4)))
            << dtypeName(dt) << " axis " << axis;
      }
    }
  for (DType dt : {DType::F32, DType::F64, DType::F16}) {
    Tensor x = randomTensor({2, 3, 4, 5}, dt, -3, 3, seed++);
    Tensor s = randomTensor({3}, dt, 0.5, 1.5, seed++);
    Tensor b = randomTensor({3}, dt, -1, 1, seed++);
    Tensor m = randomTensor({3}, dt, -1, 1, seed++);
    Tensor v = randomTensor({3}, dt, 0.5, 2, seed++);
    auto got = batchNorm(x, s, b, m, v, 1e-3);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(closeTo(*got, *ref::batchNorm(x, s, b, m, v, 1e-3),
                        widened(dt, 4)))
        << dtypeName(dt);
  }
  Tensor x = *Tensor::zeros({2, 3}, DType::F32);
  Tensor wrong = *Tensor::zeros({2}, DType::F32);
  EXPECT_EQ(layerNorm(x, wrong, Tensor()).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(batchNorm(x, wrong, wrong, wrong, wrong).status().code(),
            StatusCode::InvalidArgument);
}

Tensor ix4() { return *Tensor::fromVector<int32_t>({0, 8, -1, 3}, {4}); }

TEST(NNOps, GatherAndOneHot) {
  Tensor data = randomTensor({5, 4, 3}, DType::F32, -1, 1, 1);
  Tensor idx = *Tensor::fromVector<int64_t>({0, 4, -1, 2, 2, 0}, {2, 3});
  for (int64_t axis : {0, 1, -1}) {
    Tensor ix = axis == 0 ? idx : *Tensor::fromVector<int32_t>({0, 2, -1, 1}, {4});
    auto got = gather(nonContiguous(data), ix, axis);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(closeTo(*got, *ref::gather(data, ix, axis), {0, 0})) << axis;
  }
  // Large enough to split over threads (an embedding table lookup), and a
  // one-byte dtype.
  Tensor table = randomTensor({1000, 64}, DType::F32, -1, 1, 2);
  std::vector<int64_t> many(5000);
  for (size_t i = 0; i < many.size(); ++i)
    many[i] = int64_t((i * 7919) % 1000) - (i % 3 == 0 ? 1000 : 0);
  Tensor manyIdx = *Tensor::fromVector<int64_t>(many, {50, 100});
  auto rows = gather(table, manyIdx, 0);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_TRUE(closeTo(*rows, *ref::gather(table, manyIdx, 0), {0, 0}));
  Tensor bytes = *randomTensor({6, 9}, DType::F32, -100, 100, 3).to(DType::I8);
  auto picked = gather(bytes, ix4(), 1);
  ASSERT_TRUE(picked.ok()) << picked.status();
  EXPECT_EQ(picked->toDoubles(), ref::gather(bytes, ix4(), 1)->toDoubles());
  Tensor bad = *Tensor::fromVector<int64_t>({5}, {1});
  auto oob = gather(data, bad, 0);
  EXPECT_EQ(oob.status().code(), StatusCode::OutOfRange);
  EXPECT_NE(oob.status().message().find("index 5"), std::string::npos);
  Tensor fidx = *Tensor::zeros({1}, DType::F32);
  EXPECT_EQ(gather(data, fidx, 0).status().code(), StatusCode::InvalidArgument);

  Tensor labels = *Tensor::fromVector<int64_t>({1, 0, 3, 7, -1}, {5});
  auto oh = oneHot(labels, 4, -1, 1.0, 0.0, DType::F32);
  ASSERT_TRUE(oh.ok()) << oh.status();
  EXPECT_EQ(oh->shape(), (Shape{5, 4}));
  EXPECT_EQ(oh->toDoubles(), (std::vector<double>{0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1,
                                                  0, 0, 0, 0, 0, 0, 0, 0}));
  auto oh0 = oneHot(labels, 4, 0, 5.0, -1.0, DType::I32);
  EXPECT_EQ(oh0->shape(), (Shape{4, 5}));
  EXPECT_EQ(*oh0->at({3, 2}), 5);
  EXPECT_EQ(*oh0->at({0, 2}), -1);
}

TEST(NNOps, ShapeOps) {
  Tensor x = randomTensor({2, 3, 4}, DType::I32, -9, 9, 3);
  Tensor y = randomTensor({2, 1, 4}, DType::I32, -9, 9, 4);
  auto c = concat({nonContiguous(x), y, x}, 1);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(closeTo(*c, *ref::concat({x, y, x}, 1), {0, 0}));
  EXPECT_EQ(concat({x, *Tensor::zeros({2, 3, 5}, DType::I32)}, 1).status().code(),
            StatusCode::InvalidArgument);
  EXPECT_EQ(concat({x, *x.to(DType::F32)}, 0).status().code(),
            StatusCode::InvalidArgument);

  std::vector<int64_t> pads = {1, 0, 2, 0, 3, 1};
  auto p = pad(nonContiguous(x), pads, 7);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(closeTo(*p, *ref::pad(x, pads, 7), {0, 0}));
  EXPECT_EQ(pad(x, std::vector<int64_t>{1, 2}).status().code(),
            StatusCode::InvalidArgument);

  auto parts = split(x, 2, std::vector<int64_t>{1, 3});
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ((*parts)[1].shape(), (Shape{2, 3, 3}));
  EXPECT_EQ(*(*parts)[1].at({1, 2, 0}), *x.at({1, 2, 1}));
  EXPECT_EQ(split(x, 2, std::vector<int64_t>{1, 2}).status().code(),
            StatusCode::InvalidArgument);

  auto t = transpose(x, std::vector<int64_t>{2, 0, 1});
  EXPECT_TRUE(t->isContiguous());
  EXPECT_EQ(*t->at({3, 1, 2}), *x.at({1, 2, 3}));
  auto s = slice(x, std::vector<int64_t>{0, -1, 3}, std::vector<int64_t>{2, -4, -100},
                 std::vector<int64_t>{1, -1, -2});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(*s->at({1, 0, 1}), *x.at({1, 2, 1}));
  auto e = expandDims(x, std::vector<int64_t>{0});
  EXPECT_EQ(e->shape(), (Shape{1, 2, 3, 4}));
  EXPECT_EQ(squeeze(*e)->shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(broadcastTo(y, {5, 2, 3, 4})->shape(), (Shape{5, 2, 3, 4}));
  EXPECT_EQ(reshape(x, {4, -1})->shape(), (Shape{4, 6}));
  auto io = iota({2, 3}, DType::F32, 1, 1.0, 0.5);
  EXPECT_EQ(io->toDoubles(), (std::vector<double>{1, 1.5, 2, 1, 1.5, 2}));
  EXPECT_EQ(iota({2}, DType::F32, 3).status().code(), StatusCode::InvalidArgument);
}

TEST(NNOps, Losses) {
  Tensor logits = randomTensor({6, 5}, DType::F32, -4, 4, 11);
  Tensor labels = *Tensor::fromVector<int64_t>({0, 4, 2, 2, 1, 3}, {6});
  auto none = crossEntropy(logits, labels, "none");
  ASSERT_TRUE(none.ok()) << none.status();
  Tensor want = *ref::crossEntropy(logits, labels);
  EXPECT_TRUE(closeTo(*none, want, ref::toleranceFor(DType::F32)));
  auto meanLoss = crossEntropy(logits, labels);
  EXPECT_TRUE(closeTo(*meanLoss, *ref::reduce(ReduceOp::Mean, want, {}, false),
                      ref::toleranceFor(DType::F32)));
  Tensor badLabels = *Tensor::fromVector<int64_t>({0, 5, 0, 0, 0, 0}, {6});
  EXPECT_EQ(crossEntropy(logits, badLabels).status().code(), StatusCode::OutOfRange);
  EXPECT_EQ(crossEntropy(logits, labels, "avg").status().code(),
            StatusCode::InvalidArgument);

  Tensor target = randomTensor({6, 5}, DType::F32, 0, 1, 12);
  auto bce = bceWithLogits(logits, target, "none");
  EXPECT_TRUE(closeTo(*bce, *ref::bceWithLogits(logits, target),
                      ref::toleranceFor(DType::F32)));
  auto m = mse(logits, target, "sum");
  auto diff = *ref::binary(BinaryOp::Sub, logits, target);
  auto sq = *ref::binary(BinaryOp::Mul, diff, diff);
  EXPECT_TRUE(closeTo(*m, *ref::reduce(ReduceOp::Sum, sq, {}, false),
                      widened(DType::F32, 30)));
  EXPECT_EQ(mse(logits, labels).status().code(), StatusCode::InvalidArgument);
}

TEST(NNOps, DropoutIsSeededAndScaled) {
  Tensor x = *Tensor::full({10000}, 2.0, DType::F32);
  auto a = dropout(x, 0.25, true, 5);
  auto b = dropout(x, 0.25, true, 5);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->toDoubles(), b->toDoubles());
  int64_t kept = 0;
  for (double v : a->toDoubles()) {
    EXPECT_TRUE(v == 0 || std::fabs(v - 2.0 / 0.75) < 1e-6) << v;
    kept += v != 0;
  }
  EXPECT_NEAR(double(kept) / 10000, 0.75, 0.02);
  EXPECT_EQ(dropout(x, 0.5, false, 1)->toDoubles(), x.toDoubles());
  EXPECT_EQ(dropout(x, 1.0, true, 1).status().code(), StatusCode::InvalidArgument);
  // A dropped NaN or infinity is +0 (the mask zeroes bits, it does not
  // multiply); a kept one passes, scaled. f32 and f64.
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor odd = *Tensor::full({256}, std::nan(""), dt);
    for (int64_t i = 0; i < 256; i += 2)
      ASSERT_TRUE(odd.set(std::array<int64_t, 1>{i}, -INFINITY).isOk());
    Tensor y = *dropout(odd, 0.5, true, 9);
    int64_t zeros = 0;
    for (int64_t i = 0; i < 256; ++i) {
      double v = *y.at({i});
      if (v == 0) {
        EXPECT_FALSE(std::signbit(v)) << "element " << i;
        ++zeros;
      } else {
        EXPECT_TRUE(i % 2 ? std::isnan(v) : v == -INFINITY) << "element " << i;
      }
    }
    EXPECT_GT(zeros, 64);
    EXPECT_LT(zeros, 192);
  }
}

TEST(NNOps, DropoutMaskIsPhiloxOfTheElementIndex) {
  // The mask's definition (shared with the compiled dropout): element i is
  // kept when word i % 4 of philox4x32(i / 4, seed) is >= ratio * 2^32.
  // Sizes that end inside a 64-element group, and one split over threads.
  for (int64_t n : {1, 5, 63, 64, 65, 1237, 300001}) {
    SCOPED_TRACE(n);
    Tensor x = *Tensor::full({n}, 1.0, DType::F32);
    const double ratio = 0.3;
    auto y = dropout(x, ratio, true, 77);
    ASSERT_TRUE(y.ok());
    const float *v = y->data<float>();
    const uint64_t threshold = uint64_t(std::ceil(ratio * 4294967296.0));
    for (int64_t i = 0; i < n; ++i) {
      std::array<uint32_t, 4> r = philox4x32(uint64_t(i / 4), 77);
      bool kept = uint64_t(r[size_t(i % 4)]) >= threshold;
      ASSERT_EQ(v[i], kept ? float(1.0 / (1.0 - ratio)) : 0.0f) << "element " << i;
    }
  }
}

TEST(NNOps, ConvBadInputs) {
  Tensor x = *Tensor::zeros({1, 3, 5, 5}, DType::F32);
  Tensor w = *Tensor::zeros({4, 2, 3, 3}, DType::F32);
  Window2D win = makeWindow(3, 3);
  EXPECT_EQ(conv2d(x, w, Tensor(), win).status().code(), StatusCode::InvalidArgument);
  Tensor w3 = *Tensor::zeros({4, 3, 3, 3}, DType::F32);
  EXPECT_TRUE(conv2d(x, w3, Tensor(), win).ok());
  Tensor badBias = *Tensor::zeros({3}, DType::F32);
  EXPECT_EQ(conv2d(x, w3, badBias, win).status().code(), StatusCode::InvalidArgument);
  Window2D zeroStride = win;
  zeroStride.strides = {0, 1};
  EXPECT_EQ(conv2d(x, w3, Tensor(), zeroStride).status().code(),
            StatusCode::InvalidArgument);
  EXPECT_EQ(maxPool2d(*Tensor::zeros({3, 5}, DType::F32), win).status().code(),
            StatusCode::InvalidArgument);
  EXPECT_EQ(conv2d(*x.to(DType::I32), *w3.to(DType::I32), Tensor(), win).status().code(),
            StatusCode::InvalidArgument);
}

} // namespace
