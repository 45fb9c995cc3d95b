// The hot loops of generated kernels use 256-bit AVX2 registers (the
// default --cpu=x86-64-v3), with FMA where LLVM contracts nothing (no
// fast-math: results match the eager kernels) and libmvec for the math.
// RUN: kiln-compile %s -o %t.kiln --emit-asm | FileCheck %s
// With --cpu=x86-64 (SSE2 only) there are no ymm registers at all.
// RUN: kiln-compile %s -o %t.kiln --emit-asm --cpu=x86-64 | FileCheck %s --check-prefix=SSE

// CHECK-LABEL: kiln_kernel_0:
// CHECK: vmovups {{.*}}%ymm
// CHECK: vaddps {{.*}}%ymm
// CHECK: vmulps {{.*}}%ymm
// CHECK: vmovups %ymm{{[0-9]+}}, (
// CHECK-LABEL: .Lfunc_end0:
// SSE-LABEL: kiln_kernel_0:
// SSE-NOT: ymm
// SSE: .Lfunc_end0:
func.func @residual_scale(%x: tensor<64x1024xf32>, %y: tensor<64x1024xf32>) -> tensor<64x1024xf32> {
  %a = kiln.add %x, %y : tensor<64x1024xf32>, tensor<64x1024xf32>
  %m = kiln.mul %a, %x : tensor<64x1024xf32>, tensor<64x1024xf32>
  return %m : tensor<64x1024xf32>
}
