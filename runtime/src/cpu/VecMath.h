//===- VecMath.h - f32 exp, log, tanh, sigmoid, erf on vector lanes --------===//
//
// Internal. The one place where the runtime's f32 transcendental functions
// are written without libm, so that they vectorize: the elementwise kernels
// (ElementwiseKernels.cpp), softmax (Normalization.cpp) and the fused LSTM
// and GRU (RecurrentLanes.inc) all use these.
//
// Each function is a template over the lane type V: `float` (one lane) or a
// GCC vector of floats (Float4, Float8). The same operations run in the same
// order at every width, so a width only changes speed; the compiler may
// contract a * b + c into an FMA where the caller's target has one (GCC
// contracts by default in C++), which changes the last bit, never the error
// bound. The 8-lane forms are inlined into functions compiled with
// __attribute__((target("avx2,fma"))) and chosen at run time
// (applyArray below, haveAvx2Fma), the same way the recurrent kernels pick
// their AVX2 build; the runtime itself is built for baseline x86-64, where
// Float4 is SSE2. GCC only, like the recurrent kernels: clang rejects 32-byte
// vector arguments in a function without AVX, so it builds the 4-lane path.
// The GCC note about the 32-byte vector ABI (-Wpsabi) is switched off for
// the runtime in runtime/CMakeLists.txt: these functions are always inlined
// and never cross an ABI boundary.
//
// Accuracy against the correctly rounded f64 result, measured by
// test/unit/runtime/VecMathTest.cpp over dense sweeps (normal-range
// results): exp 1 ulp (Cephes expf), log 1 ulp (Cephes logf), tanh 1.3 ulp,
// sigmoid 2.5 ulp, softplus 2.7 ulp, erf 3.8e-7 absolute (Eigen's and XLA's
// rational form); all far inside DESIGN.md's f32 tolerance. Special values follow libm:
// exp(-inf) = 0, exp(x > 88.73) = inf, exp of (-103.97, -87.34) is
// subnormal (rounded once), log(0) = -inf, log(x < 0) = NaN, log of a
// subnormal is exact-range, tanh(+-inf) = +-1, sigmoid(-inf) = 0,
// sigmoid(inf) = 1, NaN in gives NaN out.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_VECMATH_H
#define KILN_RUNTIME_CPU_VECMATH_H

#include "CpuFeatures.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KILN_VECMATH_AVX2 1
#else
#define KILN_VECMATH_AVX2 0
#endif

#define KILN_VECMATH_INLINE inline __attribute__((always_inline))

namespace kiln::cpu::vecmath {

using Float4 = float __attribute__((vector_size(16)));
using Float8 = float __attribute__((vector_size(32)));
using Int4 = int32_t __attribute__((vector_size(16)));
using Int8 = int32_t __attribute__((vector_size(32)));
using Float16 = float __attribute__((vector_size(64)));
using Int16 = int32_t __attribute__((vector_size(64)));

/// The integer lanes that go with V, and the conversions between them.
template <typename V> struct LaneTraits;
template <> struct LaneTraits<float> {
  using I = int32_t;
  static KILN_VECMATH_INLINE float splat(float c) { return c; }
  static KILN_VECMATH_INLINE I toInt(float x) { return int32_t(x); }
  static KILN_VECMATH_INLINE float toFloat(I i) { return float(i); }
  static KILN_VECMATH_INLINE I bits(float x) { return std::bit_cast<I>(x); }
  static KILN_VECMATH_INLINE float fromBits(I i) { return std::bit_cast<float>(i); }
};
template <typename VF, typename VI> struct VectorTraits {
  using I = VI;
  static KILN_VECMATH_INLINE VF splat(float c) { return VF{} + c; }
  static KILN_VECMATH_INLINE VI toInt(VF x) { return __builtin_convertvector(x, VI); }
  static KILN_VECMATH_INLINE VF toFloat(VI i) { return __builtin_convertvector(i, VF); }
  // A GCC vector cast reinterprets the bits (std::bit_cast of a vector
  // trips GCC 12's -fsanitize=undefined with a false null load at -O0).
  static KILN_VECMATH_INLINE VI bits(VF x) { return (VI)x; }
  static KILN_VECMATH_INLINE VF fromBits(VI i) { return (VF)i; }
};
template <> struct LaneTraits<Float4> : VectorTraits<Float4, Int4> {};
template <> struct LaneTraits<Float8> : VectorTraits<Float8, Int8> {};
template <> struct LaneTraits<Float16> : VectorTraits<Float16, Int16> {};

/// Lanes of a or b by mask m (a comparison of V's): `?:` lane by lane.
template <typename M, typename V>
KILN_VECMATH_INLINE V select(M m, V a, V b) {
  return m ? a : b;
}

/// e^x. Cephes' expf: n = round(x / ln2), r = x - n ln2 in two parts
/// (exact for |n| <= 150), e^r by a degree-5 polynomial, then 2^n applied as
/// two factors 2^(n/2) so that n in [-150, 128] neither overflows the
/// exponent field nor flushes a subnormal result (it is rounded once, by the
/// last multiply).
template <typename V> KILN_VECMATH_INLINE V exp(V x) {
  using L = LaneTraits<V>;
  using I = typename L::I;
  // Outside [-104, 89] the result is 0 or inf anyway; NaN computes on 0
  // (a float-to-int conversion of NaN is undefined) and is put back last.
  V t = select(x < -104.0f, L::splat(-104.0f), x);
  t = select(t > 89.0f, L::splat(89.0f), t);
  t = select(x == x, t, L::splat(0.0f));
  // Round to nearest with the 1.5 * 2^23 trick (SSE2 has no round).
  V n = (t * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  V r = t - n * 0.693359375f + n * 2.12194440e-4f;
  V p = L::splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  V y = p * r * r + r + 1.0f;
  I k = L::toInt(n);
  I k1 = k >> 1, k2 = k - k1; // both in [-75, 64]
  V s1 = L::fromBits((k1 + 127) << 23), s2 = L::fromBits((k2 + 127) << 23);
  return select(x == x, y * s1 * s2, x);
}

/// ln x. Cephes' logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln(m) by
/// a degree-9 polynomial in m - 1, e ln2 added in two parts. Subnormals are
/// scaled by 2^23 first.
template <typename V> KILN_VECMATH_INLINE V log(V x) {
  using L = LaneTraits<V>;
  using I = typename L::I;
  auto subnormal = x < std::numeric_limits<float>::min();
  V xs = select(subnormal, x * 8388608.0f, x);
  I b = L::bits(xs);
  V e = L::toFloat(((b >> 23) & 0xff) - 126) -
        select(subnormal, L::splat(23.0f), L::splat(0.0f));
  V m = L::fromBits((b & 0x007fffff) | 0x3f000000); // [0.5, 1)
  auto low = m < 0.707106781186547524f;
  e = select(low, e - 1.0f, e);
  m = select(low, m + m, m) - 1.0f; // exact
  V z = m * m;
  V y = L::splat(7.0376836292e-2f);
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  y = y + e * -2.12194440e-4f;
  y = y - 0.5f * z;
  V r = (m + y) + e * 0.693359375f;
  constexpr float inf = std::numeric_limits<float>::infinity();
  r = select(x == 0.0f, L::splat(-inf), r);
  r = select(x < 0.0f, L::splat(std::numeric_limits<float>::quiet_NaN()), r);
  r = select(x == inf, x, r);
  return select(x == x, r, x);
}

/// |x| and x's sign bit on a.
template <typename V> KILN_VECMATH_INLINE V absLanes(V x) {
  using L = LaneTraits<V>;
  return L::fromBits(L::bits(x) & 0x7fffffff);
}
template <typename V> KILN_VECMATH_INLINE V withSignOf(V a, V x) {
  using L = LaneTraits<V>;
  return L::fromBits(L::bits(a) | (L::bits(x) & int32_t(0x80000000u)));
}

/// tanh x: Cephes' tanhf. x + x^3 P(x^2) below |x| = 0.625 (relative
/// accuracy near 0), 1 - 2 / (e^2|x| + 1) above, with x's sign: exactly
/// +-1 from |x| ~ 9 on, and at +-inf.
template <typename V> KILN_VECMATH_INLINE V tanh(V x) {
  V a = absLanes(x);
  V z = a * a;
  V p = (((-5.70498872745e-3f * z + 2.06390887954e-2f) * z -
          5.37397155531e-2f) * z + 1.33314422036e-1f) * z - 3.33332819422e-1f;
  V small = p * z * a + a;
  V large = 1.0f - 2.0f / (exp(a + a) + 1.0f);
  // On |x| and then x's sign: tanh is odd, and -0 stays -0.
  return withSignOf(select(a < 0.625f, small, large), x);
}

/// 1 / (1 + e^-x), from e = e^-|x| (never overflows): 1 / (1 + e) for
/// x >= 0, e / (1 + e) below, which keeps the relative accuracy of the
/// tail down to the subnormals instead of dividing by inf.
template <typename V> KILN_VECMATH_INLINE V sigmoid(V x) {
  V e = exp(-absLanes(x));
  V q = 1.0f / (1.0f + e);
  return select(x < 0.0f, e * q, q);
}

/// erf x: the rational form of Eigen and XLA on [-4, 4] (|erf| rounds to 1
/// beyond), x P(x^2) / Q(x^2): relative accuracy near 0 (2 ulp), absolute
/// error 3.3e-7 near |x| = 4, 3.8e-7 without FMA (libm's erff: 6e-8).
template <typename V> KILN_VECMATH_INLINE V erf(V x) {
  using L = LaneTraits<V>;
  V c = select(x < -4.0f, L::splat(-4.0f), x);
  c = select(c > 4.0f, L::splat(4.0f), c);
  V z = c * c;
  V p = L::splat(-2.72614225801306e-10f);
  p = p * z + 2.77068142495902e-08f;
  p = p * z - 2.10102402082508e-06f;
  p = p * z - 5.69250639462346e-05f;
  p = p * z - 7.34990630326855e-04f;
  p = p * z - 2.95459980854025e-03f;
  p = p * z - 1.60960333262415e-02f;
  V q = L::splat(-1.45660718464996e-05f);
  q = q * z - 2.13374055278905e-04f;
  q = q * z - 1.68282697438203e-03f;
  q = q * z - 7.37332916720468e-03f;
  q = q * z - 1.42647390514189e-02f;
  V r = c * (p / q); // p / q first: c p would underflow for tiny c
  r = select(r > 1.0f, L::splat(1.0f), r);
  return select(r < -1.0f, L::splat(-1.0f), r);
}

/// log(1 + e^x) = max(x, 0) + log1p(e^-|x|); log1p(u - 1) as
/// log(u) (u - 1 exact) scaled by e / (u - 1) (Goldberg's trick), so that a
/// tiny e^-|x| keeps its relative accuracy.
template <typename V> KILN_VECMATH_INLINE V softplus(V x) {
  using L = LaneTraits<V>;
  V e = exp(-absLanes(x));
  V u = 1.0f + e;
  V l = select(u == 1.0f, e, log(u) * (e / (u - 1.0f)));
  return select(x > 0.0f, x, L::splat(0.0f)) + l;
}

/// The functions applyArray runs over arrays; the elementwise ops map onto
/// these (gelu is the erf form, geluTanh the tanh one).
enum class Fn { Exp, Log, Tanh, Sigmoid, Erf, Gelu, GeluTanh, Silu, Softplus };

template <Fn fn, typename V> KILN_VECMATH_INLINE V apply(V x) {
  if constexpr (fn == Fn::Exp)
    return exp(x);
  else if constexpr (fn == Fn::Log)
    return log(x);
  else if constexpr (fn == Fn::Tanh)
    return tanh(x);
  else if constexpr (fn == Fn::Sigmoid)
    return sigmoid(x);
  else if constexpr (fn == Fn::Erf)
    return erf(x);
  else if constexpr (fn == Fn::Gelu)
    return 0.5f * x * (1.0f + erf(x * 0.70710678118654752440f));
  else if constexpr (fn == Fn::GeluTanh)
    // 0.5 (1 + tanh u) = sigmoid(2u): no cancellation for negative x.
    return x * sigmoid(1.5957691216057307f * (x + 0.044715f * x * x * x));
  else if constexpr (fn == Fn::Silu)
    return x * sigmoid(x);
  else
    return softplus(x);
}

/// y[i] = fn(x[i]) with lanes of V; the tail runs as one zero-padded vector,
/// so every element of an array gets the same arithmetic. y may equal x.
template <Fn fn, typename V>
KILN_VECMATH_INLINE void applyLanes(const float *x, float *y, int64_t n) {
  constexpr int64_t w = int64_t(sizeof(V) / sizeof(float));
  int64_t i = 0;
  for (; i + w <= n; i += w) {
    V v;
    std::memcpy(&v, x + i, sizeof(V));
    v = apply<fn>(v);
    std::memcpy(y + i, &v, sizeof(V));
  }
  if (i < n) {
    float buf[w] = {};
    size_t rest = size_t(n - i) * sizeof(float);
    std::memcpy(buf, x + i, rest);
    V v;
    std::memcpy(&v, buf, sizeof(V));
    v = apply<fn>(v);
    std::memcpy(buf, &v, sizeof(V));
    std::memcpy(y + i, buf, rest);
  }
}

/// True when the CPU has AVX2 and FMA (checked once).
inline bool haveAvx2Fma() {
#if KILN_VECMATH_AVX2
  static const bool have =
      cpuFeatureUsable("avx2") && cpuFeatureUsable("fma");
  return have;
#else
  return false;
#endif
}

/// True when the CPU has AVX-512F (checked once).
inline bool haveAvx512F() {
#if KILN_VECMATH_AVX2
  static const bool have = cpuFeatureUsable("avx512f");
  return have;
#else
  return false;
#endif
}

#if KILN_VECMATH_AVX2
template <Fn fn>
__attribute__((target("avx2,fma"))) void applyArrayAvx2(const float *x, float *y,
                                                        int64_t n) {
  applyLanes<fn, Float8>(x, y, n);
}
template <Fn fn>
__attribute__((target("avx512f"))) void applyArrayAvx512(const float *x,
                                                         float *y, int64_t n) {
  applyLanes<fn, Float16>(x, y, n);
}
#endif

/// y[i] = fn(x[i]) for i in [0, n): 16 lanes of AVX-512F or 8 of AVX2+FMA
/// where the CPU has them (GELU over 8192 floats: ~2.5 us against ~5 at 8
/// lanes), 4 lanes of the baseline otherwise. y may equal x.
template <Fn fn> void applyArray(const float *x, float *y, int64_t n) {
#if KILN_VECMATH_AVX2
  if (haveAvx512F()) {
    applyArrayAvx512<fn>(x, y, n);
    return;
  }
  if (haveAvx2Fma()) {
    applyArrayAvx2<fn>(x, y, n);
    return;
  }
#endif
  applyLanes<fn, Float4>(x, y, n);
}

} // namespace kiln::cpu::vecmath

#endif // KILN_RUNTIME_CPU_VECMATH_H
