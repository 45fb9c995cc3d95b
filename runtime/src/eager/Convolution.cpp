//===- Convolution.cpp - conv2d and conv_transpose2d -----------------------===//
//
// conv2d: im2col per image and group, then one GEMM through kiln::matmul
// (so the per-shape OpenBLAS/oneDNN choice applies). conv_transpose2d is its
// adjoint: one GEMM W^T * x per image and group, then col2im scatter-adds
// the columns into the output. Bias is added per output channel. f16/bf16
// compute in f32. (A oneDNN convolution primitive with blocked layouts is
// faster per DESIGN.md; it slots in here behind the same checks.)
//
//===----------------------------------------------------------------------===//
#include "kiln/NNOps.h"

#include "../cpu/DnnlConv.h"
#include "EagerUtil.h"
#include "kiln/ThreadPool.h"

#include <atomic>
#include <cstring>

namespace kiln {

namespace {

struct ConvGeometry {
  int64_t n, c, h, w, f, kh, kw, oh, ow, groups;
};

DType computeTypeOf(DType t) { return t == DType::F64 ? DType::F64 : DType::F32; }

/// t converted to `dtype` and contiguous, copying only when needed.
Expected<Tensor> asContiguous(const Tensor &t, DType dtype) {
  return t.dtype() == dtype ? t.contiguous() : t.to(dtype);
}

Status checkConvOperands(const char *op, const Tensor &x, const Tensor &w,
                         const Tensor &bias) {
  KILN_RETURN_IF_ERROR(eager::checkInputs(op, {&x, &w}));
  if (!isFloat(x.dtype()))
    return invalidArgument("op '", op, "': input has dtype ",
                           dtypeName(x.dtype()), ", expected a float dtype");
  if (w.dtype() != x.dtype())
    return invalidArgument("op '", op, "': weight dtype ", dtypeName(w.dtype()),
                           " differs from input dtype ", dtypeName(x.dtype()));
  if (bias.defined()) {
    KILN_RETURN_IF_ERROR(eager::checkInputs(op, {&x, &bias}));
    if (bias.dtype() != x.dtype())
      return invalidArgument("op '", op, "': bias dtype differs from input");
  }
  return Status();
}

/// Window with the kernel taken from the weight's spatial dims.
Window2D withKernel(Window2D win, const Tensor &w) {
  if (w.rank() == 4)
    win.kernel = {w.shape()[2], w.shape()[3]};
  return win;
}

Status addBias(Tensor &out, const Tensor &bias, const char *op) {
  if (!bias.defined())
    return Status();
  int64_t f = out.shape()[1];
  if (bias.shape() != Shape{f})
    return invalidArgument("op '", op, "': bias has shape ",
                           shapes::toString(bias.shape()), ", expected [", f, "]");
  KILN_ASSIGN_OR_RETURN(Tensor b, bias.reshape({1, f, 1, 1}));
  KILN_ASSIGN_OR_RETURN(Tensor bc, b.to(out.dtype()));
  KILN_ASSIGN_OR_RETURN(Tensor sum, add(out, bc));
  out = std::move(sum);
  return Status();
}

/// cols[(ci, ky, kx), (oy, ox)] for channels [c0, c0 + cg) of one image.
template <typename C>
void im2col(const C *img, int64_t c0, int64_t cg, const ConvGeometry &g,
            const Window2D &win, C *cols) {
  int64_t spatial = g.oh * g.ow;
  ThreadPool::global().parallelFor(0, cg * g.kh * g.kw, 4, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      int64_t ci = row / (g.kh * g.kw), ky = (row / g.kw) % g.kh, kx = row % g.kw;
      const C *plane = img + (c0 + ci) * g.h * g.w;
      C *dst = cols + row * spatial;
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        int64_t y = oy * win.strides[0] - win.pads[0] + ky * win.dilations[0];
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          int64_t x = ox * win.strides[1] - win.pads[1] + kx * win.dilations[1];
          dst[oy * g.ow + ox] =
              (y < 0 || y >= g.h || x < 0 || x >= g.w) ? C(0) : plane[y * g.w + x];
        }
      }
    }
  });
}

/// The adjoint of im2col: out[c0 + ci] += cols scattered back.
template <typename C>
void col2im(const C *cols, int64_t c0, int64_t cg, const ConvGeometry &g,
            const Window2D &win, C *img) {
  // Here (h, w) is the small input grid and (oh, ow) the large output.
  ThreadPool::global().parallelFor(0, cg, 1, [&](int64_t b, int64_t e) {
    for (int64_t ci = b; ci < e; ++ci) {
      C *plane = img + (c0 + ci) * g.oh * g.ow;
      for (int64_t ky = 0; ky < g.kh; ++ky)
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const C *src = cols + ((ci * g.kh + ky) * g.kw + kx) * g.h * g.w;
          for (int64_t y = 0; y < g.h; ++y) {
            int64_t oy = y * win.strides[0] - win.pads[0] + ky * win.dilations[0];
            if (oy < 0 || oy >= g.oh)
              continue;
            for (int64_t x = 0; x < g.w; ++x) {
              int64_t ox = x * win.strides[1] - win.pads[1] + kx * win.dilations[1];
              if (ox >= 0 && ox < g.ow)
                plane[oy * g.ow + ox] += src[y * g.w + x];
            }
          }
        }
    }
  });
}

} // namespace

namespace {
std::atomic<bool> dnnlConvEnabled{true};
bool useDnnlConv() { return dnnlConvEnabled.load(); }
} // namespace

Status setConvBackend(ConvBackend backend) {
  if (backend == ConvBackend::OneDnn && !cpu::haveDnnlConv())
    return unavailable("oneDNN is not linked into this runtime");
  dnnlConvEnabled.store(backend != ConvBackend::Im2colGemm);
  return Status();
}

Expected<Tensor> conv2d(const Tensor &input, const Tensor &weight,
                        const Tensor &bias, const Window2D &winIn,
                        int64_t groups) {
  KILN_RETURN_IF_ERROR(checkConvOperands("conv2d", input, weight, bias));
  Window2D win = withKernel(winIn, weight);
  if (auto err = shapes::checkWindow(win))
    return invalidArgument("op 'conv2d': ", *err);
  auto shape = shapes::conv2d(input.shape(), weight.shape(), win, groups);
  if (!shape)
    return invalidArgument("op 'conv2d': ", shape.message());
  ConvGeometry g{input.shape()[0], input.shape()[1], input.shape()[2],
                 input.shape()[3], weight.shape()[0], win.kernel[0],
                 win.kernel[1], (*shape)[2], (*shape)[3], groups};
  DType ct = computeTypeOf(input.dtype());
  KILN_ASSIGN_OR_RETURN(Tensor x, asContiguous(input, ct));
  KILN_ASSIGN_OR_RETURN(Tensor w, asContiguous(weight, ct));
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::zeros(*shape, ct));
  if (ct == DType::F32 && cpu::haveDnnlConv() && out.numel() > 0 &&
      useDnnlConv()) {
    Tensor b32;
    if (bias.defined()) {
      if (bias.shape() != Shape{g.f})
        return invalidArgument("op 'conv2d': bias has shape ",
                               shapes::toString(bias.shape()), ", expected [",
                               g.f, "]");
      KILN_ASSIGN_OR_RETURN(b32, bias.to(DType::F32));
    }
    KILN_RETURN_IF_ERROR(cpu::dnnlConv2d(x, w, b32, win, groups, out));
    return input.dtype() == ct ? Expected<Tensor>(out) : out.to(input.dtype());
  }
  int64_t cg = g.c / groups, fg = g.f / groups, k = cg * g.kh * g.kw;
  int64_t spatial = g.oh * g.ow;
  if (out.numel() > 0 && k > 0) {
    KILN_ASSIGN_OR_RETURN(Tensor cols, Tensor::empty({k, spatial}, ct));
    KILN_ASSIGN_OR_RETURN(Tensor w2, w.reshape({groups, fg, k}));
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t gi = 0; gi < groups; ++gi) {
        if (ct == DType::F64)
          im2col(x.data<double>() + n * g.c * g.h * g.w, gi * cg, cg, g, win,
                 cols.data<double>());
        else
          im2col(x.data<float>() + n * g.c * g.h * g.w, gi * cg, cg, g, win,
                 cols.data<float>());
        KILN_ASSIGN_OR_RETURN(Tensor wg, w2.select(0, gi));
        KILN_ASSIGN_OR_RETURN(Tensor prod, matmul(wg, cols));
        KILN_ASSIGN_OR_RETURN(Tensor on, out.select(0, n));
        KILN_ASSIGN_OR_RETURN(Tensor dst, on.slice(0, gi * fg, (gi + 1) * fg));
        KILN_ASSIGN_OR_RETURN(Tensor dst2, dst.reshape({fg, spatial}));
        KILN_RETURN_IF_ERROR(dst2.copyFrom(prod));
      }
  }
  KILN_RETURN_IF_ERROR(addBias(out, bias, "conv2d"));
  return out.to(input.dtype());
}

Expected<Tensor> convTranspose2d(const Tensor &input, const Tensor &weight,
                                 const Tensor &bias, const Window2D &winIn,
                                 std::span<const int64_t> outputPadding,
                                 int64_t groups) {
  KILN_RETURN_IF_ERROR(checkConvOperands("conv_transpose2d", input, weight, bias));
  Window2D win = withKernel(winIn, weight);
  if (auto err = shapes::checkWindow(win))
    return invalidArgument("op 'conv_transpose2d': ", *err);
  auto shape = shapes::convTranspose2d(input.shape(), weight.shape(), win,
                                       groups, outputPadding);
  if (!shape)
    return invalidArgument("op 'conv_transpose2d': ", shape.message());
  // weight [C, F/groups, kH, kW]; output [N, F, oH, oW].
  int64_t c = input.shape()[1], fg = weight.shape()[1];
  ConvGeometry g{input.shape()[0], c, input.shape()[2], input.shape()[3],
                 fg * groups, win.kernel[0], win.kernel[1], (*shape)[2],
                 (*shape)[3], groups};
  DType ct = computeTypeOf(input.dtype());
  KILN_ASSIGN_OR_RETURN(Tensor x, asContiguous(input, ct));
  KILN_ASSIGN_OR_RETURN(Tensor w, asContiguous(weight, ct));
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::zeros(*shape, ct));
  int64_t cg = c / groups, k = fg * g.kh * g.kw, spatial = g.h * g.w;
  if (out.numel() > 0 && cg > 0 && spatial > 0) {
    // Per group: cols[k, spatial] = W_g^T [k, cg] * x_g [cg, spatial].
    KILN_ASSIGN_OR_RETURN(Tensor w2, w.reshape({groups, cg, k}));
    KILN_ASSIGN_OR_RETURN(Tensor x3, x.reshape({g.n, groups, cg, spatial}));
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t gi = 0; gi < groups; ++gi) {
        KILN_ASSIGN_OR_RETURN(Tensor wg, w2.select(0, gi));
        KILN_ASSIGN_OR_RETURN(Tensor xn, x3.select(0, n));
        KILN_ASSIGN_OR_RETURN(Tensor xg, xn.select(0, gi));
        KILN_ASSIGN_OR_RETURN(Tensor cols, matmul(wg, xg, /*transposeA=*/true));
        if (ct == DType::F64)
          col2im(cols.data<double>(), gi * fg, fg, g, win,
                 out.data<double>() + n * g.f * g.oh * g.ow);
        else
          col2im(cols.data<float>(), gi * fg, fg, g, win,
                 out.data<float>() + n * g.f * g.oh * g.ow);
      }
  }
  KILN_RETURN_IF_ERROR(addBias(out, bias, "conv_transpose2d"));
  return out.to(input.dtype());
}

} // namespace kiln
