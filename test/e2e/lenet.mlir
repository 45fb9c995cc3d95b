// LeNet-5 on 28x28 digits, batch 8: conv-relu-pool twice, three linear
// layers, log_softmax. Biases are separate adds, as exporters write them.
func.func @lenet(%x: tensor<8x1x28x28xf32>) -> tensor<8x10xf32> {
  %w1 = kiln.parameter "conv1.weight" : tensor<6x1x5x5xf32>
  %b1 = kiln.parameter "conv1.bias" : tensor<1x6x1x1xf32>
  %c1 = kiln.conv2d %x, %w1 {pads = array<i64: 2, 2, 2, 2>} : tensor<8x1x28x28xf32>, tensor<6x1x5x5xf32>
  %a1 = kiln.add %c1, %b1 : tensor<8x6x28x28xf32>, tensor<1x6x1x1xf32>
  %r1 = kiln.relu %a1 : tensor<8x6x28x28xf32>
  %p1 = kiln.max_pool2d %r1 {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<8x6x28x28xf32>
  %w2 = kiln.parameter "conv2.weight" : tensor<16x6x5x5xf32>
  %b2 = kiln.parameter "conv2.bias" : tensor<1x16x1x1xf32>
  %c2 = kiln.conv2d %p1, %w2 : tensor<8x6x14x14xf32>, tensor<16x6x5x5xf32>
  %a2 = kiln.add %c2, %b2 : tensor<8x16x10x10xf32>, tensor<1x16x1x1xf32>
  %r2 = kiln.relu %a2 : tensor<8x16x10x10xf32>
  %p2 = kiln.max_pool2d %r2 {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<8x16x10x10xf32>
  %f = kiln.reshape %p2 : tensor<8x16x5x5xf32> -> tensor<8x400xf32>
  %w3 = kiln.parameter "fc1.weight" : tensor<400x120xf32>
  %b3 = kiln.parameter "fc1.bias" : tensor<120xf32>
  %m3 = kiln.matmul %f, %w3 : tensor<8x400xf32>, tensor<400x120xf32>
  %a3 = kiln.add %m3, %b3 : tensor<8x120xf32>, tensor<120xf32>
  %r3 = kiln.relu %a3 : tensor<8x120xf32>
  %w4 = kiln.parameter "fc2.weight" : tensor<120x84xf32>
  %b4 = kiln.parameter "fc2.bias" : tensor<84xf32>
  %m4 = kiln.matmul %r3, %w4 : tensor<8x120xf32>, tensor<120x84xf32>
  %a4 = kiln.add %m4, %b4 : tensor<8x84xf32>, tensor<84xf32>
  %r4 = kiln.relu %a4 : tensor<8x84xf32>
  %w5 = kiln.parameter "fc3.weight" : tensor<84x10xf32>
  %b5 = kiln.parameter "fc3.bias" : tensor<10xf32>
  %m5 = kiln.matmul %r4, %w5 : tensor<8x84xf32>, tensor<84x10xf32>
  %a5 = kiln.add %m5, %b5 : tensor<8x10xf32>, tensor<10xf32>
  %out = kiln.log_softmax %a5 {axis = -1 : i64} : tensor<8x10xf32>
  return %out : tensor<8x10xf32>
}
