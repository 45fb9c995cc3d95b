//===- ClampActivation.h - relu / relu6 epilogues of Kiln's conv kernels --===//
//
// Internal. The epilogue activations that Kiln's own convolution kernels
// (DepthwiseConv, PointwiseConv) apply to an AVX-512 vector of results
// before storing it: the clamping ones, which cost two compares at most.
// Same bits as the eager kernels: relu maps x <= 0 (-0 included) to +0,
// relu6 is the eager clip(0, 6) (x < 0 -> 0, x > 6 -> 6, -0 kept); NaN
// stays NaN in both (ordered compares are false for it).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_CLAMPACTIVATION_H
#define KILN_RUNTIME_CPU_CLAMPACTIVATION_H

#include <optional>
#include <string_view>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln::cpu {

enum class ClampActivation { None, Relu, Relu6 };

/// The clamping activation by its kiln.conv2d name; nullopt for others.
inline std::optional<ClampActivation> clampActivation(std::string_view name) {
  if (name == "none")
    return ClampActivation::None;
  if (name == "relu")
    return ClampActivation::Relu;
  if (name == "relu6")
    return ClampActivation::Relu6;
  return std::nullopt;
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) inline __m512 applyClamp(__m512 a,
                                                             ClampActivation act) {
  const __m512 zero = _mm512_setzero_ps();
  if (act == ClampActivation::Relu)
    return _mm512_mask_mov_ps(a, _mm512_cmp_ps_mask(a, zero, _CMP_LE_OQ), zero);
  if (act == ClampActivation::Relu6) {
    const __m512 six = _mm512_set1_ps(6.f);
    a = _mm512_mask_mov_ps(a, _mm512_cmp_ps_mask(a, zero, _CMP_LT_OQ), zero);
    return _mm512_mask_mov_ps(a, _mm512_cmp_ps_mask(a, six, _CMP_GT_OQ), six);
  }
  return a;
}
#endif

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_CLAMPACTIVATION_H
