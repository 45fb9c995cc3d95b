// f16 and bf16 are stored as __half / __nv_bfloat16, loaded into f32
// registers, and every op with a 16-bit result is rounded back to its
// dtype (kiln_round_*), exactly as the eager kernels store each op's
// result; the _vec variant moves 4 halves (8 bytes) per access.
// RUN: kiln-cuda-compile %s --emit-cuda | FileCheck %s

// CHECK: #include <cuda_fp16.h>
// CHECK: #include <cuda_bf16.h>
// CHECK-LABEL: kiln_cuda_kernel_0_body(float a0, float a1, float &r0) {
// CHECK-NEXT: const float v2 = kiln_round_f16(kiln_add(a0, a1));
// CHECK-NEXT: const float v3 = kiln_round_f16(kiln_tanh(v2));
// CHECK: kiln_cuda_kernel_0(const __half * __restrict__ in0, const __half * __restrict__ in1, __half * __restrict__ out0)
// CHECK: kiln_cuda_kernel_0_vec(
// CHECK: kiln_vec<__half, 4> x0
func.func @half(%x: tensor<16x64xf16>, %y: tensor<64xf16>) -> tensor<16x64xf16> {
  %a = kiln.add %x, %y : tensor<16x64xf16>, tensor<64xf16>
  %b = kiln.tanh %a : tensor<16x64xf16>
  return %b : tensor<16x64xf16>
}

// A bf16 GELU (tanh form) with an f32 result: only the bf16 op rounds.
// CHECK-LABEL: kiln_cuda_kernel_1_body(float a0, float &r0) {
// CHECK-NEXT: const float v1 = kiln_round_bf16(kiln_gelu_tanh(a0));
// CHECK-NEXT: const float v2 = v1;
// CHECK: kiln_cuda_kernel_1(const __nv_bfloat16 * __restrict__ in0, float * __restrict__ out0)
func.func @bfloat(%x: tensor<32xbf16>) -> tensor<32xf32> {
  %g = kiln.gelu %x {approximate = "tanh"} : tensor<32xbf16>
  %c = kiln.cast %g : tensor<32xbf16> -> tensor<32xf32>
  return %c : tensor<32xf32>
}
