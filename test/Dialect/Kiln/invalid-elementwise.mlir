// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Verifier rules and inference errors of the elementwise family.

// Float-only unary ops reject integers.
func.func @exp_i32(%x: tensor<3xi32>) -> tensor<3xi32> {
  // expected-error @+1 {{'kiln.exp' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<3xi32>'}}
  %0 = kiln.exp %x : tensor<3xi32>
  return %0 : tensor<3xi32>
}

// -----

// Signed unary ops reject i1.
func.func @neg_i1(%x: tensor<3xi1>) -> tensor<3xi1> {
  // expected-error @+1 {{'kiln.neg' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer values, but got 'tensor<3xi1>'}}
  %0 = kiln.neg %x : tensor<3xi1>
  return %0 : tensor<3xi1>
}

// -----

// Logical not is i1 only.
func.func @not_f32(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.not' op operand #0 must be statically shaped tensor of 1-bit signless integer values, but got 'tensor<3xf32>'}}
  %0 = kiln.not %x : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// A unary op keeps its type (generic form with another result type).
func.func @unary_result_type(%x: tensor<3xf32>) -> tensor<3xf16> {
  // expected-error @+1 {{'kiln.tanh' op requires the same type for all operands and results}}
  %0 = "kiln.tanh"(%x) : (tensor<3xf32>) -> tensor<3xf16>
  return %0 : tensor<3xf16>
}

// -----

// gelu's approximation is "none" or "tanh".
func.func @gelu_bad_approximate(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.gelu' op approximate must be "none" or "tanh", got "erf"}}
  %0 = kiln.gelu %x {approximate = "erf"} : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// leaky_relu is float-only.
func.func @leaky_relu_int(%x: tensor<3xi32>) -> tensor<3xi32> {
  // expected-error @+1 {{'kiln.leaky_relu' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<3xi32>'}}
  %0 = kiln.leaky_relu %x : tensor<3xi32>
  return %0 : tensor<3xi32>
}

// -----

// elu's alpha is an f64 attribute.
func.func @elu_alpha_not_float(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.elu' op attribute 'alpha' failed to satisfy constraint: 64-bit float attribute}}
  %0 = kiln.elu %x {alpha = 1 : i64} : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// clip bounds must be ordered.
func.func @clip_min_above_max(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.clip' op min 2.000000e+00 is greater than max 1.000000e+00}}
  %0 = kiln.clip %x {min = 2.0 : f64, max = 1.0 : f64} : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// clip has no meaning on booleans.
func.func @clip_i1(%x: tensor<3xi1>) -> tensor<3xi1> {
  // expected-error @+1 {{'kiln.clip' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer values, but got 'tensor<3xi1>'}}
  %0 = kiln.clip %x {min = 0.0 : f64} : tensor<3xi1>
  return %0 : tensor<3xi1>
}

// -----

// cast changes the element type, never the shape.
func.func @cast_shape_change(%x: tensor<2x3xf32>) -> tensor<6xf16> {
  // expected-error @+1 {{'kiln.cast' op requires the same shape for all operands and results}}
  %0 = kiln.cast %x : tensor<2x3xf32> -> tensor<6xf16>
  return %0 : tensor<6xf16>
}

// -----

// cast to an element type the dialect does not support.
func.func @cast_to_i16(%x: tensor<3xf32>) -> tensor<3xi16> {
  // expected-error @+1 {{'kiln.cast' op result #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer or 1-bit signless integer values, but got 'tensor<3xi16>'}}
  %0 = kiln.cast %x : tensor<3xf32> -> tensor<3xi16>
  return %0 : tensor<3xi16>
}

// -----

// Binary operands share one element type.
func.func @add_f32_f16(%a: tensor<3xf32>, %b: tensor<3xf16>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.add' op failed to verify that all of {lhs, rhs} have same element type}}
  %0 = kiln.add %a, %b : tensor<3xf32>, tensor<3xf16>
  return %0 : tensor<3xf32>
}

// -----

// Shapes that do not broadcast (inference error, names the dimension).
func.func @add_no_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.add' op shapes [2, 3] and [4] do not broadcast (dimension 1: 3 vs 4)}}
  %0 = kiln.add %a, %b : tensor<2x3xf32>, tensor<4xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Broadcast mismatch in a leading dim of a comparison.
func.func @lt_no_broadcast(%a: tensor<2x1xi32>, %b: tensor<3x5xi32>) -> tensor<3x5xi1> {
  // expected-error @+1 {{'kiln.lt' op shapes [2, 1] and [3, 5] do not broadcast (dimension 0: 2 vs 3)}}
  %0 = kiln.lt %a, %b : tensor<2x1xi32>, tensor<3x5xi32>
  return %0 : tensor<3x5xi1>
}

// -----

// Arithmetic binary ops reject i1.
func.func @add_i1(%a: tensor<3xi1>) -> tensor<3xi1> {
  // expected-error @+1 {{'kiln.add' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer values, but got 'tensor<3xi1>'}}
  %0 = kiln.add %a, %a : tensor<3xi1>, tensor<3xi1>
  return %0 : tensor<3xi1>
}

// -----

// Ordered comparisons reject i1.
func.func @gt_i1(%a: tensor<3xi1>) -> tensor<3xi1> {
  // expected-error @+1 {{'kiln.gt' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer values, but got 'tensor<3xi1>'}}
  %0 = kiln.gt %a, %a : tensor<3xi1>, tensor<3xi1>
  return %0 : tensor<3xi1>
}

// -----

// Logical ops are i1 only.
func.func @and_f32(%a: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.and' op operand #0 must be statically shaped tensor of 1-bit signless integer values, but got 'tensor<3xf32>'}}
  %0 = kiln.and %a, %a : tensor<3xf32>, tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// A comparison yields i1: a generic op claiming f32 is rejected.
func.func @eq_wrong_result(%a: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+2 {{'kiln.eq' op failed to infer returned types}}
  // expected-error @+1 {{'kiln.eq' op inferred type(s) 'tensor<3xi1>' are incompatible with return type(s) of operation 'tensor<3xf32>'}}
  %0 = "kiln.eq"(%a, %a) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// A binary op's result has the broadcast shape: a generic op claiming
// another shape is rejected.
func.func @add_wrong_result_shape(%a: tensor<3xf32>, %b: tensor<2x3xf32>) -> tensor<3xf32> {
  // expected-error @+2 {{'kiln.add' op failed to infer returned types}}
  // expected-error @+1 {{'kiln.add' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<3xf32>'}}
  %0 = "kiln.add"(%a, %b) : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// select needs an i1 condition.
func.func @select_cond_f32(%c: tensor<3xf32>, %a: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.select' op operand #0 must be statically shaped tensor of 1-bit signless integer values, but got 'tensor<3xf32>'}}
  %0 = kiln.select %c, %a, %a : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// select's two branches share one element type.
func.func @select_branch_types(%c: tensor<3xi1>, %a: tensor<3xf32>, %b: tensor<3xi32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.select' op failed to verify that all of {on_true, on_false, result} have same element type}}
  %0 = kiln.select %c, %a, %b : tensor<3xi1>, tensor<3xf32>, tensor<3xi32>
  return %0 : tensor<3xf32>
}

// -----

// select's three operands must broadcast together.
func.func @select_no_broadcast(%c: tensor<4xi1>, %a: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.select' op shapes [4] and [3] do not broadcast (dimension 0: 4 vs 3)}}
  %0 = kiln.select %c, %a, %a : tensor<4xi1>, tensor<3xf32>, tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// A NaN bound is rejected: `min > max` is false for NaN (KNOWN_BUGS 30).
func.func @clip_nan_min(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.clip' op min must not be NaN}}
  %0 = kiln.clip %x {min = 0x7FF8000000000000 : f64, max = 1.0 : f64} : tensor<2x3xf32>
  return
}

// -----

// Also when it is the only bound.
func.func @clip_nan_max(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.clip' op max must not be NaN}}
  %0 = kiln.clip %x {max = 0x7FF8000000000000 : f64} : tensor<2x3xf32>
  return
}

// -----

// A predicate's attribute-free inference still checks its operands.
func.func @select_dynamic_cond(%c: tensor<?xi1>, %x: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.select' op operand #0 must be statically shaped tensor, but got 'tensor<?xi1>'}}
  %0 = kiln.select %c, %x, %x : tensor<?xi1>, tensor<3xf32>, tensor<3xf32>
  return
}
