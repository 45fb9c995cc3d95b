//===- KilnNNOps.cpp - matmul, convolution, pooling, norms, losses --------===//
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Support/Shapes.h"

using namespace mlir;
namespace shapes = ::kiln::shapes;
using namespace mlir::kiln;

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnNNOps.cpp.inc"

namespace {
RankedTensorType tensorOf(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Pushes `shape` with `element` onto `types`, or emits the rule's message.
LogicalResult pushShape(std::optional<Location> loc, const shapes::ShapeOr &shape,
                        Type element, SmallVectorImpl<Type> &types) {
  if (!shape)
    return emitOptionalError(loc, shape.message());
  types.push_back(RankedTensorType::get(*shape, element));
  return success();
}

shapes::Window2D window(ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                        ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
                        bool ceilMode) {
  return shapes::Window2D{shapes::Shape(kernel), shapes::Shape(strides),
                          shapes::Shape(pads), shapes::Shape(dilations),
                          ceilMode};
}

/// The bias of a convolution is per output channel: [F].
LogicalResult checkBias(std::optional<Location> loc, Value bias,
                        const shapes::ShapeOr &out) {
  if (!bias || !out)
    return success();
  auto b = tensorOf(bias);
  if (b.getRank() != 1 || b.getDimSize(0) != (*out)[1])
    return emitOptionalError(loc, "bias must have shape [", (*out)[1],
                             "] (one value per output channel)");
  return success();
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
  auto l = tensorOf(a.getLhs()), r = tensorOf(a.getRhs());
  return pushShape(loc,
                   shapes::matmul(l.getShape(), r.getShape(),
                                  attrOr(a.getTransposeLhsAttr(), false),
                                  attrOr(a.getTransposeRhsAttr(), false)),
                   l.getElementType(), types);
}

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor a, SmallVectorImpl<Type> &types) {
  auto in = tensorOf(a.getInput()), w = tensorOf(a.getWeight());
  shapes::Window2D win = window({1, 1}, attrOr(a.getStridesAttr(), {1, 1}),
                                attrOr(a.getPadsAttr(), {0, 0, 0, 0}),
                                attrOr(a.getDilationsAttr(), {1, 1}), false);
  shapes::ShapeOr out = shapes::conv2d(in.getShape(), w.getShape(), win,
                                       attrOr(a.getGroupsAttr(), 1));
  if (failed(checkBias(loc, a.getBias(), out)))
    return failure();
  return pushShape(loc, out, in.getElementType(), types);
}

LogicalResult ConvTranspose2DOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor a,
    SmallVectorImpl<Type> &types) {
  auto in = tensorOf(a.getInput()), w = tensorOf(a.getWeight());
  shapes::Window2D win = window({1, 1}, attrOr(a.getStridesAttr(), {1, 1}),
                                attrOr(a.getPadsAttr(), {0, 0, 0, 0}),
                                attrOr(a.getDilationsAttr(), {1, 1}), false);
  shapes::ShapeOr out = shapes::convTranspose2d(
      in.getShape(), w.getShape(), win, attrOr(a.getGroupsAttr(), 1),
      attrOr(a.getOutputPaddingAttr(), {0, 0}));
  if (failed(checkBias(loc, a.getBias(), out)))
    return failure();
  return pushShape(loc, out, in.getElementType(), types);
}

LogicalResult MaxPool2DOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor a,
                                            SmallVectorImpl<Type> &types) {
  auto in = tensorOf(a.getInput());
  if (failed(requireAttr(loc, a.getKernelAttr(), "kernel")))
    return failure();
  shapes::Window2D win = window(a.getKernel(), attrOr(a.getStridesAttr(), {1, 1}),
                                attrOr(a.getPadsAttr(), {0, 0, 0, 0}),
                                attrOr(a.getDilationsAttr(), {1, 1}),
                                attrOr(a.getCeilModeAttr(), false));
  return pushShape(loc, shapes::pool2d(in.getShape(), win),
                   in.getElementType(), types);
}

LogicalResult AvgPool2DOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor a,
                                            SmallVectorImpl<Type> &types) {
  auto in = tensorOf(a.getInput());
  if (failed(requireAttr(loc, a.getKernelAttr(), "kernel")))
    return failure();
  shapes::Window2D win = window(a.getKernel(), attrOr(a.getStridesAttr(), {1, 1}),
                                attrOr(a.getPadsAttr(), {0, 0, 0, 0}), {1, 1},
                                attrOr(a.getCeilModeAttr(), false));
  return pushShape(loc, shapes::pool2d(in.getShape(), win),
                   in.getElementType(), types);
}

LogicalResult GlobalAvgPoolOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor a,
                                                SmallVectorImpl<Type> &types) {
  auto in = tensorOf(a.getInput());
  if (in.getRank() < 3)
    return emitOptionalError(loc, "needs an input of rank >= 3 ([N, C, spatial...]), got rank ",
                             in.getRank());
  shapes::Shape out(in.getShape());
  for (size_t i = 2; i < out.size(); ++i)
    out[i] = 1;
  return pushShape(loc, out, in.getElementType(), types);
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
  if (getEpsilon().convertToDouble() < 0)
    return emitOpError("epsilon must be >= 0");
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
    if (t.getShape() != normalized)
      return emitOpError(name)
             << " must have the normalized shape "
             << shapes::toString(normalized) << ", got " << t;
  }
  if (getEpsilon().convertToDouble() < 0)
    return emitOpError("epsilon must be >= 0");
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
  auto data = tensorOf(a.getData()), idx = tensorOf(a.getIndices());
  return pushShape(loc,
                   shapes::gather(data.getShape(), idx.getShape(),
                                  attrOr(a.getAxisAttr(), 0)),
                   data.getElementType(), types);
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// Result of a loss: `perSample` for reduction "none", a scalar otherwise.
static LogicalResult inferLoss(std::optional<Location> loc, StringRef reduction,
                               ArrayRef<int64_t> perSample, Type element,
                               SmallVectorImpl<Type> &types) {
  if (reduction == "none") {
    types.push_back(RankedTensorType::get(perSample, element));
    return success();
  }
  if (reduction != "mean" && reduction != "sum")
    return emitOptionalError(loc, "reduction must be \"none\", \"mean\" or "
                                  "\"sum\", got \"",
                             reduction, "\"");
  types.push_back(RankedTensorType::get({}, element));
  return success();
}

LogicalResult CrossEntropyOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor a,
                                               SmallVectorImpl<Type> &types) {
  auto logits = tensorOf(a.getInput()), labels = tensorOf(a.getTarget());
  if (logits.getRank() != 2)
    return emitOptionalError(loc, "logits must have rank 2 ([N, C]), got ",
                             logits);
  if (labels.getRank() != 1 || labels.getDimSize(0) != logits.getDimSize(0))
    return emitOptionalError(loc, "labels must have shape [",
                             logits.getDimSize(0), "], got ", labels);
  return inferLoss(loc, attrOr(a.getReductionAttr(), "mean"),
                   {logits.getDimSize(0)},
                   logits.getElementType(), types);
}

/// mse and bce_with_logits compare two tensors of one type elementwise.
static LogicalResult inferPairLoss(std::optional<Location> loc, Value input,
                                   Value target, StringRef reduction,
                                   SmallVectorImpl<Type> &types) {
  auto in = tensorOf(input), t = tensorOf(target);
  if (in != t)
    return emitOptionalError(loc, "input and target must have the same type, got ",
                             in, " and ", t);
  return inferLoss(loc, reduction, in.getShape(), in.getElementType(), types);
}

LogicalResult MseOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                      Adaptor a, SmallVectorImpl<Type> &types) {
  return inferPairLoss(loc, a.getInput(), a.getTarget(),
                       attrOr(a.getReductionAttr(), "mean"), types);
}

LogicalResult BceWithLogitsOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor a,
                                                SmallVectorImpl<Type> &types) {
  return inferPairLoss(loc, a.getInput(), a.getTarget(),
                       attrOr(a.getReductionAttr(), "mean"), types);
}
