//===- PreparedCallTest.cpp - GEMMs and convolutions prepared at load -----===//
//
// Each prepared call against the f64 reference kernels (matmul, add, the
// activation, conv2d in kiln/Reference.h) on random inputs, over the shapes
// that pick each path: the few-row GEMV, oneDNN split by columns, by rows
// or not at all; convolutions split by batch or by output channel, grouped
// and depthwise, strided, padded and dilated, with each epilogue
// activation. Tolerances: DESIGN.md's f32 widened by sqrt of the reduction
// length, as for eager matmul.
//
//===----------------------------------------------------------------------===//
#include "kiln/Kiln.h"
#include "kiln/Random.h"
#include "kiln/Reference.h"

#include "../cpu/DepthwiseConv.h" // internal: Kiln's depthwise convolution
#include "../cpu/DirectConv.h"   // internal: Kiln's direct convolution
#include "../cpu/PackedGemm.h"   // internal: Kiln's packed-weights GEMM
#include "../cpu/PointwiseConv.h" // internal: Kiln's 1x1 convolution
#include "../cpu/PreparedCall.h" // internal: the prepared calls themselves

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

namespace kiln {
namespace {

Tensor randomF32(const Shape &shape, uint64_t seed) {
  Generator gen(seed);
  return *gen.uniform(shape, -1.0, 1.0, DType::F32);
}

ref::Tolerance widened(int64_t k) {
  ref::Tolerance t = ref::toleranceFor(DType::F32);
  double w = std::max(1.0, std::sqrt(double(k)));
  return {t.rtol * w, t.atol * w};
}

::testing::AssertionResult closeTo(const Tensor &got, const Tensor &want,
                                   ref::Tolerance tol) {
  ref::Comparison c = ref::compare(got, want, tol);
  if (c.ok)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << c.message;
}

/// The activation by its kiln.gemm name, through the reference kernels.
Tensor activate(const Tensor &x, const std::string &act) {
  if (act == "none")
    return x;
  if (act == "relu6") {
    UnaryParams p = defaultParams(UnaryOp::Clip);
    p.lo = 0.0, p.hi = 6.0;
    return *ref::unary(UnaryOp::Clip, x, p);
  }
  UnaryOp op = act == "relu"        ? UnaryOp::Relu
               : act == "gelu"      ? UnaryOp::Gelu
               : act == "gelu_tanh" ? UnaryOp::GeluTanh
               : act == "silu"      ? UnaryOp::Silu
               : act == "sigmoid"   ? UnaryOp::Sigmoid
                                    : UnaryOp::Tanh;
  return *ref::unary(op, x, defaultParams(op));
}

struct GemmCase {
  int64_t m, k, n;
  bool transW, bias;
  std::string act;
};

using GemmPreparer = Expected<std::unique_ptr<cpu::PreparedCall>> (*)(
    int64_t, int64_t, int64_t, const Tensor &, bool, const Tensor &,
    std::string_view);

void checkGemm(const GemmCase &c, GemmPreparer prepare = cpu::prepareGemm) {
  SCOPED_TRACE(::testing::Message()
               << c.m << "x" << c.k << "x" << c.n << (c.transW ? " W^T" : "")
               << (c.bias ? " +bias " : " ") << c.act);
  Tensor x = randomF32({c.m, c.k}, 1);
  Tensor w = randomF32(c.transW ? Shape{c.n, c.k} : Shape{c.k, c.n}, 2);
  Tensor b = c.bias ? randomF32({c.n}, 3) : Tensor();
  auto call = prepare(c.m, c.k, c.n, w, c.transW, b, c.act);
  ASSERT_TRUE(call) << call.status().message();
  ASSERT_TRUE(*call) << "not prepared";
  Tensor y = *Tensor::full({c.m, c.n}, std::nan(""), DType::F32);
  ASSERT_TRUE((*call)->run(x.data<float>(), y.data<float>()).isOk());

  Tensor x64 = *x.to(DType::F64), w64 = *w.to(DType::F64);
  Tensor want = *ref::matmul(x64, w64, false, c.transW);
  if (c.bias)
    want = *ref::binary(BinaryOp::Add, want, *b.to(DType::F64));
  want = activate(want, c.act);
  EXPECT_TRUE(closeTo(*y.to(DType::F64), want, widened(c.k)))
      << "implementation " << (*call)->implementation();
}

TEST(PreparedGemm, MatchesTheReferenceOnEveryPath) {
  // Rows 1-4: the GEMV; up to 256: Kiln's packed kernel (where AVX-512);
  // more: oneDNN, split by rows (257 and 300 rows below).
  for (int64_t m : {1, 3, 4, 5, 40, 64})
    for (auto [k, n] : {std::pair<int64_t, int64_t>{7, 10}, {300, 200},
                        {300, 65}, {1, 65}})
      for (bool transW : {false, true})
        checkGemm({m, k, n, transW, m % 2 == 1, m >= 40 ? "relu" : "none"});
  for (bool transW : {false, true})
    checkGemm({131, 100, 65, transW, transW, "relu"});
  for (int64_t m : {1, 16})
    checkGemm({m, 784, 513, true, true, "relu"});
  for (bool transW : {false, true})
    checkGemm({257, 100, 65, transW, !transW, "relu6"});
  checkGemm({300, 150, 200, true, true, "gelu"});
}

TEST(PreparedGemm, EveryActivationOnBothPaths) {
  for (const char *act :
       {"none", "relu", "relu6", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh"})
    for (int64_t m : {2, 33})
      checkGemm({m, 300, 200, true, true, act});
}

TEST(PreparedGemm, PackedKernelMatchesTheReference) {
  if (!__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "the packed GEMM needs AVX-512F";
  // Rows around the 6-row block, k around the 128-long slices (one, two,
  // a partial one), n around the 64-column panels (masked last panel).
  int i = 0;
  for (int64_t m : {1, 5, 6, 7, 13, 32})
    for (int64_t k : {1, 127, 128, 129, 300})
      for (int64_t n : {1, 10, 64, 65, 200}) {
        const char *acts[] = {"none", "relu", "relu6"};
        checkGemm({m, k, n, i % 2 == 0, i % 3 != 0, acts[i % 3]},
                  cpu::preparePackedGemm);
        ++i;
      }
  // Enough work to run over the pool, with one panel and with many.
  checkGemm({300, 200, 10, true, true, "relu"}, cpu::preparePackedGemm);
  checkGemm({64, 784, 513, false, true, "none"}, cpu::preparePackedGemm);
}

TEST(PreparedGemm, PackedKernelEveryActivation) {
  if (!__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "the packed GEMM needs AVX-512F";
  for (const char *act : {"gelu", "gelu_tanh", "silu", "sigmoid", "tanh"})
    for (int64_t m : {7, 300})
      checkGemm({m, 130, 70, true, true, act}, cpu::preparePackedGemm);
  Tensor w = randomF32({8, 8}, 4);
  auto call = cpu::preparePackedGemm(8, 8, 8, w, false, Tensor(), "swishy");
  ASSERT_TRUE(call);
  EXPECT_FALSE(*call);
}

// The packed kernel's every element is one fused multiply-add chain over k
// in order, from the bias (or zero): the same bits whatever the block of
// rows (1 to 6 rows, masked or full panels), the split over the pool (by
// rows for weights that fit a core's cache, by panels for larger ones) or
// the thread count. A compiled module's results may not depend on them
// (e2e/steady-state.test compares runs of separate processes bit for bit).
TEST(PreparedGemm, PackedKernelIsAFixedChainOfFmas) {
  if (!__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "the packed GEMM needs AVX-512F";
  struct Case {
    int64_t m, k, n;
  };
  std::vector<Case> cases;
  for (int64_t m = 1; m <= 13; ++m) // every block height and remainder
    cases.push_back({m, 129, 70});
  // An LSTM step (split by rows over the pool), odd rows around it, and
  // weights too big for a core's cache (split by panels).
  for (int64_t m : {31, 32, 37})
    cases.push_back({m, 128, 512});
  cases.push_back({64, 784, 513});
  cases.push_back({250, 32, 512});
  for (const Case &c : cases)
    for (bool bias : {false, true}) {
      SCOPED_TRACE(::testing::Message()
                   << c.m << "x" << c.k << "x" << c.n << (bias ? " +bias" : ""));
      Tensor x = randomF32({c.m, c.k}, 11), w = randomF32({c.k, c.n}, 12);
      Tensor b = bias ? randomF32({c.n}, 13) : Tensor();
      auto call = cpu::preparePackedGemm(c.m, c.k, c.n, w, false, b, "none");
      ASSERT_TRUE(call && *call);
      std::vector<float> y(size_t(c.m * c.n), std::nanf(""));
      ASSERT_TRUE((*call)->run(x.data<float>(), y.data()).isOk());
      const float *xd = x.data<float>(), *wd = w.data<float>();
      int64_t mismatches = 0;
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t j = 0; j < c.n; ++j) {
          float acc = bias ? b.data<float>()[j] : 0.f;
          for (int64_t q = 0; q < c.k; ++q)
            acc = std::fma(xd[i * c.k + q], wd[q * c.n + j], acc);
          float got = y[size_t(i * c.n + j)];
          if (std::memcmp(&acc, &got, sizeof acc) != 0 && mismatches++ < 3)
            ADD_FAILURE() << "y[" << i << ", " << j << "] = " << got
                          << ", the chain gives " << acc;
        }
      EXPECT_EQ(mismatches, 0);
    }
}

TEST(PreparedGemm, ActivationMatmulMatchesTheReference) {
  if (!__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "the panel GEMM needs AVX-512F";
  struct Case {
    Shape a, b;
    bool transB;
  };
  // Attention's per-head products (B transposed: Q K^T; plain: P V), a
  // shared right matrix, and sizes past a 6-row block, a 64-column panel
  // and a 128-long k slice; the last is big enough to run over the pool.
  const Case cases[] = {{{2, 4, 16, 16}, {2, 4, 16, 16}, true},
                        {{2, 4, 16, 16}, {2, 4, 16, 16}, false},
                        {{3, 13, 150}, {150, 70}, false},
                        {{3, 13, 150}, {70, 150}, true},
                        {{2, 4, 128, 64}, {2, 4, 128, 64}, true}};
  for (const Case &c : cases) {
    Tensor a = randomF32(c.a, 8), b = randomF32(c.b, 9);
    Tensor want = *ref::matmul(*a.to(DType::F64), *b.to(DType::F64), false, c.transB);
    SCOPED_TRACE(::testing::Message() << a.toString(0) << " x " << b.toString(0));
    auto call = cpu::prepareActivationMatmul(c.a, c.b, c.transB, want.shape());
    ASSERT_TRUE(call) << call.status().message();
    ASSERT_TRUE(*call) << "not prepared";
    Tensor y = *Tensor::full(want.shape(), std::nan(""), DType::F32);
    const float *operands[] = {a.data<float>(), b.data<float>()};
    ASSERT_TRUE((*call)->runOperands(operands, y.data<float>()).isOk());
    EXPECT_TRUE(closeTo(*y.to(DType::F64), want, widened(c.a.back())));
    // Run with one operand, it says so instead of reading past the span.
    EXPECT_FALSE((*call)->run(a.data<float>(), y.data<float>()).isOk());
  }
  // Broadcasting other than a shared matrix is left to the eager kernel.
  auto call = cpu::prepareActivationMatmul({2, 4, 8, 8}, {1, 4, 8, 8}, false, {2, 4, 8, 8});
  ASSERT_TRUE(call);
  EXPECT_FALSE(*call);
}

TEST(PreparedGemm, UnknownActivationOrDtypeIsNotPrepared) {
  Tensor w = randomF32({8, 8}, 4);
  auto call = cpu::prepareGemm(2, 8, 8, w, false, Tensor(), "swishy");
  ASSERT_TRUE(call);
  EXPECT_FALSE(*call);
  call = cpu::prepareGemm(64, 8, 8, w, false, Tensor(), "swishy");
  ASSERT_TRUE(call);
  EXPECT_FALSE(*call);
  call = cpu::prepareGemm(2, 8, 8, *w.to(DType::F64), false, Tensor(), "none");
  ASSERT_TRUE(call);
  EXPECT_FALSE(*call);
}

struct ConvCase {
  Shape x; // NCHW, also for an NHWC call (whose input is its permutation)
  int64_t f, kh, kw, groups;
  Window2D win;
  bool bias;
  std::string act = "none";
  shapes::Layout2D layout = shapes::Layout2D::NCHW;
};

/// `t` permuted and made contiguous.
Tensor permuted(const Tensor &t, std::initializer_list<int64_t> p) {
  return *t.permute(p)->contiguous();
}

void checkConv(const ConvCase &c) {
  const bool nhwc = c.layout == shapes::Layout2D::NHWC;
  SCOPED_TRACE(::testing::Message()
               << "x " << c.x[0] << "x" << c.x[1] << "x" << c.x[2] << "x"
               << c.x[3] << " f " << c.f << " k " << c.kh << "x" << c.kw
               << " groups " << c.groups << " " << c.act
               << (nhwc ? " NHWC" : ""));
  Tensor x = randomF32(c.x, 5);
  Tensor w = randomF32({c.f, c.x[1] / c.groups, c.kh, c.kw}, 6);
  Tensor b = c.bias ? randomF32({c.f}, 7) : Tensor();
  Window2D win = c.win;
  win.kernel = {c.kh, c.kw};
  Tensor want = *ref::conv2d(*x.to(DType::F64), *w.to(DType::F64),
                             c.bias ? *b.to(DType::F64) : Tensor(), win,
                             c.groups);
  want = activate(want, c.act);
  if (nhwc) {
    x = permuted(x, {0, 2, 3, 1});
    want = permuted(want, {0, 2, 3, 1});
  }
  auto call = cpu::prepareConv2d(x.shape(), w, b, win, c.groups, want.shape(),
                                 c.act, c.layout);
  ASSERT_TRUE(call) << call.status().message();
  if (!*call)
    GTEST_SKIP() << "oneDNN is not linked into this runtime";
  Tensor y = *Tensor::full(want.shape(), std::nan(""), DType::F32);
  ASSERT_TRUE((*call)->run(x.data<float>(), y.data<float>()).isOk());
  EXPECT_TRUE(closeTo(*y.to(DType::F64), want,
                      widened(w.numel() / c.f)))
      << "implementation " << (*call)->implementation();
}

Window2D window(std::vector<int64_t> strides, std::vector<int64_t> pads,
                std::vector<int64_t> dilations) {
  Window2D w;
  w.strides = std::move(strides);
  w.pads = std::move(pads);
  w.dilations = std::move(dilations);
  return w;
}

TEST(PreparedConv, MatchesTheReferenceSplitByBatchAndByChannel) {
  Window2D plain = window({1, 1}, {0, 0, 0, 0}, {1, 1});
  Window2D padded = window({1, 1}, {1, 1, 1, 1}, {1, 1});
  Window2D strided = window({2, 2}, {1, 0, 2, 1}, {1, 1});
  Window2D dilated = window({1, 2}, {2, 2, 2, 2}, {2, 2});
  checkConv({{8, 3, 17, 15}, 16, 3, 3, 1, padded, true});  // by batch
  checkConv({{3, 6, 28, 28}, 16, 5, 5, 1, plain, false});  // odd batch
  checkConv({{1, 32, 20, 20}, 64, 3, 3, 1, padded, true}); // by channel
  checkConv({{1, 16, 21, 19}, 40, 3, 3, 1, strided, true});
  checkConv({{2, 8, 16, 16}, 8, 3, 3, 1, dilated, false});
  checkConv({{4, 32, 14, 14}, 32, 3, 3, 32, padded, true}); // depthwise
  checkConv({{1, 32, 14, 14}, 64, 3, 3, 4, strided, true}); // grouped, 1 image
  checkConv({{2, 1, 5, 5}, 3, 1, 1, 1, plain, true});       // too small to split
}

TEST(PreparedConv, NhwcMatchesTheReferenceSplitByBatchAndByRows) {
  // One image splits by output rows, each part with its own top and bottom
  // padding (when the activations outweigh the weights): padded, strided with uneven pads, dilated, and row counts
  // that do not divide evenly; the rest by batch. Depthwise, grouped and
  // 1x1 layers as MobileNetV2 has them, and an image stem.
  const auto nhwc = shapes::Layout2D::NHWC;
  Window2D plain = window({1, 1}, {0, 0, 0, 0}, {1, 1});
  Window2D padded = window({1, 1}, {1, 1, 1, 1}, {1, 1});
  Window2D strided = window({2, 2}, {1, 0, 2, 1}, {1, 1});
  Window2D dilated = window({1, 2}, {2, 2, 2, 2}, {2, 2});
  checkConv({{1, 32, 20, 20}, 64, 3, 3, 1, padded, true, "relu", nhwc});
  checkConv({{1, 16, 21, 19}, 40, 3, 3, 1, strided, true, "relu6", nhwc});
  checkConv({{1, 8, 17, 16}, 24, 3, 3, 1, dilated, false, "none", nhwc});
  checkConv({{1, 3, 33, 31}, 32, 3, 3, 1, window({2, 2}, {1, 1, 1, 1}, {1, 1}),
             true, "relu6", nhwc}); // stem
  checkConv({{1, 96, 15, 15}, 96, 3, 3, 96, strided, true, "relu6", nhwc});
  checkConv({{1, 144, 7, 7}, 24, 1, 1, 1, plain, true, "none", nhwc});
  checkConv({{3, 32, 14, 14}, 32, 3, 3, 32, padded, true, "relu6", nhwc});
  checkConv({{2, 32, 14, 14}, 64, 3, 3, 4, strided, true, "none", nhwc});
  checkConv({{2, 1, 5, 5}, 3, 1, 1, 1, plain, true, "none", nhwc}); // no split
  // Weights heavier than the activations: one image split by output
  // channels (16 and 48 of 64; 16 and 24 of 40, a slice not a multiple of
  // 16), each part writing its channels of every pixel.
  checkConv({{1, 64, 4, 4}, 64, 3, 3, 1, padded, true, "relu", nhwc});
  checkConv({{1, 64, 6, 6}, 40, 3, 3, 1, padded, true, "none", nhwc});
}

TEST(PreparedConv, NhwcShapesThatDisagreeAreNotPrepared) {
  // A result shape the window does not give is left to the eager kernel's
  // checks (and its message), as for NCHW.
  Tensor w = randomF32({16, 8, 3, 3}, 1);
  Window2D win = window({1, 1}, {0, 0, 0, 0}, {1, 1});
  win.kernel = {3, 3};
  auto call = cpu::prepareConv2d({1, 10, 10, 8}, w, Tensor(), win, 1,
                                 {1, 16, 8, 8}, "none", shapes::Layout2D::NHWC);
  ASSERT_TRUE(call) << call.status().message();
  EXPECT_EQ(*call, nullptr);
}

TEST(PreparedConv, EveryActivationAsAPostOp) {
  // LeNet's first layer (one input channel, padded) with each activation
  // kiln-fuse-epilogues folds; relu also on a grouped, strided layer and
  // on one image (split by output channel).
  Window2D pad2 = window({1, 1}, {2, 2, 2, 2}, {1, 1});
  for (const char *act :
       {"none", "relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh"})
    checkConv({{4, 1, 12, 12}, 6, 5, 5, 1, pad2, true, act});
  checkConv({{2, 8, 9, 9}, 8, 3, 3, 4, window({2, 2}, {1, 1, 1, 1}, {1, 1}),
             false, "relu"});
  checkConv({{1, 32, 10, 10}, 64, 3, 3, 1, window({1, 1}, {1, 1, 1, 1}, {1, 1}),
             true, "relu"});
}

/// Kiln's direct convolution itself (prepareConv2d uses it only where it
/// measures fastest), with NaN-filled outputs so that every element must
/// be written; false when it does not cover the case.
bool checkDirectConv(const ConvCase &c) {
  SCOPED_TRACE(::testing::Message()
               << "direct x " << c.x[0] << "x" << c.x[1] << "x" << c.x[2] << "x"
               << c.x[3] << " f " << c.f << " k " << c.kh << "x" << c.kw << " "
               << c.act);
  Tensor x = randomF32(c.x, 9);
  Tensor w = randomF32({c.f, c.x[1], c.kh, c.kw}, 10);
  Tensor b = c.bias ? randomF32({c.f}, 11) : Tensor();
  Window2D win = c.win;
  win.kernel = {c.kh, c.kw};
  Tensor want = activate(*ref::conv2d(*x.to(DType::F64), *w.to(DType::F64),
                                      c.bias ? *b.to(DType::F64) : Tensor(),
                                      win, 1),
                         c.act);
  auto call = cpu::prepareDirectConv2d(c.x, w, b, win, 1, want.shape(), c.act);
  EXPECT_TRUE(call) << call.status().message();
  if (!call || !*call)
    return false;
  Tensor y = *Tensor::full(want.shape(), std::nan(""), DType::F32);
  EXPECT_TRUE((*call)->run(x.data<float>(), y.data<float>()).isOk());
  EXPECT_TRUE(closeTo(*y.to(DType::F64), want, widened(w.numel() / c.f)))
      << (*call)->implementation();
  return true;
}

TEST(PreparedConv, DirectKernelMatchesTheReference) {
  if (!__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "the direct convolution needs AVX-512F";
  Window2D plain = window({1, 1}, {0, 0, 0, 0}, {1, 1});
  Window2D pad2 = window({1, 1}, {2, 2, 2, 2}, {1, 1});
  // LeNet's layers: 28 outputs a row (two vectors, the second partial),
  // 10 (one partial vector).
  EXPECT_TRUE(checkDirectConv({{3, 1, 28, 28}, 6, 5, 5, 1, pad2, true, "relu"}));
  EXPECT_TRUE(checkDirectConv({{3, 6, 14, 14}, 16, 5, 5, 1, plain, true, "relu"}));
  // Filter blocks: 20 as 10 + 10 (one vector a row), 25 as 9 + 8 + 8 (two).
  EXPECT_TRUE(checkDirectConv({{2, 3, 9, 12}, 20, 3, 3, 1, plain, false}));
  EXPECT_TRUE(checkDirectConv({{2, 2, 9, 20}, 25, 3, 3, 1, plain, true}));
  // Rows of 16, 32 (full vectors) and 45 (two chunks of two vectors).
  EXPECT_TRUE(checkDirectConv({{1, 2, 5, 18}, 4, 3, 3, 1, plain, true}));
  EXPECT_TRUE(checkDirectConv({{1, 2, 5, 34}, 4, 3, 3, 1, plain, false, "relu"}));
  EXPECT_TRUE(checkDirectConv({{2, 3, 6, 47}, 5, 3, 3, 1, plain, true}));
  // Uneven padding, vertical stride, dilation, one filter, 1x1 kernel.
  EXPECT_TRUE(checkDirectConv(
      {{2, 3, 11, 13}, 7, 3, 3, 1, window({2, 1}, {0, 1, 2, 3}, {1, 1}), true}));
  EXPECT_TRUE(checkDirectConv(
      {{1, 4, 12, 12}, 1, 3, 3, 1, window({1, 1}, {2, 2, 2, 2}, {2, 2}), true, "relu"}));
  EXPECT_TRUE(checkDirectConv({{2, 5, 7, 7}, 3, 1, 1, 1, plain, false}));
  // Horizontal stride 2: MobileNetV2's first layer (224 -> 112, three
  // chunks of two vectors and a partial one), odd widths, one partial
  // vector, uneven padding, stride 2 one way only.
  Window2D s2pad1 = window({2, 2}, {1, 1, 1, 1}, {1, 1});
  EXPECT_TRUE(checkDirectConv({{1, 3, 224, 224}, 32, 3, 3, 1, s2pad1, true, "relu6"}));
  EXPECT_TRUE(checkDirectConv({{2, 3, 17, 37}, 7, 3, 3, 1, s2pad1, false, "relu"}));
  // relu6 reaching its upper bound: 16 channels x 5x5 taps of [-1, 1].
  EXPECT_TRUE(checkDirectConv({{1, 16, 12, 12}, 8, 5, 5, 1, pad2, true, "relu6"}));
  EXPECT_TRUE(checkDirectConv({{1, 2, 9, 9}, 20, 3, 3, 1, s2pad1, true}));
  EXPECT_TRUE(checkDirectConv(
      {{2, 4, 12, 21}, 5, 5, 5, 1, window({1, 2}, {2, 1, 0, 2}, {1, 1}), true, "relu"}));
  EXPECT_TRUE(checkDirectConv(
      {{1, 3, 15, 40}, 6, 3, 3, 1, window({2, 2}, {0, 0, 0, 0}, {1, 2}), true}));
  // Not covered: horizontal stride 3, an activation other than relu, more
  // than 16 input channels (oneDNN's ground).
  EXPECT_FALSE(checkDirectConv({{1, 17, 6, 6}, 4, 3, 3, 1, plain, true}));
  EXPECT_FALSE(checkDirectConv(
      {{1, 3, 8, 8}, 4, 3, 3, 1, window({1, 3}, {0, 0, 0, 0}, {1, 1}), true}));
  EXPECT_FALSE(checkDirectConv({{1, 3, 8, 8}, 4, 3, 3, 1, plain, true, "tanh"}));
}

/// Kiln's depthwise convolution itself, as checkDirectConv: NaN-filled
/// outputs, false when it does not cover the case.
bool checkDepthwiseConv(const ConvCase &c) {
  SCOPED_TRACE(::testing::Message()
               << "depthwise x " << c.x[0] << "x" << c.x[1] << "x" << c.x[2]
               << "x" << c.x[3] << " k " << c.kh << "x" << c.kw << " stride "
               << c.win.strides[0] << " " << c.act);
  Tensor x = randomF32(c.x, 12);
  Tensor w = randomF32({c.x[1], 1, c.kh, c.kw}, 13);
  Tensor b = c.bias ? randomF32({c.x[1]}, 14) : Tensor();
  Window2D win = c.win;
  win.kernel = {c.kh, c.kw};
  Tensor want = activate(*ref::conv2d(*x.to(DType::F64), *w.to(DType::F64),
                                      c.bias ? *b.to(DType::F64) : Tensor(),
                                      win, c.x[1]),
                         c.act);
  auto call = cpu::prepareDepthwiseConv2d(c.x, w, b, win, c.groups,
                                          want.shape(), c.act);
  EXPECT_TRUE(call) << call.status().message();
  if (!call || !*call)
    return false;
  Tensor y = *Tensor::full(want.shape(), std::nan(""), DType::F32);
  EXPECT_TRUE((*call)->run(x.data<float>(), y.data<float>()).isOk());
  EXPECT_TRUE(closeTo(*y.to(DType::F64), want, widened(c.kh * c.kw)))
      << (*call)->implementation();
  return true;
}

TEST(PreparedConv, DepthwiseKernelMatchesTheReference) {
  if (!__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "the depthwise convolution needs AVX-512F";
  Window2D pad1 = window({1, 1}, {1, 1, 1, 1}, {1, 1});
  Window2D pad1s2 = window({2, 2}, {1, 1, 1, 1}, {1, 1});
  Window2D pad2 = window({1, 1}, {2, 2, 2, 2}, {1, 1});
  Window2D pad2s2 = window({2, 2}, {2, 2, 2, 2}, {1, 1});
  // MobileNetV2's shapes (stride 1 and 2, 3x3 pad 1): rows of 112/56 (four
  // vectors a chunk, the last partial), 28 (two), 14 and 7 (one, partial).
  EXPECT_TRUE(checkDepthwiseConv({{1, 4, 112, 112}, 4, 3, 3, 4, pad1, true, "relu"}));
  EXPECT_TRUE(checkDepthwiseConv({{1, 5, 112, 112}, 5, 3, 3, 5, pad1s2, false}));
  EXPECT_TRUE(checkDepthwiseConv({{2, 6, 28, 28}, 6, 3, 3, 6, pad1, true}));
  EXPECT_TRUE(checkDepthwiseConv({{3, 7, 14, 14}, 7, 3, 3, 7, pad1s2, true, "relu"}));
  EXPECT_TRUE(checkDepthwiseConv({{2, 9, 7, 7}, 9, 3, 3, 9, pad1, false, "relu"}));
  // Odd widths and heights that miss the vector width and the row pair;
  // 1 and 33 columns; no padding; uneven padding.
  EXPECT_TRUE(checkDepthwiseConv({{2, 3, 13, 37}, 3, 3, 3, 3, pad1, true}));
  EXPECT_TRUE(checkDepthwiseConv({{1, 2, 9, 1}, 2, 3, 3, 2, pad1, true}));
  EXPECT_TRUE(checkDepthwiseConv({{1, 3, 11, 67}, 3, 3, 3, 3, pad1s2, true, "relu"}));
  EXPECT_TRUE(checkDepthwiseConv(
      {{2, 3, 10, 33}, 3, 3, 3, 3, window({1, 1}, {0, 0, 0, 0}, {1, 1}), true}));
  EXPECT_TRUE(checkDepthwiseConv(
      {{1, 4, 12, 20}, 4, 3, 3, 4, window({2, 2}, {0, 1, 1, 0}, {1, 1}), false}));
  // relu6 (MobileNetV2's clip(0, 6) folded in); both bounds share
  // ClampActivation.h with the pointwise kernel, whose 96-channel case
  // below reaches past 6 in a few percent of its outputs.
  EXPECT_TRUE(checkDepthwiseConv({{2, 8, 23, 29}, 8, 5, 5, 8, pad2, true, "relu6"}));
  EXPECT_TRUE(checkDepthwiseConv({{1, 6, 30, 30}, 6, 3, 3, 6, pad1s2, true, "relu6"}));
  // 5x5 (EfficientNet-style), stride 1 and 2, pad 2.
  EXPECT_TRUE(checkDepthwiseConv({{2, 3, 17, 41}, 3, 5, 5, 3, pad2, true, "relu"}));
  EXPECT_TRUE(checkDepthwiseConv({{1, 4, 19, 35}, 4, 5, 5, 4, pad2s2, false}));
  // Many planes: split over the pool.
  EXPECT_TRUE(checkDepthwiseConv({{4, 64, 28, 28}, 64, 3, 3, 64, pad1, true, "relu"}));
  // Not covered: dilation, a 7x7 kernel, stride 3, an activation other than
  // relu, channel multipliers (groups < C_out).
  EXPECT_FALSE(checkDepthwiseConv(
      {{1, 3, 12, 12}, 3, 3, 3, 3, window({1, 1}, {2, 2, 2, 2}, {2, 2}), true}));
  EXPECT_FALSE(checkDepthwiseConv(
      {{1, 3, 12, 12}, 3, 7, 7, 3, window({1, 1}, {3, 3, 3, 3}, {1, 1}), true}));
  EXPECT_FALSE(checkDepthwiseConv(
      {{1, 3, 12, 12}, 3, 3, 3, 3, window({3, 3}, {1, 1, 1, 1}, {1, 1}), true}));
  EXPECT_FALSE(checkDepthwiseConv({{1, 3, 8, 8}, 3, 3, 3, 3, pad1, true, "tanh"}));
  EXPECT_FALSE(checkDepthwiseConv({{1, 3, 8, 8}, 3, 3, 3, 1, pad1, true}));
}

/// Kiln's 1x1 convolution itself, as checkDirectConv: NaN-filled outputs,
/// false when it does not cover the case.
bool checkPointwiseConv(const ConvCase &c) {
  SCOPED_TRACE(::testing::Message()
               << "pointwise x " << c.x[0] << "x" << c.x[1] << "x" << c.x[2]
               << "x" << c.x[3] << " f " << c.f << " " << c.act);
  Tensor x = randomF32(c.x, 15);
  Tensor w = randomF32({c.f, c.x[1] / c.groups, c.kh, c.kw}, 16);
  Tensor b = c.bias ? randomF32({c.f}, 17) : Tensor();
  Window2D win = c.win;
  win.kernel = {c.kh, c.kw};
  Tensor want = activate(*ref::conv2d(*x.to(DType::F64), *w.to(DType::F64),
                                      c.bias ? *b.to(DType::F64) : Tensor(),
                                      win, c.groups),
                         c.act);
  auto call = cpu::preparePointwiseConv2d(c.x, w, b, win, c.groups,
                                          want.shape(), c.act);
  EXPECT_TRUE(call) << call.status().message();
  if (!call || !*call)
    return false;
  Tensor y = *Tensor::full(want.shape(), std::nan(""), DType::F32);
  EXPECT_TRUE((*call)->run(x.data<float>(), y.data<float>()).isOk());
  EXPECT_TRUE(closeTo(*y.to(DType::F64), want, widened(w.numel() / c.f)))
      << (*call)->implementation();
  return true;
}

TEST(PreparedConv, PointwiseKernelMatchesTheReference) {
  if (!__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "the pointwise convolution needs AVX-512F";
  Window2D plain = window({1, 1}, {0, 0, 0, 0}, {1, 1});
  // MobileNetV2's shapes: 56x56 (49 full panels of 64 pixels), 7x7 (one
  // partial panel, one vector and a part), filters in blocks of 6 and a
  // smaller one (24 = 4 blocks of 6, 16 = 5 + 5 + 6).
  EXPECT_TRUE(checkPointwiseConv({{1, 24, 56, 56}, 144, 1, 1, 1, plain, true}));
  EXPECT_TRUE(checkPointwiseConv({{1, 144, 56, 56}, 24, 1, 1, 1, plain, false}));
  EXPECT_TRUE(checkPointwiseConv({{2, 320, 7, 7}, 16, 1, 1, 1, plain, true, "relu"}));
  // Odd pixel counts that miss the vector and panel widths (1, 15, 17,
  // 65, 143), few channels, filter counts 1..7, batch > 1, relu.
  EXPECT_TRUE(checkPointwiseConv({{3, 5, 1, 1}, 7, 1, 1, 1, plain, true}));
  EXPECT_TRUE(checkPointwiseConv({{2, 3, 3, 5}, 1, 1, 1, 1, plain, true, "relu"}));
  EXPECT_TRUE(checkPointwiseConv({{1, 17, 1, 17}, 5, 1, 1, 1, plain, false}));
  EXPECT_TRUE(checkPointwiseConv({{4, 8, 5, 13}, 13, 1, 1, 1, plain, true, "relu"}));
  EXPECT_TRUE(checkPointwiseConv({{2, 33, 11, 13}, 40, 1, 1, 1, plain, true}));
  // relu6: sums of 96 products of [-1, 1] values pass 6 in a few percent.
  EXPECT_TRUE(checkPointwiseConv({{2, 96, 9, 9}, 20, 1, 1, 1, plain, true, "relu6"}));
  // Not covered: stride 2 (ResNet's downsampling), padding, groups, a
  // 3x3 kernel, an activation other than relu.
  EXPECT_FALSE(checkPointwiseConv(
      {{1, 8, 8, 8}, 16, 1, 1, 1, window({2, 2}, {0, 0, 0, 0}, {1, 1}), true}));
  EXPECT_FALSE(checkPointwiseConv(
      {{1, 8, 8, 8}, 16, 1, 1, 1, window({1, 1}, {1, 1, 1, 1}, {1, 1}), true}));
  EXPECT_FALSE(checkPointwiseConv({{1, 8, 8, 8}, 16, 1, 1, 2, plain, true}));
  EXPECT_FALSE(checkPointwiseConv({{1, 8, 8, 8}, 16, 3, 3, 1, plain, true}));
  EXPECT_FALSE(checkPointwiseConv({{1, 8, 8, 8}, 16, 1, 1, 1, plain, true, "gelu"}));
}

TEST(PreparedConv, UnknownActivationIsNotPrepared) {
  Tensor w = randomF32({4, 3, 3, 3}, 8);
  Window2D win = window({1, 1}, {0, 0, 0, 0}, {1, 1});
  win.kernel = {3, 3};
  auto call = cpu::prepareConv2d({1, 3, 8, 8}, w, Tensor(), win, 1,
                                 {1, 4, 6, 6}, "swishy");
  ASSERT_TRUE(call);
  EXPECT_FALSE(*call);
}

} // namespace
} // namespace kiln
