// Row-reduction kernels (softmax, log_softmax, layer_norm, sum, mean,
// reduce_max over the innermost dimensions, with their elementwise
// prologues) agree with the f64 reference kernels and with the op-by-op
// build at DESIGN.md's f32 tolerance: rows of 37 (four ymm vectors and a
// tail of 5), rows of one element, rows of 3 with -inf (some all -inf:
// NaN, as the reference gives), inputs scaled to 1e30, inputs broadcast
// along rows or columns, layer_norms over two dimensions, and f16/bf16
// data (f32 math, f16/bf16 tolerances). The f64 reference softmax gives
// NaN, not 0, at a -inf input (it sums exp(x_j - x_i)), and kiln-run
// counts a NaN expected value as a match, so the -inf entries are really
// checked by the comparison with the op-by-op build (0, as here).
// RUN: kiln-compile %s -o %t.fused.kiln --random-weights 1 --report 2>&1 | FileCheck %s --check-prefix=REPORT
// RUN: kiln-compile %s -o %t.unfused.kiln --random-weights 1 --no-fusion --no-in-place
// RUN: rm -rf %t.ref %t.eager && mkdir -p %t.ref %t.eager
// RUN: kiln-run %t.unfused.kiln --random-inputs 5 --reference --output-dir %t.ref > /dev/null
// RUN: kiln-run %t.unfused.kiln --random-inputs 5 --output-dir %t.eager > /dev/null
// RUN: kiln-run %t.fused.kiln --random-inputs 5 --compare-dir %t.ref | FileCheck %s
// RUN: kiln-run %t.fused.kiln --random-inputs 5 --compare-dir %t.eager | FileCheck %s
// RUN: rm -rf %t.ref16 %t.eager16 && mkdir -p %t.ref16 %t.eager16
// RUN: kiln-run %t.unfused.kiln --function half --random-inputs 6 --reference --output-dir %t.ref16 > /dev/null
// RUN: kiln-run %t.unfused.kiln --function half --random-inputs 6 --output-dir %t.eager16 > /dev/null
// RUN: kiln-run %t.fused.kiln --function half --random-inputs 6 --compare-dir %t.ref16 | FileCheck %s --check-prefix=HALF
// RUN: kiln-run %t.fused.kiln --function half --random-inputs 6 --compare-dir %t.eager16 | FileCheck %s --check-prefix=HALF
// RUN: rm -rf %t.refd && mkdir -p %t.refd
// RUN: kiln-run %t.unfused.kiln --function decomposed --random-inputs 7 --reference --output-dir %t.refd > /dev/null
// RUN: kiln-run %t.fused.kiln --function decomposed --random-inputs 7 --compare-dir %t.refd | FileCheck %s --check-prefix=DECOMP
// RUN: rm -rf %t.refl && mkdir -p %t.refl
// RUN: kiln-run %t.unfused.kiln --function long_rows --random-inputs 8 --reference --output-dir %t.refl > /dev/null
// RUN: kiln-run %t.fused.kiln --function long_rows --random-inputs 8 --compare-dir %t.refl | FileCheck %s --check-prefix=LONG
// RUN: rm -rf %t.refs && mkdir -p %t.refs
// RUN: kiln-run %t.unfused.kiln --function splat_norm --random-inputs 9 --reference --output-dir %t.refs > /dev/null
// RUN: kiln-run %t.fused.kiln --function splat_norm --random-inputs 9 --compare-dir %t.refs | FileCheck %s --check-prefix=SPLAT

// Every reduction fusion is native but one: a layer_norm whose prologue
// reads an input broadcast inside the normalized dims runs op by op.
// REPORT: cpu codegen: 23 fused kernel(s) generated as 23 function(s) for x86-64-v4,x86-64-v3, 1 run op by op
// REPORT: fusion "reduction" [sub,layer_norm] at {{.*}}: op by op: an input broadcast within the reduced dimensions

// CHECK-COUNT-13: output #{{[0-9]+}} vs expected: {{.*}} OK
// CHECK-NOT: MISMATCH
// HALF-COUNT-3: output #{{[0-9]+}} vs expected: {{.*}} OK
// HALF-NOT: MISMATCH
// DECOMP: output #0 vs expected: {{.*}} OK
// LONG-COUNT-3: output #{{[0-9]+}} vs expected: {{.*}} OK
// LONG-NOT: MISMATCH
// SPLAT: output #0 vs expected: {{.*}} OK
func.func @rows(%x: tensor<16x37xf32>, %y: tensor<16x37xf32>,
                %t: tensor<16x3xf32>, %u: tensor<5x1xf32>,
                %k: tensor<16x1xf32>, %z: tensor<2x4x16xf32>,
                %mask: tensor<2x1x16xf32>, %zs: tensor<2x1x1xf32>)
    -> (tensor<16x37xf32>, tensor<16x3xf32>, tensor<16x37xf32>,
        tensor<16x37xf32>, tensor<16x37xf32>, tensor<5x1xf32>,
        tensor<5x1xf32>, tensor<16xf32>, tensor<16x1xf32>, tensor<16x1xf32>,
        tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>) {
  // softmax(x / 4): rows of 37.
  %quarter = kiln.constant dense<0.25> : tensor<f32>
  %xs = kiln.mul %x, %quarter : tensor<16x37xf32>, tensor<f32>
  %p0 = kiln.softmax %xs {axis = -1 : i64} : tensor<16x37xf32>
  // softmax(log(relu(t))): -inf wherever t <= 0, whole rows of -inf.
  %tr = kiln.relu %t : tensor<16x3xf32>
  %tl = kiln.log %tr : tensor<16x3xf32>
  %p1 = kiln.softmax %tl {axis = -1 : i64} : tensor<16x3xf32>
  // softmax(x * 1e30): huge inputs, exps underflow to 0 but the max's.
  %huge = kiln.constant dense<1.0e30> : tensor<f32>
  %xh = kiln.mul %x, %huge : tensor<16x37xf32>, tensor<f32>
  %p2 = kiln.softmax %xh {axis = -1 : i64} : tensor<16x37xf32>
  // log_softmax(x - y).
  %d = kiln.sub %x, %y : tensor<16x37xf32>, tensor<16x37xf32>
  %p3 = kiln.log_softmax %d {axis = -1 : i64} : tensor<16x37xf32>
  // layer_norm(x + y) with scale and bias.
  %g = kiln.parameter "ln.scale" : tensor<37xf32>
  %b = kiln.parameter "ln.bias" : tensor<37xf32>
  %s = kiln.add %x, %y : tensor<16x37xf32>, tensor<16x37xf32>
  %n0 = kiln.layer_norm %s, %g, %b : tensor<16x37xf32>, tensor<37xf32>, tensor<37xf32>
  // Rows of one element.
  %g1 = kiln.parameter "ln1.scale" : tensor<1xf32>
  %u2 = kiln.add %u, %u : tensor<5x1xf32>, tensor<5x1xf32>
  %n1 = kiln.layer_norm %u2, %g1 : tensor<5x1xf32>, tensor<1xf32>
  %u3 = kiln.mul %u, %u : tensor<5x1xf32>, tensor<5x1xf32>
  %p4 = kiln.softmax %u3 {axis = -1 : i64} : tensor<5x1xf32>
  // Row reductions of x * y (one shared product, recomputed in each).
  %xy = kiln.mul %x, %y : tensor<16x37xf32>, tensor<16x37xf32>
  %r0 = kiln.sum %xy {axes = array<i64: 1>} : tensor<16x37xf32>
  %r1 = kiln.reduce_max %xy {axes = array<i64: -1>, keepdims = true} : tensor<16x37xf32>
  // A per-row scale (constant along each row) and a mask broadcast over
  // the heads (dim 1): row offsets (row / 4) * 16.
  %zk = kiln.mul %z, %mask : tensor<2x4x16xf32>, tensor<2x1x16xf32>
  %p5 = kiln.softmax %zk {axis = 2 : i64} : tensor<2x4x16xf32>
  // layer_norm over the last two dims (rows of 64) of z times a scale per
  // batch; and of z - mask, which is broadcast inside the rows (op by op).
  %g2 = kiln.parameter "ln2.scale" : tensor<4x16xf32>
  %z3 = kiln.mul %z, %zs : tensor<2x4x16xf32>, tensor<2x1x1xf32>
  %n3 = kiln.layer_norm %z3, %g2 {axis = 1 : i64} : tensor<2x4x16xf32>, tensor<4x16xf32>
  %z2 = kiln.sub %z, %mask : tensor<2x4x16xf32>, tensor<2x1x16xf32>
  %n2 = kiln.layer_norm %z2, %g2 {axis = 1 : i64} : tensor<2x4x16xf32>, tensor<4x16xf32>
  %xk = kiln.mul %x, %k : tensor<16x37xf32>, tensor<16x1xf32>
  %m0 = kiln.mean %xk {axes = array<i64: 1>, keepdims = true} : tensor<16x37xf32>
  return %p0, %p1, %p2, %p3, %n0, %n1, %p4, %r0, %r1, %m0, %p5, %n3, %n2
      : tensor<16x37xf32>, tensor<16x3xf32>, tensor<16x37xf32>,
        tensor<16x37xf32>, tensor<16x37xf32>, tensor<5x1xf32>,
        tensor<5x1xf32>, tensor<16xf32>, tensor<16x1xf32>, tensor<16x1xf32>,
        tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>
}

// 16-bit storage: rows of 37 halves, a layer_norm, a bf16 softmax.
func.func @half(%x: tensor<16x37xf16>, %g: tensor<37xf16>, %b: tensor<16x37xbf16>)
    -> (tensor<16x37xf16>, tensor<16x37xf16>, tensor<16x37xbf16>) {
  %half = kiln.constant dense<0.5> : tensor<f16>
  %xs = kiln.mul %x, %half : tensor<16x37xf16>, tensor<f16>
  %p = kiln.softmax %xs {axis = -1 : i64} : tensor<16x37xf16>
  %n = kiln.layer_norm %x, %g : tensor<16x37xf16>, tensor<37xf16>
  %q = kiln.softmax %b {axis = -1 : i64} : tensor<16x37xbf16>
  return %p, %n, %q : tensor<16x37xf16>, tensor<16x37xf16>, tensor<16x37xbf16>
}

// A softmax spelled out (as importers decompose it): the two row
// reductions (keepdims) are row kernels, the broadcasts back along the row
// are loop kernels.
func.func @decomposed(%x: tensor<32x100xf32>) -> tensor<32x100xf32> {
  %m = kiln.reduce_max %x {axes = array<i64: 1>, keepdims = true} : tensor<32x100xf32>
  %d = kiln.sub %x, %m : tensor<32x100xf32>, tensor<32x1xf32>
  %e = kiln.exp %d : tensor<32x100xf32>
  %s = kiln.sum %e {axes = array<i64: 1>, keepdims = true} : tensor<32x100xf32>
  %p = kiln.div %e, %s : tensor<32x100xf32>, tensor<32x1xf32>
  return %p : tensor<32x100xf32>
}

// Rows longer than 4096 f32 values sum in f64 lanes: f32 lanes drift past
// the f32 tolerance on rows this long.
func.func @long_rows(%x: tensor<2x1048576xf32>, %y: tensor<2x8192xf32>)
    -> (tensor<2xf32>, tensor<2x1xf32>, tensor<2x8192xf32>) {
  %s = kiln.sum %x {axes = array<i64: 1>} : tensor<2x1048576xf32>
  %m = kiln.mean %x {axes = array<i64: 1>, keepdims = true} : tensor<2x1048576xf32>
  %g = kiln.parameter "long.scale" : tensor<8192xf32>
  %n = kiln.layer_norm %y, %g : tensor<2x8192xf32>, tensor<8192xf32>
  return %s, %m, %n : tensor<2xf32>, tensor<2x1xf32>, tensor<2x8192xf32>
}

// Splat scale and bias (what ONNX exports of freshly initialised norms
// carry: constant ones and zeros, cloned into the fusion) are immediates
// of the native kernel, not a reason to run it op by op.
func.func @splat_norm(%x: tensor<8x37xf32>, %y: tensor<8x37xf32>) -> tensor<8x37xf32> {
  %s = kiln.add %x, %y : tensor<8x37xf32>, tensor<8x37xf32>
  %g = kiln.constant dense<1.5> : tensor<37xf32>
  %b = kiln.constant dense<-0.25> : tensor<37xf32>
  %n = kiln.layer_norm %s, %g, %b : tensor<8x37xf32>, tensor<37xf32>, tensor<37xf32>
  return %n : tensor<8x37xf32>
}
