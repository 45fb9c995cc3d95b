//===- ClipGrad.cpp - Gradient clipping by norm and by value --------------===//
//
// PyTorch's clip_grad_norm_ and clip_grad_value_. Norms accumulate in
// double over fixed-size blocks summed in order, so the result does not
// depend on the number of threads. Clipped gradients are new tensors set
// with setGrad rather than writes into the old ones: autograd may hand the
// same gradient tensor to two leaves (the backward of an add), and scaling
// it in place would scale both twice.
//
//===----------------------------------------------------------------------===//
#include "kiln/Optim.h"

#include "kiln/Autograd.h"
#include "kiln/Ops.h"
#include "kiln/ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln::optim {

namespace {
constexpr int64_t kBlock = 1 << 15;

/// The normType-norm of one contiguous f32/f64 array; p = inf: max |x|.
template <typename T> double normOf(const T *x, int64_t n, double p) {
  const bool inf = std::isinf(p);
  int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(size_t(blocks), 0.0);
  ThreadPool::global().parallelFor(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      double acc = 0.0;
      int64_t end = std::min(n, (b + 1) * kBlock);
      for (int64_t i = b * kBlock; i < end; ++i) {
        double a = std::abs(double(x[i]));
        if (inf)
          acc = std::isnan(a) || a > acc ? a : acc; // NaN sticks.
        else if (p == 2.0)
          acc += a * a;
        else if (p == 1.0)
          acc += a;
        else
          acc += std::pow(a, p);
        if (inf && std::isnan(acc))
          break;
      }
      partial[size_t(b)] = acc;
    }
  });
  double total = 0.0;
  for (double v : partial)
    total = inf ? (std::isnan(v) || v > total ? v : total) : total + v;
  return total;
}

/// The parameters that clipping works on (those with a gradient), with
/// their indices for error messages.
/// Handles are copied: a copy shares the variable's autograd state, so
/// setGrad on it replaces the model's gradient.
std::vector<std::pair<size_t, Tensor>>
withGrads(const std::vector<Tensor> &params) {
  std::vector<std::pair<size_t, Tensor>> out;
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].defined() && params[i].grad().defined())
      out.emplace_back(i, params[i]);
  return out;
}
} // namespace

Expected<double> clipGradNorm(const std::vector<Tensor> &params, double maxNorm,
                              double normType) {
  if (!(maxNorm >= 0.0))
    return invalidArgument("clipGradNorm: maxNorm must be >= 0, got ", maxNorm);
  if (!(normType > 0.0) || normType == -std::numeric_limits<double>::infinity())
    return invalidArgument(
        "clipGradNorm: normType must be > 0 or infinity, got ", normType);
  autograd::NoGradGuard noGrad;
  const bool inf = std::isinf(normType);
  auto withGrad = withGrads(params);
  double total = 0.0;
  for (auto &[i, p] : withGrad) {
    Tensor g = p.grad();
    if (!isFloat(g.dtype()) || !g.device().isHostAccessible())
      return invalidArgument("clipGradNorm: gradient of parameter ", i, " is ",
                             g.dtype(), " on ", g.device().name());
    DType work = g.dtype() == DType::F64 ? DType::F64 : DType::F32;
    KILN_ASSIGN_OR_RETURN(Tensor c,
                          g.dtype() == work ? g.contiguous() : g.to(work));
    double n = work == DType::F64
                   ? normOf(c.data<double>(), c.numel(), normType)
                   : normOf(c.data<float>(), c.numel(), normType);
    // n is the sum of |x|^p (or max |x|): the norm of the per-tensor norms
    // is then (sum over tensors)^(1/p) without taking and raising roots.
    total = inf ? (std::isnan(n) || n > total ? n : total) : total + n;
  }
  if (!inf)
    total =
        normType == 2.0 ? std::sqrt(total) : std::pow(total, 1.0 / normType);

  double coef = maxNorm / (total + 1e-6);
  double clamped = std::min(coef, 1.0); // NaN stays NaN, as torch.clamp.
  if (clamped == 1.0)
    return total; // Multiplying by one changes nothing.
  for (auto &[i, p] : withGrad) {
    KILN_ASSIGN_OR_RETURN(Tensor scaled, p.grad() * clamped);
    KILN_RETURN_IF_ERROR(p.setGrad(scaled));
  }
  return total;
}

Status clipGradValue(const std::vector<Tensor> &params, double clip) {
  if (!(clip >= 0.0))
    return invalidArgument("clipGradValue: clip must be >= 0, got ", clip);
  autograd::NoGradGuard noGrad;
  for (auto &[i, p] : withGrads(params)) {
    KILN_ASSIGN_OR_RETURN(Tensor clipped, kiln::clip(p.grad(), -clip, clip));
    KILN_RETURN_IF_ERROR(p.setGrad(clipped));
  }
  return Status();
}

} // namespace kiln::optim
