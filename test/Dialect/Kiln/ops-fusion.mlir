// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s
// RUN: kiln-opt %s --split-input-file --mlir-print-op-generic | kiln-opt --split-input-file | FileCheck %s
// RUN: kiln-opt %s --split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round-trip of the compiler-formed family: kiln.fusion regions with their
// kiln.yield terminator, and kiln.gemm with its epilogue.

// A loop fusion of two elementwise ops.
// CHECK-LABEL: func.func @fusion_loop
// CHECK: %[[R:.*]] = kiln.fusion "loop"(%arg0, %arg1) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>):
// CHECK-NEXT: %[[S:.*]] = kiln.add %[[X]], %[[Y]] : tensor<4xf32>, tensor<4xf32>
// CHECK-NEXT: %[[E:.*]] = kiln.exp %[[S]] : tensor<4xf32>
// CHECK-NEXT: kiln.yield %[[E]] : tensor<4xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return %[[R]] : tensor<4xf32>
func.func @fusion_loop(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %r = kiln.fusion "loop" (%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>, %y: tensor<4xf32>):
    %s = kiln.add %x, %y : tensor<4xf32>, tensor<4xf32>
    %e = kiln.exp %s : tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}

// -----

// A reduction fusion with two results of different types (multi-output).
// CHECK-LABEL: func.func @fusion_reduction_two_results
// CHECK: %[[R:.*]]:2 = kiln.fusion "reduction"(%arg0) : (tensor<2x8xf16>) -> (tensor<2xf16>, tensor<2x8xf16>) {
// CHECK: kiln.sum %{{.*}} {axes = array<i64: 1>} : tensor<2x8xf16>
// CHECK: kiln.yield %{{.*}}, %{{.*}} : tensor<2xf16>, tensor<2x8xf16>
// CHECK: return %[[R]]#0, %[[R]]#1 : tensor<2xf16>, tensor<2x8xf16>
// GENERIC-LABEL: sym_name = "fusion_reduction_two_results"
// GENERIC: "kiln.fusion"(%{{.*}}) ({
// GENERIC: "kiln.yield"(%{{.*}}, %{{.*}}) : (tensor<2xf16>, tensor<2x8xf16>) -> ()
// GENERIC: }) {kind = "reduction"} : (tensor<2x8xf16>) -> (tensor<2xf16>, tensor<2x8xf16>)
func.func @fusion_reduction_two_results(%a: tensor<2x8xf16>) -> (tensor<2xf16>, tensor<2x8xf16>) {
  %r:2 = kiln.fusion "reduction" (%a) : (tensor<2x8xf16>) -> (tensor<2xf16>, tensor<2x8xf16>) {
  ^bb0(%x: tensor<2x8xf16>):
    %e = kiln.exp %x : tensor<2x8xf16>
    %s = kiln.sum %e {axes = array<i64: 1>} : tensor<2x8xf16>
    kiln.yield %s, %e : tensor<2xf16>, tensor<2x8xf16>
  }
  return %r#0, %r#1 : tensor<2xf16>, tensor<2x8xf16>
}

// -----

// A fusion with no results: the empty yield is implicit and not printed.
// CHECK-LABEL: func.func @fusion_no_results
// CHECK: kiln.fusion "loop"(%arg0) : (tensor<4xi32>) -> () {
// CHECK-NEXT: ^bb0(%{{.*}}: tensor<4xi32>):
// CHECK-NEXT: }
// CHECK-NOT: kiln.yield
func.func @fusion_no_results(%a: tensor<4xi32>) {
  kiln.fusion "loop" (%a) : (tensor<4xi32>) -> () {
  ^bb0(%x: tensor<4xi32>):
    kiln.yield
  }
  return
}

// -----

// A fusion can hold constants (only parameters and nested fusions are
// banned) and carry extra attributes.
// CHECK-LABEL: func.func @fusion_constant_inside
// CHECK: kiln.fusion "loop"(%arg0) {note = "x"} : (tensor<3xi1>) -> tensor<3xi1> {
// CHECK: kiln.constant dense<true> : tensor<3xi1>
// CHECK: kiln.xor
func.func @fusion_constant_inside(%p: tensor<3xi1>) -> tensor<3xi1> {
  %r = kiln.fusion "loop" (%p) {note = "x"} : (tensor<3xi1>) -> tensor<3xi1> {
  ^bb0(%x: tensor<3xi1>):
    %t = kiln.constant dense<true> : tensor<3xi1>
    %n = kiln.xor %x, %t : tensor<3xi1>, tensor<3xi1>
    kiln.yield %n : tensor<3xi1>
  }
  return %r : tensor<3xi1>
}

// -----

// gemm: bias absent and present, every activation, default activation
// elided, transposes, batch broadcasting, f16/bf16/f64.
// CHECK-LABEL: func.func @gemm
// CHECK: kiln.gemm %arg0, %arg1 : tensor<2x3xf32>, tensor<3x4xf32>{{$}}
// CHECK: kiln.gemm %arg0, %arg1 : tensor<2x3xf32>, tensor<3x4xf32>{{$}}
// CHECK: kiln.gemm %arg0, %arg1, %arg2 {activation = "relu"} : tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>
// CHECK: kiln.gemm %arg0, %arg1, %arg2 {activation = "gelu"} : tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>
// CHECK: kiln.gemm %arg0, %arg1, %arg2 {activation = "gelu_tanh"} : tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>
// CHECK: kiln.gemm %arg0, %arg1, %arg2 {activation = "silu"} : tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>
// CHECK: kiln.gemm %arg0, %arg1, %arg2 {activation = "sigmoid"} : tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>
// CHECK: kiln.gemm %arg0, %arg1, %arg2 {activation = "tanh"} : tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>
// CHECK: kiln.gemm %arg3, %arg4 {transpose_lhs = true, transpose_rhs = true} : tensor<3x2xf16>, tensor<4x3xf16>
// CHECK: kiln.gemm %arg5, %arg6, %arg7 : tensor<5x1x2x3xbf16>, tensor<7x3x4xbf16>, tensor<4xbf16>
// CHECK: kiln.gemm %arg8, %arg8 : tensor<2x2xf64>, tensor<2x2xf64>
// CHECK: return %{{.*}} : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf16>, tensor<5x7x2x4xbf16>, tensor<2x2xf64>
// GENERIC-LABEL: sym_name = "gemm"
// GENERIC: "kiln.gemm"(%{{.*}}, %{{.*}}, %{{.*}}) {activation = "none", transpose_lhs = false, transpose_rhs = false} : (tensor<5x1x2x3xbf16>, tensor<7x3x4xbf16>, tensor<4xbf16>) -> tensor<5x7x2x4xbf16>
func.func @gemm(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<4xf32>, %ah: tensor<3x2xf16>, %bh: tensor<4x3xf16>,
                %ab: tensor<5x1x2x3xbf16>, %bb: tensor<7x3x4xbf16>, %cb: tensor<4xbf16>, %d: tensor<2x2xf64>)
    -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>,
        tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf16>, tensor<5x7x2x4xbf16>, tensor<2x2xf64>) {
  %0 = kiln.gemm %a, %b : tensor<2x3xf32>, tensor<3x4xf32>
  %1 = kiln.gemm %a, %b {activation = "none", transpose_lhs = false, transpose_rhs = false} : tensor<2x3xf32>, tensor<3x4xf32>
  %2 = kiln.gemm %a, %b, %c {activation = "relu"} : tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>
  %3 = kiln.gemm %a, %b, %c {activation = "gelu"} : tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>
  %4 = kiln.gemm %a, %b, %c {activation = "gelu_tanh"} : tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>
  %5 = kiln.gemm %a, %b, %c {activation = "silu"} : tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>
  %6 = kiln.gemm %a, %b, %c {activation = "sigmoid"} : tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>
  %7 = kiln.gemm %a, %b, %c {activation = "tanh"} : tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>
  %8 = kiln.gemm %ah, %bh {transpose_lhs = true, transpose_rhs = true} : tensor<3x2xf16>, tensor<4x3xf16>
  %9 = kiln.gemm %ab, %bb, %cb : tensor<5x1x2x3xbf16>, tensor<7x3x4xbf16>, tensor<4xbf16>
  %10 = kiln.gemm %d, %d : tensor<2x2xf64>, tensor<2x2xf64>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>,
      tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf16>, tensor<5x7x2x4xbf16>, tensor<2x2xf64>
}
