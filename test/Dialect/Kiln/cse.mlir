// RUN: kiln-opt %s --cse --split-input-file | FileCheck %s

// kiln ops are pure, so CSE merges identical ones. For parameters this is
// weight sharing: two reads of the same named weight are one value.

// Two reads of parameter "w" merge into one.
// CHECK-LABEL: func.func @shared_parameter
// CHECK: %[[W:.*]] = kiln.parameter "w" : tensor<4x4xf32>
// CHECK-NOT: kiln.parameter
// CHECK: %[[M:.*]] = kiln.matmul %[[W]], %[[W]]
// CHECK: return %[[M]]
func.func @shared_parameter() -> tensor<4x4xf32> {
  %0 = kiln.parameter "w" : tensor<4x4xf32>
  %1 = kiln.parameter "w" : tensor<4x4xf32>
  %2 = kiln.matmul %0, %1 : tensor<4x4xf32>, tensor<4x4xf32>
  return %2 : tensor<4x4xf32>
}

// -----

// Parameters with different names, or the same name but a different
// trainable flag, stay distinct.
// CHECK-LABEL: func.func @distinct_parameters
// CHECK-DAG: %[[A:.*]] = kiln.parameter "a" : tensor<4xf32>
// CHECK-DAG: %[[B:.*]] = kiln.parameter "b" : tensor<4xf32>
// CHECK-DAG: %[[F:.*]] = kiln.parameter "a" {trainable = false} : tensor<4xf32>
// CHECK: return %[[A]], %[[B]], %[[F]]
func.func @distinct_parameters() -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = kiln.parameter "a" : tensor<4xf32>
  %1 = kiln.parameter "b" : tensor<4xf32>
  %2 = kiln.parameter "a" {trainable = false} : tensor<4xf32>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Identical computations on the same operands merge, including an op that
// spells out a default attribute (axis = -1) and one that omits it; a
// different attribute value keeps ops apart.
// CHECK-LABEL: func.func @same_ops
// CHECK: %[[E:.*]] = kiln.exp %arg0
// CHECK-NOT: kiln.exp
// CHECK: %[[S0:.*]] = kiln.softmax %[[E]] : tensor<2x3xf32>
// CHECK: %[[S1:.*]] = kiln.softmax %[[E]] {axis = 0 : i64}
// CHECK: return %[[E]], %[[S0]], %[[S1]]
func.func @same_ops(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %0 = kiln.exp %x : tensor<2x3xf32>
  %1 = kiln.exp %x : tensor<2x3xf32>
  %2 = kiln.softmax %0 : tensor<2x3xf32>
  %3 = kiln.softmax %1 {axis = -1 : i64} : tensor<2x3xf32>
  %4 = kiln.softmax %1 {axis = 0 : i64} : tensor<2x3xf32>
  return %1, %3, %4 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}
