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

// -----

// conv2d + per-channel bias + relu (LeNet's layers): the add becomes the
// bias operand, then the relu the conv's activation.
// CHECK-LABEL: func.func @conv_bias_relu
// CHECK:         %[[B:.*]] = kiln.reshape %arg2 : tensor<1x6x1x1xf32> -> tensor<6xf32>
// CHECK:         %[[C:.*]] = kiln.conv2d %arg0, %arg1, %[[B]] {activation = "relu", pads = array<i64: 2, 2, 2, 2>}
// CHECK-NOT:     kiln.relu
// CHECK-NEXT:    return %[[C]]
func.func @conv_bias_relu(%x: tensor<2x1x28x28xf32>, %w: tensor<6x1x5x5xf32>, %b: tensor<1x6x1x1xf32>) -> tensor<2x6x28x28xf32> {
  %c = kiln.conv2d %x, %w {pads = array<i64: 2, 2, 2, 2>} : tensor<2x1x28x28xf32>, tensor<6x1x5x5xf32>
  %a = kiln.add %c, %b : tensor<2x6x28x28xf32>, tensor<1x6x1x1xf32>
  %r = kiln.relu %a : tensor<2x6x28x28xf32>
  return %r : tensor<2x6x28x28xf32>
}

// -----

// A conv2d that already has its bias operand (as the ONNX importer makes
// it) takes a sigmoid; the tanh-form GELU keeps its form.
// CHECK-LABEL: func.func @conv_operand_bias_activations
// CHECK:         kiln.conv2d %arg0, %arg1, %arg2 {activation = "sigmoid"}
// CHECK:         kiln.conv2d %arg0, %arg1 {activation = "gelu_tanh"}
// CHECK-NOT:     kiln.sigmoid
// CHECK-NOT:     kiln.gelu
func.func @conv_operand_bias_activations(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) {
  %c = kiln.conv2d %x, %w, %b : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>
  %s = kiln.sigmoid %c : tensor<1x4x6x6xf32>
  %d = kiln.conv2d %x, %w : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  %g = kiln.gelu %d {approximate = "tanh"} : tensor<1x4x6x6xf32>
  return %s, %g : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>
}

// -----

// clip(0, 6) (MobileNet's ReLU6) is the relu6 epilogue; a clip to other
// bounds stays a separate op.
// CHECK-LABEL: func.func @conv_relu6
// CHECK:         %[[C:.*]] = kiln.conv2d %arg0, %arg1, %arg2 {activation = "relu6", groups = 4 : i64, pads = array<i64: 1, 1, 1, 1>}
// CHECK-NOT:     kiln.clip %[[C]]
// CHECK:         %[[D:.*]] = kiln.conv2d %arg0, %arg3 : tensor<1x4x8x8xf32>
// CHECK-NEXT:    kiln.clip %[[D]] {max = 5.000000e+00 : f64, min = 0.000000e+00 : f64}
func.func @conv_relu6(%x: tensor<1x4x8x8xf32>, %w: tensor<4x1x3x3xf32>, %b: tensor<4xf32>, %w2: tensor<4x4x1x1xf32>) -> (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) {
  %c = kiln.conv2d %x, %w, %b {groups = 4 : i64, pads = array<i64: 1, 1, 1, 1>} : tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>
  %r = kiln.clip %c {min = 0.0 : f64, max = 6.0 : f64} : tensor<1x4x8x8xf32>
  %d = kiln.conv2d %x, %w2 : tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>
  %s = kiln.clip %d {min = 0.0 : f64, max = 5.0 : f64} : tensor<1x4x8x8xf32>
  return %r, %s : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>
}

// -----

// The relu's input (the biased conv) has another user: folding the relu
// would lose the value before it. The bias folds; the relu stays.
// CHECK-LABEL: func.func @conv_relu_input_shared
// CHECK:         %[[C:.*]] = kiln.conv2d %arg0, %arg1, %arg2 : tensor<1x3x8x8xf32>
// CHECK-NEXT:    %[[R:.*]] = kiln.relu %[[C]]
// CHECK-NEXT:    return %[[R]], %[[C]]
func.func @conv_relu_input_shared(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) {
  %c = kiln.conv2d %x, %w, %b : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>
  %r = kiln.relu %c : tensor<1x4x6x6xf32>
  return %r, %c : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>
}

// -----

// An activation the runtime has no epilogue for (leaky_relu) stays a
// separate op, and an add after an activation is not a bias to fold.
// CHECK-LABEL: func.func @conv_unfoldable
// CHECK:         %[[C:.*]] = kiln.conv2d %arg0, %arg1 : tensor<1x3x8x8xf32>
// CHECK-NEXT:    kiln.leaky_relu %[[C]]
// CHECK:         %[[D:.*]] = kiln.conv2d %arg0, %arg1 {activation = "relu"}
// CHECK-NEXT:    kiln.add %[[D]], %arg2
func.func @conv_unfoldable(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<1x4x1x1xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) {
  %c = kiln.conv2d %x, %w : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  %l = kiln.leaky_relu %c {alpha = 0.1 : f64} : tensor<1x4x6x6xf32>
  %d = kiln.conv2d %x, %w : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  %r = kiln.relu %d : tensor<1x4x6x6xf32>
  %a = kiln.add %r, %b : tensor<1x4x6x6xf32>, tensor<1x4x1x1xf32>
  return %l, %a : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>
}
