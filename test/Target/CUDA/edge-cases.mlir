// Shapes at the edges of the index math, each checked on host threads
// against the runtime: rank-0 operands and results, a value also read
// after the root (a second output of the same kernel), broadcasting over
// several non-adjacent dims, sizes that are not a multiple of the vector
// width, and reductions whose producers read broadcast inputs, down to a
// sum over every dim (a regression: the index folding read before the
// start of the strides).
// RUN: kiln-cuda-compile %s --emulate | FileCheck %s
// RUN: kiln-cuda-compile %s --validate --arch 90 | FileCheck %s --check-prefix=PTXAS

// CHECK-NOT: FAILED
// CHECK-COUNT-5: matches the runtime
// CHECK-NOT: FAILED
// PTXAS: 5 fused kernel(s) generated as 5 kernel(s), 0 run op by op
// PTXAS: sm_90: NVRTC {{.*}} + ptxas OK

func.func @scalars(%x: tensor<f32>, %y: tensor<f32>) -> tensor<f32> {
  %a = kiln.mul %x, %y : tensor<f32>, tensor<f32>
  %e = kiln.exp %a : tensor<f32>
  return %e : tensor<f32>
}

func.func @two_results(%x: tensor<3x5xf32>, %s: tensor<f32>) -> (tensor<3x5xf32>, tensor<3x5xf32>) {
  %a = kiln.mul %x, %s : tensor<3x5xf32>, tensor<f32>
  %t = kiln.tanh %a : tensor<3x5xf32>
  %g = kiln.sigmoid %a : tensor<3x5xf32>
  %u = kiln.add %t, %g : tensor<3x5xf32>, tensor<3x5xf32>
  return %t, %u : tensor<3x5xf32>, tensor<3x5xf32>
}

func.func @broadcast_5d(%x: tensor<2x3x4x5x6xf32>, %a: tensor<2x1x4x1x6xf32>,
                        %b: tensor<3x1x1x1xf32>) -> tensor<2x3x4x5x6xf32> {
  %p = kiln.add %x, %a : tensor<2x3x4x5x6xf32>, tensor<2x1x4x1x6xf32>
  %q = kiln.mul %p, %b : tensor<2x3x4x5x6xf32>, tensor<3x1x1x1xf32>
  return %q : tensor<2x3x4x5x6xf32>
}

func.func @softmax_of_broadcast(%x: tensor<4x1x9xf32>, %y: tensor<4x7x1xf32>) -> tensor<4x7x9xf32> {
  %a = kiln.add %x, %y : tensor<4x1x9xf32>, tensor<4x7x1xf32>
  %s = kiln.log_softmax %a {axis = 2 : i64} : tensor<4x7x9xf32>
  return %s : tensor<4x7x9xf32>
}

func.func @sum_all(%x: tensor<37x41xf32>, %b: tensor<41xf32>) -> tensor<f32> {
  %a = kiln.sub %x, %b : tensor<37x41xf32>, tensor<41xf32>
  %s = kiln.sum %a : tensor<37x41xf32>
  return %s : tensor<f32>
}
