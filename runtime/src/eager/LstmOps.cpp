//===- LstmOps.cpp - The fused LSTM sequence op ----------------------------===//
//
// Layouts (all contiguous, compute type C): xProj [N, T, 4H], hc
// [2, N, T, H] (every h, then every c: the output sequence hc[0] is
// contiguous for the next layer or the loss) and the saved activations
// acts [N, T, 4H] (i, f, g, o after their nonlinearities). The forward
// pass copies xProj (plus the bias) into acts, adds h_{t-1} W_hh^T into
// step t's rows with one GEMM (beta = 1; h_{t-1} is read in place from hc
// with a row stride of T*H), then turns the
// pre-activations into activations and writes h_t, c_t in one pass.
// Backward writes the gate pre-activation gradients straight into
// d xProj (they are the same thing), reads them back for
// d h_{t-1} = dgates_t W_hh, and ends with d W_hh = dgates^T h_prev over
// all N*T rows at once.
//
//===----------------------------------------------------------------------===//
#include "kiln/RecurrentOps.h"

#include "../autograd/Record.h"
#include "EagerUtil.h"
#include "RecurrentKernels.h"
#include "../cpu/Avx512.h"
#include "../cpu/PackedGemm.h"

#include <memory>

#include <vector>

namespace kiln {

using namespace eager::recurrent;

namespace {

constexpr std::string_view kOp = "lstm_sequence";

Status checkLstm(const Tensor &xProj, const Tensor &bias, const Tensor &h0,
                 const Tensor &c0, const Tensor &w) {
  KILN_RETURN_IF_ERROR(eager::checkInputs(kOp, {&xProj, &h0, &c0, &w}));
  if (bias.defined())
    KILN_RETURN_IF_ERROR(eager::checkInputs(kOp, {&xProj, &bias}));
  DType d = xProj.dtype();
  if (!isFloat(d) || h0.dtype() != d || c0.dtype() != d || w.dtype() != d ||
      (bias.defined() && bias.dtype() != d))
    return invalidArgument("op '", kOp, "': expected one float dtype, got ",
                           dtypeName(xProj.dtype()), ", ", dtypeName(h0.dtype()),
                           ", ", dtypeName(c0.dtype()), ", ",
                           dtypeName(w.dtype()), bias.defined() ? ", " : "",
                           bias.defined() ? dtypeName(bias.dtype()) : "");
  if (w.rank() != 2 || w.dim(0) != 4 * w.dim(1))
    return invalidArgument("op '", kOp, "': weightHH must be [4H, H], got ",
                           w.toString(0));
  int64_t hid = w.dim(1);
  if (xProj.rank() != 3 || xProj.dim(2) != 4 * hid)
    return invalidArgument("op '", kOp, "': xProj must be [N, T, ", 4 * hid,
                           "], got ", xProj.toString(0));
  Shape state{xProj.dim(0), hid};
  if (h0.shape() != state || c0.shape() != state)
    return invalidArgument("op '", kOp, "': h0 and c0 must be [",
                           xProj.dim(0), ", ", hid, "], got ", h0.toString(0),
                           " and ", c0.toString(0));
  if (bias.defined() && bias.shape() != Shape{4 * hid})
    return invalidArgument("op '", kOp, "': bias must be [", 4 * hid,
                           "], got ", bias.toString(0));
  return checkBlasRange(kOp, {xProj.numel(), 4 * hid * xProj.dim(1)});
}

/// What the forward pass leaves for backward, in the compute type.
struct LstmSaved {
  Tensor hc;   ///< [2, N, T, H]
  Tensor acts; ///< [N, T, 4H]
  Tensor h0, c0, w;
};

// The kernels, once for the x86-64 baseline, once for AVX2 (8 f32 lanes)
// and once for AVX-512F (16), picked at run time. GCC only: clang ignores #pragma GCC target (it would
// need target attributes on every lambda), so it builds the baseline.
namespace baseline {
#define KILN_RNN_FLOAT_LANES 4
#include "RecurrentLanes.inc"
#include "LstmKernels.inc"
#undef KILN_RNN_FLOAT_LANES
} // namespace baseline
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("avx2")
namespace avx2 {
#define KILN_RNN_FLOAT_LANES 8
#include "RecurrentLanes.inc"
#include "LstmKernels.inc"
#undef KILN_RNN_FLOAT_LANES
// Instantiated here, under the pragma, so that they are AVX2 code.
template void lstmForwardKernel<float>(const float *, const float *,
                                       const float *, const float *,
                                       const float *, float *, float *,
                                       int64_t, int64_t, int64_t);
template void lstmBackwardKernel<float>(const float *, const float *,
                                        const float *, const float *,
                                        const float *, const float *, float *,
                                        float *, float *, float *, float *,
                                        int64_t, int64_t, int64_t);
} // namespace avx2
#pragma GCC pop_options
// And for AVX-512F (16 lanes), where the gate math of a step is about half
// the time: the same operations, with a * b + c not contracted into an FMA
// (AVX-512F brings FMA; the AVX2 build has none), so that the results are
// the AVX2 and baseline builds' bit for bit.
#pragma GCC push_options
#pragma GCC target("avx512f")
#pragma GCC optimize("fp-contract=off")
namespace avx512 {
#define KILN_RNN_FLOAT_LANES 16
#include "RecurrentLanes.inc"
#include "LstmKernels.inc"
#undef KILN_RNN_FLOAT_LANES
template void lstmForwardKernel<float>(const float *, const float *,
                                       const float *, const float *,
                                       const float *, float *, float *,
                                       int64_t, int64_t, int64_t);
template void lstmBackwardKernel<float>(const float *, const float *,
                                        const float *, const float *,
                                        const float *, const float *, float *,
                                        float *, float *, float *, float *,
                                        int64_t, int64_t, int64_t);
} // namespace avx512
#pragma GCC pop_options
#define KILN_RNN_FLOAT_KERNEL(name)                                            \
  (cpu::haveAvx512() ? avx512::name<float>                                     \
   : haveAvx2()      ? avx2::name<float>                                       \
                     : baseline::name<float>)
#else
#define KILN_RNN_FLOAT_KERNEL(name) baseline::name<float>
#endif

template <typename C> C *ptr(const Tensor &t) {
  return t.defined() ? static_cast<C *>(t.rawData()) : nullptr;
}

Expected<Tensor> lstmForward(const Tensor &xProj, const Tensor &bias,
                             const Tensor &h0, const Tensor &c0,
                             const Tensor &w, LstmSaved *saved) {
  KILN_RETURN_IF_ERROR(checkLstm(xProj, bias, h0, c0, w));
  DType ct = computeType(xProj.dtype());
  int64_t n = xProj.dim(0), steps = xProj.dim(1), hid = w.dim(1);
  KILN_ASSIGN_OR_RETURN(Tensor x, asCompute(xProj, ct));
  KILN_ASSIGN_OR_RETURN(Tensor h, asCompute(h0, ct));
  KILN_ASSIGN_OR_RETURN(Tensor c, asCompute(c0, ct));
  KILN_ASSIGN_OR_RETURN(Tensor wc, asCompute(w, ct));
  Tensor bc;
  if (bias.defined()) {
    KILN_ASSIGN_OR_RETURN(bc, asCompute(bias, ct));
  }
  KILN_ASSIGN_OR_RETURN(Tensor hc, Tensor::empty({2, n, steps, hid}, ct));
  KILN_ASSIGN_OR_RETURN(Tensor acts, Tensor::empty({n, steps, 4 * hid}, ct));
  if (ct == DType::F64)
    baseline::lstmForwardKernel(ptr<double>(x), ptr<double>(bc), ptr<double>(h),
                      ptr<double>(c), ptr<double>(wc), ptr<double>(hc),
                      ptr<double>(acts), n, steps, hid);
  else
    KILN_RNN_FLOAT_KERNEL(lstmForwardKernel)(ptr<float>(x), ptr<float>(bc), ptr<float>(h),
                      ptr<float>(c), ptr<float>(wc), ptr<float>(hc),
                      ptr<float>(acts), n, steps, hid);
  if (saved)
    *saved = {hc, acts, h.detach(), c.detach(), wc.detach()};
  return ct == xProj.dtype() ? Expected<Tensor>(hc) : hc.to(xProj.dtype());
}

struct LstmNeeds {
  bool x, bias, h0, c0, w;
};

/// Gradients in the order of the recorded inputs: xProj, [bias,] h0, c0, w.
Expected<std::vector<Tensor>> lstmBackward(const LstmSaved &s,
                                           const Tensor &gradOut, DType dtype,
                                           LstmNeeds needs, bool hasBias) {
  DType ct = s.hc.dtype();
  int64_t n = s.hc.dim(1), steps = s.hc.dim(2), hid = s.w.dim(1);
  KILN_ASSIGN_OR_RETURN(Tensor gy, asCompute(gradOut, ct));
  // dx holds the gate gradients that the recurrence reads back, so it is
  // computed even when xProj needs no gradient.
  KILN_ASSIGN_OR_RETURN(Tensor dx, Tensor::empty({n, steps, 4 * hid}, ct));
  Tensor db, dh0, dc0, dw;
  if (hasBias && needs.bias) {
    KILN_ASSIGN_OR_RETURN(db, Tensor::empty({4 * hid}, ct));
  }
  if (needs.h0) {
    KILN_ASSIGN_OR_RETURN(dh0, Tensor::empty({n, hid}, ct));
  }
  if (needs.c0) {
    KILN_ASSIGN_OR_RETURN(dc0, Tensor::empty({n, hid}, ct));
  }
  if (needs.w) {
    KILN_ASSIGN_OR_RETURN(dw, Tensor::empty({4 * hid, hid}, ct));
  }
  if (ct == DType::F64)
    baseline::lstmBackwardKernel(ptr<double>(gy), ptr<double>(s.hc), ptr<double>(s.acts),
                       ptr<double>(s.h0), ptr<double>(s.c0), ptr<double>(s.w),
                       ptr<double>(dx), ptr<double>(db), ptr<double>(dh0),
                       ptr<double>(dc0), ptr<double>(dw), n, steps, hid);
  else
    KILN_RNN_FLOAT_KERNEL(lstmBackwardKernel)(ptr<float>(gy), ptr<float>(s.hc), ptr<float>(s.acts),
                       ptr<float>(s.h0), ptr<float>(s.c0), ptr<float>(s.w),
                       ptr<float>(dx), ptr<float>(db), ptr<float>(dh0),
                       ptr<float>(dc0), ptr<float>(dw), n, steps, hid);
  std::vector<Tensor> grads{needs.x ? dx : Tensor()};
  if (hasBias)
    grads.push_back(db);
  grads.insert(grads.end(), {dh0, dc0, dw});
  if (ct != dtype)
    for (Tensor &g : grads)
      if (g.defined()) {
        KILN_ASSIGN_OR_RETURN(g, g.to(dtype));
      }
  return grads;
}

} // namespace

Expected<Tensor> lstmSequence(const Tensor &xProj, const Tensor &h0,
                              const Tensor &c0, const Tensor &weightHH,
                              const Tensor &bias) {
  auto saved = std::make_shared<LstmSaved>();
  bool hasBias = bias.defined();
  // Decided out here: the compute lambda runs with grad mode off.
  bool recording =
      hasBias ? autograd::needsGrad({&xProj, &bias, &h0, &c0, &weightHH})
              : autograd::needsGrad({&xProj, &h0, &c0, &weightHH});
  auto compute = [&] {
    return lstmForward(xProj, bias, h0, c0, weightHH,
                       recording ? saved.get() : nullptr);
  };
  auto makeBackward = [&] {
    LstmNeeds needs{xProj.requiresGrad(), hasBias && bias.requiresGrad(),
                    h0.requiresGrad(), c0.requiresGrad(),
                    weightHH.requiresGrad()};
    return autograd::BackwardFn(
        [saved, dtype = xProj.dtype(), needs, hasBias](const Tensor &gy,
                                                       const Tensor &) {
          return lstmBackward(*saved, gy, dtype, needs, hasBias);
        });
  };
  if (hasBias)
    return autograd::differentiable(kOp, {xProj, bias, h0, c0, weightHH},
                                    compute, makeBackward);
  return autograd::differentiable(kOp, {xProj, h0, c0, weightHH}, compute,
                                  makeBackward);
}

} // namespace kiln
