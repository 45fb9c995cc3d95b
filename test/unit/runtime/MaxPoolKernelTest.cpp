//===- MaxPoolKernelTest.cpp - The vectorized f32 max pooling --------------===//
//
// runtime/src/cpu/MaxPool.h against the f64 reference pooling (values) and
// against a scalar walk of each window in row-major order with the eager
// kernel's rule (bits: which of equal zeros wins, NaN sticks), over row
// lengths that take one, several and partial vectors, both horizontal
// strides, overlapping and ceil-mode windows; then through eager
// maxPool2d and the prepared call a compiled module uses.
//
//===----------------------------------------------------------------------===//
#include "MaxPool.h"
#include "PreparedCall.h"
#include "TestUtil.h"

#include "kiln/NNOps.h"
#include "kiln/Ops.h"

#include <cstring>
#include <limits>

namespace kiln {
namespace {

using test::closeTo;
using test::randomTensor;

Window2D poolWindow(int64_t kH, int64_t kW, int64_t sH, int64_t sW,
                    bool ceilMode = false) {
  Window2D w = makeWindow(kH, kW);
  w.strides = {sH, sW};
  w.ceilMode = ceilMode;
  return w;
}

/// The eager rule, one window at a time in row-major order; `winners`
/// (when given) receives each output's winning offset in its plane.
std::vector<float> scalarMaxPool(const float *x, const cpu::PoolPlanes &g,
                                 const Window2D &win,
                                 std::vector<int64_t> *winners = nullptr) {
  std::vector<float> y(size_t(g.planes * g.oh * g.ow));
  if (winners)
    winners->assign(y.size(), -1);
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        float acc = 0.f;
        int64_t at = -1;
        for (int64_t ky = 0; ky < win.kernel[0]; ++ky)
          for (int64_t kx = 0; kx < win.kernel[1]; ++kx) {
            int64_t offset = (oy * win.strides[0] + ky) * g.w + ox * win.strides[1] + kx;
            float v = x[p * g.h * g.w + offset];
            if (at < 0 || ((v > acc || v != v) && acc == acc))
              acc = v, at = offset;
          }
        y[size_t((p * g.oh + oy) * g.ow + ox)] = acc;
        if (winners)
          (*winners)[size_t((p * g.oh + oy) * g.ow + ox)] = at;
      }
  return y;
}

bool sameBits(float a, float b) {
  uint32_t ua, ub;
  std::memcpy(&ua, &a, 4);
  std::memcpy(&ub, &b, 4);
  // Any NaN matches any NaN: only which element wins matters.
  return ua == ub || (a != a && b != b);
}

cpu::PoolPlanes planesFor(const Shape &xs, const Window2D &win) {
  Shape ys = *shapes::pool2d(xs, win);
  return {xs[0] * xs[1], xs[2], xs[3], ys[2], ys[3]};
}

bool haveFastKernel() {
  return cpu::canMaxPoolFast({1, 4, 4, 2, 2}, poolWindow(2, 2, 2, 2));
}

/// x with NaNs, signed zeros and -inf sprinkled in, so that ties and the
/// NaN rule are exercised inside vectors and in their tails.
Tensor specialValues(const Shape &shape, uint64_t seed) {
  Tensor x = randomTensor(shape, DType::F32, -2, 2, seed);
  float *p = x.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    uint64_t h = (uint64_t(i) * 2654435761u + seed) % 97;
    if (h == 0)
      p[i] = std::nanf("");
    else if (h < 20)
      p[i] = (h & 1) ? 0.f : -0.f;
    else if (h < 25)
      p[i] = -std::numeric_limits<float>::infinity();
  }
  return x;
}

TEST(MaxPoolKernel, MatchesTheRowMajorRuleBitForBit) {
  if (!haveFastKernel())
    GTEST_SKIP() << "no AVX-512 on this CPU: the eager loops run instead";
  struct Case {
    Shape x;
    Window2D win;
  };
  std::vector<Case> cases = {
      {{2, 3, 28, 28}, poolWindow(2, 2, 2, 2)},  // LeNet: 14 outputs a row
      {{2, 4, 10, 10}, poolWindow(2, 2, 2, 2)},  // 5 outputs a row
      {{1, 2, 9, 67}, poolWindow(2, 2, 2, 2)},   // 33: two vectors and a tail
      {{1, 2, 7, 64}, poolWindow(2, 2, 2, 2)},   // 32: two full vectors
      {{1, 3, 11, 13}, poolWindow(3, 3, 2, 2)},  // overlapping, odd sizes
      {{1, 2, 6, 40}, poolWindow(3, 3, 1, 1)},   // stride 1: 38 outputs
      {{1, 2, 5, 17}, poolWindow(2, 3, 3, 1)},   // taller stride than window
      {{1, 1, 8, 9}, poolWindow(1, 1, 1, 2)},    // 1x1, every other column
      {{1, 2, 9, 9}, poolWindow(3, 3, 2, 2, true)}, // ceil mode that fits
      {{3, 1, 2, 2}, poolWindow(2, 2, 2, 2)},    // one output per plane
  };
  uint64_t seed = 11;
  for (const Case &c : cases) {
    cpu::PoolPlanes g = planesFor(c.x, c.win);
    SCOPED_TRACE(::testing::Message()
                 << c.x[2] << "x" << c.x[3] << " window " << c.win.kernel[0]
                 << "x" << c.win.kernel[1] << " stride " << c.win.strides[0]
                 << "x" << c.win.strides[1]);
    ASSERT_TRUE(cpu::canMaxPoolFast(g, c.win));
    Tensor x = specialValues(c.x, seed++);
    std::vector<float> want = scalarMaxPool(x.data<float>(), g, c.win);
    // NaN-filled output: every element must be written.
    std::vector<float> got(want.size(), std::nanf("1"));
    cpu::maxPoolF32(x.data<float>(), got.data(), g, c.win);
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_TRUE(sameBits(got[i], want[i]))
          << "output " << i << ": got " << got[i] << ", want " << want[i];
    // With winners (training): the same values, and the first maximum's
    // offset, ties and NaNs included.
    std::vector<int64_t> wantWinners;
    scalarMaxPool(x.data<float>(), g, c.win, &wantWinners);
    std::vector<float> got2(want.size(), std::nanf("1"));
    std::vector<int64_t> gotWinners(want.size(), -7);
    cpu::maxPoolWinnersF32(x.data<float>(), got2.data(), gotWinners.data(), g, c.win);
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_TRUE(sameBits(got2[i], want[i])) << "output " << i << " (with winners)";
      ASSERT_EQ(gotWinners[i], wantWinners[i]) << "winner of output " << i;
    }
    // Plain random values against the independent f64 reference.
    Tensor r = randomTensor(c.x, DType::F32, -5, 5, seed++);
    Tensor y = *Tensor::empty(*shapes::pool2d(c.x, c.win), DType::F32);
    cpu::maxPoolF32(r.data<float>(), y.data<float>(), g, c.win);
    Tensor ref = *ref::pool2d(*r.to(DType::F64), c.win, true, false);
    EXPECT_TRUE(closeTo(y, ref, ref::toleranceFor(DType::F32)));
  }
}

TEST(MaxPoolKernel, TrainingGradientsLandWhereThePortableLoopsPutThem) {
  // Eager max pooling that records winners (a tensor that needs its
  // gradient): f32 takes the AVX-512 kernel where there is one, f64 the
  // portable loops; the gradients (upstream values moved to the winners)
  // must be equal, NaN windows and ties included.
  Shape xs = {2, 3, 28, 28};
  Window2D win = poolWindow(2, 2, 2, 2);
  Tensor x = specialValues(xs, 9);
  Tensor x64 = *x.to(DType::F64);
  ASSERT_TRUE(x.setRequiresGrad().isOk());
  ASSERT_TRUE(x64.setRequiresGrad().isOk());
  Tensor y = *maxPool2d(x, win), y64 = *maxPool2d(x64, win);
  Tensor up = randomTensor(y.shape(), DType::F32, 1, 2, 3);
  ASSERT_TRUE(sum(*mul(y, up))->backward().isOk());
  ASSERT_TRUE(sum(*mul(y64, *up.to(DType::F64)))->backward().isOk());
  Tensor g = x.grad(), g64 = *x64.grad().to(DType::F32);
  ASSERT_EQ(g.numel(), g64.numel());
  for (int64_t i = 0; i < g.numel(); ++i)
    ASSERT_EQ(g.data<float>()[i], g64.data<float>()[i]) << "gradient element " << i;
}

TEST(MaxPoolKernel, DeclinesWhatItDoesNotCover) {
  cpu::PoolPlanes g{1, 8, 8, 4, 4};
  Window2D padded = poolWindow(2, 2, 2, 2);
  padded.pads = {1, 1, 0, 0};
  EXPECT_FALSE(cpu::canMaxPoolFast({1, 8, 8, 5, 5}, padded));
  Window2D dilated = poolWindow(2, 2, 2, 2);
  dilated.dilations = {2, 2};
  EXPECT_FALSE(cpu::canMaxPoolFast({1, 8, 8, 3, 3}, dilated));
  EXPECT_FALSE(cpu::canMaxPoolFast({1, 8, 9, 4, 3}, poolWindow(2, 2, 2, 3)));
  // Ceil mode whose last window hangs over the edge (7 = 3 * 2 + 1).
  EXPECT_FALSE(cpu::canMaxPoolFast({1, 7, 7, 4, 4}, poolWindow(2, 2, 2, 2, true)));
  if (haveFastKernel()) {
    EXPECT_TRUE(cpu::canMaxPoolFast(g, poolWindow(2, 2, 2, 2)));
  }
}

TEST(MaxPoolKernel, EagerAndPreparedUseItWithTheSameResults) {
  Shape xs = {4, 6, 28, 28};
  Window2D win = poolWindow(2, 2, 2, 2);
  Tensor x = specialValues(xs, 5);
  // Eager f32 (the fast kernel where there is one) against eager f64 (the
  // portable loops, same rule): equal bits.
  Tensor eager = *maxPool2d(x, win);
  Tensor wide = *maxPool2d(*x.to(DType::F64), win);
  Tensor narrowed = *wide.to(DType::F32);
  for (int64_t i = 0; i < eager.numel(); ++i)
    ASSERT_TRUE(sameBits(eager.data<float>()[i], narrowed.data<float>()[i]))
        << "output " << i;
  auto call = cpu::prepareMaxPool2d(xs, win, eager.shape());
  ASSERT_TRUE(call) << call.status().message();
  if (!haveFastKernel()) {
    EXPECT_FALSE(*call);
    return;
  }
  ASSERT_TRUE(*call);
  Tensor y = *Tensor::full(eager.shape(), std::nan(""), DType::F32);
  ASSERT_TRUE((*call)->run(x.data<float>(), y.data<float>()).isOk());
  for (int64_t i = 0; i < y.numel(); ++i)
    ASSERT_TRUE(sameBits(y.data<float>()[i], eager.data<float>()[i]));
  // An output shape the window does not give is not prepared (the op
  // table runs it and reports the error).
  auto declined = cpu::prepareMaxPool2d(xs, win, {4, 6, 13, 14});
  ASSERT_TRUE(declined);
  EXPECT_FALSE(*declined);
}

TEST(MaxPoolKernel, PaddedWindowsPreparedWithTheEagerBits) {
  if (!haveFastKernel())
    GTEST_SKIP() << "no AVX-512 on this CPU: the eager loops run instead";
  // ResNet's 3x3 stride 2 pad 1 (odd and even sizes), uneven padding,
  // stride 1, ceil mode hanging over the bottom/right border; special
  // values (NaN, infinities, signed zeros) so that the -inf border must
  // never win over what the eager rule keeps.
  struct Case {
    Shape xs;
    Window2D win;
  };
  Window2D resnet = poolWindow(3, 3, 2, 2);
  resnet.pads = {1, 1, 1, 1};
  Window2D uneven = poolWindow(3, 2, 1, 1);
  uneven.pads = {2, 0, 1, 1};
  Window2D ceil = poolWindow(3, 3, 2, 2, /*ceilMode=*/true);
  ceil.pads = {1, 1, 1, 1};
  for (const Case &c : {Case{{1, 64, 112, 112}, resnet}, Case{{2, 3, 17, 23}, resnet},
                        Case{{3, 5, 9, 40}, uneven}, Case{{2, 4, 10, 14}, ceil}}) {
    SCOPED_TRACE(::testing::Message() << "x " << c.xs[2] << "x" << c.xs[3]);
    Tensor x = specialValues(c.xs, 7);
    Tensor eager = *maxPool2d(*x.to(DType::F64), c.win);
    Tensor want = *eager.to(DType::F32);
    auto call = cpu::prepareMaxPool2d(c.xs, c.win, want.shape());
    ASSERT_TRUE(call) << call.status().message();
    ASSERT_TRUE(*call);
    Tensor y = *Tensor::full(want.shape(), std::nan(""), DType::F32);
    ASSERT_TRUE((*call)->run(x.data<float>(), y.data<float>()).isOk());
    for (int64_t i = 0; i < y.numel(); ++i)
      ASSERT_TRUE(sameBits(y.data<float>()[i], want.data<float>()[i]))
          << "output " << i << ": " << y.data<float>()[i] << " vs "
          << want.data<float>()[i];
  }
}

TEST(MaxPoolKernel, NhwcPreparedWithTheEagerBits) {
  if (!haveFastKernel())
    GTEST_SKIP() << "no AVX-512 on this CPU: the eager loops run instead";
  // NHWC (kiln-conv-layout's): the NCHW eager result permuted, bit for bit,
  // with channel counts below, at and past a vector (3, 16, 37, 64),
  // padding, ceil mode, dilation and special values.
  struct Case {
    Shape xs; // NCHW
    Window2D win;
  };
  Window2D resnet = poolWindow(3, 3, 2, 2);
  resnet.pads = {1, 1, 1, 1};
  Window2D ceil = poolWindow(3, 3, 2, 2, /*ceilMode=*/true);
  ceil.pads = {1, 1, 1, 1};
  Window2D dilated = poolWindow(2, 3, 1, 2);
  dilated.dilations = {2, 1};
  for (const Case &c : {Case{{1, 64, 28, 28}, resnet}, Case{{2, 37, 9, 11}, ceil},
                        Case{{3, 3, 8, 8}, poolWindow(2, 2, 2, 2)},
                        Case{{2, 16, 10, 9}, dilated}}) {
    SCOPED_TRACE(::testing::Message() << "x " << c.xs[1] << "x" << c.xs[2]
                                      << "x" << c.xs[3]);
    Tensor x = specialValues(c.xs, 11);
    Tensor eager = *maxPool2d(*x.to(DType::F64), c.win);
    Tensor want = *eager.to(DType::F32)->permute({0, 2, 3, 1})->contiguous();
    Tensor xNhwc = *x.permute({0, 2, 3, 1})->contiguous();
    auto call = cpu::prepareMaxPool2d(xNhwc.shape(), c.win, want.shape(),
                                      shapes::Layout2D::NHWC);
    ASSERT_TRUE(call) << call.status().message();
    ASSERT_TRUE(*call);
    EXPECT_EQ((*call)->implementation(), "kiln:max_pool:avx512 (NHWC)");
    Tensor y = *Tensor::full(want.shape(), std::nan(""), DType::F32);
    ASSERT_TRUE((*call)->run(xNhwc.data<float>(), y.data<float>()).isOk());
    for (int64_t i = 0; i < y.numel(); ++i)
      ASSERT_TRUE(sameBits(y.data<float>()[i], want.data<float>()[i]))
          << "output " << i << ": " << y.data<float>()[i] << " vs "
          << want.data<float>()[i];
  }
  // An NCHW result shape for an NHWC input is not prepared.
  auto declined = cpu::prepareMaxPool2d({1, 8, 8, 16}, poolWindow(2, 2, 2, 2),
                                        {1, 16, 4, 4}, shapes::Layout2D::NHWC);
  ASSERT_TRUE(declined);
  EXPECT_FALSE(*declined);
}

} // namespace
} // namespace kiln
