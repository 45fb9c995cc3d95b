//===- KilnDialect.cpp - Registration of the kiln dialect -----------------===//
#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

#include "kiln/Dialect/Kiln/IR/KilnDialect.cpp.inc"

void KilnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "kiln/Dialect/Kiln/IR/KilnSourceOps.cpp.inc"
      ,
#define GET_OP_LIST
#include "kiln/Dialect/Kiln/IR/KilnElementwiseOps.cpp.inc"
      ,
#define GET_OP_LIST
#include "kiln/Dialect/Kiln/IR/KilnReductionOps.cpp.inc"
      ,
#define GET_OP_LIST
#include "kiln/Dialect/Kiln/IR/KilnNNOps.cpp.inc"
      ,
#define GET_OP_LIST
#include "kiln/Dialect/Kiln/IR/KilnShapeOps.cpp.inc"
      ,
#define GET_OP_LIST
#include "kiln/Dialect/Kiln/IR/KilnFusionOps.cpp.inc"
      >();
}

/// Folds produce ElementsAttr values; they become kiln.constant ops.
Operation *KilnDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, type, elements);
}
