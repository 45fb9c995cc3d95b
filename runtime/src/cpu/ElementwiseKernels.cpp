//===- ElementwiseKernels.cpp - Inner loops of the elementwise ops ---------===//
//
// One scalar expression per op (UnaryFn / BinaryFn below, selected at compile
// time so that each loop is a straight-line body), one loop template per
// arity. The loop has a contiguous path and scalar-broadcast paths the
// compiler vectorizes (-O3; check with -fopt-info-vec), and a strided path
// for everything else. f16/bf16 are widened to f32 in blocks of kBlock
// elements, computed with the f32 loop, and narrowed back.
//
// f32 exp, log, tanh, sigmoid, erf, gelu (both forms), silu and softplus
// run on VecMath.h's vector forms instead (libm's do not vectorize): the
// contiguous loop calls them on the arrays, every other f32 layout and the
// 16-bit floats through a block buffer, so that each element of a tensor gets
// the same arithmetic whatever its layout. f64 stays on libm.
//
//===----------------------------------------------------------------------===//
#include "ElementwiseKernels.h"
#include "Dispatch.h"
#include "VecMath.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace kiln::cpu {

namespace {

constexpr int64_t kBlock = 256;

template <typename C> constexpr bool kIsFloat = std::is_floating_point_v<C>;

/// Integer arithmetic that wraps instead of overflowing (signed overflow is
/// undefined behaviour in C++).
template <typename C> C wrapAdd(C a, C b) {
  using U = std::make_unsigned_t<C>;
  return C(U(U(a) + U(b)));
}
template <typename C> C wrapSub(C a, C b) {
  using U = std::make_unsigned_t<C>;
  return C(U(U(a) - U(b)));
}
template <typename C> C wrapMul(C a, C b) {
  using U = std::make_unsigned_t<C>;
  return C(U(U(a) * U(b)));
}

template <UnaryOp op> struct UnaryFn {
  template <typename C> static C apply(C x, const UnaryParams &p) {
    if constexpr (std::is_same_v<C, bool>) {
      return op == UnaryOp::Not ? !x : x; // i1 is only in not's domain.
    } else if constexpr (op == UnaryOp::Neg) {
      if constexpr (kIsFloat<C>)
        return -x;
      else
        return wrapSub(C(0), x);
    } else if constexpr (op == UnaryOp::Abs) {
      if constexpr (kIsFloat<C>)
        return std::fabs(x);
      else
        return x < 0 ? wrapSub(C(0), x) : x;
    } else if constexpr (op == UnaryOp::Relu) {
      return x < C(0) ? C(0) : x; // NaN stays NaN.
    } else if constexpr (op == UnaryOp::Sign) {
      if constexpr (kIsFloat<C>)
        if (std::isnan(x))
          return x;
      return C((x > C(0)) - (x < C(0)));
    } else if constexpr (op == UnaryOp::Not) {
      return C(x == C(0));
    } else if constexpr (op == UnaryOp::Clip) {
      if constexpr (kIsFloat<C>) {
        C lo = C(p.lo), hi = C(p.hi);
        return x < lo ? lo : (x > hi ? hi : x);
      } else {
        // Compare in double: the bounds may lie outside C's range.
        double v = double(x);
        return v < p.lo ? convertValue<C>(std::ceil(p.lo))
                        : (v > p.hi ? convertValue<C>(std::floor(p.hi)) : x);
      }
    } else if constexpr (kIsFloat<C>) {
      if constexpr (op == UnaryOp::Exp)
        return std::exp(x);
      else if constexpr (op == UnaryOp::Log)
        return std::log(x);
      else if constexpr (op == UnaryOp::Sqrt)
        return std::sqrt(x);
      else if constexpr (op == UnaryOp::Rsqrt)
        return C(1) / std::sqrt(x);
      else if constexpr (op == UnaryOp::Reciprocal)
        return C(1) / x;
      else if constexpr (op == UnaryOp::Tanh)
        return std::tanh(x);
      else if constexpr (op == UnaryOp::Sigmoid)
        return C(1) / (C(1) + std::exp(-x));
      else if constexpr (op == UnaryOp::LeakyRelu)
        return x >= C(0) ? x : C(p.alpha) * x;
      else if constexpr (op == UnaryOp::Elu)
        return x > C(0) ? x : C(p.alpha) * std::expm1(x);
      else if constexpr (op == UnaryOp::Gelu)
        return C(0.5) * x * (C(1) + std::erf(x * C(0.70710678118654752440)));
      else if constexpr (op == UnaryOp::GeluTanh)
        return C(0.5) * x *
               (C(1) + std::tanh(C(0.79788456080286535588) *
                                 (x + C(0.044715) * x * x * x)));
      else if constexpr (op == UnaryOp::Silu)
        return x / (C(1) + std::exp(-x));
      else if constexpr (op == UnaryOp::Softplus)
        // max(x, 0) + log1p(exp(-|x|)): no overflow for large x.
        return std::max(x, C(0)) + std::log1p(std::exp(-std::fabs(x)));
      else if constexpr (op == UnaryOp::Sin)
        return std::sin(x);
      else if constexpr (op == UnaryOp::Cos)
        return std::cos(x);
      else if constexpr (op == UnaryOp::Erf)
        return std::erf(x);
      else if constexpr (op == UnaryOp::Floor)
        return std::floor(x);
      else if constexpr (op == UnaryOp::Ceil)
        return std::ceil(x);
      else if constexpr (op == UnaryOp::Round)
        return std::nearbyint(x); // Half to even, as numpy and ONNX.
    }
    return x; // Unreachable: domains are checked before dispatch.
  }
};

template <typename C> C intPow(C base, C exp) {
  if (exp < 0)
    return base == 1 ? C(1) : (base == -1 ? ((exp & 1) ? C(-1) : C(1)) : C(0));
  C r = 1;
  while (exp) {
    if (exp & 1)
      r = wrapMul(r, base);
    base = wrapMul(base, base);
    exp >>= 1;
  }
  return r;
}

template <BinaryOp op> struct BinaryFn {
  static constexpr bool kCompare = op == BinaryOp::Eq || op == BinaryOp::Ne ||
                                   op == BinaryOp::Lt || op == BinaryOp::Le ||
                                   op == BinaryOp::Gt || op == BinaryOp::Ge;
  template <typename C> static auto apply(C a, C b) {
    if constexpr (op == BinaryOp::Eq)
      return a == b;
    else if constexpr (op == BinaryOp::Ne)
      return a != b;
    else if constexpr (op == BinaryOp::Lt)
      return a < b;
    else if constexpr (op == BinaryOp::Le)
      return a <= b;
    else if constexpr (op == BinaryOp::Gt)
      return a > b;
    else if constexpr (op == BinaryOp::Ge)
      return a >= b;
    else if constexpr (op == BinaryOp::And)
      return bool(a && b);
    else if constexpr (op == BinaryOp::Or)
      return bool(a || b);
    else if constexpr (op == BinaryOp::Xor)
      return bool(a != b);
    else if constexpr (op == BinaryOp::Max)
      // NaN-propagating, as numpy.maximum.
      return C(a > b || a != a ? a : b);
    else if constexpr (op == BinaryOp::Min)
      return C(a < b || a != a ? a : b);
    else if constexpr (kIsFloat<C>) {
      if constexpr (op == BinaryOp::Add)
        return C(a + b);
      else if constexpr (op == BinaryOp::Sub)
        return C(a - b);
      else if constexpr (op == BinaryOp::Mul)
        return C(a * b);
      else if constexpr (op == BinaryOp::Div)
        return C(a / b);
      else
        return C(std::pow(a, b));
    } else if constexpr (std::is_same_v<C, bool>) {
      return a; // Unreachable: arithmetic excludes i1.
    } else {
      if constexpr (op == BinaryOp::Add)
        return wrapAdd(a, b);
      else if constexpr (op == BinaryOp::Sub)
        return wrapSub(a, b);
      else if constexpr (op == BinaryOp::Mul)
        return wrapMul(a, b);
      else if constexpr (op == BinaryOp::Div) {
        if (b == 0)
          return C(0);
        if (b == -1) // Avoids the INT_MIN / -1 trap.
          return wrapSub(C(0), a);
        return C(a / b);
      } else
        return intPow(a, b);
    }
  }
};

/// The VecMath function that computes op in f32, if there is one.
template <UnaryOp op> constexpr bool kHasVecForm =
    op == UnaryOp::Exp || op == UnaryOp::Log || op == UnaryOp::Tanh ||
    op == UnaryOp::Sigmoid || op == UnaryOp::Erf || op == UnaryOp::Gelu ||
    op == UnaryOp::GeluTanh || op == UnaryOp::Silu || op == UnaryOp::Softplus;

template <UnaryOp op> constexpr vecmath::Fn vecFormOf() {
  using vecmath::Fn;
  switch (op) {
  case UnaryOp::Exp:
    return Fn::Exp;
  case UnaryOp::Log:
    return Fn::Log;
  case UnaryOp::Tanh:
    return Fn::Tanh;
  case UnaryOp::Sigmoid:
    return Fn::Sigmoid;
  case UnaryOp::Erf:
    return Fn::Erf;
  case UnaryOp::Gelu:
    return Fn::Gelu;
  case UnaryOp::GeluTanh:
    return Fn::GeluTanh;
  case UnaryOp::Silu:
    return Fn::Silu;
  default:
    return Fn::Softplus;
  }
}

/// Loads n strided T elements into a compute-type buffer.
template <typename T>
void widen(ComputeT<T> *dst, const char *src, int64_t step, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    dst[i] = toCompute(*reinterpret_cast<const T *>(src + i * step));
}
template <typename T, typename C>
void narrow(char *dst, int64_t step, const C *src, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    *reinterpret_cast<T *>(dst + i * step) = convertValue<T>(src[i]);
}

template <UnaryOp op, typename T>
void unaryKernel(char **ptrs, const int64_t *steps, int64_t n,
                 const void *ctx) {
  [[maybe_unused]] const UnaryParams &p = *static_cast<const UnaryParams *>(ctx);
  using C = ComputeT<T>;
  if constexpr (kHasVecForm<op> && std::is_same_v<C, float>) {
    constexpr vecmath::Fn fn = vecFormOf<op>();
    if (std::is_same_v<T, float> && steps[0] == sizeof(T) &&
        steps[1] == sizeof(T)) {
      vecmath::applyArray<fn>(reinterpret_cast<const float *>(ptrs[1]),
                              reinterpret_cast<float *>(ptrs[0]), n);
      return;
    }
    float buf[kBlock];
    for (int64_t b = 0; b < n; b += kBlock) {
      int64_t m = std::min(kBlock, n - b);
      widen<T>(buf, ptrs[1] + b * steps[1], steps[1], m);
      vecmath::applyArray<fn>(buf, buf, m);
      narrow<T>(ptrs[0] + b * steps[0], steps[0], buf, m);
    }
  } else if constexpr (kIsReduced16<T>) {
    C buf[kBlock];
    for (int64_t b = 0; b < n; b += kBlock) {
      int64_t m = std::min(kBlock, n - b);
      widen<T>(buf, ptrs[1] + b * steps[1], steps[1], m);
      for (int64_t i = 0; i < m; ++i)
        buf[i] = UnaryFn<op>::apply(buf[i], p);
      narrow<T>(ptrs[0] + b * steps[0], steps[0], buf, m);
    }
  } else {
    T *out = reinterpret_cast<T *>(ptrs[0]);
    const T *in = reinterpret_cast<const T *>(ptrs[1]);
    if (steps[0] == sizeof(T) && steps[1] == sizeof(T)) {
      for (int64_t i = 0; i < n; ++i)
        out[i] = UnaryFn<op>::apply(in[i], p);
      return;
    }
    for (int64_t i = 0; i < n; ++i)
      *reinterpret_cast<T *>(ptrs[0] + i * steps[0]) = UnaryFn<op>::apply(
          *reinterpret_cast<const T *>(ptrs[1] + i * steps[1]), p);
  }
}

template <BinaryOp op, typename T>
void binaryKernel(char **ptrs, const int64_t *steps, int64_t n, const void *) {
  using Fn = BinaryFn<op>;
  using C = ComputeT<T>;
  // Comparisons write i1; the rest write T.
  using R = std::conditional_t<Fn::kCompare, bool, T>;
  if constexpr (kIsReduced16<T>) {
    C a[kBlock], b[kBlock];
    std::conditional_t<Fn::kCompare, bool, C> r[kBlock];
    for (int64_t s = 0; s < n; s += kBlock) {
      int64_t m = std::min(kBlock, n - s);
      widen<T>(a, ptrs[1] + s * steps[1], steps[1], m);
      widen<T>(b, ptrs[2] + s * steps[2], steps[2], m);
      for (int64_t i = 0; i < m; ++i)
        r[i] = Fn::apply(a[i], b[i]);
      narrow<R>(ptrs[0] + s * steps[0], steps[0], r, m);
    }
  } else {
    R *out = reinterpret_cast<R *>(ptrs[0]);
    const T *a = reinterpret_cast<const T *>(ptrs[1]);
    const T *b = reinterpret_cast<const T *>(ptrs[2]);
    constexpr int64_t sr = sizeof(R), st = sizeof(T);
    if (steps[0] == sr && steps[1] == st && steps[2] == st) {
      for (int64_t i = 0; i < n; ++i)
        out[i] = R(Fn::apply(a[i], b[i]));
    } else if (steps[0] == sr && steps[1] == 0 && steps[2] == st) {
      const T av = *a;
      for (int64_t i = 0; i < n; ++i)
        out[i] = R(Fn::apply(av, b[i]));
    } else if (steps[0] == sr && steps[1] == st && steps[2] == 0) {
      const T bv = *b;
      for (int64_t i = 0; i < n; ++i)
        out[i] = R(Fn::apply(a[i], bv));
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<R *>(ptrs[0] + i * steps[0]) = R(
            Fn::apply(*reinterpret_cast<const T *>(ptrs[1] + i * steps[1]),
                      *reinterpret_cast<const T *>(ptrs[2] + i * steps[2])));
    }
  }
}

template <typename T>
void selectKernel(char **ptrs, const int64_t *steps, int64_t n, const void *) {
  // Contiguous output and condition, each branch contiguous or one
  // broadcast value (the backward of relu and hardtanh selects against a
  // scalar 0; it ran the strided loop below, unvectorized). The condition
  // is read as bytes (GCC will not vectorize a load of bool), turned into
  // a mask, and both branches are read unconditionally and blended on
  // their bits, so that GCC vectorizes the loop for every T.
  constexpr int64_t st = sizeof(T);
  if (steps[0] == st && steps[1] == 1 && (steps[2] == st || steps[2] == 0) &&
      (steps[3] == st || steps[3] == 0)) {
    using Bits = std::conditional_t<
        sizeof(T) == 8, uint64_t,
        std::conditional_t<sizeof(T) == 4, uint32_t,
                           std::conditional_t<sizeof(T) == 2, uint16_t, uint8_t>>>;
    static_assert(sizeof(Bits) == sizeof(T));
    typedef Bits U __attribute__((may_alias)); // T's bytes read as Bits
    U *__restrict out = reinterpret_cast<U *>(ptrs[0]);
    const uint8_t *__restrict c = reinterpret_cast<const uint8_t *>(ptrs[1]);
    const U *__restrict a = reinterpret_cast<const U *>(ptrs[2]);
    const U *__restrict b = reinterpret_cast<const U *>(ptrs[3]);
    const int64_t ai = steps[2] ? 1 : 0, bi = steps[3] ? 1 : 0;
    auto blend = [](uint8_t cond, U x, U y) {
      U m = U(0) - U(cond); // all ones where cond
      return U((x & m) | (y & U(~m)));
    };
    if (ai && bi)
      for (int64_t i = 0; i < n; ++i)
        out[i] = blend(c[i], a[i], b[i]);
    else if (ai) {
      const U y = *b;
      for (int64_t i = 0; i < n; ++i)
        out[i] = blend(c[i], a[i], y);
    } else if (bi) {
      const U x = *a;
      for (int64_t i = 0; i < n; ++i)
        out[i] = blend(c[i], x, b[i]);
    } else {
      const U x = *a, y = *b;
      for (int64_t i = 0; i < n; ++i)
        out[i] = blend(c[i], x, y);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    *reinterpret_cast<T *>(ptrs[0] + i * steps[0]) =
        *reinterpret_cast<const bool *>(ptrs[1] + i * steps[1])
            ? *reinterpret_cast<const T *>(ptrs[2] + i * steps[2])
            : *reinterpret_cast<const T *>(ptrs[3] + i * steps[3]);
}

template <UnaryOp op> InnerLoop unaryFor(DType dtype) {
  if (!inDomain(opDomain(op), dtype))
    return nullptr;
  InnerLoop fn = nullptr;
  KILN_DISPATCH_ALL(dtype, fn = &unaryKernel<op, T>);
  return fn;
}

template <BinaryOp op> InnerLoop binaryFor(DType dtype) {
  if (!inDomain(opDomain(op), dtype))
    return nullptr;
  InnerLoop fn = nullptr;
  KILN_DISPATCH_ALL(dtype, fn = &binaryKernel<op, T>);
  return fn;
}

} // namespace

InnerLoop unaryLoop(UnaryOp op, DType dtype) {
  switch (op) {
#define KILN_UNARY_OP(E, fn, name, domain)                                     \
  case UnaryOp::E:                                                             \
    return unaryFor<UnaryOp::E>(dtype);
#include "kiln/OpTables.def"
  }
  return nullptr;
}

InnerLoop binaryLoop(BinaryOp op, DType dtype) {
  switch (op) {
#define KILN_BINARY_OP(E, fn, name, domain)                                    \
  case BinaryOp::E:                                                            \
    return binaryFor<BinaryOp::E>(dtype);
#include "kiln/OpTables.def"
  }
  return nullptr;
}

InnerLoop selectLoop(DType dtype) {
  InnerLoop fn = nullptr;
  KILN_DISPATCH_ALL(dtype, fn = &selectKernel<T>);
  return fn;
}

} // namespace kiln::cpu
