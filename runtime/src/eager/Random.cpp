//===- Random.cpp - Seeded, counter-based random tensors -------------------===//
#include "kiln/Random.h"

#include "kiln/ThreadPool.h"
#include "../cpu/CpuFeatures.h"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln {

std::array<uint32_t, 4> philox4x32(uint64_t counter, uint64_t key) {
  return philox4x32({uint32_t(counter), uint32_t(counter >> 32), 0, 0},
                    {uint32_t(key), uint32_t(key >> 32)});
}

std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> ctr,
                                   std::array<uint32_t, 2> key) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(0xD2511F53u) * c0;
    uint64_t p1 = uint64_t(0xCD9E8D57u) * c2;
    uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
    c1 = uint32_t(p1);
    c3 = uint32_t(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u; // The Weyl key schedule.
    k1 += 0xBB67AE85u;
  }
  return {c0, c1, c2, c3};
}

namespace {

constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;

void philoxBlockScalar(uint64_t counter, uint64_t key, uint32_t (*out)[16]) {
  for (int i = 0; i < 16; ++i) {
    auto r = philox4x32(counter + uint64_t(i), key);
    for (int w = 0; w < 4; ++w)
      out[w][i] = r[size_t(w)];
  }
}

#if defined(__x86_64__)
// Philox's rounds need the high and low halves of 32x32-bit products:
// mul_epu32 multiplies the even 32-bit lanes into 64-bit products, so the
// odd lanes are shifted down for a second multiply and both are blended
// back into 32-bit lanes.
// GCC 12's AVX-512 headers seed results with _mm512_undefined_epi32(),
// which its own -Wuninitialized flags at every inlined use (GCC PR105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// (Helpers, not lambdas: a lambda does not inherit the target attribute.)
__attribute__((target("avx512f"))) inline void
mul512(__m512i a, __m512i m, __m512i &high, __m512i &low) {
  __m512i even = _mm512_mul_epu32(a, m);
  __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
  high = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
  low = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

__attribute__((target("avx2"))) inline void
mul256(__m256i a, __m256i m, __m256i &high, __m256i &low) {
  __m256i even = _mm256_mul_epu32(a, m);
  __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  high = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  low = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

__attribute__((target("avx512f"))) void
philoxBlockAvx512(uint64_t counter, uint64_t key, uint32_t (*out)[16]) {
  alignas(64) uint32_t lo[16], hi[16];
  for (int i = 0; i < 16; ++i) {
    uint64_t c = counter + uint64_t(i);
    lo[i] = uint32_t(c);
    hi[i] = uint32_t(c >> 32);
  }
  __m512i c0 = _mm512_load_si512(lo), c1 = _mm512_load_si512(hi);
  __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
  const __m512i m0 = _mm512_set1_epi32(int(kMul0)), m1 = _mm512_set1_epi32(int(kMul1));
  uint32_t k0 = uint32_t(key), k1 = uint32_t(key >> 32);
  for (int round = 0; round < 10; ++round) {
    __m512i h0, l0, h1, l1;
    mul512(c0, m0, h0, l0);
    mul512(c2, m1, h1, l1);
    __m512i n0 = _mm512_xor_si512(_mm512_xor_si512(h1, c1), _mm512_set1_epi32(int(k0)));
    __m512i n2 = _mm512_xor_si512(_mm512_xor_si512(h0, c3), _mm512_set1_epi32(int(k1)));
    c1 = l1;
    c3 = l0;
    c0 = n0;
    c2 = n2;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  _mm512_storeu_si512(out[0], c0);
  _mm512_storeu_si512(out[1], c1);
  _mm512_storeu_si512(out[2], c2);
  _mm512_storeu_si512(out[3], c3);
}

__attribute__((target("avx2"))) void
philoxBlockAvx2(uint64_t counter, uint64_t key, uint32_t (*out)[16]) {
  for (int half = 0; half < 2; ++half) {
    alignas(32) uint32_t lo[8], hi[8];
    for (int i = 0; i < 8; ++i) {
      uint64_t c = counter + uint64_t(half * 8 + i);
      lo[i] = uint32_t(c);
      hi[i] = uint32_t(c >> 32);
    }
    __m256i c0 = _mm256_load_si256(reinterpret_cast<const __m256i *>(lo));
    __m256i c1 = _mm256_load_si256(reinterpret_cast<const __m256i *>(hi));
    __m256i c2 = _mm256_setzero_si256(), c3 = _mm256_setzero_si256();
    const __m256i m0 = _mm256_set1_epi32(int(kMul0)), m1 = _mm256_set1_epi32(int(kMul1));
    uint32_t k0 = uint32_t(key), k1 = uint32_t(key >> 32);
    for (int round = 0; round < 10; ++round) {
      __m256i h0, l0, h1, l1;
      mul256(c0, m0, h0, l0);
      mul256(c2, m1, h1, l1);
      __m256i n0 = _mm256_xor_si256(_mm256_xor_si256(h1, c1), _mm256_set1_epi32(int(k0)));
      __m256i n2 = _mm256_xor_si256(_mm256_xor_si256(h0, c3), _mm256_set1_epi32(int(k1)));
      c1 = l1;
      c3 = l0;
      c0 = n0;
      c2 = n2;
      k0 += kWeyl0;
      k1 += kWeyl1;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(out[0] + half * 8), c0);
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(out[1] + half * 8), c1);
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(out[2] + half * 8), c2);
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(out[3] + half * 8), c3);
  }
}
#pragma GCC diagnostic pop
#endif

using BlockFn = void (*)(uint64_t, uint64_t, uint32_t (*)[16]);

BlockFn pickBlock() {
#if defined(__x86_64__)
  if (cpu::cpuFeatureUsable("avx512f"))
    return philoxBlockAvx512;
  if (cpu::cpuFeatureUsable("avx2"))
    return philoxBlockAvx2;
#endif
  return philoxBlockScalar;
}

/// A double in [0, 1) from 53 random bits.
double toUnit(uint32_t hi, uint32_t lo) {
  uint64_t bits = (uint64_t(hi) << 21) ^ (uint64_t(lo) >> 11);
  return double(bits & ((uint64_t(1) << 53) - 1)) * 0x1.0p-53;
}

template <typename Fn>
Expected<Tensor> fill(const Shape &shape, DType dtype, const char *what,
                      uint64_t base, uint64_t key, Fn &&valueOf) {
  if (!isFloat(dtype))
    return invalidArgument(what, ": dtype ", dtypeName(dtype),
                           " is not a float dtype");
  KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::empty(shape, dtype));
  char *p = static_cast<char *>(t.rawData());
  size_t es = sizeOf(dtype);
  ThreadPool::global().parallelFor(0, t.numel(), 16384, [&](int64_t b, int64_t e) {
    uint32_t words[4][16];
    for (int64_t i = b; i < e; i += 16) {
      philox4x32x16(base + uint64_t(i), key, words);
      int n = int(std::min<int64_t>(16, e - i));
      // Typed stores for the common dtypes: storeFromDouble's switch per
      // element cost as much as the generator.
      if (dtype == DType::F32) {
        float *f = reinterpret_cast<float *>(p) + i;
        for (int j = 0; j < n; ++j)
          f[j] = float(valueOf(words[0][j], words[1][j], words[2][j], words[3][j]));
      } else if (dtype == DType::F64) {
        double *d = reinterpret_cast<double *>(p) + i;
        for (int j = 0; j < n; ++j)
          d[j] = valueOf(words[0][j], words[1][j], words[2][j], words[3][j]);
      } else {
        for (int j = 0; j < n; ++j)
          storeFromDouble(dtype, p + size_t(i + j) * es,
                          valueOf(words[0][j], words[1][j], words[2][j], words[3][j]));
      }
    }
  });
  return t;
}
} // namespace

void philox4x32x16(uint64_t counter, uint64_t key, uint32_t (*out)[16]) {
  static const BlockFn block = pickBlock();
  block(counter, key, out);
}

Expected<Tensor> Generator::uniform(const Shape &shape, double lo, double hi,
                                    DType dtype) {
  if (!(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi))
    return invalidArgument("uniform: bad range [", lo, ", ", hi, ")");
  auto t = fill(shape, dtype, "uniform", offset_, seed_,
                [&](uint32_t r0, uint32_t r1, uint32_t, uint32_t) {
                  return lo + (hi - lo) * toUnit(r0, r1);
                });
  if (t)
    offset_ += uint64_t(t->numel());
  return t;
}

Expected<Tensor> Generator::normal(const Shape &shape, double mean, double std,
                                   DType dtype) {
  if (!(std >= 0) || !std::isfinite(std) || !std::isfinite(mean))
    return invalidArgument("normal: bad parameters mean=", mean, " std=", std);
  auto t = fill(shape, dtype, "normal", offset_, seed_,
                [&](uint32_t r0, uint32_t r1, uint32_t r2, uint32_t r3) {
                  double u1 = 1.0 - toUnit(r0, r1); // (0, 1]: log is finite.
                  double u2 = toUnit(r2, r3);
                  return mean + std * std::sqrt(-2.0 * std::log(u1)) *
                                    std::cos(6.283185307179586 * u2);
                });
  if (t)
    offset_ += uint64_t(t->numel());
  return t;
}

} // namespace kiln
