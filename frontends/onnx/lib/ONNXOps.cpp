//===- ONNXOps.cpp - One converter per ONNX op type -----------------------===//
//
// Each converter reads one node (inputs, attributes with their defaults,
// the opset where semantics changed) and builds kiln ops. Ops with a kiln
// counterpart map one to one; composite ops (Gemm, InstanceNormalization,
// Selu, HardSwish, ...) decompose into kiln ops that the compiler's
// elementwise fusion then merges. This file has the elementwise and value
// ops; linear algebra and NN ops are in ONNXNNOps.cpp, data movement and
// reductions in ONNXShapeOps.cpp, LSTM/GRU/RNN in ONNXRecurrentOps.cpp. The table at the bottom lists every op type.
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
  addNNConverters(t);
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
