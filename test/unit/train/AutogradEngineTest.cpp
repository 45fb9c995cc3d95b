//===- AutogradEngineTest.cpp - The backward engine's own contract ---------===//
//
// Accumulation, weight sharing, freed graphs, seeds, detach/no-grad and deep
// graphs. Per-op derivatives are checked by finite differences in the
// GradCheck*Test files.
//
//===----------------------------------------------------------------------===//
#include "kiln/Autograd.h"
#include "kiln/NNOps.h"
#include "kiln/Ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

using namespace kiln;

namespace {
Tensor param(std::vector<double> v, Shape s) {
  Tensor t = Tensor::fromDoubles(v, s, DType::F64).value();
  EXPECT_TRUE(t.setRequiresGrad().isOk());
  return t;
}
Tensor constant(std::vector<double> v, Shape s) {
  return Tensor::fromDoubles(v, s, DType::F64).value();
}
void expectValues(const Tensor &t, std::vector<double> want) {
  ASSERT_TRUE(t.defined());
  std::vector<double> got = t.toDoubles();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-12) << "element " << i;
}
} // namespace

TEST(AutogradEngine, SimpleExpression) {
  Tensor w = param({1, 2, 3}, {3});
  Tensor x = constant({4, 5, 6}, {3});
  Tensor loss = sum(w * x + w).value();
  EXPECT_TRUE(loss.requiresGrad());
  EXPECT_FALSE(loss.isLeaf());
  EXPECT_EQ(loss.gradFn()->name(), "sum");
  ASSERT_TRUE(loss.backward().isOk());
  expectValues(w.grad(), {5, 6, 7});
  EXPECT_FALSE(x.grad().defined());
}

TEST(AutogradEngine, SharedWeightReceivesTheSum) {
  Tensor w = param({1, 2, 3, 4}, {2, 2});
  Tensor a = constant({1, 0, 0, 1}, {2, 2});
  Tensor b = constant({2, 0, 0, 2}, {2, 2});
  Tensor loss = (sum(matmul(a, w)) + sum(matmul(b, w))).value();
  ASSERT_TRUE(loss.backward().isOk());
  expectValues(w.grad(), {3, 3, 3, 3});
}

TEST(AutogradEngine, RepeatedBackwardAccumulatesUntilZeroGrad) {
  Tensor w = param({2}, {1});
  for (int i = 0; i < 2; ++i) {
    Tensor loss = (w * w).value();
    ASSERT_TRUE(loss.backward().isOk());
  }
  expectValues(w.grad(), {8});
  w.zeroGrad();
  EXPECT_FALSE(w.grad().defined());
}

TEST(AutogradEngine, SameInputTwiceInOneOp) {
  Tensor w = param({3}, {1});
  Tensor loss = (w * w * w).value();
  ASSERT_TRUE(loss.backward().isOk());
  expectValues(w.grad(), {27});
}

TEST(AutogradEngine, NonScalarNeedsASeed) {
  Tensor w = param({1, 2}, {2});
  Tensor y = (w * 2.0).value();
  Status s = y.backward();
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("seed gradient is required"), std::string::npos)
      << s.message();
  Tensor seed = constant({1, 10}, {2});
  ASSERT_TRUE(y.backward(seed).isOk());
  expectValues(w.grad(), {2, 20});
  Status bad = (w * 2.0).value().backward(constant({1, 2, 3}, {3}));
  EXPECT_FALSE(bad.isOk());
}

TEST(AutogradEngine, TensorWithoutGradIsAnError) {
  Tensor x = constant({1}, {1});
  Status s = x.backward();
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("does not require grad"), std::string::npos);
  Tensor i = Tensor::fromVector<int64_t>({1}, {1}).value();
  EXPECT_FALSE(i.setRequiresGrad().isOk());
}

TEST(AutogradEngine, SecondBackwardNeedsRetainGraph) {
  Tensor w = param({2}, {1});
  Tensor loss = exp(w).value();
  ASSERT_TRUE(loss.backward(Tensor(), /*retainGraph=*/true).isOk());
  ASSERT_TRUE(loss.backward().isOk());
  Status s = loss.backward();
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("already freed"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'exp'"), std::string::npos) << s.message();
  expectValues(w.grad(), {2 * std::exp(2.0)});
}

TEST(AutogradEngine, DetachAndNoGradStopRecording) {
  Tensor w = param({2}, {1});
  Tensor d = w.detach();
  EXPECT_FALSE(d.requiresGrad());
  EXPECT_TRUE(d.sharesStorageWith(w));
  {
    autograd::NoGradGuard guard;
    Tensor y = (w * 3.0).value();
    EXPECT_FALSE(y.requiresGrad());
  }
  EXPECT_TRUE(autograd::gradEnabled());
  Tensor loss = (w * d).value(); // d is a constant
  ASSERT_TRUE(loss.backward().isOk());
  expectValues(w.grad(), {2});
}

TEST(AutogradEngine, ViewsRouteGradientsBack) {
  Tensor w = param({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor s = w.slice(1, 1, 3).value();           // [[2,3],[5,6]]
  Tensor t = s.transpose(0, 1).value();          // [[2,5],[3,6]]
  Tensor r = t.reshape({4}).value();
  Tensor row = w.select(0, 0).value();           // [1,2,3]
  Tensor b = row.expandDims(std::vector<int64_t>{0}).value().broadcastTo({2, 3}).value();
  Tensor seed = constant({1, 2, 3, 4}, {4});
  Tensor loss = (sum(r * seed) + sum(b)).value();
  ASSERT_TRUE(loss.backward().isOk());
  // r = [2,5,3,6] weighted by [1,2,3,4]; b adds 2 to each of row 0.
  expectValues(w.grad(), {2, 1 + 2, 3 + 2, 0, 2, 4});
}

TEST(AutogradEngine, BroadcastingOperandsGetReducedGradients) {
  Tensor bias = param({0.5, -0.5}, {2});
  Tensor x = constant({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor loss = sum((x + bias) * 2.0).value();
  ASSERT_TRUE(loss.backward().isOk());
  expectValues(bias.grad(), {6, 6});
}

TEST(AutogradEngine, DeepChainNeedsNoRecursion) {
  Tensor w = param({1}, {1});
  Tensor y = w;
  for (int i = 0; i < 20000; ++i)
    y = (y + 1.0).value();
  ASSERT_TRUE(y.backward().isOk());
  expectValues(w.grad(), {1});
}

TEST(AutogradEngine, GradFunctionLeavesGradsAlone) {
  Tensor a = param({1, 2}, {2});
  Tensor b = param({3, 4}, {2});
  Tensor h = (a * b).value();
  Tensor loss = sum(h * h).value();
  auto g = autograd::grad({loss}, {a, h}).value();
  expectValues(g[0], {2 * 1 * 9, 2 * 2 * 16}); // 2 a b^2
  expectValues(g[1], {6, 16});                 // 2 h
  EXPECT_FALSE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
}

TEST(AutogradEngine, GradsAreNotAliased) {
  // add's backward hands the same tensor to both inputs; each leaf must own
  // its own gradient so an in-place update of one leaves the other alone.
  Tensor a = param({1}, {1});
  Tensor b = param({1}, {1});
  ASSERT_TRUE((a + b).value().backward().isOk());
  EXPECT_FALSE(a.grad().sharesStorageWith(b.grad()));
}

TEST(AutogradEngine, CopiesShareOneVariable) {
  Tensor w = param({1}, {1});
  Tensor alias = w;
  ASSERT_TRUE((alias * 5.0).value().backward().isOk());
  expectValues(w.grad(), {5});
  EXPECT_FALSE(w.setRequiresGrad(true).isOk() == false);
  Tensor y = (w * 1.0).value();
  EXPECT_FALSE(y.setRequiresGrad(false).isOk());
}

TEST(AutogradEngine, RegistryNamesAreUnique) {
  const auto &names = autograd::differentiableOps();
  std::set<std::string> unique(names.begin(), names.end());
  EXPECT_EQ(unique.size(), names.size());
}
