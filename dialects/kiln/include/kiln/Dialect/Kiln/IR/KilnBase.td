//===- KilnBase.td - The kiln dialect, its types and op base classes ------===//
//
// The `kiln` dialect is Kiln's graph IR: ops on ranked tensors with static
// shapes and value semantics. Every frontend (ONNX, MLIR text, the C++
// builder) produces it and every backend consumes it.
//
// The op base classes here are the op property table: a unary op is one line
// giving its name, the element types it accepts and the scalar expression
// that defines it (used for constant folding); a binary op likewise.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_BASE_TD
#define KILN_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def Kiln_Dialect : Dialect {
  let name = "kiln";
  let cppNamespace = "::mlir::kiln";
  let summary = "Kiln's tensor graph dialect";
  let description = [{
    Ops on statically shaped tensors with value semantics. Element types are
    f64, f32, f16, bf16, i64, i32, i8 and i1. Binary elementwise ops follow
    numpy broadcasting. Axes may be given negative (counted from the end).
  }];
  let hasConstantMaterializer = 1;
  // Attributes stay in the attribute dictionary: with properties, MLIR 19
  // parses `{...}` into the dictionary and leaves the properties empty when
  // inferReturnTypes runs, so inference would see no attributes at all.
  let usePropertiesForAttributes = 0;
}

//===----------------------------------------------------------------------===//
// Element and tensor types
//===----------------------------------------------------------------------===//

def Kiln_FloatElement : AnyTypeOf<[F64, F32, F16, BF16]>;
def Kiln_IntElement : AnyTypeOf<[I64, I32, I8]>;
def Kiln_NumericElement : AnyTypeOf<[F64, F32, F16, BF16, I64, I32, I8]>;
def Kiln_AnyElement : AnyTypeOf<[F64, F32, F16, BF16, I64, I32, I8, I1]>;

def Kiln_Tensor : StaticShapeTensorOf<[Kiln_AnyElement]>;
def Kiln_FloatTensor : StaticShapeTensorOf<[Kiln_FloatElement]>;
def Kiln_NumericTensor : StaticShapeTensorOf<[Kiln_NumericElement]>;
def Kiln_SignedTensor : StaticShapeTensorOf<[F64, F32, F16, BF16, I64, I32, I8]>;
def Kiln_IndexTensor : StaticShapeTensorOf<[I64, I32]>;
def Kiln_BoolTensor : StaticShapeTensorOf<[I1]>;

//===----------------------------------------------------------------------===//
// Base op classes
//===----------------------------------------------------------------------===//

/// Element counts of kiln tensors must fit int64: tensor<99999999999x
/// 99999999999xf32> parses (each dim fits) but no buffer, stride or fold can
/// describe it. Checked on every operand and result of every kiln op.
def Kiln_ElementCountFits : NativeOpTrait<"ElementCountFits"> {
  let cppNamespace = "::mlir::kiln";
}

class Kiln_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kiln_Dialect, mnemonic, !listconcat(traits, [Kiln_ElementCountFits])>;

/// An op whose result type follows from its operands and attributes through
/// `inferReturnTypes` (users do not write result types).
class Kiln_InferredOp<string mnemonic, list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat([Pure, InferTypeOpAdaptor], traits)>;

/// Unary elementwise op on `operandType`. `scalarExpr` is a C++ expression
/// over `double x` defining the op; it drives constant folding (and is the
/// same formula as the runtime's reference kernel). Empty: no folding.
class Kiln_UnaryOp<string mnemonic, Type operandType, string scalarExpr,
                   list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType,
                                     Elementwise], traits)> {
  let arguments = (ins operandType:$input);
  let results = (outs operandType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = !ne(scalarExpr, "");
  let extraClassDefinition = !if(!ne(scalarExpr, ""), [{
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor adaptor) {
      return ::mlir::kiln::foldUnary(*this, adaptor.getInput(),
                                     [](double x) -> double { return }] #
                                     scalarExpr # [{; });
    }
  }], "");
}

/// Binary elementwise op with numpy broadcasting. The result has the
/// broadcast shape and `resultElement` ("same": the operands' element type,
/// "i1": a predicate). `scalarExpr` over `double x, y` drives folding.
class Kiln_BinaryOp<string mnemonic, Type operandType, string resultElement,
                    string scalarExpr, list<Trait> traits = []>
    : Kiln_InferredOp<mnemonic, !listconcat([
          AllElementTypesMatch<["lhs", "rhs"]>], traits)> {
  let arguments = (ins operandType:$lhs, operandType:$rhs);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return ::mlir::kiln::inferBroadcastResult(
          ::mlir::kiln::OpInference(loc, getOperationName(), adaptor),
          adaptor.getLhs().getType(), adaptor.getRhs().getType(),
          /*predicate=*/}] # !if(!eq(resultElement, "i1"), "true", "false") # [{,
          types);
    }
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor adaptor) {
      return ::mlir::kiln::foldBinary(*this, adaptor.getLhs(), adaptor.getRhs(),
          [](double x, double y) -> double { return }] # scalarExpr # [{; });
    }
  }];
}

/// Reduction over `axes` (empty: all axes) with `keepdims`.
class Kiln_ReduceOp<string mnemonic, Type operandType>
    : Kiln_InferredOp<mnemonic> {
  let arguments = (ins operandType:$input,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axes,
                       DefaultValuedAttr<BoolAttr, "false">:$keepdims);
  let results = (outs operandType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      ::mlir::kiln::OpInference infer(loc, getOperationName(), adaptor);
      auto axes = infer.getI64Array("axes", {});
      if (::mlir::failed(axes))
        return ::mlir::failure();
      auto keepdims = infer.getBool("keepdims", false);
      if (::mlir::failed(keepdims))
        return ::mlir::failure();
      return ::mlir::kiln::inferReduceResult(infer,
          adaptor.getInput().getType(), *axes, *keepdims,
          /*indexResult=*/false, types);
    }
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor) {
      return ::mlir::kiln::foldIdentityReduce(*this, getInput());
    }
  }];
}

/// A loss over (prediction, target) with reduction "none", "mean" or "sum".
class Kiln_LossOp<string mnemonic, Type targetType>
    : Kiln_InferredOp<mnemonic> {
  let arguments = (ins Kiln_FloatTensor:$input, targetType:$target,
                       DefaultValuedStrAttr<StrAttr, "mean">:$reduction);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $target attr-dict `:` type($input) `,` type($target)";
}

#endif // KILN_BASE_TD
