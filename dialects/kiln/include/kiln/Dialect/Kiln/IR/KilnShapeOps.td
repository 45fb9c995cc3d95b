//===- KilnShapeOps.td - Ops that move data without computing on it -------===//
#ifndef KILN_SHAPE_OPS_TD
#define KILN_SHAPE_OPS_TD

include "kiln/Dialect/Kiln/IR/KilnBase.td"

def Kiln_ReshapeOp : Kiln_Op<"reshape", [Pure,
    AllElementTypesMatch<["input", "result"]>]> {
  let summary = "same elements in row-major order, new shape (the result type)";
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_TransposeOp : Kiln_InferredOp<"transpose",
    [AllElementTypesMatch<["input", "result"]>]> {
  let summary = "permutes dims: result dim i is input dim permutation[i]";
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_BroadcastToOp : Kiln_Op<"broadcast_to", [Pure,
    AllElementTypesMatch<["input", "result"]>]> {
  let summary = "numpy broadcast to the result type's shape";
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_ConcatOp : Kiln_InferredOp<"concat",
    [SameOperandsElementType, SameOperandsAndResultElementType]> {
  let summary = "joins tensors along `axis`";
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs)";
  let hasFolder = 1;
}

def Kiln_SliceOp : Kiln_InferredOp<"slice",
    [AllElementTypesMatch<["input", "result"]>]> {
  let summary = "Python slicing: one start, end and step per dim";
  let description = [{
    Negative starts and ends count from the end and are clamped, as in
    Python; steps may be negative but not zero. An empty `steps` means 1
    for every dim.
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$ends,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$steps);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_PadOp : Kiln_InferredOp<"pad",
    [AllElementTypesMatch<["input", "result"]>]> {
  let summary = "constant padding: pads = [low_0 .. low_n-1, high_0 .. high_n-1]";
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$pads,
                       DefaultValuedAttr<F64Attr, "0.0">:$value);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def Kiln_SplitOp : Kiln_InferredOp<"split", []> {
  let summary = "cuts a tensor along `axis` into pieces of the given sizes";
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis,
                       DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<Kiln_Tensor>:$results);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_ExpandDimsOp : Kiln_InferredOp<"expand_dims",
    [AllElementTypesMatch<["input", "result"]>]> {
  let summary = "inserts size-1 dims at `axes` (positions in the result)";
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasCanonicalizer = 1;
}

def Kiln_SqueezeOp : Kiln_InferredOp<"squeeze",
    [AllElementTypesMatch<["input", "result"]>]> {
  let summary = "removes size-1 dims at `axes` (empty: every size-1 dim)";
  let arguments = (ins Kiln_Tensor:$input,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axes);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasCanonicalizer = 1;
}

def Kiln_OneHotOp : Kiln_Op<"one_hot", [Pure]> {
  let summary = "indices -> one-hot vectors of length `depth` at `axis`";
  let description = [{
    The result type carries the element type of the on/off values; its shape
    must be the indices' shape with `depth` inserted at `axis`. Indices out of
    [0, depth) give an all-off vector.
  }];
  let arguments = (ins Kiln_IndexTensor:$indices, I64Attr:$depth,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F64Attr, "1.0">:$on_value,
                       DefaultValuedAttr<F64Attr, "0.0">:$off_value);
  let results = (outs Kiln_NumericTensor:$result);
  let assemblyFormat = "$indices attr-dict `:` type($indices) `->` type($result)";
  let hasVerifier = 1;
}

#endif // KILN_SHAPE_OPS_TD
