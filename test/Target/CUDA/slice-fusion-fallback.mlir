// Slices the CUDA loop emitter cannot read at an offset keep their fusion
// op by op, and the report says why. kiln-fuse-elementwise never forms
// these (positive steps only, the sliced value always stays an input, no
// slices in reductions); the fusions are written by hand so the emitter's
// own checks are exercised, as the pipeline leaves existing fusions alone.
// RUN: kiln-cuda-compile %s --report | FileCheck %s
// RUN: not kiln-cuda-compile %s --require-all 2>&1 | FileCheck %s --check-prefix=REQUIRE

// CHECK: cuda codegen: 1 fused kernel(s) generated as 1 kernel(s), 3 run op by op
// CHECK: fusion "loop" [slice,mul] at {{.*}}: op by op: a slice with a negative step
// CHECK: fusion "loop" [exp,slice] at {{.*}}: op by op: a slice of a value computed in the kernel
// CHECK: fusion "reduction" [slice,sum] at {{.*}}: op by op: a slice inside a reduction fusion
// CHECK: fusion "loop" [slice,mul] at {{.*}}: cuda kiln_cuda_kernel_0
// REQUIRE: kiln-cuda-compile: 3 fusion(s) have no CUDA kernel

// Columns 7 down to 4 (step -1).
func.func @reversed(%x: tensor<4x8xf32>, %y: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %r = kiln.fusion "loop" (%x, %y) : (tensor<4x8xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%a: tensor<4x8xf32>, %b: tensor<4x4xf32>):
    %s = kiln.slice %a {starts = array<i64: 0, 7>, ends = array<i64: 4, 3>, steps = array<i64: 1, -1>} : tensor<4x8xf32>
    %m = kiln.mul %s, %b : tensor<4x4xf32>, tensor<4x4xf32>
    kiln.yield %m : tensor<4x4xf32>
  }
  return %r : tensor<4x4xf32>
}

// A slice of exp(x): there is no buffer holding exp(x) to read at an offset.
func.func @slice_of_computed(%x: tensor<4x8xf32>) -> tensor<4x4xf32> {
  %r = kiln.fusion "loop" (%x) : (tensor<4x8xf32>) -> tensor<4x4xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %e = kiln.exp %a : tensor<4x8xf32>
    %s = kiln.slice %e {starts = array<i64: 0, 4>, ends = array<i64: 4, 8>} : tensor<4x8xf32>
    kiln.yield %s : tensor<4x4xf32>
  }
  return %r : tensor<4x4xf32>
}

// A reduction evaluates its producers at (row, col) of the reduced operand;
// it has no slice indexing.
func.func @slice_into_sum(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %r = kiln.fusion "reduction" (%x) : (tensor<4x8xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %s = kiln.slice %a {starts = array<i64: 0, 4>, ends = array<i64: 4, 8>} : tensor<4x8xf32>
    %t = kiln.sum %s {axes = array<i64: 1>} : tensor<4x4xf32>
    kiln.yield %t : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}

// The same slice forward (step 1) is generated.
func.func @forward(%x: tensor<4x8xf32>, %y: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %r = kiln.fusion "loop" (%x, %y) : (tensor<4x8xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%a: tensor<4x8xf32>, %b: tensor<4x4xf32>):
    %s = kiln.slice %a {starts = array<i64: 0, 4>, ends = array<i64: 4, 8>} : tensor<4x8xf32>
    %m = kiln.mul %s, %b : tensor<4x4xf32>, tensor<4x4xf32>
    kiln.yield %m : tensor<4x4xf32>
  }
  return %r : tensor<4x4xf32>
}
