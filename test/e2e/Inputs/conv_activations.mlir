// Two convolutions with 1-D bias operands (as the ONNX importer writes
// them), each followed by an activation that kiln-fuse-epilogues folds:
// relu before a max pool, tanh at the end. Used by conv-epilogue.test.
func.func @convs(%x: tensor<4x1x12x12xf32>) -> tensor<4x8x4x4xf32> {
  %w1 = kiln.parameter "conv1.weight" : tensor<6x1x5x5xf32>
  %b1 = kiln.parameter "conv1.bias" : tensor<6xf32>
  %c1 = kiln.conv2d %x, %w1, %b1 {pads = array<i64: 2, 2, 2, 2>} : tensor<4x1x12x12xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>
  %r1 = kiln.relu %c1 : tensor<4x6x12x12xf32>
  %p1 = kiln.max_pool2d %r1 {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<4x6x12x12xf32>
  %w2 = kiln.parameter "conv2.weight" : tensor<8x6x3x3xf32>
  %b2 = kiln.parameter "conv2.bias" : tensor<8xf32>
  %c2 = kiln.conv2d %p1, %w2, %b2 : tensor<4x6x6x6xf32>, tensor<8x6x3x3xf32>, tensor<8xf32>
  %t2 = kiln.tanh %c2 : tensor<4x8x4x4xf32>
  return %t2 : tensor<4x8x4x4xf32>
}
