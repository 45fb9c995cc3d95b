//===- DirectConv.h - Direct NCHW f32 convolution for few channels --------===//
//
// Internal. oneDNN's convolutions want channels in blocks of 16: a layer
// with one input channel (LeNet's first, 1 -> 6, 5x5) is padded to 16 in
// its blocked layout and its activations are reordered to it and back on
// every call, which cost 10x the arithmetic here (0.48 ms for 15 MFLOP at
// batch 64). This kernel computes NCHW directly: each output row of a block
// of up to 16 filters is held in AVX-512 registers (16 columns a vector, one
// or two vectors a row), and every input tap is loaded once and multiplied
// into all of the block's filters, whose weights were packed at preparation
// ([c][ky][kx][filter] per block). Padding is a zero border around a copy of
// each image's rows. Horizontal stride 1 or 2 (at 2 each tap takes the
// even lanes of two loads, one permute shared by the block's filters:
// MobileNetV2's first layer, 3 -> 32 at stride 2), any vertical stride,
// dilation and padding, groups 1, at most 16 input channels (where
// oneDNN's blocks are mostly padding), activation none, relu or relu6.
//
// It is one more candidate in prepareConv2d's load-time timing: used only
// where it measures faster than oneDNN's layouts for the layer.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_DIRECTCONV_H
#define KILN_RUNTIME_CPU_DIRECTCONV_H

#include "PreparedCall.h"

namespace kiln::cpu {

/// The direct convolution of conv2d(x, w) + bias, then `activation`, for
/// the shapes given (as prepareConv2d's); nullptr when it does not cover
/// them or the CPU lacks AVX-512F.
Expected<std::unique_ptr<PreparedCall>>
prepareDirectConv2d(const Shape &inputShape, const Tensor &w, const Tensor &bias,
                    const Window2D &win, int64_t groups, const Shape &outputShape,
                    std::string_view activation);

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_DIRECTCONV_H
