//===- Reference.cpp - Naive reference kernels: the numerics oracle --------===//
//
// Deliberately simple: unravel each output index, gather inputs through
// Tensor::at-style stride arithmetic, compute in double. No vectorization,
// no threading, no shared kernel code.
//
//===----------------------------------------------------------------------===//
#include "kiln/Reference.h"

#include "kiln/Support/Shapes.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace kiln::ref {

namespace {

std::vector<int64_t> unravel(int64_t flat, const Shape &shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

/// Element of `t` at the broadcast position `idx` of a shape of rank >= t's.
double valueAt(const Tensor &t, const std::vector<int64_t> &idx) {
  size_t pad = idx.size() - size_t(t.rank());
  std::vector<int64_t> own(size_t(t.rank()));
  for (size_t d = 0; d < own.size(); ++d)
    own[d] = t.shape()[d] == 1 ? 0 : idx[pad + d];
  return *t.at(own);
}

/// Integer results wrap to the dtype's width, as the dialect defines
/// integer arithmetic (exact while |v| < 2^53, which tests keep to).
double wrapInteger(DType t, double v) {
  if (!isInteger(t) || !std::isfinite(v) || std::fabs(v) >= 0x1p63)
    return v;
  int64_t w = int64_t(v);
  if (t == DType::I32)
    return double(int32_t(w));
  if (t == DType::I8)
    return double(int8_t(w));
  return double(w);
}

Status storeAt(Tensor &t, const std::vector<int64_t> &idx, double v) {
  return t.set(idx, wrapInteger(t.dtype(), v));
}

bool isIntegerDType(DType t) { return isInteger(t); }

double unaryValue(UnaryOp op, double x, const UnaryParams &p, bool integer) {
  switch (op) {
  case UnaryOp::Neg:
    return -x;
  case UnaryOp::Abs:
    return std::fabs(x);
  case UnaryOp::Exp:
    return std::exp(x);
  case UnaryOp::Log:
    return std::log(x);
  case UnaryOp::Sqrt:
    return std::sqrt(x);
  case UnaryOp::Rsqrt:
    return 1.0 / std::sqrt(x);
  case UnaryOp::Reciprocal:
    return 1.0 / x;
  case UnaryOp::Tanh:
    return std::tanh(x);
  case UnaryOp::Sigmoid:
    return 1.0 / (1.0 + std::exp(-x));
  case UnaryOp::Relu:
    return std::isnan(x) ? x : (x > 0 ? x : 0.0);
  case UnaryOp::LeakyRelu:
    return x >= 0 ? x : p.alpha * x;
  case UnaryOp::Elu:
    return x > 0 ? x : p.alpha * (std::exp(x) - 1.0);
  case UnaryOp::Gelu:
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  case UnaryOp::GeluTanh:
    return 0.5 * x *
           (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  case UnaryOp::Silu:
    return x / (1.0 + std::exp(-x));
  case UnaryOp::Softplus:
    return x > 30 ? x : std::log(1.0 + std::exp(x));
  case UnaryOp::Sin:
    return std::sin(x);
  case UnaryOp::Cos:
    return std::cos(x);
  case UnaryOp::Erf:
    return std::erf(x);
  case UnaryOp::Floor:
    return std::floor(x);
  case UnaryOp::Ceil:
    return std::ceil(x);
  case UnaryOp::Round: {
    // Half to even, spelled out.
    double f = std::floor(x), d = x - f;
    if (d > 0.5)
      return f + 1;
    if (d < 0.5)
      return f;
    return std::fmod(f, 2.0) == 0 ? f : f + 1;
  }
  case UnaryOp::Sign:
    return std::isnan(x) ? x : (x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0));
  case UnaryOp::Not:
    return x == 0 ? 1.0 : 0.0;
  case UnaryOp::Clip: {
    if (std::isnan(x))
      return x;
    double lo = integer ? std::ceil(p.lo) : p.lo;
    double hi = integer ? std::floor(p.hi) : p.hi;
    return x < lo ? lo : (x > hi ? hi : x);
  }
  }
  return NAN;
}

double binaryValue(BinaryOp op, double a, double b, bool integer) {
  switch (op) {
  case BinaryOp::Add:
    return a + b;
  case BinaryOp::Sub:
    return a - b;
  case BinaryOp::Mul:
    return a * b;
  case BinaryOp::Div:
    if (integer)
      return b == 0 ? 0.0 : std::trunc(a / b);
    return a / b;
  case BinaryOp::Pow:
    if (integer && b < 0)
      return std::fabs(a) == 1 ? std::pow(a, b) : 0.0;
    return std::pow(a, b);
  case BinaryOp::Max:
    return std::isnan(a) || std::isnan(b) ? NAN : (a > b ? a : b);
  case BinaryOp::Min:
    return std::isnan(a) || std::isnan(b) ? NAN : (a < b ? a : b);
  case BinaryOp::Eq:
    return a == b;
  case BinaryOp::Ne:
    return a != b;
  case BinaryOp::Lt:
    return a < b;
  case BinaryOp::Le:
    return a <= b;
  case BinaryOp::Gt:
    return a > b;
  case BinaryOp::Ge:
    return a >= b;
  case BinaryOp::And:
    return (a != 0) && (b != 0);
  case BinaryOp::Or:
    return (a != 0) || (b != 0);
  case BinaryOp::Xor:
    return (a != 0) != (b != 0);
  }
  return NAN;
}

DType resultType(DType in) { return isFloat(in) ? DType::F64 : in; }

} // namespace

Expected<Tensor> unary(UnaryOp op, const Tensor &x, const UnaryParams &params) {
  if (!inDomain(opDomain(op), x.dtype()))
    return invalidArgument("ref ", opName(op), ": dtype outside the domain");
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(x.shape(), resultType(x.dtype())));
  bool integer = isIntegerDType(x.dtype());
  for (int64_t i = 0; i < out.numel(); ++i) {
    auto idx = unravel(i, x.shape());
    KILN_RETURN_IF_ERROR(
        storeAt(out, idx, unaryValue(op, *x.at(idx), params, integer)));
  }
  return out;
}

Expected<Tensor> binary(BinaryOp op, const Tensor &a, const Tensor &b) {
  auto shape = shapes::broadcast(a.shape(), b.shape());
  if (!shape)
    return invalidArgument("ref ", opName(op), ": ", shape.message());
  DType outType = isComparison(op) ? DType::Bool : resultType(a.dtype());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(*shape, outType));
  bool integer = isIntegerDType(a.dtype());
  for (int64_t i = 0; i < out.numel(); ++i) {
    auto idx = unravel(i, *shape);
    KILN_RETURN_IF_ERROR(storeAt(
        out, idx, binaryValue(op, valueAt(a, idx), valueAt(b, idx), integer)));
  }
  return out;
}

Expected<Tensor> select(const Tensor &cond, const Tensor &onTrue,
                        const Tensor &onFalse) {
  auto shape = shapes::broadcast(std::vector<shapes::Shape>{
      cond.shape(), onTrue.shape(), onFalse.shape()});
  if (!shape)
    return invalidArgument("ref select: ", shape.message());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(*shape, resultType(onTrue.dtype())));
  for (int64_t i = 0; i < out.numel(); ++i) {
    auto idx = unravel(i, *shape);
    double v = valueAt(cond, idx) != 0 ? valueAt(onTrue, idx)
                                       : valueAt(onFalse, idx);
    KILN_RETURN_IF_ERROR(storeAt(out, idx, v));
  }
  return out;
}

Expected<Tensor> reduce(ReduceOp op, const Tensor &x,
                        std::span<const int64_t> axes, bool keepDims) {
  auto shape = shapes::reduce(x.shape(), axes, keepDims);
  auto norm = shapes::reductionAxes(axes, x.rank());
  if (!shape || !norm)
    return invalidArgument("ref ", opName(op), ": bad axes");
  std::vector<bool> reduced(size_t(x.rank()), false);
  for (int64_t a : *norm)
    reduced[size_t(a)] = true;
  Shape keptShape;
  for (size_t d = 0; d < reduced.size(); ++d)
    if (!reduced[d])
      keptShape.push_back(x.shape()[d]);
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(*shape, resultType(x.dtype())));
  int64_t numOut = out.numel();
  std::vector<double> acc(static_cast<size_t>(numOut));
  std::vector<int64_t> count(size_t(numOut), 0);
  for (size_t o = 0; o < acc.size(); ++o)
    acc[o] = op == ReduceOp::Prod ? 1.0 : 0.0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    auto idx = unravel(i, x.shape());
    int64_t o = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      if (!reduced[d])
        o = o * x.shape()[d] + idx[d];
    double v = *x.at(idx);
    double &a = acc[size_t(o)];
    if (op == ReduceOp::Max || op == ReduceOp::Min) {
      if (count[size_t(o)] == 0 || std::isnan(v))
        a = v;
      else if (!std::isnan(a))
        a = op == ReduceOp::Max ? std::max(a, v) : std::min(a, v);
    } else if (op == ReduceOp::Prod) {
      a *= v;
    } else {
      a += v;
    }
    ++count[size_t(o)];
  }
  for (int64_t o = 0; o < numOut; ++o) {
    double v = acc[size_t(o)];
    if (op == ReduceOp::Mean)
      v /= double(count[size_t(o)]);
    v = wrapInteger(out.dtype(), v);
    storeFromDouble(out.dtype(),
                    static_cast<char *>(out.rawData()) + o * int64_t(out.elementSize()),
                    v);
  }
  return out;
}

Expected<Tensor> argReduce(bool isMax, const Tensor &x, int64_t axis,
                           bool keepDims) {
  std::vector<int64_t> axes = {axis};
  auto shape = shapes::reduce(x.shape(), axes, keepDims);
  if (!shape)
    return invalidArgument("ref argreduce: ", shape.message());
  int64_t a = *shapes::normalizeAxis(axis, x.rank());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(*shape, DType::I64));
  Shape keptShape = x.shape();
  keptShape[size_t(a)] = 1;
  int64_t numOut = 1;
  for (int64_t d : keptShape)
    numOut *= d;
  for (int64_t o = 0; o < numOut; ++o) {
    auto idx = unravel(o, keptShape);
    int64_t best = 0;
    double bestV = 0;
    for (int64_t j = 0; j < x.shape()[size_t(a)]; ++j) {
      idx[size_t(a)] = j;
      double v = *x.at(idx);
      if (j == 0) {
        bestV = v;
        continue;
      }
      if (std::isnan(bestV))
        break;
      if (std::isnan(v) || (isMax ? v > bestV : v < bestV)) {
        bestV = v;
        best = j;
      }
    }
    storeFromDouble(DType::I64, static_cast<int64_t *>(out.rawData()) + o,
                    double(best));
  }
  return out;
}

Expected<Tensor> matmul(const Tensor &a, const Tensor &b, bool ta, bool tb) {
  auto shape = shapes::matmul(a.shape(), b.shape(), ta, tb);
  if (!shape)
    return invalidArgument("ref matmul: ", shape.message());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(*shape, DType::F64));
  int64_t r = int64_t(shape.value().size());
  int64_t k = a.shape()[size_t(a.rank() - (ta ? 2 : 1))];
  for (int64_t i = 0; i < out.numel(); ++i) {
    auto idx = unravel(i, *shape);
    int64_t row = idx[size_t(r - 2)], col = idx[size_t(r - 1)];
    // Batch index of each operand, broadcast.
    auto operandIndex = [&](const Tensor &t, int64_t x0, int64_t x1) {
      std::vector<int64_t> ti(size_t(t.rank()));
      size_t pad = size_t(r - t.rank());
      for (size_t d = 0; d + 2 < ti.size(); ++d)
        ti[d] = t.shape()[d] == 1 ? 0 : idx[pad + d];
      ti[ti.size() - 2] = x0;
      ti[ti.size() - 1] = x1;
      return ti;
    };
    double acc = 0;
    for (int64_t p = 0; p < k; ++p) {
      double av = *a.at(ta ? operandIndex(a, p, row) : operandIndex(a, row, p));
      double bv = *b.at(tb ? operandIndex(b, col, p) : operandIndex(b, p, col));
      acc += av * bv;
    }
    KILN_RETURN_IF_ERROR(storeAt(out, idx, acc));
  }
  return out;
}

Tolerance toleranceFor(DType dtype) {
  switch (dtype) {
  case DType::F64:
    return {1e-7, 1e-7};
  case DType::F32:
    return {1.3e-6, 1e-5};
  case DType::F16:
    return {1e-3, 1e-5};
  case DType::BF16:
    return {1.6e-2, 1e-5};
  default:
    return {0, 0};
  }
}

Comparison compare(const Tensor &actual, const Tensor &expected,
                   Tolerance tol) {
  Comparison c;
  if (!actual.defined() || !expected.defined()) {
    c.ok = false;
    c.message = "undefined tensor";
    return c;
  }
  if (actual.shape() != expected.shape()) {
    c.ok = false;
    c.message = strCat("shape ", shapes::toString(actual.shape()),
                       " != expected ", shapes::toString(expected.shape()));
    return c;
  }
  std::vector<double> av = actual.toDoubles(), ev = expected.toDoubles();
  double worstExcess = 0;
  int64_t worst = -1, failures = 0;
  for (size_t i = 0; i < av.size(); ++i) {
    double a = av[i], e = ev[i];
    bool same = (std::isnan(a) && std::isnan(e)) || a == e;
    double err = std::fabs(a - e);
    double allowed = tol.atol + tol.rtol * std::fabs(e);
    if (!same && std::isfinite(err))
      c.maxAbsError = std::max(c.maxAbsError, err);
    if (same || err <= allowed)
      continue;
    ++failures;
    double excess = std::isfinite(err) ? err / std::max(allowed, 1e-300)
                                       : std::numeric_limits<double>::infinity();
    if (worst < 0 || excess > worstExcess) {
      worstExcess = excess;
      worst = int64_t(i);
    }
  }
  if (failures) {
    c.ok = false;
    std::ostringstream os;
    os.precision(10);
    os << failures << " of " << av.size() << " elements outside (rtol "
       << tol.rtol << ", atol " << tol.atol << "); worst at "
       << shapes::toString(unravel(worst, actual.shape())) << ": got "
       << av[size_t(worst)] << ", expected " << ev[size_t(worst)]
       << " (abs error " << std::fabs(av[size_t(worst)] - ev[size_t(worst)])
       << ")";
    c.message = os.str();
  }
  return c;
}

} // namespace kiln::ref
