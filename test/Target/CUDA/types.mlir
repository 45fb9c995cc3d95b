// Integer, boolean and f64 kernels follow the runtime's semantics:
// wrap-around integer arithmetic (through unsigned), x / 0 = 0, clip
// bounds compared in double and saturated, float -> int casts saturating
// with NaN -> 0, booleans stored as bytes; all of it compiles with NVRTC
// and assembles with ptxas.
// RUN: kiln-cuda-compile %s --emit-cuda | FileCheck %s
// RUN: kiln-cuda-compile %s --validate --arch 80,90 | FileCheck %s --check-prefix=PTXAS

// CHECK-LABEL: kiln_cuda_kernel_0_body(int a0, int a1, int &r0) {
// CHECK-NEXT: const int v2 = kiln_iadd(a0, a1);
// CHECK-NEXT: const int v3 = kiln_idiv(v2, a1);
// CHECK-NEXT: const int v4 = ((double)v3 < -3.5 ? (int)-3LL : ((double)v3 > 100.5 ? (int)100LL : v3));
// CHECK-NEXT: const int v5 = kiln_imax(v4, a0);
func.func @int32(%x: tensor<64xi32>, %y: tensor<64xi32>) -> tensor<64xi32> {
  %a = kiln.add %x, %y : tensor<64xi32>, tensor<64xi32>
  %d = kiln.div %a, %y : tensor<64xi32>, tensor<64xi32>
  %c = kiln.clip %d {min = -3.5 : f64, max = 100.5 : f64} : tensor<64xi32>
  %m = kiln.max %c, %x : tensor<64xi32>, tensor<64xi32>
  return %m : tensor<64xi32>
}

// The comparison is also a result: the select's kernel stores it (as
// bytes) as a second output (multi-output fusion), beside the cast.
// CHECK-LABEL: kiln_cuda_kernel_1_body(double a0, double a1, long long &r0, bool &r1) {
// CHECK-NEXT: const bool v2 = (a0 < a1);
// CHECK-NEXT: const double v3 = (v2 ? a0 : a1);
// CHECK-NEXT: const long long v4 = kiln_f2i<long long>(v3, -9.2233720368547758e+18, 9.2233720368547758e+18, (long long)(-9223372036854775807LL - 1), (long long)9223372036854775807LL);
// CHECK-NEXT: r0 = v4;
// CHECK-NEXT: r1 = v2;
// CHECK: kiln_cuda_kernel_1(const double * __restrict__ in0, const double * __restrict__ in1, long long * __restrict__ out0, unsigned char * __restrict__ out1)
// CHECK: kiln_st(out1 + i, r1);
func.func @f64_compare_cast(%x: tensor<16xf64>, %y: tensor<16xf64>) -> (tensor<16xi1>, tensor<16xi64>) {
  %lt = kiln.lt %x, %y : tensor<16xf64>, tensor<16xf64>
  %s = kiln.select %lt, %x, %y : tensor<16xi1>, tensor<16xf64>, tensor<16xf64>
  %i = kiln.cast %s : tensor<16xf64> -> tensor<16xi64>
  return %lt, %i : tensor<16xi1>, tensor<16xi64>
}

// CHECK-LABEL: kiln_cuda_kernel_2_body(signed char a0, bool a1, signed char &r0) {
// CHECK-NEXT: const signed char v2 = kiln_relu(a0);
// CHECK-NEXT: const signed char v3 = (a1 ? (signed char)1LL : (signed char)0LL);
// CHECK-NEXT: const signed char v4 = kiln_imul(v2, v3);
func.func @int8_bool(%x: tensor<8x4xi8>, %m: tensor<8x4xi1>) -> tensor<8x4xi8> {
  %r = kiln.relu %x : tensor<8x4xi8>
  %c = kiln.cast %m : tensor<8x4xi1> -> tensor<8x4xi8>
  %p = kiln.mul %r, %c : tensor<8x4xi8>, tensor<8x4xi8>
  return %p : tensor<8x4xi8>
}

// PTXAS: cuda codegen: 3 fused kernel(s) generated as 3 kernel(s), 0 run op by op
// PTXAS: sm_80: NVRTC {{.*}} + ptxas OK
// PTXAS: sm_90: NVRTC {{.*}} + ptxas OK
