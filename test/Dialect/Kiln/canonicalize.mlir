// RUN: kiln-opt %s --canonicalize --split-input-file | FileCheck %s

// Folders and canonicalization patterns of the kiln dialect: algebraic
// identities, shape-op simplification, constant folding and its limits.

// x + -0.0 folds to x: it is exact for every float, -0.0 included.
// CHECK-LABEL: func.func @add_neg_zero
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<3xf32>
func.func @add_neg_zero(%x: tensor<3xf32>) -> tensor<3xf32> {
  %z = kiln.constant dense<-0.0> : tensor<3xf32>
  %0 = kiln.add %x, %z : tensor<3xf32>, tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// x + 0.0 does not fold for floats: for x = -0.0 it is +0.0, not x
// (KNOWN_BUGS 32). Neither does 0.0 + x (which becomes x + 0.0, constants
// go right).
// CHECK-LABEL: func.func @add_pos_zero_float
// CHECK: %[[Z:.*]] = kiln.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK: %[[A:.*]] = kiln.add %arg0, %[[Z]] : tensor<2xf32>, tensor<2xf32>
// CHECK: %[[B:.*]] = kiln.add %[[A]], %[[Z]] : tensor<2xf32>, tensor<2xf32>
// CHECK: return %[[B]] : tensor<2xf32>
func.func @add_pos_zero_float(%x: tensor<2xf32>) -> tensor<2xf32> {
  %z = kiln.constant dense<0.0> : tensor<2xf32>
  %0 = kiln.add %x, %z : tensor<2xf32>, tensor<2xf32>
  %1 = kiln.add %z, %0 : tensor<2xf32>, tensor<2xf32>
  return %1 : tensor<2xf32>
}

// -----

// x - -0.0 is x + 0.0: not folded either; x - 0.0 is (checked below).
// CHECK-LABEL: func.func @sub_neg_zero_float
// CHECK: %[[Z:.*]] = kiln.constant dense<-0.000000e+00> : tensor<2xf32>
// CHECK: %[[R:.*]] = kiln.sub %arg0, %[[Z]]
// CHECK: return %[[R]]
func.func @sub_neg_zero_float(%x: tensor<2xf32>) -> tensor<2xf32> {
  %z = kiln.constant dense<-0.0> : tensor<2xf32>
  %0 = kiln.sub %x, %z : tensor<2xf32>, tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Integers have a single zero: x + 0 folds.
// CHECK-LABEL: func.func @add_zero_int
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<3xi64>
func.func @add_zero_int(%x: tensor<3xi64>) -> tensor<3xi64> {
  %z = kiln.constant dense<0> : tensor<3xi64>
  %0 = kiln.add %x, %z : tensor<3xi64>, tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// 0 + x folds to x (add is commutative), on integers.
// CHECK-LABEL: func.func @zero_add
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<3xi32>
func.func @zero_add(%x: tensor<3xi32>) -> tensor<3xi32> {
  %z = kiln.constant dense<0> : tensor<3xi32>
  %0 = kiln.add %z, %x : tensor<3xi32>, tensor<3xi32>
  return %0 : tensor<3xi32>
}

// -----

// A rank-0 zero broadcasts to x's own shape, so x + -0 still folds.
// CHECK-LABEL: func.func @add_zero_scalar
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<2x3xf32>
func.func @add_zero_scalar(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %z = kiln.constant dense<-0.0> : tensor<f32>
  %0 = kiln.add %x, %z : tensor<2x3xf32>, tensor<f32>
  return %0 : tensor<2x3xf32>
}

// -----

// No fold when dropping the zero would change the type (x would be broadcast).
// CHECK-LABEL: func.func @add_zero_broadcasts
// CHECK: %[[Z:.*]] = kiln.constant dense<-0.000000e+00> : tensor<2x3xf32>
// CHECK: %[[R:.*]] = kiln.add %arg0, %[[Z]] : tensor<3xf32>, tensor<2x3xf32>
// CHECK: return %[[R]] : tensor<2x3xf32>
func.func @add_zero_broadcasts(%x: tensor<3xf32>) -> tensor<2x3xf32> {
  %z = kiln.constant dense<-0.0> : tensor<2x3xf32>
  %0 = kiln.add %x, %z : tensor<3xf32>, tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// x - 0, x * 1, 1 * x, x / 1 and x ^ 1 all fold to x (f16).
// CHECK-LABEL: func.func @sub_div_mul_pow
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<4xf16>
func.func @sub_div_mul_pow(%x: tensor<4xf16>) -> tensor<4xf16> {
  %z = kiln.constant dense<0.0> : tensor<4xf16>
  %o = kiln.constant dense<1.0> : tensor<4xf16>
  %0 = kiln.sub %x, %z : tensor<4xf16>, tensor<4xf16>
  %1 = kiln.mul %0, %o : tensor<4xf16>, tensor<4xf16>
  %2 = kiln.mul %o, %1 : tensor<4xf16>, tensor<4xf16>
  %3 = kiln.div %2, %o : tensor<4xf16>, tensor<4xf16>
  %4 = kiln.pow %3, %o : tensor<4xf16>, tensor<4xf16>
  return %4 : tensor<4xf16>
}

// -----

// 0 - x and 1 / x are not identities (sub and div are not commutative).
// CHECK-LABEL: func.func @zero_sub
// CHECK-DAG: %[[ONE:.*]] = kiln.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK-DAG: %[[ZERO:.*]] = kiln.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK: %[[NEG:.*]] = kiln.sub %[[ZERO]], %arg0
// CHECK: %[[R:.*]] = kiln.div %[[ONE]], %[[NEG]]
// CHECK: return %[[R]]
func.func @zero_sub(%x: tensor<4xf32>) -> tensor<4xf32> {
  %z = kiln.constant dense<0.0> : tensor<4xf32>
  %0 = kiln.sub %z, %x : tensor<4xf32>, tensor<4xf32>
  %o = kiln.constant dense<1.0> : tensor<4xf32>
  %1 = kiln.div %o, %0 : tensor<4xf32>, tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// p and true, false or p, p xor false fold to p.
// CHECK-LABEL: func.func @logic_identities
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<4xi1>
func.func @logic_identities(%p: tensor<4xi1>) -> tensor<4xi1> {
  %t = kiln.constant dense<true> : tensor<4xi1>
  %f = kiln.constant dense<false> : tensor<4xi1>
  %0 = kiln.and %p, %t : tensor<4xi1>, tensor<4xi1>
  %1 = kiln.or %f, %0 : tensor<4xi1>, tensor<4xi1>
  %2 = kiln.xor %1, %f : tensor<4xi1>, tensor<4xi1>
  return %2 : tensor<4xi1>
}

// -----

// Two transposes compose into one: [1,2,0] after [1,2,0] is [2,0,1].
// CHECK-LABEL: func.func @transpose_compose
// CHECK: %[[T:.*]] = kiln.transpose %arg0 {permutation = array<i64: 2, 0, 1>} : tensor<2x3x4xf32>
// CHECK-NOT: kiln.transpose
// CHECK: return %[[T]] : tensor<4x2x3xf32>
func.func @transpose_compose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = kiln.transpose %x {permutation = array<i64: 1, 2, 0>} : tensor<2x3x4xf32>
  %1 = kiln.transpose %0 {permutation = array<i64: 1, 2, 0>} : tensor<3x4x2xf32>
  return %1 : tensor<4x2x3xf32>
}

// -----

// A transpose and its inverse cancel.
// CHECK-LABEL: func.func @transpose_cancel
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<2x3xf32>
func.func @transpose_cancel(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.transpose %x {permutation = array<i64: 1, 0>} : tensor<2x3xf32>
  %1 = kiln.transpose %0 {permutation = array<i64: 1, 0>} : tensor<3x2xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// The identity permutation is removed.
// CHECK-LABEL: func.func @transpose_identity
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<2x3xf32>
func.func @transpose_identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.transpose %x {permutation = array<i64: 0, 1>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A transpose that only moves a size-1 dim moves no data: it becomes a reshape.
// CHECK-LABEL: func.func @transpose_unit_dims
// CHECK: %[[R:.*]] = kiln.reshape %arg0 : tensor<1x3x4xf32> -> tensor<3x1x4xf32>
// CHECK-NOT: kiln.transpose
// CHECK: return %[[R]]
func.func @transpose_unit_dims(%x: tensor<1x3x4xf32>) -> tensor<3x1x4xf32> {
  %0 = kiln.transpose %x {permutation = array<i64: 1, 0, 2>} : tensor<1x3x4xf32>
  return %0 : tensor<3x1x4xf32>
}

// -----

// A transpose that reorders non-unit dims stays a transpose.
// CHECK-LABEL: func.func @transpose_moves_data
// CHECK: %[[T:.*]] = kiln.transpose %arg0 {permutation = array<i64: 2, 0, 1>} : tensor<1x3x4xf32>
// CHECK: return %[[T]] : tensor<4x1x3xf32>
func.func @transpose_moves_data(%x: tensor<1x3x4xf32>) -> tensor<4x1x3xf32> {
  %0 = kiln.transpose %x {permutation = array<i64: 2, 0, 1>} : tensor<1x3x4xf32>
  return %0 : tensor<4x1x3xf32>
}

// -----

// The transpose of a splat constant is a splat constant.
// CHECK-LABEL: func.func @transpose_splat
// CHECK: %[[C:.*]] = kiln.constant dense<2.000000e+00> : tensor<3x2xf32>
// CHECK-NOT: kiln.transpose
// CHECK: return %[[C]]
func.func @transpose_splat() -> tensor<3x2xf32> {
  %c = kiln.constant dense<2.0> : tensor<2x3xf32>
  %0 = kiln.transpose %c {permutation = array<i64: 1, 0>} : tensor<2x3xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// A reshape of a reshape becomes one reshape.
// CHECK-LABEL: func.func @reshape_chain
// CHECK: %[[R:.*]] = kiln.reshape %arg0 : tensor<2x3xf32> -> tensor<3x2xf32>
// CHECK-NOT: kiln.reshape
// CHECK: return %[[R]]
func.func @reshape_chain(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = kiln.reshape %x : tensor<2x3xf32> -> tensor<6xf32>
  %1 = kiln.reshape %0 : tensor<6xf32> -> tensor<3x2xf32>
  return %1 : tensor<3x2xf32>
}

// -----

// A reshape chain that returns to the input type disappears.
// CHECK-LABEL: func.func @reshape_chain_back
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<2x3xf32>
func.func @reshape_chain_back(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.reshape %x : tensor<2x3xf32> -> tensor<6xf32>
  %1 = kiln.reshape %0 : tensor<6xf32> -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// A reshape to the same type is removed.
// CHECK-LABEL: func.func @reshape_same
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<2x3xf32>
func.func @reshape_same(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.reshape %x : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A reshape of a constant is a constant of the new shape.
// CHECK-LABEL: func.func @reshape_constant
// CHECK: %[[C:.*]] = kiln.constant dense<{{\[\[}}1, 2], [3, 4]]> : tensor<2x2xi32>
// CHECK-NOT: kiln.reshape
// CHECK: return %[[C]]
func.func @reshape_constant() -> tensor<2x2xi32> {
  %c = kiln.constant dense<[1, 2, 3, 4]> : tensor<4xi32>
  %0 = kiln.reshape %c : tensor<4xi32> -> tensor<2x2xi32>
  return %0 : tensor<2x2xi32>
}

// -----

// squeeze and expand_dims move no data: they become reshapes.
// CHECK-LABEL: func.func @squeeze_expand
// CHECK-DAG: %[[S:.*]] = kiln.reshape %arg0 : tensor<1x2x1x3xf32> -> tensor<2x3xf32>
// CHECK-DAG: %[[E:.*]] = kiln.reshape %arg0 : tensor<1x2x1x3xf32> -> tensor<1x1x2x1x3xf32>
// CHECK-NOT: kiln.squeeze
// CHECK-NOT: kiln.expand_dims
// CHECK: return %[[S]], %[[E]]
func.func @squeeze_expand(%x: tensor<1x2x1x3xf32>) -> (tensor<2x3xf32>, tensor<1x1x2x1x3xf32>) {
  %0 = kiln.squeeze %x : tensor<1x2x1x3xf32>
  %1 = kiln.expand_dims %x {axes = array<i64: 0>} : tensor<1x2x1x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<1x1x2x1x3xf32>
}

// -----

// expand_dims then squeeze of the same axis cancel (through reshapes).
// CHECK-LABEL: func.func @expand_then_squeeze
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<2x3xf32>
func.func @expand_then_squeeze(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.expand_dims %x {axes = array<i64: 1>} : tensor<2x3xf32>
  %1 = kiln.squeeze %0 {axes = array<i64: 1>} : tensor<2x1x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// broadcast_to the input's own type is removed.
// CHECK-LABEL: func.func @broadcast_same
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<2x3xf32>
func.func @broadcast_same(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.broadcast_to %x : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// broadcast_to of a splat constant is a splat constant of the new shape.
// CHECK-LABEL: func.func @broadcast_splat
// CHECK: %[[C:.*]] = kiln.constant dense<1.500000e+00> : tensor<2x3xf32>
// CHECK-NOT: kiln.broadcast_to
// CHECK: return %[[C]]
func.func @broadcast_splat() -> tensor<2x3xf32> {
  %c = kiln.constant dense<1.5> : tensor<3xf32>
  %0 = kiln.broadcast_to %c : tensor<3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// broadcast_to of a non-splat constant is kept (it would grow the IR).
// CHECK-LABEL: func.func @broadcast_nonsplat
// CHECK: %[[C:.*]] = kiln.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
// CHECK: %[[B:.*]] = kiln.broadcast_to %[[C]] : tensor<3xf32> -> tensor<2x3xf32>
// CHECK: return %[[B]]
func.func @broadcast_nonsplat() -> tensor<2x3xf32> {
  %c = kiln.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %0 = kiln.broadcast_to %c : tensor<3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A cast to the same type is removed.
// CHECK-LABEL: func.func @cast_same
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<3xf32>
func.func @cast_same(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = kiln.cast %x : tensor<3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Casts of constants fold: float to int truncates, to i1 tests non-zero, int to f16.
// CHECK-LABEL: func.func @cast_fold
// CHECK-DAG: %[[I:.*]] = kiln.constant dense<[1, -2, 0]> : tensor<3xi32>
// CHECK-DAG: %[[B:.*]] = kiln.constant dense<[true, true, false]> : tensor<3xi1>
// CHECK-DAG: %[[H:.*]] = kiln.constant dense<[3.000000e+00, -4.000000e+00]> : tensor<2xf16>
// CHECK-NOT: kiln.cast
// CHECK: return %[[I]], %[[B]], %[[H]]
func.func @cast_fold() -> (tensor<3xi32>, tensor<3xi1>, tensor<2xf16>) {
  %c = kiln.constant dense<[1.5, -2.7, 0.0]> : tensor<3xf32>
  %0 = kiln.cast %c : tensor<3xf32> -> tensor<3xi32>
  %1 = kiln.cast %c : tensor<3xf32> -> tensor<3xi1>
  %i = kiln.constant dense<[3, -4]> : tensor<2xi64>
  %2 = kiln.cast %i : tensor<2xi64> -> tensor<2xf16>
  return %0, %1, %2 : tensor<3xi32>, tensor<3xi1>, tensor<2xf16>
}

// -----

// A cast whose value does not fit the integer type is not folded.
// CHECK-LABEL: func.func @cast_out_of_range
// CHECK: %[[C:.*]] = kiln.constant dense<[1.000000e+00, 3.000000e+02]> : tensor<2xf32>
// CHECK: %[[R:.*]] = kiln.cast %[[C]] : tensor<2xf32> -> tensor<2xi8>
// CHECK: return %[[R]]
func.func @cast_out_of_range() -> tensor<2xi8> {
  %c = kiln.constant dense<[1.0, 300.0]> : tensor<2xf32>
  %0 = kiln.cast %c : tensor<2xf32> -> tensor<2xi8>
  return %0 : tensor<2xi8>
}

// -----

// Unary ops on constants fold: exp, sqrt, neg, relu (i32), round half to even (f16), abs (f64 splat).
// CHECK-LABEL: func.func @unary_fold
// CHECK-DAG: %[[EXP:.*]] = kiln.constant dense<[1.000000e+00, 2.71828175]> : tensor<2xf32>
// CHECK-DAG: %[[SQRT:.*]] = kiln.constant dense<[2.000000e+00, 3.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[NEG:.*]] = kiln.constant dense<[-0.000000e+00, -1.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[RELU:.*]] = kiln.constant dense<[0, 0, 5]> : tensor<3xi32>
// CHECK-DAG: %[[ROUND:.*]] = kiln.constant dense<[2.000000e+00, -0.000000e+00]> : tensor<2xf16>
// CHECK-DAG: %[[ABS:.*]] = kiln.constant dense<2.000000e+00> : tensor<2xf64>
// CHECK: return %[[EXP]], %[[SQRT]], %[[NEG]], %[[RELU]], %[[ROUND]], %[[ABS]]
func.func @unary_fold() -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<3xi32>, tensor<2xf16>, tensor<2xf64>) {
  %c = kiln.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %0 = kiln.exp %c : tensor<2xf32>
  %4 = kiln.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %1 = kiln.sqrt %4 : tensor<2xf32>
  %2 = kiln.neg %c : tensor<2xf32>
  %i = kiln.constant dense<[-3, 0, 5]> : tensor<3xi32>
  %3 = kiln.relu %i : tensor<3xi32>
  %h = kiln.constant dense<[2.5, -0.5]> : tensor<2xf16>
  %5 = kiln.round %h : tensor<2xf16>
  %d = kiln.constant dense<-2.0> : tensor<2xf64>
  %6 = kiln.abs %d : tensor<2xf64>
  return %0, %1, %2, %3, %5, %6 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<3xi32>, tensor<2xf16>, tensor<2xf64>
}

// -----

// neg of the smallest i8 does not fit i8: not folded.
// CHECK-LABEL: func.func @neg_overflow
// CHECK: %[[C:.*]] = kiln.constant dense<-128> : tensor<i8>
// CHECK: %[[R:.*]] = kiln.neg %[[C]] : tensor<i8>
// CHECK: return %[[R]]
func.func @neg_overflow() -> tensor<i8> {
  %c = kiln.constant dense<-128> : tensor<i8>
  %0 = kiln.neg %c : tensor<i8>
  return %0 : tensor<i8>
}

// -----

// Logical not of a constant folds.
// CHECK-LABEL: func.func @not_fold
// CHECK: %[[C:.*]] = kiln.constant dense<[false, true]> : tensor<2xi1>
// CHECK-NOT: kiln.not
// CHECK: return %[[C]]
func.func @not_fold() -> tensor<2xi1> {
  %c = kiln.constant dense<[true, false]> : tensor<2xi1>
  %0 = kiln.not %c : tensor<2xi1>
  return %0 : tensor<2xi1>
}

// -----

// Binary ops on constants fold, with broadcasting; comparisons give i1.
// CHECK-LABEL: func.func @binary_fold
// CHECK-DAG: %[[ADD:.*]] = kiln.constant dense<[4.000000e+00, 6.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[MUL:.*]] = kiln.constant dense<{{\[\[}}10, 20, 30], [20, 40, 60]]> : tensor<2x3xi32>
// CHECK-DAG: %[[LT:.*]] = kiln.constant dense<true> : tensor<2xi1>
// CHECK-DAG: %[[EQ:.*]] = kiln.constant dense<{{\[\[}}true, false], [false, true]]> : tensor<2x2xi1>
// CHECK-DAG: %[[POW:.*]] = kiln.constant dense<8.000000e+00> : tensor<f32>
// CHECK-NOT: kiln.add
// CHECK-NOT: kiln.mul
// CHECK: return %[[ADD]], %[[MUL]], %[[LT]], %[[EQ]], %[[POW]]
func.func @binary_fold() -> (tensor<2xf32>, tensor<2x3xi32>, tensor<2xi1>, tensor<2x2xi1>, tensor<f32>) {
  %a = kiln.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = kiln.constant dense<[3.0, 4.0]> : tensor<2xf32>
  %0 = kiln.add %a, %b : tensor<2xf32>, tensor<2xf32>
  %c = kiln.constant dense<[[1], [2]]> : tensor<2x1xi32>
  %d = kiln.constant dense<[10, 20, 30]> : tensor<3xi32>
  %1 = kiln.mul %c, %d : tensor<2x1xi32>, tensor<3xi32>
  %2 = kiln.lt %a, %b : tensor<2xf32>, tensor<2xf32>
  %e = kiln.constant dense<[1, 5]> : tensor<2xi64>
  %f = kiln.constant dense<[[1], [5]]> : tensor<2x1xi64>
  %3 = kiln.eq %e, %f : tensor<2xi64>, tensor<2x1xi64>
  %s = kiln.constant dense<2.0> : tensor<f32>
  %t = kiln.constant dense<3.0> : tensor<f32>
  %4 = kiln.pow %s, %t : tensor<f32>, tensor<f32>
  return %0, %1, %2, %3, %4 : tensor<2xf32>, tensor<2x3xi32>, tensor<2xi1>, tensor<2x2xi1>, tensor<f32>
}

// -----

// Integer division folds, truncating toward zero.
// CHECK-LABEL: func.func @int_div_fold
// CHECK: %[[C:.*]] = kiln.constant dense<[3, -3]> : tensor<2xi32>
// CHECK-NOT: kiln.div
// CHECK: return %[[C]]
func.func @int_div_fold() -> tensor<2xi32> {
  %a = kiln.constant dense<[7, -7]> : tensor<2xi32>
  %b = kiln.constant dense<2> : tensor<2xi32>
  %0 = kiln.div %a, %b : tensor<2xi32>, tensor<2xi32>
  return %0 : tensor<2xi32>
}

// -----

// Integer division by zero is left to the runtime, elementwise or splat.
// CHECK-LABEL: func.func @int_div_zero
// CHECK-DAG: %[[Z:.*]] = kiln.constant dense<0> : tensor<2xi32>
// CHECK-DAG: %[[A:.*]] = kiln.constant dense<[4, 6]> : tensor<2xi32>
// CHECK-DAG: %[[B:.*]] = kiln.constant dense<[2, 0]> : tensor<2xi32>
// CHECK: %[[D0:.*]] = kiln.div %[[A]], %[[B]]
// CHECK: %[[D1:.*]] = kiln.div %[[A]], %[[Z]]
// CHECK: return %[[D0]], %[[D1]]
func.func @int_div_zero() -> (tensor<2xi32>, tensor<2xi32>) {
  %a = kiln.constant dense<[4, 6]> : tensor<2xi32>
  %b = kiln.constant dense<[2, 0]> : tensor<2xi32>
  %0 = kiln.div %a, %b : tensor<2xi32>, tensor<2xi32>
  %z = kiln.constant dense<0> : tensor<2xi32>
  %1 = kiln.div %a, %z : tensor<2xi32>, tensor<2xi32>
  return %0, %1 : tensor<2xi32>, tensor<2xi32>
}

// -----

// Float division by zero folds to infinities.
// CHECK-LABEL: func.func @float_div_zero
// CHECK: %[[C:.*]] = kiln.constant dense<[0x7F800000, 0xFF800000]> : tensor<2xf32>
// CHECK-NOT: kiln.div
// CHECK: return %[[C]]
func.func @float_div_zero() -> tensor<2xf32> {
  %a = kiln.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %z = kiln.constant dense<0.0> : tensor<2xf32>
  %0 = kiln.div %a, %z : tensor<2xf32>, tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// An integer result that does not fit the type is not folded.
// CHECK-LABEL: func.func @int_overflow
// CHECK: %[[C:.*]] = kiln.constant dense<100> : tensor<i8>
// CHECK: %[[R:.*]] = kiln.add %[[C]], %[[C]] : tensor<i8>, tensor<i8>
// CHECK: return %[[R]]
func.func @int_overflow() -> tensor<i8> {
  %a = kiln.constant dense<100> : tensor<i8>
  %0 = kiln.add %a, %a : tensor<i8>, tensor<i8>
  return %0 : tensor<i8>
}

// -----

// select with a splat condition picks a branch.
// CHECK-LABEL: func.func @select_splat
// CHECK-NOT: kiln.
// CHECK: return %arg0, %arg1 : tensor<3xf32>, tensor<3xf32>
func.func @select_splat(%a: tensor<3xf32>, %b: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %t = kiln.constant dense<true> : tensor<3xi1>
  %f = kiln.constant dense<false> : tensor<i1>
  %0 = kiln.select %t, %a, %b : tensor<3xi1>, tensor<3xf32>, tensor<3xf32>
  %1 = kiln.select %f, %a, %b : tensor<i1>, tensor<3xf32>, tensor<3xf32>
  return %0, %1 : tensor<3xf32>, tensor<3xf32>
}

// -----

// select between a value and itself is the value.
// CHECK-LABEL: func.func @select_same
// CHECK-NOT: kiln.
// CHECK: return %arg1 : tensor<3xf32>
func.func @select_same(%c: tensor<3xi1>, %a: tensor<3xf32>) -> tensor<3xf32> {
  %0 = kiln.select %c, %a, %a : tensor<3xi1>, tensor<3xf32>, tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// select with a splat condition is kept when the branch would be broadcast.
// CHECK-LABEL: func.func @select_splat_broadcasts
// CHECK: %[[R:.*]] = kiln.select %{{.*}}, %arg0, %arg1 : tensor<i1>, tensor<3xf32>, tensor<2x3xf32>
// CHECK: return %[[R]]
func.func @select_splat_broadcasts(%a: tensor<3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %t = kiln.constant dense<true> : tensor<i1>
  %0 = kiln.select %t, %a, %b : tensor<i1>, tensor<3xf32>, tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// select with a non-splat constant condition is kept.
// CHECK-LABEL: func.func @select_nonsplat
// CHECK: %[[R:.*]] = kiln.select %{{.*}}, %arg0, %arg1 : tensor<2xi1>
// CHECK: return %[[R]]
func.func @select_nonsplat(%a: tensor<2xf32>, %b: tensor<2xf32>) -> tensor<2xf32> {
  %c = kiln.constant dense<[true, false]> : tensor<2xi1>
  %0 = kiln.select %c, %a, %b : tensor<2xi1>, tensor<2xf32>, tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// dropout is removed when not training or with ratio 0, kept when training.
// CHECK-LABEL: func.func @dropout
// CHECK: %[[D:.*]] = kiln.dropout %arg0 {ratio = 3.000000e-01 : f64, training = true} : tensor<4xf32>
// CHECK-NOT: kiln.dropout
// CHECK: return %arg0, %arg0, %[[D]]
func.func @dropout(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = kiln.dropout %x {ratio = 0.3 : f64} : tensor<4xf32>
  %1 = kiln.dropout %x {ratio = 0.0 : f64, training = true} : tensor<4xf32>
  %2 = kiln.dropout %x {ratio = 0.3 : f64, training = true} : tensor<4xf32>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// clip without bounds is removed; with a bound kept; on a constant folded.
// CHECK-LABEL: func.func @clip
// CHECK-DAG: %[[C:.*]] = kiln.constant dense<[0.000000e+00, 5.000000e-01, 6.000000e+00]> : tensor<3xf32>
// CHECK-DAG: %[[K:.*]] = kiln.clip %arg0 {min = 0.000000e+00 : f64} : tensor<4xf32>
// CHECK: return %arg0, %[[K]], %[[C]]
func.func @clip(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<3xf32>) {
  %0 = kiln.clip %x : tensor<4xf32>
  %1 = kiln.clip %x {min = 0.0 : f64} : tensor<4xf32>
  %c = kiln.constant dense<[-5.0, 0.5, 9.0]> : tensor<3xf32>
  %2 = kiln.clip %c {min = 0.0 : f64, max = 6.0 : f64} : tensor<3xf32>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<3xf32>
}

// -----

// concat of a single operand is the operand.
// CHECK-LABEL: func.func @concat_one
// CHECK-NOT: kiln.
// CHECK: return %arg0 : tensor<2x3xf32>
func.func @concat_one(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.concat %x {axis = 1 : i64} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A slice that keeps everything in order is removed (also with starts -n and ends past n); strided or reversing slices stay.
// CHECK-LABEL: func.func @slice
// CHECK: %[[S0:.*]] = kiln.slice %arg0 {ends = array<i64: 4, 6>, starts = array<i64: 0, 0>, steps = array<i64: 1, 2>}
// CHECK: %[[S1:.*]] = kiln.slice %arg0 {ends = array<i64: -5, -7>, starts = array<i64: 3, 5>, steps = array<i64: -1, -1>}
// CHECK: return %arg0, %arg0, %[[S0]], %[[S1]]
func.func @slice(%x: tensor<4x6xf32>) -> (tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x3xf32>, tensor<4x6xf32>) {
  %0 = kiln.slice %x {starts = array<i64: 0, 0>, ends = array<i64: 4, 6>} : tensor<4x6xf32>
  %1 = kiln.slice %x {starts = array<i64: -4, 0>, ends = array<i64: 100, 6>, steps = array<i64: 1, 1>} : tensor<4x6xf32>
  %2 = kiln.slice %x {starts = array<i64: 0, 0>, ends = array<i64: 4, 6>, steps = array<i64: 1, 2>} : tensor<4x6xf32>
  %3 = kiln.slice %x {starts = array<i64: 3, 5>, ends = array<i64: -5, -7>, steps = array<i64: -1, -1>} : tensor<4x6xf32>
  return %0, %1, %2, %3 : tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x3xf32>, tensor<4x6xf32>
}

// -----

// A pad of zero amounts is removed whatever the value; a real pad stays.
// CHECK-LABEL: func.func @pad
// CHECK: %[[P:.*]] = kiln.pad %arg0 {pads = array<i64: 1, 0, 0, 0>} : tensor<2x3xf32>
// CHECK-NOT: kiln.pad
// CHECK: return %arg0, %[[P]]
func.func @pad(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3x3xf32>) {
  %0 = kiln.pad %x {pads = array<i64: 0, 0, 0, 0>, value = 5.0 : f64} : tensor<2x3xf32>
  %1 = kiln.pad %x {pads = array<i64: 1, 0, 0, 0>} : tensor<2x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<3x3xf32>
}

// -----

// A reduction over size-1 dims with keepdims is removed; without keepdims, or over a real dim, it stays.
// CHECK-LABEL: func.func @reduce_unit
// CHECK: %[[S:.*]] = kiln.sum %arg0 {axes = array<i64: 1>} : tensor<2x1x3xf32>
// CHECK: %[[M:.*]] = kiln.mean %arg0 {axes = array<i64: 2>, keepdims = true} : tensor<2x1x3xf32>
// CHECK-NOT: kiln.reduce_max
// CHECK: return %arg0, %[[S]], %[[M]], %arg0
func.func @reduce_unit(%x: tensor<2x1x3xf32>) -> (tensor<2x1x3xf32>, tensor<2x3xf32>, tensor<2x1x1xf32>, tensor<2x1x3xf32>) {
  %0 = kiln.sum %x {axes = array<i64: 1>, keepdims = true} : tensor<2x1x3xf32>
  %1 = kiln.sum %x {axes = array<i64: 1>} : tensor<2x1x3xf32>
  %2 = kiln.mean %x {axes = array<i64: 2>, keepdims = true} : tensor<2x1x3xf32>
  %3 = kiln.reduce_max %x {axes = array<i64: -2>, keepdims = true} : tensor<2x1x3xf32>
  return %0, %1, %2, %3 : tensor<2x1x3xf32>, tensor<2x3xf32>, tensor<2x1x1xf32>, tensor<2x1x3xf32>
}

// -----

// A fold whose result would have more than 65536 elements is not done.
// CHECK-LABEL: func.func @large_splat
// CHECK: %[[R:.*]] = kiln.add %{{.*}}, %{{.*}} : tensor<2xf32>, tensor<65537x2xf32>
// CHECK: return %[[R]]
func.func @large_splat() -> tensor<65537x2xf32> {
  %a = kiln.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = kiln.constant dense<1.5> : tensor<65537x2xf32>
  %0 = kiln.add %a, %b : tensor<2xf32>, tensor<65537x2xf32>
  return %0 : tensor<65537x2xf32>
}

// -----

// i64 folding is exact or does not happen: 2^53 + 1 is not exact in a
// double, so 9007199254740993 - 2 is left alone instead of folding to the
// rounded 9007199254740990 (KNOWN_BUGS 22).
// CHECK-LABEL: func.func @i64_beyond_2_53
// CHECK-DAG: %[[C:.*]] = kiln.constant dense<9007199254740993> : tensor<i64>
// CHECK-DAG: %[[Z:.*]] = kiln.constant dense<2> : tensor<i64>
// CHECK: %[[R:.*]] = kiln.sub %[[C]], %[[Z]] : tensor<i64>, tensor<i64>
// CHECK: return %[[R]] : tensor<i64>
func.func @i64_beyond_2_53() -> tensor<i64> {
  %c = kiln.constant dense<9007199254740993> : tensor<i64>
  %z = kiln.constant dense<2> : tensor<i64>
  %0 = kiln.sub %c, %z : tensor<i64>, tensor<i64>
  return %0 : tensor<i64>
}

// -----

// Below 2^53 i64 folding is exact (2^53 - 2 + 1); a result beyond it is not
// folded (the product 2^52 * 3 is past 2^53 and could have been rounded).
// CHECK-LABEL: func.func @i64_within_2_53
// CHECK-DAG: %[[EXACT:.*]] = kiln.constant dense<9007199254740991> : tensor<i64>
// CHECK-DAG: %[[BIG:.*]] = kiln.constant dense<4503599627370496> : tensor<i64>
// CHECK-DAG: %[[THREE:.*]] = kiln.constant dense<3> : tensor<i64>
// CHECK: %[[P:.*]] = kiln.mul %[[BIG]], %[[THREE]]
// CHECK: return %[[EXACT]], %[[P]] : tensor<i64>, tensor<i64>
func.func @i64_within_2_53() -> (tensor<i64>, tensor<i64>) {
  %c = kiln.constant dense<9007199254740990> : tensor<i64>
  %o = kiln.constant dense<1> : tensor<i64>
  %0 = kiln.add %c, %o : tensor<i64>, tensor<i64>
  %b = kiln.constant dense<4503599627370496> : tensor<i64>
  %t = kiln.constant dense<3> : tensor<i64>
  %1 = kiln.mul %b, %t : tensor<i64>, tensor<i64>
  return %0, %1 : tensor<i64>, tensor<i64>
}

// -----

// A gather at one constant (scalar) index is a slice of one block and a
// reshape that drops the gathered axis.
// CHECK-LABEL: func.func @gather_constant_index
// CHECK: %[[S:.*]] = kiln.slice %arg0 {ends = array<i64: 4, 3, 5>, starts = array<i64: 0, 2, 0>} : tensor<4x6x5xf32>
// CHECK: %[[R:.*]] = kiln.reshape %[[S]] : tensor<4x1x5xf32> -> tensor<4x5xf32>
// CHECK-NOT: kiln.gather
// CHECK: return %[[R]]
func.func @gather_constant_index(%x: tensor<4x6x5xf32>) -> tensor<4x5xf32> {
  %i = kiln.constant dense<2> : tensor<i64>
  %0 = kiln.gather %x, %i {axis = 1 : i64} : tensor<4x6x5xf32>, tensor<i64>
  return %0 : tensor<4x5xf32>
}

// -----

// A negative index counts from the end, as gather does at run time.
// CHECK-LABEL: func.func @gather_negative_index
// CHECK: kiln.slice %arg0 {ends = array<i64: 6, 5>, starts = array<i64: 5, 0>} : tensor<6x5xf32>
// CHECK-NOT: kiln.gather
func.func @gather_negative_index(%x: tensor<6x5xf32>) -> tensor<5xf32> {
  %i = kiln.constant dense<-1> : tensor<i32>
  %0 = kiln.gather %x, %i {axis = 0 : i64} : tensor<6x5xf32>, tensor<i32>
  return %0 : tensor<5xf32>
}

// -----

// An index out of range stays a gather, which reports it at run time; so
// do an index that is not a constant and a constant index tensor of rank 1
// (its result keeps the axis: not this pattern's business).
// CHECK-LABEL: func.func @gather_not_rewritten
// CHECK-COUNT-3: kiln.gather
// CHECK-NOT: kiln.slice
func.func @gather_not_rewritten(%x: tensor<6x5xf32>, %j: tensor<i64>)
    -> (tensor<5xf32>, tensor<5xf32>, tensor<1x5xf32>) {
  %i = kiln.constant dense<6> : tensor<i64>
  %0 = kiln.gather %x, %i {axis = 0 : i64} : tensor<6x5xf32>, tensor<i64>
  %1 = kiln.gather %x, %j {axis = 0 : i64} : tensor<6x5xf32>, tensor<i64>
  %k = kiln.constant dense<[2]> : tensor<1xi64>
  %2 = kiln.gather %x, %k {axis = 0 : i64} : tensor<6x5xf32>, tensor<1xi64>
  return %0, %1, %2 : tensor<5xf32>, tensor<5xf32>, tensor<1x5xf32>
}

// -----

// slice(transpose(x)) is transpose(slice(x)): the bounds of result dim d
// apply to input dim permutation[d], steps included.
// CHECK-LABEL: func.func @slice_of_transpose
// CHECK: %[[S:.*]] = kiln.slice %arg0 {ends = array<i64: 4, 3, 5>, starts = array<i64: 0, 1, 2>, steps = array<i64: 2, 1, 1>} : tensor<4x6x5xf32>
// CHECK: %[[T:.*]] = kiln.transpose %[[S]] {permutation = array<i64: 2, 0, 1>} : tensor<2x2x3xf32>
// CHECK: return %[[T]]
func.func @slice_of_transpose(%x: tensor<4x6x5xf32>) -> tensor<3x2x2xf32> {
  %0 = kiln.transpose %x {permutation = array<i64: 2, 0, 1>} : tensor<4x6x5xf32>
  %1 = kiln.slice %0 {starts = array<i64: 2, 0, 1>, ends = array<i64: 5, 4, 3>, steps = array<i64: 1, 2, 1>} : tensor<5x4x6xf32>
  return %1 : tensor<3x2x2xf32>
}

// -----

// Taking one index of the moved dim leaves a transpose of unit dims, which
// is a reshape: no data moves at all.
// CHECK-LABEL: func.func @slice_of_transpose_to_reshape
// CHECK: %[[S:.*]] = kiln.slice %arg0 {ends = array<i64: 4, 32, 8>, starts = array<i64: 3, 0, 0>} : tensor<5x32x8xf32>
// CHECK: %[[R:.*]] = kiln.reshape %[[S]] : tensor<1x32x8xf32> -> tensor<32x1x8xf32>
// CHECK-NOT: kiln.transpose
func.func @slice_of_transpose_to_reshape(%x: tensor<5x32x8xf32>) -> tensor<32x1x8xf32> {
  %0 = kiln.transpose %x {permutation = array<i64: 1, 0, 2>} : tensor<5x32x8xf32>
  %1 = kiln.slice %0 {starts = array<i64: 0, 3, 0>, ends = array<i64: 32, 4, 8>} : tensor<32x5x8xf32>
  return %1 : tensor<32x1x8xf32>
}

// -----

// A transpose that is also read whole stays as it is: slicing before it
// would add a second transpose.
// CHECK-LABEL: func.func @slice_of_shared_transpose
// CHECK: %[[T:.*]] = kiln.transpose %arg0
// CHECK: kiln.slice %[[T]]
// CHECK-NOT: kiln.transpose
func.func @slice_of_shared_transpose(%x: tensor<4x6xf32>) -> (tensor<6x4xf32>, tensor<2x4xf32>) {
  %0 = kiln.transpose %x {permutation = array<i64: 1, 0>} : tensor<4x6xf32>
  %1 = kiln.slice %0 {starts = array<i64: 0, 0>, ends = array<i64: 2, 4>} : tensor<6x4xf32>
  return %0, %1 : tensor<6x4xf32>, tensor<2x4xf32>
}

// -----

// A slice within one operand of a concat (negative bounds resolved) is a
// slice of that operand; the other dims' bounds carry over.
// CHECK-LABEL: func.func @slice_of_concat
// CHECK: %[[S:.*]] = kiln.slice %arg1 {ends = array<i64: 3, 2>, starts = array<i64: 1, 0>} : tensor<4x3xf32>
// CHECK-NOT: kiln.concat
// CHECK: return %[[S]]
func.func @slice_of_concat(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>, %c: tensor<1x3xf32>) -> tensor<2x2xf32> {
  %0 = kiln.concat %a, %b, %c {axis = 0 : i64} : tensor<2x3xf32>, tensor<4x3xf32>, tensor<1x3xf32>
  %1 = kiln.slice %0 {starts = array<i64: 3, 0>, ends = array<i64: -2, 2>} : tensor<7x3xf32>
  return %1 : tensor<2x2xf32>
}

// -----

// A slice that is exactly one operand is that operand.
// CHECK-LABEL: func.func @slice_of_concat_whole_operand
// CHECK-NOT: kiln.
// CHECK: return %arg1
func.func @slice_of_concat_whole_operand(%a: tensor<2x1x4xf32>, %b: tensor<2x1x4xf32>) -> tensor<2x1x4xf32> {
  %0 = kiln.concat %a, %b {axis = 1 : i64} : tensor<2x1x4xf32>, tensor<2x1x4xf32>
  %1 = kiln.slice %0 {starts = array<i64: 0, 1, 0>, ends = array<i64: 2, 2, 4>} : tensor<2x2x4xf32>
  return %1 : tensor<2x1x4xf32>
}

// -----

// A slice across two operands, or striding along the concat axis, keeps
// the concat.
// CHECK-LABEL: func.func @slice_of_concat_kept
// CHECK: %[[C:.*]] = kiln.concat
// CHECK: kiln.slice %[[C]] {ends = array<i64: 3>, starts = array<i64: 1>}
// CHECK: kiln.slice %[[C]] {ends = array<i64: 2>, starts = array<i64: 0>, steps = array<i64: 2>}
func.func @slice_of_concat_kept(%a: tensor<2xf32>, %b: tensor<2xf32>) -> (tensor<2xf32>, tensor<1xf32>) {
  %0 = kiln.concat %a, %b {axis = 0 : i64} : tensor<2xf32>, tensor<2xf32>
  %1 = kiln.slice %0 {starts = array<i64: 1>, ends = array<i64: 3>} : tensor<4xf32>
  %2 = kiln.slice %0 {starts = array<i64: 0>, ends = array<i64: 2>, steps = array<i64: 2>} : tensor<4xf32>
  return %1, %2 : tensor<2xf32>, tensor<1xf32>
}

// -----

// The last step of a recurrent layer's whole-sequence output, as PyTorch
// exports it (concat of the steps, squeeze, transpose to batch-major,
// gather of the last index), is that step's value: nothing is copied.
// CHECK-LABEL: func.func @last_step_of_sequence
// CHECK-NOT: kiln.
// CHECK: return %arg2 : tensor<4x8xf32>
func.func @last_step_of_sequence(%h0: tensor<4x8xf32>, %h1: tensor<4x8xf32>, %h2: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = kiln.reshape %h0 : tensor<4x8xf32> -> tensor<1x4x8xf32>
  %1 = kiln.reshape %h1 : tensor<4x8xf32> -> tensor<1x4x8xf32>
  %2 = kiln.reshape %h2 : tensor<4x8xf32> -> tensor<1x4x8xf32>
  %3 = kiln.concat %0, %1, %2 {axis = 0 : i64} : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  %4 = kiln.reshape %3 : tensor<3x4x8xf32> -> tensor<3x1x4x8xf32>
  %5 = kiln.squeeze %4 {axes = array<i64: 1>} : tensor<3x1x4x8xf32>
  %6 = kiln.transpose %5 {permutation = array<i64: 1, 0, 2>} : tensor<3x4x8xf32>
  %i = kiln.constant dense<2> : tensor<i64>
  %7 = kiln.gather %6, %i {axis = 1 : i64} : tensor<4x3x8xf32>, tensor<i64>
  return %7 : tensor<4x8xf32>
}

// -----

// A slice of a slice is one slice of the first one's input, steps
// multiplied; negative bounds resolve against each slice's own input.
// CHECK-LABEL: func.func @slice_of_slice
// CHECK: %[[S:.*]] = kiln.slice %arg0 {ends = array<i64: 5, 10>, starts = array<i64: 2, 3>, steps = array<i64: 1, 2>} : tensor<8x12xf32>
// CHECK-NEXT: return %[[S]]
func.func @slice_of_slice(%x: tensor<8x12xf32>) -> tensor<3x4xf32> {
  %0 = kiln.slice %x {starts = array<i64: 1, 1>, ends = array<i64: 7, 11>, steps = array<i64: 1, 2>} : tensor<8x12xf32>
  %1 = kiln.slice %0 {starts = array<i64: 1, 1>, ends = array<i64: -2, 5>} : tensor<6x5xf32>
  return %1 : tensor<3x4xf32>
}

// -----

// Step t of an unrolled recurrence's input projection: x[t] of [T, N, C]
// reshaped to [N, C] is a range of rows of x viewed as [T*N, C]; the view
// folds into the reshape that made x.
// CHECK-LABEL: func.func @reshape_of_contiguous_slice
// CHECK: %[[S:.*]] = kiln.slice %arg0 {ends = array<i64: 12, 16>, starts = array<i64: 8, 0>} : tensor<20x16xf32>
// CHECK-NEXT: return %[[S]] : tensor<4x16xf32>
func.func @reshape_of_contiguous_slice(%p: tensor<20x16xf32>) -> tensor<4x16xf32> {
  %x = kiln.reshape %p : tensor<20x16xf32> -> tensor<5x4x16xf32>
  %0 = kiln.slice %x {starts = array<i64: 2, 0, 0>, ends = array<i64: 3, 4, 16>} : tensor<5x4x16xf32>
  %1 = kiln.reshape %0 : tensor<1x4x16xf32> -> tensor<4x16xf32>
  return %1 : tensor<4x16xf32>
}

// -----

// Not a contiguous run (a partial inner dim), a strided slice, or a result
// that is not whole rows: the reshape of the slice stays.
// CHECK-LABEL: func.func @reshape_of_slice_kept
// CHECK-COUNT-3: kiln.reshape
func.func @reshape_of_slice_kept(%x: tensor<5x4x16xf32>) -> (tensor<4x8xf32>, tensor<2x16xf32>, tensor<1x32xf32>) {
  %0 = kiln.slice %x {starts = array<i64: 2, 0, 0>, ends = array<i64: 3, 4, 8>} : tensor<5x4x16xf32>
  %1 = kiln.reshape %0 : tensor<1x4x8xf32> -> tensor<4x8xf32>
  %2 = kiln.slice %x {starts = array<i64: 2, 0, 0>, ends = array<i64: 3, 4, 16>, steps = array<i64: 1, 2, 1>} : tensor<5x4x16xf32>
  %3 = kiln.reshape %2 : tensor<1x2x16xf32> -> tensor<2x16xf32>
  %4 = kiln.slice %x {starts = array<i64: 2, 1, 0>, ends = array<i64: 3, 3, 16>} : tensor<5x4x16xf32>
  %5 = kiln.reshape %4 : tensor<1x2x16xf32> -> tensor<1x32xf32>
  return %1, %3, %5 : tensor<4x8xf32>, tensor<2x16xf32>, tensor<1x32xf32>
}
