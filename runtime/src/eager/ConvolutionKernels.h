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

#include <algorithm>

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

/// The outputs o in [0, count) whose tap o * stride + offset lands inside
/// [0, size): [lo, hi), so the loops over them need no bounds checks.
inline void validTaps(int64_t offset, int64_t stride, int64_t size,
                      int64_t count, int64_t &lo, int64_t &hi) {
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = size - offset <= 0 ? 0 : (size - offset + stride - 1) / stride;
  hi = std::min(hi, count);
  lo = std::min(lo, hi);
}

/// cols[(ci, ky, kx), col0 + (oy, ox)] (row stride ld) for channels
/// [c0, c0 + cg) of one image [c, h, w]; out-of-image taps are 0.
template <typename C>
void im2col(const C *img, int64_t c0, int64_t cg, const ConvGeometry &g,
            const Window2D &win, C *cols, int64_t ld, int64_t col0) {
  const int64_t sH = win.strides[0], sW = win.strides[1];
  ThreadPool::global().parallelFor(0, cg * g.kh * g.kw, 4, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      int64_t ci = row / (g.kh * g.kw), ky = (row / g.kw) % g.kh, kx = row % g.kw;
      const C *plane = img + (c0 + ci) * g.h * g.w;
      C *dst = cols + row * ld + col0;
      int64_t xOff = kx * win.dilations[1] - win.pads[1], lo, hi;
      validTaps(xOff, sW, g.w, g.ow, lo, hi);
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        int64_t y = oy * sH - win.pads[0] + ky * win.dilations[0];
        C *d = dst + oy * g.ow;
        if (y < 0 || y >= g.h) {
          std::fill(d, d + g.ow, C(0));
          continue;
        }
        const C *src = plane + y * g.w;
        std::fill(d, d + lo, C(0));
        if (sW == 1)
          std::copy(src + lo + xOff, src + hi + xOff, d + lo);
        else
          for (int64_t ox = lo; ox < hi; ++ox)
            d[ox] = src[ox * sW + xOff];
        std::fill(d + hi, d + g.ow, C(0));
      }
    }
  });
}

/// The adjoint of im2col: img[c0 + ci] += cols scattered back. Here (h, w)
/// is the grid of the columns (the small one) and (oh, ow) the image's.
template <typename C>
void col2im(const C *cols, int64_t c0, int64_t cg, const ConvGeometry &g,
            const Window2D &win, C *img, int64_t ld, int64_t col0) {
  const int64_t sH = win.strides[0], sW = win.strides[1];
  ThreadPool::global().parallelFor(0, cg, 1, [&](int64_t b, int64_t e) {
    for (int64_t ci = b; ci < e; ++ci) {
      C *plane = img + (c0 + ci) * g.oh * g.ow;
      for (int64_t ky = 0; ky < g.kh; ++ky)
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const C *src = cols + ((ci * g.kh + ky) * g.kw + kx) * ld + col0;
          int64_t xOff = kx * win.dilations[1] - win.pads[1], lo, hi;
          validTaps(xOff, sW, g.ow, g.w, lo, hi);
          for (int64_t y = 0; y < g.h; ++y) {
            int64_t oy = y * sH - win.pads[0] + ky * win.dilations[0];
            if (oy < 0 || oy >= g.oh)
              continue;
            C *dstRow = plane + oy * g.ow;
            const C *srcRow = src + y * g.w;
            if (sW == 1)
              for (int64_t x = lo; x < hi; ++x)
                dstRow[x + xOff] += srcRow[x];
            else
              for (int64_t x = lo; x < hi; ++x)
                dstRow[x * sW + xOff] += srcRow[x];
          }
        }
    }
  });
}

/// The same window for a library without ceil mode (oneDNN): ceilMode off
/// and the bottom/right padding grown so that floor division gives
/// (oh, ow); the extra taps read zeros, as ceil mode's do. The kernel must
/// be set.
inline Window2D floorModeWindow(Window2D win, int64_t h, int64_t w, int64_t oh,
                                int64_t ow) {
  if (!win.ceilMode)
    return win;
  auto fit = [&](size_t i, int64_t size, int64_t out) {
    int64_t extent = win.dilations[i] * (win.kernel[i] - 1) + 1;
    int64_t floorOut =
        (size + win.pads[i] + win.pads[i + 2] - extent) / win.strides[i] + 1;
    if (floorOut != out)
      win.pads[i + 2] = (out - 1) * win.strides[i] + extent - size - win.pads[i];
  };
  fit(0, h, oh);
  fit(1, w, ow);
  win.ceilMode = false;
  return win;
}

/// True unless setConvBackend(Im2colGemm) turned oneDNN off (or it is not
/// linked): the gradients follow the forward's choice.
bool convUsesDnnl();

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
