//===- OpClasses.cpp - How the compiler treats each kiln op ---------------===//
#include "OpClasses.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

OpClass mlir::kiln::classify(Operation *op) {
  // Expensive elementwise ops: one or more transcendental calls per element.
  if (isa<ExpOp, LogOp, SqrtOp, RsqrtOp, TanhOp, SigmoidOp, SiluOp, SoftplusOp,
          SinOp, CosOp, ErfOp, GeluOp, EluOp, PowOp, DivOp, DropoutOp>(op))
    return {OpRole::Elementwise, true};
  if (isa<NegOp, AbsOp, ReciprocalOp, ReluOp, FloorOp, CeilOp, RoundOp, SignOp,
          NotOp, LeakyReluOp, ClipOp, CastOp, AddOp, SubOp, MulOp, MaxOp,
          MinOp, EqOp, NeOp, LtOp, LeOp, GtOp, GeOp, AndOp, OrOp, XorOp,
          SelectOp, BroadcastToOp>(op))
    return {OpRole::Elementwise, false};
  if (isa<SumOp, MeanOp, ReduceMaxOp, ReduceMinOp, ProdOp, ArgMaxOp, ArgMinOp,
          SoftmaxOp, LogSoftmaxOp, LayerNormOp>(op))
    return {OpRole::Reduction, true};
  if (isa<MatmulOp, GemmOp, Conv2DOp, ConvTranspose2DOp>(op))
    return {OpRole::Library, true};
  if (isa<ReshapeOp, ExpandDimsOp, SqueezeOp>(op))
    return {OpRole::View, false};
  if (isa<ConstantOp, ParameterOp>(op))
    return {OpRole::Source, false};
  return {OpRole::Other, true};
}
