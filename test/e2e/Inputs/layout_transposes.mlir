// NCHW <-> NHWC transposes of intermediate values, large enough to be
// split over threads and with odd extents (tile remainders): the shapes
// of the copies kiln-conv-layout leaves at the ends of a conv chain.
// After the first run the executor replays them as tiled 2-D transposes.
// Used by conv-layout.test.
func.func @transposes(%x: tensor<2x8x64x61xf32>, %y: tensor<3x7x9x37xf32>)
    -> (tensor<2x64x61x8xf32>, tensor<3x37x7x9xf32>) {
  %one = kiln.constant dense<1.0> : tensor<f32>
  %a = kiln.exp %x : tensor<2x8x64x61xf32>
  %t = kiln.transpose %a {permutation = array<i64: 0, 2, 3, 1>} : tensor<2x8x64x61xf32>
  %r = kiln.add %t, %one : tensor<2x64x61x8xf32>, tensor<f32>
  %b = kiln.exp %y : tensor<3x7x9x37xf32>
  %u = kiln.transpose %b {permutation = array<i64: 0, 3, 1, 2>} : tensor<3x7x9x37xf32>
  %s = kiln.add %u, %one : tensor<3x37x7x9xf32>, tensor<f32>
  return %r, %s : tensor<2x64x61x8xf32>, tensor<3x37x7x9xf32>
}
