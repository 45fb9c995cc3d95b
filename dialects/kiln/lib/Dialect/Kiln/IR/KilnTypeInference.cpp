//===- KilnTypeInference.cpp - Result types from the shared shape rules ---===//
//
// Glue between MLIR types and kiln::shapes: every shape rule lives in
// support/ so that eager kernels use the same one.
//
//===----------------------------------------------------------------------===//
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Support/Shapes.h"

#include "mlir/IR/Diagnostics.h"

using namespace mlir;
namespace shapes = ::kiln::shapes;

LogicalResult mlir::kiln::inferBroadcastResult(std::optional<Location> loc, Type lhs,
                                         Type rhs, bool predicate,
                                         SmallVectorImpl<Type> &types) {
  auto l = dyn_cast<RankedTensorType>(lhs);
  auto r = dyn_cast<RankedTensorType>(rhs);
  if (!l || !r)
    return emitOptionalError(loc, "operands must be ranked tensors");
  shapes::ShapeOr shape = shapes::broadcast(l.getShape(), r.getShape());
  if (!shape)
    return emitOptionalError(loc, shape.message());
  Type element = predicate ? IntegerType::get(lhs.getContext(), 1)
                           : l.getElementType();
  types.push_back(RankedTensorType::get(*shape, element));
  return success();
}

LogicalResult mlir::kiln::inferReduceResult(std::optional<Location> loc, Type input,
                                      ArrayRef<int64_t> axes, bool keepDims,
                                      bool indexResult,
                                      SmallVectorImpl<Type> &types) {
  auto t = dyn_cast<RankedTensorType>(input);
  if (!t)
    return emitOptionalError(loc, "operand must be a ranked tensor");
  if (indexResult && t.getRank() == 0)
    return emitOptionalError(loc, "needs an operand of rank >= 1");
  shapes::ShapeOr shape = shapes::reduce(t.getShape(), axes, keepDims);
  if (!shape)
    return emitOptionalError(loc, shape.message());
  Type element = indexResult ? IntegerType::get(input.getContext(), 64)
                             : t.getElementType();
  types.push_back(RankedTensorType::get(*shape, element));
  return success();
}

LogicalResult mlir::kiln::requireAttr(std::optional<Location> loc, Attribute a,
                                      StringRef name) {
  if (a)
    return success();
  return emitOptionalError(loc, "requires attribute '", name, "'");
}
