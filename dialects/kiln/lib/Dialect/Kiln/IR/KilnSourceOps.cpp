//===- KilnSourceOps.cpp - constant, parameter, iota ----------------------===//
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Support/Shapes.h"

using namespace mlir;
namespace shapes = ::kiln::shapes;
using namespace mlir::kiln;

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnSourceOps.cpp.inc"

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

LogicalResult ParameterOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty name");
  return success();
}

LogicalResult IotaOp::verify() {
  auto type = getResult().getType();
  if (type.getRank() == 0)
    return emitOpError("needs a result of rank >= 1");
  // getAxis() is the I64Attr's uint64_t; the axis is signed.
  int64_t axis = getAxisAttr().getInt();
  if (!shapes::normalizeAxis(axis, type.getRank()))
    return emitOpError("axis ") << axis << " is out of range for rank "
                                << type.getRank();
  return success();
}
