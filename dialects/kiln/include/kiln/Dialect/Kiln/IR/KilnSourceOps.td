//===- KilnSourceOps.td - Ops that produce tensors from nothing -----------===//
#ifndef KILN_SOURCE_OPS_TD
#define KILN_SOURCE_OPS_TD

include "kiln/Dialect/Kiln/IR/KilnBase.td"

def Kiln_ConstantOp : Kiln_Op<"constant", [Pure, ConstantLike,
    AllTypesMatch<["value", "result"]>]> {
  let summary = "a tensor literal";
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

def Kiln_ParameterOp : Kiln_Op<"parameter", [Pure]> {
  let summary = "a named model parameter (a weight), trainable or frozen";
  let description = [{
    The value comes from the model's weights, not from the graph. A parameter
    used by several ops is how weight sharing is expressed: each use reads
    the same tensor and, in training, their gradients are summed.

    ```mlir
    %w = kiln.parameter "fc1.weight" : tensor<784x128xf32>
    %e = kiln.parameter "embed" {trainable = false} : tensor<1000x64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name,
                       DefaultValuedAttr<BoolAttr, "true">:$trainable);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Kiln_IotaOp : Kiln_Op<"iota", [Pure]> {
  let summary = "start + step * index along `axis` (arange)";
  let description = [{
    ```mlir
    %r = kiln.iota {axis = 0 : i64} : tensor<5xi64>              // 0 1 2 3 4
    %s = kiln.iota {axis = 1 : i64, start = 1.0, step = 0.5} : tensor<2x3xf32>
    ```
  }];
  let arguments = (ins DefaultValuedAttr<I64Attr, "0">:$axis,
                       DefaultValuedAttr<F64Attr, "0.0">:$start,
                       DefaultValuedAttr<F64Attr, "1.0">:$step);
  let results = (outs Kiln_NumericTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

#endif // KILN_SOURCE_OPS_TD
