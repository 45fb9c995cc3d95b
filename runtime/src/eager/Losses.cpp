//===- Losses.cpp - cross_entropy, mse, bce_with_logits, dropout -----------===//
//
// Losses compute per-element (or per-sample) values in f64 and reduce them
// with the requested reduction; results have the input's dtype. Cross
// entropy works row by row on the logits (log-sum-exp in f64), its gradient
// softmax - target in one pass; the elementwise losses' gradients are a few
// eager ops scaled by the reduction's weight. dropout's gradient is dropout
// of the gradient with the same mask and scale; the forward keeps the mask
// (a byte per element) while recording. dropout draws one Philox block per
// four elements.
//
//===----------------------------------------------------------------------===//
#include "kiln/NNOps.h"
#include "kiln/Random.h"
#include "kiln/TrainingOps.h"

#include "../autograd/Record.h"
#include "EagerUtil.h"
#include "kiln/ThreadPool.h"
#include "../cpu/Avx512.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln {

namespace {

enum class Reduction { None, Mean, Sum };

Expected<Reduction> parseReduction(const char *op, std::string_view r) {
  if (r == "mean")
    return Reduction::Mean;
  if (r == "sum")
    return Reduction::Sum;
  if (r == "none")
    return Reduction::None;
  return invalidArgument("op '", op, "': reduction must be \"mean\", \"sum\" "
                         "or \"none\", got \"", r, "\"");
}

/// Applies the reduction to per-element losses of `shape`.
Expected<Tensor> finish(std::vector<double> &&values, const Shape &shape,
                        Reduction r, DType dtype) {
  if (r == Reduction::None)
    return Tensor::fromDoubles(values, shape, dtype);
  double s = 0;
  for (double v : values)
    s += v;
  if (r == Reduction::Mean)
    s /= double(values.size()); // NaN for no elements, like PyTorch.
  return Tensor::scalar(s, dtype);
}

Status checkPair(const char *op, const Tensor &a, const Tensor &b) {
  KILN_RETURN_IF_ERROR(eager::checkInputs(op, {&a, &b}));
  if (!isFloat(a.dtype()) || a.dtype() != b.dtype())
    return invalidArgument("op '", op, "': operands have dtypes ",
                           dtypeName(a.dtype()), " and ", dtypeName(b.dtype()),
                           ", expected one float dtype");
  if (a.shape() != b.shape())
    return invalidArgument("op '", op, "': shapes ", shapes::toString(a.shape()),
                           " and ", shapes::toString(b.shape()), " differ");
  return Status();
}

} // namespace

namespace {

/// The weight of each element's loss in the reduced loss's gradient: gy
/// itself ("none", same shape as the loss), gy / count ("mean") or gy
/// ("sum"), the last two rank-0 tensors that broadcast.
Expected<Tensor> reductionWeight(const Tensor &gy, Reduction r, int64_t count) {
  if (r == Reduction::Mean)
    return gy * (1.0 / double(count));
  return gy;
}

Status checkLabels(const char *op, const Tensor &scores, const Tensor &labels) {
  KILN_RETURN_IF_ERROR(eager::checkInputs(op, {&scores, &labels}));
  if (!isFloat(scores.dtype()))
    return invalidArgument("op '", op, "': inputs have dtype ",
                           dtypeName(scores.dtype()), ", expected a float dtype");
  if (labels.dtype() != DType::I64 && labels.dtype() != DType::I32)
    return invalidArgument("op '", op, "': labels have dtype ",
                           dtypeName(labels.dtype()), ", expected i64 or i32");
  if (scores.rank() != 2 || labels.rank() != 1 ||
      labels.shape()[0] != scores.shape()[0])
    return invalidArgument("op '", op, "': expected inputs [N, C] and "
                           "labels [N], got ", shapes::toString(scores.shape()),
                           " and ", shapes::toString(labels.shape()));
  return Status();
}

/// Labels as i64, checked against [0, c) unless ignored.
Expected<std::vector<int64_t>> labelValues(const char *op, const Tensor &labels,
                                           int64_t c,
                                           std::optional<int64_t> ignoreIndex) {
  std::vector<double> raw = labels.toDoubles();
  std::vector<int64_t> out(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    int64_t l = int64_t(raw[i]);
    if ((l < 0 || l >= c) && !(ignoreIndex && l == *ignoreIndex))
      return outOfRange("op '", op, "': label ", l, " of sample ", i,
                        " is outside [0, ", c, ")");
    out[i] = l;
  }
  return out;
}

/// Per-sample weights of the gradient: w[i] = d loss / d loss_i.
Expected<std::vector<double>> sampleWeights(const Tensor &gy, Reduction r,
                                            const std::vector<int64_t> &labels,
                                            std::optional<int64_t> ignoreIndex) {
  std::vector<double> g = gy.toDoubles();
  size_t n = labels.size();
  std::vector<double> w(n);
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i)
    kept += !(ignoreIndex && labels[i] == *ignoreIndex);
  for (size_t i = 0; i < n; ++i) {
    if (ignoreIndex && labels[i] == *ignoreIndex)
      w[i] = 0;
    else if (r == Reduction::None)
      w[i] = g[i];
    else if (r == Reduction::Mean)
      w[i] = g[0] / double(kept);
    else
      w[i] = g[0];
  }
  return w;
}

/// loss_i = lse_i - (1 - s) x[i, y_i] - s / C sum_c x[i, c].
template <typename C>
void crossEntropyRows(const C *x, int64_t n, int64_t c,
                      const std::vector<int64_t> &labels, double smoothing,
                      std::optional<int64_t> ignoreIndex,
                      std::vector<double> &loss) {
  ThreadPool::global().parallelFor(
      0, n, std::max<int64_t>(1, 8192 / std::max<int64_t>(c, 1)),
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          int64_t l = labels[size_t(i)];
          if (ignoreIndex && l == *ignoreIndex) {
            loss[size_t(i)] = 0;
            continue;
          }
          const C *row = x + i * c;
          double mx = double(row[0]);
          for (int64_t j = 1; j < c; ++j)
            mx = std::max(mx, double(row[j]));
          double s = 0, total = 0;
          for (int64_t j = 0; j < c; ++j) {
            s += std::exp(double(row[j]) - mx);
            total += double(row[j]);
          }
          double lse = mx + std::log(s);
          loss[size_t(i)] = lse - (1 - smoothing) * double(row[l]) -
                            smoothing / double(c) * total;
        }
      });
}

/// d loss / d x[i, j] = w_i (softmax_ij - (1 - s) [j == y_i] - s / C).
template <typename C>
void crossEntropyGradRows(const C *x, C *gx, int64_t n, int64_t c,
                          const std::vector<int64_t> &labels, double smoothing,
                          const std::vector<double> &w) {
  ThreadPool::global().parallelFor(
      0, n, std::max<int64_t>(1, 8192 / std::max<int64_t>(c, 1)),
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const C *row = x + i * c;
          C *out = gx + i * c;
          double wi = w[size_t(i)];
          if (wi == 0) {
            std::fill(out, out + c, C(0));
            continue;
          }
          double mx = double(row[0]);
          for (int64_t j = 1; j < c; ++j)
            mx = std::max(mx, double(row[j]));
          double s = 0;
          for (int64_t j = 0; j < c; ++j)
            s += std::exp(double(row[j]) - mx);
          double inv = 1.0 / s, off = smoothing / double(c);
          for (int64_t j = 0; j < c; ++j)
            out[j] = C(wi * (std::exp(double(row[j]) - mx) * inv - off));
          int64_t l = labels[size_t(i)];
          out[l] = C(double(out[l]) - wi * (1 - smoothing));
        }
      });
}

/// Applies the reduction to per-sample losses, leaving ignored ones out of
/// the mean.
Expected<Tensor> finishSamples(std::vector<double> &&loss, Reduction r,
                               DType dtype, const std::vector<int64_t> &labels,
                               std::optional<int64_t> ignoreIndex) {
  if (r != Reduction::Mean || !ignoreIndex)
    return finish(std::move(loss), {int64_t(loss.size())}, r, dtype);
  double s = 0;
  size_t kept = 0;
  for (size_t i = 0; i < loss.size(); ++i)
    if (labels[i] != *ignoreIndex) {
      s += loss[i];
      ++kept;
    }
  return Tensor::scalar(s / double(kept), dtype); // NaN if all ignored.
}

DType lossComputeType(DType t) { return t == DType::F64 ? DType::F64 : DType::F32; }

Expected<Tensor> asCompute(const Tensor &t) {
  DType ct = lossComputeType(t.dtype());
  return t.dtype() == ct ? t.contiguous() : t.to(ct);
}

} // namespace

Expected<Tensor> crossEntropy(const Tensor &logits, const Tensor &labels,
                              const CrossEntropyOptions &options) {
  const char *op = "cross_entropy";
  KILN_RETURN_IF_ERROR(checkLabels(op, logits, labels));
  KILN_ASSIGN_OR_RETURN(Reduction r, parseReduction(op, options.reduction));
  double smoothing = options.labelSmoothing;
  if (!(smoothing >= 0 && smoothing <= 1))
    return invalidArgument("op 'cross_entropy': label smoothing ", smoothing,
                           " outside [0, 1]");
  int64_t n = logits.shape()[0], c = logits.shape()[1];
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> lab,
                        labelValues(op, labels, c, options.ignoreIndex));
  std::optional<int64_t> ignore = options.ignoreIndex;
  auto forward = [&]() -> Expected<Tensor> {
    KILN_ASSIGN_OR_RETURN(Tensor x, asCompute(logits));
    std::vector<double> loss(static_cast<size_t>(n));
    if (c > 0) {
      if (x.dtype() == DType::F64)
        crossEntropyRows(x.data<double>(), n, c, lab, smoothing, ignore, loss);
      else
        crossEntropyRows(x.data<float>(), n, c, lab, smoothing, ignore, loss);
    }
    return finishSamples(std::move(loss), r, logits.dtype(), lab, ignore);
  };
  return autograd::differentiable(op, {logits, labels}, forward, [&] {
    return autograd::BackwardFn(
        [xs = logits.detach(), lab, smoothing, ignore, r, n,
         c](const Tensor &gy, const Tensor &) -> Expected<std::vector<Tensor>> {
          KILN_ASSIGN_OR_RETURN(std::vector<double> w,
                                sampleWeights(gy, r, lab, ignore));
          KILN_ASSIGN_OR_RETURN(Tensor x, asCompute(xs));
          KILN_ASSIGN_OR_RETURN(Tensor gx, Tensor::empty({n, c}, x.dtype()));
          if (x.dtype() == DType::F64)
            crossEntropyGradRows(x.data<double>(), gx.data<double>(), n, c, lab,
                                 smoothing, w);
          else
            crossEntropyGradRows(x.data<float>(), gx.data<float>(), n, c, lab,
                                 smoothing, w);
          return std::vector<Tensor>{gx, Tensor()};
        });
  });
}

Expected<Tensor> crossEntropy(const Tensor &logits, const Tensor &labels,
                              std::string_view reduction) {
  CrossEntropyOptions options;
  options.reduction = reduction;
  return crossEntropy(logits, labels, options);
}

Expected<Tensor> nllLoss(const Tensor &logProbs, const Tensor &labels,
                         std::string_view reduction,
                         std::optional<int64_t> ignoreIndex) {
  const char *op = "nll_loss";
  KILN_RETURN_IF_ERROR(checkLabels(op, logProbs, labels));
  KILN_ASSIGN_OR_RETURN(Reduction r, parseReduction(op, reduction));
  int64_t n = logProbs.shape()[0], c = logProbs.shape()[1];
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> lab,
                        labelValues(op, labels, c, ignoreIndex));
  auto forward = [&]() -> Expected<Tensor> {
    std::vector<double> loss(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      int64_t l = lab[size_t(i)];
      if (ignoreIndex && l == *ignoreIndex)
        continue;
      KILN_ASSIGN_OR_RETURN(double v, logProbs.at({i, l}));
      loss[size_t(i)] = -v;
    }
    return finishSamples(std::move(loss), r, logProbs.dtype(), lab, ignoreIndex);
  };
  return autograd::differentiable(op, {logProbs, labels}, forward, [&] {
    return autograd::BackwardFn(
        [lab, ignoreIndex, r, n, c, dtype = logProbs.dtype()](
            const Tensor &gy, const Tensor &) -> Expected<std::vector<Tensor>> {
          KILN_ASSIGN_OR_RETURN(std::vector<double> w,
                                sampleWeights(gy, r, lab, ignoreIndex));
          std::vector<double> g(static_cast<size_t>(n * c), 0.0);
          for (int64_t i = 0; i < n; ++i)
            if (w[size_t(i)] != 0)
              g[size_t(i * c + lab[size_t(i)])] = -w[size_t(i)];
          KILN_ASSIGN_OR_RETURN(Tensor gx, Tensor::fromDoubles(g, {n, c}, dtype));
          return std::vector<Tensor>{gx, Tensor()};
        });
  });
}

namespace {

/// The shared shape of mse, l1_loss and bce_with_logits: a forward of
/// per-element losses and the two gradients from (gradient weight, input,
/// target).
template <typename Forward, typename Grads>
Expected<Tensor> pairwiseLoss(const char *op, const Tensor &input,
                              const Tensor &target, std::string_view reduction,
                              Forward &&perElement, Grads &&grads) {
  KILN_RETURN_IF_ERROR(checkPair(op, input, target));
  KILN_ASSIGN_OR_RETURN(Reduction r, parseReduction(op, reduction));
  auto forward = [&]() -> Expected<Tensor> {
    std::vector<double> x = input.toDoubles(), t = target.toDoubles();
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = perElement(x[i], t[i]);
    return finish(std::move(x), input.shape(), r, input.dtype());
  };
  return autograd::differentiable(op, {input, target}, forward, [&] {
    return autograd::BackwardFn(
        [xs = input.detach(), ts = target.detach(), r,
         grads](const Tensor &gy, const Tensor &) -> Expected<std::vector<Tensor>> {
          KILN_ASSIGN_OR_RETURN(Tensor w, reductionWeight(gy, r, xs.numel()));
          return grads(w, xs, ts);
        });
  });
}

} // namespace

Expected<Tensor> mse(const Tensor &input, const Tensor &target,
                     std::string_view reduction) {
  return pairwiseLoss(
      "mse", input, target, reduction,
      [](double x, double t) { return (x - t) * (x - t); },
      [](const Tensor &w, const Tensor &x,
         const Tensor &t) -> Expected<std::vector<Tensor>> {
        KILN_ASSIGN_OR_RETURN(Tensor gx, (x - t) * w * 2.0);
        KILN_ASSIGN_OR_RETURN(Tensor gt, neg(gx));
        return std::vector<Tensor>{gx, gt};
      });
}

Expected<Tensor> l1Loss(const Tensor &input, const Tensor &target,
                        std::string_view reduction) {
  return pairwiseLoss(
      "l1_loss", input, target, reduction,
      [](double x, double t) { return std::fabs(x - t); },
      [](const Tensor &w, const Tensor &x,
         const Tensor &t) -> Expected<std::vector<Tensor>> {
        KILN_ASSIGN_OR_RETURN(Tensor gx, sign(x - t) * w);
        KILN_ASSIGN_OR_RETURN(Tensor gt, neg(gx));
        return std::vector<Tensor>{gx, gt};
      });
}

Expected<Tensor> bceWithLogits(const Tensor &logits, const Tensor &target,
                               std::string_view reduction) {
  // max(x, 0) - x t + log(1 + exp(-|x|)): no overflow for any x.
  return pairwiseLoss(
      "bce_with_logits", logits, target, reduction,
      [](double x, double t) {
        return std::max(x, 0.0) - x * t + std::log1p(std::exp(-std::fabs(x)));
      },
      [](const Tensor &w, const Tensor &x,
         const Tensor &t) -> Expected<std::vector<Tensor>> {
        KILN_ASSIGN_OR_RETURN(Tensor gx, (sigmoid(x) - t) * w);
        KILN_ASSIGN_OR_RETURN(Tensor gt, -(x * w));
        return std::vector<Tensor>{gx, gt};
      });
}

namespace {

/// v where keep is 1, +0 where it is 0 (a NaN dropped is 0 too), without a
/// branch: a bit mask from keep, so the loops below vectorize (as `keep ?
/// v : 0` they were scalar and mispredicted every dropped element: ~1.5 ns
/// an element, 11% of a transformer training step).
template <typename C> inline C keepOrZero(C v, uint8_t keep) {
  using Bits = std::conditional_t<sizeof(C) == 4, uint32_t, uint64_t>;
  return std::bit_cast<C>(std::bit_cast<Bits>(v) & (Bits(0) - Bits(keep)));
}

#if defined(__x86_64__)
/// One 64-element group of f32 dropout in AVX-512: the keep bit of element
/// 4 i + k (word k of block i) is bit i of a 16-lane compare of word k,
/// spread to bit 4 i + k with pdep; each 16 outputs are then one masked
/// multiply (+0 where dropped) and each 16 keep bytes one narrowing store.
/// The scalar group loop (a 64-word transpose, compares, byte stores) was
/// 3.5% of a transformer training step.
KILN_AVX512_NARROWING_BEGIN
__attribute__((target("avx512f,bmi2"))) void
dropoutGroupAvx512(const uint32_t (*words)[16], uint32_t threshold,
                   const float *x, float *y, float scale, uint8_t *keep) {
  const __m512i t = _mm512_set1_epi32(int32_t(threshold));
  uint64_t bits = 0;
  for (int k = 0; k < 4; ++k) {
    __mmask16 m = _mm512_cmp_epu32_mask(_mm512_loadu_si512(words[k]), t,
                                        _MM_CMPINT_NLT);
    bits |= _pdep_u64(m, 0x1111111111111111ull << k);
  }
  const __m512 s = _mm512_set1_ps(scale);
  for (int q = 0; q < 4; ++q) {
    __mmask16 m = __mmask16(bits >> (16 * q));
    _mm512_storeu_ps(y + 16 * q, _mm512_maskz_mul_ps(m, _mm512_loadu_ps(x + 16 * q), s));
    if (keep)
      _mm_storeu_si128(reinterpret_cast<__m128i *>(keep + 16 * q),
                       _mm512_cvtepi32_epi8(_mm512_maskz_set1_epi32(m, 1)));
  }
}
KILN_AVX512_NARROWING_END
#endif

/// y = x * mask / (1 - ratio). Element i's mask comes from Philox-4x32-10
/// at counter i / 4, key `seed`, word i % 4: kept when that word is >=
/// ratio * 2^32. One Philox block serves four elements, and the mask is a
/// pure function of (seed, i). `keep` (may be null) receives the mask, so
/// that the backward pass need not draw it again.
template <typename C>
void dropoutKernel(const C *x, C *y, int64_t n, double ratio, uint64_t seed,
                   uint8_t *keep) {
  const uint64_t threshold = uint64_t(std::ceil(ratio * 4294967296.0));
  const C scale = C(1.0 / (1.0 - ratio));
  // Sixteen Philox blocks (64 elements) per philox4x32x16 call, the
  // vectorized generator: one block per call took ~15% of a transformer
  // training step. Groups of 16 blocks, so each chunk starts on a group.
  const int64_t groups = (n + 63) / 64;
  static const bool avx512 =
      cpu::cpuFeatureUsable("avx512f") && cpu::cpuFeatureUsable("bmi2");
  ThreadPool::global().parallelFor(0, groups, 32, [&](int64_t b, int64_t e) {
    uint32_t words[4][16], flat[64];
    uint8_t kept[64];
    for (int64_t g = b; g < e; ++g) {
      philox4x32x16(uint64_t(g) * 16, seed, words);
#if defined(__x86_64__)
      if constexpr (std::is_same_v<C, float>) {
        if (avx512 && threshold <= UINT32_MAX && n - g * 64 >= 64) {
          dropoutGroupAvx512(words, uint32_t(threshold), x + g * 64, y + g * 64,
                             scale, keep ? keep + g * 64 : nullptr);
          continue;
        }
      }
#endif
      // Element base + 4 i + k is word k of block 16 g + i.
      for (int i = 0; i < 16; ++i)
        for (int k = 0; k < 4; ++k)
          flat[4 * i + k] = words[k][i];
      const int64_t base = g * 64;
      const int count = int(std::min<int64_t>(64, n - base));
      for (int j = 0; j < count; ++j)
        kept[j] = uint64_t(flat[j]) >= threshold;
      for (int j = 0; j < count; ++j)
        y[base + j] = keepOrZero(x[base + j] * scale, kept[j]);
      if (keep)
        std::memcpy(keep + base, kept, size_t(count));
    }
  });
}

/// gx = gy * keep / (1 - ratio).
template <typename C>
void dropoutMaskKernel(const C *gy, const uint8_t *keep, C *gx, int64_t n,
                       double ratio) {
  const C scale = C(1.0 / (1.0 - ratio));
  ThreadPool::global().parallelFor(0, n, 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      gx[i] = keepOrZero(gy[i] * scale, keep[i]);
  });
}

DType dropoutComputeType(DType t) { return t == DType::F64 ? DType::F64 : DType::F32; }

/// `keep`: when not null, set to the mask (i1, the input's shape).
Expected<Tensor> dropoutForward(const Tensor &x, double ratio, bool training,
                                uint64_t seed, Tensor *keep) {
  if (!training || ratio == 0)
    return x.clone();
  DType ct = dropoutComputeType(x.dtype());
  KILN_ASSIGN_OR_RETURN(Tensor in, x.dtype() == ct ? x.contiguous() : x.to(ct));
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(x.shape(), ct));
  uint8_t *mask = nullptr;
  if (keep) {
    KILN_ASSIGN_OR_RETURN(*keep, Tensor::empty(x.shape(), DType::Bool));
    mask = static_cast<uint8_t *>(keep->rawData());
  }
  if (ct == DType::F64)
    dropoutKernel(in.data<double>(), out.data<double>(), out.numel(), ratio,
                  seed, mask);
  else
    dropoutKernel(in.data<float>(), out.data<float>(), out.numel(), ratio, seed,
                  mask);
  return out.dtype() == x.dtype() ? Expected<Tensor>(out) : out.to(x.dtype());
}

Expected<Tensor> dropoutBackward(const Tensor &gradOut, const Tensor &keep,
                                 double ratio) {
  if (!keep.defined()) // identity (not training, or ratio 0)
    return gradOut;
  DType ct = dropoutComputeType(gradOut.dtype());
  KILN_ASSIGN_OR_RETURN(Tensor gy, gradOut.dtype() == ct ? gradOut.contiguous()
                                                         : gradOut.to(ct));
  KILN_ASSIGN_OR_RETURN(Tensor gx, Tensor::empty(gy.shape(), ct));
  const auto *mask = static_cast<const uint8_t *>(keep.rawData());
  if (ct == DType::F64)
    dropoutMaskKernel(gy.data<double>(), mask, gx.data<double>(), gx.numel(), ratio);
  else
    dropoutMaskKernel(gy.data<float>(), mask, gx.data<float>(), gx.numel(), ratio);
  return gx.dtype() == gradOut.dtype() ? Expected<Tensor>(gx)
                                       : gx.to(gradOut.dtype());
}

} // namespace

Expected<Tensor> dropout(const Tensor &x, double ratio, bool training,
                         uint64_t seed) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("dropout", {&x}));
  if (!isFloat(x.dtype()))
    return invalidArgument("op 'dropout': input has dtype ", dtypeName(x.dtype()),
                           ", expected a float dtype");
  if (!(ratio >= 0 && ratio < 1))
    return invalidArgument("op 'dropout': ratio ", ratio, " outside [0, 1)");
  // The mask is kept (one byte per element) only when a node will be
  // recorded; decided here because the forward runs with grad mode off then.
  Tensor keep;
  bool keepMask = training && ratio > 0 && autograd::needsGrad({&x});
  return autograd::differentiable(
      "dropout", {x},
      [&] {
        return dropoutForward(x, ratio, training, seed, keepMask ? &keep : nullptr);
      },
      [&] {
        return autograd::BackwardFn(
            [ratio, keep = std::move(keep)](const Tensor &gy, const Tensor &) {
              return autograd::grads(dropoutBackward(gy, keep, ratio));
            });
      });
}

} // namespace kiln
