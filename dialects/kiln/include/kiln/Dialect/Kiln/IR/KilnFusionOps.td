//===- KilnFusionOps.td - Regions formed by the compiler ------------------===//
//
// Ops that the compiler introduces: a fused kernel region, its terminator,
// and a GEMM with its epilogue folded in. Frontends do not emit these.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_FUSION_OPS_TD
#define KILN_FUSION_OPS_TD

include "kiln/Dialect/Kiln/IR/KilnBase.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

def Kiln_FusionOp : Kiln_Op<"fusion", [IsolatedFromAbove,
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects]> {
  let summary = "a group of ops that becomes one generated kernel";
  let description = [{
    The body computes the results from the block arguments (one per input,
    same types) with kiln ops and ends with `kiln.yield`. `kind` says how the
    kernel iterates: "loop" (elementwise over the result shape) or
    "reduction" (its root reduces; elementwise producers are computed inside
    the reduction loop).

    ```mlir
    %r = kiln.fusion "loop" (%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
    ^bb0(%x: tensor<4xf32>, %y: tensor<4xf32>):
      %s = kiln.add %x, %y : tensor<4xf32>, tensor<4xf32>
      %e = kiln.exp %s : tensor<4xf32>
      kiln.yield %e : tensor<4xf32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$kind, Variadic<Kiln_Tensor>:$inputs);
  let results = (outs Variadic<Kiln_Tensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $kind `(` $inputs `)` attr-dict `:` functional-type($inputs, $results) $body
  }];
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::llvm::StringRef":$kind, "::mlir::ValueRange":$inputs,
                   "::mlir::TypeRange":$resultTypes)>
  ];
  let extraClassDeclaration = [{
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
  }];
}

def Kiln_YieldOp : Kiln_Op<"yield", [Pure, Terminator, ReturnLike,
    HasParent<"FusionOp">]> {
  let summary = "the results of a kiln.fusion body";
  let arguments = (ins Variadic<Kiln_Tensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ /* no values */ }]>];
}

def Kiln_GemmOp : Kiln_InferredOp<"gemm",
    [AllElementTypesMatch<["lhs", "rhs", "result"]>]> {
  let summary = "matmul with a bias and an activation applied in its epilogue";
  let description = [{
    activation(matmul(lhs, rhs) + bias), where bias has the result's last
    dim ([N]) and activation is one of "none", "relu", "relu6" (clip to
    [0, 6]), "gelu" (erf), "gelu_tanh", "silu", "sigmoid", "tanh". Formed
    by kiln-fuse-epilogues so that the library call (oneDNN post-ops,
    cuBLASLt epilogues) does it all.
  }];
  let arguments = (ins Kiln_FloatTensor:$lhs, Kiln_FloatTensor:$rhs,
                       Optional<Kiln_FloatTensor>:$bias,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_lhs,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_rhs,
                       DefaultValuedStrAttr<StrAttr, "none">:$activation);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`,` $bias^)? attr-dict `:` type($lhs) `,` type($rhs)
    (`,` type($bias)^)?
  }];
}

#endif // KILN_FUSION_OPS_TD
