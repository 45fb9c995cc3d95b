// Transcendentals vectorize into glibc's libmvec AVX2 variants: f64 exp
// and log through LLVM 19's LIBMVEC-X86 table, erf/expm1/log1p/pow and f64
// tanh through the mappings compiler/Target/CPU adds; f64 uses the 4-lane
// ones. f32 tanh is inline (a rational function, one division, no call),
// and so is f32 exp (sigmoid's here: Cephes' polynomial, no call).
// For x86-64-v4 the AVX-512 ("e") variants, 16 f32 or 8 f64 lanes.
// RUN: kiln-compile %s -o %t.kiln --cpu=x86-64-v3 --emit-asm | FileCheck %s
// RUN: kiln-compile %s -o %t.kiln --cpu=x86-64-v4 --emit-asm | FileCheck %s --check-prefix=V4

// CHECK-LABEL: kiln_kernel_0:
// CHECK-NOT: tanhf
// CHECK-NOT: v_expf
// CHECK-DAG: callq _ZGVdN8v_erff
// CHECK-DAG: callq _ZGVdN8v_expm1f
// CHECK-DAG: callq _ZGVdN8v_log1pf
// CHECK-DAG: callq _ZGVdN8v_logf
// CHECK-DAG: callq _ZGVdN8vv_powf
// V4-LABEL: kiln_kernel_0:
// V4-DAG: callq _ZGVeN16v_erff
// V4-DAG: callq _ZGVeN16v_logf
// V4-LABEL: kiln_kernel_1:
// V4-DAG: callq _ZGVeN8v_exp
// CHECK-LABEL: kiln_kernel_1:
// CHECK-DAG: callq _ZGVdN4v_exp
// CHECK-DAG: callq _ZGVdN4v_tanh
// CHECK-DAG: callq _ZGVdN4v_erf
func.func @f32_math(%x: tensor<4x256xf32>) -> tensor<4x256xf32> {
  %a = kiln.sigmoid %x : tensor<4x256xf32>
  %b = kiln.tanh %a : tensor<4x256xf32>
  %c = kiln.gelu %b : tensor<4x256xf32>
  %d = kiln.elu %c : tensor<4x256xf32>
  %e = kiln.softplus %d : tensor<4x256xf32>
  %f = kiln.log %e : tensor<4x256xf32>
  %g = kiln.pow %f, %x : tensor<4x256xf32>, tensor<4x256xf32>
  return %g : tensor<4x256xf32>
}
func.func @f64_math(%x: tensor<4x256xf64>) -> tensor<4x256xf64> {
  %a = kiln.exp %x : tensor<4x256xf64>
  %b = kiln.tanh %a : tensor<4x256xf64>
  %c = kiln.erf %b : tensor<4x256xf64>
  return %c : tensor<4x256xf64>
}
