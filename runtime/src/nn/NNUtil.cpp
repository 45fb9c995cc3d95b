//===- NNUtil.cpp - Helpers shared by the kiln::nn layers ------------------===//
#include "NNUtil.h"

#include "kiln/Autograd.h"
#include "kiln/NNOps.h"

#include <algorithm>

namespace kiln::nn::detail {

std::string shapeString(const Shape &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string describe(const Tensor &t) {
  if (!t.defined())
    return "undefined";
  return std::string(dtypeName(t.dtype())) + shapeString(t.shape());
}

bool hasBackward(std::string_view name) {
  const std::vector<std::string> &ops = autograd::differentiableOps();
  return std::find(ops.begin(), ops.end(), name) != ops.end();
}

bool canUseFused(std::string_view name, const std::vector<Tensor> &inputs) {
  return !autograd::needsGrad(inputs) || hasBackward(name);
}

Expected<Tensor> softmaxLastAxis(const Tensor &x) {
  if (canUseFused("softmax", {x}))
    return kiln::softmax(x, -1);
  // exp(x - max) / sum: the max is a constant shift (its gradient cancels).
  KILN_ASSIGN_OR_RETURN(Tensor m, reduceMax(x.detach(), {-1}, true));
  KILN_ASSIGN_OR_RETURN(Tensor e, exp(x - m));
  return e / sum(e, {-1}, true);
}

Expected<Tensor> logSoftmaxLastAxis(const Tensor &x) {
  if (canUseFused("log_softmax", {x}))
    return kiln::logSoftmax(x, -1);
  KILN_ASSIGN_OR_RETURN(Tensor m, reduceMax(x.detach(), {-1}, true));
  KILN_ASSIGN_OR_RETURN(Tensor shifted, x - m);
  KILN_ASSIGN_OR_RETURN(Tensor e, exp(shifted));
  return shifted - log(sum(e, {-1}, true));
}

Expected<Tensor> stack(const std::vector<Tensor> &xs, int64_t axis) {
  if (xs.empty())
    return invalidArgument("stack: no tensors");
  std::vector<Tensor> expanded;
  int64_t ax[] = {axis};
  for (const Tensor &x : xs) {
    KILN_ASSIGN_OR_RETURN(Tensor e, x.expandDims(ax));
    expanded.push_back(std::move(e));
  }
  if (canUseFused("concat", xs))
    return concat(expanded, axis);
  // Without concat's backward: sum of each slice times its one-hot position
  // along `axis` (T times the work of a concat; a fallback only).
  int64_t t = int64_t(xs.size());
  Shape posShape(size_t(expanded[0].rank()), 1);
  posShape[size_t(axis)] = t;
  Tensor out;
  for (int64_t i = 0; i < t; ++i) {
    KILN_ASSIGN_OR_RETURN(Tensor pos, Tensor::zeros(posShape, xs[0].dtype()));
    std::vector<int64_t> index(posShape.size(), 0);
    index[size_t(axis)] = i;
    KILN_RETURN_IF_ERROR(pos.set(index, 1.0));
    KILN_ASSIGN_OR_RETURN(Tensor placed, expanded[size_t(i)] * pos);
    if (out.defined()) {
      KILN_ASSIGN_OR_RETURN(out, out + placed);
    } else {
      out = std::move(placed);
    }
  }
  return out;
}

Expected<Tensor> dropout(const Tensor &x, double p, uint64_t seed) {
  if (p >= 1.0)
    return x * 0.0;
  if (canUseFused("dropout", {x}))
    return kiln::dropout(x, p, true, seed);
  // The same mask as the fused op, as a constant factor.
  KILN_ASSIGN_OR_RETURN(Tensor ones, Tensor::full(x.shape(), 1.0, x.dtype()));
  KILN_ASSIGN_OR_RETURN(Tensor mask, kiln::dropout(ones, p, true, seed));
  return x * mask;
}

uint64_t nextSeed(Generator &gen) {
  std::array<uint32_t, 4> r = philox4x32(gen.offset(), gen.seed());
  gen.setOffset(gen.offset() + 1);
  return (uint64_t(r[1]) << 32) | r[0];
}

Expected<Tensor> channelView(const Tensor &v, int64_t rank) {
  Shape shape(size_t(rank), 1);
  shape[1] = v.numel();
  return v.reshape(shape);
}

Status checkFloatInput(std::string_view layer, const Tensor &x, DType dtype) {
  if (!x.defined())
    return invalidArgument(layer, ": input is undefined");
  if (x.dtype() != dtype)
    return invalidArgument(layer, ": input has dtype ", dtypeName(x.dtype()),
                           ", the layer's parameters are ", dtypeName(dtype));
  return Status::ok();
}

} // namespace kiln::nn::detail
