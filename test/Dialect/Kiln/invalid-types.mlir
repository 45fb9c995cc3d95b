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

// Dynamic dims are rejected on a binary op whose operands agree.
func.func @dynamic_binary(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{'kiln.add' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer values, but got 'tensor<?x3xf32>'}}
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
