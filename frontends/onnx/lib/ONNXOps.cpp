//===- ONNXOps.cpp - One converter per ONNX op type -----------------------===//
//
// Each converter reads one node (inputs, attributes with their defaults,
// the opset where semantics changed) and builds kiln ops. Ops with a kiln
// counterpart map one to one; composite ops (Gemm, InstanceNormalization,
// Selu, HardSwish, ...) decompose into kiln ops that the compiler's
// elementwise fusion then merges. This file has the elementwise, value and
// NN ops; data movement and reductions are in ONNXShapeOps.cpp, LSTM/GRU/RNN
// in ONNXRecurrentOps.cpp. The table at the bottom lists every op type.
//
//===----------------------------------------------------------------------===//
#include "ONNXConvert.h"

#include "llvm/Support/CheckedArithmetic.h"

#include <cmath>
#include <limits>
#include <numeric>

namespace mlir::kiln::onnx {
namespace {

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

template <typename OpTy>
LogicalResult unary(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(r, im.make<OpTy>(n.loc, n.in(0)));
  n.results[0] = r;
  return success();
}

template <typename OpTy>
LogicalResult binary(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  KILN_TRY(r, im.make<OpTy>(n.loc, ValueRange{n.in(0), n.in(1)}));
  n.results[0] = r;
  return success();
}

LogicalResult convertPow(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  // The exponent may have another type (opset 12+): compute in the base's.
  KILN_TRY(e, im.castTo(n.loc, n.in(1), I::typeOf(n.in(0)).getElementType()));
  KILN_TRY(r, im.make<PowOp>(n.loc, ValueRange{n.in(0), e}));
  n.results[0] = r;
  return success();
}

/// Mod: a - t(a / b) * b with t = trunc (fmod=1, C's fmod: the sign of
/// the dividend) or floor (fmod=0, Python's %: the sign of the divisor),
/// computed in f64 (exact for integers below 2^53) and cast back. PyTorch
/// exports shape arithmetic with it, which folds away on constants.
LogicalResult convertMod(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  KILN_TRY(fmod, im.getInt(n, "fmod", 0));
  Type elem = I::typeOf(n.in(0)).getElementType();
  if (isa<FloatType>(elem) && fmod == 0)
    return emitError(n.loc) << "fmod=0 on floating-point inputs is invalid ONNX (use fmod=1)";
  if (!isa<FloatType>(elem) && !elem.isSignlessInteger())
    return emitError(n.loc) << "Mod of " << elem << " is not supported";
  Type f64 = im.b.getF64Type();
  KILN_TRY(a, im.castTo(n.loc, n.in(0), f64));
  KILN_TRY(b, im.castTo(n.loc, n.in(1), f64));
  KILN_TRY(q, im.make<DivOp>(n.loc, ValueRange{a, b}));
  Value t;
  if (fmod) {
    KILN_TRY(aq, im.make<AbsOp>(n.loc, q));
    KILN_TRY(fq, im.make<FloorOp>(n.loc, aq));
    KILN_TRY(sq, im.make<SignOp>(n.loc, q));
    KILN_TRY(tq, im.make<MulOp>(n.loc, ValueRange{sq, fq}));
    t = tq;
  } else {
    KILN_TRY(fq, im.make<FloorOp>(n.loc, q));
    t = fq;
  }
  KILN_TRY(tb, im.make<MulOp>(n.loc, ValueRange{t, b}));
  KILN_TRY(r, im.make<SubOp>(n.loc, ValueRange{a, tb}));
  KILN_TRY(out, im.castTo(n.loc, r, elem));
  n.results[0] = out;
  return success();
}

/// Sum, Max, Min, Mean: variadic, folded left to right.
template <typename OpTy>
LogicalResult variadic(I &im, Node &n, bool mean = false) {
  SmallVector<Value> ins;
  for (Value v : n.inputs)
    if (v)
      ins.push_back(v);
  if (ins.empty())
    return emitError(n.loc) << "needs at least one input";
  Value acc = ins[0];
  for (Value v : ArrayRef<Value>(ins).drop_front()) {
    KILN_TRY(r, im.make<OpTy>(n.loc, ValueRange{acc, v}));
    acc = r;
  }
  if (mean && ins.size() > 1) {
    KILN_TRY(r, im.make<DivOp>(n.loc, ValueRange{acc, scalarLike(im, acc, double(ins.size()))}));
    acc = r;
  }
  n.results[0] = acc;
  return success();
}

LogicalResult convertLeakyRelu(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(alpha, im.getFloat(n, "alpha", 0.01));
  KILN_TRY(r, im.make<LeakyReluOp>(n.loc, n.in(0),
                                   {named(im, "alpha", im.b.getF64FloatAttr(alpha))}));
  n.results[0] = r;
  return success();
}

LogicalResult convertElu(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(alpha, im.getFloat(n, "alpha", 1.0));
  KILN_TRY(r, im.make<EluOp>(n.loc, n.in(0),
                             {named(im, "alpha", im.b.getF64FloatAttr(alpha))}));
  n.results[0] = r;
  return success();
}

LogicalResult convertSelu(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(alpha, im.getFloat(n, "alpha", 1.67326319217681884765625));
  KILN_TRY(gamma, im.getFloat(n, "gamma", 1.05070102214813232421875));
  KILN_TRY(e, im.make<EluOp>(n.loc, n.in(0),
                             {named(im, "alpha", im.b.getF64FloatAttr(alpha))}));
  KILN_TRY(r, im.make<MulOp>(n.loc, ValueRange{e, scalarLike(im, e, gamma)}));
  n.results[0] = r;
  return success();
}

LogicalResult convertCelu(I &im, Node &n) {
  // max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) = elu(x / alpha) * alpha
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(alpha, im.getFloat(n, "alpha", 1.0));
  Value x = n.in(0);
  KILN_TRY(s, im.make<DivOp>(n.loc, ValueRange{x, scalarLike(im, x, alpha)}));
  KILN_TRY(e, im.make<EluOp>(n.loc, s, {named(im, "alpha", im.b.getF64FloatAttr(1.0))}));
  KILN_TRY(r, im.make<MulOp>(n.loc, ValueRange{e, scalarLike(im, x, alpha)}));
  n.results[0] = r;
  return success();
}

LogicalResult hardSigmoid(I &im, Node &n, Value x, double alpha, double beta,
                          Value &out) {
  KILN_TRY(m, im.make<MulOp>(n.loc, ValueRange{x, scalarLike(im, x, alpha)}));
  KILN_TRY(a, im.make<AddOp>(n.loc, ValueRange{m, scalarLike(im, x, beta)}));
  KILN_TRY(c, im.make<ClipOp>(n.loc, a,
                              {named(im, "min", im.b.getF64FloatAttr(0.0)),
                               named(im, "max", im.b.getF64FloatAttr(1.0))}));
  out = c;
  return success();
}

LogicalResult convertHardSigmoid(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(alpha, im.getFloat(n, "alpha", 0.2));
  KILN_TRY(beta, im.getFloat(n, "beta", 0.5));
  return hardSigmoid(im, n, n.in(0), alpha, beta, n.results[0]);
}

LogicalResult convertHardSwish(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value h;
  if (failed(hardSigmoid(im, n, n.in(0), 1.0 / 6.0, 0.5, h)))
    return failure();
  KILN_TRY(r, im.make<MulOp>(n.loc, ValueRange{n.in(0), h}));
  n.results[0] = r;
  return success();
}

LogicalResult convertSoftsign(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  KILN_TRY(a, im.make<AbsOp>(n.loc, x));
  KILN_TRY(d, im.make<AddOp>(n.loc, ValueRange{a, scalarLike(im, x, 1.0)}));
  KILN_TRY(r, im.make<DivOp>(n.loc, ValueRange{x, d}));
  n.results[0] = r;
  return success();
}

LogicalResult convertMish(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(s, im.make<SoftplusOp>(n.loc, n.in(0)));
  KILN_TRY(t, im.make<TanhOp>(n.loc, s));
  KILN_TRY(r, im.make<MulOp>(n.loc, ValueRange{n.in(0), t}));
  n.results[0] = r;
  return success();
}

LogicalResult convertThresholdedRelu(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(alpha, im.getFloat(n, "alpha", 1.0));
  Value x = n.in(0);
  KILN_TRY(c, im.make<GtOp>(n.loc, ValueRange{x, scalarLike(im, x, alpha)}));
  KILN_TRY(r, im.make<SelectOp>(n.loc, ValueRange{c, x, scalarLike(im, x, 0.0)}));
  n.results[0] = r;
  return success();
}

LogicalResult convertPRelu(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  Value x = n.in(0);
  KILN_TRY(c, im.make<LtOp>(n.loc, ValueRange{x, scalarLike(im, x, 0.0)}));
  KILN_TRY(m, im.make<MulOp>(n.loc, ValueRange{x, n.in(1)}));
  KILN_TRY(r, im.make<SelectOp>(n.loc, ValueRange{c, m, x}));
  n.results[0] = r;
  return success();
}

LogicalResult convertGelu(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(approx, im.getString(n, "approximate", "none"));
  KILN_TRY(r, im.make<GeluOp>(n.loc, n.in(0),
                              {named(im, "approximate", im.b.getStringAttr(approx))}));
  n.results[0] = r;
  return success();
}

/// sinh, cosh from exp.
LogicalResult convertHyperbolic(I &im, Node &n, bool isSinh) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  KILN_TRY(e, im.make<ExpOp>(n.loc, x));
  KILN_TRY(nx, im.make<NegOp>(n.loc, x));
  KILN_TRY(en, im.make<ExpOp>(n.loc, nx));
  FailureOr<Value> s = isSinh ? im.make<SubOp>(n.loc, ValueRange{e, en})
                              : im.make<AddOp>(n.loc, ValueRange{e, en});
  if (failed(s))
    return failure();
  KILN_TRY(r, im.make<MulOp>(n.loc, ValueRange{*s, scalarLike(im, x, 0.5)}));
  n.results[0] = r;
  return success();
}

LogicalResult convertTan(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(s, im.make<SinOp>(n.loc, n.in(0)));
  KILN_TRY(c, im.make<CosOp>(n.loc, n.in(0)));
  KILN_TRY(r, im.make<DivOp>(n.loc, ValueRange{s, c}));
  n.results[0] = r;
  return success();
}

/// Trilu: a select against a constant [rows, cols] mask (the last two dims
/// are static): upper keeps col - row >= k, lower keeps col - row <= k.
LogicalResult convertTrilu(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(upper, im.getInt(n, "upper", 1));
  int64_t k = 0;
  if (n.hasInput(1)) {
    KILN_TRY(ks, im.constInts(n, n.in(1), "k"));
    if (ks.size() != 1)
      return emitError(n.loc) << "input 'k' must hold one value, not " << ks.size();
    k = ks[0];
  }
  Value x = n.in(0);
  if (I::rankOf(x) < 2)
    return emitError(n.loc) << "needs an input of rank >= 2";
  int64_t rows = I::shapeOf(x).drop_back().back(), cols = I::shapeOf(x).back();
  if (rows * cols > (int64_t(1) << 24))
    return emitError(n.loc) << "a " << rows << "x" << cols << " mask is too large";
  SmallVector<bool> keep;
  keep.reserve(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      keep.push_back(upper ? j - i >= k : j - i <= k);
  Value mask = im.constant(DenseElementsAttr::get(
      RankedTensorType::get({rows, cols}, im.b.getI1Type()), ArrayRef<bool>(keep)));
  KILN_TRY(r, im.make<SelectOp>(n.loc, ValueRange{mask, x, scalarLike(im, x, 0.0)},
                                {}, I::typeOf(x)));
  n.results[0] = r;
  return success();
}

/// NegativeLogLikelihoodLoss on log-probabilities `x` [N, C, d...] and
/// integer `target` [N, d...]: a one-hot mask (target == class index)
/// picks -x and the class weight; ignore_index zeroes both. Reductions:
/// none, sum, mean (sum of losses / sum of picked weights, as ONNX).
FailureOr<Value> negativeLogLikelihood(I &im, Node &n, Value x, Value target,
                                       Value weight) {
  KILN_TRY(reduction, im.getString(n, "reduction", "mean"));
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return emitError(n.loc) << "unknown reduction '" << reduction << "'";
  const ::onnx::AttributeProto *ignoreAttr = im.attr(n, "ignore_index");
  int64_t rank = I::rankOf(x);
  if (rank < 2 || I::rankOf(target) != rank - 1)
    return emitError(n.loc) << "expects input [N, C, d...] and target [N, d...]";
  int64_t classes = I::shapeOf(x)[1];
  if (classes > kMaxBuiltConstant)
    return emitError(n.loc) << "has " << classes << " classes; Kiln builds the class "
                               "index constant for at most " << kMaxBuiltConstant;
  Type elem = I::typeOf(x).getElementType();
  // target [N, d...] -> [N, 1, d...] against class indices [1, C, 1...].
  SmallVector<int64_t> tShape(I::shapeOf(target));
  tShape.insert(tShape.begin() + 1, 1);
  KILN_TRY(t64, im.castTo(n.loc, target, im.b.getI64Type()));
  KILN_TRY(t, im.reshape(n.loc, t64, tShape));
  SmallVector<int64_t> iota(classes), cShape(rank, 1);
  for (int64_t c = 0; c < classes; ++c)
    iota[c] = c;
  cShape[1] = classes;
  KILN_TRY(cls, im.reshape(n.loc, im.constI64(iota), cShape));
  KILN_TRY(hit, im.make<EqOp>(n.loc, ValueRange{t, cls}));
  KILN_TRY(mask, im.castTo(n.loc, hit, elem));
  Value w = mask;
  if (weight) {
    KILN_TRY(wc, im.reshape(n.loc, weight, cShape));
    KILN_TRY(mw, im.make<MulOp>(n.loc, ValueRange{mask, wc}));
    w = mw;
  }
  if (ignoreAttr) {
    KILN_TRY(ignore, im.getInt(n, "ignore_index", 0));
    KILN_TRY(keep, im.make<NeOp>(n.loc, ValueRange{t, im.splat(im.b.getI64Type(),
                                                                double(ignore))}));
    KILN_TRY(keepF, im.castTo(n.loc, keep, elem));
    KILN_TRY(wk, im.make<MulOp>(n.loc, ValueRange{w, keepF}));
    w = wk;
  }
  auto overClasses = {named(im, "axes", i64Array(im, {1})),
                      named(im, "keepdims", im.b.getBoolAttr(false))};
  KILN_TRY(xw, im.make<MulOp>(n.loc, ValueRange{x, w}));
  KILN_TRY(picked, im.make<SumOp>(n.loc, xw, overClasses));
  KILN_TRY(loss, im.make<NegOp>(n.loc, picked));
  if (reduction == "none")
    return loss;
  SmallVector<int64_t> all;
  for (int64_t d = 0; d < rank - 1; ++d)
    all.push_back(d);
  auto overAll = {named(im, "axes", i64Array(im, all)),
                  named(im, "keepdims", im.b.getBoolAttr(false))};
  KILN_TRY(total, im.make<SumOp>(n.loc, loss, overAll));
  if (reduction == "sum")
    return total;
  KILN_TRY(wt, im.make<SumOp>(n.loc, w, overClasses));
  KILN_TRY(wsum, im.make<SumOp>(n.loc, wt, overAll));
  return im.make<DivOp>(n.loc, ValueRange{total, wsum});
}

LogicalResult convertNegativeLogLikelihoodLoss(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  KILN_TRY(r, negativeLogLikelihood(im, n, n.in(0), n.in(1), n.in(2)));
  n.results[0] = r;
  return success();
}

/// SoftmaxCrossEntropyLoss: LogSoftmax over the class axis (1), then the
/// negative log-likelihood; the optional second output is the log-softmax.
LogicalResult convertSoftmaxCrossEntropyLoss(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  if (I::rankOf(n.in(0)) < 2)
    return emitError(n.loc) << "expects scores [N, C, d...]";
  KILN_TRY(logp, im.make<LogSoftmaxOp>(n.loc, n.in(0),
                                       {named(im, "axis", im.b.getI64IntegerAttr(1))}));
  KILN_TRY(r, negativeLogLikelihood(im, n, logp, n.in(1), n.in(2)));
  n.results[0] = r;
  if (n.wantsOutput(1))
    n.results[1] = logp;
  return success();
}

LogicalResult convertIsInf(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(neg, im.getInt(n, "detect_negative", 1));
  KILN_TRY(pos, im.getInt(n, "detect_positive", 1));
  Value x = n.in(0);
  double inf = std::numeric_limits<double>::infinity();
  KILN_TRY(isPos, im.make<EqOp>(n.loc, ValueRange{x, scalarLike(im, x, inf)}));
  KILN_TRY(isNeg, im.make<EqOp>(n.loc, ValueRange{x, scalarLike(im, x, -inf)}));
  Value r;
  if (pos && neg) {
    KILN_TRY(both, im.make<OrOp>(n.loc, ValueRange{isPos, isNeg}));
    r = both;
  } else if (pos) {
    r = isPos;
  } else if (neg) {
    r = isNeg;
  } else {
    KILN_TRY(none, im.make<AndOp>(n.loc, ValueRange{isPos, isNeg}));
    r = none;
  }
  n.results[0] = r;
  return success();
}

/// Hardmax: 1 where ArgMax (the first maximum) is, else 0. Before opset 13
/// the input is coerced to 2-D at `axis` (default 1), from 13 it works
/// along `axis` (default -1).
LogicalResult convertHardmax(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  bool coerce = n.opset < 13;
  KILN_TRY(axis, im.getInt(n, "axis", coerce ? 1 : -1));
  KILN_TRY(ax, im.normAxis(n, axis, I::rankOf(x)));
  Value in = x;
  if (coerce) {
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < I::rankOf(x); ++d)
      (d < ax ? outer : inner) *= I::shapeOf(x)[d];
    KILN_TRY(r2, im.reshape(n.loc, x, {outer, inner}));
    in = r2;
    ax = 1;
  }
  KILN_TRY(am, im.make<ArgMaxOp>(n.loc, in,
                                 {named(im, "axis", im.b.getI64IntegerAttr(ax)),
                                  named(im, "keepdims", im.b.getBoolAttr(true))}));
  int64_t len = I::shapeOf(in)[ax];
  if (len > kMaxBuiltConstant)
    return emitError(n.loc) << "the axis has " << len << " elements; Kiln builds "
                               "Hardmax's index constant for at most " << kMaxBuiltConstant;
  SmallVector<int64_t> iota(len), idxShape(I::rankOf(in), 1);
  for (int64_t i = 0; i < len; ++i)
    iota[i] = i;
  idxShape[ax] = len;
  KILN_TRY(idx, im.reshape(n.loc, im.constI64(iota), idxShape));
  KILN_TRY(amI64, im.castTo(n.loc, am, im.b.getI64Type()));
  KILN_TRY(eq, im.make<EqOp>(n.loc, ValueRange{amI64, idx}));
  KILN_TRY(r, im.castTo(n.loc, eq, I::typeOf(x).getElementType()));
  if (coerce) {
    KILN_TRY(back, im.reshape(n.loc, r, I::shapeOf(x)));
    r = back;
  }
  n.results[0] = r;
  return success();
}

/// CumSum along a constant axis as a masked sum: x with a unit dim inserted
/// at `axis` times an [L, L] 0/1 mask (out index, in index), summed over the
/// in index. O(L^2) work, fine for the lengths models use it for (position
/// ids, masks); exact for integers.
LogicalResult convertCumSum(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  KILN_TRY(exclusive, im.getInt(n, "exclusive", 0));
  KILN_TRY(reverse, im.getInt(n, "reverse", 0));
  KILN_TRY(axes, im.constInts(n, n.in(1), "axis"));
  if (axes.size() != 1)
    return emitError(n.loc) << "input 'axis' must hold one value";
  Value x = n.in(0);
  int64_t rank = I::rankOf(x);
  KILN_TRY(ax, im.normAxis(n, axes[0], rank));
  int64_t len = I::shapeOf(x)[ax];
  // len * len <= 2^24, tested without the product (it overflows for 2^32).
  if (len > (int64_t(1) << 12))
    return emitError(n.loc) << "a cumulative sum over " << len
                            << " elements is too long (Kiln's masked sum takes at most 4096)";
  SmallVector<double> mask;
  for (int64_t o = 0; o < len; ++o)
    for (int64_t i = 0; i < len; ++i)
      mask.push_back(reverse ? (exclusive ? i > o : i >= o) : (exclusive ? i < o : i <= o));
  SmallVector<int64_t> maskShape{len, len};
  maskShape.append(rank - ax - 1, 1);
  Type elem = I::typeOf(x).getElementType();
  KILN_TRY(m64, im.reshape(n.loc, im.constant(DenseElementsAttr::get(
                                      RankedTensorType::get({len * len}, im.b.getF64Type()),
                                      ArrayRef<double>(mask))),
                           maskShape));
  KILN_TRY(m, im.castTo(n.loc, m64, elem));
  SmallVector<int64_t> xeShape(I::shapeOf(x));
  xeShape.insert(xeShape.begin() + ax, 1);
  KILN_TRY(xe, im.reshape(n.loc, x, xeShape));
  KILN_TRY(prod, im.make<MulOp>(n.loc, ValueRange{xe, m}));
  KILN_TRY(r, im.make<SumOp>(n.loc, prod,
                             {named(im, "axes", i64Array(im, {ax + 1})),
                              named(im, "keepdims", im.b.getBoolAttr(false))}));
  n.results[0] = r;
  return success();
}

LogicalResult convertIsNaN(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(r, im.make<NeOp>(n.loc, ValueRange{n.in(0), n.in(0)}));
  n.results[0] = r;
  return success();
}

LogicalResult convertWhere(I &im, Node &n) {
  if (failed(needInputs(n, 3)))
    return failure();
  KILN_TRY(r, im.make<SelectOp>(n.loc, ValueRange{n.in(0), n.in(1), n.in(2)}));
  n.results[0] = r;
  return success();
}

FailureOr<Type> castTarget(I &im, Node &n, int64_t to) {
  Type t = elementTypeOf(im.ctx, int32_t(to));
  if (!t)
    return emitError(n.loc) << "cast to " << onnxTypeName(int32_t(to))
                            << " is not supported";
  return t;
}

LogicalResult convertCast(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(to, im.requireInt(n, "to"));
  KILN_TRY(t, castTarget(im, n, to));
  KILN_TRY(r, im.castTo(n.loc, n.in(0), t));
  n.results[0] = r;
  return success();
}

LogicalResult convertCastLike(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  KILN_TRY(r, im.castTo(n.loc, n.in(0), I::typeOf(n.in(1)).getElementType()));
  n.results[0] = r;
  return success();
}

LogicalResult convertClip(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  SmallVector<NamedAttribute> attrs;
  if (n.opset < 11) {
    if (im.attr(n, "min")) {
      KILN_TRY(lo, im.getFloat(n, "min", 0));
      attrs.push_back(named(im, "min", im.b.getF64FloatAttr(lo)));
    }
    if (im.attr(n, "max")) {
      KILN_TRY(hi, im.getFloat(n, "max", 0));
      attrs.push_back(named(im, "max", im.b.getF64FloatAttr(hi)));
    }
    KILN_TRY(r, im.make<ClipOp>(n.loc, x, attrs));
    n.results[0] = r;
    return success();
  }
  // Opset 11+: bounds are inputs. Constant bounds become attributes;
  // computed ones become max/min ops.
  Value acc = x;
  for (int i : {1, 2}) {
    Value bound = n.in(unsigned(i));
    if (!bound)
      continue;
    if (im.constantOf(bound) && I::typeOf(bound).getNumElements() == 1) {
      KILN_TRY(v, im.constFloats(n, bound, i == 1 ? "min" : "max"));
      attrs.push_back(named(im, i == 1 ? "min" : "max", im.b.getF64FloatAttr(v[0])));
      continue;
    }
    FailureOr<Value> r = i == 1 ? im.make<MaxOp>(n.loc, ValueRange{acc, bound})
                                : im.make<MinOp>(n.loc, ValueRange{acc, bound});
    if (failed(r))
      return failure();
    acc = *r;
  }
  if (!attrs.empty()) {
    KILN_TRY(r, im.make<ClipOp>(n.loc, acc, attrs));
    acc = r;
  }
  n.results[0] = acc;
  return success();
}

LogicalResult convertIdentity(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  n.results[0] = n.in(0);
  return success();
}

LogicalResult convertDropout(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  if (n.hasInput(2)) {
    auto training = im.constInts(n, n.in(2), "training_mode");
    if (failed(training))
      return failure();
    if (!training->empty() && (*training)[0] != 0)
      return emitError(n.loc) << "training mode is not supported (Kiln imports "
                                 "models for inference)";
  }
  n.results[0] = n.in(0);
  if (n.wantsOutput(1))
    n.results[1] = im.splat(im.b.getI1Type(), 1.0, I::shapeOf(n.in(0)));
  return success();
}

//===----------------------------------------------------------------------===//
// Constants and shapes of values
//===----------------------------------------------------------------------===//

LogicalResult convertConstant(I &im, Node &n) {
  const auto &attrs = n.proto->attribute();
  if (attrs.size() != 1)
    return emitError(n.loc) << "needs exactly one value attribute, got "
                            << attrs.size();
  const auto &a = attrs[0];
  Builder &b = im.b;
  DenseElementsAttr value;
  if (a.name() == "value") {
    KILN_TRY(v, tensorToAttr(a.t(), im.modelDir(), n.loc, "the 'value' tensor"));
    value = v;
  } else if (a.name() == "value_float") {
    value = DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()), a.f());
  } else if (a.name() == "value_floats") {
    SmallVector<float> v(a.floats().begin(), a.floats().end());
    value = DenseElementsAttr::get(
        RankedTensorType::get({int64_t(v.size())}, b.getF32Type()), ArrayRef<float>(v));
  } else if (a.name() == "value_int") {
    value = DenseElementsAttr::get(RankedTensorType::get({}, b.getI64Type()),
                                   int64_t(a.i()));
  } else if (a.name() == "value_ints") {
    SmallVector<int64_t> v(a.ints().begin(), a.ints().end());
    value = DenseElementsAttr::get(
        RankedTensorType::get({int64_t(v.size())}, b.getI64Type()), ArrayRef<int64_t>(v));
  } else {
    return emitError(n.loc) << "value attribute '" << a.name()
                            << "' is not supported";
  }
  n.results[0] = im.constant(value);
  return success();
}

LogicalResult convertConstantOfShape(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(shape, im.constInts(n, n.in(0), "input"));
  DenseElementsAttr fill;
  if (const auto *a = im.attr(n, "value")) {
    KILN_TRY(v, tensorToAttr(a->t(), im.modelDir(), n.loc, "the 'value' tensor"));
    if (v.getNumElements() != 1)
      return emitError(n.loc) << "'value' must hold one element";
    fill = v;
  } else {
    fill = DenseElementsAttr::get(RankedTensorType::get({}, im.b.getF32Type()), 0.0f);
  }
  KILN_TRY(type, checkedTensorType(n.loc, shape, fill.getElementType(), "the result"));
  n.results[0] = im.constant(DenseElementsAttr::get(
      type, fill.getValues<Attribute>()[0]));
  return success();
}

LogicalResult convertShape(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  ArrayRef<int64_t> shape = I::shapeOf(n.in(0));
  int64_t rank = int64_t(shape.size());
  KILN_TRY(start, im.getInt(n, "start", 0));
  KILN_TRY(end, im.getInt(n, "end", rank));
  auto clampIdx = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::clamp<int64_t>(v, 0, rank);
  };
  start = clampIdx(start);
  end = clampIdx(end);
  SmallVector<int64_t> dims;
  for (int64_t i = start; i < end; ++i)
    dims.push_back(shape[i]);
  n.results[0] = im.constI64(dims);
  return success();
}

LogicalResult convertSize(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  n.results[0] = im.constant(DenseElementsAttr::get(
      RankedTensorType::get({}, im.b.getI64Type()),
      int64_t(I::typeOf(n.in(0)).getNumElements())));
  return success();
}

/// Range: folded to a constant (the inputs must be constants). Integer
/// ranges are computed in integers (a double loses int64's low bits);
/// float ranges as start + i * delta in double, then rounded to the type.
LogicalResult convertRange(I &im, Node &n) {
  if (failed(needInputs(n, 3)))
    return failure();
  Type et = I::typeOf(n.in(0)).getElementType();
  if (et.isInteger(1))
    return emitError(n.loc) << "Range of booleans is not supported";
  for (unsigned i = 1; i < 3; ++i)
    if (I::typeOf(n.in(i)).getElementType() != et)
      return emitError(n.loc) << "start, limit and delta must have one type";
  auto tooLarge = [&](auto count) {
    return emitError(n.loc) << "a range of " << count
                            << " elements is too large to fold (Kiln folds at most "
                            << kMaxBuiltConstant << ")";
  };
  if (auto it = dyn_cast<IntegerType>(et)) {
    KILN_TRY(start, im.constInts(n, n.in(0), "start"));
    KILN_TRY(limit, im.constInts(n, n.in(1), "limit"));
    KILN_TRY(delta, im.constInts(n, n.in(2), "delta"));
    if (start.size() != 1 || limit.size() != 1 || delta.size() != 1)
      return emitError(n.loc) << "start, limit and delta must be scalars";
    if (delta[0] == 0)
      return emitError(n.loc) << "delta is 0";
    // ceil((limit - start) / delta) without overflow: in 128 bits.
    __int128 span = __int128(limit[0]) - start[0], d = delta[0];
    __int128 count = span / d + ((span % d != 0 && (span > 0) == (d > 0)) ? 1 : 0);
    if (count < 0)
      count = 0;
    if (count > kMaxBuiltConstant)
      return tooLarge(int64_t(count));
    int64_t len = int64_t(count);
    KILN_TRY(type, checkedTensorType(n.loc, {len}, et, "the result"));
    // Every value lies between start and limit, so it fits their type.
    SmallVector<APInt> vals;
    vals.reserve(len);
    for (int64_t i = 0; i < len; ++i)
      vals.push_back(APInt(64, uint64_t(int64_t(start[0] + __int128(i) * d)),
                           /*isSigned=*/true)
                         .sextOrTrunc(it.getWidth()));
    n.results[0] = im.constant(DenseElementsAttr::get(type, vals));
    return success();
  }
  KILN_TRY(start, im.constFloats(n, n.in(0), "start"));
  KILN_TRY(limit, im.constFloats(n, n.in(1), "limit"));
  KILN_TRY(delta, im.constFloats(n, n.in(2), "delta"));
  if (start.size() != 1 || limit.size() != 1 || delta.size() != 1)
    return emitError(n.loc) << "start, limit and delta must be scalars";
  if (delta[0] == 0)
    return emitError(n.loc) << "delta is 0";
  double count = std::ceil((limit[0] - start[0]) / delta[0]);
  if (std::isnan(count))
    return emitError(n.loc) << "the number of elements, ceil((limit - start) / delta), "
                               "is not a number";
  // Tested in double: converting 1e30 (or infinity) to int64 is undefined.
  if (count > double(kMaxBuiltConstant))
    return tooLarge(count);
  int64_t len = count > 0 ? int64_t(count) : 0;
  KILN_TRY(type, checkedTensorType(n.loc, {len}, et, "the result"));
  auto value = [&](int64_t i) { return start[0] + double(i) * delta[0]; };
  if (et.isF32()) {
    SmallVector<float> vals;
    for (int64_t i = 0; i < len; ++i)
      vals.push_back(float(value(i)));
    n.results[0] = im.constant(DenseElementsAttr::get(type, ArrayRef<float>(vals)));
  } else if (et.isF64()) {
    SmallVector<double> vals;
    for (int64_t i = 0; i < len; ++i)
      vals.push_back(value(i));
    n.results[0] = im.constant(DenseElementsAttr::get(type, ArrayRef<double>(vals)));
  } else {
    const llvm::fltSemantics &sem = cast<FloatType>(et).getFloatSemantics();
    SmallVector<APFloat> vals;
    for (int64_t i = 0; i < len; ++i) {
      APFloat v(value(i));
      bool lost;
      v.convert(sem, APFloat::rmNearestTiesToEven, &lost);
      vals.push_back(v);
    }
    n.results[0] = im.constant(DenseElementsAttr::get(type, vals));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Linear algebra and NN
//===----------------------------------------------------------------------===//

LogicalResult convertMatMul(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  Value a = n.in(0), bv = n.in(1);
  bool vecA = I::rankOf(a) == 1, vecB = I::rankOf(bv) == 1;
  // numpy matmul: a vector operand gains a unit dim, dropped afterwards.
  if (vecA) {
    KILN_TRY(r, im.reshape(n.loc, a, {1, I::shapeOf(a)[0]}));
    a = r;
  }
  if (vecB) {
    KILN_TRY(r, im.reshape(n.loc, bv, {I::shapeOf(bv)[0], 1}));
    bv = r;
  }
  KILN_TRY(m, im.make<MatmulOp>(n.loc, ValueRange{a, bv}));
  if (vecA || vecB) {
    SmallVector<int64_t> shape(I::shapeOf(m));
    if (vecB)
      shape.pop_back();
    if (vecA)
      shape.erase(shape.end() - 1 - (vecB ? 0 : 1));
    KILN_TRY(r, im.reshape(n.loc, m, shape));
    m = r;
  }
  n.results[0] = m;
  return success();
}

LogicalResult convertGemm(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  KILN_TRY(transA, im.getInt(n, "transA", 0));
  KILN_TRY(transB, im.getInt(n, "transB", 0));
  KILN_TRY(alpha, im.getFloat(n, "alpha", 1.0));
  KILN_TRY(beta, im.getFloat(n, "beta", 1.0));
  if (I::rankOf(n.in(0)) != 2 || I::rankOf(n.in(1)) != 2)
    return emitError(n.loc) << "A and B must be matrices (rank 2)";
  KILN_TRY(y, im.make<MatmulOp>(n.loc, ValueRange{n.in(0), n.in(1)},
                                {named(im, "transpose_lhs", im.b.getBoolAttr(transA)),
                                 named(im, "transpose_rhs", im.b.getBoolAttr(transB))}));
  if (alpha != 1.0) {
    KILN_TRY(r, im.make<MulOp>(n.loc, ValueRange{y, scalarLike(im, y, alpha)}));
    y = r;
  }
  if (Value c = n.in(2)) {
    if (beta != 1.0) {
      KILN_TRY(r, im.make<MulOp>(n.loc, ValueRange{c, scalarLike(im, c, beta)}));
      c = r;
    }
    // C broadcasts to [M, N] only one way: the result keeps the matmul's shape.
    KILN_TRY(r, im.make<AddOp>(n.loc, ValueRange{y, c}));
    if (I::shapeOf(r) != I::shapeOf(y))
      return emitError(n.loc) << "C does not broadcast to the product's shape";
    y = r;
  }
  n.results[0] = y;
  return success();
}

/// Window attributes of Conv / pooling for 1 or 2 spatial dims, as 2-D
/// (a 1-D window gets a unit first dim).
struct Window {
  SmallVector<int64_t> kernel, strides, pads, dilations;
};

LogicalResult readWindow(I &im, Node &n, ArrayRef<int64_t> inShape,
                         ArrayRef<int64_t> kernel, Window &w) {
  size_t s = kernel.size();
  KILN_TRY(strides, im.getInts(n, "strides", SmallVector<int64_t>(s, 1)));
  KILN_TRY(dilations, im.getInts(n, "dilations", SmallVector<int64_t>(s, 1)));
  KILN_TRY(pads, im.getInts(n, "pads", SmallVector<int64_t>(2 * s, 0)));
  KILN_TRY(autoPad, im.getString(n, "auto_pad", "NOTSET"));
  if (strides.size() != s || dilations.size() != s || pads.size() != 2 * s)
    return emitError(n.loc) << "strides, dilations and pads must have " << s
                            << ", " << s << " and " << 2 * s << " values";
  for (int64_t v : strides)
    if (v < 1)
      return emitError(n.loc) << "strides must be >= 1";
  for (int64_t v : dilations)
    if (v < 1)
      return emitError(n.loc) << "dilations must be >= 1";
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (size_t i = 0; i < s; ++i) {
      // out = ceil(in / stride), extent = (kernel - 1) * dilation + 1,
      // total = (out - 1) * stride + extent - in; hostile attributes make
      // any of these overflow int64.
      int64_t in = inShape[i], out, k1, extent, span, total;
      bool overflow = __builtin_add_overflow(in, strides[i] - 1, &out);
      out = overflow ? 0 : out / strides[i];
      overflow |= __builtin_sub_overflow(kernel[i], 1, &k1) ||
                  __builtin_mul_overflow(k1, dilations[i], &extent) ||
                  __builtin_add_overflow(extent, 1, &extent) ||
                  __builtin_mul_overflow(out - 1, strides[i], &span) ||
                  __builtin_add_overflow(span, extent, &span) ||
                  __builtin_sub_overflow(span, in, &total);
      if (overflow)
        return emitError(n.loc) << "auto_pad " << autoPad << ": the padding of spatial dim "
                                << i << " overflows int64 (kernel " << kernel[i]
                                << ", stride " << strides[i] << ", dilation "
                                << dilations[i] << ")";
      total = std::max<int64_t>(0, total);
      int64_t small = total / 2, big = total - small;
      pads[i] = autoPad == "SAME_UPPER" ? small : big;
      pads[i + s] = autoPad == "SAME_UPPER" ? big : small;
    }
  } else if (autoPad == "VALID") {
    std::fill(pads.begin(), pads.end(), 0);
  } else if (autoPad != "NOTSET") {
    return emitError(n.loc) << "auto_pad '" << autoPad << "' is not supported";
  }
  if (s == 1) {
    w.kernel = {1, kernel[0]};
    w.strides = {1, strides[0]};
    w.dilations = {1, dilations[0]};
    w.pads = {0, pads[0], 0, pads[1]};
  } else {
    w.kernel.assign(kernel.begin(), kernel.end());
    w.strides = strides;
    w.dilations = dilations;
    w.pads = pads;
  }
  return success();
}

/// [N, C, L] -> [N, C, 1, L] for 1-D windows.
FailureOr<Value> to2D(I &im, Node &n, Value v) {
  if (I::rankOf(v) != 3)
    return v;
  auto s = I::shapeOf(v);
  return im.reshape(n.loc, v, {s[0], s[1], 1, s[2]});
}

FailureOr<Value> from2D(I &im, Node &n, Value v, bool was1D) {
  if (!was1D)
    return v;
  auto s = I::shapeOf(v);
  return im.reshape(n.loc, v, {s[0], s[1], s[3]});
}

LogicalResult checkSpatialRank(Node &n, Value x) {
  int64_t r = I::rankOf(x);
  if (r != 3 && r != 4)
    return emitError(n.loc) << "supports 1 or 2 spatial dims; the input has rank "
                            << r;
  return success();
}

LogicalResult convertConv(I &im, Node &n, bool transposed) {
  if (failed(needInputs(n, 2)))
    return failure();
  Value x = n.in(0), w = n.in(1);
  if (failed(checkSpatialRank(n, x)))
    return failure();
  if (I::rankOf(w) != I::rankOf(x))
    return emitError(n.loc) << "weight rank " << I::rankOf(w)
                            << " does not match the input rank " << I::rankOf(x);
  bool is1D = I::rankOf(x) == 3;
  auto wShape = I::shapeOf(w);
  SmallVector<int64_t> kernel(wShape.drop_front(2));
  KILN_TRY(declared, im.getInts(n, "kernel_shape", kernel));
  if (ArrayRef<int64_t>(declared) != ArrayRef<int64_t>(kernel))
    return emitError(n.loc) << "kernel_shape does not match the weight's shape";
  KILN_TRY(group, im.getInt(n, "group", 1));
  Window win;
  if (failed(readWindow(im, n, I::shapeOf(x).drop_front(2), kernel, win)))
    return failure();
  KILN_TRY(x2, to2D(im, n, x));
  KILN_TRY(w2, to2D(im, n, w));
  SmallVector<Value> operands{x2, w2};
  if (Value bias = n.in(2))
    operands.push_back(bias);
  SmallVector<NamedAttribute> attrs{
      named(im, "strides", i64Array(im, win.strides)),
      named(im, "pads", i64Array(im, win.pads)),
      named(im, "dilations", i64Array(im, win.dilations)),
      named(im, "groups", im.b.getI64IntegerAttr(group))};
  FailureOr<Value> y;
  if (transposed) {
    KILN_TRY(outPad, im.getInts(n, "output_padding",
                                SmallVector<int64_t>(kernel.size(), 0)));
    if (outPad.size() != kernel.size())
      return emitError(n.loc) << "output_padding needs one value per spatial dim";
    if (im.attr(n, "output_shape"))
      return emitError(n.loc) << "attribute 'output_shape' is not supported; "
                                 "give pads instead";
    KILN_TRY(autoPad, im.getString(n, "auto_pad", "NOTSET"));
    if (autoPad != "NOTSET" && autoPad != "VALID")
      return emitError(n.loc) << "auto_pad '" << autoPad
                              << "' is not supported for ConvTranspose";
    SmallVector<int64_t> op2 = is1D ? SmallVector<int64_t>{0, outPad[0]} : outPad;
    attrs.push_back(named(im, "output_padding", i64Array(im, op2)));
    y = im.make<ConvTranspose2DOp>(n.loc, operands, attrs);
  } else {
    y = im.make<Conv2DOp>(n.loc, operands, attrs);
  }
  if (failed(y))
    return failure();
  KILN_TRY(r, from2D(im, n, *y, is1D));
  n.results[0] = r;
  return success();
}

LogicalResult convertPool(I &im, Node &n, bool isMax) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  if (failed(checkSpatialRank(n, x)))
    return failure();
  if (n.wantsOutput(1))
    return emitError(n.loc) << "the Indices output is not supported";
  KILN_TRY(kernel, im.getInts(n, "kernel_shape"));
  if (kernel.size() + 2 != size_t(I::rankOf(x)))
    return emitError(n.loc) << "kernel_shape needs " << I::rankOf(x) - 2
                            << " values, got " << kernel.size();
  KILN_TRY(ceilMode, im.getInt(n, "ceil_mode", 0));
  Window win;
  if (failed(readWindow(im, n, I::shapeOf(x).drop_front(2), kernel, win)))
    return failure();
  bool is1D = I::rankOf(x) == 3;
  KILN_TRY(x2, to2D(im, n, x));
  SmallVector<NamedAttribute> attrs{
      named(im, "kernel", i64Array(im, win.kernel)),
      named(im, "strides", i64Array(im, win.strides)),
      named(im, "pads", i64Array(im, win.pads)),
      named(im, "ceil_mode", im.b.getBoolAttr(ceilMode))};
  FailureOr<Value> y;
  if (isMax) {
    attrs.push_back(named(im, "dilations", i64Array(im, win.dilations)));
    y = im.make<MaxPool2DOp>(n.loc, x2, attrs);
  } else {
    if (llvm::any_of(win.dilations, [](int64_t d) { return d != 1; }))
      return emitError(n.loc) << "dilated average pooling is not supported";
    KILN_TRY(countPad, im.getInt(n, "count_include_pad", 0));
    attrs.push_back(named(im, "count_include_pad", im.b.getBoolAttr(countPad)));
    y = im.make<AvgPool2DOp>(n.loc, x2, attrs);
  }
  if (failed(y))
    return failure();
  KILN_TRY(r, from2D(im, n, *y, is1D));
  n.results[0] = r;
  return success();
}

SmallVector<int64_t> spatialAxes(Value x) {
  SmallVector<int64_t> axes;
  for (int64_t i = 2; i < I::rankOf(x); ++i)
    axes.push_back(i);
  return axes;
}

LogicalResult convertGlobalPool(I &im, Node &n, bool isMax) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  if (I::rankOf(x) < 3)
    return emitError(n.loc) << "needs an input of rank >= 3";
  FailureOr<Value> r =
      isMax ? im.make<ReduceMaxOp>(n.loc, x,
                                   {named(im, "axes", i64Array(im, spatialAxes(x))),
                                    named(im, "keepdims", im.b.getBoolAttr(true))})
            : im.make<GlobalAvgPoolOp>(n.loc, x);
  if (failed(r))
    return failure();
  n.results[0] = *r;
  return success();
}

LogicalResult convertBatchNorm(I &im, Node &n) {
  if (failed(needInputs(n, 5)))
    return failure();
  KILN_TRY(eps, im.getFloat(n, "epsilon", 1e-5));
  KILN_TRY(training, im.getInt(n, "training_mode", 0));
  KILN_TRY(spatial, im.getInt(n, "spatial", 1));
  if (training)
    return emitError(n.loc) << "training mode is not supported";
  if (!spatial)
    return emitError(n.loc) << "spatial = 0 is not supported";
  for (unsigned i = 1; i < n.numOutputs(); ++i)
    if (n.wantsOutput(i))
      return emitError(n.loc) << "the running statistics outputs are not supported";
  KILN_TRY(r, im.make<BatchNormOp>(n.loc, ValueRange(n.inputs).take_front(5),
                                   {named(im, "epsilon", im.b.getF64FloatAttr(eps))}));
  n.results[0] = r;
  return success();
}

/// [C] -> [C, 1, ..., 1] to broadcast against [N, C, spatial...].
FailureOr<Value> perChannel(I &im, Node &n, Value v, int64_t rank) {
  SmallVector<int64_t> shape{I::typeOf(v).getNumElements()};
  shape.append(size_t(rank - 2), 1);
  return im.reshape(n.loc, v, shape);
}

LogicalResult convertInstanceNorm(I &im, Node &n) {
  if (failed(needInputs(n, 3)))
    return failure();
  KILN_TRY(eps, im.getFloat(n, "epsilon", 1e-5));
  Value x = n.in(0);
  if (I::rankOf(x) < 3)
    return emitError(n.loc) << "needs an input of rank >= 3";
  auto axes = named(im, "axes", i64Array(im, spatialAxes(x)));
  auto keep = named(im, "keepdims", im.b.getBoolAttr(true));
  KILN_TRY(mean, im.make<MeanOp>(n.loc, x, {axes, keep}));
  KILN_TRY(d, im.make<SubOp>(n.loc, ValueRange{x, mean}));
  KILN_TRY(sq, im.make<MulOp>(n.loc, ValueRange{d, d}));
  KILN_TRY(var, im.make<MeanOp>(n.loc, sq, {axes, keep}));
  KILN_TRY(ve, im.make<AddOp>(n.loc, ValueRange{var, scalarLike(im, x, eps)}));
  KILN_TRY(rs, im.make<RsqrtOp>(n.loc, ve));
  KILN_TRY(norm, im.make<MulOp>(n.loc, ValueRange{d, rs}));
  KILN_TRY(scale, perChannel(im, n, n.in(1), I::rankOf(x)));
  KILN_TRY(bias, perChannel(im, n, n.in(2), I::rankOf(x)));
  KILN_TRY(s, im.make<MulOp>(n.loc, ValueRange{norm, scale}));
  KILN_TRY(r, im.make<AddOp>(n.loc, ValueRange{s, bias}));
  n.results[0] = r;
  return success();
}

/// LayerNormalization whose Mean or InvStdDev output is used: decomposed,
/// with the statistics in stash_type (float by default) as ONNX defines
/// them (keepdims over the normalized axes).
LogicalResult layerNormWithStatistics(I &im, Node &n, int64_t ax, double eps) {
  KILN_TRY(stash, im.getInt(n, "stash_type", 1));
  Type u = elementTypeOf(im.ctx, int32_t(stash));
  if (!u || !isa<FloatType>(u))
    return emitError(n.loc) << "stash_type " << onnxTypeName(int32_t(stash))
                            << " is not a floating-point type";
  Value x = n.in(0);
  Type t = I::typeOf(x).getElementType();
  SmallVector<int64_t> axes;
  for (int64_t d = ax; d < I::rankOf(x); ++d)
    axes.push_back(d);
  auto axesAttr = named(im, "axes", i64Array(im, axes));
  auto keep = named(im, "keepdims", im.b.getBoolAttr(true));
  KILN_TRY(xu, im.castTo(n.loc, x, u));
  KILN_TRY(mean, im.make<MeanOp>(n.loc, xu, {axesAttr, keep}));
  KILN_TRY(d, im.make<SubOp>(n.loc, ValueRange{xu, mean}));
  KILN_TRY(sq, im.make<MulOp>(n.loc, ValueRange{d, d}));
  KILN_TRY(var, im.make<MeanOp>(n.loc, sq, {axesAttr, keep}));
  KILN_TRY(ve, im.make<AddOp>(n.loc, ValueRange{var, im.splat(u, eps)}));
  KILN_TRY(inv, im.make<RsqrtOp>(n.loc, ve));
  KILN_TRY(normU, im.make<MulOp>(n.loc, ValueRange{d, inv}));
  KILN_TRY(norm, im.castTo(n.loc, normU, t));
  KILN_TRY(y, im.make<MulOp>(n.loc, ValueRange{norm, n.in(1)}));
  if (n.hasInput(2)) {
    KILN_TRY(yb, im.make<AddOp>(n.loc, ValueRange{y, n.in(2)}));
    y = yb;
  }
  n.results[0] = y;
  if (n.wantsOutput(1))
    n.results[1] = mean;
  if (n.wantsOutput(2))
    n.results[2] = inv;
  return success();
}

LogicalResult convertLayerNorm(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  KILN_TRY(axis, im.getInt(n, "axis", -1));
  KILN_TRY(eps, im.getFloat(n, "epsilon", 1e-5));
  Value x = n.in(0);
  KILN_TRY(ax, im.normAxis(n, axis, I::rankOf(x)));
  if (n.wantsOutput(1) || n.wantsOutput(2))
    return layerNormWithStatistics(im, n, ax, eps);
  auto normShape = I::shapeOf(x).drop_front(ax);
  auto normType = RankedTensorType::get(normShape, I::typeOf(x).getElementType());
  // ONNX lets scale and bias broadcast to the normalized shape; kiln wants
  // them exactly that shape.
  SmallVector<Value> operands{x};
  for (unsigned i : {1u, 2u}) {
    Value v = n.in(i);
    if (!v)
      continue;
    if (v.getType() != normType) {
      KILN_TRY(r, im.make<BroadcastToOp>(n.loc, v, {}, normType));
      v = r;
    }
    operands.push_back(v);
  }
  KILN_TRY(r, im.make<LayerNormOp>(n.loc, operands,
                                   {named(im, "axis", im.b.getI64IntegerAttr(ax)),
                                    named(im, "epsilon", im.b.getF64FloatAttr(eps))}));
  n.results[0] = r;
  return success();
}

template <typename OpTy>
LogicalResult convertSoftmax(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  int64_t rank = I::rankOf(x);
  KILN_TRY(axis, im.getInt(n, "axis", n.opset >= 13 ? -1 : 1));
  if (rank == 0)
    return emitError(n.loc) << "needs an input of rank >= 1";
  KILN_TRY(ax, im.normAxis(n, axis, rank));
  auto axisAttr = named(im, "axis", im.b.getI64IntegerAttr(-1));
  if (n.opset >= 13 || ax == rank - 1) {
    KILN_TRY(r, im.make<OpTy>(n.loc, x,
                              {named(im, "axis", im.b.getI64IntegerAttr(ax))}));
    n.results[0] = r;
    return success();
  }
  // Before opset 13: the input is seen as a matrix [prod(d < axis),
  // prod(d >= axis)] and normalized along its rows.
  auto shape = I::shapeOf(x);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i)
    (i < ax ? outer : inner) *= shape[i];
  KILN_TRY(m, im.reshape(n.loc, x, {outer, inner}));
  KILN_TRY(s, im.make<OpTy>(n.loc, m, {axisAttr}));
  KILN_TRY(r, im.reshape(n.loc, s, shape));
  n.results[0] = r;
  return success();
}

LogicalResult convertGather(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  Value data = n.in(0), idx = n.in(1);
  KILN_TRY(axis, im.getInt(n, "axis", 0));
  KILN_TRY(ax, im.normAxis(n, axis, I::rankOf(data)));
  int64_t dim = I::shapeOf(data)[ax];
  // ONNX indices may be negative (counted from the end). Constant indices
  // are checked and wrapped here (a large constant, which could be a splat
  // of billions, is wrapped at run time like computed ones).
  DenseElementsAttr c = im.constantOf(idx);
  if (c && c.getNumElements() > kMaxConstInts)
    c = {};
  if (c) {
    KILN_TRY(vals, im.constInts(n, idx, "indices"));
    bool changed = false;
    for (int64_t &v : vals) {
      if (v < -dim || v >= dim)
        return emitError(n.loc) << "index " << v << " is out of range for a dim of "
                                << dim;
      if (v < 0) {
        v += dim;
        changed = true;
      }
    }
    if (changed) {
      SmallVector<Attribute> attrs;
      for (int64_t v : vals)
        attrs.push_back(im.b.getIntegerAttr(c.getElementType(), v));
      idx = im.constant(DenseElementsAttr::get(c.getType(), attrs));
    }
    // Shape arithmetic (Shape -> Gather) folds here.
    // The result (outer * indices * inner elements) can be far larger than
    // the data: fold only when it stays small too.
    auto ds = I::shapeOf(data);
    if (I::rankOf(idx) == 0 && !im.constantOf(data)) {
      // One constant index (a transformer's Q/K/V picked out of a fused
      // projection): a slice, which runs as a copy of one block, or none
      // (a view), where a gather runs the op table's index walk.
      SmallVector<int64_t> starts(ds.size(), 0), ends(ds.begin(), ds.end());
      starts[ax] = vals[0];
      ends[ax] = vals[0] + 1;
      KILN_TRY(sl, im.make<SliceOp>(n.loc, data,
                                    {named(im, "starts", i64Array(im, starts)),
                                     named(im, "ends", i64Array(im, ends))}));
      SmallVector<int64_t> outShape(ds.begin(), ds.end());
      outShape.erase(outShape.begin() + ax);
      KILN_TRY(r, im.reshape(n.loc, sl, outShape));
      n.results[0] = r;
      return success();
    }
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < ax; ++i)
      outer *= ds[i];
    for (size_t i = size_t(ax) + 1; i < ds.size(); ++i)
      inner *= ds[i];
    int64_t outCount = outer * int64_t(vals.size()) * inner;
    if (DenseElementsAttr d = im.constantOf(data);
        d && d.getNumElements() <= (1 << 16) && outCount <= (1 << 16)) {
      SmallVector<int64_t> outShape(ds.take_front(ax));
      auto is = I::shapeOf(idx);
      outShape.append(is.begin(), is.end());
      outShape.append(ds.begin() + ax + 1, ds.end());
      auto all = llvm::to_vector(d.getValues<Attribute>());
      SmallVector<Attribute> out;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t v : vals)
          for (int64_t in = 0; in < inner; ++in)
            out.push_back(all[(o * dim + v) * inner + in]);
      n.results[0] = im.constant(DenseElementsAttr::get(
          RankedTensorType::get(outShape, d.getElementType()), out));
      return success();
    }
  } else {
    Value zero = scalarLike(im, idx, 0), size = scalarLike(im, idx, double(dim));
    KILN_TRY(neg, im.make<LtOp>(n.loc, ValueRange{idx, zero}));
    KILN_TRY(wrapped, im.make<AddOp>(n.loc, ValueRange{idx, size}));
    KILN_TRY(fixed, im.make<SelectOp>(n.loc, ValueRange{neg, wrapped, idx}));
    idx = fixed;
  }
  KILN_TRY(r, im.make<GatherOp>(n.loc, ValueRange{data, idx},
                                {named(im, "axis", im.b.getI64IntegerAttr(ax))}));
  n.results[0] = r;
  return success();
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

llvm::StringMap<Converter> buildTable() {
  llvm::StringMap<Converter> t;
  // Elementwise, one to one.
  t["Abs"] = unary<AbsOp>;
  t["Ceil"] = unary<CeilOp>;
  t["Cos"] = unary<CosOp>;
  t["Erf"] = unary<ErfOp>;
  t["Exp"] = unary<ExpOp>;
  t["Floor"] = unary<FloorOp>;
  t["Log"] = unary<LogOp>;
  t["Neg"] = unary<NegOp>;
  t["Not"] = unary<NotOp>;
  t["Reciprocal"] = unary<ReciprocalOp>;
  t["Relu"] = unary<ReluOp>;
  t["Round"] = unary<RoundOp>;
  t["Sigmoid"] = unary<SigmoidOp>;
  t["Sign"] = unary<SignOp>;
  t["Sin"] = unary<SinOp>;
  t["Softplus"] = unary<SoftplusOp>;
  t["Sqrt"] = unary<SqrtOp>;
  t["Tanh"] = unary<TanhOp>;
  t["Add"] = binary<AddOp>;
  t["And"] = binary<AndOp>;
  t["Div"] = binary<DivOp>;
  t["Equal"] = binary<EqOp>;
  t["Greater"] = binary<GtOp>;
  t["GreaterOrEqual"] = binary<GeOp>;
  t["Less"] = binary<LtOp>;
  t["LessOrEqual"] = binary<LeOp>;
  t["Mul"] = binary<MulOp>;
  t["Or"] = binary<OrOp>;
  t["Sub"] = binary<SubOp>;
  t["Xor"] = binary<XorOp>;
  t["Pow"] = convertPow;
  t["Mod"] = convertMod;
  t["Max"] = [](I &im, Node &n) { return variadic<MaxOp>(im, n); };
  t["Min"] = [](I &im, Node &n) { return variadic<MinOp>(im, n); };
  t["Sum"] = [](I &im, Node &n) { return variadic<AddOp>(im, n); };
  t["Mean"] = [](I &im, Node &n) { return variadic<AddOp>(im, n, true); };
  t["Where"] = convertWhere;
  t["Cast"] = convertCast;
  t["CastLike"] = convertCastLike;
  t["Clip"] = convertClip;
  // Activations; composite ones decompose.
  t["Celu"] = convertCelu;
  t["Elu"] = convertElu;
  t["Gelu"] = convertGelu;
  t["HardSigmoid"] = convertHardSigmoid;
  t["HardSwish"] = convertHardSwish;
  t["LeakyRelu"] = convertLeakyRelu;
  t["Mish"] = convertMish;
  t["PRelu"] = convertPRelu;
  t["Selu"] = convertSelu;
  t["Softsign"] = convertSoftsign;
  t["ThresholdedRelu"] = convertThresholdedRelu;
  t["Sinh"] = [](I &im, Node &n) { return convertHyperbolic(im, n, true); };
  t["Cosh"] = [](I &im, Node &n) { return convertHyperbolic(im, n, false); };
  t["Tan"] = convertTan;
  t["IsNaN"] = convertIsNaN;
  t["Trilu"] = convertTrilu;
  t["IsInf"] = convertIsInf;
  t["Hardmax"] = convertHardmax;
  t["CumSum"] = convertCumSum;
  t["NegativeLogLikelihoodLoss"] = convertNegativeLogLikelihoodLoss;
  t["SoftmaxCrossEntropyLoss"] = convertSoftmaxCrossEntropyLoss;
  // Values and shapes of values.
  t["Constant"] = convertConstant;
  t["ConstantOfShape"] = convertConstantOfShape;
  t["Dropout"] = convertDropout;
  t["Identity"] = convertIdentity;
  t["Range"] = convertRange;
  t["Shape"] = convertShape;
  t["Size"] = convertSize;
  // Linear algebra and NN.
  t["AveragePool"] = [](I &im, Node &n) { return convertPool(im, n, false); };
  t["BatchNormalization"] = convertBatchNorm;
  t["Conv"] = [](I &im, Node &n) { return convertConv(im, n, false); };
  t["ConvTranspose"] = [](I &im, Node &n) { return convertConv(im, n, true); };
  t["Gather"] = convertGather;
  t["Gemm"] = convertGemm;
  t["GlobalAveragePool"] = [](I &im, Node &n) { return convertGlobalPool(im, n, false); };
  t["GlobalMaxPool"] = [](I &im, Node &n) { return convertGlobalPool(im, n, true); };
  t["InstanceNormalization"] = convertInstanceNorm;
  t["LayerNormalization"] = convertLayerNorm;
  t["LogSoftmax"] = convertSoftmax<LogSoftmaxOp>;
  t["MatMul"] = convertMatMul;
  t["MaxPool"] = [](I &im, Node &n) { return convertPool(im, n, true); };
  t["Softmax"] = convertSoftmax<SoftmaxOp>;
  addShapeConverters(t);
  addRecurrentConverters(t);
  return t;
}

} // namespace

const Converter *lookupConverter(llvm::StringRef opType) {
  static const llvm::StringMap<Converter> table = buildTable();
  auto it = table.find(opType);
  return it == table.end() ? nullptr : &it->second;
}

} // namespace mlir::kiln::onnx
