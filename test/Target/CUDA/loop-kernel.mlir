// A bias add + ReLU becomes one loop kernel: the [128] bias is indexed by
// the innermost coordinate (stride 0 over rows), the [8, 128] input by the
// linear index; the _vec variant loads 4 elements of both per access (the
// bias as a vector too: its innermost stride is 1).
// RUN: kiln-cuda-compile %s --emit-cuda | FileCheck %s

// CHECK-LABEL: // loop kernel at
// CHECK: static __device__ __forceinline__ void kiln_cuda_kernel_0_body(float a0, float a1, float &r0) {
// CHECK-NEXT:   const float v2 = kiln_add(a0, a1);
// CHECK-NEXT:   const float v3 = kiln_relu(v2);
// CHECK-NEXT:   r0 = v3;
// CHECK: extern "C" __global__ void __launch_bounds__(256) kiln_cuda_kernel_0(const float * __restrict__ in0, const float * __restrict__ in1, float * __restrict__ out0) {
// CHECK: i < 1024; i += int(gridDim.x) * blockDim.x
// CHECK: const int c1 = t % 128;
// CHECK: const float a0 = kiln_ld(in0 + i);
// CHECK: const float a1 = kiln_ld(in1 + c1);
// CHECK: kiln_st(out0 + i, r0);
// CHECK: kiln_cuda_kernel_0_vec(
// CHECK: q < 256;
// CHECK: const int i = q * 4;
// CHECK: kiln_vec<float, 4> x0 = *reinterpret_cast<const kiln_vec<float, 4> *>(in0 + i);
// CHECK: kiln_vec<float, 4> x1 = *reinterpret_cast<const kiln_vec<float, 4> *>(in1 + c1);
// CHECK: *reinterpret_cast<kiln_vec<float, 4> *>(out0 + i) = y0;
func.func @bias_relu(%x: tensor<8x128xf32>, %b: tensor<128xf32>) -> tensor<8x128xf32> {
  %a = kiln.add %x, %b : tensor<8x128xf32>, tensor<128xf32>
  %r = kiln.relu %a : tensor<8x128xf32>
  return %r : tensor<8x128xf32>
}

// A column vector [6, 1] broadcast along rows: indexed by the row
// coordinate alone. 6 x 5 has no innermost multiple of 4: no _vec variant.
// CHECK-LABEL: void __launch_bounds__(256) kiln_cuda_kernel_1(
// CHECK: int t = i;
// CHECK-NEXT: t /= 5;
// CHECK-NEXT: const int c0 = t;
// CHECK-NEXT: const float a0 = kiln_ld(in0 + i);
// CHECK-NEXT: const float a1 = kiln_ld(in1 + c0);
// CHECK-NOT: kiln_cuda_kernel_1_vec
func.func @column(%x: tensor<6x5xf32>, %c: tensor<6x1xf32>) -> tensor<6x5xf32> {
  %m = kiln.mul %x, %c : tensor<6x5xf32>, tensor<6x1xf32>
  %e = kiln.exp %m : tensor<6x5xf32>
  return %e : tensor<6x5xf32>
}
