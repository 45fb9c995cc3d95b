// RUN: kiln-opt %s --split-input-file --kiln-fuse-elementwise | FileCheck %s

// A bias + GELU + residual chain becomes one loop kernel reading the three
// external values; the broadcast bias is an input, not materialized.
// CHECK-LABEL: func.func @bias_gelu_residual
// CHECK-SAME:    (%[[X:.*]]: tensor<8x64xf32>, %[[B:.*]]: tensor<64xf32>, %[[R:.*]]: tensor<8x64xf32>)
// CHECK:         %[[F:.*]] = kiln.fusion "loop"(%[[X]], %[[B]], %[[R]])
// CHECK-NEXT:    ^bb0(%[[A0:.*]]: tensor<8x64xf32>, %[[A1:.*]]: tensor<64xf32>, %[[A2:.*]]: tensor<8x64xf32>):
// CHECK-NEXT:      %[[S:.*]] = kiln.add %[[A0]], %[[A1]]
// CHECK-NEXT:      %[[G:.*]] = kiln.gelu %[[S]]
// CHECK-NEXT:      %[[O:.*]] = kiln.add %[[G]], %[[A2]]
// CHECK-NEXT:      kiln.yield %[[O]] : tensor<8x64xf32>
// CHECK:         return %[[F]]
func.func @bias_gelu_residual(%x: tensor<8x64xf32>, %b: tensor<64xf32>, %r: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %0 = kiln.add %x, %b : tensor<8x64xf32>, tensor<64xf32>
  %1 = kiln.gelu %0 : tensor<8x64xf32>
  %2 = kiln.add %1, %r : tensor<8x64xf32>, tensor<8x64xf32>
  return %2 : tensor<8x64xf32>
}

// -----

// Elementwise producers fuse into a reduction root ("reduction" kernel).
// CHECK-LABEL: func.func @square_then_sum
// CHECK:         kiln.fusion "reduction"
// CHECK:           kiln.mul
// CHECK-NEXT:      kiln.sum
// CHECK-NEXT:      kiln.yield
// CHECK-NOT:     kiln.mul
func.func @square_then_sum(%x: tensor<16x32xf32>) -> tensor<16xf32> {
  %0 = kiln.mul %x, %x : tensor<16x32xf32>, tensor<16x32xf32>
  %1 = kiln.sum %0 {axes = array<i64: 1>} : tensor<16x32xf32>
  return %1 : tensor<16xf32>
}

// -----

// Dropout followed by a residual add is one kernel.
// CHECK-LABEL: func.func @dropout_add
// CHECK:         kiln.fusion "loop"
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      kiln.dropout
// CHECK-NEXT:      kiln.add
// CHECK-NEXT:      kiln.yield
func.func @dropout_add(%x: tensor<4x8xf32>, %r: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = kiln.dropout %x {ratio = 0.1 : f64, training = true, seed = 7 : i64} : tensor<4x8xf32>
  %1 = kiln.add %0, %r : tensor<4x8xf32>, tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// Cost rule: an expensive producer (exp) with a user outside the group is
// not recomputed: it gets its own kernel and both consumers read its result.
// CHECK-LABEL: func.func @expensive_shared_producer
// CHECK:         %[[E:.*]] = kiln.fusion "loop"(%arg0)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      kiln.exp
// CHECK-NEXT:      kiln.yield
// CHECK:         kiln.fusion "loop"(%[[E]])
// CHECK-NOT:       kiln.exp
// CHECK:           kiln.neg
// CHECK:         kiln.fusion "reduction"(%[[E]])
// CHECK-NOT:       kiln.exp
// CHECK:           kiln.sum
func.func @expensive_shared_producer(%x: tensor<8x8xf32>) -> (tensor<8x8xf32>, tensor<8xf32>) {
  %e = kiln.exp %x : tensor<8x8xf32>
  %n = kiln.neg %e : tensor<8x8xf32>
  %s = kiln.sum %e {axes = array<i64: 1>} : tensor<8x8xf32>
  return %n, %s : tensor<8x8xf32>, tensor<8xf32>
}

// -----

// A cheap producer (mul) shared by two groups is recomputed in each rather
// than forcing a separate kernel and a round trip through memory.
// CHECK-LABEL: func.func @cheap_shared_producer
// CHECK:         kiln.fusion "loop"
// CHECK:           kiln.mul
// CHECK-NEXT:      kiln.neg
// CHECK:         kiln.fusion "loop"
// CHECK:           kiln.mul
// CHECK-NEXT:      kiln.abs
// CHECK-NOT:     kiln.fusion
func.func @cheap_shared_producer(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %m = kiln.mul %x, %x : tensor<8xf32>, tensor<8xf32>
  %a = kiln.neg %m : tensor<8xf32>
  %b = kiln.abs %m : tensor<8xf32>
  return %a, %b : tensor<8xf32>, tensor<8xf32>
}

// -----

// Cost rule: an expensive producer on a smaller (broadcast) shape stays
// outside, or it would run once per output element.
// CHECK-LABEL: func.func @expensive_broadcast_producer
// CHECK:         %[[T:.*]] = kiln.fusion "loop"(%arg1)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      kiln.tanh
// CHECK:         kiln.fusion "loop"(%arg0, %[[T]])
// CHECK-NOT:       kiln.tanh
// CHECK:           kiln.add
func.func @expensive_broadcast_producer(%x: tensor<128x64xf32>, %b: tensor<64xf32>) -> tensor<128x64xf32> {
  %t = kiln.tanh %b : tensor<64xf32>
  %0 = kiln.add %x, %t : tensor<128x64xf32>, tensor<64xf32>
  return %0 : tensor<128x64xf32>
}

// -----

// Splat constants are cloned into the kernel; matmul is a library call and
// stays outside; the elementwise ops around it form two kernels.
// CHECK-LABEL: func.func @around_matmul
// CHECK:         %[[P:.*]] = kiln.fusion "loop"(%arg0)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      %[[C:.*]] = kiln.constant dense<2.000000e+00>
// CHECK-NEXT:      kiln.mul %{{.*}}, %[[C]]
// CHECK:         %[[M:.*]] = kiln.matmul %[[P]], %arg1
// CHECK:         kiln.fusion "loop"(%[[M]])
// CHECK:           kiln.relu
// CHECK-NOT:     kiln.constant
func.func @around_matmul(%x: tensor<4x8xf32>, %w: tensor<8x2xf32>) -> tensor<4x2xf32> {
  %c = kiln.constant dense<2.0> : tensor<4x8xf32>
  %0 = kiln.mul %x, %c : tensor<4x8xf32>, tensor<4x8xf32>
  %1 = kiln.matmul %0, %w : tensor<4x8xf32>, tensor<8x2xf32>
  %2 = kiln.relu %1 : tensor<4x2xf32>
  return %2 : tensor<4x2xf32>
}

// -----

// Softmax absorbs its elementwise producer (scaled attention scores).
// CHECK-LABEL: func.func @scaled_softmax
// CHECK:         kiln.fusion "reduction"
// CHECK:           kiln.mul
// CHECK-NEXT:      kiln.softmax
// CHECK-NEXT:      kiln.yield
func.func @scaled_softmax(%s: tensor<2x4x16x16xf32>, %scale: tensor<f32>) -> tensor<2x4x16x16xf32> {
  %0 = kiln.mul %s, %scale : tensor<2x4x16x16xf32>, tensor<f32>
  %1 = kiln.softmax %0 {axis = -1 : i64} : tensor<2x4x16x16xf32>
  return %1 : tensor<2x4x16x16xf32>
}

// -----

// Ops that are not elementwise (gather, transpose) are left alone.
// CHECK-LABEL: func.func @nothing_to_fuse
// CHECK-NOT:     kiln.fusion
func.func @nothing_to_fuse(%t: tensor<10x4xf32>, %i: tensor<3xi64>) -> tensor<4x3xf32> {
  %0 = kiln.gather %t, %i : tensor<10x4xf32>, tensor<3xi64>
  %1 = kiln.transpose %0 {permutation = array<i64: 1, 0>} : tensor<3x4xf32>
  return %1 : tensor<4x3xf32>
}

// -----

// Regression (heap-use-after-free): a cheap chain recomputed into the
// comparison's kernel made the expensive div an input of that kernel; the
// later-formed group of %t then swallowed the div and erased it. Groups are
// now outlined as they form, and %t (an add over a computed chain) is not
// recomputed in the comparison's kernel: that kernel reads %t, which one
// kernel computes, div included.
// CHECK-LABEL: func.func @shared_expensive_input
// CHECK:         %[[T:.*]] = kiln.fusion "loop"(%arg0, %arg1)
// CHECK:           kiln.sub
// CHECK:           kiln.div
// CHECK:           kiln.neg
// CHECK:           kiln.add
// CHECK:         kiln.fusion "loop"(%[[T]], %arg1)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      kiln.lt
// CHECK-NEXT:      kiln.yield
func.func @shared_expensive_input(%x: tensor<8x50xi32>, %y: tensor<50xi32>) -> (tensor<8x50xi32>, tensor<8x50xi1>) {
  %s = kiln.sub %x, %y : tensor<8x50xi32>, tensor<50xi32>
  %d = kiln.div %s, %y : tensor<8x50xi32>, tensor<50xi32>
  %n = kiln.neg %d : tensor<8x50xi32>
  %t = kiln.add %n, %s : tensor<8x50xi32>, tensor<8x50xi32>
  %lt = kiln.lt %t, %y : tensor<8x50xi32>, tensor<50xi32>
  return %t, %lt : tensor<8x50xi32>, tensor<8x50xi1>
}

// -----

// A cheap producer shared by two kernels is recomputed only when its
// operands are at hand. An LSTM's cell state c_t = f*c_{t-1} + i*g feeds
// both h_t and c_{t+1}: recomputing through the chain put every earlier
// step's cell update into each step's kernel (quadratic in the sequence).
// Here each c_t is computed once, by its own kernel.
// CHECK-LABEL: func.func @shared_chain_not_recomputed
// CHECK:         %[[C1:.*]] = kiln.fusion "loop"(%arg1, %arg0, %arg2, %arg3)
// CHECK-COUNT-2:   kiln.mul
// CHECK:           kiln.add
// CHECK:         %[[C2:.*]] = kiln.fusion "loop"(%arg1, %[[C1]], %arg2, %arg3)
// CHECK-COUNT-2:   kiln.mul
// CHECK:           kiln.add
// CHECK-NOT:       kiln.mul
// CHECK:           kiln.yield
func.func @shared_chain_not_recomputed(%c0: tensor<4x8xf32>, %f: tensor<4x8xf32>,
                                       %i: tensor<4x8xf32>, %g: tensor<4x8xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %a1 = kiln.mul %f, %c0 : tensor<4x8xf32>, tensor<4x8xf32>
  %b1 = kiln.mul %i, %g : tensor<4x8xf32>, tensor<4x8xf32>
  %c1 = kiln.add %a1, %b1 : tensor<4x8xf32>, tensor<4x8xf32>
  %h1 = kiln.tanh %c1 : tensor<4x8xf32>
  %a2 = kiln.mul %f, %c1 : tensor<4x8xf32>, tensor<4x8xf32>
  %b2 = kiln.mul %i, %g : tensor<4x8xf32>, tensor<4x8xf32>
  %c2 = kiln.add %a2, %b2 : tensor<4x8xf32>, tensor<4x8xf32>
  %h2 = kiln.tanh %c2 : tensor<4x8xf32>
  return %h1, %h2, %c2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}
