//===- PointwiseConv.h - 1x1 f32 convolution as a GEMM in NCHW ------------===//
//
// Internal. A 1x1 convolution (stride 1, no padding, groups 1) is in NCHW
// a matrix product per image: y[n][F, H*W] = W[F, C] x[n][C, H*W]. oneDNN
// runs it either in its blocked layout (two activation reorders a call,
// which for MobileNetV2's 1x1 layers cost as much as the arithmetic) or as
// its NCHW gemm convolution; its matmul, given W as the left operand and
// the bias along rows, falls back to its reference kernel (thousands of
// times slower). This kernel is the product itself on the NCHW buffers:
// a panel of 64 pixels (four AVX-512 vectors) of one image against a
// block of up to 6 filters, 24 accumulators in registers, each input row
// of the panel loaded once per block and each weight broadcast from a
// copy packed at load ([block][c][filter]). The panel stays in L1/L2
// while every filter block passes over it. Panels of all images (and,
// where there are few, groups of a panel's filter blocks) are spread over
// Kiln's pool.
//
// Optional bias, activation none, relu or relu6 (ClampActivation.h). One
// more candidate in prepareConv2d's load-time timing.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_POINTWISECONV_H
#define KILN_RUNTIME_CPU_POINTWISECONV_H

#include "PreparedCall.h"

namespace kiln::cpu {

/// The 1x1 convolution conv2d(x, w) + bias, then `activation`, for the
/// shapes given (as prepareConv2d's); nullptr when it does not cover them
/// or the CPU lacks AVX-512F.
Expected<std::unique_ptr<PreparedCall>>
preparePointwiseConv2d(const Shape &inputShape, const Tensor &w,
                       const Tensor &bias, const Window2D &win, int64_t groups,
                       const Shape &outputShape, std::string_view activation);

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_POINTWISECONV_H
