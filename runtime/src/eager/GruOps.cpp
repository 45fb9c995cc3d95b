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

template <typename C>
void gruForwardKernel(const C *x, const C *h0, const C *w, const C *bias,
                      C *hs, C *acts, int64_t n, int64_t steps, int64_t hid) {
  int64_t g3 = 3 * hid, xRow = steps * g3, hRow = steps * hid,
          actRow = steps * 4 * hid;
  std::vector<C> hp(size_t(n * g3), C(0));
  for (int64_t t = 0; t < steps; ++t) {
    if (bias)
      for (int64_t b = 0; b < n; ++b)
        std::memcpy(hp.data() + b * g3, bias, size_t(g3) * sizeof(C));
    const C *hPrev = t == 0 ? h0 : hs + (t - 1) * hid;
    gemm<C>(false, true, n, g3, hid, hPrev, t == 0 ? hid : hRow, w, hid,
            bias ? C(1) : C(0), hp.data(), g3);
    forRows(n, hid, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const C *xr = x + b * xRow + t * g3;
        const C *p = hp.data() + b * g3;
        const C *prev = t == 0 ? h0 + b * hid : hs + b * hRow + (t - 1) * hid;
        C *act = acts + b * actRow + t * 4 * hid;
        C *out = hs + b * hRow + t * hid;
        forLanes<C>(hid, [&]<typename L>(int64_t j) {
          auto r = L::sigmoid(L::load(xr + j) + L::load(p + j));
          auto z = L::sigmoid(L::load(xr + hid + j) + L::load(p + hid + j));
          auto hn = L::load(p + 2 * hid + j);
          auto nn = L::tanh(L::load(xr + 2 * hid + j) + r * hn);
          L::store(act + j, r);
          L::store(act + hid + j, z);
          L::store(act + 2 * hid + j, nn);
          L::store(act + 3 * hid + j, hn);
          L::store(out + j, nn + z * (L::load(prev + j) - nn));
        });
      }
    });
  }
}

template <typename C>
void gruBackwardKernel(const C *gy, const C *hs, const C *acts, const C *h0,
                       const C *w, C *dx, C *dh0, C *dw, C *db, int64_t n,
                       int64_t steps, int64_t hid) {
  int64_t g3 = 3 * hid, hRow = steps * hid, actRow = steps * 4 * hid;
  // d hp of every step, [N, T, 3H]; dhNext = d h_t from step t+1.
  std::vector<C> dhp(size_t(n * steps * g3)), dhNext(size_t(n * hid), C(0));
  for (int64_t t = steps - 1; t >= 0; --t) {
    forRows(n, hid, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const C *act = acts + b * actRow + t * 4 * hid;
        const C *g = gy + b * hRow + t * hid;
        const C *prev = t == 0 ? h0 + b * hid : hs + b * hRow + (t - 1) * hid;
        C *d = dx + (b * steps + t) * g3;
        C *dp = dhp.data() + (b * steps + t) * g3;
        C *dh = dhNext.data() + b * hid;
        forLanes<C>(hid, [&]<typename L>(int64_t j) {
          auto r = L::load(act + j), z = L::load(act + hid + j),
               nn = L::load(act + 2 * hid + j), hn = L::load(act + 3 * hid + j);
          auto dhT = L::load(g + j) + L::load(dh + j);
          auto dN = dhT * (C(1) - z) * (C(1) - nn * nn);
          auto dZ = dhT * (L::load(prev + j) - nn) * z * (C(1) - z);
          auto dR = dN * hn * r * (C(1) - r);
          L::store(d + j, dR);
          L::store(d + hid + j, dZ);
          L::store(d + 2 * hid + j, dN);
          L::store(dp + j, dR);
          L::store(dp + hid + j, dZ);
          L::store(dp + 2 * hid + j, dN * r);
          L::store(dh + j, dhT * z);
        });
      }
    });
    // d h_{t-1} = dh z + d hp_t W_hh.
    if (t > 0 || dh0)
      gemm<C>(false, false, n, hid, g3, dhp.data() + t * g3, steps * g3, w, hid,
              C(1), dhNext.data(), hid);
  }
  if (dh0)
    std::memcpy(dh0, dhNext.data(), dhNext.size() * sizeof(C));
  if (dw) {
    std::vector<C> hPrev(size_t(n * steps * hid));
    for (int64_t b = 0; b < n; ++b)
      for (int64_t t = 0; t < steps; ++t)
        std::memcpy(hPrev.data() + (b * steps + t) * hid,
                    t == 0 ? h0 + b * hid : hs + b * hRow + (t - 1) * hid,
                    size_t(hid) * sizeof(C));
    gemm<C>(true, false, g3, hid, n * steps, dhp.data(), g3, hPrev.data(), hid,
            C(0), dw, hid);
  }
  if (db)
    columnSums(dhp.data(), n * steps, g3, db);
}

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
    gruForwardKernel(ptr<double>(x), ptr<double>(h), ptr<double>(wc),
                     ptr<double>(bc), ptr<double>(hs), ptr<double>(acts), n,
                     steps, hid);
  else
    gruForwardKernel(ptr<float>(x), ptr<float>(h), ptr<float>(wc),
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
    gruBackwardKernel(ptr<double>(gy), ptr<double>(s.h), ptr<double>(s.acts),
                      ptr<double>(s.h0), ptr<double>(s.w), ptr<double>(dx),
                      ptr<double>(dh0), ptr<double>(dw), ptr<double>(db), n,
                      steps, hid);
  else
    gruBackwardKernel(ptr<float>(gy), ptr<float>(s.h), ptr<float>(s.acts),
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
