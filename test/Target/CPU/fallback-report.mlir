// --report lists each fused kernel as native (with its symbol) or op by op
// (with the reason); identical fusions share one generated function;
// --cpu=none generates nothing. A softmax over the last axis is a native
// row-reduction kernel; reductions over outer axes (column reductions), of
// integers, and argmax stay op by op and say why.
// RUN: kiln-compile %s -o %t.kiln --report 2>&1 | FileCheck %s
// RUN: kiln-compile %s -o %t.kiln --report --cpu=none 2>&1 | FileCheck %s --check-prefix=NONE

// CHECK: cpu codegen: 3 fused kernel(s) generated as 2 function(s) for x86-64-v4,x86-64-v3, 5 run op by op
// CHECK-DAG: fusion "loop" [add,tanh] at {{.*}}: native kiln_kernel_0
// CHECK-DAG: fusion "loop" [add,tanh] at {{.*}}: native kiln_kernel_0
// CHECK-DAG: fusion "reduction" [softmax] at {{.*}}: native kiln_kernel_1
// CHECK-DAG: fusion "loop" [add,pow] at {{.*}}: op by op: 'pow' on integers (runs op by op)
// CHECK-DAG: fusion "reduction" [softmax] at {{.*}}: op by op: a reduction over dimensions that are not the innermost ones (a column reduction)
// CHECK-DAG: fusion "reduction" [sum] at {{.*}}: op by op: a reduction over dimensions that are not the innermost ones (a column reduction)
// CHECK-DAG: fusion "reduction" [sum] at {{.*}}: op by op: a reduction of integers or booleans
// CHECK-DAG: fusion "reduction" [argmax] at {{.*}}: op by op: a "reduction" fusion rooted at 'argmax' (no CPU generator)
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
// Outer-axis reductions (softmax over rows, a column sum), an integer row
// sum and argmax.
func.func @outer(%x: tensor<4x32xf32>) -> (tensor<4x32xf32>, tensor<32xf32>) {
  %s = kiln.softmax %x {axis = 0 : i64} : tensor<4x32xf32>
  %c = kiln.sum %x {axes = array<i64: 0>} : tensor<4x32xf32>
  return %s, %c : tensor<4x32xf32>, tensor<32xf32>
}
func.func @int_rows(%x: tensor<4x32xi32>) -> (tensor<4xi32>, tensor<4xi64>) {
  %s = kiln.sum %x {axes = array<i64: 1>} : tensor<4x32xi32>
  %a = kiln.argmax %x {axis = 1 : i64} : tensor<4x32xi32>
  return %s, %a : tensor<4xi32>, tensor<4xi64>
}
