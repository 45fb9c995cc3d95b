//===- DepthwiseConv.h - Direct NCHW f32 depthwise convolution ------------===//
//
// Internal. oneDNN's depthwise kernel (brdgmm_dw) wants channels blocked by
// 16, so each call reorders the activations NCHW -> blocked and back: for
// MobileNetV2 at batch 1 its 17 depthwise layers took ~5 ms a run, most of
// it reorders around ~10 M multiply-adds. A depthwise layer touches each
// input plane with its own k x k filter only, so NCHW is a natural layout:
// this kernel walks one plane at a time (a zero-bordered copy of it, which
// stays in L1/L2), 16 output columns a vector, several vectors and two
// output rows at once for independent accumulators; horizontal stride 2
// picks the even lanes of two loads with one permute. Planes (N * C) are
// spread over Kiln's pool.
//
// Covers groups == C_in == C_out (one filter a channel), square 3x3 or 5x5
// kernels, strides 1 or 2 (both ways alike), dilation 1, any padding that
// keeps the window inside the bordered copy, optional bias, activation
// none, relu or relu6 (ClampActivation.h). One more candidate in
// prepareConv2d's load-time timing.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_DEPTHWISECONV_H
#define KILN_RUNTIME_CPU_DEPTHWISECONV_H

#include "PreparedCall.h"

namespace kiln::cpu {

/// The depthwise convolution of conv2d(x, w, groups) + bias, then
/// `activation`, for the shapes given (as prepareConv2d's); nullptr when it
/// does not cover them or the CPU lacks AVX-512F.
Expected<std::unique_ptr<PreparedCall>>
prepareDepthwiseConv2d(const Shape &inputShape, const Tensor &w,
                       const Tensor &bias, const Window2D &win, int64_t groups,
                       const Shape &outputShape, std::string_view activation);

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_DEPTHWISECONV_H
