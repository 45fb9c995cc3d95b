//===- GradCheckCoreTest.cpp - Reductions, matmul and views by differences -===//
//
// The derivatives in runtime/src/autograd/Derivatives.cpp and the Tensor
// view methods: reductions over several axis sets with and without
// keepDims, batched and broadcast matmul with transposes, and every view
// (including reshape's copying path and negative-step slices).
//
//===----------------------------------------------------------------------===//
#include "GradCheck.h"

#include "kiln/NNOps.h"

using namespace kiln;
using namespace kiln::gradcheck;

namespace {

class GradCheckCore : public GradCheckTest {};

struct ReduceCase {
  const char *op;
  ReduceOp reduce;
};

} // namespace

KILN_GRADCHECK_TEST(GradCheckCore, Reductions, "sum", "mean", "reduce_max",
                    "reduce_min", "prod") {
  const std::vector<ReduceCase> cases = {{"sum", ReduceOp::Sum},
                                         {"mean", ReduceOp::Mean},
                                         {"reduce_max", ReduceOp::Max},
                                         {"reduce_min", ReduceOp::Min},
                                         {"prod", ReduceOp::Prod}};
  const std::vector<std::vector<int64_t>> axesSets = {{}, {1}, {0, 2}, {-1}};
  uint64_t seed = 1;
  for (const ReduceCase &c : cases)
    for (const auto &axes : axesSets)
      for (bool keep : {false, true}) {
        SCOPED_TRACE(std::string(c.op) + " keepDims=" + (keep ? "1" : "0") +
                     " axes " + shapes::toString(axes));
        ReduceOp op = c.reduce;
        // prod: magnitudes in [0.5, 1.5] keep the product well scaled.
        Tensor x = op == ReduceOp::Prod ? awayFrom({2, 3, 4}, seed++, 0.0, 0.5, -1.5, 1.5)
                                        : uniform({2, 3, 4}, seed++);
        EXPECT_TRUE(checkGradients(
            c.op,
            [op, axes, keep](const Inputs &in) {
              return reduce(op, in[0], axes, keep);
            },
            {x}));
      }
  // A rank-0 input and a size-1 dim.
  EXPECT_TRUE(checkGradients(
      "sum", [](const Inputs &in) { return sum(in[0]); }, {uniform({}, 9)}));
  EXPECT_TRUE(checkGradients(
      "mean", [](const Inputs &in) { return mean(in[0], {1}); },
      {uniform({3, 1, 2}, 10)}));
}

KILN_GRADCHECK_TEST(GradCheckCore, Matmul, "matmul") {
  struct Case {
    Shape a, b;
    bool ta, tb;
  };
  const std::vector<Case> cases = {
      {{3, 4}, {4, 2}, false, false},    {{4, 3}, {4, 2}, true, false},
      {{3, 4}, {2, 4}, false, true},     {{4, 3}, {2, 4}, true, true},
      {{2, 3, 4}, {4, 5}, false, false}, {{2, 1, 3, 4}, {3, 4, 2}, false, false},
      {{1, 4}, {4, 1}, false, false}};
  uint64_t seed = 1;
  for (const Case &c : cases) {
    SCOPED_TRACE(shapes::toString(c.a) + " x " + shapes::toString(c.b));
    bool ta = c.ta, tb = c.tb;
    EXPECT_TRUE(checkGradients(
        "matmul",
        [ta, tb](const Inputs &in) { return matmul(in[0], in[1], ta, tb); },
        {uniform(c.a, seed), uniform(c.b, seed + 1)}));
    seed += 2;
  }
}

KILN_GRADCHECK_TEST(GradCheckCore, TensorViews, "view", "reshape", "permute",
                    "slice", "select_index", "squeeze", "expand_dims",
                    "broadcast_to", "clone") {
  Tensor x = uniform({2, 3, 4}, 1);
  EXPECT_TRUE(checkGradients(
      "view", [](const Inputs &in) { return in[0].view({6, 4}); }, {x}));
  EXPECT_TRUE(checkGradients(
      "reshape", [](const Inputs &in) { return in[0].reshape({4, -1}); }, {x}));
  // reshape of a transposed view has to copy.
  EXPECT_TRUE(checkGradients(
      "reshape",
      [](const Inputs &in) -> Expected<Tensor> {
        KILN_ASSIGN_OR_RETURN(Tensor t, in[0].transpose(0, 2));
        return t.reshape({24});
      },
      {x}));
  EXPECT_TRUE(checkGradients(
      "permute", [](const Inputs &in) { return in[0].permute({2, 0, 1}); }, {x}));
  EXPECT_TRUE(checkGradients(
      "permute", [](const Inputs &in) { return in[0].transpose(0, 1); }, {x}));
  EXPECT_TRUE(checkGradients(
      "slice", [](const Inputs &in) { return in[0].slice(2, 1, 4, 2); }, {x}));
  EXPECT_TRUE(checkGradients(
      "slice",
      [](const Inputs &in) {
        std::vector<int64_t> starts = {1, 2, -1}, ends = {2, -10, -5},
                             steps = {1, -1, -2};
        return in[0].slice(starts, ends, steps);
      },
      {x}));
  EXPECT_TRUE(checkGradients(
      "select_index", [](const Inputs &in) { return in[0].select(1, 2); }, {x}));
  EXPECT_TRUE(checkGradients(
      "select_index", [](const Inputs &in) { return in[0].select(0, -1); }, {x}));
  EXPECT_TRUE(checkGradients(
      "squeeze",
      [](const Inputs &in) {
        std::vector<int64_t> axes = {1};
        return in[0].squeeze(axes);
      },
      {uniform({3, 1, 2}, 2)}));
  EXPECT_TRUE(checkGradients(
      "expand_dims",
      [](const Inputs &in) {
        std::vector<int64_t> axes = {0, 3};
        return in[0].expandDims(axes);
      },
      {uniform({3, 2}, 3)}));
  EXPECT_TRUE(checkGradients(
      "broadcast_to",
      [](const Inputs &in) { return in[0].broadcastTo({2, 3, 4}); },
      {uniform({3, 1}, 4)}));
  EXPECT_TRUE(checkGradients(
      "broadcast_to", [](const Inputs &in) { return in[0].broadcastTo({2, 2}); },
      {uniform({}, 5)}));
  EXPECT_TRUE(checkGradients(
      "clone", [](const Inputs &in) { return in[0].clone(); }, {x}));
}

KILN_GRADCHECK_TEST(GradCheckCore, ViewsComposeWithOps, "mul") {
  // Two views of one leaf feeding one op: both gradients land in the leaf.
  EXPECT_TRUE(checkGradients(
      "mul",
      [](const Inputs &in) -> Expected<Tensor> {
        KILN_ASSIGN_OR_RETURN(Tensor a, in[0].slice(0, 0, 2));
        KILN_ASSIGN_OR_RETURN(Tensor b, in[0].slice(0, 1, 3));
        return mul(a, b);
      },
      {uniform({3, 2}, 6)}));
}
