//===- Dispatch.h - dtype switches and value conversion for CPU kernels ----===//
//
// Internal. KILN_DISPATCH_* turn a runtime DType into a C++ type `T` inside
// the body; convertValue defines how one element converts to another type,
// the same way everywhere (saturating float->int, NaN -> 0).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_DISPATCH_H
#define KILN_RUNTIME_CPU_DISPATCH_H

#include "kiln/DType.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace kiln::cpu {

/// The type kernels compute in for storage type T: f32 for the 16-bit
/// floats, T itself otherwise.
template <typename T> struct ComputeOf { using type = T; };
template <> struct ComputeOf<Half> { using type = float; };
template <> struct ComputeOf<BFloat16> { using type = float; };
template <typename T> using ComputeT = typename ComputeOf<T>::type;

template <typename T> inline ComputeT<T> toCompute(T v) { return v; }
template <> inline float toCompute(Half v) { return halfToFloat(v); }
template <> inline float toCompute(BFloat16 v) { return bf16ToFloat(v); }

template <typename T> constexpr bool kIsReduced16 =
    std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

/// Converts one element, with the runtime's cast semantics.
template <typename To, typename From> inline To convertValue(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (kIsReduced16<From>) {
    return convertValue<To>(toCompute(v));
  } else if constexpr (std::is_same_v<To, Half>) {
    return floatToHalf(float(v));
  } else if constexpr (std::is_same_v<To, BFloat16>) {
    return floatToBf16(float(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    // Saturate: a plain cast of an out-of-range float is undefined.
    if (std::isnan(v))
      return 0;
    if (v <= From(std::numeric_limits<To>::min()))
      return std::numeric_limits<To>::min();
    if (v >= From(std::numeric_limits<To>::max()))
      return std::numeric_limits<To>::max();
    return To(v);
  } else {
    return To(v);
  }
}

} // namespace kiln::cpu

#define KILN_DTYPE_CASE(enumerator, type, ...)                                 \
  case ::kiln::DType::enumerator: {                                            \
    using T = type;                                                            \
    __VA_ARGS__;                                                               \
    break;                                                                     \
  }

/// Runs the body with T bound to the C++ type of `dtype` (all dtypes).
#define KILN_DISPATCH_ALL(dtype, ...)                                          \
  switch (dtype) {                                                             \
    KILN_DTYPE_CASE(F64, double, __VA_ARGS__)                                  \
    KILN_DTYPE_CASE(F32, float, __VA_ARGS__)                                   \
    KILN_DTYPE_CASE(F16, ::kiln::Half, __VA_ARGS__)                            \
    KILN_DTYPE_CASE(BF16, ::kiln::BFloat16, __VA_ARGS__)                       \
    KILN_DTYPE_CASE(I64, int64_t, __VA_ARGS__)                                 \
    KILN_DTYPE_CASE(I32, int32_t, __VA_ARGS__)                                 \
    KILN_DTYPE_CASE(I8, int8_t, __VA_ARGS__)                                   \
    KILN_DTYPE_CASE(Bool, bool, __VA_ARGS__)                                   \
  }

#endif // KILN_RUNTIME_CPU_DISPATCH_H
