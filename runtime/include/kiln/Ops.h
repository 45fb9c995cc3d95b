//===- Ops.h - Eager ops on tensors, mirroring the kiln dialect ------------===//
//
// Each function runs one op now, on the inputs' device, and returns a new
// contiguous tensor (or the Status saying why not: shapes that do not
// broadcast, bad axes, dtypes outside the op's domain, undefined tensors,
// tensors on different devices). Semantics are the dialect's
// (KilnElementwiseOps.td and friends): numpy broadcasting, no implicit type
// promotion (both operands of a binary op have the same dtype), f16/bf16
// computed in f32. Integer add/sub/mul/pow wrap around; integer division
// truncates toward zero and x / 0 is 0 (the runtime never traps).
//
//   KILN_ASSIGN_OR_RETURN(Tensor y, kiln::add(a, b));
//   Expected<Tensor> z = kiln::relu(a * b + 1.0);   // operators chain Expected
//
//===----------------------------------------------------------------------===//
#ifndef KILN_OPS_H
#define KILN_OPS_H

#include "kiln/Tensor.h"

#include <limits>
#include <span>
#include <string_view>

namespace kiln {

enum class OpDomain : unsigned char { Float, Signed, Numeric, Bool, Any };
/// True when `dtype` is in `domain`.
bool inDomain(OpDomain domain, DType dtype);

enum class UnaryOp : unsigned char {
#define KILN_UNARY_OP(E, fn, name, domain) E,
#include "kiln/OpTables.def"
};
enum class BinaryOp : unsigned char {
#define KILN_BINARY_OP(E, fn, name, domain) E,
#include "kiln/OpTables.def"
};
enum class ReduceOp : unsigned char {
#define KILN_REDUCE_OP(E, fn, name, domain) E,
#include "kiln/OpTables.def"
};

std::string_view opName(UnaryOp op);
std::string_view opName(BinaryOp op);
std::string_view opName(ReduceOp op);
OpDomain opDomain(UnaryOp op);
OpDomain opDomain(BinaryOp op);
OpDomain opDomain(ReduceOp op);
/// Comparisons produce i1; every other binary op keeps its input dtype.
bool isComparison(BinaryOp op);

/// Attributes of the parameterized unary ops.
struct UnaryParams {
  double alpha = 0.0; ///< leaky_relu (default 0.01), elu (default 1.0).
  double lo = -std::numeric_limits<double>::infinity(); ///< clip min.
  double hi = std::numeric_limits<double>::infinity();  ///< clip max.
};
/// The params an op uses when none are given (alpha of leaky_relu/elu).
UnaryParams defaultParams(UnaryOp op);

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

Expected<Tensor> unary(UnaryOp op, const Tensor &x, const UnaryParams &params);
Expected<Tensor> unary(UnaryOp op, const Tensor &x);
Expected<Tensor> binary(BinaryOp op, const Tensor &a, const Tensor &b);

#define KILN_UNARY_OP(E, fn, name, domain)                                     \
  inline Expected<Tensor> fn(const Tensor &x) { return unary(UnaryOp::E, x); } \
  inline Expected<Tensor> fn(const Expected<Tensor> &x) {                      \
    return x ? unary(UnaryOp::E, *x) : Expected<Tensor>(x.status());           \
  }
#include "kiln/OpTables.def"
#define KILN_BINARY_OP(E, fn, name, domain)                                    \
  inline Expected<Tensor> fn(const Tensor &a, const Tensor &b) {               \
    return binary(BinaryOp::E, a, b);                                          \
  }
#include "kiln/OpTables.def"

Expected<Tensor> leakyRelu(const Tensor &x, double alpha);
Expected<Tensor> elu(const Tensor &x, double alpha);
/// gelu with `approximate` "none" (erf) or "tanh", as the dialect spells it.
Expected<Tensor> gelu(const Tensor &x, std::string_view approximate);
/// Clamps to [lo, hi]; NaN stays NaN.
Expected<Tensor> clip(const Tensor &x, double lo, double hi);
/// Converts the element type (float -> int truncates toward zero and
/// saturates, NaN -> 0; to i1 tests for non-zero).
Expected<Tensor> cast(const Tensor &x, DType dtype);
/// cond ? onTrue : onFalse, three-way broadcasting; cond is i1.
Expected<Tensor> select(const Tensor &cond, const Tensor &onTrue,
                        const Tensor &onFalse);

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// Reduces over `axes` (empty: all). Sums of f32/f16/bf16 accumulate in f64
/// for accuracy; integer sums and products wrap.
Expected<Tensor> reduce(ReduceOp op, const Tensor &x,
                        std::span<const int64_t> axes, bool keepDims = false);
#define KILN_REDUCE_OP(E, fn, name, domain)                                    \
  inline Expected<Tensor> fn(const Tensor &x,                                  \
                             std::span<const int64_t> axes = {},               \
                             bool keepDims = false) {                          \
    return reduce(ReduceOp::E, x, axes, keepDims);                             \
  }                                                                            \
  inline Expected<Tensor> fn(const Tensor &x,                                  \
                             std::initializer_list<int64_t> axes,              \
                             bool keepDims = false) {                          \
    return reduce(ReduceOp::E, x,                                              \
                  std::span<const int64_t>(axes.begin(), axes.size()),         \
                  keepDims);                                                   \
  }                                                                            \
  inline Expected<Tensor> fn(const Expected<Tensor> &x,                        \
                             std::initializer_list<int64_t> axes = {},         \
                             bool keepDims = false) {                          \
    if (!x)                                                                    \
      return x.status();                                                       \
    return fn(*x, axes, keepDims);                                             \
  }
#include "kiln/OpTables.def"

/// Index (i64) of the largest / smallest element along `axis`; the first on
/// ties; a NaN counts as the largest and the smallest.
Expected<Tensor> argmax(const Tensor &x, int64_t axis = 0, bool keepDims = false);
Expected<Tensor> argmin(const Tensor &x, int64_t axis = 0, bool keepDims = false);

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

/// Batched matmul (rank >= 2, batch dims broadcast), any numeric dtype.
/// f32 goes to OpenBLAS or oneDNN by shape (see MatmulBackend), f64 to
/// OpenBLAS; f16/bf16 compute in f32; integers use a blocked loop that
/// accumulates in 64 bits and wraps.
Expected<Tensor> matmul(const Tensor &a, const Tensor &b,
                        bool transposeA = false, bool transposeB = false);

/// Which library runs an f32 GEMM.
enum class MatmulBackend : unsigned char { Auto, OpenBlas, OneDnn, Naive };
/// Forces a backend for matmul (benchmarks, tests); Auto picks by shape.
/// Unavailable when the library is not linked.
Status setMatmulBackend(MatmulBackend backend);
/// The backend Auto picks for one f32 GEMM of this shape: the measured
/// winner of its size bucket once one ran (KILN_MATMUL_TUNE=0 turns the
/// measuring off), else oneDNN for M <= 16 and OpenBLAS above.
MatmulBackend chooseMatmulBackend(int64_t m, int64_t n, int64_t k);

//===----------------------------------------------------------------------===//
// Operators: Tensor or Expected<Tensor> on either side, or a double (made a
// scalar of the other side's dtype). Errors propagate, so `a * b + c` is an
// Expected<Tensor> holding the first error.
//===----------------------------------------------------------------------===//

namespace detail {
template <typename T>
concept TensorOrExpected =
    std::is_same_v<std::decay_t<T>, Tensor> ||
    std::is_same_v<std::decay_t<T>, Expected<Tensor>>;
inline Expected<Tensor> asExpected(const Tensor &t) { return t; }
inline const Expected<Tensor> &asExpected(const Expected<Tensor> &t) { return t; }
Expected<Tensor> applyBinary(BinaryOp op, const Expected<Tensor> &a,
                             const Expected<Tensor> &b);
Expected<Tensor> applyScalar(BinaryOp op, const Expected<Tensor> &a, double s,
                             bool scalarOnLeft);
} // namespace detail

#define KILN_TENSOR_OPERATOR(sym, E)                                           \
  template <detail::TensorOrExpected A, detail::TensorOrExpected B>            \
  Expected<Tensor> operator sym(const A &a, const B &b) {                      \
    return detail::applyBinary(BinaryOp::E, detail::asExpected(a),             \
                               detail::asExpected(b));                         \
  }                                                                            \
  template <detail::TensorOrExpected A>                                        \
  Expected<Tensor> operator sym(const A &a, double s) {                        \
    return detail::applyScalar(BinaryOp::E, detail::asExpected(a), s, false);  \
  }                                                                            \
  template <detail::TensorOrExpected A>                                        \
  Expected<Tensor> operator sym(double s, const A &a) {                        \
    return detail::applyScalar(BinaryOp::E, detail::asExpected(a), s, true);   \
  }
KILN_TENSOR_OPERATOR(+, Add)
KILN_TENSOR_OPERATOR(-, Sub)
KILN_TENSOR_OPERATOR(*, Mul)
KILN_TENSOR_OPERATOR(/, Div)
#undef KILN_TENSOR_OPERATOR

template <detail::TensorOrExpected A> Expected<Tensor> operator-(const A &a) {
  const Expected<Tensor> &e = detail::asExpected(a);
  if (!e)
    return e.status();
  return neg(*e);
}

} // namespace kiln

#endif // KILN_OPS_H
