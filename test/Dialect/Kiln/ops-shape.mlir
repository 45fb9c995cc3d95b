// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s
// RUN: kiln-opt %s --split-input-file --mlir-print-op-generic | kiln-opt --split-input-file | FileCheck %s
// RUN: kiln-opt %s --split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round-trip of the shape family: reshape, transpose, broadcast_to, concat,
// slice, pad, split, expand_dims, squeeze, one_hot. Inferred result types are
// checked through the `return` that uses them.

// reshape to another rank, to rank 0, from rank 0, of an empty tensor.
// CHECK-LABEL: func.func @reshape
// CHECK: kiln.reshape %{{.*}} : tensor<2x3xf32> -> tensor<6xf32>
// CHECK: kiln.reshape %{{.*}} : tensor<6xf32> -> tensor<3x1x2xf32>
// CHECK: kiln.reshape %{{.*}} : tensor<1x1xi8> -> tensor<i8>
// CHECK: kiln.reshape %{{.*}} : tensor<i1> -> tensor<1x1x1xi1>
// CHECK: kiln.reshape %{{.*}} : tensor<0x4xbf16> -> tensor<2x0xbf16>
func.func @reshape(%x: tensor<2x3xf32>, %q: tensor<1x1xi8>, %p: tensor<i1>, %e: tensor<0x4xbf16>)
    -> (tensor<3x1x2xf32>, tensor<i8>, tensor<1x1x1xi1>, tensor<2x0xbf16>) {
  %0 = kiln.reshape %x : tensor<2x3xf32> -> tensor<6xf32>
  %1 = kiln.reshape %0 : tensor<6xf32> -> tensor<3x1x2xf32>
  %2 = kiln.reshape %q : tensor<1x1xi8> -> tensor<i8>
  %3 = kiln.reshape %p : tensor<i1> -> tensor<1x1x1xi1>
  %4 = kiln.reshape %e : tensor<0x4xbf16> -> tensor<2x0xbf16>
  return %1, %2, %3, %4 : tensor<3x1x2xf32>, tensor<i8>, tensor<1x1x1xi1>, tensor<2x0xbf16>
}

// -----

// transpose: a 3-D rotation, a 2-D swap on i1, the identity, rank 0.
// CHECK-LABEL: func.func @transpose
// CHECK: kiln.transpose %{{.*}} {permutation = array<i64: 2, 0, 1>} : tensor<2x3x4xf32>
// CHECK: kiln.transpose %{{.*}} {permutation = array<i64: 1, 0>} : tensor<2x5xi1>
// CHECK: kiln.transpose %{{.*}} {permutation = array<i64: 0, 1>} : tensor<2x5xi64>
// CHECK: kiln.transpose %{{.*}} {permutation = array<i64>} : tensor<f16>
// CHECK: return %{{.*}} : tensor<4x2x3xf32>, tensor<5x2xi1>, tensor<2x5xi64>, tensor<f16>
// GENERIC-LABEL: sym_name = "transpose"
// GENERIC: "kiln.transpose"(%{{.*}}) {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
func.func @transpose(%x: tensor<2x3x4xf32>, %p: tensor<2x5xi1>, %l: tensor<2x5xi64>, %s: tensor<f16>)
    -> (tensor<4x2x3xf32>, tensor<5x2xi1>, tensor<2x5xi64>, tensor<f16>) {
  %0 = kiln.transpose %x {permutation = array<i64: 2, 0, 1>} : tensor<2x3x4xf32>
  %1 = kiln.transpose %p {permutation = array<i64: 1, 0>} : tensor<2x5xi1>
  %2 = kiln.transpose %l {permutation = array<i64: 0, 1>} : tensor<2x5xi64>
  %3 = kiln.transpose %s {permutation = array<i64>} : tensor<f16>
  return %0, %1, %2, %3 : tensor<4x2x3xf32>, tensor<5x2xi1>, tensor<2x5xi64>, tensor<f16>
}

// -----

// broadcast_to: new leading dims, stretching size-1 dims, from rank 0, to
// the same shape.
// CHECK-LABEL: func.func @broadcast_to
// CHECK: kiln.broadcast_to %{{.*}} : tensor<3xf32> -> tensor<2x3xf32>
// CHECK: kiln.broadcast_to %{{.*}} : tensor<1x3xi32> -> tensor<4x2x3xi32>
// CHECK: kiln.broadcast_to %{{.*}} : tensor<i1> -> tensor<2x2xi1>
// CHECK: kiln.broadcast_to %{{.*}} : tensor<2x3xf64> -> tensor<2x3xf64>
func.func @broadcast_to(%a: tensor<3xf32>, %b: tensor<1x3xi32>, %c: tensor<i1>, %d: tensor<2x3xf64>)
    -> (tensor<2x3xf32>, tensor<4x2x3xi32>, tensor<2x2xi1>, tensor<2x3xf64>) {
  %0 = kiln.broadcast_to %a : tensor<3xf32> -> tensor<2x3xf32>
  %1 = kiln.broadcast_to %b : tensor<1x3xi32> -> tensor<4x2x3xi32>
  %2 = kiln.broadcast_to %c : tensor<i1> -> tensor<2x2xi1>
  %3 = kiln.broadcast_to %d : tensor<2x3xf64> -> tensor<2x3xf64>
  return %0, %1, %2, %3 : tensor<2x3xf32>, tensor<4x2x3xi32>, tensor<2x2xi1>, tensor<2x3xf64>
}

// -----

// concat (variadic): one, two and three operands, negative axis.
// CHECK-LABEL: func.func @concat
// CHECK: kiln.concat %{{.*}} {axis = 0 : i64} : tensor<2x3xf32>{{$}}
// CHECK: kiln.concat %{{.*}}, %{{.*}} {axis = 0 : i64} : tensor<2x3xf32>, tensor<4x3xf32>
// CHECK: kiln.concat %{{.*}}, %{{.*}}, %{{.*}} {axis = -1 : i64} : tensor<2x3xf32>, tensor<2x5xf32>, tensor<2x1xf32>
// CHECK: kiln.concat %{{.*}}, %{{.*}} {axis = 0 : i64} : tensor<2xi1>, tensor<3xi1>
// CHECK: return %{{.*}} : tensor<2x3xf32>, tensor<6x3xf32>, tensor<2x9xf32>, tensor<5xi1>
// GENERIC-LABEL: sym_name = "concat"
// GENERIC: "kiln.concat"(%{{.*}}, %{{.*}}, %{{.*}}) {axis = -1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>, tensor<2x1xf32>) -> tensor<2x9xf32>
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>, %c: tensor<2x5xf32>, %d: tensor<2x1xf32>,
                  %p: tensor<2xi1>, %q: tensor<3xi1>)
    -> (tensor<2x3xf32>, tensor<6x3xf32>, tensor<2x9xf32>, tensor<5xi1>) {
  %0 = kiln.concat %a {axis = 0 : i64} : tensor<2x3xf32>
  %1 = kiln.concat %a, %b {axis = 0 : i64} : tensor<2x3xf32>, tensor<4x3xf32>
  %2 = kiln.concat %a, %c, %d {axis = -1 : i64} : tensor<2x3xf32>, tensor<2x5xf32>, tensor<2x1xf32>
  %3 = kiln.concat %p, %q {axis = 0 : i64} : tensor<2xi1>, tensor<3xi1>
  return %0, %1, %2, %3 : tensor<2x3xf32>, tensor<6x3xf32>, tensor<2x9xf32>, tensor<5xi1>
}

// -----

// slice: default steps, explicit steps, negative indices clamped as in
// Python, a negative step, an empty result, 2-D.
// CHECK-LABEL: func.func @slice
// CHECK: kiln.slice %{{.*}} {ends = array<i64: 8>, starts = array<i64: 2>} : tensor<10xf32>
// CHECK: kiln.slice %{{.*}} {ends = array<i64: 8>, starts = array<i64: 2>, steps = array<i64: 2>} : tensor<10xf32>
// CHECK: kiln.slice %{{.*}} {ends = array<i64: 100>, starts = array<i64: -3>} : tensor<10xf32>
// CHECK: kiln.slice %{{.*}} {ends = array<i64: -11>, starts = array<i64: -1>, steps = array<i64: -1>} : tensor<10xf32>
// CHECK: kiln.slice %{{.*}} {ends = array<i64: 2>, starts = array<i64: 5>} : tensor<10xf32>
// CHECK: kiln.slice %{{.*}} {ends = array<i64: 4, 5>, starts = array<i64: 0, 1>, steps = array<i64: 1, 2>} : tensor<4x6xi32>
// CHECK: kiln.slice %{{.*}} {ends = array<i64: 8>, starts = array<i64: 2>} : tensor<10xf32>{{$}}
// CHECK: return %{{.*}} : tensor<6xf32>, tensor<3xf32>, tensor<3xf32>, tensor<10xf32>, tensor<0xf32>, tensor<4x2xi32>, tensor<6xf32>
// GENERIC-LABEL: sym_name = "slice"
// GENERIC: "kiln.slice"(%{{.*}}) {ends = array<i64: 4, 5>, starts = array<i64: 0, 1>, steps = array<i64: 1, 2>} : (tensor<4x6xi32>) -> tensor<4x2xi32>
func.func @slice(%x: tensor<10xf32>, %m: tensor<4x6xi32>)
    -> (tensor<6xf32>, tensor<3xf32>, tensor<3xf32>, tensor<10xf32>, tensor<0xf32>, tensor<4x2xi32>, tensor<6xf32>) {
  %0 = kiln.slice %x {starts = array<i64: 2>, ends = array<i64: 8>} : tensor<10xf32>
  %1 = kiln.slice %x {starts = array<i64: 2>, ends = array<i64: 8>, steps = array<i64: 2>} : tensor<10xf32>
  %2 = kiln.slice %x {starts = array<i64: -3>, ends = array<i64: 100>} : tensor<10xf32>
  %3 = kiln.slice %x {starts = array<i64: -1>, ends = array<i64: -11>, steps = array<i64: -1>} : tensor<10xf32>
  %4 = kiln.slice %x {starts = array<i64: 5>, ends = array<i64: 2>} : tensor<10xf32>
  %5 = kiln.slice %m {starts = array<i64: 0, 1>, ends = array<i64: 4, 5>, steps = array<i64: 1, 2>} : tensor<4x6xi32>
  %6 = kiln.slice %x {starts = array<i64: 2>, ends = array<i64: 8>, steps = array<i64>} : tensor<10xf32>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<6xf32>, tensor<3xf32>, tensor<3xf32>, tensor<10xf32>, tensor<0xf32>,
      tensor<4x2xi32>, tensor<6xf32>
}

// -----

// slice with steps of INT64_MAX and INT64_MIN: one element each, computed
// without overflowing (KNOWN_BUGS 12, 13).
// CHECK-LABEL: func.func @slice_extreme_steps
// CHECK: kiln.slice %{{.*}} {ends = array<i64: 10>, starts = array<i64: 0>, steps = array<i64: 9223372036854775807>} : tensor<10xf32>
// CHECK: kiln.slice %{{.*}} {ends = array<i64: 0>, starts = array<i64: 5>, steps = array<i64: -9223372036854775808>} : tensor<10xf32>
// CHECK: return %{{.*}} : tensor<1xf32>, tensor<1xf32>
// GENERIC-LABEL: sym_name = "slice_extreme_steps"
// GENERIC: "kiln.slice"(%{{.*}}) {ends = array<i64: 0>, starts = array<i64: 5>, steps = array<i64: -9223372036854775808>} : (tensor<10xf32>) -> tensor<1xf32>
func.func @slice_extreme_steps(%x: tensor<10xf32>) -> (tensor<1xf32>, tensor<1xf32>) {
  %0 = kiln.slice %x {starts = array<i64: 0>, ends = array<i64: 10>, steps = array<i64: 9223372036854775807>} : tensor<10xf32>
  %1 = kiln.slice %x {starts = array<i64: 5>, ends = array<i64: 0>, steps = array<i64: -9223372036854775808>} : tensor<10xf32>
  return %0, %1 : tensor<1xf32>, tensor<1xf32>
}

// -----

// pad: low and high per dim, a pad value, integer input, all-zero pads.
// CHECK-LABEL: func.func @pad
// CHECK: kiln.pad %{{.*}} {pads = array<i64: 1, 0, 1, 2>} : tensor<2x3xf32>{{$}}
// CHECK: kiln.pad %{{.*}} {pads = array<i64: 2, 2>, value = -1.000000e+00 : f64} : tensor<3xi64>
// CHECK: kiln.pad %{{.*}} {pads = array<i64: 0, 0, 0, 0>} : tensor<2x3xf32>{{$}}
// CHECK: kiln.pad %{{.*}} {pads = array<i64: 1, 0, 1, 2>} : tensor<2x3xf32>{{$}}
// CHECK: return %{{.*}} : tensor<4x5xf32>, tensor<7xi64>, tensor<2x3xf32>, tensor<4x5xf32>
func.func @pad(%x: tensor<2x3xf32>, %l: tensor<3xi64>) -> (tensor<4x5xf32>, tensor<7xi64>, tensor<2x3xf32>, tensor<4x5xf32>) {
  %0 = kiln.pad %x {pads = array<i64: 1, 0, 1, 2>} : tensor<2x3xf32>
  %1 = kiln.pad %l {pads = array<i64: 2, 2>, value = -1.0 : f64} : tensor<3xi64>
  %2 = kiln.pad %x {pads = array<i64: 0, 0, 0, 0>} : tensor<2x3xf32>
  %3 = kiln.pad %x {pads = array<i64: 1, 0, 1, 2>, value = 0.0 : f64} : tensor<2x3xf32>
  return %0, %1, %2, %3 : tensor<4x5xf32>, tensor<7xi64>, tensor<2x3xf32>, tensor<4x5xf32>
}

// -----

// split (variadic results): three pieces, one piece, a negative axis, a
// zero-size piece.
// CHECK-LABEL: func.func @split
// CHECK: %[[R:.*]]:3 = kiln.split %{{.*}} {axis = 0 : i64, sizes = array<i64: 1, 2, 3>} : tensor<6x4xf32>
// CHECK: %[[S:.*]] = kiln.split %{{.*}} {axis = -1 : i64, sizes = array<i64: 4>} : tensor<6x4xf32>
// CHECK: %[[T:.*]]:2 = kiln.split %{{.*}} {axis = 1 : i64, sizes = array<i64: 0, 4>} : tensor<6x4xi8>
// CHECK: return %[[R]]#0, %[[R]]#1, %[[R]]#2, %[[S]], %[[T]]#0, %[[T]]#1 : tensor<1x4xf32>, tensor<2x4xf32>, tensor<3x4xf32>, tensor<6x4xf32>, tensor<6x0xi8>, tensor<6x4xi8>
// GENERIC-LABEL: sym_name = "split"
// GENERIC: "kiln.split"(%{{.*}}) {axis = 0 : i64, sizes = array<i64: 1, 2, 3>} : (tensor<6x4xf32>) -> (tensor<1x4xf32>, tensor<2x4xf32>, tensor<3x4xf32>)
func.func @split(%x: tensor<6x4xf32>, %q: tensor<6x4xi8>)
    -> (tensor<1x4xf32>, tensor<2x4xf32>, tensor<3x4xf32>, tensor<6x4xf32>, tensor<6x0xi8>, tensor<6x4xi8>) {
  %r:3 = kiln.split %x {axis = 0 : i64, sizes = array<i64: 1, 2, 3>} : tensor<6x4xf32>
  %s = kiln.split %x {axis = -1 : i64, sizes = array<i64: 4>} : tensor<6x4xf32>
  %t:2 = kiln.split %q {axis = 1 : i64, sizes = array<i64: 0, 4>} : tensor<6x4xi8>
  return %r#0, %r#1, %r#2, %s, %t#0, %t#1 : tensor<1x4xf32>, tensor<2x4xf32>, tensor<3x4xf32>, tensor<6x4xf32>,
      tensor<6x0xi8>, tensor<6x4xi8>
}

// -----

// expand_dims: leading, trailing (negative), several axes, from rank 0.
// CHECK-LABEL: func.func @expand_dims
// CHECK: kiln.expand_dims %{{.*}} {axes = array<i64: 0>} : tensor<2x3xf32>
// CHECK: kiln.expand_dims %{{.*}} {axes = array<i64: -1>} : tensor<2x3xf32>
// CHECK: kiln.expand_dims %{{.*}} {axes = array<i64: 0, 3>} : tensor<2x3xf32>
// CHECK: kiln.expand_dims %{{.*}} {axes = array<i64: 0>} : tensor<i32>
// CHECK: return %{{.*}} : tensor<1x2x3xf32>, tensor<2x3x1xf32>, tensor<1x2x3x1xf32>, tensor<1xi32>
func.func @expand_dims(%x: tensor<2x3xf32>, %s: tensor<i32>)
    -> (tensor<1x2x3xf32>, tensor<2x3x1xf32>, tensor<1x2x3x1xf32>, tensor<1xi32>) {
  %0 = kiln.expand_dims %x {axes = array<i64: 0>} : tensor<2x3xf32>
  %1 = kiln.expand_dims %x {axes = array<i64: -1>} : tensor<2x3xf32>
  %2 = kiln.expand_dims %x {axes = array<i64: 0, 3>} : tensor<2x3xf32>
  %3 = kiln.expand_dims %s {axes = array<i64: 0>} : tensor<i32>
  return %0, %1, %2, %3 : tensor<1x2x3xf32>, tensor<2x3x1xf32>, tensor<1x2x3x1xf32>, tensor<1xi32>
}

// -----

// squeeze: every size-1 dim by default (explicit empty axes elided), one
// axis, a negative axis, to rank 0.
// CHECK-LABEL: func.func @squeeze
// CHECK: kiln.squeeze %{{.*}} : tensor<1x2x1x3xf32>{{$}}
// CHECK: kiln.squeeze %{{.*}} : tensor<1x2x1x3xf32>{{$}}
// CHECK: kiln.squeeze %{{.*}} {axes = array<i64: 0>} : tensor<1x2x1x3xf32>
// CHECK: kiln.squeeze %{{.*}} {axes = array<i64: -2>} : tensor<1x2x1x3xf32>
// CHECK: kiln.squeeze %{{.*}} : tensor<1x1xi1>
// CHECK: return %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x1x3xf32>, tensor<1x2x3xf32>, tensor<i1>
func.func @squeeze(%x: tensor<1x2x1x3xf32>, %p: tensor<1x1xi1>)
    -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x1x3xf32>, tensor<1x2x3xf32>, tensor<i1>) {
  %0 = kiln.squeeze %x : tensor<1x2x1x3xf32>
  %1 = kiln.squeeze %x {axes = array<i64>} : tensor<1x2x1x3xf32>
  %2 = kiln.squeeze %x {axes = array<i64: 0>} : tensor<1x2x1x3xf32>
  %3 = kiln.squeeze %x {axes = array<i64: -2>} : tensor<1x2x1x3xf32>
  %4 = kiln.squeeze %p : tensor<1x1xi1>
  return %0, %1, %2, %3, %4 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x1x3xf32>, tensor<1x2x3xf32>, tensor<i1>
}

// -----

// one_hot: default axis -1 (last), axis 0, integer result, on/off values,
// i32 indices, rank-0 indices.
// CHECK-LABEL: func.func @one_hot
// CHECK: kiln.one_hot %{{.*}} {depth = 10 : i64} : tensor<4xi64> -> tensor<4x10xf32>
// CHECK: kiln.one_hot %{{.*}} {axis = 0 : i64, depth = 10 : i64} : tensor<4xi64> -> tensor<10x4xf32>
// CHECK: kiln.one_hot %{{.*}} {depth = 3 : i64, off_value = -1.000000e+00 : f64, on_value = 5.000000e+00 : f64} : tensor<2x2xi32> -> tensor<2x2x3xi32>
// CHECK: kiln.one_hot %{{.*}} {depth = 10 : i64} : tensor<4xi64> -> tensor<4x10xf32>{{$}}
// CHECK: kiln.one_hot %{{.*}} {depth = 2 : i64} : tensor<i64> -> tensor<2xbf16>
func.func @one_hot(%i: tensor<4xi64>, %j: tensor<2x2xi32>, %k: tensor<i64>)
    -> (tensor<4x10xf32>, tensor<10x4xf32>, tensor<2x2x3xi32>, tensor<4x10xf32>, tensor<2xbf16>) {
  %0 = kiln.one_hot %i {depth = 10 : i64} : tensor<4xi64> -> tensor<4x10xf32>
  %1 = kiln.one_hot %i {depth = 10 : i64, axis = 0 : i64} : tensor<4xi64> -> tensor<10x4xf32>
  %2 = kiln.one_hot %j {depth = 3 : i64, on_value = 5.0 : f64, off_value = -1.0 : f64} : tensor<2x2xi32> -> tensor<2x2x3xi32>
  %3 = kiln.one_hot %i {depth = 10 : i64, axis = -1 : i64, on_value = 1.0 : f64, off_value = 0.0 : f64}
      : tensor<4xi64> -> tensor<4x10xf32>
  %4 = kiln.one_hot %k {depth = 2 : i64} : tensor<i64> -> tensor<2xbf16>
  return %0, %1, %2, %3, %4 : tensor<4x10xf32>, tensor<10x4xf32>, tensor<2x2x3xi32>, tensor<4x10xf32>, tensor<2xbf16>
}
