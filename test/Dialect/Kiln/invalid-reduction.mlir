// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Inference errors and type rules of the reduction family.

// A reduction axis past the last dim.
func.func @sum_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'kiln.sum' op axis 2 is out of range for rank 2}}
  %0 = kiln.sum %x {axes = array<i64: 2>} : tensor<2x3xf32>
  return %0 : tensor<2xf32>
}

// -----

// A negative reduction axis before the first dim.
func.func @reduce_max_axis_negative(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'kiln.reduce_max' op axis -3 is out of range for rank 2}}
  %0 = kiln.reduce_max %x {axes = array<i64: -3>} : tensor<2x3xf32>
  return %0 : tensor<2xf32>
}

// -----

// The same axis twice, once written negative.
func.func @prod_repeated_axes(%x: tensor<2x3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.prod' op reduction axes [0, -2] repeat an axis}}
  %0 = kiln.prod %x {axes = array<i64: 0, -2>} : tensor<2x3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Any axis of a rank-0 tensor is out of range.
func.func @reduce_min_rank0_axis(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.reduce_min' op axis 0 is out of range for rank 0}}
  %0 = kiln.reduce_min %x {axes = array<i64: 0>} : tensor<f32>
  return %0 : tensor<f32>
}

// -----

// mean is float-only.
func.func @mean_int(%x: tensor<4xi32>) -> tensor<i32> {
  // expected-error @+1 {{'kiln.mean' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<4xi32>'}}
  %0 = kiln.mean %x : tensor<4xi32>
  return %0 : tensor<i32>
}

// -----

// sum has no meaning on booleans.
func.func @sum_i1(%x: tensor<4xi1>) -> tensor<i1> {
  // expected-error @+1 {{'kiln.sum' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer values, but got 'tensor<4xi1>'}}
  %0 = kiln.sum %x : tensor<4xi1>
  return %0 : tensor<i1>
}

// -----

// keepdims is a bool.
func.func @sum_keepdims_not_bool(%x: tensor<4xf32>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.sum' op attribute 'keepdims' failed to satisfy constraint: bool attribute}}
  %0 = "kiln.sum"(%x) {keepdims = 1 : i64} : (tensor<4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// The result of a reduction follows from axes and keepdims.
func.func @sum_wrong_result(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+2 {{'kiln.sum' op failed to infer returned types}}
  // expected-error @+1 {{'kiln.sum' op inferred type(s) 'tensor<2x1xf32>' are incompatible with return type(s) of operation 'tensor<2xf32>'}}
  %0 = "kiln.sum"(%x) {axes = array<i64: 1>, keepdims = true} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// argmax needs a dim to search along.
func.func @argmax_rank0(%x: tensor<f32>) -> tensor<i64> {
  // expected-error @+1 {{'kiln.argmax' op needs an operand of rank >= 1}}
  %0 = kiln.argmax %x : tensor<f32>
  return %0 : tensor<i64>
}

// -----

// argmin axis past the last dim.
func.func @argmin_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<2xi64> {
  // expected-error @+1 {{'kiln.argmin' op axis 2 is out of range for rank 2}}
  %0 = kiln.argmin %x {axis = 2 : i64} : tensor<2x3xf32>
  return %0 : tensor<2xi64>
}

// -----

// argmax indices are i64, never the input's element type.
func.func @argmax_result_not_i64(%x: tensor<2x3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.argmax' op result #0 must be statically shaped tensor of 64-bit signless integer values, but got 'tensor<3xf32>'}}
  %0 = "kiln.argmax"(%x) : (tensor<2x3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// The ODS-generated reductions read their attributes checked too.
func.func @sum_array_attr_axes(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.sum' op attribute 'axes' failed to satisfy constraint: i64 dense array attribute}}
  %0 = kiln.sum %x {axes = [0]} : tensor<2x3xf32>
  return
}

// -----

func.func @argmax_string_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.argmax' op attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = kiln.argmax %x {axis = "a"} : tensor<2x3xf32>
  return
}

// -----

func.func @mean_integer_keepdims(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.mean' op attribute 'keepdims' failed to satisfy constraint: bool attribute}}
  %0 = kiln.mean %x {keepdims = 1 : i64} : tensor<2x3xf32>
  return
}
