//===- KilnShapeOps.cpp - reshape, transpose, concat, slice, pad, ... -----===//
//
// Canonical forms: a change of shape that moves no data (squeeze,
// expand_dims, a transpose that only moves size-1 dims) becomes a reshape,
// and chains of reshapes or of transposes collapse into one. Selections
// move towards the data they select from: a gather at one constant index is
// a slice, a slice of a transpose is a transpose of a (smaller) slice, and a
// slice of a concat that lies within one operand is a slice of that operand.
// Together they reduce "take the last step of a whole-sequence output"
// (RNN exports: concat -> transpose -> gather) to that step's value, so the
// sequence is never materialized.
//
//===----------------------------------------------------------------------===//
#include "KilnFoldUtils.h"
#include "KilnInference.h"

#include "mlir/IR/PatternMatch.h"

#include <algorithm>

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

namespace {
/// The elements [start, end) that a slice with a positive step visits along
/// a dim of size n, with Python's negative indices and clamping resolved.
std::pair<int64_t, int64_t> positiveStepRange(int64_t start, int64_t end,
                                              int64_t n) {
  shapes::SliceRange r = shapes::resolveSlice(start, end, 1, n);
  return {r.start, r.end};
}

/// slice(transpose(x, p)) -> transpose(slice(x), p): dim d of the
/// transpose's result is dim p[d] of x, so the slice's bounds for d apply
/// there. The transpose then moves only the selected elements (and, when
/// the selection leaves a single non-unit dim in order, becomes a reshape).
struct SliceOfTranspose : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rewriter) const override {
    auto transpose = op.getInput().getDefiningOp<TransposeOp>();
    if (!transpose)
      return rewriter.notifyMatchFailure(op, "input is not a transpose");
    // With other users the full transpose stays; a second, sliced one
    // would only add work.
    if (!transpose->hasOneUse())
      return rewriter.notifyMatchFailure(op, "the transpose has other users");
    ArrayRef<int64_t> perm = transpose.getPermutation();
    size_t rank = perm.size();
    shapes::Shape steps = sliceSteps(op.getSteps(), rank);
    SmallVector<int64_t> starts(rank), ends(rank), newSteps(rank);
    for (size_t d = 0; d < rank; ++d) {
      starts[perm[d]] = op.getStarts()[d];
      ends[perm[d]] = op.getEnds()[d];
      newSteps[perm[d]] = steps[d];
    }
    auto slice = rewriter.create<SliceOp>(
        op.getLoc(), transpose.getInput(), rewriter.getDenseI64ArrayAttr(starts),
        rewriter.getDenseI64ArrayAttr(ends),
        rewriter.getDenseI64ArrayAttr(op.getSteps().empty()
                                          ? ArrayRef<int64_t>()
                                          : ArrayRef<int64_t>(newSteps)));
    rewriter.replaceOpWithNewOp<TransposeOp>(op, slice, perm);
    return success();
  }
};

/// slice(concat(a, b, ...)) -> slice(b) when the slice takes, along the
/// concat's axis with step 1, only elements of b. The other dims are the
/// same size in every operand, so their bounds carry over unchanged; a
/// slice that keeps all of b then folds to b.
struct SliceOfConcat : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rewriter) const override {
    auto concat = op.getInput().getDefiningOp<ConcatOp>();
    if (!concat)
      return rewriter.notifyMatchFailure(op, "input is not a concat");
    int64_t rank = concat.getType().getRank();
    int64_t axis = *shapes::normalizeAxis(concat.getAxis(), rank);
    shapes::Shape steps = sliceSteps(op.getSteps(), rank);
    if (steps[axis] != 1)
      return rewriter.notifyMatchFailure(op, "steps along the concat axis");
    auto [start, end] =
        positiveStepRange(op.getStarts()[axis], op.getEnds()[axis],
                          concat.getType().getDimSize(axis));
    if (start == end)
      return rewriter.notifyMatchFailure(op, "empty along the concat axis");
    int64_t offset = 0;
    for (Value input : concat.getInputs()) {
      int64_t size = tensorOf(input).getDimSize(axis);
      if (start >= offset && end <= offset + size) {
        SmallVector<int64_t> starts(op.getStarts()), ends(op.getEnds());
        starts[axis] = start - offset;
        ends[axis] = end - offset;
        rewriter.replaceOpWithNewOp<SliceOp>(
            op, input, rewriter.getDenseI64ArrayAttr(starts),
            rewriter.getDenseI64ArrayAttr(ends), op.getStepsAttr());
        return success();
      }
      offset += size;
    }
    return rewriter.notifyMatchFailure(op, "spans several concat operands");
  }
};

/// slice(slice(x)) -> slice(x), both with positive steps: the outer
/// slice's element i of a dim is the inner's element i, which is x's
/// start + i * step. One slice is one offset read in a fused kernel; a
/// chain of two left the inner one to be copied out.
struct SliceOfSlice : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<SliceOp>();
    if (!inner)
      return rewriter.notifyMatchFailure(op, "input is not a slice");
    RankedTensorType x = inner.getInput().getType(), mid = inner.getType();
    if (!x.hasStaticShape() || !mid.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    const int64_t rank = x.getRank();
    shapes::Shape innerSteps = sliceSteps(inner.getSteps(), rank);
    shapes::Shape outerSteps = sliceSteps(op.getSteps(), rank);
    SmallVector<int64_t> starts(rank), ends(rank), steps(rank);
    for (int64_t d = 0; d < rank; ++d) {
      if (innerSteps[d] <= 0 || outerSteps[d] <= 0)
        return rewriter.notifyMatchFailure(op, "a negative step");
      shapes::SliceRange r = shapes::composeSlices(
          shapes::resolveSlice(inner.getStarts()[d], inner.getEnds()[d],
                               innerSteps[d], x.getDimSize(d)),
          shapes::resolveSlice(op.getStarts()[d], op.getEnds()[d], outerSteps[d],
                               mid.getDimSize(d)));
      starts[d] = r.start;
      ends[d] = r.end;
      steps[d] = r.step;
    }
    rewriter.replaceOpWithNewOp<SliceOp>(
        op, op.getType(), inner.getInput(), rewriter.getDenseI64ArrayAttr(starts),
        rewriter.getDenseI64ArrayAttr(ends), rewriter.getDenseI64ArrayAttr(steps));
    return success();
  }
};

/// reshape(slice(x)) -> slice(reshape(x)) when the slice is one contiguous
/// run of x's elements (unit extent before some dim, full extent after it,
/// step 1) and the result is 2-D [rows, cols] with the run made of whole
/// rows of x viewed as [*, cols]: the slice becomes a range of rows of that
/// view. An unrolled recurrence reads step t's input projection this way
/// (x[t] of [T, N, 4H], reshaped to [N, 4H]); as a row slice of the [T*N,
/// 4H] projection it is an offset read in the step's fused kernel instead
/// of a copy. Only when x is not already that view (no rewrite loops).
struct ReshapeOfContiguousSlice : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto slice = op.getInput().getDefiningOp<SliceOp>();
    if (!slice)
      return rewriter.notifyMatchFailure(op, "input is not a slice");
    // Slices of these (also through reshapes, which fold away) have
    // patterns of their own (SliceOfConcat, ...) that remove more: they go
    // first, whatever order the driver visits the ops in.
    Operation *src = slice.getInput().getDefiningOp();
    while (src && isa<ReshapeOp, SqueezeOp, ExpandDimsOp>(src))
      src = src->getOperand(0).getDefiningOp();
    if (src && isa<ConcatOp, TransposeOp, SliceOp>(src))
      return rewriter.notifyMatchFailure(op, "the slice itself simplifies");
    RankedTensorType to = op.getType();
    RankedTensorType x = slice.getInput().getType();
    if (to.getRank() != 2 || !x.hasStaticShape() || !to.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "not a static 2-D result");
    const int64_t rank = x.getRank(), cols = to.getDimSize(1);
    shapes::Shape steps = sliceSteps(slice.getSteps(), rank);
    // The run: starts and extents per dim, checked for contiguity.
    SmallVector<int64_t> start(rank), extent(rank);
    for (int64_t d = 0; d < rank; ++d) {
      if (steps[d] != 1)
        return rewriter.notifyMatchFailure(op, "a step other than 1");
      auto [s, e] = positiveStepRange(slice.getStarts()[d], slice.getEnds()[d],
                                      x.getDimSize(d));
      start[d] = s;
      extent[d] = e - s;
    }
    int64_t split = 0; // dims before it have extent 1, after it are full
    while (split < rank - 1 && extent[split] == 1)
      ++split;
    for (int64_t d = split + 1; d < rank; ++d)
      if (extent[d] != x.getDimSize(d))
        return rewriter.notifyMatchFailure(op, "not a contiguous run");
    int64_t offset = 0, stride = 1, total = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      offset += start[d] * stride;
      stride *= x.getDimSize(d);
    }
    total = stride;
    const int64_t n = to.getNumElements();
    if (cols <= 0 || n == 0 || offset % cols || n % cols || total % cols)
      return rewriter.notifyMatchFailure(op, "the run is not whole rows");
    if (rank == 2 && x.getDimSize(1) == cols)
      return rewriter.notifyMatchFailure(op, "already a row slice");
    auto view = rewriter.create<ReshapeOp>(
        op.getLoc(), RankedTensorType::get({total / cols, cols}, x.getElementType()),
        slice.getInput());
    rewriter.replaceOpWithNewOp<SliceOp>(
        op, to, view, rewriter.getDenseI64ArrayAttr({offset / cols, 0}),
        rewriter.getDenseI64ArrayAttr({(offset + n) / cols, cols}),
        rewriter.getDenseI64ArrayAttr({}));
    return success();
  }
};
} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                            MLIRContext *context) {
  patterns.add<ReshapeOfContiguousSlice>(context);
}

void SliceOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                          MLIRContext *context) {
  patterns.add<SliceOfTranspose, SliceOfConcat, SliceOfSlice>(context);
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
