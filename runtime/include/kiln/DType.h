//===- DType.h - Element types of Kiln tensors -----------------------------===//
//
// The element types a tensor can hold, their sizes and names, and the two
// 16-bit float formats. f16 and bf16 are storage types: kernels convert them
// to f32, compute, and round back (round to nearest even, NaN kept NaN).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_DTYPE_H
#define KILN_DTYPE_H

#include "kiln/Status.h"

#include <cstdint>
#include <cstring>
#include <string_view>

namespace kiln {

/// Element types. Names follow the dialect ("f32", "i1", ...).
enum class DType : unsigned char { F64, F32, F16, BF16, I64, I32, I8, Bool };

inline constexpr DType kAllDTypes[] = {DType::F64, DType::F32, DType::F16,
                                       DType::BF16, DType::I64, DType::I32,
                                       DType::I8,  DType::Bool};

/// Size of one element in bytes.
constexpr size_t sizeOf(DType t) {
  switch (t) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::I8:
  case DType::Bool:
    return 1;
  }
  return 0;
}

constexpr bool isFloat(DType t) {
  return t == DType::F64 || t == DType::F32 || t == DType::F16 ||
         t == DType::BF16;
}
constexpr bool isInteger(DType t) {
  return t == DType::I64 || t == DType::I32 || t == DType::I8;
}

/// "f64", "f32", "f16", "bf16", "i64", "i32", "i8", "i1".
std::string_view dtypeName(DType t);
/// Parses a dtype name; also accepts "bool" for i1.
Expected<DType> parseDType(std::string_view name);
std::ostream &operator<<(std::ostream &os, DType t);

/// IEEE binary16, as bits.
struct Half {
  uint16_t bits = 0;
};
/// bfloat16 (the top half of an f32), as bits.
struct BFloat16 {
  uint16_t bits = 0;
};

inline float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t floatToBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float bf16ToFloat(BFloat16 h) { return bitsToFloat(uint32_t(h.bits) << 16); }
inline BFloat16 floatToBf16(float f) {
  uint32_t u = floatToBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) // NaN: keep it quiet and NaN.
    return BFloat16{uint16_t((u >> 16) | 0x40)};
  u += 0x7fffu + ((u >> 16) & 1u); // Round to nearest even.
  return BFloat16{uint16_t(u >> 16)};
}

inline float halfToFloat(Half h) {
  uint32_t sign = uint32_t(h.bits & 0x8000u) << 16;
  uint32_t exp = (h.bits >> 10) & 0x1fu;
  uint32_t man = h.bits & 0x3ffu;
  if (exp == 0x1f) // Inf or NaN.
    return bitsToFloat(sign | 0x7f800000u | (man << 13));
  if (exp == 0) {
    if (man == 0)
      return bitsToFloat(sign);
    // Subnormal: value = man * 2^-24, exact in f32.
    float v = float(man) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  return bitsToFloat(sign | ((exp + 112u) << 23) | (man << 13));
}

inline Half floatToHalf(float f) {
  uint32_t u = floatToBits(f);
  uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) // NaN.
    return Half{uint16_t(sign | 0x7e00u)};
  if (a >= 0x477ff000u) // Rounds to >= 65520: overflow to Inf.
    return Half{uint16_t(sign | 0x7c00u)};
  if (a < 0x38800000u) { // Below the smallest normal half (2^-14).
    // The magic-number trick: adding 0.5 aligns the mantissa so that the FPU
    // rounds to nearest even at the subnormal half's precision.
    float v = bitsToFloat(a) + 0.5f;
    return Half{uint16_t(sign | uint16_t(floatToBits(v) - 0x3f000000u))};
  }
  uint32_t mantOdd = (a >> 13) & 1u;
  a += 0xc8000fffu + mantOdd; // Rebias exponent (-112 << 23) and round.
  return Half{uint16_t(sign | uint16_t(a >> 13))};
}

/// Maps a C++ element type to its DType.
template <typename T> struct DTypeOf;
template <> struct DTypeOf<double> { static constexpr DType value = DType::F64; };
template <> struct DTypeOf<float> { static constexpr DType value = DType::F32; };
template <> struct DTypeOf<Half> { static constexpr DType value = DType::F16; };
template <> struct DTypeOf<BFloat16> { static constexpr DType value = DType::BF16; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::I64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::I32; };
template <> struct DTypeOf<int8_t> { static constexpr DType value = DType::I8; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::Bool; };

/// Reads one element of type `t` at `p` as a double (exact for every dtype
/// except i64 beyond 2^53).
double loadAsDouble(DType t, const void *p);
/// Stores `v` at `p` as type `t`, rounding floats to nearest even and
/// saturating integers (NaN becomes 0; bool is v != 0).
void storeFromDouble(DType t, void *p, double v);

} // namespace kiln

#endif // KILN_DTYPE_H
