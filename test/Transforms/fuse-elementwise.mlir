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
// not recomputed. The reduction, formed first, reads it as an input (its
// other user, neg, comes before the sum); neg's loop kernel computes it once
// and stores it as a second result (multi-output fusion), which the
// reduction reads: no kernel of its own.
// CHECK-LABEL: func.func @expensive_shared_producer
// CHECK:         %[[F:.*]]:2 = kiln.fusion "loop"(%arg0)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      %[[E:.*]] = kiln.exp
// CHECK-NEXT:      %[[N:.*]] = kiln.neg %[[E]]
// CHECK-NEXT:      kiln.yield %[[N]], %[[E]]
// CHECK:         kiln.fusion "reduction"(%[[F]]#1)
// CHECK-NOT:       kiln.exp
// CHECK:           kiln.sum
// CHECK:         return %[[F]]#0
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
// now outlined as they form. %t (an add over a computed chain) is computed
// once, div included, by the comparison's kernel, which also stores it (a
// second result) for the function to return.
// CHECK-LABEL: func.func @shared_expensive_input
// CHECK:         %[[F:.*]]:2 = kiln.fusion "loop"(%arg0, %arg1)
// CHECK:           kiln.sub
// CHECK:           kiln.div
// CHECK:           kiln.neg
// CHECK:           %[[T:.*]] = kiln.add
// CHECK:           %[[LT:.*]] = kiln.lt %[[T]]
// CHECK-NEXT:      kiln.yield %[[LT]], %[[T]]
// CHECK-NOT:     kiln.fusion
// CHECK:         return %[[F]]#1, %[[F]]#0
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
// Here each c_t is computed once, in h_t's kernel, which stores it as a
// second result for the next step.
// CHECK-LABEL: func.func @shared_chain_not_recomputed
// CHECK:         %[[K1:.*]]:2 = kiln.fusion "loop"(%arg1, %arg0, %arg2, %arg3)
// CHECK-COUNT-2:   kiln.mul
// CHECK:           kiln.add
// CHECK:           kiln.tanh
// CHECK:           kiln.yield
// CHECK:         %[[K2:.*]]:2 = kiln.fusion "loop"(%arg1, %[[K1]]#1, %arg2, %arg3)
// CHECK-COUNT-2:   kiln.mul
// CHECK:           kiln.add
// CHECK-NOT:       kiln.mul
// CHECK:           kiln.yield
// CHECK:         return %[[K1]]#0, %[[K2]]#0, %[[K2]]#1
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

// -----

// Multi-output fusion: a producer also read after the root is computed in
// the root's kernel and stored as an extra result; its readers use it.
// CHECK-LABEL: func.func @extra_result
// CHECK:         %[[F:.*]]:2 = kiln.fusion "loop"(%arg0, %arg1)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      %[[A:.*]] = kiln.add
// CHECK-NEXT:      %[[T:.*]] = kiln.tanh %[[A]]
// CHECK-NEXT:      kiln.yield %[[T]], %[[A]]
// CHECK:         kiln.matmul %[[F]]#0, %[[F]]#1
func.func @extra_result(%x: tensor<4x4xf32>, %y: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %a = kiln.add %x, %y : tensor<4x4xf32>, tensor<4x4xf32>
  %t = kiln.tanh %a : tensor<4x4xf32>
  %m = kiln.matmul %t, %a : tensor<4x4xf32>, tensor<4x4xf32>
  return %m : tensor<4x4xf32>
}

// -----

// No extra result when another reader comes before the root (that reader
// may feed the group: the fusion, placed at the root, would come after
// it), nor when the shapes differ (a loop kernel's results share one
// shape): the expensive exp then keeps a kernel of its own.
// CHECK-LABEL: func.func @no_extra_result
// CHECK:         %[[E:.*]] = kiln.fusion "loop"(%arg0)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      kiln.exp
// CHECK-NEXT:      kiln.yield
// CHECK:         %[[M:.*]] = kiln.matmul %[[E]], %[[E]]
// CHECK:         kiln.fusion "loop"(%[[E]], %[[M]])
// CHECK-NOT:       kiln.exp
// CHECK:         %[[X:.*]] = kiln.fusion "loop"(%arg1)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      kiln.exp
// CHECK-NEXT:      kiln.yield
// CHECK:         kiln.fusion "loop"(%[[X]], %arg2)
// CHECK-NOT:       kiln.exp
func.func @no_extra_result(%x: tensor<4x4xf32>, %v: tensor<4xf32>, %w: tensor<3x4xf32>)
    -> (tensor<4x4xf32>, tensor<4xf32>, tensor<3x4xf32>) {
  %e = kiln.exp %x : tensor<4x4xf32>
  %m = kiln.matmul %e, %e : tensor<4x4xf32>, tensor<4x4xf32>
  %r = kiln.add %e, %m : tensor<4x4xf32>, tensor<4x4xf32>
  %ve = kiln.exp %v : tensor<4xf32>
  %b = kiln.mul %ve, %w : tensor<4xf32>, tensor<3x4xf32>
  return %r, %ve, %b : tensor<4x4xf32>, tensor<4xf32>, tensor<3x4xf32>
}

// -----

// A static slice of an input joins a loop kernel as a read at an offset;
// the sliced value stays an input (the whole of it).
// CHECK-LABEL: func.func @slice_of_input
// CHECK:         kiln.fusion "loop"(%arg0)
// CHECK-NEXT:    ^bb0(%[[A:.*]]: tensor<4x16xf32>):
// CHECK-NEXT:      %[[S:.*]] = kiln.slice %[[A]] {ends = array<i64: 4, 12>, starts = array<i64: 0, 8>}
// CHECK-NEXT:      %[[T:.*]] = kiln.tanh %[[S]]
// CHECK-NEXT:      kiln.yield %[[T]]
func.func @slice_of_input(%x: tensor<4x16xf32>) -> tensor<4x4xf32> {
  %s = kiln.slice %x {starts = array<i64: 0, 8>, ends = array<i64: 4, 12>} : tensor<4x16xf32>
  %t = kiln.tanh %s : tensor<4x4xf32>
  return %t : tensor<4x4xf32>
}

// -----

// An LSTM step: the gate pre-activations x_t W + h W' (+ bias) are one
// [B, 4H] sum cut into four column blocks. The slices move above the add
// (each block's add computes only its own columns: no added work) and the
// whole step (add, slices, gates, cell and hidden update) becomes one
// kernel reading the two GEMM results and c_{t-1}, storing h_t and c_t.
// CHECK-LABEL: func.func @lstm_step
// CHECK:         %[[G:.*]] = kiln.matmul
// CHECK:         %[[F:.*]]:2 = kiln.fusion "loop"(%arg0, %[[G]], %arg2)
// CHECK:           kiln.slice %{{.*}} {ends = array<i64: 2, 4>, starts = array<i64: 0, 0>, steps = array<i64: 1, 1>}
// CHECK-NEXT:      kiln.slice %{{.*}} {ends = array<i64: 2, 4>, starts = array<i64: 0, 0>, steps = array<i64: 1, 1>}
// CHECK-NEXT:      kiln.add
// CHECK:           kiln.slice %{{.*}} {ends = array<i64: 2, 8>, starts = array<i64: 0, 4>, steps = array<i64: 1, 1>}
// CHECK-NEXT:      kiln.slice %{{.*}} {ends = array<i64: 2, 8>, starts = array<i64: 0, 4>, steps = array<i64: 1, 1>}
// CHECK-NEXT:      kiln.add
// CHECK:           kiln.slice %{{.*}} {ends = array<i64: 2, 12>, starts = array<i64: 0, 8>, steps = array<i64: 1, 1>}
// CHECK-NEXT:      kiln.slice %{{.*}} {ends = array<i64: 2, 12>, starts = array<i64: 0, 8>, steps = array<i64: 1, 1>}
// CHECK-NEXT:      kiln.add
// CHECK:           kiln.slice %{{.*}} {ends = array<i64: 2, 16>, starts = array<i64: 0, 12>, steps = array<i64: 1, 1>}
// CHECK-NEXT:      kiln.slice %{{.*}} {ends = array<i64: 2, 16>, starts = array<i64: 0, 12>, steps = array<i64: 1, 1>}
// CHECK-NEXT:      kiln.add
// CHECK:           kiln.yield
// CHECK-NOT:     kiln.slice
// CHECK-NOT:     kiln.fusion
// CHECK:         return %[[F]]#0, %[[F]]#1
func.func @lstm_step(%xw: tensor<2x16xf32>, %h: tensor<2x4xf32>, %c: tensor<2x4xf32>,
                     %w: tensor<16x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %hw = kiln.matmul %h, %w {transpose_rhs = true} : tensor<2x4xf32>, tensor<16x4xf32>
  %g = kiln.add %xw, %hw : tensor<2x16xf32>, tensor<2x16xf32>
  %i = kiln.slice %g {starts = array<i64: 0, 0>, ends = array<i64: 2, 4>} : tensor<2x16xf32>
  %o = kiln.slice %g {starts = array<i64: 0, 4>, ends = array<i64: 2, 8>} : tensor<2x16xf32>
  %f = kiln.slice %g {starts = array<i64: 0, 8>, ends = array<i64: 2, 12>} : tensor<2x16xf32>
  %z = kiln.slice %g {starts = array<i64: 0, 12>, ends = array<i64: 2, 16>} : tensor<2x16xf32>
  %si = kiln.sigmoid %i : tensor<2x4xf32>
  %sf = kiln.sigmoid %f : tensor<2x4xf32>
  %tz = kiln.tanh %z : tensor<2x4xf32>
  %fc = kiln.mul %sf, %c : tensor<2x4xf32>, tensor<2x4xf32>
  %iz = kiln.mul %si, %tz : tensor<2x4xf32>, tensor<2x4xf32>
  %c1 = kiln.add %fc, %iz : tensor<2x4xf32>, tensor<2x4xf32>
  %so = kiln.sigmoid %o : tensor<2x4xf32>
  %tc = kiln.tanh %c1 : tensor<2x4xf32>
  %h1 = kiln.mul %so, %tc : tensor<2x4xf32>, tensor<2x4xf32>
  return %h1, %c1 : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Slices move above an elementwise op with a broadcast operand: the bias
// keeps its broadcast dim whole and is sliced along the columns only.
// CHECK-LABEL: func.func @slice_through_broadcast
// CHECK:         kiln.fusion "loop"(%arg0, %arg1)
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<3x8xf32>, %[[B:.*]]: tensor<1x8xf32>):
// CHECK-DAG:       kiln.slice %[[X]] {ends = array<i64: 3, 8>, starts = array<i64: 0, 4>, steps = array<i64: 1, 1>}
// CHECK-DAG:       kiln.slice %[[B]] {ends = array<i64: 1, 8>, starts = array<i64: 0, 4>, steps = array<i64: 1, 1>}
// CHECK:           kiln.add
// CHECK:           kiln.exp
func.func @slice_through_broadcast(%x: tensor<3x8xf32>, %b: tensor<1x8xf32>) -> tensor<3x4xf32> {
  %a = kiln.add %x, %b : tensor<3x8xf32>, tensor<1x8xf32>
  %s = kiln.slice %a {starts = array<i64: 0, 4>, ends = array<i64: 3, 8>} : tensor<3x8xf32>
  %e = kiln.exp %s : tensor<3x4xf32>
  return %e : tensor<3x4xf32>
}

// -----

// Slices are not moved above the add when together they select more than
// it computes (the overlap would be added twice): the add keeps a kernel of
// its own, and each slice reads it at an offset in its consumer's kernel.
// CHECK-LABEL: func.func @overlapping_slices_not_sunk
// CHECK:         %[[A:.*]] = kiln.fusion "loop"(%arg0, %arg1)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      kiln.add
// CHECK-NEXT:      kiln.yield
// CHECK:         kiln.fusion "loop"(%[[A]])
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      kiln.slice
// CHECK-NEXT:      kiln.exp
// CHECK:         kiln.fusion "loop"(%[[A]])
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      kiln.slice
// CHECK-NEXT:      kiln.neg
func.func @overlapping_slices_not_sunk(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>)
    -> (tensor<4x6xf32>, tensor<4x6xf32>) {
  %a = kiln.add %x, %y : tensor<4x8xf32>, tensor<4x8xf32>
  %s0 = kiln.slice %a {starts = array<i64: 0, 0>, ends = array<i64: 4, 6>} : tensor<4x8xf32>
  %s1 = kiln.slice %a {starts = array<i64: 0, 2>, ends = array<i64: 4, 8>} : tensor<4x8xf32>
  %e = kiln.exp %s0 : tensor<4x6xf32>
  %n = kiln.neg %s1 : tensor<4x6xf32>
  return %e, %n : tensor<4x6xf32>, tensor<4x6xf32>
}

// -----

// Nor when a slice is read by an op that no loop kernel holds (transpose):
// that slice stays a copy of the add's result, so the add stays whole.
// CHECK-LABEL: func.func @slice_feeds_transpose
// CHECK:         %[[A:.*]] = kiln.fusion "loop"(%arg0, %arg1)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      kiln.add
// CHECK-NEXT:      kiln.yield
// CHECK:         %[[S:.*]] = kiln.slice %[[A]]
// CHECK:         kiln.fusion "loop"(%[[A]])
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      kiln.slice
// CHECK-NEXT:      kiln.exp
// CHECK:         kiln.transpose %[[S]]
func.func @slice_feeds_transpose(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>)
    -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %a = kiln.add %x, %y : tensor<4x8xf32>, tensor<4x8xf32>
  %s0 = kiln.slice %a {starts = array<i64: 0, 0>, ends = array<i64: 4, 4>} : tensor<4x8xf32>
  %s1 = kiln.slice %a {starts = array<i64: 0, 4>, ends = array<i64: 4, 8>} : tensor<4x8xf32>
  %e = kiln.exp %s0 : tensor<4x4xf32>
  %t = kiln.transpose %s1 {permutation = array<i64: 1, 0>} : tensor<4x4xf32>
  return %e, %t : tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// A value that a slice member reads stays an input even when it could
// otherwise join (a slice reads a buffer, not a value computed in the same
// pass); a slice feeding a reduction kernel stays outside it.
// CHECK-LABEL: func.func @slice_source_stays_input
// CHECK:         %[[N:.*]] = kiln.fusion "loop"(%arg0)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      kiln.neg
// CHECK-NEXT:      kiln.yield
// CHECK:         kiln.fusion "loop"(%[[N]])
// CHECK-NEXT:    ^bb0(%[[A:.*]]: tensor<4x4xf32>):
// CHECK-NEXT:      %[[S:.*]] = kiln.slice %[[A]]
// CHECK-NEXT:      kiln.add %[[S]], %[[A]]
// CHECK:         %[[Q:.*]] = kiln.slice %arg1
// CHECK:         kiln.fusion "reduction"(%[[Q]])
// CHECK-NOT:       kiln.slice
func.func @slice_source_stays_input(%x: tensor<4x4xf32>, %y: tensor<4x8xf32>)
    -> (tensor<4x4xf32>, tensor<4xf32>) {
  %n = kiln.neg %x : tensor<4x4xf32>
  %s = kiln.slice %n {starts = array<i64: 1, 0>, ends = array<i64: 2, 4>} : tensor<4x4xf32>
  %r = kiln.add %s, %n : tensor<1x4xf32>, tensor<4x4xf32>
  %q = kiln.slice %y {starts = array<i64: 0, 0>, ends = array<i64: 4, 4>} : tensor<4x8xf32>
  %m = kiln.mul %q, %q : tensor<4x4xf32>, tensor<4x4xf32>
  %sum = kiln.sum %m {axes = array<i64: 1>} : tensor<4x4xf32>
  return %r, %sum : tensor<4x4xf32>, tensor<4xf32>
}

// -----

// A slice of a slice (step t of an unrolled recurrence's input projection,
// split into gates) is read as one slice of the projection: the kernel
// takes the projection itself, no copy of step t's rows is made.
// CHECK-LABEL: func.func @step_of_projection
// CHECK-SAME:    (%[[P:.*]]: tensor<8x16xf32>, %[[Y:.*]]: tensor<4x16xf32>)
// CHECK-NOT:     kiln.slice %[[P]]
// CHECK:         kiln.fusion "loop"(%[[P]], %[[Y]])
// CHECK-NEXT:    ^bb0(%[[A:.*]]: tensor<8x16xf32>, %{{.*}}: tensor<4x16xf32>):
// CHECK:         kiln.slice %[[A]] {ends = array<i64: 8, 8>, starts = array<i64: 4, 0>, steps = array<i64: 1, 1>}
// CHECK:         kiln.slice %[[A]] {ends = array<i64: 8, 16>, starts = array<i64: 4, 8>, steps = array<i64: 1, 1>}
// CHECK:         kiln.yield
func.func @step_of_projection(%p: tensor<8x16xf32>, %y: tensor<4x16xf32>) -> tensor<4x8xf32> {
  %s = kiln.slice %p {starts = array<i64: 4, 0>, ends = array<i64: 8, 16>} : tensor<8x16xf32>
  %a = kiln.add %s, %y : tensor<4x16xf32>, tensor<4x16xf32>
  %i = kiln.slice %a {starts = array<i64: 0, 0>, ends = array<i64: 4, 8>} : tensor<4x16xf32>
  %g = kiln.slice %a {starts = array<i64: 0, 8>, ends = array<i64: 4, 16>} : tensor<4x16xf32>
  %si = kiln.sigmoid %i : tensor<4x8xf32>
  %tg = kiln.tanh %g : tensor<4x8xf32>
  %r = kiln.mul %si, %tg : tensor<4x8xf32>, tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
