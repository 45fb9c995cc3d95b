//===- KilnElementwiseOps.td - Elementwise kiln ops -----------------------===//
//
// One row per op: mnemonic, accepted types, defining scalar expression.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ELEMENTWISE_OPS_TD
#define KILN_ELEMENTWISE_OPS_TD

include "kiln/Dialect/Kiln/IR/KilnBase.td"

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

def Kiln_NegOp : Kiln_UnaryOp<"neg", Kiln_SignedTensor, "-x">;
def Kiln_AbsOp : Kiln_UnaryOp<"abs", Kiln_SignedTensor, "std::fabs(x)">;
def Kiln_ExpOp : Kiln_UnaryOp<"exp", Kiln_FloatTensor, "std::exp(x)">;
def Kiln_LogOp : Kiln_UnaryOp<"log", Kiln_FloatTensor, "std::log(x)">;
def Kiln_SqrtOp : Kiln_UnaryOp<"sqrt", Kiln_FloatTensor, "std::sqrt(x)">;
def Kiln_RsqrtOp : Kiln_UnaryOp<"rsqrt", Kiln_FloatTensor, "1.0 / std::sqrt(x)">;
def Kiln_ReciprocalOp : Kiln_UnaryOp<"reciprocal", Kiln_FloatTensor, "1.0 / x">;
def Kiln_TanhOp : Kiln_UnaryOp<"tanh", Kiln_FloatTensor, "std::tanh(x)">;
def Kiln_SigmoidOp : Kiln_UnaryOp<"sigmoid", Kiln_FloatTensor,
                                  "1.0 / (1.0 + std::exp(-x))">;
def Kiln_ReluOp : Kiln_UnaryOp<"relu", Kiln_SignedTensor, "x > 0 ? x : 0.0">;
def Kiln_SiluOp : Kiln_UnaryOp<"silu", Kiln_FloatTensor,
                               "x / (1.0 + std::exp(-x))">;
def Kiln_SoftplusOp : Kiln_UnaryOp<"softplus", Kiln_FloatTensor,
    "x > 20.0 ? x : std::log1p(std::exp(x))">;
def Kiln_SinOp : Kiln_UnaryOp<"sin", Kiln_FloatTensor, "std::sin(x)">;
def Kiln_CosOp : Kiln_UnaryOp<"cos", Kiln_FloatTensor, "std::cos(x)">;
def Kiln_ErfOp : Kiln_UnaryOp<"erf", Kiln_FloatTensor, "std::erf(x)">;
def Kiln_FloorOp : Kiln_UnaryOp<"floor", Kiln_FloatTensor, "std::floor(x)">;
def Kiln_CeilOp : Kiln_UnaryOp<"ceil", Kiln_FloatTensor, "std::ceil(x)">;
// Rounds half to even, as ONNX Round and numpy.round do.
def Kiln_RoundOp : Kiln_UnaryOp<"round", Kiln_FloatTensor, "std::nearbyint(x)">;
def Kiln_SignOp : Kiln_UnaryOp<"sign", Kiln_SignedTensor,
                               "x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0)">;
def Kiln_NotOp : Kiln_UnaryOp<"not", Kiln_BoolTensor, "x == 0 ? 1.0 : 0.0">;

def Kiln_LeakyReluOp : Kiln_Op<"leaky_relu",
    [Pure, SameOperandsAndResultType, Elementwise]> {
  let summary = "x if x >= 0 else alpha * x";
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<F64Attr, "0.01">:$alpha);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_EluOp : Kiln_Op<"elu", [Pure, SameOperandsAndResultType, Elementwise]> {
  let summary = "x if x > 0 else alpha * (exp(x) - 1)";
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<F64Attr, "1.0">:$alpha);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_GeluOp : Kiln_Op<"gelu", [Pure, SameOperandsAndResultType, Elementwise]> {
  let summary = "Gaussian error linear unit, exact (erf) or tanh form";
  let description = [{
    `approximate = "none"`: x * 0.5 * (1 + erf(x / sqrt(2))).
    `approximate = "tanh"`: x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))).
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Kiln_ClipOp : Kiln_Op<"clip", [Pure, SameOperandsAndResultType, Elementwise]> {
  let summary = "clamps to [min, max]; either bound may be absent";
  let arguments = (ins Kiln_NumericTensor:$input,
                       OptionalAttr<F64Attr>:$min,
                       OptionalAttr<F64Attr>:$max);
  let results = (outs Kiln_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_CastOp : Kiln_Op<"cast", [Pure, SameOperandsAndResultShape, Elementwise]> {
  let summary = "converts the element type";
  let description = [{
    Float to integer truncates toward zero; to i1 tests for non-zero.
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Binary, with numpy broadcasting
//===----------------------------------------------------------------------===//

def Kiln_AddOp : Kiln_BinaryOp<"add", Kiln_NumericTensor, "same", "x + y", [Commutative]>;
def Kiln_SubOp : Kiln_BinaryOp<"sub", Kiln_NumericTensor, "same", "x - y">;
def Kiln_MulOp : Kiln_BinaryOp<"mul", Kiln_NumericTensor, "same", "x * y", [Commutative]>;
// Integer division truncates toward zero (C and ONNX semantics).
def Kiln_DivOp : Kiln_BinaryOp<"div", Kiln_NumericTensor, "same", "x / y">;
def Kiln_PowOp : Kiln_BinaryOp<"pow", Kiln_NumericTensor, "same", "std::pow(x, y)">;
def Kiln_MaxOp : Kiln_BinaryOp<"max", Kiln_NumericTensor, "same", "std::max(x, y)", [Commutative]>;
def Kiln_MinOp : Kiln_BinaryOp<"min", Kiln_NumericTensor, "same", "std::min(x, y)", [Commutative]>;

def Kiln_EqOp : Kiln_BinaryOp<"eq", Kiln_Tensor, "i1", "x == y", [Commutative]>;
def Kiln_NeOp : Kiln_BinaryOp<"ne", Kiln_Tensor, "i1", "x != y", [Commutative]>;
def Kiln_LtOp : Kiln_BinaryOp<"lt", Kiln_NumericTensor, "i1", "x < y">;
def Kiln_LeOp : Kiln_BinaryOp<"le", Kiln_NumericTensor, "i1", "x <= y">;
def Kiln_GtOp : Kiln_BinaryOp<"gt", Kiln_NumericTensor, "i1", "x > y">;
def Kiln_GeOp : Kiln_BinaryOp<"ge", Kiln_NumericTensor, "i1", "x >= y">;

def Kiln_AndOp : Kiln_BinaryOp<"and", Kiln_BoolTensor, "same",
                               "(x != 0) && (y != 0)", [Commutative]>;
def Kiln_OrOp : Kiln_BinaryOp<"or", Kiln_BoolTensor, "same",
                              "(x != 0) || (y != 0)", [Commutative]>;
def Kiln_XorOp : Kiln_BinaryOp<"xor", Kiln_BoolTensor, "same",
                               "(x != 0) != (y != 0)", [Commutative]>;

def Kiln_SelectOp : Kiln_InferredOp<"select", [
    AllElementTypesMatch<["on_true", "on_false", "result"]>]> {
  let summary = "cond ? on_true : on_false, with three-way broadcasting";
  let arguments = (ins Kiln_BoolTensor:$cond, Kiln_Tensor:$on_true,
                       Kiln_Tensor:$on_false);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $cond `,` $on_true `,` $on_false attr-dict `:`
    type($cond) `,` type($on_true) `,` type($on_false)
  }];
  let hasFolder = 1;
}

#endif // KILN_ELEMENTWISE_OPS_TD
