//===- KilnNNOps.td - Neural-network ops: matmul, conv, norms, losses -----===//
#ifndef KILN_NN_OPS_TD
#define KILN_NN_OPS_TD

include "kiln/Dialect/Kiln/IR/KilnBase.td"

def Kiln_MatmulOp : Kiln_InferredOp<"matmul",
    [AllElementTypesMatch<["lhs", "rhs", "result"]>]> {
  let summary = "batched matrix product with broadcast batch dims";
  let description = [{
    Operands have rank >= 2; leading dims broadcast; `transpose_lhs` and
    `transpose_rhs` swap the last two dims of an operand. A GEMM bias is an
    add after the matmul; fusion folds it into the library call.
  }];
  let arguments = (ins Kiln_NumericTensor:$lhs, Kiln_NumericTensor:$rhs,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_lhs,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_rhs);
  let results = (outs Kiln_NumericTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

def Kiln_Conv2DOp : Kiln_InferredOp<"conv2d",
    [AllElementTypesMatch<["input", "weight", "result"]>]> {
  let summary = "2-D convolution, NCHW input, OIHW weight, optional bias";
  let description = [{
    activation(conv2d(input, weight) + bias), with bias [F] (one value per
    output channel). `activation` is one of kiln.gemm's ("none", "relu",
    "relu6", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh");
    kiln-fuse-epilogues folds a single-use activation into it so that the
    library call (oneDNN's eltwise post-op) or Kiln's own kernel applies
    it in the same pass.

    `layout` says where the activations keep their channels: "nchw" (the
    default) or "nhwc" (input [N, H, W, C], result [N, oH, oW, F]); the
    weight is OIHW either way. kiln-conv-layout moves CPU convolution
    chains to NHWC.
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$weight,
                       Optional<Kiln_FloatTensor>:$bias,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$groups,
                       DefaultValuedStrAttr<StrAttr, "none">:$activation,
                       DefaultValuedStrAttr<StrAttr, "nchw">:$layout);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,` type($weight)
    (`,` type($bias)^)?
  }];
}

def Kiln_ConvTranspose2DOp : Kiln_InferredOp<"conv_transpose2d",
    [AllElementTypesMatch<["input", "weight", "result"]>]> {
  let summary = "2-D transposed convolution, weight [C_in, C_out/groups, kH, kW]";
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$weight,
                       Optional<Kiln_FloatTensor>:$bias,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$output_padding,
                       DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,` type($weight)
    (`,` type($bias)^)?
  }];
}

def Kiln_MaxPool2DOp : Kiln_InferredOp<"max_pool2d",
    [AllElementTypesMatch<["input", "result"]>]> {
  let summary = "2-D max pooling, NCHW (or NHWC: `layout`)";
  let description = [{
    `layout` is "nchw" (the default) or "nhwc", as for kiln.conv2d.
  }];
  let arguments = (ins Kiln_NumericTensor:$input,
                       DenseI64ArrayAttr:$kernel,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                       DefaultValuedStrAttr<StrAttr, "nchw">:$layout);
  let results = (outs Kiln_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_AvgPool2DOp : Kiln_InferredOp<"avg_pool2d",
    [AllElementTypesMatch<["input", "result"]>]> {
  let summary = "2-D average pooling, NCHW";
  let arguments = (ins Kiln_FloatTensor:$input,
                       DenseI64ArrayAttr:$kernel,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                       DefaultValuedAttr<BoolAttr, "false">:$count_include_pad);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_GlobalAvgPoolOp : Kiln_InferredOp<"global_avg_pool",
    [AllElementTypesMatch<["input", "result"]>]> {
  let summary = "mean over all spatial dims: [N, C, d...] -> [N, C, 1...]";
  let arguments = (ins Kiln_FloatTensor:$input);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_BatchNormOp : Kiln_Op<"batch_norm",
    [Pure, AllTypesMatch<["input", "result"]>,
     AllElementTypesMatch<["input", "scale"]>,
     AllTypesMatch<["scale", "bias", "mean", "variance"]>]> {
  let summary = "batch normalization, inference form, channels on dim 1";
  let description = [{
    scale * (input - mean) / sqrt(variance + epsilon) + bias, with the four
    per-channel operands of shape [C]. Training-mode statistics are computed
    by the autodiff and training passes, not by this op.
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$scale,
                       Kiln_FloatTensor:$bias, Kiln_FloatTensor:$mean,
                       Kiln_FloatTensor:$variance,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `,` $mean `,` $variance attr-dict `:`
    type($input) `,` type($scale)
  }];
  let hasVerifier = 1;
}

def Kiln_LayerNormOp : Kiln_Op<"layer_norm",
    [Pure, AllTypesMatch<["input", "result"]>,
     AllElementTypesMatch<["input", "scale", "result"]>]> {
  let summary = "normalizes over dims [axis, rank), then scale and bias";
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$scale,
                       Optional<Kiln_FloatTensor>:$bias,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? attr-dict `:` type($input) `,` type($scale)
    (`,` type($bias)^)?
  }];
  let hasVerifier = 1;
}

class Kiln_SoftmaxLikeOp<string mnemonic>
    : Kiln_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}
def Kiln_SoftmaxOp : Kiln_SoftmaxLikeOp<"softmax">;
def Kiln_LogSoftmaxOp : Kiln_SoftmaxLikeOp<"log_softmax">;

def Kiln_DropoutOp : Kiln_Op<"dropout", [Pure, SameOperandsAndResultType]> {
  let summary = "zeroes elements with probability `ratio` when training";
  let description = [{
    When `training` is true each element is kept with probability
    1 - ratio and scaled by 1 / (1 - ratio); the mask comes from a
    counter-based generator seeded by `seed`, so it does not depend on the
    thread count or the backend. When false the op is the identity.
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<F64Attr, "0.5">:$ratio,
                       DefaultValuedAttr<BoolAttr, "false">:$training,
                       DefaultValuedAttr<I64Attr, "0">:$seed);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_GatherOp : Kiln_InferredOp<"gather",
    [AllElementTypesMatch<["data", "result"]>]> {
  let summary = "takes slices of `data` along `axis` (embedding lookup: axis 0)";
  let arguments = (ins Kiln_Tensor:$data, Kiln_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat =
      "$data `,` $indices attr-dict `:` type($data) `,` type($indices)";
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Losses. reduction: "none" (per sample), "mean" or "sum" (a rank-0 tensor).
//===----------------------------------------------------------------------===//

def Kiln_CrossEntropyOp : Kiln_LossOp<"cross_entropy", Kiln_IndexTensor> {
  let summary = "softmax cross-entropy of logits [N, C] and labels [N]";
}
def Kiln_MseOp : Kiln_LossOp<"mse", Kiln_FloatTensor> {
  let summary = "mean squared error (per element with reduction none)";
}
def Kiln_BceWithLogitsOp : Kiln_LossOp<"bce_with_logits", Kiln_FloatTensor> {
  let summary = "binary cross-entropy on logits, numerically stable form";
}

#endif // KILN_NN_OPS_TD
