//===- DnnlConv.h - oneDNN convolution for f32 conv2d ----------------------===//
//
// Internal. DESIGN.md sends convolutions to oneDNN (136-150 GFLOP/s with
// its blocked layouts against ~84 for plain NCHW). The eager conv2d calls
// this for f32 and keeps im2col + GEMM as the fallback and for f64.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_DNNLCONV_H
#define KILN_RUNTIME_CPU_DNNLCONV_H

#include "kiln/NNOps.h"

namespace kiln::cpu {

/// True when this runtime has oneDNN.
bool haveDnnlConv();

/// out = conv2d(x, w) + bias, all f32 and contiguous, shapes already
/// checked; `bias` may be undefined. Status on a oneDNN error.
Status dnnlConv2d(const Tensor &x, const Tensor &w, const Tensor &bias,
                  const Window2D &win, int64_t groups, Tensor &out);

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_DNNLCONV_H
