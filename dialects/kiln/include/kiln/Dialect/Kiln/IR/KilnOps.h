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

/// Folds a unary elementwise op on a constant operand with `fn`.
OpFoldResult foldUnary(Operation *op, Attribute input,
                       llvm::function_ref<double(double)> fn);

/// Folds a binary op: both operands constant (evaluated with `fn`), or an
/// identity (x + 0, x - 0, x * 1, x / 1) that leaves the type unchanged.
OpFoldResult foldBinary(Operation *op, Attribute lhs, Attribute rhs,
                        llvm::function_ref<double(double, double)> fn);

/// A reduction that reduces nothing (only size-1 axes, keepdims) is a no-op.
OpFoldResult foldIdentityReduce(Operation *op, Value input);

/// Every statically shaped operand and result type of `op` has an element
/// count that fits int64 (Kiln sizes buffers and strides in int64).
LogicalResult verifyElementCounts(Operation *op);

/// The trait behind Kiln_ElementCountFits, which every kiln op carries.
template <typename ConcreteType>
class ElementCountFits
    : public OpTrait::TraitBase<ConcreteType, ElementCountFits> {
public:
  static LogicalResult verifyTrait(Operation *op) {
    return verifyElementCounts(op);
  }
};

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
