// The hot loops of generated kernels use 256-bit AVX2 registers for
// --cpu=x86-64-v3, with FMA where LLVM contracts nothing (no fast-math:
// results match the eager kernels) and libmvec for the math; 512-bit ones
// for x86-64-v4 (LLVM's preference for 256 bits on AVX-512 is lifted).
// The default builds both, AVX-512 first, each under a header.
// RUN: kiln-compile %s -o %t.kiln --cpu=x86-64-v3 --emit-asm | FileCheck %s
// RUN: kiln-compile %s -o %t.kiln --emit-asm | FileCheck %s --check-prefix=BOTH
// With --cpu=x86-64 (SSE2 only) there are no ymm registers at all.
// RUN: kiln-compile %s -o %t.kiln --emit-asm --cpu=x86-64 | FileCheck %s --check-prefix=SSE

// CHECK-LABEL: kiln_kernel_0:
// CHECK: vmovups {{.*}}%ymm
// CHECK: vaddps {{.*}}%ymm
// CHECK: vmulps {{.*}}%ymm
// CHECK: vmovups %ymm{{[0-9]+}}, (
// CHECK-LABEL: .Lfunc_end0:
// BOTH-LABEL: ; kiln-compile: kernels for x86-64-v4
// BOTH-LABEL: kiln_kernel_0:
// BOTH: vaddps {{.*}}%zmm
// BOTH: vmulps {{.*}}%zmm
// BOTH-LABEL: ; kiln-compile: kernels for x86-64-v3
// BOTH-LABEL: kiln_kernel_0:
// BOTH-NOT: zmm
// BOTH: vaddps {{.*}}%ymm
// SSE-LABEL: kiln_kernel_0:
// SSE-NOT: ymm
// SSE: .Lfunc_end0:
func.func @residual_scale(%x: tensor<64x1024xf32>, %y: tensor<64x1024xf32>) -> tensor<64x1024xf32> {
  %a = kiln.add %x, %y : tensor<64x1024xf32>, tensor<64x1024xf32>
  %m = kiln.mul %a, %x : tensor<64x1024xf32>, tensor<64x1024xf32>
  return %m : tensor<64x1024xf32>
}
