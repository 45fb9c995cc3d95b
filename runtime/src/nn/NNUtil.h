//===- NNUtil.h - Helpers shared by the kiln::nn layers --------------------===//
//
// Layers compose public eager ops, which record autograd graphs. Some NN
// ops (softmax, layer_norm, gather, concat, dropout, ...) only record once
// their owners register a backward; until then a layer that needs a
// gradient through one of them computes it from elementwise ops and
// reductions, which always differentiate. `hasBackward` asks the autograd
// registry, so layers switch to the fused op as soon as it is
// differentiable, and use it anyway whenever no gradient is needed.
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

/// True when the op `name` records a gradient (autograd's registry).
bool hasBackward(std::string_view name);
/// True when `name`'s fused kernel can be used: no input needs a gradient,
/// or the op records one.
bool canUseFused(std::string_view name, const std::vector<Tensor> &inputs);

/// softmax / log_softmax over the last axis.
Expected<Tensor> softmaxLastAxis(const Tensor &x);
Expected<Tensor> logSoftmaxLastAxis(const Tensor &x);
/// Stacks same-shape tensors along a new axis `axis` (in the result).
Expected<Tensor> stack(const std::vector<Tensor> &xs, int64_t axis);
/// Training-mode dropout with ratio p in [0, 1] and the given seed.
Expected<Tensor> dropout(const Tensor &x, double p, uint64_t seed);
/// A fresh 64-bit seed from a counter-based generator (advances it by one).
uint64_t nextSeed(Generator &gen);
/// A per-channel vector [C] as [1, C, 1, ...] for an input of `rank`.
Expected<Tensor> channelView(const Tensor &v, int64_t rank);
/// Checks that `x` is a defined float tensor of dtype `dtype`.
Status checkFloatInput(std::string_view layer, const Tensor &x, DType dtype);

} // namespace kiln::nn::detail

#endif // KILN_RUNTIME_NN_NNUTIL_H
