// RUN: kiln-opt %s --split-input-file --kiln-plan-memory="report=true" --verify-diagnostics | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-plan-memory="in-place=false" | FileCheck %s --check-prefix=NOINPLACE

// A chain of elementwise kernels runs in place: each writes over its input,
// which dies there, so one 4 KiB buffer serves the chain. Without in-place
// reuse, two buffers alternate. What the function returns is not in the
// arena (no offset: the executor gives each run's result a fresh tensor),
// and never takes over its operand's buffer.
// CHECK-LABEL: func.func @chain
// CHECK-SAME:    kiln.arena_lower_bound = 4096 : i64, kiln.arena_no_reuse = 4096 : i64, kiln.arena_size = 4096 : i64
// CHECK:         kiln.neg %arg0 {kiln.offsets = array<i64: 0>}
// CHECK:         kiln.exp %{{.*}} {kiln.offsets = array<i64: 0>}
// CHECK:         kiln.abs %{{.*}} : tensor<1024xf32>
// CHECK-NOT:     kiln.offsets
// NOINPLACE-LABEL: func.func @chain
// NOINPLACE-SAME:    kiln.arena_lower_bound = 8192 : i64, kiln.arena_no_reuse = 8192 : i64, kiln.arena_size = 8192 : i64
// NOINPLACE:         kiln.neg %arg0 {kiln.offsets = array<i64: 0>}
// NOINPLACE:         kiln.exp %{{.*}} {kiln.offsets = array<i64: 4096>}
// NOINPLACE:         kiln.abs %{{.*}} : tensor<1024xf32>
// expected-remark @+1 {{arena 4096 bytes (lower bound 4096, without reuse 4096, 1 buffers; 1 returned)}}
func.func @chain(%x: tensor<1024xf32>) -> tensor<1024xf32> {
  %0 = kiln.neg %x : tensor<1024xf32>
  %1 = kiln.exp %0 : tensor<1024xf32>
  %2 = kiln.abs %1 : tensor<1024xf32>
  return %2 : tensor<1024xf32>
}

// -----

// A value read later cannot be overwritten: %0 lives until the add, so the
// exp gets its own buffer; the mul reuses one of the add's dying inputs.
// CHECK-LABEL: func.func @diamond
// CHECK-SAME:    kiln.arena_size = 8192 : i64
// CHECK:         kiln.neg %arg0 {kiln.offsets = array<i64: [[A:[0-9]+]]>}
// CHECK:         kiln.exp %{{.*}} {kiln.offsets = array<i64: [[B:[0-9]+]]>}
// CHECK:         kiln.add %{{.*}} {kiln.offsets = array<i64: [[A]]>}
// CHECK:         kiln.sqrt %{{.*}} : tensor<1024xf32>
// expected-remark @+1 {{arena 8192 bytes (lower bound 8192, without reuse 8192, 2 buffers; 1 returned)}}
func.func @diamond(%x: tensor<1024xf32>) -> tensor<1024xf32> {
  %0 = kiln.neg %x : tensor<1024xf32>
  %1 = kiln.exp %0 : tensor<1024xf32>
  %2 = kiln.add %0, %1 : tensor<1024xf32>, tensor<1024xf32>
  %3 = kiln.sqrt %2 : tensor<1024xf32>
  return %3 : tensor<1024xf32>
}

// -----

// Buffers with disjoint live ranges share memory: the slice is dead at once,
// so the sum takes its place; a reshape is a view of the matmul's buffer
// and keeps it alive; parameters take no arena space.
// CHECK-LABEL: func.func @reuse_after_death
// CHECK-NOT:     kiln.parameter {{.*}}kiln.offsets
// CHECK:         %[[M:.*]] = kiln.matmul {{.*}} {kiln.offsets = array<i64: 0>}
// CHECK:         kiln.reshape %[[M]] {kiln.offsets = array<i64: 0>}
// CHECK:         kiln.slice {{.*}}kiln.offsets = array<i64: 128>
// CHECK:         kiln.sum {{.*}}kiln.offsets = array<i64: 128>
// expected-remark @+1 {{arena 192 bytes (lower bound 192, without reuse 256, 3 buffers; 1 returned)}}
func.func @reuse_after_death(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %w = kiln.parameter "w" : tensor<8x8xf32>
  %m = kiln.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32>
  %r = kiln.reshape %m : tensor<4x8xf32> -> tensor<32xf32>
  %t = kiln.slice %r {starts = array<i64: 0>, ends = array<i64: 16>} : tensor<32xf32>
  %s = kiln.sum %m {axes = array<i64: 1>} : tensor<4x8xf32>
  %o = kiln.neg %s : tensor<4xf32>
  return %o : tensor<4xf32>
}

// -----

// A returned view keeps its whole source buffer out of the arena (the
// caller gets the source's fresh tensor, reshaped); a value returned twice
// and an intermediate that is also returned are the caller's too.
// CHECK-LABEL: func.func @returned_views
// CHECK-SAME:    kiln.arena_size = 0 : i64
// CHECK-NOT:     kiln.offsets
// expected-remark @+1 {{arena 0 bytes (lower bound 0, without reuse 0, 0 buffers; 2 returned)}}
func.func @returned_views(%x: tensor<4x8xf32>) -> (tensor<32xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %a = kiln.exp %x : tensor<4x8xf32>
  %r = kiln.reshape %a : tensor<4x8xf32> -> tensor<32xf32>
  %b = kiln.neg %a : tensor<4x8xf32>
  return %r, %a, %b, %b : tensor<32xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}
