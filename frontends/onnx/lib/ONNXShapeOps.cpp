//===- ONNXShapeOps.cpp - Data movement and reductions --------------------===//
//
// Converters for the ONNX ops that move or reduce data: Reshape, Slice,
// Concat, Pad, Transpose, ..., the Reduce* family (axes as an attribute or,
// from the opset where it changed, an input), ArgMax/ArgMin, OneHot,
// DepthToSpace/SpaceToDepth and MeanVarianceNormalization.
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
// Shape ops
//===----------------------------------------------------------------------===//

LogicalResult convertReshape(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  SmallVector<int64_t> target;
  if (n.hasInput(1)) {
    KILN_TRY(s, im.constInts(n, n.in(1), "shape"));
    target = s;
  } else {
    KILN_TRY(s, im.getInts(n, "shape"));
    target = s;
  }
  KILN_TRY(allowZero, im.getInt(n, "allowzero", 0));
  auto in = I::shapeOf(x);
  int64_t known = 1, inferAt = -1;
  for (auto [i, d] : llvm::enumerate(target)) {
    if (d == 0 && !allowZero) {
      if (i >= in.size())
        return emitError(n.loc) << "shape dim " << i
                                << " is 0 (copy) but the input has rank " << in.size();
      d = in[i];
    } else if (d == -1) {
      if (inferAt >= 0)
        return emitError(n.loc) << "shape has more than one -1";
      inferAt = int64_t(i);
      continue;
    } else if (d < -1) {
      return emitError(n.loc) << "shape dim " << i << " is " << d;
    }
    if (d != 0 && known > std::numeric_limits<int64_t>::max() / d)
      return emitError(n.loc) << "shape overflows";
    known *= d;
  }
  int64_t total = I::typeOf(x).getNumElements();
  if (inferAt >= 0) {
    if (known == 0 || total % known != 0)
      return emitError(n.loc) << "cannot infer the -1 dim: " << total
                              << " elements into blocks of " << known;
    target[inferAt] = total / known;
  } else if (known != total) {
    return emitError(n.loc) << "cannot reshape " << total << " elements to a shape of "
                            << known;
  }
  KILN_TRY(r, im.reshape(n.loc, x, target));
  n.results[0] = r;
  return success();
}

LogicalResult convertFlatten(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  int64_t rank = I::rankOf(x);
  KILN_TRY(axis, im.getInt(n, "axis", 1));
  if (axis < -rank || axis > rank)
    return emitError(n.loc) << "axis " << axis << " is out of range for rank " << rank;
  if (axis < 0)
    axis += rank;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i)
    (i < axis ? outer : inner) *= I::shapeOf(x)[i];
  KILN_TRY(r, im.reshape(n.loc, x, {outer, inner}));
  n.results[0] = r;
  return success();
}

/// Axes from the attribute (before `inputSince`) or input 1.
FailureOr<std::optional<SmallVector<int64_t>>>
axesOf(I &im, Node &n, int64_t inputSince, unsigned inputIndex = 1) {
  if (n.opset >= inputSince) {
    if (!n.hasInput(inputIndex))
      return std::optional<SmallVector<int64_t>>();
    KILN_TRY(a, im.constInts(n, n.in(inputIndex), "axes"));
    return std::optional<SmallVector<int64_t>>(a);
  }
  if (!im.attr(n, "axes"))
    return std::optional<SmallVector<int64_t>>();
  KILN_TRY(a, im.getInts(n, "axes"));
  return std::optional<SmallVector<int64_t>>(a);
}

LogicalResult convertSqueeze(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(axes, axesOf(im, n, 13));
  Value x = n.in(0);
  SmallVector<int64_t> norm;
  if (axes)
    for (int64_t a : *axes) {
      KILN_TRY(v, im.normAxis(n, a, I::rankOf(x), "axes value"));
      norm.push_back(v);
    }
  KILN_TRY(r, im.make<SqueezeOp>(n.loc, x, {named(im, "axes", i64Array(im, norm))}));
  n.results[0] = r;
  return success();
}

LogicalResult convertUnsqueeze(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  KILN_TRY(axes, axesOf(im, n, 13));
  if (!axes)
    return emitError(n.loc) << "requires axes";
  Value x = n.in(0);
  int64_t outRank = I::rankOf(x) + int64_t(axes->size());
  SmallVector<int64_t> norm;
  for (int64_t a : *axes) {
    KILN_TRY(v, im.normAxis(n, a, outRank, "axes value"));
    norm.push_back(v);
  }
  llvm::sort(norm);
  KILN_TRY(r, im.make<ExpandDimsOp>(n.loc, x, {named(im, "axes", i64Array(im, norm))}));
  n.results[0] = r;
  return success();
}

LogicalResult convertTranspose(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  int64_t rank = I::rankOf(n.in(0));
  SmallVector<int64_t> reversed;
  for (int64_t i = rank - 1; i >= 0; --i)
    reversed.push_back(i);
  KILN_TRY(perm, im.getInts(n, "perm", reversed));
  KILN_TRY(r, im.make<TransposeOp>(n.loc, n.in(0),
                                   {named(im, "permutation", i64Array(im, perm))}));
  n.results[0] = r;
  return success();
}

LogicalResult convertConcat(I &im, Node &n) {
  SmallVector<Value> ins;
  for (Value v : n.inputs)
    if (v)
      ins.push_back(v);
  if (ins.empty())
    return emitError(n.loc) << "needs at least one input";
  KILN_TRY(axis, im.requireInt(n, "axis"));
  KILN_TRY(ax, im.normAxis(n, axis, I::rankOf(ins[0])));
  KILN_TRY(r, im.make<ConcatOp>(n.loc, ins, {named(im, "axis", im.b.getI64IntegerAttr(ax))}));
  n.results[0] = r;
  return success();
}

LogicalResult convertSplit(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  KILN_TRY(axis, im.getInt(n, "axis", 0));
  KILN_TRY(ax, im.normAxis(n, axis, I::rankOf(x)));
  int64_t dim = I::shapeOf(x)[ax];
  int64_t outs = n.numOutputs();
  SmallVector<int64_t> sizes;
  if (n.opset >= 13 && n.hasInput(1)) {
    KILN_TRY(s, im.constInts(n, n.in(1), "split"));
    sizes = s;
  } else if (n.opset < 13 && im.attr(n, "split")) {
    KILN_TRY(s, im.getInts(n, "split"));
    sizes = s;
  } else {
    KILN_TRY(num, im.getInt(n, "num_outputs", outs));
    if (num != outs || num <= 0)
      return emitError(n.loc) << "num_outputs " << num << " does not match the "
                              << outs << " outputs";
    // Equal parts; opset 18 lets the last be smaller.
    int64_t part = (dim + num - 1) / num;
    if (n.opset < 18 && dim % num != 0)
      return emitError(n.loc) << "cannot split a dim of " << dim << " into " << num
                              << " equal parts";
    for (int64_t i = 0; i < num; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(part, dim - i * part)));
  }
  if (int64_t(sizes.size()) != outs)
    return emitError(n.loc) << "split has " << sizes.size() << " sizes for "
                            << outs << " outputs";
  KILN_TRY(rs, im.makeAll<SplitOp>(
                   n.loc, x,
                   {named(im, "axis", im.b.getI64IntegerAttr(ax)),
                    named(im, "sizes", i64Array(im, sizes))}));
  for (auto [i, v] : llvm::enumerate(rs))
    n.results[i] = v;
  return success();
}

LogicalResult convertSlice(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  SmallVector<int64_t> starts, ends, axes, steps;
  if (n.opset < 10) {
    KILN_TRY(s, im.getInts(n, "starts"));
    KILN_TRY(e, im.getInts(n, "ends"));
    KILN_TRY(a, im.getInts(n, "axes"));
    starts = s, ends = e, axes = a;
  } else {
    if (failed(needInputs(n, 3)))
      return failure();
    KILN_TRY(s, im.constInts(n, n.in(1), "starts"));
    KILN_TRY(e, im.constInts(n, n.in(2), "ends"));
    starts = s, ends = e;
    if (n.hasInput(3)) {
      KILN_TRY(a, im.constInts(n, n.in(3), "axes"));
      axes = a;
    }
    if (n.hasInput(4)) {
      KILN_TRY(st, im.constInts(n, n.in(4), "steps"));
      steps = st;
    }
  }
  int64_t rank = I::rankOf(x);
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(int64_t(i));
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return emitError(n.loc) << "starts, ends, axes and steps must have the same length";
  auto shape = I::shapeOf(x);
  SmallVector<int64_t> fs(rank, 0), fe(shape.begin(), shape.end()), fst(rank, 1);
  llvm::SmallBitVector seen(rank);
  for (size_t i = 0; i < starts.size(); ++i) {
    KILN_TRY(a, im.normAxis(n, axes[i], rank, "axes value"));
    if (seen.test(a))
      return emitError(n.loc) << "axis " << a << " is sliced twice";
    seen.set(a);
    int64_t d = shape[a], step = steps[i];
    if (step == 0)
      return emitError(n.loc) << "step is 0";
    // ONNX clamping, written out so kiln's Python rules see plain values.
    auto norm = [&](int64_t v) {
      if (v < 0)
        v = v < std::numeric_limits<int64_t>::min() / 2 ? -d - 1 : v + d;
      return v;
    };
    int64_t s = norm(starts[i]), e = norm(ends[i]);
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
    } else {
      s = std::clamp<int64_t>(s, -1, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      // -1 means "before index 0" here; kiln reads negatives from the end.
      if (e == -1)
        e = -d - 1;
      if (s == -1)
        s = -d - 1;
    }
    fs[a] = s, fe[a] = e, fst[a] = step;
  }
  KILN_TRY(r, im.make<SliceOp>(n.loc, x,
                               {named(im, "starts", i64Array(im, fs)),
                                named(im, "ends", i64Array(im, fe)),
                                named(im, "steps", i64Array(im, fst))}));
  n.results[0] = r;
  return success();
}

LogicalResult convertExpand(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  Value x = n.in(0);
  KILN_TRY(shape, im.constInts(n, n.in(1), "shape"));
  auto in = I::shapeOf(x);
  size_t rank = std::max(in.size(), shape.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t a = i + in.size() >= rank ? in[i + in.size() - rank] : 1;
    int64_t s = i + shape.size() >= rank ? shape[i + shape.size() - rank] : 1;
    if (a != s && a != 1 && s != 1)
      return emitError(n.loc) << "input dim " << a << " does not broadcast with "
                              << s;
    out[i] = a == 1 ? s : a;
  }
  KILN_TRY(type, checkedTensorType(n.loc, out, I::typeOf(x).getElementType(),
                                   "the result"));
  if (type == x.getType()) {
    n.results[0] = x;
    return success();
  }
  KILN_TRY(r, im.make<BroadcastToOp>(n.loc, x, {}, type));
  n.results[0] = r;
  return success();
}

LogicalResult convertTile(I &im, Node &n) {
  if (failed(needInputs(n, 2)))
    return failure();
  Value x = n.in(0);
  KILN_TRY(repeats, im.constInts(n, n.in(1), "repeats"));
  if (int64_t(repeats.size()) != I::rankOf(x))
    return emitError(n.loc) << "repeats needs one value per dim";
  for (auto [axis, r] : llvm::enumerate(repeats)) {
    if (r < 0 || r > 4096)
      return emitError(n.loc) << "repeat count " << r << " is not supported";
    if (r == 1)
      continue;
    SmallVector<Value> copies(size_t(r), x);
    KILN_TRY(c, im.make<ConcatOp>(n.loc, copies,
                                  {named(im, "axis", im.b.getI64IntegerAttr(axis))}));
    x = c;
  }
  n.results[0] = x;
  return success();
}

LogicalResult convertPad(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  KILN_TRY(mode, im.getString(n, "mode", "constant"));
  if (mode != "constant")
    return emitError(n.loc) << "mode '" << mode << "' is not supported (constant only)";
  SmallVector<int64_t> pads;
  double value = 0;
  int64_t rank = I::rankOf(x);
  if (n.opset < 11) {
    KILN_TRY(p, im.getInts(n, "pads"));
    KILN_TRY(v, im.getFloat(n, "value", 0.0));
    pads = p, value = v;
  } else {
    if (failed(needInputs(n, 2)))
      return failure();
    KILN_TRY(p, im.constInts(n, n.in(1), "pads"));
    pads = p;
    if (n.hasInput(2)) {
      KILN_TRY(v, im.constFloats(n, n.in(2), "constant_value"));
      if (!v.empty())
        value = v[0];
    }
    if (n.hasInput(3)) {
      KILN_TRY(axes, im.constInts(n, n.in(3), "axes"));
      if (pads.size() != 2 * axes.size())
        return emitError(n.loc) << "pads needs two values per axis";
      SmallVector<int64_t> full(2 * rank, 0);
      for (auto [i, a] : llvm::enumerate(axes)) {
        KILN_TRY(ax, im.normAxis(n, a, rank, "axes value"));
        full[ax] = pads[i];
        full[ax + rank] = pads[i + axes.size()];
      }
      pads = full;
    }
  }
  if (int64_t(pads.size()) != 2 * rank)
    return emitError(n.loc) << "pads needs " << 2 * rank << " values, got "
                            << pads.size();
  if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return emitError(n.loc) << "negative pads are not supported";
  KILN_TRY(r, im.make<PadOp>(n.loc, x,
                             {named(im, "pads", i64Array(im, pads)),
                              named(im, "value", im.b.getF64FloatAttr(value))}));
  n.results[0] = r;
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

enum class Reduce { Sum, Mean, Max, Min, Prod, L1, L2, SumSquare, LogSum, LogSumExp };

LogicalResult convertReduce(I &im, Node &n, Reduce kind, int64_t axesInputSince) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  KILN_TRY(axes, axesOf(im, n, axesInputSince));
  KILN_TRY(keep, im.getInt(n, "keepdims", 1));
  KILN_TRY(noop, im.getInt(n, "noop_with_empty_axes", 0));
  SmallVector<int64_t> norm;
  if (axes && !axes->empty()) {
    for (int64_t a : *axes) {
      KILN_TRY(v, im.normAxis(n, a, I::rankOf(x), "axes value"));
      norm.push_back(v);
    }
  } else if (noop) {
    n.results[0] = x;
    return success();
  } else {
    for (int64_t i = 0; i < I::rankOf(x); ++i)
      norm.push_back(i);
  }
  if (I::rankOf(x) == 0) {
    n.results[0] = x;
    return success();
  }
  SmallVector<NamedAttribute> attrs{named(im, "axes", i64Array(im, norm)),
                                    named(im, "keepdims", im.b.getBoolAttr(keep))};
  Location loc = n.loc;
  Value in = x;
  switch (kind) {
  case Reduce::L1: {
    KILN_TRY(a, im.make<AbsOp>(loc, x));
    in = a;
    break;
  }
  case Reduce::L2:
  case Reduce::SumSquare: {
    KILN_TRY(s, im.make<MulOp>(loc, ValueRange{x, x}));
    in = s;
    break;
  }
  case Reduce::LogSumExp: {
    // Stable: m + log(sum(exp(x - m))), m the max over the same axes.
    SmallVector<NamedAttribute> keepAttrs{named(im, "axes", i64Array(im, norm)),
                                          named(im, "keepdims", im.b.getBoolAttr(true))};
    KILN_TRY(m, im.make<ReduceMaxOp>(loc, x, keepAttrs));
    KILN_TRY(d, im.make<SubOp>(loc, ValueRange{x, m}));
    KILN_TRY(e, im.make<ExpOp>(loc, d));
    KILN_TRY(s, im.make<SumOp>(loc, e, keepAttrs));
    KILN_TRY(l, im.make<LogOp>(loc, s));
    KILN_TRY(r, im.make<AddOp>(loc, ValueRange{l, m}));
    if (!keep) {
      KILN_TRY(sq, im.make<SqueezeOp>(loc, r, {named(im, "axes", i64Array(im, norm))}));
      r = sq;
    }
    n.results[0] = r;
    return success();
  }
  default:
    break;
  }
  FailureOr<Value> r;
  switch (kind) {
  case Reduce::Mean: r = im.make<MeanOp>(loc, in, attrs); break;
  case Reduce::Max: r = im.make<ReduceMaxOp>(loc, in, attrs); break;
  case Reduce::Min: r = im.make<ReduceMinOp>(loc, in, attrs); break;
  case Reduce::Prod: r = im.make<ProdOp>(loc, in, attrs); break;
  default: r = im.make<SumOp>(loc, in, attrs); break;
  }
  if (failed(r))
    return failure();
  Value out = *r;
  if (kind == Reduce::L2) {
    KILN_TRY(s, im.make<SqrtOp>(loc, out));
    out = s;
  } else if (kind == Reduce::LogSum) {
    KILN_TRY(l, im.make<LogOp>(loc, out));
    out = l;
  }
  n.results[0] = out;
  return success();
}

template <typename OpTy>
LogicalResult convertArgReduce(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  KILN_TRY(axis, im.getInt(n, "axis", 0));
  KILN_TRY(keep, im.getInt(n, "keepdims", 1));
  KILN_TRY(last, im.getInt(n, "select_last_index", 0));
  KILN_TRY(ax, im.normAxis(n, axis, I::rankOf(x)));
  SmallVector<NamedAttribute> attrs{named(im, "axis", im.b.getI64IntegerAttr(ax)),
                                    named(im, "keepdims", im.b.getBoolAttr(keep))};
  if (!last) {
    KILN_TRY(r, im.make<OpTy>(n.loc, x, attrs));
    n.results[0] = r;
    return success();
  }
  // The last index of the extreme: the first one in the reversed input.
  int64_t rank = I::rankOf(x), dim = I::shapeOf(x)[ax];
  SmallVector<int64_t> starts(rank, 0), ends(I::shapeOf(x)), steps(rank, 1);
  starts[ax] = dim - 1;
  ends[ax] = -dim - 1;
  steps[ax] = -1;
  KILN_TRY(rev, im.make<SliceOp>(n.loc, x,
                                 {named(im, "starts", i64Array(im, starts)),
                                  named(im, "ends", i64Array(im, ends)),
                                  named(im, "steps", i64Array(im, steps))}));
  KILN_TRY(r, im.make<OpTy>(n.loc, rev, attrs));
  KILN_TRY(f, im.make<SubOp>(n.loc, ValueRange{scalarLike(im, r, double(dim - 1)), r}));
  n.results[0] = f;
  return success();
}

LogicalResult convertOneHot(I &im, Node &n) {
  if (failed(needInputs(n, 3)))
    return failure();
  KILN_TRY(axis, im.getInt(n, "axis", -1));
  KILN_TRY(depth, im.constInts(n, n.in(1), "depth"));
  KILN_TRY(values, im.constFloats(n, n.in(2), "values"));
  if (depth.size() != 1 || values.size() != 2)
    return emitError(n.loc) << "depth must be a scalar and values hold two elements";
  Value idx = n.in(0);
  if (!isa<IntegerType>(I::typeOf(idx).getElementType())) {
    KILN_TRY(c, im.castTo(n.loc, idx, im.b.getI64Type()));
    idx = c;
  }
  SmallVector<int64_t> shape(I::shapeOf(idx));
  int64_t outRank = int64_t(shape.size()) + 1;
  KILN_TRY(ax, im.normAxis(n, axis, outRank));
  shape.insert(shape.begin() + ax, depth[0]);
  KILN_TRY(type, checkedTensorType(n.loc, shape, I::typeOf(n.in(2)).getElementType(),
                                   "the result"));
  KILN_TRY(r, im.make<OneHotOp>(n.loc, idx,
                                {named(im, "depth", im.b.getI64IntegerAttr(depth[0])),
                                 named(im, "axis", im.b.getI64IntegerAttr(ax)),
                                 named(im, "off_value", im.b.getF64FloatAttr(values[0])),
                                 named(im, "on_value", im.b.getF64FloatAttr(values[1]))},
                                type));
  n.results[0] = r;
  return success();
}

LogicalResult convertDepthSpace(I &im, Node &n, bool toSpace) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  if (I::rankOf(x) != 4)
    return emitError(n.loc) << "needs a rank-4 input";
  KILN_TRY(bs, im.requireInt(n, "blocksize"));
  KILN_TRY(mode, im.getString(n, "mode", "DCR"));
  auto s = I::shapeOf(x);
  int64_t N = s[0], C = s[1], H = s[2], W = s[3];
  if (bs <= 0)
    return emitError(n.loc) << "blocksize must be positive";
  // blocksize^2 and the grown dims, without overflowing int64.
  std::optional<int64_t> bs2 = llvm::checkedMul(bs, bs);
  std::optional<int64_t> grownH = llvm::checkedMul(H, bs), grownW = llvm::checkedMul(W, bs);
  std::optional<int64_t> grownC = bs2 ? llvm::checkedMul(C, *bs2) : std::nullopt;
  if (!bs2 || !(toSpace ? grownH && grownW : bool(grownC)))
    return emitError(n.loc) << "blocksize " << bs << " is too large for the input "
                            << "[" << llvm::make_range(s.begin(), s.end()) << "]";
  SmallVector<int64_t> tmp, perm, out;
  if (toSpace) {
    if (C % *bs2 != 0)
      return emitError(n.loc) << "channels are not divisible by blocksize^2";
    int64_t c = C / *bs2;
    if (mode == "DCR") {
      tmp = {N, bs, bs, c, H, W};
      perm = {0, 3, 4, 1, 5, 2};
    } else {
      tmp = {N, c, bs, bs, H, W};
      perm = {0, 1, 4, 2, 5, 3};
    }
    out = {N, c, *grownH, *grownW};
  } else {
    if (H % bs != 0 || W % bs != 0)
      return emitError(n.loc) << "spatial dims are not divisible by blocksize";
    tmp = {N, C, H / bs, bs, W / bs, bs};
    perm = {0, 3, 5, 1, 2, 4};
    out = {N, *grownC, H / bs, W / bs};
  }
  KILN_TRY(a, im.reshape(n.loc, x, tmp));
  KILN_TRY(t, im.make<TransposeOp>(n.loc, a, {named(im, "permutation", i64Array(im, perm))}));
  KILN_TRY(r, im.reshape(n.loc, t, out));
  n.results[0] = r;
  return success();
}

LogicalResult convertMeanVarianceNorm(I &im, Node &n) {
  if (failed(needInputs(n, 1)))
    return failure();
  Value x = n.in(0);
  KILN_TRY(axes, im.getInts(n, "axes", {0, 2, 3}));
  SmallVector<int64_t> norm;
  for (int64_t a : axes) {
    KILN_TRY(v, im.normAxis(n, a, I::rankOf(x), "axes value"));
    norm.push_back(v);
  }
  SmallVector<NamedAttribute> attrs{named(im, "axes", i64Array(im, norm)),
                                    named(im, "keepdims", im.b.getBoolAttr(true))};
  KILN_TRY(mean, im.make<MeanOp>(n.loc, x, attrs));
  KILN_TRY(d, im.make<SubOp>(n.loc, ValueRange{x, mean}));
  KILN_TRY(sq, im.make<MulOp>(n.loc, ValueRange{d, d}));
  KILN_TRY(var, im.make<MeanOp>(n.loc, sq, attrs));
  KILN_TRY(sd, im.make<SqrtOp>(n.loc, var));
  KILN_TRY(sde, im.make<AddOp>(n.loc, ValueRange{sd, scalarLike(im, x, 1e-9)}));
  KILN_TRY(r, im.make<DivOp>(n.loc, ValueRange{d, sde}));
  n.results[0] = r;
  return success();
}

} // namespace

void addShapeConverters(llvm::StringMap<Converter> &t) {
  t["MeanVarianceNormalization"] = convertMeanVarianceNorm;
  t["OneHot"] = convertOneHot;
  // Data movement.
  t["Concat"] = convertConcat;
  t["DepthToSpace"] = [](I &im, Node &n) { return convertDepthSpace(im, n, true); };
  t["SpaceToDepth"] = [](I &im, Node &n) { return convertDepthSpace(im, n, false); };
  t["Expand"] = convertExpand;
  t["Flatten"] = convertFlatten;
  t["Pad"] = convertPad;
  t["Reshape"] = convertReshape;
  t["Slice"] = convertSlice;
  t["Split"] = convertSplit;
  t["Squeeze"] = convertSqueeze;
  t["Tile"] = convertTile;
  t["Transpose"] = convertTranspose;
  t["Unsqueeze"] = convertUnsqueeze;
  // Reductions: ReduceSum takes axes as an input from opset 13, the others
  // from opset 18.
  auto reduce = [](Reduce k, int64_t since) -> Converter {
    return [k, since](I &im, Node &n) { return convertReduce(im, n, k, since); };
  };
  t["ReduceSum"] = reduce(Reduce::Sum, 13);
  t["ReduceMean"] = reduce(Reduce::Mean, 18);
  t["ReduceMax"] = reduce(Reduce::Max, 18);
  t["ReduceMin"] = reduce(Reduce::Min, 18);
  t["ReduceProd"] = reduce(Reduce::Prod, 18);
  t["ReduceL1"] = reduce(Reduce::L1, 18);
  t["ReduceL2"] = reduce(Reduce::L2, 18);
  t["ReduceSumSquare"] = reduce(Reduce::SumSquare, 18);
  t["ReduceLogSum"] = reduce(Reduce::LogSum, 18);
  t["ReduceLogSumExp"] = reduce(Reduce::LogSumExp, 18);
  t["ArgMax"] = convertArgReduce<ArgMaxOp>;
  t["ArgMin"] = convertArgReduce<ArgMinOp>;
}

} // namespace mlir::kiln::onnx
