// Loop kernels that read inputs through static slices (an offset and the
// input's strides, possibly stepped and broadcast) and that store extra
// results (multi-output fusion) agree with the f64 reference kernels and
// with the op-by-op build: an LSTM step whose gate pre-activations are one
// [B, 4H] sum cut into column blocks (one native kernel storing h and c),
// slices with steps and negative bounds of a 3-D input broadcast against a
// full one, and a slice read beside its whole input.
// RUN: kiln-compile %s -o %t.fused.kiln --random-weights 1 --report 2>&1 | FileCheck %s --check-prefix=REPORT
// RUN: kiln-compile %s -o %t.unfused.kiln --random-weights 1 --no-fusion --no-in-place
// RUN: rm -rf %t.ref %t.eager && mkdir -p %t.ref %t.eager
// RUN: kiln-run %t.unfused.kiln --random-inputs 5 --reference --output-dir %t.ref > /dev/null
// RUN: kiln-run %t.unfused.kiln --random-inputs 5 --output-dir %t.eager > /dev/null
// RUN: kiln-run %t.fused.kiln --random-inputs 5 --compare-dir %t.ref | FileCheck %s
// RUN: kiln-run %t.fused.kiln --random-inputs 5 --compare-dir %t.eager | FileCheck %s
// RUN: rm -rf %t.refs && mkdir -p %t.refs
// RUN: kiln-run %t.unfused.kiln --function strided --random-inputs 6 --reference --output-dir %t.refs > /dev/null
// RUN: kiln-run %t.fused.kiln --function strided --random-inputs 6 --compare-dir %t.refs | FileCheck %s --check-prefix=STRIDED
// RUN: rm -rf %t.refb && mkdir -p %t.refb
// RUN: kiln-run %t.unfused.kiln --function beside_whole --random-inputs 7 --reference --output-dir %t.refb > /dev/null
// RUN: kiln-run %t.fused.kiln --function beside_whole --random-inputs 7 --compare-dir %t.refb | FileCheck %s --check-prefix=BESIDE

// REPORT: cpu codegen: 3 fused kernel(s) generated as 3 function(s) for {{.*}}, 0 run op by op
// REPORT: fusion "loop" [slice,slice,add,slice,slice,add,slice,slice,add,slice,slice,add,sigmoid,sigmoid,tanh,mul,mul,add,sigmoid,tanh,mul] at {{.*}}: native

// CHECK-COUNT-2: output #{{[0-9]+}} vs expected: {{.*}} OK
// CHECK-NOT: MISMATCH
// STRIDED: output #0 vs expected: {{.*}} OK
// BESIDE: output #0 vs expected: {{.*}} OK
func.func @main(%xw: tensor<8x64xf32>, %h: tensor<8x16xf32>, %c: tensor<8x16xf32>)
    -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %w = kiln.parameter "w" : tensor<64x16xf32>
  %hw = kiln.matmul %h, %w {transpose_rhs = true} : tensor<8x16xf32>, tensor<64x16xf32>
  %g = kiln.add %xw, %hw : tensor<8x64xf32>, tensor<8x64xf32>
  %i = kiln.slice %g {starts = array<i64: 0, 0>, ends = array<i64: 8, 16>} : tensor<8x64xf32>
  %o = kiln.slice %g {starts = array<i64: 0, 16>, ends = array<i64: 8, 32>} : tensor<8x64xf32>
  %f = kiln.slice %g {starts = array<i64: 0, 32>, ends = array<i64: 8, 48>} : tensor<8x64xf32>
  %z = kiln.slice %g {starts = array<i64: 0, 48>, ends = array<i64: 8, 64>} : tensor<8x64xf32>
  %si = kiln.sigmoid %i : tensor<8x16xf32>
  %sf = kiln.sigmoid %f : tensor<8x16xf32>
  %tz = kiln.tanh %z : tensor<8x16xf32>
  %fc = kiln.mul %sf, %c : tensor<8x16xf32>, tensor<8x16xf32>
  %iz = kiln.mul %si, %tz : tensor<8x16xf32>, tensor<8x16xf32>
  %c1 = kiln.add %fc, %iz : tensor<8x16xf32>, tensor<8x16xf32>
  %so = kiln.sigmoid %o : tensor<8x16xf32>
  %tc = kiln.tanh %c1 : tensor<8x16xf32>
  %h1 = kiln.mul %so, %tc : tensor<8x16xf32>, tensor<8x16xf32>
  return %h1, %c1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// Rows 1, 3, 5 of a [7, 3, 10] input, its first middle index (broadcast
// over 3), and columns 3 and 6 (bounds -7 and -1, step 3).
func.func @strided(%x: tensor<7x3x10xf32>, %y: tensor<3x3x2xf32>) -> tensor<3x3x2xf32> {
  %s = kiln.slice %x {starts = array<i64: 1, 0, -7>, ends = array<i64: 6, 1, -1>, steps = array<i64: 2, 1, 3>} : tensor<7x3x10xf32>
  %m = kiln.mul %s, %y : tensor<3x1x2xf32>, tensor<3x3x2xf32>
  %e = kiln.exp %m : tensor<3x3x2xf32>
  return %e : tensor<3x3x2xf32>
}

// The slice [2, 0:5] of x is broadcast over the rows of x itself.
func.func @beside_whole(%x: tensor<4x5xf32>) -> tensor<4x5xf32> {
  %s = kiln.slice %x {starts = array<i64: 2, 0>, ends = array<i64: 3, 5>} : tensor<4x5xf32>
  %d = kiln.sub %x, %s : tensor<4x5xf32>, tensor<1x5xf32>
  %t = kiln.tanh %d : tensor<4x5xf32>
  return %t : tensor<4x5xf32>
}
