// RUN: kiln-opt %s --split-input-file --kiln-fuse-epilogues --kiln-fuse-elementwise --kiln-fusion-report --verify-diagnostics

// An MLP layer with layer norm: 6 graph ops become 3 kernels: the norm, the
// gemm with its bias and GELU epilogue, and the scale + residual add.
// expected-remark @+1 {{6 graph ops -> 3 kernels (2 fused, 1 library calls, 0 other)}}
func.func @block(%x: tensor<8x64xf32>, %g: tensor<64xf32>, %w: tensor<64x64xf32>, %b: tensor<64xf32>) -> tensor<8x64xf32> {
  // expected-remark @+1 {{reduction kernel of 1 ops: layer_norm}}
  %n = kiln.layer_norm %x, %g : tensor<8x64xf32>, tensor<64xf32>
  %m = kiln.matmul %n, %w : tensor<8x64xf32>, tensor<64x64xf32>
  %a = kiln.add %m, %b : tensor<8x64xf32>, tensor<64xf32>
  %h = kiln.gelu %a : tensor<8x64xf32>
  %c = kiln.constant dense<0.5> : tensor<f32>
  %s = kiln.mul %h, %c : tensor<8x64xf32>, tensor<f32>
  // expected-remark @+1 {{loop kernel of 2 ops: mul, add}}
  %r = kiln.add %s, %x : tensor<8x64xf32>, tensor<8x64xf32>
  return %r : tensor<8x64xf32>
}

// -----

// Views and sources are not kernels; a gather is one.
// expected-remark @+1 {{3 graph ops -> 1 kernels (0 fused, 0 library calls, 1 other)}}
func.func @lookup(%i: tensor<4xi64>) -> tensor<32xf32> {
  %t = kiln.parameter "table" : tensor<100x8xf32>
  %e = kiln.gather %t, %i : tensor<100x8xf32>, tensor<4xi64>
  %f = kiln.reshape %e : tensor<4x8xf32> -> tensor<32xf32>
  return %f : tensor<32xf32>
}

// -----

// A conv2d stands for the activation it absorbed too: conv + relu is one
// library call, the pool another kernel.
// expected-remark @+1 {{3 graph ops -> 2 kernels (0 fused, 1 library calls, 1 other)}}
func.func @conv_relu_pool(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x3x3xf32> {
  %c = kiln.conv2d %x, %w, %b : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>
  %r = kiln.relu %c : tensor<1x4x6x6xf32>
  %p = kiln.max_pool2d %r {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<1x4x6x6xf32>
  return %p : tensor<1x4x3x3xf32>
}
