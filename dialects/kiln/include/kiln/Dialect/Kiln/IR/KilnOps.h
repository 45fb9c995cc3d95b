//===- KilnOps.h - Every kiln op, and the helpers their ODS rows call -----===//
#ifndef KILN_DIALECT_KILN_IR_KILNOPS_H
#define KILN_DIALECT_KILN_IR_KILNOPS_H

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::kiln {

/// Result type of a broadcasting binary op: the broadcast shape, with the
/// operands' element type or i1 for predicates. Emits at `loc` on failure.
LogicalResult inferBroadcastResult(std::optional<Location> loc, Type lhs,
                                   Type rhs, bool predicate,
                                   SmallVectorImpl<Type> &types);

/// Result type of a reduction over `axes`; i64 elements for arg reductions.
LogicalResult inferReduceResult(std::optional<Location> loc, Type input,
                                ArrayRef<int64_t> axes, bool keepDims,
                                bool indexResult, SmallVectorImpl<Type> &types);

/// Folds a unary elementwise op on a constant operand with `fn`.
OpFoldResult foldUnary(Operation *op, Attribute input,
                       llvm::function_ref<double(double)> fn);

/// Folds a binary op: both operands constant (evaluated with `fn`), or an
/// identity (x + 0, x - 0, x * 1, x / 1) that leaves the type unchanged.
OpFoldResult foldBinary(Operation *op, Attribute lhs, Attribute rhs,
                        llvm::function_ref<double(double, double)> fn);

/// Reading attributes inside inferReturnTypes. MLIR 19's generated adaptors
/// neither fill in DefaultValuedAttr defaults nor check required attributes
/// before the parser calls inferReturnTypes, so an attribute may be absent
/// there: these give the ODS default (written again here) or, for a
/// required one, a diagnostic instead of a null dereference.
inline bool attrOr(BoolAttr a, bool dflt) { return a ? a.getValue() : dflt; }
inline int64_t attrOr(IntegerAttr a, int64_t dflt) {
  return a ? a.getInt() : dflt;
}
inline ArrayRef<int64_t> attrOr(DenseI64ArrayAttr a, ArrayRef<int64_t> dflt) {
  return a ? a.asArrayRef() : dflt;
}
inline StringRef attrOr(StringAttr a, StringRef dflt) {
  return a ? a.getValue() : dflt;
}
LogicalResult requireAttr(std::optional<Location> loc, Attribute a,
                          StringRef name);

/// A reduction that reduces nothing (only size-1 axes, keepdims) is a no-op.
OpFoldResult foldIdentityReduce(Operation *op, Value input);

} // namespace mlir::kiln

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnSourceOps.h.inc"
#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnElementwiseOps.h.inc"
#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnReductionOps.h.inc"
#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnNNOps.h.inc"
#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnShapeOps.h.inc"
#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnFusionOps.h.inc"

#endif // KILN_DIALECT_KILN_IR_KILNOPS_H
