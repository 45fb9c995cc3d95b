// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s
// RUN: kiln-opt %s --split-input-file --mlir-print-op-generic | kiln-opt --split-input-file | FileCheck %s
// RUN: kiln-opt %s --split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round-trip of the reduction family: sum, mean, reduce_max, reduce_min,
// prod (axes + keepdims) and argmax, argmin (axis + keepdims, i64 result).

// Default axes (all) and keepdims (false) give a rank-0 result; explicit
// defaults are elided on print (the generic form spells them out).
// CHECK-LABEL: func.func @reduce_all
// CHECK: kiln.sum %{{.*}} : tensor<2x3xf32>{{$}}
// CHECK: kiln.sum %{{.*}} : tensor<2x3xf32>{{$}}
// CHECK: kiln.mean %{{.*}} : tensor<2x3xf32>{{$}}
// CHECK: kiln.reduce_max %{{.*}} : tensor<2x3xf32>{{$}}
// CHECK: kiln.reduce_min %{{.*}} : tensor<2x3xf32>{{$}}
// CHECK: kiln.prod %{{.*}} : tensor<2x3xf32>{{$}}
// CHECK: return %{{.*}} : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
// GENERIC-LABEL: sym_name = "reduce_all"
// GENERIC: "kiln.sum"(%{{.*}}) {axes = array<i64>, keepdims = false} : (tensor<2x3xf32>) -> tensor<f32>
// GENERIC: "kiln.sum"(%{{.*}}) {axes = array<i64>, keepdims = false} : (tensor<2x3xf32>) -> tensor<f32>
func.func @reduce_all(%x: tensor<2x3xf32>)
    -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) {
  %0 = kiln.sum %x : tensor<2x3xf32>
  %1 = kiln.sum %x {axes = array<i64>, keepdims = false} : tensor<2x3xf32>
  %2 = kiln.mean %x : tensor<2x3xf32>
  %3 = kiln.reduce_max %x : tensor<2x3xf32>
  %4 = kiln.reduce_min %x : tensor<2x3xf32>
  %5 = kiln.prod %x : tensor<2x3xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
}

// -----

// Chosen axes, negative axes, unordered axes and keepdims.
// CHECK-LABEL: func.func @reduce_axes
// CHECK: kiln.sum %{{.*}} {axes = array<i64: 1>} : tensor<2x3x4xf32>
// CHECK: kiln.mean %{{.*}} {axes = array<i64: -1>, keepdims = true} : tensor<2x3x4xf32>
// CHECK: kiln.reduce_max %{{.*}} {axes = array<i64: 2, 0>} : tensor<2x3x4xi32>
// CHECK: kiln.reduce_min %{{.*}} {axes = array<i64: 0, 1, 2>, keepdims = true} : tensor<2x3x4xi8>
// CHECK: kiln.prod %{{.*}} {axes = array<i64: 0>} : tensor<2x3x4xi64>
// CHECK: return %{{.*}} : tensor<2x4xf32>, tensor<2x3x1xf32>, tensor<3xi32>, tensor<1x1x1xi8>, tensor<3x4xi64>
func.func @reduce_axes(%x: tensor<2x3x4xf32>, %i: tensor<2x3x4xi32>, %q: tensor<2x3x4xi8>, %l: tensor<2x3x4xi64>)
    -> (tensor<2x4xf32>, tensor<2x3x1xf32>, tensor<3xi32>, tensor<1x1x1xi8>, tensor<3x4xi64>) {
  %0 = kiln.sum %x {axes = array<i64: 1>} : tensor<2x3x4xf32>
  %1 = kiln.mean %x {axes = array<i64: -1>, keepdims = true} : tensor<2x3x4xf32>
  %2 = kiln.reduce_max %i {axes = array<i64: 2, 0>} : tensor<2x3x4xi32>
  %3 = kiln.reduce_min %q {axes = array<i64: 0, 1, 2>, keepdims = true} : tensor<2x3x4xi8>
  %4 = kiln.prod %l {axes = array<i64: 0>} : tensor<2x3x4xi64>
  return %0, %1, %2, %3, %4 : tensor<2x4xf32>, tensor<2x3x1xf32>, tensor<3xi32>, tensor<1x1x1xi8>, tensor<3x4xi64>
}

// -----

// Reductions on f16, bf16, f64 and of a rank-0 tensor (no axes: identity shape).
// CHECK-LABEL: func.func @reduce_types
// CHECK: kiln.mean %{{.*}} {axes = array<i64: 0>} : tensor<8x2xf16>
// CHECK: kiln.sum %{{.*}} {keepdims = true} : tensor<8x2xbf16>
// CHECK: kiln.reduce_max %{{.*}} : tensor<f64>
// CHECK: return %{{.*}} : tensor<2xf16>, tensor<1x1xbf16>, tensor<f64>
func.func @reduce_types(%h: tensor<8x2xf16>, %b: tensor<8x2xbf16>, %d: tensor<f64>)
    -> (tensor<2xf16>, tensor<1x1xbf16>, tensor<f64>) {
  %0 = kiln.mean %h {axes = array<i64: 0>} : tensor<8x2xf16>
  %1 = kiln.sum %b {keepdims = true} : tensor<8x2xbf16>
  %2 = kiln.reduce_max %d : tensor<f64>
  return %0, %1, %2 : tensor<2xf16>, tensor<1x1xbf16>, tensor<f64>
}

// -----

// argmax/argmin give i64 indices: default axis 0, negative axis, keepdims.
// CHECK-LABEL: func.func @arg_reduce
// CHECK: kiln.argmax %{{.*}} : tensor<4x5xf32>{{$}}
// CHECK: kiln.argmax %{{.*}} : tensor<4x5xf32>{{$}}
// CHECK: kiln.argmax %{{.*}} {axis = -1 : i64, keepdims = true} : tensor<4x5xf32>
// CHECK: kiln.argmin %{{.*}} {axis = 1 : i64} : tensor<4x5xi32>
// CHECK: kiln.argmin %{{.*}} : tensor<7xi8>
// CHECK: return %{{.*}} : tensor<5xi64>, tensor<5xi64>, tensor<4x1xi64>, tensor<4xi64>, tensor<i64>
// GENERIC-LABEL: sym_name = "arg_reduce"
// GENERIC: "kiln.argmax"(%{{.*}}) {axis = -1 : i64, keepdims = true} : (tensor<4x5xf32>) -> tensor<4x1xi64>
func.func @arg_reduce(%x: tensor<4x5xf32>, %i: tensor<4x5xi32>, %q: tensor<7xi8>)
    -> (tensor<5xi64>, tensor<5xi64>, tensor<4x1xi64>, tensor<4xi64>, tensor<i64>) {
  %0 = kiln.argmax %x : tensor<4x5xf32>
  %1 = kiln.argmax %x {axis = 0 : i64, keepdims = false} : tensor<4x5xf32>
  %2 = kiln.argmax %x {axis = -1 : i64, keepdims = true} : tensor<4x5xf32>
  %3 = kiln.argmin %i {axis = 1 : i64} : tensor<4x5xi32>
  %4 = kiln.argmin %q : tensor<7xi8>
  return %0, %1, %2, %3, %4 : tensor<5xi64>, tensor<5xi64>, tensor<4x1xi64>, tensor<4xi64>, tensor<i64>
}
