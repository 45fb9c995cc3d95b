//===- ClipGradTest.cpp - Gradient clipping against PyTorch ----------------===//
//
// Expected values from torch 2.15:
//
//   g1 = torch.tensor([[0.5, -1.5, 2.0], [3.0, -0.25, 1.0]], dtype=torch.float64)
//   g2 = torch.tensor([-4.0, 0.75], dtype=torch.float64)
//   a.grad, b.grad = g1.clone(), g2.clone()
//   n = torch.nn.utils.clip_grad_norm_([a, b], max_norm, norm_type)
//
//===----------------------------------------------------------------------===//
#include "OptimTestUtil.h"

#include <cmath>
#include <limits>

namespace kiln::test {
namespace {

const std::vector<double> kG1 = {0.5, -1.5, 2.0, 3.0, -0.25, 1.0};
const std::vector<double> kG2 = {-4.0, 0.75};

struct ClipCase {
  double maxNorm, normType, total;
  std::vector<double> a, b; // Gradients after clipping.
};

const ClipCase kClipCases[] = {
    {1.0, 2.0, 5.755432216610669,
     {0.08687443345827688, -0.2606233003748306, 0.3474977338331075,
      0.5212466007496612, -0.04343721672913844, 0.17374886691655375},
     {-0.694995467666215, 0.1303116501874153}},
    {2.0, std::numeric_limits<double>::infinity(), 4.0,
     {0.24999993750001562, -0.7499998125000469, 0.9999997500000625,
      1.4999996250000938, -0.12499996875000781, 0.49999987500003124},
     {-1.999999500000125, 0.37499990625002344}},
    {5.0, 1.0, 13.0,
     {0.19230767751479405, -0.5769230325443822, 0.7692307100591762,
      1.1538460650887643, -0.09615383875739703, 0.3846153550295881},
     {-1.5384614201183524, 0.2884615162721911}},
    {2.5, 3.0, 4.701727145527407,
     {0.2658596927151312, -0.7975790781453936, 1.0634387708605249,
      1.5951581562907873, -0.1329298463575656, 0.5317193854302624},
     {-2.1268775417210497, 0.3987895390726968}},
    {100.0, 2.0, 5.755432216610669, kG1, kG2}, // Under the limit: unchanged.
};

TEST(ClipGradTest, ClipGradNormMatchesPyTorch) {
  for (DType dtype : {DType::F64, DType::F32}) {
    ref::Tolerance tol = dtype == DType::F64 ? ref::Tolerance{1e-14, 1e-14}
                                             : ref::toleranceFor(DType::F32);
    for (const ClipCase &c : kClipCases) {
      SCOPED_TRACE(strCat(dtypeName(dtype), " maxNorm ", c.maxNorm, " normType ",
                          c.normType));
      std::vector<Tensor> params = {param(kG1, {2, 3}, dtype),
                                    param(kG2, {2}, dtype),
                                    param({9.0}, {1}, dtype)}; // No grad.
      giveGrad(params[0], kG1);
      giveGrad(params[1], kG2);
      Expected<double> total = optim::clipGradNorm(params, c.maxNorm, c.normType);
      ASSERT_TRUE(total.ok()) << total.status();
      EXPECT_NEAR(*total, c.total, 1e-13 * c.total);
      EXPECT_TRUE(closeTo(params[0].grad(), c.a, tol));
      EXPECT_TRUE(closeTo(params[1].grad(), c.b, tol));
      EXPECT_FALSE(params[2].grad().defined());
    }
  }
}

TEST(ClipGradTest, ClipGradNormOfHalfGradients) {
  std::vector<Tensor> params = {param(kG1, {2, 3}, DType::BF16)};
  giveGrad(params[0], kG1);
  Expected<double> total = optim::clipGradNorm(params, 1.0);
  ASSERT_TRUE(total.ok()) << total.status();
  // Every element of g1 is exact in bf16, and the norm accumulates in
  // double: |g1| = sqrt(16.5625) exactly.
  EXPECT_NEAR(*total, std::sqrt(16.5625), 1e-12);
  std::vector<double> expected = kG1;
  for (double &v : expected)
    v *= 1.0 / (std::sqrt(16.5625) + 1e-6);
  EXPECT_TRUE(closeTo(params[0].grad(), expected, ref::toleranceFor(DType::BF16)));
}

TEST(ClipGradTest, LargeGradientNormIsExact) {
  // Several pool blocks; the norm of n ones is sqrt(n).
  const int64_t n = 300001;
  std::vector<Tensor> params = {*Tensor::full({n}, 1.0, DType::F32)};
  ASSERT_TRUE(params[0].setRequiresGrad().isOk());
  ASSERT_TRUE(params[0].setGrad(*Tensor::full({n}, 1.0, DType::F32)).isOk());
  Expected<double> total = optim::clipGradNorm(params, 1e9);
  ASSERT_TRUE(total.ok());
  EXPECT_NEAR(*total, std::sqrt(double(n)), 1e-9);
}

TEST(ClipGradTest, NonFiniteGradientsGiveNonFiniteNorm) {
  std::vector<Tensor> params = {param({1.0, 2.0}, {2})};
  giveGrad(params[0], {NAN, 1.0});
  Expected<double> total = optim::clipGradNorm(params, 1.0);
  ASSERT_TRUE(total.ok());
  EXPECT_TRUE(std::isnan(*total));
  giveGrad(params[0], {1.0, NAN});
  total = optim::clipGradNorm(params, 1.0, std::numeric_limits<double>::infinity());
  ASSERT_TRUE(total.ok());
  EXPECT_TRUE(std::isnan(*total));
}

TEST(ClipGradTest, ClipGradValue) {
  std::vector<Tensor> params = {param(kG1, {2, 3}), param({0.0}, {1})};
  giveGrad(params[0], kG1);
  ASSERT_TRUE(optim::clipGradValue(params, 1.25).isOk());
  EXPECT_TRUE(closeTo(params[0].grad(), {0.5, -1.25, 1.25, 1.25, -0.25, 1.0},
                      {0, 0}));
  EXPECT_FALSE(params[1].grad().defined());
}

TEST(ClipGradTest, ClippingDoesNotWriteThroughSharedGradients) {
  // Two parameters holding the same gradient tensor (as autograd may hand
  // out): each must be scaled once.
  std::vector<Tensor> params = {param({0.0, 0.0}, {2}), param({0.0, 0.0}, {2})};
  Tensor g = *Tensor::fromDoubles(std::vector<double>{3.0, 4.0}, {2}, DType::F64);
  ASSERT_TRUE(params[0].setGrad(g).isOk());
  ASSERT_TRUE(params[1].setGrad(g).isOk());
  Expected<double> total = optim::clipGradNorm(params, 1.0);
  ASSERT_TRUE(total.ok());
  EXPECT_NEAR(*total, std::sqrt(50.0), 1e-14);
  double scale = 1.0 / (std::sqrt(50.0) + 1e-6);
  EXPECT_TRUE(closeTo(params[0].grad(), {3 * scale, 4 * scale}, {1e-15, 1e-15}));
  EXPECT_TRUE(closeTo(params[1].grad(), {3 * scale, 4 * scale}, {1e-15, 1e-15}));
  EXPECT_TRUE(closeTo(g, {3.0, 4.0}, {0, 0}));
}

TEST(ClipGradTest, RejectsBadArguments) {
  std::vector<Tensor> params = {param({1.0}, {1})};
  giveGrad(params[0], {2.0});
  EXPECT_ERROR_MENTIONS(optim::clipGradNorm(params, -1.0), "maxNorm must be >= 0");
  EXPECT_ERROR_MENTIONS(optim::clipGradNorm(params, NAN), "maxNorm");
  EXPECT_ERROR_MENTIONS(optim::clipGradNorm(params, 1.0, 0.0), "normType must be > 0");
  EXPECT_ERROR_MENTIONS(optim::clipGradNorm(params, 1.0, -INFINITY), "normType");
  EXPECT_ERROR_MENTIONS(optim::clipGradValue(params, -0.5), "clip must be >= 0");
  EXPECT_TRUE(closeTo(params[0].grad(), {2.0}, {0, 0}));
  std::vector<Tensor> none;
  Expected<double> total = optim::clipGradNorm(none, 1.0);
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(*total, 0.0);
}

} // namespace
} // namespace kiln::test
