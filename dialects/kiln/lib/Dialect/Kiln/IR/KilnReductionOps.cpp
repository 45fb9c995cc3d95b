//===- KilnReductionOps.cpp - sum, mean, reduce_max/min, prod, arg* -------===//
// Type inference and folding come from the Kiln_ReduceOp and
// Kiln_ArgReduceOp rows in ODS, through KilnTypeInference.cpp.
#include "KilnInference.h"

using namespace mlir;
using namespace mlir::kiln;

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnReductionOps.cpp.inc"
