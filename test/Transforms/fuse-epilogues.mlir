// RUN: kiln-opt %s --split-input-file --kiln-fuse-epilogues | FileCheck %s

// matmul + bias + relu becomes one gemm with its epilogue.
// CHECK-LABEL: func.func @linear_relu
// CHECK:         %[[G:.*]] = kiln.gemm %arg0, %arg1, %arg2 {activation = "relu"} : tensor<8x64xf32>, tensor<64x32xf32>, tensor<32xf32>
// CHECK-NEXT:    return %[[G]]
func.func @linear_relu(%x: tensor<8x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>) -> tensor<8x32xf32> {
  %m = kiln.matmul %x, %w : tensor<8x64xf32>, tensor<64x32xf32>
  %a = kiln.add %m, %b : tensor<8x32xf32>, tensor<32xf32>
  %r = kiln.relu %a : tensor<8x32xf32>
  return %r : tensor<8x32xf32>
}

// -----

// Bias on the left of the add, batched lhs, tanh-form GELU; the [1, 32]
// bias is reshaped to [32].
// CHECK-LABEL: func.func @batched_bias_gelu
// CHECK:         %[[B:.*]] = kiln.reshape %arg2 : tensor<1x32xf32> -> tensor<32xf32>
// CHECK:         kiln.gemm %arg0, %arg1, %[[B]] {activation = "gelu_tanh", transpose_rhs = true}
// CHECK-NOT:     kiln.add
func.func @batched_bias_gelu(%x: tensor<2x8x64xf32>, %w: tensor<32x64xf32>, %b: tensor<1x32xf32>) -> tensor<2x8x32xf32> {
  %m = kiln.matmul %x, %w {transpose_rhs = true} : tensor<2x8x64xf32>, tensor<32x64xf32>
  %a = kiln.add %b, %m : tensor<1x32xf32>, tensor<2x8x32xf32>
  %g = kiln.gelu %a {approximate = "tanh"} : tensor<2x8x32xf32>
  return %g : tensor<2x8x32xf32>
}

// -----

// Activation without bias.
// CHECK-LABEL: func.func @matmul_silu
// CHECK:         kiln.gemm %arg0, %arg1 {activation = "silu"}
func.func @matmul_silu(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = kiln.matmul %x, %w : tensor<4x4xf32>, tensor<4x4xf32>
  %s = kiln.silu %m : tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}

// -----

// The matmul result is used twice: folding would compute it twice. No change.
// CHECK-LABEL: func.func @shared_result
// CHECK:         kiln.matmul
// CHECK:         kiln.add
// CHECK-NOT:     kiln.gemm
func.func @shared_result(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %b: tensor<4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %m = kiln.matmul %x, %w : tensor<4x4xf32>, tensor<4x4xf32>
  %a = kiln.add %m, %b : tensor<4x4xf32>, tensor<4xf32>
  return %a, %m : tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// An add that is not a bias along the last dim (here along rows) stays.
// CHECK-LABEL: func.func @row_add_is_not_bias
// CHECK:         kiln.matmul
// CHECK:         kiln.add
// CHECK-NOT:     kiln.gemm
func.func @row_add_is_not_bias(%x: tensor<4x3xf32>, %w: tensor<3x4xf32>, %c: tensor<4x1xf32>) -> tensor<4x4xf32> {
  %m = kiln.matmul %x, %w : tensor<4x3xf32>, tensor<3x4xf32>
  %a = kiln.add %m, %c : tensor<4x4xf32>, tensor<4x1xf32>
  return %a : tensor<4x4xf32>
}

// -----

// Integer matmuls have no epilogue.
// CHECK-LABEL: func.func @integer_matmul
// CHECK:         kiln.matmul
// CHECK-NOT:     kiln.gemm
func.func @integer_matmul(%x: tensor<4x4xi32>, %w: tensor<4x4xi32>) -> tensor<4x4xi32> {
  %m = kiln.matmul %x, %w : tensor<4x4xi32>, tensor<4x4xi32>
  %r = kiln.relu %m : tensor<4x4xi32>
  return %r : tensor<4x4xi32>
}

// -----

// conv2d + per-channel bias [1, C, 1, 1] becomes conv2d with a bias operand.
// CHECK-LABEL: func.func @conv_bias
// CHECK:         %[[B:.*]] = kiln.reshape %arg2 : tensor<1x16x1x1xf32> -> tensor<16xf32>
// CHECK:         %[[C:.*]] = kiln.conv2d %arg0, %arg1, %[[B]] {pads = array<i64: 1, 1, 1, 1>}
// CHECK-NEXT:    return %[[C]]
func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<16x3x3x3xf32>, %b: tensor<1x16x1x1xf32>) -> tensor<1x16x8x8xf32> {
  %c = kiln.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>} : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>
  %a = kiln.add %c, %b : tensor<1x16x8x8xf32>, tensor<1x16x1x1xf32>
  return %a : tensor<1x16x8x8xf32>
}
