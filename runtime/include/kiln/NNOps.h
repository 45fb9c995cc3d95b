//===- NNOps.h - Eager neural-network and shape ops ------------------------===//
//
// The rest of the kiln dialect, op for op, with the dialect's attributes as
// arguments (KilnNNOps.td, KilnShapeOps.td, KilnSourceOps.td). Layouts are
// NCHW for activations and OIHW for convolution weights. Windows use
// kiln::shapes::Window2D (kernel {kH, kW}, strides, pads {top, left,
// bottom, right}, dilations, ceilMode). Every f16/bf16 op computes in f32
// and rounds once at the end.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_NNOPS_H
#define KILN_NNOPS_H

#include "kiln/Ops.h"
#include "kiln/Support/Shapes.h"
#include "kiln/Tensor.h"

#include <optional>
#include <string_view>
#include <vector>

namespace kiln {

using Window2D = shapes::Window2D;

/// A window with the dialect's defaults: strides 1, no padding, dilation 1.
Window2D makeWindow(int64_t kH, int64_t kW);

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// input [N, C, H, W], weight [F, C/groups, kH, kW], bias [F] or undefined.
/// `win.kernel` is ignored (taken from the weight).
Expected<Tensor> conv2d(const Tensor &input, const Tensor &weight,
                        const Tensor &bias, const Window2D &win,
                        int64_t groups = 1);
/// Which implementation runs f32 conv2d: oneDNN (Auto, when linked) or
/// im2col + GEMM (always available; f64 always uses it).
enum class ConvBackend : unsigned char { Auto, OneDnn, Im2colGemm };
Status setConvBackend(ConvBackend backend);

/// input [N, C, H, W], weight [C, F/groups, kH, kW] -> [N, F, oH, oW].
Expected<Tensor> convTranspose2d(const Tensor &input, const Tensor &weight,
                                 const Tensor &bias, const Window2D &win,
                                 std::span<const int64_t> outputPadding,
                                 int64_t groups = 1);
/// Padding never wins the max (it is -inf).
Expected<Tensor> maxPool2d(const Tensor &input, const Window2D &win);
/// countIncludePad: divide by the full window, else by its in-bounds part.
Expected<Tensor> avgPool2d(const Tensor &input, const Window2D &win,
                           bool countIncludePad = false);
/// Mean over every dim after the second: [N, C, d...] -> [N, C, 1...].
Expected<Tensor> globalAvgPool(const Tensor &input);

//===----------------------------------------------------------------------===//
// Normalization and activations over an axis
//===----------------------------------------------------------------------===//

Expected<Tensor> softmax(const Tensor &x, int64_t axis = -1);
Expected<Tensor> logSoftmax(const Tensor &x, int64_t axis = -1);
/// Normalizes over dims [axis, rank); scale (and bias, optional) have the
/// shape of those dims.
Expected<Tensor> layerNorm(const Tensor &x, const Tensor &scale,
                           const Tensor &bias, int64_t axis = -1,
                           double epsilon = 1e-5);
/// Inference form, channels on dim 1; the four operands have shape [C].
Expected<Tensor> batchNorm(const Tensor &x, const Tensor &scale,
                           const Tensor &bias, const Tensor &mean,
                           const Tensor &variance, double epsilon = 1e-5);
/// Keeps each element with probability 1 - ratio, scaled by 1 / (1 - ratio),
/// from a counter-based generator seeded by `seed`; identity when
/// !training.
Expected<Tensor> dropout(const Tensor &x, double ratio, bool training,
                         uint64_t seed);

//===----------------------------------------------------------------------===//
// Losses: reduction "mean" (default), "sum" or "none".
//===----------------------------------------------------------------------===//

/// logits [N, C], labels [N] (i64 or i32) in [0, C).
Expected<Tensor> crossEntropy(const Tensor &logits, const Tensor &labels,
                              std::string_view reduction = "mean");
Expected<Tensor> mse(const Tensor &input, const Tensor &target,
                     std::string_view reduction = "mean");
Expected<Tensor> bceWithLogits(const Tensor &logits, const Tensor &target,
                               std::string_view reduction = "mean");

//===----------------------------------------------------------------------===//
// Indexing and shape ops (results are new contiguous tensors)
//===----------------------------------------------------------------------===//

/// data[:axis] + indices.shape + data[axis+1:]; negative indices count from
/// the end; out-of-range indices are an OutOfRange status.
Expected<Tensor> gather(const Tensor &data, const Tensor &indices,
                        int64_t axis = 0);
/// One-hot of `depth` at `axis`; out-of-range indices give all-off.
Expected<Tensor> oneHot(const Tensor &indices, int64_t depth, int64_t axis,
                        double onValue, double offValue, DType dtype);
Expected<Tensor> reshape(const Tensor &x, const Shape &shape);
Expected<Tensor> transpose(const Tensor &x, std::span<const int64_t> permutation);
Expected<Tensor> broadcastTo(const Tensor &x, const Shape &shape);
Expected<Tensor> concat(const std::vector<Tensor> &inputs, int64_t axis);
/// Empty `steps`: all 1.
Expected<Tensor> slice(const Tensor &x, std::span<const int64_t> starts,
                       std::span<const int64_t> ends,
                       std::span<const int64_t> steps = {});
/// pads = {low_0, ..., low_{r-1}, high_0, ..., high_{r-1}}, >= 0.
Expected<Tensor> pad(const Tensor &x, std::span<const int64_t> pads,
                     double value = 0.0);
Expected<std::vector<Tensor>> split(const Tensor &x, int64_t axis,
                                    std::span<const int64_t> sizes);
Expected<Tensor> expandDims(const Tensor &x, std::span<const int64_t> axes);
Expected<Tensor> squeeze(const Tensor &x, std::span<const int64_t> axes = {});
/// start + step * index along `axis` of `shape`.
Expected<Tensor> iota(const Shape &shape, DType dtype, int64_t axis = 0,
                      double start = 0.0, double step = 1.0);

} // namespace kiln

#endif // KILN_NNOPS_H
