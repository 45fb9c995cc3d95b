//===- KilnReductionOps.td - Reductions over axes -------------------------===//
#ifndef KILN_REDUCTION_OPS_TD
#define KILN_REDUCTION_OPS_TD

include "kiln/Dialect/Kiln/IR/KilnBase.td"

def Kiln_SumOp : Kiln_ReduceOp<"sum", Kiln_NumericTensor>;
def Kiln_MeanOp : Kiln_ReduceOp<"mean", Kiln_FloatTensor>;
def Kiln_ReduceMaxOp : Kiln_ReduceOp<"reduce_max", Kiln_NumericTensor>;
def Kiln_ReduceMinOp : Kiln_ReduceOp<"reduce_min", Kiln_NumericTensor>;
def Kiln_ProdOp : Kiln_ReduceOp<"prod", Kiln_NumericTensor>;

/// Index of the largest/smallest element along one axis (first on ties).
class Kiln_ArgReduceOp<string mnemonic> : Kiln_InferredOp<mnemonic> {
  let arguments = (ins Kiln_NumericTensor:$input,
                       DefaultValuedAttr<I64Attr, "0">:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$keepdims);
  let results = (outs StaticShapeTensorOf<[I64]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      ::mlir::kiln::OpInference infer(loc, getOperationName(), adaptor);
      auto axis = infer.getI64("axis", 0);
      if (::mlir::failed(axis))
        return ::mlir::failure();
      auto keepdims = infer.getBool("keepdims", false);
      if (::mlir::failed(keepdims))
        return ::mlir::failure();
      return ::mlir::kiln::inferReduceResult(infer,
          adaptor.getInput().getType(), ::llvm::ArrayRef<int64_t>(*axis),
          *keepdims, /*indexResult=*/true, types);
    }
  }];
}
def Kiln_ArgMaxOp : Kiln_ArgReduceOp<"argmax">;
def Kiln_ArgMinOp : Kiln_ArgReduceOp<"argmin">;

#endif // KILN_REDUCTION_OPS_TD
