//===- KilnFusionOps.cpp - fusion regions and epilogue-fused GEMM ---------===//
#include "KilnInference.h"

using namespace mlir;
using namespace mlir::kiln;
namespace shapes = ::kiln::shapes;

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnFusionOps.cpp.inc"

void FusionOp::build(OpBuilder &builder, OperationState &state, StringRef kind,
                     ValueRange inputs, TypeRange resultTypes) {
  state.addAttribute(getKindAttrName(state.name), builder.getStringAttr(kind));
  state.addOperands(inputs);
  state.addTypes(resultTypes);
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  for (Value v : inputs)
    block->addArgument(v.getType(), v.getLoc());
}

LogicalResult FusionOp::verify() {
  if (getKind() != "loop" && getKind() != "reduction")
    return emitOpError("kind must be \"loop\" or \"reduction\", got \"")
           << getKind() << "\"";
  Block &block = getBodyBlock();
  if (block.getNumArguments() != getInputs().size())
    return emitOpError("body has ") << block.getNumArguments()
                                    << " arguments for " << getInputs().size()
                                    << " inputs";
  for (auto [i, pair] : llvm::enumerate(
           llvm::zip(block.getArgumentTypes(), getInputs().getTypes())))
    if (std::get<0>(pair) != std::get<1>(pair))
      return emitOpError("body argument ")
             << i << " has type " << std::get<0>(pair) << ", input has "
             << std::get<1>(pair);
  auto yield = cast<YieldOp>(block.getTerminator());
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError("yields ")
           << yield.getValues().size() << " values whose types differ from "
           << "the " << getNumResults() << " results";
  for (Operation &op : block.without_terminator())
    if (isa<FusionOp, ParameterOp>(op))
      return op.emitOpError("cannot appear inside a kiln.fusion body");
  return success();
}

LogicalResult GemmOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor a, SmallVectorImpl<Type> &types) {
  OpInference infer(loc, getOperationName(), a);
  if (failed(infer.checkOperands()))
    return failure();
  auto transposeLhs = infer.getBool("transpose_lhs", false);
  auto transposeRhs = infer.getBool("transpose_rhs", false);
  auto activation = infer.getString("activation", "none");
  if (failed(transposeLhs) || failed(transposeRhs) || failed(activation))
    return failure();
  auto l = cast<RankedTensorType>(a.getLhs().getType());
  auto r = cast<RankedTensorType>(a.getRhs().getType());
  shapes::ShapeOr out = shapes::matmul(l.getShape(), r.getShape(),
                                       *transposeLhs, *transposeRhs);
  if (!out)
    return infer.emitError(out.message());
  if (Value bias = a.getBias()) {
    auto b = cast<RankedTensorType>(bias.getType());
    if (b.getElementType() != l.getElementType())
      return infer.emitError("bias element type ", b.getElementType(),
                             " must match the operands' ", l.getElementType());
    if (b.getRank() != 1 || b.getDimSize(0) != out.value().back())
      return infer.emitError("bias must have shape [", out.value().back(),
                             "] (the result's last dim), got ", b);
  }
  if (failed(checkActivation(infer, *activation)))
    return failure();
  return infer.push(out, l.getElementType(), types);
}
