//===- KilnElementwiseOps.cpp - Unary, binary and select ops --------------===//
//
// Most elementwise behaviour (types, folding) comes from the ODS rows; what
// is here needs attributes or more than one scalar formula.
//
//===----------------------------------------------------------------------===//
#include "KilnFoldUtils.h"
#include "KilnInference.h"

#include <cmath>

using namespace mlir;
namespace shapes = ::kiln::shapes;
using namespace mlir::kiln;

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnElementwiseOps.cpp.inc"

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("approximate must be \"none\" or \"tanh\", got \"")
           << getApproximate() << "\"";
  return success();
}

LogicalResult ClipOp::verify() {
  for (auto [name, bound] : {std::pair<const char *, std::optional<APFloat>>{
                                 "min", getMin()},
                             {"max", getMax()}})
    if (bound && bound->isNaN())
      return emitOpError(name) << " must not be NaN";
  if (getMin() && getMax() &&
      getMin()->convertToDouble() > getMax()->convertToDouble())
    return emitOpError("min ") << getMin()->convertToDouble()
                               << " is greater than max "
                               << getMax()->convertToDouble();
  return success();
}

OpFoldResult ClipOp::fold(FoldAdaptor adaptor) {
  if (!getMin() && !getMax())
    return getInput();
  double lo = getMin() ? getMin()->convertToDouble() : -INFINITY;
  double hi = getMax() ? getMax()->convertToDouble() : INFINITY;
  return foldUnary(*this, adaptor.getInput(),
                   [&](double x) { return std::fmin(std::fmax(x, lo), hi); });
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return foldUnary(*this, adaptor.getInput(), [](double x) { return x; });
}

LogicalResult SelectOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), adaptor);
  if (failed(infer.checkOperands()))
    return failure();
  auto c = cast<RankedTensorType>(adaptor.getCond().getType());
  auto t = cast<RankedTensorType>(adaptor.getOnTrue().getType());
  auto f = cast<RankedTensorType>(adaptor.getOnFalse().getType());
  return infer.push(shapes::broadcast(std::vector<shapes::Shape>{
                        shapes::Shape(c.getShape()), shapes::Shape(t.getShape()),
                        shapes::Shape(f.getShape())}),
                    t.getElementType(), types);
}

OpFoldResult SelectOp::fold(FoldAdaptor adaptor) {
  Type type = getType();
  if (getOnTrue() == getOnFalse() && getOnTrue().getType() == type)
    return getOnTrue();
  auto cond = dyn_cast_or_null<DenseElementsAttr>(adaptor.getCond());
  if (!cond || !cond.isSplat())
    return {};
  Value chosen = cond.getSplatValue<bool>() ? getOnTrue() : getOnFalse();
  return chosen.getType() == type ? chosen : Value();
}
