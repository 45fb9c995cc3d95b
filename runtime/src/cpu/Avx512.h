//===- Avx512.h - Pieces shared by Kiln's AVX-512 kernels -----------------===//
//
// Internal. Kiln's own pooling and convolution kernels (MaxPool,
// DirectConv, DepthwiseConv, PointwiseConv) are written for AVX-512 and
// offered only when the CPU has it; these are the pieces they share.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_AVX512_H
#define KILN_RUNTIME_CPU_AVX512_H

#include "CpuFeatures.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/// GCC 12 warns that its own AVX-512 headers read an uninitialized value
/// (the _mm*_undefined_* operand of the 512-to-256/128-bit narrowing
/// intrinsics; GCC bug 105593, fixed in 13). Kernels that use those
/// intrinsics are bracketed by these two.
#if defined(__GNUC__) && !defined(__clang__)
#define KILN_AVX512_NARROWING_BEGIN                                            \
  _Pragma("GCC diagnostic push")                                               \
  _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")                        \
  _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define KILN_AVX512_NARROWING_END _Pragma("GCC diagnostic pop")
#else
#define KILN_AVX512_NARROWING_BEGIN
#define KILN_AVX512_NARROWING_END
#endif

namespace kiln::cpu {

/// Whether the CPU runs AVX-512F and the user did not switch it off
/// (asked once; CpuFeatures.h).
inline bool haveAvx512() {
#if defined(__x86_64__)
  static const bool have = cpuFeatureUsable("avx512f");
  return have;
#else
  return false;
#endif
}

#if defined(__x86_64__)
/// 16 inputs for 16 outputs at horizontal stride S (1 or 2) from `p`: at
/// stride 2 the even lanes of two loads.
template <int S>
__attribute__((target("avx512f"))) inline __m512 loadStrided(const float *p) {
  static_assert(S == 1 || S == 2, "horizontal stride 1 or 2");
  if constexpr (S == 1) {
    return _mm512_loadu_ps(p);
  } else {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
                                           20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), even,
                                  _mm512_loadu_ps(p + 16));
  }
}
#endif

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_AVX512_H
