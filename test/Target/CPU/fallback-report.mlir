// --report lists each fused kernel as native (with its symbol) or op by op
// (with the reason); identical fusions share one generated function;
// --cpu=none generates nothing.
// RUN: kiln-compile %s -o %t.kiln --report 2>&1 | FileCheck %s
// RUN: kiln-compile %s -o %t.kiln --report --cpu=none 2>&1 | FileCheck %s --check-prefix=NONE

// CHECK: cpu codegen: 2 fused kernel(s) generated as 1 function(s) for x86-64-v3, 2 run op by op
// CHECK-DAG: fusion "loop" [add,tanh] at {{.*}}: native kiln_kernel_0
// CHECK-DAG: fusion "loop" [add,tanh] at {{.*}}: native kiln_kernel_0
// CHECK-DAG: fusion "reduction" [softmax] at {{.*}}: op by op: a "reduction" fusion (only "loop" fusions are generated)
// CHECK-DAG: fusion "loop" [add,pow] at {{.*}}: op by op: 'pow' on integers (runs op by op)
// NONE-NOT: cpu codegen

// The transpose is not fused, so the two identical chains are two fusions.
func.func @twice(%x: tensor<32x32xf32>, %y: tensor<32x32xf32>) -> tensor<32x32xf32> {
  %a = kiln.add %x, %y : tensor<32x32xf32>, tensor<32x32xf32>
  %b = kiln.tanh %a : tensor<32x32xf32>
  %t = kiln.transpose %b {permutation = array<i64: 1, 0>} : tensor<32x32xf32>
  %c = kiln.add %t, %y : tensor<32x32xf32>, tensor<32x32xf32>
  %d = kiln.tanh %c : tensor<32x32xf32>
  return %d : tensor<32x32xf32>
}
func.func @soft(%x: tensor<4x32xf32>) -> tensor<4x32xf32> {
  %s = kiln.softmax %x {axis = -1 : i64} : tensor<4x32xf32>
  return %s : tensor<4x32xf32>
}
func.func @ints(%x: tensor<4x32xi32>, %y: tensor<4x32xi32>) -> tensor<4x32xi32> {
  %a = kiln.add %x, %y : tensor<4x32xi32>, tensor<4x32xi32>
  %b = kiln.pow %a, %y : tensor<4x32xi32>, tensor<4x32xi32>
  return %b : tensor<4x32xi32>
}
