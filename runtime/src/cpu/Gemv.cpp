//===- Gemv.cpp - Matrix-vector products for few-row GEMMs -----------------===//
//
// See Gemv.h. The AVX-512 and AVX2 kernels are compiled for their targets
// alone and chosen at run time; the portable one is what the compiler makes
// of plain loops.
//
//===----------------------------------------------------------------------===//
#include "Gemv.h"

#include "Avx512.h"
#include "kiln/ThreadPool.h"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln::cpu {

namespace {

void gemvPortable(int64_t m, int64_t k, const float *x, const float *w,
                  const float *bias, float *y, int64_t ldy, int64_t n0,
                  int64_t n1) {
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = n0; j < n1; ++j) {
      const float *wj = w + j * k, *xr = x + r * k;
      float acc = 0.f;
      for (int64_t p = 0; p < k; ++p)
        acc += xr[p] * wj[p];
      y[r * ldy + j] = acc + (bias ? bias[j] : 0.f);
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) void
gemvAvx2(int64_t m, int64_t k, const float *x, const float *w,
         const float *bias, float *y, int64_t ldy, int64_t n0, int64_t n1) {
  const int64_t kv = k / 8 * 8;
  for (int64_t r = 0; r < m; ++r) {
    const float *xr = x + r * k;
    int64_t j = n0;
    // Four outputs at a time: each load of x feeds four FMAs.
    for (; j + 4 <= n1; j += 4) {
      const float *w0 = w + j * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t p = 0; p < kv; p += 8) {
        __m256 xv = _mm256_loadu_ps(xr + p);
        a0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w0 + p), a0);
        a1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w1 + p), a1);
        a2 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w2 + p), a2);
        a3 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w3 + p), a3);
      }
      float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
      for (int64_t p = kv; p < k; ++p) {
        s0 += xr[p] * w0[p];
        s1 += xr[p] * w1[p];
        s2 += xr[p] * w2[p];
        s3 += xr[p] * w3[p];
      }
      float *yr = y + r * ldy + j;
      yr[0] = s0 + (bias ? bias[j] : 0.f);
      yr[1] = s1 + (bias ? bias[j + 1] : 0.f);
      yr[2] = s2 + (bias ? bias[j + 2] : 0.f);
      yr[3] = s3 + (bias ? bias[j + 3] : 0.f);
    }
    if (j < n1)
      gemvPortable(1, k, xr, w, bias, y + r * ldy, ldy, j, n1);
  }
}

/// Rows [0, R) of x against weight rows [0, J) of w, in 16-float steps (a
/// masked last step): each load of a weight row feeds R FMAs and each load
/// of x feeds J. With R = 1 the weights stream from cache at the load
/// ports' pace (9 loads per 8 FMAs, 512 bytes of weights a step); with
/// more rows the FMAs bound it, as they should. One step:
/// The sum of v's lanes.
KILN_AVX512_NARROWING_BEGIN
__attribute__((target("avx512f"))) inline float hsum512(__m512 v) {
  return _mm512_reduce_add_ps(v);
}
KILN_AVX512_NARROWING_END

template <int R, int J>
__attribute__((target("avx512f"))) inline void
gemvStep512(int64_t k, const float *x, const float *w, int64_t p,
            __mmask16 mask, __m512 (&acc)[R][J]) {
  __m512 wv[J];
  for (int j = 0; j < J; ++j)
    wv[j] = _mm512_maskz_loadu_ps(mask, w + j * k + p);
  for (int r = 0; r < R; ++r) {
    __m512 xv = _mm512_maskz_loadu_ps(mask, x + r * k + p);
    for (int j = 0; j < J; ++j)
      acc[r][j] = _mm512_fmadd_ps(xv, wv[j], acc[r][j]);
  }
}

template <int R, int J>
__attribute__((target("avx512f"))) inline void
gemvTile512(int64_t k, const float *x, const float *w, const float *bias,
            float *y, int64_t ldy) {
  __m512 acc[R][J];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j)
      acc[r][j] = _mm512_setzero_ps();
  int64_t p = 0;
  for (; p + 16 <= k; p += 16)
    gemvStep512<R, J>(k, x, w, p, __mmask16(0xffff), acc);
  if (p < k)
    gemvStep512<R, J>(k, x, w, p, __mmask16((1u << (k - p)) - 1), acc);
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j)
      y[r * ldy + j] = hsum512(acc[r][j]) + (bias ? bias[j] : 0.f);
}

/// Outputs [n0, n1) for R rows: tiles of J outputs, then single ones.
template <int R, int J>
__attribute__((target("avx512f"))) void
gemvRows512(int64_t k, const float *x, const float *w, const float *bias,
            float *y, int64_t ldy, int64_t n0, int64_t n1) {
  int64_t j = n0;
  for (; j + J <= n1; j += J)
    gemvTile512<R, J>(k, x, w + j * k, bias ? bias + j : nullptr, y + j, ldy);
  for (; j < n1; ++j)
    gemvTile512<R, 1>(k, x, w + j * k, bias ? bias + j : nullptr, y + j, ldy);
}

/// All m rows at once, so the weights are read once per call, not per row
/// (m <= kGemvMaxRows; more rows go four at a time).
__attribute__((target("avx512f"))) void
gemvAvx512(int64_t m, int64_t k, const float *x, const float *w,
           const float *bias, float *y, int64_t ldy, int64_t n0, int64_t n1) {
  for (int64_t r = 0; r < m;) {
    const float *xr = x + r * k;
    float *yr = y + r * ldy;
    switch (std::min<int64_t>(m - r, 4)) {
    case 1: gemvRows512<1, 8>(k, xr, w, bias, yr, ldy, n0, n1); r += 1; break;
    case 2: gemvRows512<2, 8>(k, xr, w, bias, yr, ldy, n0, n1); r += 2; break;
    case 3: gemvRows512<3, 6>(k, xr, w, bias, yr, ldy, n0, n1); r += 3; break;
    default: gemvRows512<4, 4>(k, xr, w, bias, yr, ldy, n0, n1); r += 4; break;
    }
  }
}

bool haveAvx2Fma() {
  static const bool have =
      cpuFeatureUsable("avx2") && cpuFeatureUsable("fma");
  return have;
}
#endif

} // namespace

void gemvRowsF32(int64_t m, int64_t k, const float *x, const float *w,
                 const float *bias, float *y, int64_t ldy, int64_t n0,
                 int64_t n1) {
#if defined(__x86_64__)
  if (haveAvx512())
    return gemvAvx512(m, k, x, w, bias, y, ldy, n0, n1);
  if (haveAvx2Fma())
    return gemvAvx2(m, k, x, w, bias, y, ldy, n0, n1);
#endif
  gemvPortable(m, k, x, w, bias, y, ldy, n0, n1);
}

int64_t gemvParts(int64_t m, int64_t k, int64_t n, int64_t threads) {
  return m * n * k < (int64_t(1) << 17) ? 1
                                         : std::clamp<int64_t>(n / 64, 1, threads);
}

void gemvF32(int64_t m, int64_t k, const float *x, const float *w, float *y,
             int64_t n) {
  ThreadPool &pool = ThreadPool::global();
  int64_t parts = gemvParts(m, k, n, pool.numThreads());
  if (parts <= 1)
    return gemvRowsF32(m, k, x, w, nullptr, y, n, 0, n);
  pool.parallelFor(0, parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p)
      gemvRowsF32(m, k, x, w, nullptr, y, n, n * p / parts / 4 * 4,
                  p + 1 == parts ? n : n * (p + 1) / parts / 4 * 4);
  });
}

} // namespace kiln::cpu
