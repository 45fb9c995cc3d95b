//===- Normalization.cpp - softmax, log_softmax, layer_norm, batch_norm ----===//
//
// Each works on a contiguous f32/f64 copy of its input viewed as
// [outer, n, inner] around the normalized dims, one parallel task per
// (outer, inner) line, accumulating in f64; f16/bf16 are widened to f32 once
// and the result rounded once.
//
//===----------------------------------------------------------------------===//
#include "kiln/NNOps.h"

#include "EagerUtil.h"
#include "kiln/ThreadPool.h"

#include <cmath>

namespace kiln {

namespace {

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

template <typename C>
void softmaxLines(const C *in, C *out, int64_t outer, int64_t n, int64_t inner,
                  bool logForm) {
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

template <typename C>
void layerNormRows(const C *in, C *out, int64_t rows, int64_t n,
                   const std::vector<double> &scale,
                   const std::vector<double> *bias, double eps) {
  ThreadPool::global().parallelFor(
      0, rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)),
      [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          const C *x = in + r * n;
          C *y = out + r * n;
          double mean = 0;
          for (int64_t j = 0; j < n; ++j)
            mean += double(x[j]);
          mean /= double(n);
          double var = 0;
          for (int64_t j = 0; j < n; ++j)
            var += (double(x[j]) - mean) * (double(x[j]) - mean);
          var /= double(n);
          double inv = 1.0 / std::sqrt(var + eps);
          for (int64_t j = 0; j < n; ++j)
            y[j] = C((double(x[j]) - mean) * inv * scale[size_t(j)] +
                     (bias ? (*bias)[size_t(j)] : 0.0));
        }
      });
}

} // namespace

Expected<Tensor> softmax(const Tensor &x, int64_t axis) {
  return softmaxImpl(x, axis, false);
}
Expected<Tensor> logSoftmax(const Tensor &x, int64_t axis) {
  return softmaxImpl(x, axis, true);
}

Expected<Tensor> layerNorm(const Tensor &x, const Tensor &scale,
                           const Tensor &bias, int64_t axis, double epsilon) {
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

Expected<Tensor> batchNorm(const Tensor &x, const Tensor &scale,
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

} // namespace kiln
