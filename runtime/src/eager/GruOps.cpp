//===- GruOps.cpp - The fused GRU sequence op ------------------------------===//
//
// Layouts (contiguous, compute type C): xProj [N, T, 3H], h [N, T, H] and
// the saved acts [N, T, 4H] = (r, z, n, hp_n) per step, hp_n = the n part
// of h_{t-1} W_hh^T + b_hh (r multiplies it, so backward needs it). Per
// step: hp = b_hh, += h_{t-1} W_hh^T with one GEMM, then one pointwise pass.
// Backward writes d xProj = (dr, dz, dn) pre-activation and
// d hp = (dr, dz, dn * r); d h_{t-1} = dh z + d hp_t W_hh is one GEMM per
// step, d W_hh = d hp^T h_prev one GEMM over all N*T rows, d b_hh the column
// sums of d hp.
//
//===----------------------------------------------------------------------===//
#include "kiln/RecurrentOps.h"

#include "../autograd/Record.h"
#include "EagerUtil.h"
#include "RecurrentKernels.h"

#include <vector>

namespace kiln {

using namespace eager::recurrent;

namespace {

constexpr std::string_view kOp = "gru_sequence";

Status checkGru(const Tensor &xProj, const Tensor &h0, const Tensor &w,
                const Tensor &bias) {
  KILN_RETURN_IF_ERROR(eager::checkInputs(kOp, {&xProj, &h0, &w}));
  if (bias.defined())
    KILN_RETURN_IF_ERROR(eager::checkInputs(kOp, {&xProj, &bias}));
  DType d = xProj.dtype();
  if (!isFloat(d) || h0.dtype() != d || w.dtype() != d ||
      (bias.defined() && bias.dtype() != d))
    return invalidArgument("op '", kOp, "': expected one float dtype, got ",
                           dtypeName(xProj.dtype()), ", ", dtypeName(h0.dtype()),
                           ", ", dtypeName(w.dtype()),
                           bias.defined() ? ", " : "",
                           bias.defined() ? dtypeName(bias.dtype()) : "");
  if (w.rank() != 2 || w.dim(0) != 3 * w.dim(1))
    return invalidArgument("op '", kOp, "': weightHH must be [3H, H], got ",
                           w.toString(0));
  int64_t hid = w.dim(1);
  if (xProj.rank() != 3 || xProj.dim(2) != 3 * hid)
    return invalidArgument("op '", kOp, "': xProj must be [N, T, ", 3 * hid,
                           "], got ", xProj.toString(0));
  if (h0.shape() != Shape{xProj.dim(0), hid})
    return invalidArgument("op '", kOp, "': h0 must be [", xProj.dim(0), ", ",
                           hid, "], got ", h0.toString(0));
  if (bias.defined() && bias.shape() != Shape{3 * hid})
    return invalidArgument("op '", kOp, "': biasHH must be [", 3 * hid,
                           "], got ", bias.toString(0));
  return checkBlasRange(kOp, {xProj.numel(), 3 * hid * xProj.dim(1)});
}

struct GruSaved {
  Tensor h;    ///< [N, T, H]
  Tensor acts; ///< [N, T, 4H]
  Tensor h0, w;
};

// The kernels, once for the x86-64 baseline and once for AVX2 (8 f32 lanes),
// picked at run time. GCC only: clang ignores #pragma GCC target (it would
// need target attributes on every lambda), so it builds the baseline.
namespace baseline {
#define KILN_RNN_FLOAT_LANES 4
#include "RecurrentLanes.inc"
#include "GruKernels.inc"
#undef KILN_RNN_FLOAT_LANES
} // namespace baseline
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("avx2")
namespace avx2 {
#define KILN_RNN_FLOAT_LANES 8
#include "RecurrentLanes.inc"
#include "GruKernels.inc"
#undef KILN_RNN_FLOAT_LANES
// Instantiated here, under the pragma, so that they are AVX2 code.
template void gruForwardKernel<float>(const float *, const float *,
                                      const float *, const float *, float *,
                                      float *, int64_t, int64_t, int64_t);
template void gruBackwardKernel<float>(const float *, const float *,
                                       const float *, const float *,
                                       const float *, float *, float *,
                                       float *, float *, int64_t, int64_t,
                                       int64_t);
} // namespace avx2
#pragma GCC pop_options
#define KILN_RNN_FLOAT_KERNEL(name)                                            \
  (haveAvx2() ? avx2::name<float> : baseline::name<float>)
#else
#define KILN_RNN_FLOAT_KERNEL(name) baseline::name<float>
#endif

template <typename C> C *ptr(const Tensor &t) {
  return t.defined() ? static_cast<C *>(t.rawData()) : nullptr;
}

Expected<Tensor> gruForward(const Tensor &xProj, const Tensor &h0,
                            const Tensor &w, const Tensor &bias,
                            GruSaved *saved) {
  KILN_RETURN_IF_ERROR(checkGru(xProj, h0, w, bias));
  DType ct = computeType(xProj.dtype());
  int64_t n = xProj.dim(0), steps = xProj.dim(1), hid = w.dim(1);
  KILN_ASSIGN_OR_RETURN(Tensor x, asCompute(xProj, ct));
  KILN_ASSIGN_OR_RETURN(Tensor h, asCompute(h0, ct));
  KILN_ASSIGN_OR_RETURN(Tensor wc, asCompute(w, ct));
  Tensor bc;
  if (bias.defined()) {
    KILN_ASSIGN_OR_RETURN(bc, asCompute(bias, ct));
  }
  KILN_ASSIGN_OR_RETURN(Tensor hs, Tensor::empty({n, steps, hid}, ct));
  KILN_ASSIGN_OR_RETURN(Tensor acts, Tensor::empty({n, steps, 4 * hid}, ct));
  if (ct == DType::F64)
    baseline::gruForwardKernel(ptr<double>(x), ptr<double>(h), ptr<double>(wc),
                     ptr<double>(bc), ptr<double>(hs), ptr<double>(acts), n,
                     steps, hid);
  else
    KILN_RNN_FLOAT_KERNEL(gruForwardKernel)(ptr<float>(x), ptr<float>(h), ptr<float>(wc),
                     ptr<float>(bc), ptr<float>(hs), ptr<float>(acts), n,
                     steps, hid);
  if (saved)
    *saved = {hs, acts, h.detach(), wc.detach()};
  return ct == xProj.dtype() ? Expected<Tensor>(hs) : hs.to(xProj.dtype());
}

struct GruNeeds {
  bool x, h0, w, bias;
};

Expected<std::vector<Tensor>> gruBackward(const GruSaved &s,
                                          const Tensor &gradOut, DType dtype,
                                          GruNeeds needs, bool hasBias) {
  DType ct = s.h.dtype();
  int64_t n = s.h.dim(0), steps = s.h.dim(1), hid = s.w.dim(1);
  KILN_ASSIGN_OR_RETURN(Tensor gy, asCompute(gradOut, ct));
  KILN_ASSIGN_OR_RETURN(Tensor dx, Tensor::empty({n, steps, 3 * hid}, ct));
  Tensor dh0, dw, db;
  if (needs.h0) {
    KILN_ASSIGN_OR_RETURN(dh0, Tensor::empty({n, hid}, ct));
  }
  if (needs.w) {
    KILN_ASSIGN_OR_RETURN(dw, Tensor::empty({3 * hid, hid}, ct));
  }
  if (hasBias && needs.bias) {
    KILN_ASSIGN_OR_RETURN(db, Tensor::empty({3 * hid}, ct));
  }
  if (ct == DType::F64)
    baseline::gruBackwardKernel(ptr<double>(gy), ptr<double>(s.h), ptr<double>(s.acts),
                      ptr<double>(s.h0), ptr<double>(s.w), ptr<double>(dx),
                      ptr<double>(dh0), ptr<double>(dw), ptr<double>(db), n,
                      steps, hid);
  else
    KILN_RNN_FLOAT_KERNEL(gruBackwardKernel)(ptr<float>(gy), ptr<float>(s.h), ptr<float>(s.acts),
                      ptr<float>(s.h0), ptr<float>(s.w), ptr<float>(dx),
                      ptr<float>(dh0), ptr<float>(dw), ptr<float>(db), n,
                      steps, hid);
  std::vector<Tensor> grads{needs.x ? dx : Tensor(), dh0, dw};
  if (hasBias)
    grads.push_back(db);
  if (ct != dtype)
    for (Tensor &g : grads)
      if (g.defined()) {
        KILN_ASSIGN_OR_RETURN(g, g.to(dtype));
      }
  return grads;
}

} // namespace

Expected<Tensor> gruSequence(const Tensor &xProj, const Tensor &h0,
                             const Tensor &weightHH, const Tensor &biasHH) {
  auto saved = std::make_shared<GruSaved>();
  bool hasBias = biasHH.defined();
  // Decided out here: the compute lambda runs with grad mode off.
  bool recording = hasBias
                       ? autograd::needsGrad({&xProj, &h0, &weightHH, &biasHH})
                       : autograd::needsGrad({&xProj, &h0, &weightHH});
  auto compute = [&] {
    return gruForward(xProj, h0, weightHH, biasHH,
                      recording ? saved.get() : nullptr);
  };
  auto makeBackward = [&] {
    GruNeeds needs{xProj.requiresGrad(), h0.requiresGrad(),
                   weightHH.requiresGrad(), hasBias && biasHH.requiresGrad()};
    return autograd::BackwardFn(
        [saved, dtype = xProj.dtype(), needs, hasBias](const Tensor &gy,
                                                       const Tensor &) {
          return gruBackward(*saved, gy, dtype, needs, hasBias);
        });
  };
  if (hasBias)
    return autograd::differentiable(kOp, {xProj, h0, weightHH, biasHH},
                                    compute, makeBackward);
  return autograd::differentiable(kOp, {xProj, h0, weightHH}, compute,
                                  makeBackward);
}

} // namespace kiln
