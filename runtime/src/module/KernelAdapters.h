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
#include "kiln/Support/Shapes.h"

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

/// conv2d's and max_pool2d's `layout` ("nchw" when absent).
inline Expected<shapes::Layout2D> layoutOf(const OpAttrs &a) {
  std::string_view name = a.getString("layout", "nchw");
  if (auto layout = shapes::parseLayout2D(name))
    return *layout;
  return invalidArgument("layout must be \"nchw\" or \"nhwc\", got \"", name,
                         "\"");
}

/// `kernel`, a kernel over NCHW activations, applied to `x` in `layout`.
/// For NHWC it runs between two transposes: the correct, slow path that
/// unprepared runs and the reference take (the prepared NHWC calls of
/// cpu/PreparedCall.h are the fast one).
template <typename Kernel>
Expected<Tensor> inLayout(const Expected<shapes::Layout2D> &layout,
                          const Tensor &x, const char *op, Kernel kernel) {
  if (!layout)
    return layout.status();
  if (*layout == shapes::Layout2D::NCHW)
    return kernel(x);
  if (x.rank() != 4)
    return invalidArgument("op '", op, "': NHWC input must have rank 4, got ",
                           shapes::toString(x.shape()));
  static constexpr int64_t toNchw[] = {0, 3, 1, 2}, toNhwc[] = {0, 2, 3, 1};
  KILN_ASSIGN_OR_RETURN(Tensor nchw, x.permute(toNchw));
  KILN_ASSIGN_OR_RETURN(nchw, nchw.contiguous());
  Expected<Tensor> y = kernel(nchw);
  if (!y)
    return y;
  KILN_ASSIGN_OR_RETURN(Tensor nhwc, y->permute(toNhwc));
  return nhwc.contiguous();
}

} // namespace kiln::adapters

#endif // KILN_RUNTIME_MODULE_KERNELADAPTERS_H
