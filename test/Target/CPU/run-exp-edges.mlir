// The inline f32 exp (compiler/Target/CPU/ScalarOps.cpp, expValue) on its
// edges: -inf and the underflow clamp at -104 (0), results in the
// subnormal range (around -87.3 to -103.3, rounded once), +-0, the
// overflow side of 88.72 and the clamp at 89 (inf), +inf, NaN (kept), and a
// sweep of [-30, 30]; sigmoid and the row softmax use the same function.
// Against the op-by-op build (the runtime's vectorized exp), and, below
// f32's overflow (where the f64 reference stays finite), against the f64
// reference run within about two f32 roundings (rtol 3e-7) and one
// subnormal step (atol 1.5e-45).
// RUN: kiln-compile %s -o %t.fused.kiln
// RUN: kiln-compile %s -o %t.eager.kiln --no-fusion --no-in-place --cpu=none
// RUN: rm -rf %t.out %t.ref && mkdir -p %t.out %t.ref
// RUN: kiln-run %t.eager.kiln --function exp_edges --input %S/Inputs/exp-edges.npy --output-dir %t.out
// RUN: kiln-run %t.fused.kiln --function exp_edges --input %S/Inputs/exp-edges.npy --compare %t.out/output0.npy | FileCheck %s
// RUN: kiln-run %t.eager.kiln --function exp_below_overflow --reference --input %S/Inputs/exp-edges.npy --output-dir %t.ref
// RUN: kiln-run %t.fused.kiln --function exp_below_overflow --input %S/Inputs/exp-edges.npy --compare %t.ref/output0.npy --rtol 3e-7 --atol 1.5e-45 | FileCheck %s
// RUN: kiln-run %t.eager.kiln --function sigmoid_softmax --input %S/Inputs/exp-edges.npy --output-dir %t.out
// RUN: kiln-run %t.fused.kiln --function sigmoid_softmax --input %S/Inputs/exp-edges.npy --compare %t.out/output0.npy --compare %t.out/output1.npy | FileCheck %s --check-prefix=TWO
// RUN: kiln-compile %s -o %t.kiln --emit-asm --cpu=x86-64-v3 | FileCheck %s --check-prefix=ASM

// CHECK: output #0 vs expected: {{.*}} OK
// TWO: output #0 vs expected: {{.*}} OK
// TWO: output #1 vs expected: {{.*}} OK
// ASM-LABEL: kiln_kernel_0:
// ASM-NOT: call
// ASM: vroundps $8
// ASM-NOT: call
// ASM: .Lfunc_end0
func.func @exp_edges(%x: tensor<1x64xf32>) -> tensor<1x64xf32> {
  %e = kiln.exp %x : tensor<1x64xf32>
  return %e : tensor<1x64xf32>
}

func.func @exp_below_overflow(%x: tensor<1x64xf32>) -> tensor<1x64xf32> {
  %c = kiln.clip %x {max = 88.5 : f64} : tensor<1x64xf32>
  %e = kiln.exp %c : tensor<1x64xf32>
  return %e : tensor<1x64xf32>
}

// Softmax over finite values only: the row from -30 to 30 of the sweep,
// scaled to reach the overflow side (x * 4: up to 120).
func.func @sigmoid_softmax(%x: tensor<1x64xf32>) -> (tensor<1x64xf32>, tensor<1x27xf32>) {
  %s = kiln.sigmoid %x : tensor<1x64xf32>
  %row = kiln.slice %x {starts = array<i64: 0, 37>, ends = array<i64: 1, 64>} : tensor<1x64xf32>
  %four = kiln.constant dense<4.0> : tensor<f32>
  %big = kiln.mul %row, %four : tensor<1x27xf32>, tensor<f32>
  %p = kiln.softmax %big {axis = -1 : i64} : tensor<1x27xf32>
  return %s, %p : tensor<1x64xf32>, tensor<1x27xf32>
}
