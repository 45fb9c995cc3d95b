//===- KilnNNOps.cpp - matmul, convolution, pooling, norms, losses --------===//
#include "KilnInference.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
namespace shapes = ::kiln::shapes;
using namespace mlir::kiln;

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnNNOps.cpp.inc"

namespace {
RankedTensorType tensorOf(Value v) { return cast<RankedTensorType>(v.getType()); }

/// The bias of a convolution is per output channel: [F], with the input's
/// element type.
LogicalResult checkBias(const OpInference &infer, Value bias,
                        const shapes::ShapeOr &out, Type element,
                        int64_t channelDim = 1) {
  if (!bias || !out)
    return success();
  auto b = tensorOf(bias);
  if (b.getElementType() != element)
    return infer.emitError("bias element type ", b.getElementType(),
                           " must match the input's ", element);
  if (b.getRank() != 1 || b.getDimSize(0) != (*out)[channelDim])
    return infer.emitError("bias must have shape [", (*out)[channelDim],
                           "] (one value per output channel)");
  return success();
}

/// The `layout` attribute of conv2d and max_pool2d.
FailureOr<shapes::Layout2D> readLayout(const OpInference &infer) {
  auto name = infer.getString("layout", "nchw");
  if (failed(name))
    return failure();
  if (auto layout = shapes::parseLayout2D(std::string_view(*name)))
    return *layout;
  return infer.emitError("layout must be \"nchw\" or \"nhwc\", got \"", *name,
                         "\"");
}

/// An axis attribute that must name a dim of `type`.
LogicalResult checkAxis(Operation *op, int64_t axis, RankedTensorType type) {
  if (!shapes::normalizeAxis(axis, type.getRank()))
    return op->emitOpError("axis ")
           << axis << " is out of range for rank " << type.getRank();
  return success();
}
} // namespace

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor a, SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (failed(infer.checkOperands()))
    return failure();
  auto transposeLhs = infer.getBool("transpose_lhs", false);
  auto transposeRhs = infer.getBool("transpose_rhs", false);
  if (failed(transposeLhs) || failed(transposeRhs))
    return failure();
  auto l = tensorOf(a.getLhs()), r = tensorOf(a.getRhs());
  return infer.push(shapes::matmul(l.getShape(), r.getShape(), *transposeLhs,
                                   *transposeRhs),
                    l.getElementType(), types);
}

/// The stride, pad and dilation attributes of a convolution or pooling,
/// with their ODS defaults.
static FailureOr<shapes::Window2D> readWindow(const OpInference &infer,
                                              bool hasDilations) {
  auto strides = infer.getI64Array("strides", {1, 1});
  auto pads = infer.getI64Array("pads", {0, 0, 0, 0});
  FailureOr<SmallVector<int64_t>> dilations = SmallVector<int64_t>{1, 1};
  if (hasDilations)
    dilations = infer.getI64Array("dilations", {1, 1});
  if (failed(strides) || failed(pads) || failed(dilations))
    return failure();
  auto shape = [](ArrayRef<int64_t> v) { return shapes::Shape(v.begin(), v.end()); };
  return shapes::Window2D{{1, 1}, shape(*strides), shape(*pads),
                          shape(*dilations), false};
}

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor a, SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (failed(infer.checkOperands()))
    return failure();
  FailureOr<shapes::Window2D> win = readWindow(infer, /*hasDilations=*/true);
  auto groups = infer.getI64("groups", 1);
  auto activation = infer.getString("activation", "none");
  FailureOr<shapes::Layout2D> layout = readLayout(infer);
  if (failed(win) || failed(groups) || failed(activation) || failed(layout))
    return failure();
  auto in = tensorOf(a.getInput()), w = tensorOf(a.getWeight());
  shapes::ShapeOr out = shapes::conv2d(in.getShape(), w.getShape(), *win,
                                       *groups, *layout);
  int64_t channelDim = *layout == shapes::Layout2D::NHWC ? 3 : 1;
  if (failed(checkBias(infer, a.getBias(), out, in.getElementType(),
                       channelDim)) ||
      failed(checkActivation(infer, *activation)))
    return failure();
  return infer.push(out, in.getElementType(), types);
}

LogicalResult ConvTranspose2DOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor a,
    SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (failed(infer.checkOperands()))
    return failure();
  FailureOr<shapes::Window2D> win = readWindow(infer, /*hasDilations=*/true);
  auto groups = infer.getI64("groups", 1);
  auto outputPadding = infer.getI64Array("output_padding", {0, 0});
  if (failed(win) || failed(groups) || failed(outputPadding))
    return failure();
  auto in = tensorOf(a.getInput()), w = tensorOf(a.getWeight());
  shapes::ShapeOr out = shapes::convTranspose2d(
      in.getShape(), w.getShape(), *win, *groups, *outputPadding);
  if (failed(checkBias(infer, a.getBias(), out, in.getElementType())))
    return failure();
  return infer.push(out, in.getElementType(), types);
}

/// max_pool2d and avg_pool2d: a required kernel, the window attributes and
/// ceil_mode (and max_pool2d's layout).
static LogicalResult inferPool(const OpInference &infer, Value input,
                               bool hasDilations, bool hasLayout,
                               SmallVectorImpl<Type> &types) {
  if (failed(infer.checkOperands()))
    return failure();
  auto kernel = infer.getI64Array("kernel");
  FailureOr<shapes::Window2D> win = readWindow(infer, hasDilations);
  auto ceilMode = infer.getBool("ceil_mode", false);
  FailureOr<shapes::Layout2D> layout = shapes::Layout2D::NCHW;
  if (hasLayout)
    layout = readLayout(infer);
  if (failed(kernel) || failed(win) || failed(ceilMode) || failed(layout))
    return failure();
  win->kernel.assign(kernel->begin(), kernel->end());
  win->ceilMode = *ceilMode;
  auto in = tensorOf(input);
  return infer.push(shapes::pool2d(in.getShape(), *win, *layout),
                    in.getElementType(), types);
}

LogicalResult MaxPool2DOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor a,
                                            SmallVectorImpl<Type> &types) {
  return inferPool(OpInference(loc, getOperationName(), a), a.getInput(),
                   /*hasDilations=*/true, /*hasLayout=*/true, types);
}

LogicalResult AvgPool2DOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor a,
                                            SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  // count_include_pad is not used by the shape, but a malformed one must not
  // reach the generated getters later.
  if (failed(infer.getBool("count_include_pad", false)))
    return failure();
  return inferPool(infer, a.getInput(), /*hasDilations=*/false,
                   /*hasLayout=*/false, types);
}

LogicalResult GlobalAvgPoolOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor a,
                                                SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (failed(infer.checkOperands()))
    return failure();
  auto in = tensorOf(a.getInput());
  if (in.getRank() < 3)
    return infer.emitError(
        "needs an input of rank >= 3 ([N, C, spatial...]), got rank ",
        in.getRank());
  shapes::Shape out(in.getShape());
  for (size_t i = 2; i < out.size(); ++i)
    out[i] = 1;
  return infer.push(out, in.getElementType(), types);
}

LogicalResult BatchNormOp::verify() {
  auto in = tensorOf(getInput());
  if (in.getRank() < 2)
    return emitOpError("needs an input of rank >= 2 ([N, C, ...]), got rank ")
           << in.getRank();
  int64_t channels = in.getDimSize(1);
  for (auto [name, v] : {std::pair<const char *, Value>{"scale", getScale()},
                         {"bias", getBias()},
                         {"mean", getMean()},
                         {"variance", getVariance()}}) {
    auto t = tensorOf(v);
    if (t.getRank() != 1 || t.getDimSize(0) != channels)
      return emitOpError(name) << " must have shape [" << channels
                               << "] (one value per channel), got " << t;
  }
  if (!(getEpsilon().convertToDouble() >= 0)) // NaN fails too
    return emitOpError("epsilon must be >= 0, got ")
           << getEpsilon().convertToDouble();
  return success();
}

LogicalResult LayerNormOp::verify() {
  auto in = tensorOf(getInput());
  if (failed(checkAxis(*this, getAxis(), in)))
    return failure();
  int64_t axis = *shapes::normalizeAxis(getAxis(), in.getRank());
  ArrayRef<int64_t> normalized = in.getShape().drop_front(axis);
  for (auto [name, v] : {std::pair<const char *, Value>{"scale", getScale()},
                         {"bias", getBias()}}) {
    if (!v)
      continue;
    auto t = tensorOf(v);
    if (t.getElementType() != in.getElementType())
      return emitOpError(name) << " element type " << t.getElementType()
                               << " must match the input's "
                               << in.getElementType();
    if (t.getShape() != normalized)
      return emitOpError(name)
             << " must have the normalized shape "
             << shapes::toString(normalized) << ", got " << t;
  }
  if (!(getEpsilon().convertToDouble() >= 0)) // NaN fails too
    return emitOpError("epsilon must be >= 0, got ")
           << getEpsilon().convertToDouble();
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return checkAxis(*this, getAxis(), tensorOf(getInput()));
}
LogicalResult LogSoftmaxOp::verify() {
  return checkAxis(*this, getAxis(), tensorOf(getInput()));
}

LogicalResult DropoutOp::verify() {
  double ratio = getRatio().convertToDouble();
  if (!(ratio >= 0.0 && ratio < 1.0))
    return emitOpError("ratio must be in [0, 1), got ") << ratio;
  return success();
}

OpFoldResult DropoutOp::fold(FoldAdaptor) {
  if (!getTraining() || getRatio().isZero())
    return getInput();
  return {};
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor a, SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (failed(infer.checkOperands()))
    return failure();
  auto axis = infer.getI64("axis", 0);
  if (failed(axis))
    return failure();
  auto data = tensorOf(a.getData()), idx = tensorOf(a.getIndices());
  return infer.push(shapes::gather(data.getShape(), idx.getShape(), *axis),
                    data.getElementType(), types);
}

namespace {
/// gather(data, constant scalar i) -> reshape(slice(data, i:i+1 along axis)):
/// one block of data, which runs as a view or one copy, where gather walks
/// an index table. The ONNX importer does this for initializer indices; this
/// catches indices that become constants only after import (an RNN export's
/// "last step" selection: Gather(Y, Constant 49)). An index out of range
/// is left to gather, which reports it at run time.
struct GatherOfConstantIndex : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op,
                                PatternRewriter &rewriter) const override {
    DenseIntElementsAttr index;
    if (tensorOf(op.getIndices()).getRank() != 0 ||
        !matchPattern(op.getIndices(), m_Constant(&index)))
      return rewriter.notifyMatchFailure(op, "index is not a constant scalar");
    auto data = tensorOf(op.getData());
    int64_t axis = *shapes::normalizeAxis(op.getAxis(), data.getRank());
    int64_t n = data.getDimSize(axis);
    int64_t i = (*index.getValues<APInt>().begin()).getSExtValue();
    if (i < -n || i >= n)
      return rewriter.notifyMatchFailure(op, "index out of range");
    if (i < 0)
      i += n;
    SmallVector<int64_t> starts(data.getRank(), 0);
    SmallVector<int64_t> ends(data.getShape());
    starts[axis] = i;
    ends[axis] = i + 1;
    auto slice = rewriter.create<SliceOp>(
        op.getLoc(), op.getData(), rewriter.getDenseI64ArrayAttr(starts),
        rewriter.getDenseI64ArrayAttr(ends), rewriter.getDenseI64ArrayAttr({}));
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), slice);
    return success();
  }
};
} // namespace

void GatherOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *context) {
  patterns.add<GatherOfConstantIndex>(context);
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// Result of a loss: `perSample` for reduction "none", a scalar otherwise.
static LogicalResult inferLoss(const OpInference &infer,
                               ArrayRef<int64_t> perSample, Type element,
                               SmallVectorImpl<Type> &types) {
  FailureOr<StringRef> reduction = infer.getString("reduction", "mean");
  if (failed(reduction))
    return failure();
  if (*reduction == "none") {
    types.push_back(RankedTensorType::get(perSample, element));
    return success();
  }
  if (*reduction != "mean" && *reduction != "sum")
    return infer.emitError("reduction must be \"none\", \"mean\" or "
                           "\"sum\", got \"",
                           *reduction, "\"");
  types.push_back(RankedTensorType::get({}, element));
  return success();
}

LogicalResult CrossEntropyOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor a,
                                               SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (failed(infer.checkOperands()))
    return failure();
  auto logits = tensorOf(a.getInput()), labels = tensorOf(a.getTarget());
  if (logits.getRank() != 2)
    return infer.emitError("logits must have rank 2 ([N, C]), got ", logits);
  if (labels.getRank() != 1 || labels.getDimSize(0) != logits.getDimSize(0))
    return infer.emitError("labels must have shape [", logits.getDimSize(0),
                           "], got ", labels);
  return inferLoss(infer, {logits.getDimSize(0)}, logits.getElementType(),
                   types);
}

/// mse and bce_with_logits compare two tensors of one type elementwise.
static LogicalResult inferPairLoss(const OpInference &infer, Value input,
                                   Value target, SmallVectorImpl<Type> &types) {
  if (failed(infer.checkOperands()))
    return failure();
  auto in = tensorOf(input), t = tensorOf(target);
  if (in != t)
    return infer.emitError("input and target must have the same type, got ",
                           in, " and ", t);
  return inferLoss(infer, in.getShape(), in.getElementType(), types);
}

LogicalResult MseOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                      Adaptor a, SmallVectorImpl<Type> &types) {
  return inferPairLoss(OpInference(loc, getOperationName(), a), a.getInput(),
                       a.getTarget(), types);
}

LogicalResult BceWithLogitsOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor a,
                                                SmallVectorImpl<Type> &types) {
  return inferPairLoss(OpInference(loc, getOperationName(), a), a.getInput(),
                       a.getTarget(), types);
}
