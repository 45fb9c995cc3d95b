// A MobileNetV2/ResNet-shaped network small enough for a test, in the
// NCHW form the ONNX importer writes: an image stem (3 -> 16, stride 2,
// ReLU6), an inverted residual block (1x1 expand, 3x3 depthwise, 1x1
// project with a batch norm left unfolded, residual add), a padded 3x3 max pool, a 3x3 conv with ReLU, a
// global pool and a linear head. kiln-conv-layout moves all of it to NHWC
// but the head. Used by conv-layout.test.
func.func @net(%x: tensor<2x3x18x18xf32>) -> tensor<2x10xf32> {
  %w0 = kiln.parameter "stem.weight" : tensor<16x3x3x3xf32>
  %b0 = kiln.parameter "stem.bias" : tensor<16xf32>
  %s = kiln.conv2d %x, %w0, %b0 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, activation = "relu6"}
      : tensor<2x3x18x18xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>
  %w1 = kiln.parameter "expand.weight" : tensor<48x16x1x1xf32>
  %b1 = kiln.parameter "expand.bias" : tensor<48xf32>
  %e = kiln.conv2d %s, %w1, %b1 {activation = "relu6"} : tensor<2x16x9x9xf32>, tensor<48x16x1x1xf32>, tensor<48xf32>
  %w2 = kiln.parameter "depthwise.weight" : tensor<48x1x3x3xf32>
  %b2 = kiln.parameter "depthwise.bias" : tensor<48xf32>
  %d = kiln.conv2d %e, %w2, %b2 {groups = 48 : i64, pads = array<i64: 1, 1, 1, 1>, activation = "relu6"}
      : tensor<2x48x9x9xf32>, tensor<48x1x3x3xf32>, tensor<48xf32>
  %w3 = kiln.parameter "project.weight" : tensor<16x48x1x1xf32>
  %c3 = kiln.conv2d %d, %w3 : tensor<2x48x9x9xf32>, tensor<16x48x1x1xf32>
  %g3 = kiln.parameter "project.bn.scale" : tensor<16xf32>
  %b3 = kiln.parameter "project.bn.bias" : tensor<16xf32>
  %m3 = kiln.parameter "project.bn.mean" : tensor<16xf32>
  %r3 = kiln.parameter "project.bn.var" : tensor<16xf32>
  %a3 = kiln.abs %r3 : tensor<16xf32>
  %half = kiln.constant dense<0.5> : tensor<f32>
  %v3 = kiln.add %a3, %half : tensor<16xf32>, tensor<f32>
  %p = kiln.batch_norm %c3, %g3, %b3, %m3, %v3 : tensor<2x16x9x9xf32>, tensor<16xf32>
  %r = kiln.add %p, %s : tensor<2x16x9x9xf32>, tensor<2x16x9x9xf32>
  %m = kiln.max_pool2d %r {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<2x16x9x9xf32>
  %w4 = kiln.parameter "conv.weight" : tensor<32x16x3x3xf32>
  %b4 = kiln.parameter "conv.bias" : tensor<32xf32>
  %c = kiln.conv2d %m, %w4, %b4 {pads = array<i64: 1, 1, 1, 1>} : tensor<2x16x5x5xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>
  %a = kiln.relu %c : tensor<2x32x5x5xf32>
  %g = kiln.global_avg_pool %a : tensor<2x32x5x5xf32>
  %f = kiln.reshape %g : tensor<2x32x1x1xf32> -> tensor<2x32xf32>
  %w5 = kiln.parameter "fc.weight" : tensor<32x10xf32>
  %b5 = kiln.parameter "fc.bias" : tensor<10xf32>
  %l = kiln.matmul %f, %w5 : tensor<2x32xf32>, tensor<32x10xf32>
  %y = kiln.add %l, %b5 : tensor<2x10xf32>, tensor<10xf32>
  return %y : tensor<2x10xf32>
}
