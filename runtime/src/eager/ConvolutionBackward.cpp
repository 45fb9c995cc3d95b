//===- ConvolutionBackward.cpp - Gradients of conv2d -----------------------===//
//
// Both gradients are GEMMs on im2col buffers, per group, over chunks of
// images laid side by side in the columns (so late layers with small
// spatial sizes still get long GEMMs, and the weight gradient is summed
// inside the GEMM instead of image by image):
//   d input : cols[k, nc*S] = W_g^T [k, fg] * dY_g [fg, nc*S]; col2im
//   d weight: dW_g [fg, k] += dY_g [fg, nc*S] * im2col(X_g)[k, nc*S]^T
// where k = (C/groups) * kH * kW and S = oH * oW. The input gradient is the
// forward of conv_transpose2d, which uses it as such. With stride 1 the
// input gradient is rather a forward conv2d with the flipped weight (see
// backwardInputAsConv), which takes oneDNN's JIT kernels for f32; and the
// f32 weight gradient is oneDNN's backward-weights primitive when linked.
//
//===----------------------------------------------------------------------===//
#include "ConvolutionKernels.h"

#include <algorithm>
#include <cstring>

#if KILN_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace kiln::eager {

namespace {

/// Images per GEMM: as many as keep one column buffer near 16 MiB.
int64_t imagesPerChunk(int64_t n, int64_t k, int64_t spatial, size_t elemSize) {
  const int64_t budget = int64_t(16 << 20) / int64_t(elemSize);
  int64_t per = std::max<int64_t>(1, k * spatial);
  return std::clamp<int64_t>(budget / per, 1, std::max<int64_t>(n, 1));
}

Expected<Tensor> asContiguous(const Tensor &t, DType dtype) {
  return t.dtype() == dtype ? t.contiguous() : t.to(dtype);
}

/// dst[j, i * S + s] = gy[n0 + i, c0 + j, s]: rows [c0, c0 + rows) of
/// images [n0, n0 + nc) side by side.
template <typename C>
void gatherChannelRows(const C *gy, int64_t channels, int64_t c0, int64_t rows,
                       int64_t spatial, int64_t n0, int64_t nc, C *dst) {
  ThreadPool::global().parallelFor(0, rows, 8, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j)
      for (int64_t i = 0; i < nc; ++i)
        std::memcpy(dst + j * nc * spatial + i * spatial,
                    gy + ((n0 + i) * channels + c0 + j) * spatial,
                    size_t(spatial) * sizeof(C));
  });
}

/// Rows of group gi for images [n0, n0 + nc) as a [rows, nc * S] matrix; a
/// view without copying when that is already the layout.
template <typename C>
Expected<Tensor> groupRows(const Tensor &t, int64_t gi, int64_t rows,
                           int64_t n0, int64_t nc) {
  int64_t channels = t.shape()[1], spatial = t.shape()[2] * t.shape()[3];
  if (nc == 1) {
    KILN_ASSIGN_OR_RETURN(Tensor img, t.select(0, n0));
    KILN_ASSIGN_OR_RETURN(Tensor part, img.slice(0, gi * rows, (gi + 1) * rows));
    return part.reshape({rows, spatial});
  }
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty({rows, nc * spatial}, t.dtype()));
  gatherChannelRows(t.data<C>(), channels, gi * rows, rows, spatial, n0, nc,
                    out.data<C>());
  return out;
}

template <typename C>
Status backwardInput(const Tensor &gy, const Tensor &w, const Window2D &win,
                     int64_t groups, Tensor &dx) {
  int64_t n = dx.shape()[0], c = dx.shape()[1], h = dx.shape()[2],
          wd = dx.shape()[3];
  int64_t f = gy.shape()[1], oh = gy.shape()[2], ow = gy.shape()[3];
  int64_t kh = w.shape()[2], kw = w.shape()[3];
  int64_t cg = c / groups, fg = f / groups, k = cg * kh * kw, spatial = oh * ow;
  // col2im's view: columns on the output grid, the image on the input grid.
  ConvGeometry geo{n, c, oh, ow, f, kh, kw, h, wd, groups};
  KILN_ASSIGN_OR_RETURN(Tensor w2, w.reshape({groups, fg, k}));
  int64_t chunk = imagesPerChunk(n, k, spatial, sizeof(C));
  for (int64_t n0 = 0; n0 < n; n0 += chunk) {
    int64_t nc = std::min(chunk, n - n0);
    for (int64_t gi = 0; gi < groups; ++gi) {
      KILN_ASSIGN_OR_RETURN(Tensor rows, groupRows<C>(gy, gi, fg, n0, nc));
      KILN_ASSIGN_OR_RETURN(Tensor wg, w2.select(0, gi));
      KILN_ASSIGN_OR_RETURN(Tensor cols, matmul(wg, rows, /*transposeA=*/true));
      for (int64_t i = 0; i < nc; ++i)
        col2im(cols.data<C>(), gi * cg, cg, geo, win,
               dx.data<C>() + (n0 + i) * c * h * wd, nc * spatial, i * spatial);
    }
  }
  return Status();
}

template <typename C>
Status backwardWeight(const Tensor &x, const Tensor &gy, const Window2D &win,
                      int64_t groups, int64_t kh, int64_t kw, Tensor &dw) {
  int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], wd = x.shape()[3];
  int64_t f = gy.shape()[1], oh = gy.shape()[2], ow = gy.shape()[3];
  int64_t cg = c / groups, fg = f / groups, k = cg * kh * kw, spatial = oh * ow;
  ConvGeometry geo{n, c, h, wd, f, kh, kw, oh, ow, groups};
  int64_t chunk = imagesPerChunk(n, k, spatial, sizeof(C));
  C *acc = dw.data<C>(); // [groups, fg, k], zeroed
  for (int64_t n0 = 0; n0 < n; n0 += chunk) {
    int64_t nc = std::min(chunk, n - n0);
    KILN_ASSIGN_OR_RETURN(Tensor cols, Tensor::empty({k, nc * spatial}, dw.dtype()));
    for (int64_t gi = 0; gi < groups; ++gi) {
      for (int64_t i = 0; i < nc; ++i)
        im2col(x.data<C>() + (n0 + i) * c * h * wd, gi * cg, cg, geo, win,
               cols.data<C>(), nc * spatial, i * spatial);
      KILN_ASSIGN_OR_RETURN(Tensor rows, groupRows<C>(gy, gi, fg, n0, nc));
      KILN_ASSIGN_OR_RETURN(Tensor part,
                            matmul(rows, cols, false, /*transposeB=*/true));
      const C *p = part.data<C>();
      C *dst = acc + gi * fg * k;
      for (int64_t i = 0; i < fg * k; ++i)
        dst[i] += p[i];
    }
  }
  return Status();
}

} // namespace

namespace {

/// For stride 1 the input gradient is itself a convolution: of gradOut,
/// padded by d (k - 1) - p, with the weight flipped in space and its two
/// channel dims swapped per group. That runs on conv2d's fastest path
/// (oneDNN for f32). Undefined when the padding would be negative.
Expected<Tensor> backwardInputAsConv(const Tensor &gradOut, const Tensor &weight,
                                     const Window2D &win, int64_t groups,
                                     const Shape &inputShape) {
  int64_t f = weight.shape()[0], cg = weight.shape()[1];
  int64_t kh = weight.shape()[2], kw = weight.shape()[3], fg = f / groups;
  Window2D flipped = win;
  int64_t spanH = win.dilations[0] * (kh - 1), spanW = win.dilations[1] * (kw - 1);
  // Rows the result must have beyond the plain adjoint's (output padding
  // of conv_transpose2d) become extra bottom/right padding.
  int64_t extraH = inputShape[2] - (gradOut.shape()[2] + spanH - win.pads[0] -
                                    win.pads[2]);
  int64_t extraW = inputShape[3] - (gradOut.shape()[3] + spanW - win.pads[1] -
                                    win.pads[3]);
  flipped.pads = {spanH - win.pads[0], spanW - win.pads[1],
                  spanH - win.pads[2] + extraH, spanW - win.pads[3] + extraW};
  flipped.ceilMode = false;
  for (int64_t p : flipped.pads)
    if (p < 0)
      return Tensor();
  // [F, cg, kh, kw] -> [groups, fg, cg, kh, kw] -> [groups, cg, fg, kh, kw],
  // reversed in kh and kw -> [C, fg, kh, kw].
  KILN_ASSIGN_OR_RETURN(Tensor w5, weight.reshape({groups, fg, cg, kh, kw}));
  KILN_ASSIGN_OR_RETURN(Tensor swapped, w5.permute({0, 2, 1, 3, 4}));
  KILN_ASSIGN_OR_RETURN(Tensor flipH, swapped.slice(3, kh - 1, -kh - 1, -1));
  KILN_ASSIGN_OR_RETURN(Tensor flipHW, flipH.slice(4, kw - 1, -kw - 1, -1));
  KILN_ASSIGN_OR_RETURN(Tensor w2, flipHW.clone());
  KILN_ASSIGN_OR_RETURN(Tensor wt, w2.reshape({groups * cg, fg, kh, kw}));
  KILN_ASSIGN_OR_RETURN(Tensor dx, conv2d(gradOut, wt, Tensor(), flipped, groups));
  if (dx.shape() != inputShape)
    return internalError("conv2d backward: input gradient ",
                         shapes::toString(dx.shape()), " for an input ",
                         shapes::toString(inputShape));
  return dx;
}

} // namespace

Expected<Tensor> conv2dBackwardInput(const Tensor &gradOut, const Tensor &weight,
                                     const Window2D &win, int64_t groups,
                                     const Shape &inputShape) {
  if (win.strides[0] == 1 && win.strides[1] == 1 && gradOut.numel() > 0 &&
      weight.dtype() == gradOut.dtype()) {
    KILN_ASSIGN_OR_RETURN(Tensor dx, backwardInputAsConv(gradOut, weight, win,
                                                         groups, inputShape));
    if (dx.defined())
      return dx;
  }
  DType ct = convComputeType(gradOut.dtype());
  KILN_ASSIGN_OR_RETURN(Tensor gy, asContiguous(gradOut, ct));
  KILN_ASSIGN_OR_RETURN(Tensor w, asContiguous(weight, ct));
  KILN_ASSIGN_OR_RETURN(Tensor dx, Tensor::zeros(inputShape, ct));
  if (dx.numel() > 0 && gy.numel() > 0 && w.numel() > 0) {
    if (ct == DType::F64)
      KILN_RETURN_IF_ERROR(backwardInput<double>(gy, w, win, groups, dx));
    else
      KILN_RETURN_IF_ERROR(backwardInput<float>(gy, w, win, groups, dx));
  }
  if (dx.dtype() == gradOut.dtype())
    return dx;
  return dx.to(gradOut.dtype());
}

namespace {

#if KILN_HAVE_DNNL
/// oneDNN's weight gradient for f32 NCHW/OIHW tensors; undefined when
/// oneDNN refuses the geometry (the GEMM path then runs).
Expected<Tensor> dnnlBackwardWeight(const Tensor &x, const Tensor &gy,
                                    const Window2D &win, int64_t groups,
                                    const Shape &weightShape) {
  using dnnl::memory;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  static dnnl::engine *engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  static dnnl::stream *stream = new dnnl::stream(*engine); // leaked on purpose
  KILN_ASSIGN_OR_RETURN(Tensor dw, Tensor::empty(weightShape, DType::F32));
  try {
    memory::dims src(x.shape().begin(), x.shape().end());
    memory::dims dst(gy.shape().begin(), gy.shape().end());
    int64_t f = weightShape[0];
    memory::dims wei =
        groups == 1 ? memory::dims(weightShape.begin(), weightShape.end())
                    : memory::dims{groups, f / groups, weightShape[1],
                                   weightShape[2], weightShape[3]};
    tag weiTag = groups == 1 ? tag::oihw : tag::goihw;
    memory::dims strides = {win.strides[0], win.strides[1]};
    memory::dims dilates = {win.dilations[0] - 1, win.dilations[1] - 1};
    memory::dims padL = {win.pads[0], win.pads[1]};
    memory::dims padR = {win.pads[2], win.pads[3]};
    memory::desc srcAny(src, dt::f32, tag::any), weiAny(wei, dt::f32, tag::any),
        dstAny(dst, dt::f32, tag::any);
    dnnl::convolution_forward::desc fwd(
        dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
        srcAny, weiAny, dstAny, strides, dilates, padL, padR);
    dnnl::convolution_forward::primitive_desc fwdPd(fwd, *engine);
    dnnl::convolution_backward_weights::desc bwd(
        dnnl::algorithm::convolution_direct, srcAny, weiAny, memory::desc(),
        dstAny, strides, dilates, padL, padR);
    dnnl::convolution_backward_weights::primitive_desc pd(bwd, *engine, fwdPd);

    memory userSrc({src, dt::f32, tag::nchw}, *engine, x.rawData());
    memory userDst({dst, dt::f32, tag::nchw}, *engine, gy.rawData());
    memory userWei({wei, dt::f32, weiTag}, *engine, dw.rawData());
    auto toLayout = [&](memory user, const memory::desc &want) {
      if (want == user.get_desc())
        return user;
      memory m(want, *engine);
      dnnl::reorder(user, m).execute(*stream, user, m);
      return m;
    };
    memory srcMem = toLayout(userSrc, pd.src_desc());
    memory dstMem = toLayout(userDst, pd.diff_dst_desc());
    memory weiMem = pd.diff_weights_desc() == userWei.get_desc()
                        ? userWei
                        : memory(pd.diff_weights_desc(), *engine);
    dnnl::convolution_backward_weights(pd).execute(
        *stream, {{DNNL_ARG_SRC, srcMem},
                  {DNNL_ARG_DIFF_DST, dstMem},
                  {DNNL_ARG_DIFF_WEIGHTS, weiMem}});
    if (weiMem != userWei)
      dnnl::reorder(weiMem, userWei).execute(*stream, weiMem, userWei);
    stream->wait();
  } catch (const dnnl::error &) {
    return Tensor(); // unsupported here: the GEMM path runs instead
  } catch (const std::exception &e) {
    return internalError("conv2d backward: oneDNN failed: ", e.what());
  }
  return dw;
}
#endif

} // namespace

Expected<Tensor> conv2dBackwardWeight(const Tensor &input, const Tensor &gradOut,
                                      const Window2D &win, int64_t groups,
                                      const Shape &weightShape) {
#if KILN_HAVE_DNNL
  if (input.dtype() == DType::F32 && gradOut.dtype() == DType::F32 &&
      convUsesDnnl() && input.numel() > 0 && gradOut.numel() > 0) {
    KILN_ASSIGN_OR_RETURN(Tensor x, input.contiguous());
    KILN_ASSIGN_OR_RETURN(Tensor gy, gradOut.contiguous());
    Window2D floorWin = floorModeWindow(win, x.shape()[2], x.shape()[3],
                                        gy.shape()[2], gy.shape()[3]);
    KILN_ASSIGN_OR_RETURN(Tensor dw, dnnlBackwardWeight(x, gy, floorWin, groups,
                                                        weightShape));
    if (dw.defined())
      return dw;
  }
#endif
  DType ct = convComputeType(input.dtype());
  KILN_ASSIGN_OR_RETURN(Tensor x, asContiguous(input, ct));
  KILN_ASSIGN_OR_RETURN(Tensor gy, asContiguous(gradOut, ct));
  int64_t fg = weightShape[0] / groups;
  int64_t k = weightShape[1] * weightShape[2] * weightShape[3];
  KILN_ASSIGN_OR_RETURN(Tensor dw, Tensor::zeros({groups, fg, k}, ct));
  if (dw.numel() > 0 && gy.numel() > 0) {
    if (ct == DType::F64)
      KILN_RETURN_IF_ERROR(backwardWeight<double>(x, gy, win, groups,
                                                  weightShape[2], weightShape[3], dw));
    else
      KILN_RETURN_IF_ERROR(backwardWeight<float>(x, gy, win, groups,
                                                 weightShape[2], weightShape[3], dw));
  }
  KILN_ASSIGN_OR_RETURN(Tensor shaped, dw.reshape(weightShape));
  if (shaped.dtype() == input.dtype())
    return shaped;
  return shaped.to(input.dtype());
}

Expected<Tensor> convBackwardBias(const Tensor &gradOut) {
  if (gradOut.numel() == 0) // an empty batch (sum reads nothing, keep it so)
    return Tensor::zeros({gradOut.shape()[1]}, gradOut.dtype());
  std::vector<int64_t> axes = {0};
  for (int64_t d = 2; d < gradOut.rank(); ++d)
    axes.push_back(d);
  return sum(gradOut, axes);
}

} // namespace kiln::eager
