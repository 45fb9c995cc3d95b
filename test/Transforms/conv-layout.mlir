// RUN: kiln-opt %s --split-input-file --kiln-conv-layout | FileCheck %s

// A residual block: one transpose in, the convs and the add in NHWC, one
// transpose out. The conv reading a conv's result reads it directly.
// CHECK-LABEL: func.func @residual
// CHECK:         %[[IN:.*]] = kiln.transpose %arg0 {permutation = array<i64: 0, 2, 3, 1>} : tensor<1x32x8x8xf32>
// CHECK-NEXT:    %[[A:.*]] = kiln.conv2d %[[IN]], %arg1, %arg2 {activation = "relu", layout = "nhwc", pads = array<i64: 1, 1, 1, 1>} : tensor<1x8x8x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>
// CHECK-NEXT:    %[[C:.*]] = kiln.conv2d %[[A]], %arg1, %arg2 {layout = "nhwc", pads = array<i64: 1, 1, 1, 1>} : tensor<1x8x8x32xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>
// CHECK-NEXT:    %[[S:.*]] = kiln.add %[[C]], %[[IN]] : tensor<1x8x8x32xf32>, tensor<1x8x8x32xf32>
// CHECK-NEXT:    %[[R:.*]] = kiln.relu %[[S]] : tensor<1x8x8x32xf32>
// CHECK-NEXT:    %[[OUT:.*]] = kiln.transpose %[[R]] {permutation = array<i64: 0, 3, 1, 2>} : tensor<1x8x8x32xf32>
// CHECK-NEXT:    return %[[OUT]] : tensor<1x32x8x8xf32>
func.func @residual(%x: tensor<1x32x8x8xf32>, %w: tensor<32x32x3x3xf32>, %b: tensor<32xf32>) -> tensor<1x32x8x8xf32> {
  %a = kiln.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, activation = "relu"} : tensor<1x32x8x8xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>
  %c = kiln.conv2d %a, %w, %b {pads = array<i64: 1, 1, 1, 1>} : tensor<1x32x8x8xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>
  %s = kiln.add %c, %x : tensor<1x32x8x8xf32>, tensor<1x32x8x8xf32>
  %r = kiln.relu %s : tensor<1x32x8x8xf32>
  return %r : tensor<1x32x8x8xf32>
}

// -----

// An image stem (3 input channels) moves, and so does the max pool after
// it; the global pool at the end reads one transpose back.
// CHECK-LABEL: func.func @stem_pool
// CHECK:         kiln.transpose %arg0 {permutation = array<i64: 0, 2, 3, 1>} : tensor<2x3x16x16xf32>
// CHECK-NEXT:    kiln.conv2d {{.*}}layout = "nhwc"{{.*}} : tensor<2x16x16x3xf32>, tensor<32x3x3x3xf32>
// CHECK-NEXT:    %[[P:.*]] = kiln.max_pool2d {{.*}}layout = "nhwc"{{.*}} : tensor<2x16x16x32xf32>
// CHECK-NEXT:    %[[T:.*]] = kiln.transpose %[[P]] {permutation = array<i64: 0, 3, 1, 2>} : tensor<2x8x8x32xf32>
// CHECK-NEXT:    kiln.global_avg_pool %[[T]] : tensor<2x32x8x8xf32>
func.func @stem_pool(%x: tensor<2x3x16x16xf32>, %w: tensor<32x3x3x3xf32>) -> tensor<2x32x1x1xf32> {
  %c = kiln.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>} : tensor<2x3x16x16xf32>, tensor<32x3x3x3xf32>
  %p = kiln.max_pool2d %c {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<2x32x16x16xf32>
  %g = kiln.global_avg_pool %p : tensor<2x32x8x8xf32>
  return %g : tensor<2x32x1x1xf32>
}

// -----

// Few channels stay NCHW (LeNet's 1 -> 6 and 6 -> 16), as does a conv whose
// input has too few channels to vectorize but is no image stem (8 -> 32).
// CHECK-LABEL: func.func @few_channels
// CHECK-NOT:     layout
// CHECK-NOT:     kiln.transpose
// CHECK:         return
func.func @few_channels(%x: tensor<1x1x28x28xf32>, %w1: tensor<6x1x5x5xf32>, %w2: tensor<16x6x5x5xf32>,
                        %y: tensor<1x8x8x8xf32>, %w3: tensor<32x8x1x1xf32>)
    -> (tensor<1x16x20x20xf32>, tensor<1x32x8x8xf32>) {
  %a = kiln.conv2d %x, %w1 : tensor<1x1x28x28xf32>, tensor<6x1x5x5xf32>
  %b = kiln.conv2d %a, %w2 : tensor<1x6x24x24xf32>, tensor<16x6x5x5xf32>
  %c = kiln.conv2d %y, %w3 : tensor<1x8x8x8xf32>, tensor<32x8x1x1xf32>
  return %b, %c : tensor<1x16x20x20xf32>, tensor<1x32x8x8xf32>
}

// -----

// A splat scale and a per-channel shift ([1, C, 1, 1], reshaped to [C])
// both follow the value into NHWC; an operand that broadcasts over the
// batch ([1, 16, 4, 4] against 2 images) keeps the transpose before it.
// CHECK-LABEL: func.func @broadcast_operand
// CHECK:         %[[C:.*]] = kiln.conv2d {{.*}}layout = "nhwc"
// CHECK-NEXT:    %[[M:.*]] = kiln.mul %[[C]], %{{.*}} : tensor<2x4x4x16xf32>, tensor<f32>
// CHECK-NEXT:    %[[S:.*]] = kiln.reshape %arg2 : tensor<1x16x1x1xf32> -> tensor<16xf32>
// CHECK-NEXT:    %[[A:.*]] = kiln.add %[[M]], %[[S]] : tensor<2x4x4x16xf32>, tensor<16xf32>
// CHECK-NEXT:    %[[T:.*]] = kiln.transpose %[[A]] {permutation = array<i64: 0, 3, 1, 2>}
// CHECK-NEXT:    kiln.add %[[T]], %arg3 : tensor<2x16x4x4xf32>, tensor<1x16x4x4xf32>
func.func @broadcast_operand(%x: tensor<2x16x4x4xf32>, %w: tensor<16x16x1x1xf32>, %shift: tensor<1x16x1x1xf32>,
                             %image: tensor<1x16x4x4xf32>) -> tensor<2x16x4x4xf32> {
  %c = kiln.conv2d %x, %w : tensor<2x16x4x4xf32>, tensor<16x16x1x1xf32>
  %k = kiln.constant dense<2.0> : tensor<f32>
  %m = kiln.mul %c, %k : tensor<2x16x4x4xf32>, tensor<f32>
  %a = kiln.add %m, %shift : tensor<2x16x4x4xf32>, tensor<1x16x1x1xf32>
  %b = kiln.add %a, %image : tensor<2x16x4x4xf32>, tensor<1x16x4x4xf32>
  return %b : tensor<2x16x4x4xf32>
}

// -----

// A channel concat of two NHWC branches concatenates along NHWC's last
// dim; the conv after it reads the result directly. Both branches read one
// NHWC copy of the input.
// CHECK-LABEL: func.func @concat
// CHECK:         %[[X:.*]] = kiln.transpose %arg0
// CHECK-NEXT:    %[[A:.*]] = kiln.conv2d %[[X]], {{.*}}layout = "nhwc"
// CHECK-NEXT:    %[[B:.*]] = kiln.conv2d %[[X]], {{.*}}layout = "nhwc"
// CHECK-NEXT:    %[[J:.*]] = kiln.concat %[[A]], %[[B]] {axis = 3 : i64} : tensor<1x8x8x16xf32>, tensor<1x8x8x32xf32>
// CHECK-NEXT:    %[[C:.*]] = kiln.conv2d %[[J]], {{.*}}layout = "nhwc"
// CHECK-NEXT:    kiln.transpose %[[C]] {permutation = array<i64: 0, 3, 1, 2>}
func.func @concat(%x: tensor<1x16x8x8xf32>, %w1: tensor<16x16x1x1xf32>, %w2: tensor<32x16x1x1xf32>,
                  %w3: tensor<16x48x1x1xf32>) -> tensor<1x16x8x8xf32> {
  %a = kiln.conv2d %x, %w1 : tensor<1x16x8x8xf32>, tensor<16x16x1x1xf32>
  %b = kiln.conv2d %x, %w2 : tensor<1x16x8x8xf32>, tensor<32x16x1x1xf32>
  %j = kiln.concat %a, %b {axis = 1 : i64} : tensor<1x16x8x8xf32>, tensor<1x32x8x8xf32>
  %c = kiln.conv2d %j, %w3 : tensor<1x48x8x8xf32>, tensor<16x48x1x1xf32>
  return %c : tensor<1x16x8x8xf32>
}

// -----

// Only f32 moves: the NHWC kernels are f32 ones.
// CHECK-LABEL: func.func @bf16
// CHECK-NOT:     layout
// CHECK:         return
func.func @bf16(%x: tensor<1x32x8x8xbf16>, %w: tensor<32x32x3x3xbf16>) -> tensor<1x32x6x6xbf16> {
  %c = kiln.conv2d %x, %w : tensor<1x32x8x8xbf16>, tensor<32x32x3x3xbf16>
  return %c : tensor<1x32x6x6xbf16>
}

// -----

// A batch norm the exporter left after a conv becomes a per-channel scale
// and shift on the NHWC value.
// CHECK-LABEL: func.func @batch_norm
// CHECK:         %[[C:.*]] = kiln.conv2d {{.*}}layout = "nhwc"
// CHECK:         %[[V:.*]] = kiln.add %arg5, %{{.*}} : tensor<32xf32>, tensor<f32>
// CHECK-NEXT:    %[[R:.*]] = kiln.rsqrt %[[V]]
// CHECK-NEXT:    %[[S:.*]] = kiln.mul %arg2, %[[R]]
// CHECK-NEXT:    %[[MS:.*]] = kiln.mul %arg4, %[[S]]
// CHECK-NEXT:    %[[T:.*]] = kiln.sub %arg3, %[[MS]]
// CHECK-NEXT:    %[[X:.*]] = kiln.mul %[[C]], %[[S]] : tensor<1x6x6x32xf32>, tensor<32xf32>
// CHECK-NEXT:    %[[Y:.*]] = kiln.add %[[X]], %[[T]] : tensor<1x6x6x32xf32>, tensor<32xf32>
// CHECK-NEXT:    %[[A:.*]] = kiln.relu %[[Y]] : tensor<1x6x6x32xf32>
// CHECK-NEXT:    kiln.transpose %[[A]] {permutation = array<i64: 0, 3, 1, 2>}
func.func @batch_norm(%x: tensor<1x32x8x8xf32>, %w: tensor<32x32x3x3xf32>, %scale: tensor<32xf32>,
                      %bias: tensor<32xf32>, %mean: tensor<32xf32>, %var: tensor<32xf32>) -> tensor<1x32x6x6xf32> {
  %c = kiln.conv2d %x, %w : tensor<1x32x8x8xf32>, tensor<32x32x3x3xf32>
  %n = kiln.batch_norm %c, %scale, %bias, %mean, %var {epsilon = 1.0e-3 : f64} : tensor<1x32x6x6xf32>, tensor<32xf32>
  %r = kiln.relu %n : tensor<1x32x6x6xf32>
  return %r : tensor<1x32x6x6xf32>
}
