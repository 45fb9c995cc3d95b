// Fusions the CUDA backend does not generate stay op by op, and the report
// says why; the rest of the graph is still generated.
// RUN: kiln-cuda-compile %s --report | FileCheck %s
// RUN: not kiln-cuda-compile %s --require-all 2>&1 | FileCheck %s --check-prefix=REQUIRE

// CHECK: cuda codegen: 2 fused kernel(s) generated as 2 kernel(s), 2 run op by op
// CHECK: fusion "loop" [add,pow] at {{.*}}: op by op: 'pow' on integers (runs op by op)
// CHECK: fusion "loop" [relu] at {{.*}}: cuda kiln_cuda_kernel_0
// CHECK: fusion "reduction" [sum] at {{.*}}: op by op: a reduction over non-adjacent axes
// CHECK: fusion "reduction" [sum] at {{.*}}: cuda kiln_cuda_kernel_1
// REQUIRE: kiln-cuda-compile: 2 fusion(s) have no CUDA kernel
func.func @mixed(%i: tensor<4x8xi32>, %y: tensor<4x8xf32>, %z: tensor<2x3x4xf32>)
    -> (tensor<4x8xi32>, tensor<4x8xf32>, tensor<3xf32>, tensor<2x3xf32>) {
  %a = kiln.add %i, %i : tensor<4x8xi32>, tensor<4x8xi32>
  %d = kiln.pow %a, %i : tensor<4x8xi32>, tensor<4x8xi32>
  %r = kiln.relu %y : tensor<4x8xf32>
  %s = kiln.sum %z {axes = array<i64: 0, 2>} : tensor<2x3x4xf32>
  %t = kiln.sum %z {axes = array<i64: 2>} : tensor<2x3x4xf32>
  return %d, %r, %s, %t : tensor<4x8xi32>, tensor<4x8xf32>, tensor<3xf32>, tensor<2x3xf32>
}
