//===- NNUtil.h - Helpers shared by the kiln::nn layers --------------------===//
//
// Layers compose public eager ops (Ops.h, NNOps.h, TrainingOps.h), which
// record autograd graphs; these are the few pieces several layers share.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_NN_NNUTIL_H
#define KILN_RUNTIME_NN_NNUTIL_H

#include "kiln/Random.h"
#include "kiln/Tensor.h"

#include <string>
#include <string_view>
#include <vector>

namespace kiln::nn::detail {

/// "f32[2, 3]"; "undefined".
std::string describe(const Tensor &t);
std::string shapeString(const Shape &shape);

/// Stacks same-shape tensors along a new axis `axis` (in the result).
Expected<Tensor> stack(const std::vector<Tensor> &xs, int64_t axis);
/// Training-mode dropout with ratio p in [0, 1] and the given seed.
Expected<Tensor> dropout(const Tensor &x, double p, uint64_t seed);
/// A fresh 64-bit seed from a counter-based generator (advances it by one).
uint64_t nextSeed(Generator &gen);
/// Checks that `x` is a defined float tensor of dtype `dtype`.
Status checkFloatInput(std::string_view layer, const Tensor &x, DType dtype);

} // namespace kiln::nn::detail

#endif // KILN_RUNTIME_NN_NNUTIL_H
