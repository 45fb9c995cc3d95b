//===- KilnTypeInference.cpp - Result types from the shared shape rules ---===//
//
// Glue between MLIR types and kiln::shapes: every shape rule lives in
// support/ so that eager kernels use the same one. OpInference (see
// KilnInference.h) is how every inferReturnTypes reads its op.
//
//===----------------------------------------------------------------------===//
#include "KilnInference.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
namespace shapes = ::kiln::shapes;

//===----------------------------------------------------------------------===//
// Element counts
//===----------------------------------------------------------------------===//

/// A statically shaped type whose element count does not fit int64. Kiln
/// sizes buffers, strides and folds in int64, so such a type has no meaning.
static bool elementCountOverflows(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasStaticShape())
    return false;
  return !shapes::numElements(shaped.getShape()).has_value();
}

LogicalResult mlir::kiln::verifyElementCounts(Operation *op) {
  for (auto [i, type] : llvm::enumerate(op->getOperandTypes()))
    if (elementCountOverflows(type))
      return op->emitOpError("operand #")
             << i << " of type " << type
             << " has an element count that overflows int64";
  for (auto [i, type] : llvm::enumerate(op->getResultTypes()))
    if (elementCountOverflows(type))
      return op->emitOpError("result #")
             << i << " of type " << type
             << " has an element count that overflows int64";
  return success();
}

//===----------------------------------------------------------------------===//
// OpInference
//===----------------------------------------------------------------------===//

namespace mlir::kiln {

LogicalResult OpInference::checkOperands() const {
  for (auto [i, value] : llvm::enumerate(operands)) {
    Type type = value.getType();
    auto tensor = dyn_cast<RankedTensorType>(type);
    // The ODS constraint's own words, up to its list of element types.
    if (!tensor || !tensor.hasStaticShape())
      return emitError("operand #", i,
                       " must be statically shaped tensor, but got ", type);
    if (elementCountOverflows(tensor))
      return emitError("operand #", i, " of type ", type,
                       " has an element count that overflows int64");
  }
  return success();
}

template <typename AttrT>
FailureOr<AttrT> OpInference::lookup(StringRef name,
                                     StringRef constraint) const {
  Attribute attr = attrs ? attrs.get(name) : Attribute();
  if (!attr)
    return AttrT();
  auto typed = dyn_cast<AttrT>(attr);
  if (!typed)
    return emitError("attribute '", name,
                     "' failed to satisfy constraint: ", constraint);
  return typed;
}

/// I64Attr is an IntegerAttr of type i64 (signless), not any integer.
static bool isI64(IntegerAttr a) { return a.getType().isSignlessInteger(64); }

FailureOr<SmallVector<int64_t>>
OpInference::getI64Array(StringRef name, ArrayRef<int64_t> dflt) const {
  FailureOr<DenseI64ArrayAttr> a =
      lookup<DenseI64ArrayAttr>(name, "i64 dense array attribute");
  if (failed(a))
    return failure();
  return SmallVector<int64_t>(*a ? a->asArrayRef() : dflt);
}

FailureOr<SmallVector<int64_t>>
OpInference::getI64Array(StringRef name) const {
  FailureOr<DenseI64ArrayAttr> a =
      lookup<DenseI64ArrayAttr>(name, "i64 dense array attribute");
  if (failed(a))
    return failure();
  if (!*a)
    return emitError("requires attribute '", name, "'");
  return SmallVector<int64_t>(a->asArrayRef());
}

FailureOr<int64_t> OpInference::getI64(StringRef name, int64_t dflt) const {
  static constexpr StringLiteral kConstraint =
      "64-bit signless integer attribute";
  FailureOr<IntegerAttr> a = lookup<IntegerAttr>(name, kConstraint);
  if (failed(a))
    return failure();
  if (!*a)
    return dflt;
  if (!isI64(*a))
    return emitError("attribute '", name,
                     "' failed to satisfy constraint: ", kConstraint);
  return a->getInt();
}

FailureOr<int64_t> OpInference::getI64(StringRef name) const {
  if (!attrs || !attrs.get(name))
    return emitError("requires attribute '", name, "'");
  return getI64(name, 0);
}

FailureOr<bool> OpInference::getBool(StringRef name, bool dflt) const {
  FailureOr<BoolAttr> a = lookup<BoolAttr>(name, "bool attribute");
  if (failed(a))
    return failure();
  return *a ? a->getValue() : dflt;
}

FailureOr<StringRef> OpInference::getString(StringRef name,
                                            StringRef dflt) const {
  FailureOr<StringAttr> a = lookup<StringAttr>(name, "string attribute");
  if (failed(a))
    return failure();
  return *a ? a->getValue() : dflt;
}

LogicalResult OpInference::push(const shapes::ShapeOr &shape, Type element,
                                SmallVectorImpl<Type> &types) const {
  if (!shape)
    return emitError(shape.message());
  types.push_back(RankedTensorType::get(*shape, element));
  return success();
}

//===----------------------------------------------------------------------===//
// Shared rules of the ODS op classes
//===----------------------------------------------------------------------===//

LogicalResult inferBroadcastResult(const OpInference &infer, Type lhs,
                                   Type rhs, bool predicate,
                                   SmallVectorImpl<Type> &types) {
  if (failed(infer.checkOperands()))
    return failure();
  auto l = cast<RankedTensorType>(lhs), r = cast<RankedTensorType>(rhs);
  Type element = predicate ? IntegerType::get(lhs.getContext(), 1)
                           : l.getElementType();
  return infer.push(shapes::broadcast(l.getShape(), r.getShape()), element,
                    types);
}

LogicalResult checkActivation(const OpInference &infer, StringRef activation) {
  bool known = llvm::StringSwitch<bool>(activation)
                   .Cases("none", "relu", "relu6", "gelu", "gelu_tanh",
                          "silu", "sigmoid", "tanh", true)
                   .Default(false);
  if (known)
    return success();
  return infer.emitError("unknown activation \"", activation,
                         "\"; expected none, relu, relu6, gelu, gelu_tanh, "
                         "silu, sigmoid or tanh");
}

LogicalResult inferReduceResult(const OpInference &infer, Type input,
                                ArrayRef<int64_t> axes, bool keepDims,
                                bool indexResult,
                                SmallVectorImpl<Type> &types) {
  if (failed(infer.checkOperands()))
    return failure();
  auto t = cast<RankedTensorType>(input);
  if (indexResult && t.getRank() == 0)
    return infer.emitError("needs an operand of rank >= 1");
  Type element = indexResult ? IntegerType::get(input.getContext(), 64)
                             : t.getElementType();
  return infer.push(shapes::reduce(t.getShape(), axes, keepDims), element,
                    types);
}

} // namespace mlir::kiln
