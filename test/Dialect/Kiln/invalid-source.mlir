// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Verifier rules of the source family: constant, parameter, iota.

// A parameter needs a name to be looked up in the weights.
func.func @parameter_empty_name() -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.parameter' op needs a non-empty name}}
  %0 = kiln.parameter "" : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// trainable must be a bool.
func.func @parameter_trainable_not_bool() -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.parameter' op attribute 'trainable' failed to satisfy constraint: bool attribute}}
  %0 = kiln.parameter "w" {trainable = 1 : i64} : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// A parameter without a name in the generic form.
func.func @parameter_missing_name() -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.parameter' op requires attribute 'name'}}
  %0 = "kiln.parameter"() : () -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// iota counts along an axis, so it cannot produce a rank-0 tensor.
func.func @iota_rank0() -> tensor<i64> {
  // expected-error @+1 {{'kiln.iota' op needs a result of rank >= 1}}
  %0 = kiln.iota : tensor<i64>
  return %0 : tensor<i64>
}

// -----

// iota axis past the last dim.
func.func @iota_axis_too_large() -> tensor<2x3xi64> {
  // expected-error @+1 {{'kiln.iota' op axis 2 is out of range for rank 2}}
  %0 = kiln.iota {axis = 2 : i64} : tensor<2x3xi64>
  return %0 : tensor<2x3xi64>
}

// -----

// iota of booleans is not defined.
func.func @iota_i1() -> tensor<4xi1> {
  // expected-error @+1 {{'kiln.iota' op result #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer values, but got 'tensor<4xi1>'}}
  %0 = kiln.iota : tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

// The constant's value and result types must agree (generic form).
func.func @constant_type_mismatch() -> tensor<2xf32> {
  // expected-error @+1 {{'kiln.constant' op failed to verify that all of {value, result} have same type}}
  %0 = "kiln.constant"() {value = dense<1.0> : tensor<3xf32>} : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A constant value must be an elements attribute.
func.func @constant_not_elements() -> tensor<2xf32> {
  // expected-error @+1 {{'kiln.constant' op attribute 'value' failed to satisfy constraint: constant vector/tensor attribute}}
  %0 = "kiln.constant"() {value = 1.0 : f32} : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A constant of an element type the dialect does not support.
func.func @constant_i16() -> tensor<2xi16> {
  // expected-error @+1 {{'kiln.constant' op result #0 must be statically shaped tensor of}}
  %0 = kiln.constant dense<1> : tensor<2xi16>
  return %0 : tensor<2xi16>
}

// -----

// A negative axis is printed signed, not as 18446744073709551613
// (KNOWN_BUGS 01).
func.func @iota_negative_axis() -> tensor<2x3xi64> {
  // expected-error @+1 {{'kiln.iota' op axis -3 is out of range for rank 2}}
  %0 = kiln.iota {axis = -3 : i64} : tensor<2x3xi64>
  return %0 : tensor<2x3xi64>
}
