//===- Normalization.cpp - softmax, log_softmax, layer_norm, batch_norm ----===//
//
// Each works on a contiguous f32/f64 copy of its input viewed as
// [outer, n, inner] around the normalized dims, one parallel task per
// (outer, inner) line, accumulating in f64; f16/bf16 are widened to f32 once
// and the result rounded once. f32 softmax rows over the last axis use
// cpu/VecMath.h's exp (Cephes' expf, 1 ulp). Gradients: softmax and log_softmax from
// their outputs (one fused pass per row over the last axis, eager ops
// otherwise); layer norm and batch norm (both forms) by kernels that
// recompute the statistics from the saved input, rows in parallel for
// d input and column blocks (channels) in parallel for d scale / d bias.
//
//===----------------------------------------------------------------------===//
#include "kiln/NNOps.h"
#include "kiln/TrainingOps.h"

#include "../autograd/Record.h"
#include "../cpu/VecMath.h"
#include "EagerUtil.h"
#include "kiln/ThreadPool.h"

#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace kiln {

namespace {

/// t as a contiguous tensor of `dtype`, copying only when needed.
Expected<Tensor> asComputeType(const Tensor &t, DType dtype) {
  return t.dtype() == dtype ? t.contiguous() : t.to(dtype);
}

/// The input as a contiguous tensor of its compute type (f32 for 16-bit).
Expected<Tensor> computeCopy(const Tensor &x) {
  if (x.dtype() == DType::F16 || x.dtype() == DType::BF16)
    return x.to(DType::F32);
  return x.contiguous();
}

Status checkFloat(const char *op, const Tensor &x) {
  if (!isFloat(x.dtype()))
    return invalidArgument("op '", op, "': input has dtype ",
                           dtypeName(x.dtype()), ", expected a float dtype");
  return Status();
}

/// y[j] = exp(x[j] - shift) for f32 rows: the shift in one pass, then
/// VecMath's exp in place (AVX2 where the CPU has it); the row is in cache.
inline void expShifted(const float *x, float shift, float *y, int64_t n) {
  for (int64_t j = 0; j < n; ++j)
    y[j] = x[j] - shift;
  cpu::vecmath::applyArray<cpu::vecmath::Fn::Exp>(y, y, n);
}

/// One softmax (or log-softmax) over a contiguous row: exps written into
/// y by a vectorizable loop, summed in f64, then scaled (or turned into
/// x - max - log(sum)).
/// max(x[0..n)), NaN if any is NaN (as std::max folds them: a NaN first
/// element sticks; a later NaN is skipped, then poisons the exps anyway).
inline float rowMax(const float *x, int64_t n) {
  float mx = x[0];
  int64_t j = 1;
#if defined(__SSE2__)
  if (n >= 8) {
    __m128 m = _mm_loadu_ps(x);
    for (j = 4; j + 4 <= n; j += 4)
      m = _mm_max_ps(_mm_loadu_ps(x + j), m);
    float lanes[4];
    _mm_storeu_ps(lanes, m);
    mx = std::max(std::max(lanes[0], lanes[1]), std::max(lanes[2], lanes[3]));
  }
#endif
  for (; j < n; ++j)
    mx = std::max(mx, x[j]);
  return mx;
}

/// sum of y[0..n) in f64 (four f32 lanes per step, widened per block).
inline double rowSum(const float *y, int64_t n) {
  double s = 0;
  int64_t j = 0;
#if defined(__SSE2__)
  for (; j + 4 <= n;) {
    __m128 acc = _mm_setzero_ps();
    int64_t end = std::min(n, j + 256) & ~int64_t(3);
    for (; j < end; j += 4)
      acc = _mm_add_ps(acc, _mm_loadu_ps(y + j));
    float lanes[4];
    _mm_storeu_ps(lanes, acc);
    s += double(lanes[0]) + double(lanes[1]) + double(lanes[2]) + double(lanes[3]);
  }
#endif
  for (; j < n; ++j)
    s += double(y[j]);
  return s;
}

template <typename C>
void softmaxRow(const C *x, C *y, int64_t n, bool logForm) {
  C mx;
  double s = 0;
  if constexpr (std::is_same_v<C, float>) {
    mx = rowMax(x, n);
    expShifted(x, mx, y, n);
    s = rowSum(y, n);
  } else {
    mx = x[0];
    for (int64_t j = 1; j < n; ++j)
      mx = std::max(mx, x[j]);
    for (int64_t j = 0; j < n; ++j)
      y[j] = std::exp(x[j] - mx);
    for (int64_t j = 0; j < n; ++j)
      s += double(y[j]);
  }
  if (logForm) {
    C shift = C(double(mx) + std::log(s));
    for (int64_t j = 0; j < n; ++j)
      y[j] = x[j] - shift;
  } else {
    C inv = C(1.0 / s);
    for (int64_t j = 0; j < n; ++j)
      y[j] *= inv;
  }
}

template <typename C>
void softmaxLines(const C *in, C *out, int64_t outer, int64_t n, int64_t inner,
                  bool logForm) {
  if (inner == 1) {
    ThreadPool::global().parallelFor(
        0, outer, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)),
        [&](int64_t b, int64_t e) {
          for (int64_t o = b; o < e; ++o)
            softmaxRow(in + o * n, out + o * n, n, logForm);
        });
    return;
  }
  ThreadPool::global().parallelFor(
      0, outer * inner, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)),
      [&](int64_t b, int64_t e) {
        for (int64_t line = b; line < e; ++line) {
          int64_t o = line / inner, i = line % inner;
          const C *x = in + o * n * inner + i;
          C *y = out + o * n * inner + i;
          C mx = x[0];
          for (int64_t j = 1; j < n; ++j)
            mx = std::max(mx, x[j * inner]);
          double s = 0;
          for (int64_t j = 0; j < n; ++j)
            s += std::exp(double(x[j * inner] - mx));
          if (logForm) {
            double ls = std::log(s);
            for (int64_t j = 0; j < n; ++j)
              y[j * inner] = C(double(x[j * inner] - mx) - ls);
          } else {
            double inv = 1.0 / s;
            for (int64_t j = 0; j < n; ++j)
              y[j * inner] = C(std::exp(double(x[j * inner] - mx)) * inv);
          }
        }
      });
}

Expected<Tensor> softmaxImpl(const Tensor &x, int64_t axis, bool logForm) {
  const char *name = logForm ? "log_softmax" : "softmax";
  KILN_RETURN_IF_ERROR(eager::checkInputs(name, {&x}));
  KILN_RETURN_IF_ERROR(checkFloat(name, x));
  auto a = shapes::normalizeAxis(axis, x.rank());
  if (!a)
    return invalidArgument("op '", name, "': axis ", axis,
                           " out of range for rank ", x.rank());
  KILN_ASSIGN_OR_RETURN(Tensor in, computeCopy(x));
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(x.shape(), in.dtype()));
  int64_t outer = 1, inner = 1, n = x.shape()[size_t(*a)];
  for (int64_t d = 0; d < *a; ++d)
    outer *= x.shape()[size_t(d)];
  for (int64_t d = *a + 1; d < x.rank(); ++d)
    inner *= x.shape()[size_t(d)];
  if (out.numel() == 0)
    return out.to(x.dtype());
  if (in.dtype() == DType::F64)
    softmaxLines(in.data<double>(), out.data<double>(), outer, n, inner, logForm);
  else
    softmaxLines(in.data<float>(), out.data<float>(), outer, n, inner, logForm);
  return out.dtype() == x.dtype() ? Expected<Tensor>(out) : out.to(x.dtype());
}

/// A per-position parameter tensor as f64 values, checked for its shape.
Expected<std::vector<double>> paramValues(const char *op, const char *what,
                                          const Tensor &t, const Shape &shape) {
  if (t.shape() != shape)
    return invalidArgument("op '", op, "': ", what, " has shape ",
                           shapes::toString(t.shape()), ", expected ",
                           shapes::toString(shape));
  if (!isFloat(t.dtype()))
    return invalidArgument("op '", op, "': ", what, " has dtype ",
                           dtypeName(t.dtype()), ", expected a float dtype");
  return t.toDoubles();
}

/// Mean and 1/sqrt(var + eps) of one row, two passes in f64 with four
/// independent accumulators (the adds pipeline; the order is fixed).
template <typename C>
void rowMeanRstd(const C *x, int64_t n, double eps, double &mean, double &rstd) {
  double a[4] = {0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 4 <= n; j += 4)
    for (int k = 0; k < 4; ++k)
      a[k] += double(x[j + k]);
  for (; j < n; ++j)
    a[0] += double(x[j]);
  double m = ((a[0] + a[1]) + (a[2] + a[3])) / double(n);
  double v[4] = {0, 0, 0, 0};
  for (j = 0; j + 4 <= n; j += 4)
    for (int k = 0; k < 4; ++k)
      v[k] += (double(x[j + k]) - m) * (double(x[j + k]) - m);
  for (; j < n; ++j)
    v[0] += (double(x[j]) - m) * (double(x[j]) - m);
  mean = m;
  rstd = 1.0 / std::sqrt(((v[0] + v[1]) + (v[2] + v[3])) / double(n) + eps);
}

/// y = (x - mean) * rstd * scale + bias per row, the last pass in the
/// compute type (vectorizes for f32).
template <typename C>
void layerNormRows(const C *in, C *out, int64_t rows, int64_t n,
                   const std::vector<double> &scale,
                   const std::vector<double> *bias, double eps) {
  std::vector<C> sc(scale.begin(), scale.end());
  std::vector<C> bs(static_cast<size_t>(n), C(0));
  if (bias)
    bs.assign(bias->begin(), bias->end());
  ThreadPool::global().parallelFor(
      0, rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)),
      [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          const C *x = in + r * n;
          C *y = out + r * n;
          double mean, rstd;
          rowMeanRstd(x, n, eps, mean, rstd);
          C m = C(mean), k = C(rstd);
          const C *s = sc.data(), *bb = bs.data();
          for (int64_t j = 0; j < n; ++j)
            y[j] = (x[j] - m) * k * s[j] + bb[j];
        }
      });
}

} // namespace

namespace {

/// Softmax backward over contiguous rows [rows, n] from the output y:
///   softmax:     dx = y * (dy - sum(dy * y))
///   log_softmax: dx = dy - exp(y) * sum(dy)
template <typename C>
void softmaxBackwardRow(const C *yr, const C *gr, C *out, int64_t n,
                        bool logForm) {
  double s = 0;
  if (logForm) {
    for (int64_t j = 0; j < n; ++j)
      s += double(gr[j]);
    C sc = C(s);
    if constexpr (std::is_same_v<C, float>) {
      expShifted(yr, 0.0f, out, n);
    } else {
      for (int64_t j = 0; j < n; ++j)
        out[j] = std::exp(yr[j]);
    }
    for (int64_t j = 0; j < n; ++j)
      out[j] = gr[j] - out[j] * sc;
  } else {
    for (int64_t j = 0; j < n; ++j)
      s += double(gr[j]) * double(yr[j]);
    C sc = C(s);
    for (int64_t j = 0; j < n; ++j)
      out[j] = yr[j] * (gr[j] - sc);
  }
}

template <typename C>
void softmaxBackwardRows(const C *y, const C *gy, C *gx, int64_t rows,
                         int64_t n, bool logForm) {
  ThreadPool::global().parallelFor(
      0, rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)),
      [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r)
          softmaxBackwardRow(y + r * n, gy + r * n, gx + r * n, n, logForm);
      });
}

Expected<Tensor> softmaxBackward(const Tensor &gy, const Tensor &y, int64_t axis,
                                 bool logForm) {
  int64_t a = *shapes::normalizeAxis(axis, y.rank());
  bool fused = a == y.rank() - 1 && gy.dtype() == y.dtype() &&
               (y.dtype() == DType::F32 || y.dtype() == DType::F64);
  if (!fused) {
    if (logForm) {
      KILN_ASSIGN_OR_RETURN(Tensor total, sum(gy, {axis}, /*keepDims=*/true));
      return gy - exp(y) * total;
    }
    KILN_ASSIGN_OR_RETURN(Tensor prod, gy * y);
    KILN_ASSIGN_OR_RETURN(Tensor dot, sum(prod, {axis}, /*keepDims=*/true));
    return y * (gy - dot);
  }
  KILN_ASSIGN_OR_RETURN(Tensor g, gy.contiguous());
  KILN_ASSIGN_OR_RETURN(Tensor yc, y.contiguous());
  KILN_ASSIGN_OR_RETURN(Tensor gx, Tensor::empty(y.shape(), y.dtype()));
  int64_t n = y.rank() ? y.shape().back() : 1;
  int64_t rows = n ? y.numel() / n : 0;
  if (rows > 0) {
    if (y.dtype() == DType::F64)
      softmaxBackwardRows(yc.data<double>(), g.data<double>(), gx.data<double>(),
                          rows, n, logForm);
    else
      softmaxBackwardRows(yc.data<float>(), g.data<float>(), gx.data<float>(),
                          rows, n, logForm);
  }
  return gx;
}

} // namespace

Expected<Tensor> softmax(const Tensor &x, int64_t axis) {
  return autograd::differentiable(
      "softmax", {x}, [&] { return softmaxImpl(x, axis, false); }, [&] {
        return autograd::BackwardFn([axis](const Tensor &gy, const Tensor &y) {
          return autograd::grads(softmaxBackward(gy, y, axis, false));
        });
      });
}

Expected<Tensor> logSoftmax(const Tensor &x, int64_t axis) {
  return autograd::differentiable(
      "log_softmax", {x}, [&] { return softmaxImpl(x, axis, true); }, [&] {
        return autograd::BackwardFn([axis](const Tensor &gy, const Tensor &y) {
          return autograd::grads(softmaxBackward(gy, y, axis, true));
        });
      });
}

namespace {

Expected<Tensor> layerNormForward(const Tensor &x, const Tensor &scale,
                                  const Tensor &bias, int64_t axis,
                                  double epsilon) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("layer_norm", {&x, &scale}));
  KILN_RETURN_IF_ERROR(checkFloat("layer_norm", x));
  auto a = shapes::normalizeAxis(axis, x.rank());
  if (!a)
    return invalidArgument("op 'layer_norm': axis ", axis,
                           " out of range for rank ", x.rank());
  if (!(epsilon >= 0))
    return invalidArgument("op 'layer_norm': epsilon must be >= 0");
  Shape normShape(x.shape().begin() + *a, x.shape().end());
  KILN_ASSIGN_OR_RETURN(auto sv, paramValues("layer_norm", "scale", scale, normShape));
  std::vector<double> bv;
  if (bias.defined()) {
    KILN_RETURN_IF_ERROR(eager::checkInputs("layer_norm", {&x, &bias}));
    KILN_ASSIGN_OR_RETURN(bv, paramValues("layer_norm", "bias", bias, normShape));
  }
  int64_t n = 1;
  for (int64_t d : normShape)
    n *= d;
  KILN_ASSIGN_OR_RETURN(Tensor in, computeCopy(x));
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(x.shape(), in.dtype()));
  if (out.numel() > 0) {
    int64_t rows = out.numel() / n;
    const std::vector<double> *bp = bias.defined() ? &bv : nullptr;
    if (in.dtype() == DType::F64)
      layerNormRows(in.data<double>(), out.data<double>(), rows, n, sv, bp, epsilon);
    else
      layerNormRows(in.data<float>(), out.data<float>(), rows, n, sv, bp, epsilon);
  }
  return out.dtype() == x.dtype() ? Expected<Tensor>(out) : out.to(x.dtype());
}

Expected<Tensor> batchNormForward(const Tensor &x, const Tensor &scale,
                                  const Tensor &bias, const Tensor &mean,
                                  const Tensor &variance, double epsilon) {
  KILN_RETURN_IF_ERROR(
      eager::checkInputs("batch_norm", {&x, &scale, &bias, &mean, &variance}));
  KILN_RETURN_IF_ERROR(checkFloat("batch_norm", x));
  if (x.rank() < 2)
    return invalidArgument("op 'batch_norm': input of rank ", x.rank(),
                           " has no channel dim 1");
  if (!(epsilon >= 0))
    return invalidArgument("op 'batch_norm': epsilon must be >= 0");
  Shape cShape = {x.shape()[1]};
  KILN_ASSIGN_OR_RETURN(auto sv, paramValues("batch_norm", "scale", scale, cShape));
  KILN_ASSIGN_OR_RETURN(auto bv, paramValues("batch_norm", "bias", bias, cShape));
  KILN_ASSIGN_OR_RETURN(auto mv, paramValues("batch_norm", "mean", mean, cShape));
  KILN_ASSIGN_OR_RETURN(auto vv, paramValues("batch_norm", "variance", variance, cShape));
  KILN_ASSIGN_OR_RETURN(Tensor in, computeCopy(x));
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(x.shape(), in.dtype()));
  int64_t c = x.shape()[1], inner = 1;
  for (int64_t d = 2; d < x.rank(); ++d)
    inner *= x.shape()[size_t(d)];
  // y = x * k + m per channel, with k and m folded once.
  std::vector<double> k(size_t(c), 0.0), m(size_t(c), 0.0);
  for (size_t i = 0; i < size_t(c); ++i) {
    k[i] = sv[i] / std::sqrt(vv[i] + epsilon);
    m[i] = bv[i] - mv[i] * k[i];
  }
  auto run = [&](auto *src, auto *dst) {
    using C = std::remove_pointer_t<decltype(dst)>;
    int64_t lines = out.numel() / std::max<int64_t>(inner, 1);
    ThreadPool::global().parallelFor(
        0, inner ? lines : 0, std::max<int64_t>(1, 32768 / std::max<int64_t>(inner, 1)),
        [&](int64_t b, int64_t e) {
          for (int64_t line = b; line < e; ++line) {
            size_t ch = size_t(line % c);
            C kc = C(k[ch]), mc = C(m[ch]);
            for (int64_t j = 0; j < inner; ++j)
              dst[line * inner + j] = src[line * inner + j] * kc + mc;
          }
        });
  };
  if (out.numel() > 0) {
    if (in.dtype() == DType::F64)
      run(in.data<double>(), out.data<double>());
    else
      run(in.data<float>(), out.data<float>());
  }
  return out.dtype() == x.dtype() ? Expected<Tensor>(out) : out.to(x.dtype());
}

//===----------------------------------------------------------------------===//
// Gradients of layer_norm and batch_norm
//===----------------------------------------------------------------------===//

/// Per-row mean and 1/sqrt(var + eps) of rows [rows, n].
template <typename C>
void rowStatistics(const C *x, int64_t rows, int64_t n, double eps,
                   std::vector<double> &mean, std::vector<double> &rstd) {
  ThreadPool::global().parallelFor(
      0, rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)),
      [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r)
          rowMeanRstd(x + r * n, n, eps, mean[size_t(r)], rstd[size_t(r)]);
      });
}

/// layer_norm backward on [rows, n]: gx (may be null) and per-column sums
/// dscale = sum_r gy * xhat, dbias = sum_r gy.
template <typename C>
void layerNormBackwardRows(const C *x, const C *gy, C *gx, int64_t rows,
                           int64_t n, const std::vector<double> &scale,
                           double eps, std::vector<double> *dscale,
                           std::vector<double> *dbias) {
  std::vector<double> mean(static_cast<size_t>(rows)), rstd(static_cast<size_t>(rows));
  rowStatistics(x, rows, n, eps, mean, rstd);
  if (gx) {
    // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = gy * scale:
    // sums in f64 (four accumulators), the elementwise passes in C.
    std::vector<C> sc(scale.begin(), scale.end());
    ThreadPool::global().parallelFor(
        0, rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(n, 1)),
        [&](int64_t b, int64_t e) {
          std::vector<C> xhat(static_cast<size_t>(n)), g(static_cast<size_t>(n));
          for (int64_t r = b; r < e; ++r) {
            const C *xr = x + r * n, *gr = gy + r * n;
            C m = C(mean[size_t(r)]), rs = C(rstd[size_t(r)]);
            for (int64_t j = 0; j < n; ++j) {
              xhat[size_t(j)] = (xr[j] - m) * rs;
              g[size_t(j)] = gr[j] * sc[size_t(j)];
            }
            double a[4] = {0, 0, 0, 0}, c[4] = {0, 0, 0, 0};
            int64_t j = 0;
            for (; j + 4 <= n; j += 4)
              for (int k = 0; k < 4; ++k) {
                a[k] += double(g[size_t(j + k)]);
                c[k] += double(g[size_t(j + k)]) * double(xhat[size_t(j + k)]);
              }
            for (; j < n; ++j) {
              a[0] += double(g[size_t(j)]);
              c[0] += double(g[size_t(j)]) * double(xhat[size_t(j)]);
            }
            C sg = C(((a[0] + a[1]) + (a[2] + a[3])) / double(n));
            C sgx = C(((c[0] + c[1]) + (c[2] + c[3])) / double(n));
            C *out = gx + r * n;
            for (int64_t k = 0; k < n; ++k)
              out[k] = rs * (g[size_t(k)] - sg - xhat[size_t(k)] * sgx);
          }
        });
  }
  if (!dscale && !dbias)
    return;
  constexpr int64_t kBlock = 64;
  ThreadPool::global().parallelFor(
      0, (n + kBlock - 1) / kBlock, 1, [&](int64_t b, int64_t e) {
        double ds[kBlock], db[kBlock];
        for (int64_t blk = b; blk < e; ++blk) {
          int64_t j0 = blk * kBlock, j1 = std::min(n, j0 + kBlock);
          std::fill(ds, ds + kBlock, 0.0);
          std::fill(db, db + kBlock, 0.0);
          for (int64_t r = 0; r < rows; ++r) {
            const C *xr = x + r * n, *gr = gy + r * n;
            double m = mean[size_t(r)], rs = rstd[size_t(r)];
            for (int64_t j = j0; j < j1; ++j) {
              double g = double(gr[j]);
              ds[j - j0] += g * (double(xr[j]) - m) * rs;
              db[j - j0] += g;
            }
          }
          for (int64_t j = j0; j < j1; ++j) {
            if (dscale)
              (*dscale)[size_t(j)] = ds[j - j0];
            if (dbias)
              (*dbias)[size_t(j)] = db[j - j0];
          }
        }
      });
}

/// Which inputs of a normalization need gradients, fixed when recording.
struct NormNeeds {
  bool x, scale, bias;
};

Expected<std::vector<Tensor>> layerNormBackward(const Tensor &x,
                                                const Tensor &scale,
                                                const Tensor &gradOut,
                                                int64_t axis, double eps,
                                                NormNeeds needs, bool hasBias) {
  int64_t a = *shapes::normalizeAxis(axis, x.rank());
  Shape normShape(x.shape().begin() + a, x.shape().end());
  int64_t n = 1;
  for (int64_t d : normShape)
    n *= d;
  KILN_ASSIGN_OR_RETURN(Tensor xc, computeCopy(x));
  DType ct = xc.dtype();
  KILN_ASSIGN_OR_RETURN(Tensor gy, gradOut.dtype() == ct ? gradOut.contiguous()
                                                         : gradOut.to(ct));
  std::vector<double> sv = scale.toDoubles();
  int64_t rows = n ? x.numel() / n : 0;
  Tensor gx;
  if (needs.x) {
    KILN_ASSIGN_OR_RETURN(gx, Tensor::empty(x.shape(), ct));
  }
  std::vector<double> ds(static_cast<size_t>(n)), db(static_cast<size_t>(n));
  if (rows > 0 && n > 0) {
    if (ct == DType::F64)
      layerNormBackwardRows(xc.data<double>(), gy.data<double>(),
                            needs.x ? gx.data<double>() : nullptr, rows, n, sv,
                            eps, needs.scale ? &ds : nullptr,
                            needs.bias ? &db : nullptr);
    else
      layerNormBackwardRows(xc.data<float>(), gy.data<float>(),
                            needs.x ? gx.data<float>() : nullptr, rows, n, sv,
                            eps, needs.scale ? &ds : nullptr,
                            needs.bias ? &db : nullptr);
  }
  std::vector<Tensor> grads(hasBias ? 3 : 2);
  grads[0] = gx;
  if (needs.scale) {
    KILN_ASSIGN_OR_RETURN(grads[1], Tensor::fromDoubles(ds, normShape, ct));
  }
  if (needs.bias && hasBias) {
    KILN_ASSIGN_OR_RETURN(grads[2], Tensor::fromDoubles(db, normShape, ct));
  }
  return grads;
}

NormNeeds normNeeds(const Tensor &x, const Tensor &scale, const Tensor &bias) {
  return {x.requiresGrad(), scale.requiresGrad(),
          bias.defined() && bias.requiresGrad()};
}

/// Shape [1, C, 1, ...] of rank r, to broadcast a per-channel vector.
Shape channelShape(int64_t c, int64_t rank) {
  Shape s(size_t(rank), 1);
  s[1] = c;
  return s;
}

/// Every dim but the channel dim 1.
std::vector<int64_t> nonChannelAxes(int64_t rank) {
  std::vector<int64_t> axes = {0};
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  return axes;
}

/// batch_norm (inference form) backward: y = (x - mean) * k + bias with
/// k = scale / sqrt(var + eps), all per channel.
Expected<std::vector<Tensor>> batchNormBackward(const Tensor &x,
                                                const Tensor &scale,
                                                const Tensor &mean,
                                                const Tensor &variance,
                                                const Tensor &gradOut,
                                                double eps) {
  int64_t c = x.shape()[1];
  DType ct = x.dtype() == DType::F64 ? DType::F64 : DType::F32;
  std::vector<double> sv = scale.toDoubles(), mv = mean.toDoubles(),
                      vv = variance.toDoubles(), k(static_cast<size_t>(c)), negMean(static_cast<size_t>(c));
  for (size_t i = 0; i < size_t(c); ++i) {
    k[i] = sv[i] / std::sqrt(vv[i] + eps);
    negMean[i] = -mv[i];
  }
  Shape bshape = channelShape(c, x.rank());
  std::vector<int64_t> axes = nonChannelAxes(x.rank());
  KILN_ASSIGN_OR_RETURN(Tensor gy, asComputeType(gradOut, ct));
  KILN_ASSIGN_OR_RETURN(Tensor xc, asComputeType(x, ct));
  KILN_ASSIGN_OR_RETURN(Tensor kt, Tensor::fromDoubles(k, bshape, ct));
  KILN_ASSIGN_OR_RETURN(Tensor mt, Tensor::fromDoubles(negMean, bshape, ct));
  KILN_ASSIGN_OR_RETURN(Tensor gx, mul(gy, kt));
  KILN_ASSIGN_OR_RETURN(Tensor gb, sum(gy, axes));
  KILN_ASSIGN_OR_RETURN(Tensor weighted, gy * (xc + mt));
  KILN_ASSIGN_OR_RETURN(Tensor gxc, sum(weighted, axes));
  std::vector<double> sg = gb.toDoubles(), sgx = gxc.toDoubles();
  std::vector<double> ds(static_cast<size_t>(c)), dm(static_cast<size_t>(c)), dv(static_cast<size_t>(c));
  for (size_t i = 0; i < size_t(c); ++i) {
    double inv = 1.0 / std::sqrt(vv[i] + eps);
    ds[i] = sgx[i] * inv;
    dm[i] = -sg[i] * k[i];
    dv[i] = -0.5 * sgx[i] * sv[i] * inv * inv * inv;
  }
  std::vector<Tensor> grads(5);
  grads[0] = gx;
  KILN_ASSIGN_OR_RETURN(grads[1], Tensor::fromDoubles(ds, {c}, ct));
  grads[2] = gb;
  KILN_ASSIGN_OR_RETURN(grads[3], Tensor::fromDoubles(dm, {c}, ct));
  KILN_ASSIGN_OR_RETURN(grads[4], Tensor::fromDoubles(dv, {c}, ct));
  return grads;
}

/// Training-mode batch norm on x viewed as [N, C, inner]: per channel,
/// statistics over N * inner values, one parallel task per channel.
template <typename C>
void batchNormTrainingForward(const C *x, C *y, int64_t n, int64_t c,
                              int64_t inner, const std::vector<double> &scale,
                              const std::vector<double> &bias, double eps,
                              std::vector<double> &mean, std::vector<double> &var) {
  double count = double(n * inner);
  ThreadPool::global().parallelFor(0, c, 1, [&](int64_t b, int64_t e) {
    for (int64_t ch = b; ch < e; ++ch) {
      double m = 0;
      for (int64_t i = 0; i < n; ++i) {
        const C *p = x + (i * c + ch) * inner;
        for (int64_t j = 0; j < inner; ++j)
          m += double(p[j]);
      }
      m /= count;
      double v = 0;
      for (int64_t i = 0; i < n; ++i) {
        const C *p = x + (i * c + ch) * inner;
        for (int64_t j = 0; j < inner; ++j)
          v += (double(p[j]) - m) * (double(p[j]) - m);
      }
      v /= count;
      mean[size_t(ch)] = m;
      var[size_t(ch)] = v;
      double k = scale[size_t(ch)] / std::sqrt(v + eps);
      double off = bias[size_t(ch)] - m * k;
      C kc = C(k), oc = C(off);
      for (int64_t i = 0; i < n; ++i) {
        const C *p = x + (i * c + ch) * inner;
        C *q = y + (i * c + ch) * inner;
        for (int64_t j = 0; j < inner; ++j)
          q[j] = p[j] * kc + oc;
      }
    }
  });
}

/// Its backward: dx = scale * rstd / M * (M dy - sum(dy) - xhat sum(dy xhat))
/// with M = N * inner; dscale = sum(dy xhat); dbias = sum(dy).
template <typename C>
void batchNormTrainingBackwardKernel(const C *x, const C *gy, C *gx, int64_t n,
                                     int64_t c, int64_t inner,
                                     const std::vector<double> &scale,
                                     const std::vector<double> &mean,
                                     const std::vector<double> &var, double eps,
                                     std::vector<double> &dscale,
                                     std::vector<double> &dbias) {
  double count = double(n * inner);
  ThreadPool::global().parallelFor(0, c, 1, [&](int64_t b, int64_t e) {
    for (int64_t ch = b; ch < e; ++ch) {
      double m = mean[size_t(ch)], rs = 1.0 / std::sqrt(var[size_t(ch)] + eps);
      double sg = 0, sgx = 0;
      for (int64_t i = 0; i < n; ++i) {
        const C *p = x + (i * c + ch) * inner, *g = gy + (i * c + ch) * inner;
        for (int64_t j = 0; j < inner; ++j) {
          sg += double(g[j]);
          sgx += double(g[j]) * (double(p[j]) - m) * rs;
        }
      }
      dscale[size_t(ch)] = sgx;
      dbias[size_t(ch)] = sg;
      if (!gx)
        continue;
      double k = scale[size_t(ch)] * rs;
      for (int64_t i = 0; i < n; ++i) {
        const C *p = x + (i * c + ch) * inner, *g = gy + (i * c + ch) * inner;
        C *q = gx + (i * c + ch) * inner;
        for (int64_t j = 0; j < inner; ++j) {
          double xhat = (double(p[j]) - m) * rs;
          q[j] = C(k * (double(g[j]) - sg / count - xhat * sgx / count));
        }
      }
    }
  });
}

} // namespace

Expected<Tensor> layerNorm(const Tensor &x, const Tensor &scale,
                           const Tensor &bias, int64_t axis, double epsilon) {
  auto forward = [&] { return layerNormForward(x, scale, bias, axis, epsilon); };
  if (!bias.defined())
    return autograd::differentiable("layer_norm", {x, scale}, forward, [&] {
      NormNeeds needs = normNeeds(x, scale, bias);
      return autograd::BackwardFn(
          [xs = x.detach(), ss = scale.detach(), axis, epsilon,
           needs](const Tensor &gy, const Tensor &) {
            return layerNormBackward(xs, ss, gy, axis, epsilon, needs, false);
          });
    });
  return autograd::differentiable("layer_norm", {x, scale, bias}, forward, [&] {
    NormNeeds needs = normNeeds(x, scale, bias);
    return autograd::BackwardFn(
        [xs = x.detach(), ss = scale.detach(), axis, epsilon,
         needs](const Tensor &gy, const Tensor &) {
          return layerNormBackward(xs, ss, gy, axis, epsilon, needs, true);
        });
  });
}

Expected<Tensor> batchNorm(const Tensor &x, const Tensor &scale,
                           const Tensor &bias, const Tensor &mean,
                           const Tensor &variance, double epsilon) {
  return autograd::differentiable(
      "batch_norm", {x, scale, bias, mean, variance},
      [&] { return batchNormForward(x, scale, bias, mean, variance, epsilon); },
      [&] {
        return autograd::BackwardFn(
            [xs = x.detach(), ss = scale.detach(), ms = mean.detach(),
             vs = variance.detach(), epsilon](const Tensor &gy, const Tensor &) {
              return batchNormBackward(xs, ss, ms, vs, gy, epsilon);
            });
      });
}

Expected<BatchNormTrainingResult> batchNormTraining(const Tensor &x,
                                                    const Tensor &scale,
                                                    const Tensor &bias,
                                                    double epsilon) {
  const char *op = "batch_norm_training";
  KILN_RETURN_IF_ERROR(eager::checkInputs(op, {&x, &scale, &bias}));
  KILN_RETURN_IF_ERROR(checkFloat(op, x));
  if (x.rank() < 2)
    return invalidArgument("op '", op, "': input of rank ", x.rank(),
                           " has no channel dim 1");
  if (!(epsilon >= 0))
    return invalidArgument("op '", op, "': epsilon must be >= 0");
  int64_t n = x.shape()[0], c = x.shape()[1], inner = 1;
  for (int64_t d = 2; d < x.rank(); ++d)
    inner *= x.shape()[size_t(d)];
  if (n * inner <= 1)
    return invalidArgument("op '", op, "': expected more than 1 value per "
                           "channel when training, got input ",
                           shapes::toString(x.shape()));
  Shape cShape = {c};
  KILN_ASSIGN_OR_RETURN(auto sv, paramValues(op, "scale", scale, cShape));
  KILN_ASSIGN_OR_RETURN(auto bv, paramValues(op, "bias", bias, cShape));
  std::vector<double> mean(static_cast<size_t>(c)), var(static_cast<size_t>(c));
  auto forward = [&]() -> Expected<Tensor> {
    KILN_ASSIGN_OR_RETURN(Tensor in, computeCopy(x));
    KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(x.shape(), in.dtype()));
    if (in.dtype() == DType::F64)
      batchNormTrainingForward(in.data<double>(), out.data<double>(), n, c,
                               inner, sv, bv, epsilon, mean, var);
    else
      batchNormTrainingForward(in.data<float>(), out.data<float>(), n, c, inner,
                               sv, bv, epsilon, mean, var);
    return out.dtype() == x.dtype() ? Expected<Tensor>(out) : out.to(x.dtype());
  };
  KILN_ASSIGN_OR_RETURN(
      Tensor output,
      autograd::differentiable(op, {x, scale, bias}, forward, [&] {
        bool needX = x.requiresGrad();
        return autograd::BackwardFn(
            [xs = x.detach(), sv, mean, var, epsilon, n, c, inner,
             needX](const Tensor &gyIn, const Tensor &) -> Expected<std::vector<Tensor>> {
              KILN_ASSIGN_OR_RETURN(Tensor xc, computeCopy(xs));
              DType ct = xc.dtype();
              KILN_ASSIGN_OR_RETURN(Tensor gy, gyIn.dtype() == ct
                                                   ? gyIn.contiguous()
                                                   : gyIn.to(ct));
              Tensor gx;
              if (needX) {
                KILN_ASSIGN_OR_RETURN(gx, Tensor::empty(xs.shape(), ct));
              }
              std::vector<double> ds(static_cast<size_t>(c)), db(static_cast<size_t>(c));
              if (ct == DType::F64)
                batchNormTrainingBackwardKernel(
                    xc.data<double>(), gy.data<double>(),
                    needX ? gx.data<double>() : nullptr, n, c, inner, sv, mean,
                    var, epsilon, ds, db);
              else
                batchNormTrainingBackwardKernel(
                    xc.data<float>(), gy.data<float>(),
                    needX ? gx.data<float>() : nullptr, n, c, inner, sv, mean,
                    var, epsilon, ds, db);
              std::vector<Tensor> grads(3);
              grads[0] = gx;
              KILN_ASSIGN_OR_RETURN(grads[1], Tensor::fromDoubles(ds, {c}, ct));
              KILN_ASSIGN_OR_RETURN(grads[2], Tensor::fromDoubles(db, {c}, ct));
              return grads;
            });
      }));
  BatchNormTrainingResult result;
  result.output = std::move(output);
  DType statType = scale.dtype();
  std::vector<double> unbiased(var);
  double count = double(n * inner);
  for (double &v : unbiased)
    v *= count / (count - 1);
  KILN_ASSIGN_OR_RETURN(result.mean, Tensor::fromDoubles(mean, cShape, statType));
  KILN_ASSIGN_OR_RETURN(result.variance, Tensor::fromDoubles(var, cShape, statType));
  KILN_ASSIGN_OR_RETURN(result.unbiasedVariance,
                        Tensor::fromDoubles(unbiased, cShape, statType));
  return result;
}

} // namespace kiln
