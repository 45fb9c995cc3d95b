//===- RecurrentKernels.h - What the fused LSTM and GRU share --------------===//
//
// A strided GEMM straight to BLAS (the per-step products are small, and
// kiln::matmul's allocation, checks and tuning cost as much as the product
// at [32, 128] x [128, 512]), split over the pool like Matmul.cpp does;
// branch-free f32 sigmoid/tanh from cpu/VecMath.h on GCC vectors (the libm
// calls do not vectorize, and five of them per hidden unit and step
// dominated the pointwise loops);
// and the dtype plumbing of the two ops.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_EAGER_RECURRENTKERNELS_H
#define KILN_RUNTIME_EAGER_RECURRENTKERNELS_H

#include "../cpu/VecMath.h"
#include "kiln/ThreadPool.h"
#include "kiln/Tensor.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#if KILN_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace kiln::eager::recurrent {

/// C[m, n] = op(A) op(B) + beta C, row-major with leading dimensions; op
/// transposes when ta / tb. Callers keep every size and leading dimension
/// below INT_MAX (checkBlasRange).
template <typename C>
void gemmSerial(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const C *a,
                int64_t lda, const C *b, int64_t ldb, C beta, C *c,
                int64_t ldc) {
  if (m <= 0 || n <= 0)
    return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        c[i * ldc + j] = beta == C(0) ? C(0) : beta * c[i * ldc + j];
    return;
  }
#if KILN_HAVE_OPENBLAS
  auto tA = ta ? CblasTrans : CblasNoTrans, tB = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<C, float>)
    cblas_sgemm(CblasRowMajor, tA, tB, int(m), int(n), int(k), 1.0f, a,
                int(lda), b, int(ldb), beta, c, int(ldc));
  else
    cblas_dgemm(CblasRowMajor, tA, tB, int(m), int(n), int(k), 1.0, a,
                int(lda), b, int(ldb), beta, c, int(ldc));
#else
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      C s = 0;
      for (int64_t p = 0; p < k; ++p)
        s += (ta ? a[p * lda + i] : a[i * lda + p]) *
             (tb ? b[j * ldb + p] : b[p * ldb + j]);
      c[i * ldc + j] = s + (beta == C(0) ? C(0) : beta * c[i * ldc + j]);
    }
#endif
}

/// gemmSerial split over the pool (row blocks of C, else column blocks)
/// when the product is big enough to pay for it. Every element of C still
/// comes from one call over the whole K.
template <typename C>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const C *a,
          int64_t lda, const C *b, int64_t ldb, C beta, C *c, int64_t ldc) {
  ThreadPool &pool = ThreadPool::global();
  int64_t threads = pool.numThreads();
  if (threads <= 1 || m * n * k < (int64_t(1) << 20)) {
    gemmSerial(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  bool rows = m >= 8 * threads;
  int64_t items = rows ? m : n, parts = std::min(threads, items);
  pool.parallelFor(0, parts, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t part = p0; part < p1; ++part) {
      int64_t lo = items * part / parts, hi = items * (part + 1) / parts;
      if (rows)
        gemmSerial(ta, tb, hi - lo, n, k, ta ? a + lo : a + lo * lda, lda, b,
                   ldb, beta, c + lo * ldc, ldc);
      else
        gemmSerial(ta, tb, m, hi - lo, k, a, lda, tb ? b + lo * ldb : b + lo,
                   ldb, beta, c + lo, ldc);
    }
  });
}

/// Runs fn(rowBegin, rowEnd) over `rows` rows of `width` elements each, in
/// parallel when there is enough work.
template <typename Fn>
void forRows(int64_t rows, int64_t width, const Fn &fn) {
  ThreadPool &pool = ThreadPool::global();
  if (pool.numThreads() <= 1 || rows * width < 8192) {
    fn(int64_t(0), rows);
    return;
  }
  int64_t grain = std::max<int64_t>(1, 2048 / std::max<int64_t>(width, 1));
  pool.parallelFor(0, rows, grain, fn);
}

/// Runs fn(rowBegin, rowEnd) once per group of the `rows` batch rows, one
/// group per pool thread, when the whole call has `work` multiply-adds or
/// more in all (~2^20: waking the pool costs several microseconds); else
/// fn(0, rows) here. For recurrences whose batch rows never meet: each
/// group runs every step of its rows, so the pool is woken once a call,
/// not once a step, and a row's state stays in one core's cache.
template <typename Fn>
void forRowGroups(int64_t rows, int64_t work, const Fn &fn) {
  ThreadPool &pool = ThreadPool::global();
  const int64_t groups = pool.numThreads() > 1 && work >= (int64_t(1) << 20)
                             ? std::min<int64_t>(pool.numThreads(), rows)
                             : 1;
  if (groups <= 1) {
    fn(int64_t(0), rows);
    return;
  }
  pool.parallelFor(0, groups, 1, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g)
      fn(rows * g / groups, rows * (g + 1) / groups);
  });
}

/// The activations in the compute type: f64 uses libm (the gradient checks
/// run in f64), f32 the vectorizable forms of cpu/VecMath.h.
template <typename C> struct Activations;
template <> struct Activations<double> {
  static double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
  static double tanh(double x) { return std::tanh(x); }
};
template <> struct Activations<float> {
  static float sigmoid(float x) { return cpu::vecmath::sigmoid(x); }
  static float tanh(float x) { return cpu::vecmath::tanh(x); }
};

/// One scalar lane of the compute type, for f64 and the f32 tails
/// (RecurrentLanes.inc has the f32 vectors).
template <typename C> struct ScalarLanes {
  using V = C;
  static constexpr int64_t width = 1;
  static V load(const C *p) { return *p; }
  static void store(C *p, V v) { *p = v; }
  static V sigmoid(V x) { return Activations<C>::sigmoid(x); }
  static V tanh(V x) { return Activations<C>::tanh(x); }
};

/// True when the CPU runs the AVX2 build of the pointwise loops.
inline bool haveAvx2() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool have = cpu::cpuFeatureUsable("avx2");
  return have;
#else
  return false;
#endif
}

/// out[j] = sum over `rows` rows of x[row * cols + j]: blocks of 64 rows
/// summed in C, the blocks in f64 (a conversion per element cost as much as
/// the sums).
template <typename C>
void columnSums(const C *x, int64_t rows, int64_t cols, C *out) {
  std::vector<double> sum(size_t(cols), 0.0);
  std::vector<C> block(static_cast<size_t>(cols));
  for (int64_t r0 = 0; r0 < rows; r0 += 64) {
    C *__restrict acc = block.data();
    std::memcpy(acc, x + r0 * cols, size_t(cols) * sizeof(C));
    for (int64_t row = r0 + 1; row < std::min(rows, r0 + 64); ++row) {
      const C *__restrict src = x + row * cols;
      for (int64_t j = 0; j < cols; ++j)
        acc[j] += src[j];
    }
    for (int64_t j = 0; j < cols; ++j)
      sum[size_t(j)] += double(acc[j]);
  }
  for (int64_t j = 0; j < cols; ++j)
    out[j] = C(sum[size_t(j)]);
}

/// The compute dtype of a float dtype: f16/bf16 widen to f32.
inline DType computeType(DType d) {
  return d == DType::F64 ? DType::F64 : DType::F32;
}

/// t as a contiguous tensor of `dtype`, copying only when needed.
inline Expected<Tensor> asCompute(const Tensor &t, DType dtype) {
  return t.dtype() == dtype ? t.contiguous() : t.to(dtype);
}

/// Sizes that reach BLAS must fit its int.
inline Status checkBlasRange(std::string_view op, std::initializer_list<int64_t> sizes) {
  for (int64_t s : sizes)
    if (s > INT_MAX)
      return invalidArgument("op '", op, "': dimensions exceed the BLAS int range");
  return Status();
}

} // namespace kiln::eager::recurrent

#endif // KILN_RUNTIME_EAGER_RECURRENTKERNELS_H
