//===- DType.cpp - Element types of Kiln tensors ---------------------------===//
#include "kiln/DType.h"

#include <cmath>
#include <limits>
#include <ostream>

namespace kiln {

std::string_view dtypeName(DType t) {
  switch (t) {
  case DType::F64:
    return "f64";
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::I64:
    return "i64";
  case DType::I32:
    return "i32";
  case DType::I8:
    return "i8";
  case DType::Bool:
    return "i1";
  }
  return "?";
}

Expected<DType> parseDType(std::string_view name) {
  for (DType t : kAllDTypes)
    if (dtypeName(t) == name)
      return t;
  if (name == "bool")
    return DType::Bool;
  return invalidArgument("unknown dtype '", name, "'");
}

std::ostream &operator<<(std::ostream &os, DType t) { return os << dtypeName(t); }

namespace {
template <typename I> I saturate(double v) {
  if (std::isnan(v))
    return 0;
  // Compare against the bounds in double: the casts below are then defined.
  constexpr double lo = double(std::numeric_limits<I>::min());
  constexpr double hi = double(std::numeric_limits<I>::max());
  if (v <= lo)
    return std::numeric_limits<I>::min();
  if (v >= hi)
    return std::numeric_limits<I>::max();
  return I(v);
}
} // namespace

double loadAsDouble(DType t, const void *p) {
  switch (t) {
  case DType::F64:
    return *static_cast<const double *>(p);
  case DType::F32:
    return *static_cast<const float *>(p);
  case DType::F16:
    return halfToFloat(*static_cast<const Half *>(p));
  case DType::BF16:
    return bf16ToFloat(*static_cast<const BFloat16 *>(p));
  case DType::I64:
    return double(*static_cast<const int64_t *>(p));
  case DType::I32:
    return *static_cast<const int32_t *>(p);
  case DType::I8:
    return *static_cast<const int8_t *>(p);
  case DType::Bool:
    return *static_cast<const uint8_t *>(p) ? 1.0 : 0.0;
  }
  return 0;
}

void storeFromDouble(DType t, void *p, double v) {
  switch (t) {
  case DType::F64:
    *static_cast<double *>(p) = v;
    return;
  case DType::F32:
    *static_cast<float *>(p) = float(v);
    return;
  case DType::F16:
    *static_cast<Half *>(p) = floatToHalf(float(v));
    return;
  case DType::BF16:
    *static_cast<BFloat16 *>(p) = floatToBf16(float(v));
    return;
  case DType::I64:
    *static_cast<int64_t *>(p) = saturate<int64_t>(v);
    return;
  case DType::I32:
    *static_cast<int32_t *>(p) = saturate<int32_t>(v);
    return;
  case DType::I8:
    *static_cast<int8_t *>(p) = saturate<int8_t>(v);
    return;
  case DType::Bool:
    *static_cast<uint8_t *>(p) = v != 0 ? 1 : 0;
    return;
  }
}

} // namespace kiln
