// The runtime loads the shared object from the .kiln file (memfd + dlopen,
// no LLVM), runs the kernel over the thread pool, and agrees with the
// op-by-op build. The file carries AVX-512 and AVX2 copies of the kernels
// (the default --cpu): without AVX-512 the host runs the AVX2 copy; without
// AVX2 it refuses both, naming what each needs.
// RUN: kiln-compile %s -o %t.fused.kiln --random-weights 1
// RUN: kiln-compile %s -o %t.eager.kiln --random-weights 1 --no-fusion --no-in-place
// RUN: rm -rf %t.out && mkdir -p %t.out
// RUN: kiln-run %t.eager.kiln --random-inputs 3 --output-dir %t.out
// RUN: kiln-run %t.fused.kiln --random-inputs 3 --compare %t.out/output0.npy | FileCheck %s
// RUN: env KILN_DISABLE_CPU_FEATURES=avx512f kiln-run %t.fused.kiln --random-inputs 3 --compare %t.out/output0.npy | FileCheck %s
// RUN: env KILN_DISABLE_CPU_FEATURES=fma,avx2 not kiln-run %t.fused.kiln --random-inputs 3 2>&1 | FileCheck %s --check-prefix=REFUSE
// RUN: not kiln-run %t.fused.kiln --random-inputs 3 --reference 2>&1 | FileCheck %s --check-prefix=REF

// CHECK: output #0 vs expected: {{.*}} OK
// REFUSE: error: Unavailable: {{.*}}: the native code was compiled for x86-64-v4 and needs '{{avx2|fma}}', which this CPU lacks{{.*}}; {{.*}}: the native code was compiled for x86-64-v3 and needs '{{avx2|fma}}', which this CPU lacks
// REF: generated kernel 'kiln_kernel_0' has no reference version
func.func @gelu_residual(%x: tensor<128x512xf32>, %y: tensor<128x512xf32>) -> tensor<128x512xf32> {
  %a = kiln.add %x, %y : tensor<128x512xf32>, tensor<128x512xf32>
  %g = kiln.gelu %a : tensor<128x512xf32>
  return %g : tensor<128x512xf32>
}
