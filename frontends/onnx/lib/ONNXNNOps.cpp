//===- ONNXNNOps.cpp - Linear algebra and NN layers -----------------------===//
//
// Converters for MatMul, Gemm, Conv/ConvTranspose, the pools, the
// normalizations (BatchNormalization, InstanceNormalization,
// LayerNormalization), Softmax/LogSoftmax and Gather.
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

} // namespace

void addNNConverters(llvm::StringMap<Converter> &t) {
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
}

} // namespace mlir::kiln::onnx
