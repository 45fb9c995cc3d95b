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
