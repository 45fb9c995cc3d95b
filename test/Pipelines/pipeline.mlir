// RUN: kiln-opt %s --kiln-pipeline="report=true" --verify-diagnostics | FileCheck %s
// RUN: kiln-opt %s --kiln-pipeline="fusion=false" | FileCheck %s --check-prefix=NOFUSION

// The whole pipeline on a small classifier head: canonicalize removes the
// inference-time dropout and x * 1, CSE merges the two reads of the shared
// weight, the bias and ReLU fold into the gemm, the tail forms one kernel,
// and memory planning places the gemm's result (the fusion's, which the
// function returns, is the caller's: not in the arena).
// CHECK-LABEL: func.func @head
// CHECK-SAME:    kiln.arena_size
// CHECK:         %[[W:.*]] = kiln.parameter "w"
// CHECK-NOT:     kiln.parameter "w"
// CHECK:         %[[G:.*]] = kiln.gemm %arg0, %[[W]], %{{.*}} {activation = "relu", kiln.offsets
// CHECK:         kiln.fusion "reduction"(%[[G]], %[[W]])
// CHECK-NOT:     kiln.dropout
// NOFUSION-LABEL: func.func @head
// NOFUSION-NOT:   kiln.fusion
// NOFUSION-NOT:   kiln.gemm
// NOFUSION:       kiln.matmul
// expected-remark @+2 {{6 graph ops -> 2 kernels (1 fused, 1 library calls, 0 other)}}
// expected-remark @+1 {{arena 256 bytes (lower bound 256, without reuse 256, 1 buffers; 1 returned)}}
func.func @head(%x: tensor<8x8xf32>, %b: tensor<8xf32>) -> tensor<8xf32> {
  %w = kiln.parameter "w" : tensor<8x8xf32>
  %one = kiln.constant dense<1.0> : tensor<8x8xf32>
  %x1 = kiln.mul %x, %one : tensor<8x8xf32>, tensor<8x8xf32>
  %m = kiln.matmul %x1, %w : tensor<8x8xf32>, tensor<8x8xf32>
  %a = kiln.add %m, %b : tensor<8x8xf32>, tensor<8xf32>
  %r = kiln.relu %a : tensor<8x8xf32>
  %d = kiln.dropout %r {ratio = 0.2 : f64} : tensor<8x8xf32>
  %w2 = kiln.parameter "w" : tensor<8x8xf32>
  %p = kiln.mul %d, %w2 : tensor<8x8xf32>, tensor<8x8xf32>
  // expected-remark @+1 {{reduction kernel of 2 ops: mul, sum}}
  %s = kiln.sum %p {axes = array<i64: 1>} : tensor<8x8xf32>
  return %s : tensor<8xf32>
}
