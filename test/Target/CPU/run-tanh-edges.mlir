// The inline f32 tanh (compiler/Target/CPU/ScalarOps.cpp) against the
// op-by-op build (libm's tanhf) on its edges: +-0 (the sign kept), tiny
// and subnormal inputs (returned as they are), both sides of the 4e-4
// cutoff and of the 7.9 clamp, large values, +-inf and NaN (kept), and a
// sweep of [-10, 10]. The tanh-form GELU uses the same function.
// RUN: kiln-compile %s -o %t.fused.kiln
// RUN: kiln-compile %s -o %t.eager.kiln --no-fusion --no-in-place --cpu=none
// RUN: rm -rf %t.out && mkdir -p %t.out
// RUN: kiln-run %t.eager.kiln --input %S/Inputs/tanh-edges.npy --output-dir %t.out
// RUN: kiln-run %t.fused.kiln --input %S/Inputs/tanh-edges.npy --compare %t.out/output0.npy | FileCheck %s
// RUN: kiln-compile %s -o %t.kiln --emit-asm | FileCheck %s --check-prefix=ASM

// CHECK: output #0 vs expected: {{.*}} OK
// ASM-LABEL: kiln_kernel_0:
// ASM-NOT: tanh
// ASM: vdivps
// ASM-NOT: tanh
// ASM: .Lfunc_end0
func.func @tanh_edges(%x: tensor<1x64xf32>) -> tensor<1x64xf32> {
  %t = kiln.tanh %x : tensor<1x64xf32>
  %g = kiln.gelu %x {approximate = "tanh"} : tensor<1x64xf32>
  %y = kiln.add %t, %g : tensor<1x64xf32>, tensor<1x64xf32>
  return %y : tensor<1x64xf32>
}
