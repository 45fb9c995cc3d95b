//===- KilnShapeOps.cpp - reshape, transpose, concat, slice, pad, ... -----===//
//
// Canonical forms: a change of shape that moves no data (squeeze,
// expand_dims, a transpose that only moves size-1 dims) becomes a reshape,
// and chains of reshapes or of transposes collapse into one.
//
//===----------------------------------------------------------------------===//
#include "KilnFoldUtils.h"
#include "KilnInference.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
namespace shapes = ::kiln::shapes;
using namespace mlir::kiln;

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnShapeOps.cpp.inc"

namespace {
RankedTensorType tensorOf(Value v) { return cast<RankedTensorType>(v.getType()); }

/// A constant with a new type of the same element count (row-major order is
/// unchanged by reshape).
OpFoldResult reshapeConstant(Attribute value, Type type) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(value);
  if (!dense)
    return {};
  return dense.reshape(cast<ShapedType>(type));
}

/// Rewrites `op` (whose result only regroups size-1 dims) as a reshape.
template <typename OpT>
struct ToReshape : OpRewritePattern<OpT> {
  using OpRewritePattern<OpT>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpT op, PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), op.getInput());
    return success();
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// reshape, broadcast_to
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  if (auto err = shapes::checkReshape(getInput().getType().getShape(),
                                      getType().getShape()))
    return emitOpError(*err);
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto prev = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(prev.getInput());
    return getResult();
  }
  return reshapeConstant(adaptor.getInput(), getType());
}

LogicalResult BroadcastToOp::verify() {
  auto from = getInput().getType().getShape(), to = getType().getShape();
  if (!shapes::broadcastsTo(from, to))
    return emitOpError("cannot broadcast ") << shapes::toString(from) << " to "
                                            << shapes::toString(to);
  return success();
}

OpFoldResult BroadcastToOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  if (dense && dense.isSplat())
    return DenseElementsAttr::get(getType(), dense.getSplatValue<Attribute>());
  return {};
}

//===----------------------------------------------------------------------===//
// transpose
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor a,
                                            SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (failed(infer.checkOperands()))
    return failure();
  auto permutation = infer.getI64Array("permutation");
  if (failed(permutation))
    return failure();
  auto in = tensorOf(a.getInput());
  return infer.push(shapes::transpose(in.getShape(), *permutation),
                    in.getElementType(), types);
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPermutation();
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity &= perm[i] == int64_t(i);
  if (identity)
    return getInput();
  // transpose(transpose(x, p), q) == transpose(x, p[q[i]]).
  if (auto prev = getInput().getDefiningOp<TransposeOp>()) {
    ArrayRef<int64_t> inner = prev.getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t q : perm)
      composed.push_back(inner[q]);
    getInputMutable().assign(prev.getInput());
    setPermutation(composed);
    return getResult();
  }
  auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  if (dense && dense.isSplat())
    return DenseElementsAttr::get(getType(), dense.getSplatValue<Attribute>());
  return {};
}

namespace {
/// A transpose that keeps the relative order of the non-unit dims moves no
/// data: it is a reshape.
struct TransposeOfUnitDimsToReshape : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    ArrayRef<int64_t> in = op.getInput().getType().getShape();
    int64_t last = -1;
    for (int64_t p : op.getPermutation()) {
      if (in[p] == 1)
        continue;
      if (p < last)
        return rewriter.notifyMatchFailure(op, "moves a non-unit dim");
      last = p;
    }
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), op.getInput());
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                              MLIRContext *context) {
  patterns.add<TransposeOfUnitDimsToReshape>(context);
}

//===----------------------------------------------------------------------===//
// concat, slice, pad, split
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor a, SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (a.getInputs().empty())
    return infer.emitError("needs at least one operand");
  if (failed(infer.checkOperands()))
    return failure();
  auto axis = infer.getI64("axis");
  if (failed(axis))
    return failure();
  std::vector<shapes::Shape> in;
  for (Value v : a.getInputs())
    in.emplace_back(tensorOf(v).getShape());
  return infer.push(shapes::concat(in, *axis),
                    tensorOf(a.getInputs()[0]).getElementType(), types);
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  return {};
}

/// slice's steps default to 1 for every dim.
static shapes::Shape sliceSteps(ArrayRef<int64_t> steps, int64_t rank) {
  return steps.empty() ? shapes::Shape(rank, 1) : shapes::Shape(steps);
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor a, SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (failed(infer.checkOperands()))
    return failure();
  auto starts = infer.getI64Array("starts");
  if (failed(starts))
    return failure();
  auto ends = infer.getI64Array("ends");
  if (failed(ends))
    return failure();
  auto steps = infer.getI64Array("steps", {});
  if (failed(steps))
    return failure();
  auto in = tensorOf(a.getInput());
  return infer.push(shapes::slice(in.getShape(), *starts, *ends,
                                  sliceSteps(*steps, in.getRank())),
                    in.getElementType(), types);
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  // A slice that keeps every element in order is the identity.
  ArrayRef<int64_t> shape = getInput().getType().getShape();
  shapes::Shape steps = sliceSteps(getSteps(), shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t start = getStarts()[i];
    if (steps[i] != 1 || (start != 0 && start != -shape[i]) ||
        getEnds()[i] < shape[i])
      return {};
  }
  return getInput();
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                      Adaptor a, SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (failed(infer.checkOperands()))
    return failure();
  auto pads = infer.getI64Array("pads");
  if (failed(pads))
    return failure();
  auto in = tensorOf(a.getInput());
  return infer.push(shapes::pad(in.getShape(), *pads), in.getElementType(),
                    types);
}

OpFoldResult PadOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

LogicalResult SplitOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor a, SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (failed(infer.checkOperands()))
    return failure();
  auto axisAttr = infer.getI64("axis");
  if (failed(axisAttr))
    return failure();
  auto sizes = infer.getI64Array("sizes");
  if (failed(sizes))
    return failure();
  auto in = tensorOf(a.getInput());
  if (auto err = shapes::checkSplit(in.getShape(), *axisAttr, *sizes))
    return infer.emitError(*err);
  int64_t axis = *shapes::normalizeAxis(*axisAttr, in.getRank());
  for (int64_t size : *sizes) {
    shapes::Shape piece(in.getShape());
    piece[axis] = size;
    types.push_back(RankedTensorType::get(piece, in.getElementType()));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// expand_dims, squeeze, one_hot
//===----------------------------------------------------------------------===//

LogicalResult ExpandDimsOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor a,
                                             SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (failed(infer.checkOperands()))
    return failure();
  auto axes = infer.getI64Array("axes");
  if (failed(axes))
    return failure();
  auto in = tensorOf(a.getInput());
  return infer.push(shapes::expandDims(in.getShape(), *axes),
                    in.getElementType(), types);
}

void ExpandDimsOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                               MLIRContext *context) {
  patterns.add<ToReshape<ExpandDimsOp>>(context);
}

LogicalResult SqueezeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc, Adaptor a,
                                          SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (failed(infer.checkOperands()))
    return failure();
  auto axes = infer.getI64Array("axes", {});
  if (failed(axes))
    return failure();
  auto in = tensorOf(a.getInput());
  return infer.push(shapes::squeeze(in.getShape(), *axes), in.getElementType(),
                    types);
}

void SqueezeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                            MLIRContext *context) {
  patterns.add<ToReshape<SqueezeOp>>(context);
}

LogicalResult OneHotOp::verify() {
  auto in = tensorOf(getIndices());
  shapes::ShapeOr expected =
      shapes::oneHot(in.getShape(), getDepth(), getAxis());
  if (!expected)
    return emitOpError(expected.message());
  if (getType().getShape() != ArrayRef<int64_t>(*expected))
    return emitOpError("result shape must be ")
           << shapes::toString(*expected) << ", got " << getType();
  return success();
}
