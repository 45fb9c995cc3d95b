//===- Derivatives.cpp - Backward functions of the core eager ops ----------===//
//
// Written with the public eager ops (grad mode is off while they run), so
// every derivative works for every float dtype and device the forward op
// does. Formulas follow PyTorch's derivatives.yaml where there is a choice
// (ties of max/min split the gradient evenly; relu'(0) = 0).
//
//===----------------------------------------------------------------------===//
#include "Derivatives.h"

#include "kiln/Support/Shapes.h"

#include <cmath>

namespace kiln::autograd {

namespace {
using Grads = Expected<std::vector<Tensor>>;

Expected<Tensor> zerosScalar(DType d) { return Tensor::scalar(0.0, d); }

/// g where `mask`, else 0.
Expected<Tensor> maskGrad(const Expected<Tensor> &mask, const Tensor &g) {
  if (!mask)
    return mask.status();
  KILN_ASSIGN_OR_RETURN(Tensor zero, zerosScalar(g.dtype()));
  return select(*mask, g, zero);
}

Grads one(Expected<Tensor> g) {
  if (!g)
    return g.status();
  return std::vector<Tensor>{std::move(*g)};
}

Grads two(const Expected<Tensor> &ga, const Shape &sa,
          const Expected<Tensor> &gb, const Shape &sb) {
  if (!ga)
    return ga.status();
  if (!gb)
    return gb.status();
  KILN_ASSIGN_OR_RETURN(Tensor ra, unbroadcast(*ga, sa));
  KILN_ASSIGN_OR_RETURN(Tensor rb, unbroadcast(*gb, sb));
  return std::vector<Tensor>{std::move(ra), std::move(rb)};
}
} // namespace

bool hasDerivative(UnaryOp op) {
  switch (op) {
  case UnaryOp::Floor:
  case UnaryOp::Ceil:
  case UnaryOp::Round:
  case UnaryOp::Sign:
  case UnaryOp::Not:
    return false;
  default:
    return true;
  }
}

bool hasDerivative(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
  case BinaryOp::Sub:
  case BinaryOp::Mul:
  case BinaryOp::Div:
  case BinaryOp::Pow:
  case BinaryOp::Max:
  case BinaryOp::Min:
    return true;
  default:
    return false;
  }
}

BackwardFn unaryBackward(UnaryOp op, const Tensor &xIn, const UnaryParams &p) {
  if (!hasDerivative(op))
    return nullptr;
  Tensor x = xIn.detach();
  return [op, x, p](const Tensor &g, const Tensor &y) -> Grads {
    switch (op) {
    case UnaryOp::Neg:
      return one(neg(g));
    case UnaryOp::Abs:
      return one(g * sign(x));
    case UnaryOp::Exp:
      return one(g * y);
    case UnaryOp::Log:
      return one(g / x);
    case UnaryOp::Sqrt:
      return one(g * 0.5 / y);
    case UnaryOp::Rsqrt: // d x^-1/2 = -1/2 x^-3/2 = -1/2 y^3
      return one(g * (y * y * y) * -0.5);
    case UnaryOp::Reciprocal:
      return one(-(g * y * y));
    case UnaryOp::Tanh:
      return one(g * (1.0 - y * y));
    case UnaryOp::Sigmoid:
      return one(g * y * (1.0 - y));
    case UnaryOp::Relu:
      return one(maskGrad(gt(x, *zerosScalar(x.dtype())), g));
    case UnaryOp::LeakyRelu: {
      KILN_ASSIGN_OR_RETURN(Tensor zero, zerosScalar(x.dtype()));
      KILN_ASSIGN_OR_RETURN(Tensor slope, g * p.alpha);
      KILN_ASSIGN_OR_RETURN(Tensor pos, ge(x, zero));
      return one(select(pos, g, slope));
    }
    case UnaryOp::Elu: { // x <= 0: y = a(e^x - 1), y' = y + a
      KILN_ASSIGN_OR_RETURN(Tensor zero, zerosScalar(x.dtype()));
      KILN_ASSIGN_OR_RETURN(Tensor below, g * (y + p.alpha));
      KILN_ASSIGN_OR_RETURN(Tensor pos, gt(x, zero));
      return one(select(pos, g, below));
    }
    case UnaryOp::Gelu: { // Phi(x) + x phi(x)
      constexpr double kInvSqrt2 = 0.70710678118654752440;
      constexpr double kInvSqrt2Pi = 0.39894228040143267794;
      KILN_ASSIGN_OR_RETURN(Tensor cdf, (erf(x * kInvSqrt2) + 1.0) * 0.5);
      KILN_ASSIGN_OR_RETURN(Tensor pdf, exp(x * x * -0.5) * kInvSqrt2Pi);
      return one(g * (cdf + x * pdf));
    }
    case UnaryOp::GeluTanh: {
      constexpr double kC = 0.79788456080286535588, kA = 0.044715;
      KILN_ASSIGN_OR_RETURN(Tensor t, tanh((x + x * x * x * kA) * kC));
      KILN_ASSIGN_OR_RETURN(Tensor du, (x * x * (3.0 * kA) + 1.0) * kC);
      return one(g * ((t + 1.0) * 0.5 + x * 0.5 * (1.0 - t * t) * du));
    }
    case UnaryOp::Silu: { // s (1 + x (1 - s))
      KILN_ASSIGN_OR_RETURN(Tensor s, sigmoid(x));
      return one(g * s * (x * (1.0 - s) + 1.0));
    }
    case UnaryOp::Softplus:
      return one(g * sigmoid(x));
    case UnaryOp::Sin:
      return one(g * cos(x));
    case UnaryOp::Cos:
      return one(-(g * sin(x)));
    case UnaryOp::Erf: // 2/sqrt(pi) e^{-x^2}
      return one(g * exp(x * x * -1.0) * 1.12837916709551257390);
    case UnaryOp::Clip: { // passes where lo <= x <= hi
      KILN_ASSIGN_OR_RETURN(Tensor lo, Tensor::scalar(p.lo, x.dtype()));
      KILN_ASSIGN_OR_RETURN(Tensor hi, Tensor::scalar(p.hi, x.dtype()));
      KILN_ASSIGN_OR_RETURN(Tensor above, ge(x, lo));
      KILN_ASSIGN_OR_RETURN(Tensor below, le(x, hi));
      return one(maskGrad(logicalAnd(above, below), g));
    }
    default:
      return internalError("no derivative for '", opName(op), "'");
    }
  };
}

namespace {
/// 1 where a wins, 1/2 on ties, 0 where b wins: the share of max/min's
/// gradient that goes to `a` (PyTorch splits ties evenly).
Expected<Tensor> tieShare(const Tensor &a, const Tensor &b, bool isMax) {
  KILN_ASSIGN_OR_RETURN(Tensor wins, isMax ? gt(a, b) : lt(a, b));
  KILN_ASSIGN_OR_RETURN(Tensor ties, eq(a, b));
  KILN_ASSIGN_OR_RETURN(Tensor w, cast(wins, a.dtype()));
  KILN_ASSIGN_OR_RETURN(Tensor t, cast(ties, a.dtype()));
  return w + t * 0.5;
}
} // namespace

BackwardFn binaryBackward(BinaryOp op, const Tensor &aIn, const Tensor &bIn) {
  if (!hasDerivative(op))
    return nullptr;
  Tensor a = aIn.detach(), b = bIn.detach();
  return [op, a, b](const Tensor &g, const Tensor &y) -> Grads {
    const Shape &sa = a.shape(), &sb = b.shape();
    switch (op) {
    case BinaryOp::Add:
      return two(g, sa, g, sb);
    case BinaryOp::Sub:
      return two(g, sa, neg(g), sb);
    case BinaryOp::Mul:
      return two(g * b, sa, g * a, sb);
    case BinaryOp::Div:
      return two(g / b, sa, -(g * y / b), sb);
    case BinaryOp::Pow: {
      // d/da = b a^(b-1) (0 where b == 0); d/db = y log(a) (0 where a == 0).
      KILN_ASSIGN_OR_RETURN(Tensor zero, zerosScalar(a.dtype()));
      KILN_ASSIGN_OR_RETURN(Tensor bm1, b - 1.0);
      KILN_ASSIGN_OR_RETURN(Tensor da, g * b * pow(a, bm1));
      KILN_ASSIGN_OR_RETURN(Tensor bZero, eq(b, zero));
      KILN_ASSIGN_OR_RETURN(Tensor ga, select(bZero, zero, da));
      KILN_ASSIGN_OR_RETURN(Tensor db, g * y * log(a));
      KILN_ASSIGN_OR_RETURN(Tensor aZero, eq(a, zero));
      return two(ga, sa, select(aZero, zero, db), sb);
    }
    case BinaryOp::Max:
    case BinaryOp::Min: {
      KILN_ASSIGN_OR_RETURN(Tensor share, tieShare(a, b, op == BinaryOp::Max));
      KILN_ASSIGN_OR_RETURN(Tensor ga, g * share);
      return two(ga, sa, g - ga, sb);
    }
    default:
      return internalError("no derivative for '", opName(op), "'");
    }
  };
}

BackwardFn selectBackward(const Tensor &condIn, const Tensor &onTrue,
                          const Tensor &onFalse) {
  Tensor cond = condIn.detach();
  Shape st = onTrue.shape(), sf = onFalse.shape();
  return [cond, st, sf](const Tensor &g, const Tensor &) -> Grads {
    KILN_ASSIGN_OR_RETURN(Tensor zero, zerosScalar(g.dtype()));
    KILN_ASSIGN_OR_RETURN(Tensor gt, select(cond, g, zero));
    KILN_ASSIGN_OR_RETURN(Tensor gf, select(cond, zero, g));
    KILN_ASSIGN_OR_RETURN(Tensor rt, unbroadcast(gt, st));
    KILN_ASSIGN_OR_RETURN(Tensor rf, unbroadcast(gf, sf));
    return std::vector<Tensor>{Tensor(), std::move(rt), std::move(rf)};
  };
}

BackwardFn reduceBackward(ReduceOp op, const Tensor &xIn,
                          std::span<const int64_t> axesIn, bool keepDims) {
  Tensor x = xIn.detach();
  std::vector<int64_t> axes;
  if (auto norm = shapes::reductionAxes(axesIn, x.rank()))
    axes = *norm;
  return [op, x, axes, keepDims](const Tensor &g, const Tensor &y) -> Grads {
    // The reduced shape with the reduced dims kept as 1, which broadcasts
    // back to x's shape.
    Shape kept = x.shape();
    int64_t count = 1;
    for (int64_t a : axes) {
      count *= kept[size_t(a)];
      kept[size_t(a)] = 1;
    }
    KILN_ASSIGN_OR_RETURN(Tensor gk, g.reshape(kept));
    KILN_ASSIGN_OR_RETURN(Tensor gb, gk.broadcastTo(x.shape()));
    switch (op) {
    case ReduceOp::Sum:
      return one(gb.contiguous());
    case ReduceOp::Mean:
      return one(gb / double(std::max<int64_t>(count, 1)));
    case ReduceOp::Prod: { // y / x; inputs with zeros get NaN-free 0 only
      KILN_ASSIGN_OR_RETURN(Tensor yk, y.reshape(kept));
      return one(gb * yk / x);
    }
    case ReduceOp::Max:
    case ReduceOp::Min: { // split evenly between the tied extremes
      KILN_ASSIGN_OR_RETURN(Tensor yk, y.reshape(kept));
      KILN_ASSIGN_OR_RETURN(Tensor hit, eq(x, yk));
      KILN_ASSIGN_OR_RETURN(Tensor hits, cast(hit, x.dtype()));
      KILN_ASSIGN_OR_RETURN(Tensor n, sum(hits, axes, /*keepDims=*/true));
      return one(gb * hits / n);
    }
    }
    (void)keepDims;
    return internalError("no derivative for reduction");
  };
}

BackwardFn matmulBackward(const Tensor &aIn, const Tensor &bIn, bool ta,
                          bool tb) {
  // Only the operands that need a gradient get one: the first layer's input
  // never does, and its GEMM would be wasted.
  bool needA = aIn.requiresGrad(), needB = bIn.requiresGrad();
  Tensor a = aIn.detach(), b = bIn.detach();
  return [a, b, ta, tb, needA, needB](const Tensor &g, const Tensor &) -> Grads {
    // y = op(a) op(b). d op(a) = g op(b)^T and d op(b) = op(a)^T g, then
    // undo the op: d a = (d op(a))^T when a was transposed.
    std::vector<Tensor> out(2);
    if (needA) {
      KILN_ASSIGN_OR_RETURN(Tensor ga, ta ? matmul(b, g, tb, true)
                                          : matmul(g, b, false, !tb));
      KILN_ASSIGN_OR_RETURN(out[0], unbroadcast(ga, a.shape()));
    }
    if (needB) {
      KILN_ASSIGN_OR_RETURN(Tensor gb, tb ? matmul(g, a, true, ta)
                                          : matmul(a, g, !ta, false));
      KILN_ASSIGN_OR_RETURN(out[1], unbroadcast(gb, b.shape()));
    }
    return out;
  };
}

} // namespace kiln::autograd
