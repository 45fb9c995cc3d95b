//===- ConvolutionKernels.h - im2col/col2im and convolution backward -------===//
//
// Shared by the forward ops (Convolution.cpp) and their gradients
// (ConvolutionBackward.cpp). Column buffers are [(ci, ky, kx), columns] with
// a leading dimension `ld`, so the backward passes can lay several images
// side by side and run one larger GEMM per group.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_EAGER_CONVOLUTIONKERNELS_H
#define KILN_RUNTIME_EAGER_CONVOLUTIONKERNELS_H

#include "kiln/NNOps.h"
#include "kiln/ThreadPool.h"

namespace kiln::eager {

/// One convolution's sizes: input [n, c, h, w], output [n, f, oh, ow],
/// kernel kh x kw.
struct ConvGeometry {
  int64_t n, c, h, w, f, kh, kw, oh, ow, groups;
};

/// f64 stays f64; every other float type computes in f32.
inline DType convComputeType(DType t) {
  return t == DType::F64 ? DType::F64 : DType::F32;
}

/// cols[(ci, ky, kx), col0 + (oy, ox)] (row stride ld) for channels
/// [c0, c0 + cg) of one image [c, h, w]; out-of-image taps are 0.
template <typename C>
void im2col(const C *img, int64_t c0, int64_t cg, const ConvGeometry &g,
            const Window2D &win, C *cols, int64_t ld, int64_t col0) {
  ThreadPool::global().parallelFor(0, cg * g.kh * g.kw, 4, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      int64_t ci = row / (g.kh * g.kw), ky = (row / g.kw) % g.kh, kx = row % g.kw;
      const C *plane = img + (c0 + ci) * g.h * g.w;
      C *dst = cols + row * ld + col0;
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        int64_t y = oy * win.strides[0] - win.pads[0] + ky * win.dilations[0];
        C *d = dst + oy * g.ow;
        if (y < 0 || y >= g.h) {
          for (int64_t ox = 0; ox < g.ow; ++ox)
            d[ox] = C(0);
          continue;
        }
        const C *src = plane + y * g.w;
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          int64_t x = ox * win.strides[1] - win.pads[1] + kx * win.dilations[1];
          d[ox] = (x < 0 || x >= g.w) ? C(0) : src[x];
        }
      }
    }
  });
}

/// The adjoint of im2col: img[c0 + ci] += cols scattered back. Here (h, w)
/// is the grid of the columns (the small one) and (oh, ow) the image's.
template <typename C>
void col2im(const C *cols, int64_t c0, int64_t cg, const ConvGeometry &g,
            const Window2D &win, C *img, int64_t ld, int64_t col0) {
  ThreadPool::global().parallelFor(0, cg, 1, [&](int64_t b, int64_t e) {
    for (int64_t ci = b; ci < e; ++ci) {
      C *plane = img + (c0 + ci) * g.oh * g.ow;
      for (int64_t ky = 0; ky < g.kh; ++ky)
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const C *src = cols + ((ci * g.kh + ky) * g.kw + kx) * ld + col0;
          for (int64_t y = 0; y < g.h; ++y) {
            int64_t oy = y * win.strides[0] - win.pads[0] + ky * win.dilations[0];
            if (oy < 0 || oy >= g.oh)
              continue;
            C *dstRow = plane + oy * g.ow;
            const C *srcRow = src + y * g.w;
            for (int64_t x = 0; x < g.w; ++x) {
              int64_t ox = x * win.strides[1] - win.pads[1] + kx * win.dilations[1];
              if (ox >= 0 && ox < g.ow)
                dstRow[ox] += srcRow[x];
            }
          }
        }
    }
  });
}

/// d(conv2d)/d(input): gradOut [N, F, oH, oW] and weight [F, C/groups, kH,
/// kW] (kernel taken from the weight) -> [N, C, H, W] of `inputShape`, in
/// gradOut's dtype. Also the forward of conv_transpose2d (its adjoint).
Expected<Tensor> conv2dBackwardInput(const Tensor &gradOut, const Tensor &weight,
                                     const Window2D &win, int64_t groups,
                                     const Shape &inputShape);

/// d(conv2d)/d(weight): input [N, C, H, W] and gradOut [N, F, oH, oW] ->
/// [F, C/groups, kH, kW] of `weightShape`, in input's dtype.
Expected<Tensor> conv2dBackwardWeight(const Tensor &input, const Tensor &gradOut,
                                      const Window2D &win, int64_t groups,
                                      const Shape &weightShape);

/// d/d(bias) of a convolution: gradOut summed over every dim but 1.
Expected<Tensor> convBackwardBias(const Tensor &gradOut);

} // namespace kiln::eager

#endif // KILN_RUNTIME_EAGER_CONVOLUTIONKERNELS_H
