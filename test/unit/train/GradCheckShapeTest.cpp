//===- GradCheckShapeTest.cpp - Shape and indexing ops by differences ------===//
//
// The free functions of NNOps.h (each records one node under its dialect
// name) and embedding: gradients that are inverse views, sums over
// broadcast dims, copies into zeros, slices, and scatter-adds where an index
// repeats.
//
//===----------------------------------------------------------------------===//
#include "GradCheck.h"

#include "kiln/NNOps.h"
#include "kiln/TrainingOps.h"

using namespace kiln;
using namespace kiln::gradcheck;

namespace {
class GradCheckShape : public GradCheckTest {};
} // namespace

KILN_GRADCHECK_TEST(GradCheckShape, ViewLikeOps, "reshape", "transpose",
                    "broadcast_to", "slice", "expand_dims", "squeeze") {
  Tensor x = uniform({2, 3, 4}, 1);
  EXPECT_TRUE(checkGradients(
      "reshape", [](const Inputs &in) { return reshape(in[0], {3, 8}); }, {x}));
  EXPECT_TRUE(checkGradients(
      "transpose",
      [](const Inputs &in) {
        std::vector<int64_t> perm = {1, 2, 0};
        return transpose(in[0], perm);
      },
      {x}));
  EXPECT_TRUE(checkGradients(
      "transpose",
      [](const Inputs &in) {
        std::vector<int64_t> perm = {2, 0, 1};
        return transpose(in[0], perm);
      },
      {x}));
  EXPECT_TRUE(checkGradients(
      "broadcast_to",
      [](const Inputs &in) { return broadcastTo(in[0], {2, 4, 3}); },
      {uniform({4, 1}, 2)}));
  EXPECT_TRUE(checkGradients(
      "slice",
      [](const Inputs &in) {
        std::vector<int64_t> starts = {0, 1, -1}, ends = {2, 3, -5}, steps = {1, 1, -2};
        return slice(in[0], starts, ends, steps);
      },
      {x}));
  EXPECT_TRUE(checkGradients(
      "slice",
      [](const Inputs &in) {
        std::vector<int64_t> starts = {1, 0, 1}, ends = {2, 2, 3};
        return slice(in[0], starts, ends);
      },
      {x}));
  EXPECT_TRUE(checkGradients(
      "expand_dims",
      [](const Inputs &in) {
        std::vector<int64_t> axes = {1, -1};
        return expandDims(in[0], axes);
      },
      {x}));
  EXPECT_TRUE(checkGradients(
      "squeeze", [](const Inputs &in) { return squeeze(in[0]); },
      {uniform({1, 3, 1, 2}, 3)}));
}

KILN_GRADCHECK_TEST(GradCheckShape, ConcatPadSplit, "concat", "pad", "split") {
  EXPECT_TRUE(checkGradients(
      "concat",
      [](const Inputs &in) { return concat({in[0], in[1], in[2]}, 1); },
      {uniform({2, 1, 3}, 1), uniform({2, 3, 3}, 2), uniform({2, 2, 3}, 3)}));
  // One operand constant: it gets no gradient, the others do.
  Options o;
  o.wrt = {true, false};
  EXPECT_TRUE(checkGradients(
      "concat", [](const Inputs &in) { return concat({in[0], in[1]}, -1); },
      {uniform({2, 2}, 4), uniform({2, 3}, 5)}, o));
  EXPECT_TRUE(checkGradients(
      "pad",
      [](const Inputs &in) {
        std::vector<int64_t> pads = {1, 0, 2, 0, 2, 1};
        return pad(in[0], pads, 0.5);
      },
      {uniform({2, 3, 2}, 6)}));
  for (int piece = 0; piece < 3; ++piece)
    EXPECT_TRUE(checkGradients(
        "split",
        [piece](const Inputs &in) -> Expected<Tensor> {
          std::vector<int64_t> sizes = {1, 3, 2};
          KILN_ASSIGN_OR_RETURN(auto parts, split(in[0], 1, sizes));
          return parts[size_t(piece)];
        },
        {uniform({2, 6}, 7)}));
  // Every piece used: the gradients of the pieces add up in the input.
  EXPECT_TRUE(checkGradients(
      "split",
      [](const Inputs &in) -> Expected<Tensor> {
        std::vector<int64_t> sizes = {2, 2};
        KILN_ASSIGN_OR_RETURN(auto parts, split(in[0], 0, sizes));
        return parts[0] * parts[1];
      },
      {uniform({4, 3}, 8)}));
}

KILN_GRADCHECK_TEST(GradCheckShape, GatherAndEmbedding, "gather", "embedding") {
  Tensor data = uniform({4, 3, 2}, 1);
  // Repeated and negative indices: their gradients add up.
  EXPECT_TRUE(checkGradients(
      "gather", [](const Inputs &in) { return gather(in[0], in[1], 0); },
      {data, indices({3, 0, 3, -1, 1}, {5})}));
  EXPECT_TRUE(checkGradients(
      "gather", [](const Inputs &in) { return gather(in[0], in[1], 1); },
      {data, indices({2, 2, 0, 1}, {2, 2})}));
  EXPECT_TRUE(checkGradients(
      "gather", [](const Inputs &in) { return gather(in[0], in[1], -1); },
      {data, indices({1}, {1})}));
  Tensor idx32 = indices({0, 2, 0, 4}, {2, 2}).to(DType::I32).value();
  EXPECT_TRUE(checkGradients(
      "embedding", [](const Inputs &in) { return embedding(in[0], in[1]); },
      {uniform({5, 3}, 2), idx32}));
  EXPECT_TRUE(checkGradients(
      "embedding", [](const Inputs &in) { return embedding(in[0], in[1]); },
      {uniform({5, 3}, 3), indices({4, 4, 4}, {3})}));
}
