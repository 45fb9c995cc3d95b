//===- Convolution.cpp - conv2d and conv_transpose2d -----------------------===//
//
// conv2d: oneDNN for f32 when linked, else im2col per image and group and
// one GEMM through kiln::matmul (so the per-shape OpenBLAS/oneDNN choice
// applies). conv_transpose2d is its adjoint, i.e. conv2d's input gradient
// (ConvolutionBackward.cpp): GEMMs W^T * x, then col2im scatter-adds the
// columns into the output. Bias is added per output channel. f16/bf16
// compute in f32. Both ops record autograd nodes; each one's gradients are
// the other's forward plus the weight gradient.
//
//===----------------------------------------------------------------------===//
#include "kiln/NNOps.h"

#include "../autograd/Record.h"
#include "../cpu/DnnlConv.h"
#include "ConvolutionKernels.h"
#include "EagerUtil.h"

#include <atomic>
#include <cstring>

namespace kiln {

using eager::ConvGeometry;

namespace {

DType computeTypeOf(DType t) { return eager::convComputeType(t); }

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

} // namespace

namespace {
std::atomic<bool> dnnlConvEnabled{true};
bool useDnnlConv() { return dnnlConvEnabled.load(); }
} // namespace

bool eager::convUsesDnnl() { return cpu::haveDnnlConv() && useDnnlConv(); }

Status setConvBackend(ConvBackend backend) {
  if (backend == ConvBackend::OneDnn && !cpu::haveDnnlConv())
    return unavailable("oneDNN is not linked into this runtime");
  dnnlConvEnabled.store(backend != ConvBackend::Im2colGemm);
  return Status();
}

namespace {

Expected<Tensor> conv2dForward(const Tensor &input, const Tensor &weight,
                               const Tensor &bias, const Window2D &win,
                               const Shape &shape, int64_t groups) {
  ConvGeometry g{input.shape()[0], input.shape()[1], input.shape()[2],
                 input.shape()[3], weight.shape()[0], win.kernel[0],
                 win.kernel[1], shape[2], shape[3], groups};
  DType ct = computeTypeOf(input.dtype());
  KILN_ASSIGN_OR_RETURN(Tensor x, asContiguous(input, ct));
  KILN_ASSIGN_OR_RETURN(Tensor w, asContiguous(weight, ct));
  const bool viaDnnl = ct == DType::F32 && cpu::haveDnnlConv() &&
                      shapes::numElements(shape).value_or(0) > 0 && useDnnlConv();
  // oneDNN writes every output element; zero-filling first cost 6 % of
  // MobileNetV2 in eager mode.
  KILN_ASSIGN_OR_RETURN(Tensor out, viaDnnl ? Tensor::empty(shape, ct)
                                            : Tensor::zeros(shape, ct));
  if (viaDnnl) {
    Tensor b32;
    if (bias.defined()) {
      if (bias.shape() != Shape{g.f})
        return invalidArgument("op 'conv2d': bias has shape ",
                               shapes::toString(bias.shape()), ", expected [",
                               g.f, "]");
      KILN_ASSIGN_OR_RETURN(b32, bias.to(DType::F32));
    }
    KILN_RETURN_IF_ERROR(cpu::dnnlConv2d(
        x, w, b32, eager::floorModeWindow(win, g.h, g.w, g.oh, g.ow), groups, out));
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
          eager::im2col(x.data<double>() + n * g.c * g.h * g.w, gi * cg, cg, g,
                        win, cols.data<double>(), spatial, 0);
        else
          eager::im2col(x.data<float>() + n * g.c * g.h * g.w, gi * cg, cg, g,
                        win, cols.data<float>(), spatial, 0);
        KILN_ASSIGN_OR_RETURN(Tensor wg, w2.select(0, gi));
        KILN_ASSIGN_OR_RETURN(Tensor prod, matmul(wg, cols));
        KILN_ASSIGN_OR_RETURN(Tensor on, out.select(0, n));
        KILN_ASSIGN_OR_RETURN(Tensor dst, on.slice(0, gi * fg, (gi + 1) * fg));
        KILN_ASSIGN_OR_RETURN(Tensor dst2, dst.reshape({fg, spatial}));
        KILN_RETURN_IF_ERROR(dst2.copyFrom(prod));
      }
  }
  KILN_RETURN_IF_ERROR(addBias(out, bias, "conv2d"));
  return out.dtype() == input.dtype() ? Expected<Tensor>(out)
                                      : out.to(input.dtype());
}

/// Which of (input, weight, bias) need a gradient, fixed when recording.
struct ConvNeeds {
  bool input, weight, bias;
};
ConvNeeds convNeeds(const Tensor &x, const Tensor &w, const Tensor &b) {
  return {x.requiresGrad(), w.requiresGrad(), b.defined() && b.requiresGrad()};
}

} // namespace

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
  return autograd::differentiable(
      "conv2d", {input, weight, bias},
      [&] { return conv2dForward(input, weight, bias, win, *shape, groups); },
      [&] {
        ConvNeeds needs = convNeeds(input, weight, bias);
        return autograd::BackwardFn(
            [x = input.detach(), w = weight.detach(), needs, win,
             groups](const Tensor &gy, const Tensor &) -> Expected<std::vector<Tensor>> {
              std::vector<Tensor> grads(3);
              if (needs.input) {
                KILN_ASSIGN_OR_RETURN(grads[0], eager::conv2dBackwardInput(
                                                    gy, w, win, groups, x.shape()));
              }
              if (needs.weight) {
                KILN_ASSIGN_OR_RETURN(grads[1], eager::conv2dBackwardWeight(
                                                    x, gy, win, groups, w.shape()));
              }
              if (needs.bias) {
                KILN_ASSIGN_OR_RETURN(grads[2], eager::convBackwardBias(gy));
              }
              return grads;
            });
      });
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
  // The adjoint of conv2d with input [N, F, oH, oW], weight [C, F/groups,
  // kH, kW] and output [N, C, H, W].
  auto forward = [&]() -> Expected<Tensor> {
    KILN_ASSIGN_OR_RETURN(Tensor out, eager::conv2dBackwardInput(
                                          input, weight, win, groups, *shape));
    KILN_RETURN_IF_ERROR(addBias(out, bias, "conv_transpose2d"));
    return out;
  };
  return autograd::differentiable(
      "conv_transpose2d", {input, weight, bias}, forward, [&] {
        ConvNeeds needs = convNeeds(input, weight, bias);
        return autograd::BackwardFn(
            [x = input.detach(), w = weight.detach(), needs, win,
             groups](const Tensor &gy, const Tensor &) -> Expected<std::vector<Tensor>> {
              std::vector<Tensor> grads(3);
              if (needs.input) {
                KILN_ASSIGN_OR_RETURN(Tensor dx, conv2d(gy, w, Tensor(), win, groups));
                // output_padding >= stride (allowed below the dilation)
                // makes conv2d see extra rows that map to no input.
                if (dx.shape() != x.shape()) {
                  KILN_ASSIGN_OR_RETURN(Tensor rows, dx.slice(2, 0, x.shape()[2]));
                  KILN_ASSIGN_OR_RETURN(dx, rows.slice(3, 0, x.shape()[3]));
                }
                grads[0] = std::move(dx);
              }
              if (needs.weight) {
                KILN_ASSIGN_OR_RETURN(grads[1], eager::conv2dBackwardWeight(
                                                    gy, x, win, groups, w.shape()));
              }
              if (needs.bias) {
                KILN_ASSIGN_OR_RETURN(grads[2], eager::convBackwardBias(gy));
              }
              return grads;
            });
      });
}

} // namespace kiln
