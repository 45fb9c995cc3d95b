//===- KernelAdapters.h - Glue between op attributes and kernel calls -----===//
//
// Shared by the two op tables: the eager one (Executor.cpp) and the f64
// reference one (ReferenceKernels.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_MODULE_KERNELADAPTERS_H
#define KILN_RUNTIME_MODULE_KERNELADAPTERS_H

#include "ModuleData.h"

#include "kiln/NNOps.h"

namespace kiln::adapters {

using Results = Expected<std::vector<Tensor>>;
using Operands = std::span<const Tensor>;
using Specs = std::span<const TensorSpec>;

/// A single-result kernel's result as the op table's result list.
inline Results one(Expected<Tensor> t) {
  if (!t)
    return t.takeStatus();
  return std::vector<Tensor>{std::move(*t)};
}

/// An optional trailing operand (bias), or an undefined tensor.
inline Tensor optional(Operands in, size_t i) {
  return i < in.size() ? in[i] : Tensor();
}

/// The window attributes of a convolution or pooling op, with the
/// dialect's defaults.
inline Window2D windowOf(const OpAttrs &a, std::vector<int64_t> kernel) {
  Window2D w;
  w.kernel = std::move(kernel);
  w.strides = a.getInts("strides", {1, 1});
  w.pads = a.getInts("pads", {0, 0, 0, 0});
  w.dilations = a.getInts("dilations", {1, 1});
  w.ceilMode = a.getBool("ceil_mode", false);
  return w;
}

} // namespace kiln::adapters

#endif // KILN_RUNTIME_MODULE_KERNELADAPTERS_H
