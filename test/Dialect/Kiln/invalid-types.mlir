// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// The dialect's type rules: static shapes only, a fixed set of element
// types, ranked tensors, and no unknown ops.

// Dynamic dims are rejected on a unary op.
func.func @dynamic_unary(%x: tensor<?xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'kiln.exp' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<?xf32>'}}
  %0 = kiln.exp %x : tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// Dynamic dims are rejected on a parameter.
func.func @dynamic_parameter() -> tensor<?x4xf32> {
  // expected-error @+1 {{'kiln.parameter' op result #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer or 1-bit signless integer values, but got 'tensor<?x4xf32>'}}
  %0 = kiln.parameter "w" : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Dynamic dims are rejected on a binary op whose operands agree. Inference
// runs before the ODS type constraints and rejects the operand in the
// constraint's words (without its list of element types).
func.func @dynamic_binary(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{'kiln.add' op operand #0 must be statically shaped tensor, but got 'tensor<?x3xf32>'}}
  %0 = kiln.add %x, %x : tensor<?x3xf32>, tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// Dynamic dims are rejected as a reshape target.
func.func @dynamic_reshape(%x: tensor<2x3xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'kiln.reshape' op result #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer or 1-bit signless integer values, but got 'tensor<?xf32>'}}
  %0 = kiln.reshape %x : tensor<2x3xf32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// Unranked tensors are rejected (generic form).
func.func @unranked(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'kiln.relu' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer values, but got 'tensor<*xf32>'}}
  %0 = "kiln.relu"(%x) : (tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Unranked tensors are rejected by an inferred op's parser.
func.func @unranked_inferred(%x: tensor<*xf32>) {
  // expected-error @+1 {{custom op 'kiln.transpose' invalid kind of type specified}}
  %0 = kiln.transpose %x {permutation = array<i64: 0>} : tensor<*xf32>
  return
}

// -----

// Scalars are not tensors (rejected by the custom parser).
func.func @scalar(%x: f32) -> f32 {
  // expected-error @+1 {{custom op 'kiln.tanh' invalid kind of type specified}}
  %0 = kiln.tanh %x : f32
  return %0 : f32
}

// -----

// Vectors are not tensors (generic form, rejected by the verifier).
func.func @vector(%x: vector<4xf32>) -> vector<4xf32> {
  // expected-error @+1 {{'kiln.neg' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer values, but got 'vector<4xf32>'}}
  %0 = "kiln.neg"(%x) : (vector<4xf32>) -> vector<4xf32>
  return %0 : vector<4xf32>
}

// -----

// i16 is not a kiln element type.
func.func @i16(%x: tensor<3xi16>) -> tensor<3xi16> {
  // expected-error @+1 {{'kiln.relu' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer values, but got 'tensor<3xi16>'}}
  %0 = kiln.relu %x : tensor<3xi16>
  return %0 : tensor<3xi16>
}

// -----

// Unsigned integers are not kiln element types.
func.func @ui8(%x: tensor<3xui8>) -> tensor<3xui8> {
  // expected-error @+1 {{'kiln.abs' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer values, but got 'tensor<3xui8>'}}
  %0 = kiln.abs %x : tensor<3xui8>
  return %0 : tensor<3xui8>
}

// -----

// Explicitly signed integers are not kiln element types either.
func.func @si32(%x: tensor<3xsi32>) -> tensor<3xsi32> {
  // expected-error @+1 {{'kiln.neg' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer values, but got 'tensor<3xsi32>'}}
  %0 = kiln.neg %x : tensor<3xsi32>
  return %0 : tensor<3xsi32>
}

// -----

// fp8 is not a kiln element type.
func.func @f8(%x: tensor<3xf8E4M3FN>) -> tensor<3xf8E4M3FN> {
  // expected-error @+1 {{'kiln.exp' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<3xf8E4M3FN>'}}
  %0 = kiln.exp %x : tensor<3xf8E4M3FN>
  return %0 : tensor<3xf8E4M3FN>
}

// -----

// Complex numbers are not kiln element types.
func.func @complex(%x: tensor<3xcomplex<f32>>) -> tensor<3xcomplex<f32>> {
  // expected-error @+1 {{'kiln.parameter' op result #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer or 1-bit signless integer values, but got 'tensor<3xcomplex<f32>>'}}
  %0 = kiln.parameter "c" : tensor<3xcomplex<f32>>
  return %0 : tensor<3xcomplex<f32>>
}

// -----

// index is not a kiln element type (gather indices are i32 or i64).
func.func @index(%d: tensor<4xf32>, %i: tensor<2xindex>) -> tensor<2xf32> {
  // expected-error @+1 {{'kiln.gather' op operand #1 must be statically shaped tensor of 64-bit signless integer or 32-bit signless integer values, but got 'tensor<2xindex>'}}
  %0 = kiln.gather %d, %i : tensor<4xf32>, tensor<2xindex>
  return %0 : tensor<2xf32>
}

// -----

// tf32 is not a kiln float type.
func.func @tf32(%x: tensor<3xtf32>) -> tensor<3xtf32> {
  // expected-error @+1 {{'kiln.sigmoid' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<3xtf32>'}}
  %0 = kiln.sigmoid %x : tensor<3xtf32>
  return %0 : tensor<3xtf32>
}

// -----

// An op the dialect does not define.
func.func @unknown(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{custom op 'kiln.frobnicate' is unknown}}
  %0 = kiln.frobnicate %x : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// An unknown op in the generic form is also rejected: the dialect is loaded
// and does not allow unregistered ops.
func.func @unknown_generic(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{unregistered operation 'kiln.frobnicate' found in dialect ('kiln') that does not allow unknown operations}}
  %0 = "kiln.frobnicate"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// A dynamic dim against a static one: the operand is rejected before the
// broadcast rule could read kDynamic as a number (KNOWN_BUGS 23).
func.func @dynamic_vs_static(%x: tensor<?xf32>, %y: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.add' op operand #0 must be statically shaped tensor, but got 'tensor<?xf32>'}}
  %0 = kiln.add %x, %y : tensor<?xf32>, tensor<3xf32>
  return
}

// -----

// Same on the second operand, and on an op with attributes.
func.func @dynamic_second_operand(%x: tensor<2x3xf32>, %y: tensor<?x3xf32>) {
  // expected-error @+1 {{'kiln.matmul' op operand #1 must be statically shaped tensor, but got 'tensor<?x3xf32>'}}
  %0 = kiln.matmul %x, %y {transpose_rhs = true} : tensor<2x3xf32>, tensor<?x3xf32>
  return
}

// -----

// A non-tensor operand in the generic form is rejected, never cast to a
// tensor by inference.
func.func @non_tensor_operand(%x: i32) {
  // expected-error @+1 {{'kiln.add' op operand #0 must be statically shaped tensor of}}
  %0 = "kiln.add"(%x, %x) : (i32, i32) -> tensor<i32>
  return
}

// -----

// Dims that each fit int64 but whose element count (about 1e22) does not
// are rejected on every kiln op (KNOWN_BUGS 31).
func.func @huge_parameter() -> tensor<99999999999x99999999999xf32> {
  // expected-error @+1 {{'kiln.parameter' op result #0 of type 'tensor<99999999999x99999999999xf32>' has an element count that overflows int64}}
  %0 = kiln.parameter "w" : tensor<99999999999x99999999999xf32>
  return %0 : tensor<99999999999x99999999999xf32>
}

// -----

// The same on an operand of an op whose result type is inferred.
func.func @huge_operand(%x: tensor<99999999999x99999999999xf32>) {
  // expected-error @+1 {{'kiln.add' op operand #0 of type 'tensor<99999999999x99999999999xf32>' has an element count that overflows int64}}
  %0 = kiln.add %x, %x : tensor<99999999999x99999999999xf32>, tensor<99999999999x99999999999xf32>
  return
}

// -----

// And on a result that broadcasting makes too large (2^62 x 4 x 2): this
// used to reach the constant folder, whose element-count guard wrapped to 0
// (KNOWN_BUGS 21; bad-input.test runs it under --canonicalize).
func.func @huge_broadcast_result() {
  %a = kiln.constant dense<[1.0, 2.0]> : tensor<2xf32>
  // expected-error @+1 {{'kiln.constant' op result #0 of type 'tensor<4611686018427387904x4x2xf32>' has an element count that overflows int64}}
  %b = kiln.constant dense<1.0> : tensor<4611686018427387904x4x2xf32>
  return
}

// -----

// The largest count that fits is accepted.
func.func @largest_count(%x: tensor<3037000499x3037000499xf32>) -> tensor<3037000499x3037000499xf32> {
  %0 = kiln.exp %x : tensor<3037000499x3037000499xf32>
  return %0 : tensor<3037000499x3037000499xf32>
}
