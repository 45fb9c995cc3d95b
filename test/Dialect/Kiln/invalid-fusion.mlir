// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Verifier rules and inference errors of kiln.fusion, kiln.yield and
// kiln.gemm.

// A fusion kind is "loop" or "reduction".
func.func @fusion_kind(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.fusion' op kind must be "loop" or "reduction", got "tile"}}
  %r = kiln.fusion "tile" (%a) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    kiln.yield %x : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}

// -----

// The body has one argument per input.
func.func @fusion_arg_count(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.fusion' op body has 1 arguments for 2 inputs}}
  %r = kiln.fusion "loop" (%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    kiln.yield %x : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}

// -----

// Body arguments have the inputs' types.
func.func @fusion_arg_type(%a: tensor<4xf32>) -> tensor<4xf16> {
  // expected-error @+1 {{'kiln.fusion' op body argument 0 has type 'tensor<4xf16>', input has 'tensor<4xf32>'}}
  %r = kiln.fusion "loop" (%a) : (tensor<4xf32>) -> tensor<4xf16> {
  ^bb0(%x: tensor<4xf16>):
    kiln.yield %x : tensor<4xf16>
  }
  return %r : tensor<4xf16>
}

// -----

// The yield matches the results.
func.func @fusion_yield_types(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  // expected-error @+1 {{'kiln.fusion' op yields 1 values whose types differ from the 2 results}}
  %r:2 = kiln.fusion "loop" (%a) : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  ^bb0(%x: tensor<4xf32>):
    kiln.yield %x : tensor<4xf32>
  }
  return %r#0, %r#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Weights are read outside a fusion, never inside.
func.func @fusion_parameter_inside(%a: tensor<4xf32>) -> tensor<4xf32> {
  %r = kiln.fusion "loop" (%a) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    // expected-error @+1 {{'kiln.parameter' op cannot appear inside a kiln.fusion body}}
    %w = kiln.parameter "w" : tensor<4xf32>
    %s = kiln.add %x, %w : tensor<4xf32>, tensor<4xf32>
    kiln.yield %s : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}

// -----

// Fusions do not nest.
func.func @fusion_nested(%a: tensor<4xf32>) -> tensor<4xf32> {
  %r = kiln.fusion "loop" (%a) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    // expected-error @+1 {{'kiln.fusion' op cannot appear inside a kiln.fusion body}}
    %i = kiln.fusion "loop" (%x) : (tensor<4xf32>) -> tensor<4xf32> {
    ^bb0(%y: tensor<4xf32>):
      kiln.yield %y : tensor<4xf32>
    }
    kiln.yield %i : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}

// -----

// A fusion body is isolated: values come in through the inputs only.
func.func @fusion_captures(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-note @+1 {{required by region isolation constraints}}
  %r = kiln.fusion "loop" (%a) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    // expected-error @+1 {{'kiln.add' op using value defined outside the region}}
    %s = kiln.add %x, %b : tensor<4xf32>, tensor<4xf32>
    kiln.yield %s : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}

// -----

// kiln.yield only terminates a kiln.fusion body.
func.func @yield_outside(%a: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.yield' op expects parent op 'kiln.fusion'}}
  kiln.yield %a : tensor<4xf32>
}

// -----

// gemm is float-only.
func.func @gemm_int(%a: tensor<2x3xi32>, %b: tensor<3x4xi32>) -> tensor<2x4xi32> {
  // expected-error @+1 {{'kiln.gemm' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x3xi32>'}}
  %0 = kiln.gemm %a, %b : tensor<2x3xi32>, tensor<3x4xi32>
  return %0 : tensor<2x4xi32>
}

// -----

// gemm contraction dims must agree (the matmul rule).
func.func @gemm_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{'kiln.gemm' op matmul contraction dims differ: [2, 3] x [4, 5] contracts 3 with 4}}
  %0 = kiln.gemm %a, %b : tensor<2x3xf32>, tensor<4x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// gemm bias is [N], the result's last dim.
func.func @gemm_bias_shape(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<2xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'kiln.gemm' op bias must have shape [4] (the result's last dim), got 'tensor<2xf32>'}}
  %0 = kiln.gemm %a, %b, %c : tensor<2x3xf32>, tensor<3x4xf32>, tensor<2xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// gemm activations come from a fixed list.
func.func @gemm_activation(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'kiln.gemm' op unknown activation "leaky_relu"; expected none, relu, relu6, gelu, gelu_tanh, silu, sigmoid or tanh}}
  %0 = kiln.gemm %a, %b {activation = "leaky_relu"} : tensor<2x3xf32>, tensor<3x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// gemm operands share one element type.
func.func @gemm_types(%a: tensor<2x3xf32>, %b: tensor<3x4xbf16>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'kiln.gemm' op failed to verify that all of {lhs, rhs, result} have same element type}}
  %0 = kiln.gemm %a, %b : tensor<2x3xf32>, tensor<3x4xbf16>
  return %0 : tensor<2x4xf32>
}

// -----

// gemm's bias has the operands' element type (KNOWN_BUGS 29).
func.func @gemm_bias_type(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<4xf16>) {
  // expected-error @+1 {{'kiln.gemm' op bias element type 'f16' must match the operands' 'f32'}}
  %0 = kiln.gemm %a, %b, %c : tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf16>
  return
}

// -----

// A boolean attribute of the wrong kind on gemm.
func.func @gemm_string_transpose(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+1 {{'kiln.gemm' op attribute 'transpose_lhs' failed to satisfy constraint: bool attribute}}
  %0 = kiln.gemm %a, %b {transpose_lhs = "yes"} : tensor<2x3xf32>, tensor<3x4xf32>
  return
}
