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

template <typename C>
void lstmForwardKernel(const C *x, const C *bias, const C *h0, const C *c0,
                       const C *w, C *hc, C *acts, int64_t n, int64_t steps,
                       int64_t hid) {
  int64_t g4 = 4 * hid, hRow = steps * hid, actRow = steps * g4;
  C *hs = hc, *cs = hc + n * hRow;
  if (bias) {
    for (int64_t row = 0; row < n * steps; ++row) {
      const C *__restrict src = x + row * g4;
      C *__restrict dst = acts + row * g4;
      for (int64_t j = 0; j < g4; ++j)
        dst[j] = src[j] + bias[j];
    }
  } else {
    std::memcpy(acts, x, size_t(n * actRow) * sizeof(C));
  }
  for (int64_t t = 0; t < steps; ++t) {
    const C *hPrev = t == 0 ? h0 : hs + (t - 1) * hid;
    int64_t hPrevLd = t == 0 ? hid : hRow;
    gemm<C>(false, true, n, g4, hid, hPrev, hPrevLd, w, hid, C(1),
            acts + t * g4, actRow);
    forRows(n, hid, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        C *gate = acts + b * actRow + t * g4;
        const C *cPrev = t == 0 ? c0 + b * hid : cs + b * hRow + (t - 1) * hid;
        C *hOut = hs + b * hRow + t * hid, *cOut = cs + b * hRow + t * hid;
        forLanes<C>(hid, [&]<typename L>(int64_t j) {
          auto i = L::sigmoid(L::load(gate + j));
          auto f = L::sigmoid(L::load(gate + hid + j));
          auto g = L::tanh(L::load(gate + 2 * hid + j));
          auto o = L::sigmoid(L::load(gate + 3 * hid + j));
          auto c = f * L::load(cPrev + j) + i * g;
          L::store(gate + j, i);
          L::store(gate + hid + j, f);
          L::store(gate + 2 * hid + j, g);
          L::store(gate + 3 * hid + j, o);
          L::store(hOut + j, o * L::tanh(c));
          L::store(cOut + j, c);
        });
      }
    });
  }
}

template <typename C>
void lstmBackwardKernel(const C *gy, const C *hc, const C *acts, const C *h0,
                        const C *c0, const C *w, C *dx, C *db, C *dh0, C *dc0,
                        C *dw, int64_t n, int64_t steps, int64_t hid) {
  int64_t g4 = 4 * hid, hRow = steps * hid, actRow = steps * g4;
  const C *hs = hc, *cs = hc + n * hRow, *gh = gy, *gc = gy + n * hRow;
  // dhNext: d h_t from step t+1's gates; dcNext: d c_t from c_{t+1}.
  std::vector<C> dhNext(size_t(n * hid), C(0)), dcNext(size_t(n * hid), C(0));
  for (int64_t t = steps - 1; t >= 0; --t) {
    forRows(n, hid, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const C *act = acts + b * actRow + t * g4;
        int64_t at = b * hRow + t * hid;
        const C *gH = gh + at, *gC = gc + at, *cur = cs + at;
        const C *cPrev = t == 0 ? c0 + b * hid : cs + at - hid;
        C *d = dx + b * actRow + t * g4;
        C *dh = dhNext.data() + b * hid;
        C *dc = dcNext.data() + b * hid;
        forLanes<C>(hid, [&]<typename L>(int64_t j) {
          auto i = L::load(act + j), f = L::load(act + hid + j),
               gg = L::load(act + 2 * hid + j), o = L::load(act + 3 * hid + j);
          auto tc = L::tanh(L::load(cur + j));
          auto dhT = L::load(gH + j) + L::load(dh + j);
          auto dcT = L::load(gC + j) + L::load(dc + j) +
                     dhT * o * (C(1) - tc * tc);
          L::store(d + j, dcT * gg * i * (C(1) - i));
          L::store(d + hid + j, dcT * L::load(cPrev + j) * f * (C(1) - f));
          L::store(d + 2 * hid + j, dcT * i * (C(1) - gg * gg));
          L::store(d + 3 * hid + j, dhT * tc * o * (C(1) - o));
          L::store(dc + j, dcT * f);
        });
      }
    });
    // d h_{t-1} = dgates_t W_hh.
    if (t > 0 || dh0)
      gemm<C>(false, false, n, hid, g4, dx + t * g4, actRow, w, hid, C(0),
              dhNext.data(), hid);
  }
  if (dh0)
    std::memcpy(dh0, dhNext.data(), dhNext.size() * sizeof(C));
  if (dc0)
    std::memcpy(dc0, dcNext.data(), dcNext.size() * sizeof(C));
  if (db)
    columnSums(dx, n * steps, g4, db);
  if (dw) {
    // h_prev [N, T, H]: h0, then h_0 .. h_{T-2}.
    std::vector<C> hPrev(size_t(n * steps * hid));
    for (int64_t b = 0; b < n; ++b) {
      std::memcpy(hPrev.data() + b * hRow, h0 + b * hid, size_t(hid) * sizeof(C));
      std::memcpy(hPrev.data() + b * hRow + hid, hs + b * hRow,
                  size_t(hRow - hid) * sizeof(C));
    }
    gemm<C>(true, false, g4, hid, n * steps, dx, g4, hPrev.data(), hid, C(0),
            dw, hid);
  }
}

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
    lstmForwardKernel(ptr<double>(x), ptr<double>(bc), ptr<double>(h),
                      ptr<double>(c), ptr<double>(wc), ptr<double>(hc),
                      ptr<double>(acts), n, steps, hid);
  else
    lstmForwardKernel(ptr<float>(x), ptr<float>(bc), ptr<float>(h),
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
    lstmBackwardKernel(ptr<double>(gy), ptr<double>(s.hc), ptr<double>(s.acts),
                       ptr<double>(s.h0), ptr<double>(s.c0), ptr<double>(s.w),
                       ptr<double>(dx), ptr<double>(db), ptr<double>(dh0),
                       ptr<double>(dc0), ptr<double>(dw), n, steps, hid);
  else
    lstmBackwardKernel(ptr<float>(gy), ptr<float>(s.hc), ptr<float>(s.acts),
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
