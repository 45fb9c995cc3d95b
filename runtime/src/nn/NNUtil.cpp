//===- NNUtil.cpp - Helpers shared by the kiln::nn layers ------------------===//
#include "NNUtil.h"

#include "kiln/NNOps.h"

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

Expected<Tensor> stack(const std::vector<Tensor> &xs, int64_t axis) {
  if (xs.empty())
    return invalidArgument("stack: no tensors");
  std::vector<Tensor> expanded;
  int64_t ax[] = {axis};
  for (const Tensor &x : xs) {
    KILN_ASSIGN_OR_RETURN(Tensor e, x.expandDims(ax));
    expanded.push_back(std::move(e));
  }
  return concat(expanded, axis);
}

Expected<Tensor> dropout(const Tensor &x, double p, uint64_t seed) {
  // The op's ratio is in [0, 1); p = 1 drops everything (as in PyTorch).
  if (p >= 1.0)
    return x * 0.0;
  return kiln::dropout(x, p, true, seed);
}

uint64_t nextSeed(Generator &gen) {
  std::array<uint32_t, 4> r = philox4x32(gen.offset(), gen.seed());
  gen.setOffset(gen.offset() + 1);
  return (uint64_t(r[1]) << 32) | r[0];
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
