// Loop kernels that read inputs through static slices and store several
// results, as kiln-fuse-elementwise forms them (the CUDA sibling of
// Target/CPU/run-slice-fusion.mlir). An LSTM cell whose gate
// pre-activations are one [32, 512] sum cut into four column blocks is ONE
// kernel: the slices move above the add, each block is read from both
// addends at its column offset (0, 128, 256, 384) with the row stride 512,
// and h and c are its two outputs. Slices whose offset or strides would
// misalign a 4-wide access are read one element per lane in the _vec
// variant; a slice broadcast along the innermost dim is one scalar load.
// Every kernel compiles with NVRTC and assembles with ptxas for sm_80 and
// sm_90, and matches the runtime's op-by-op results on host threads (both
// the scalar and the _vec variant).
// RUN: kiln-cuda-compile %s --report --require-all | FileCheck %s --check-prefix=REPORT
// RUN: kiln-cuda-compile %s --emit-cuda | FileCheck %s
// The ASan build's leak checker crashes at exit while scanning the dynamic
// TLS of the libraries NVRTC loads for this source ("Tracer caught signal
// 11", a sanitizer runtime bug: google/sanitizers#1267, fixed upstream by
// https://reviews.llvm.org/D147459); intercept_tls_get_addr=0 is its
// workaround and keeps leak checking on.
// RUN: env ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:intercept_tls_get_addr=0 kiln-cuda-compile %s --validate --arch 80,90 | FileCheck %s --check-prefix=PTXAS
// RUN: kiln-cuda-compile %s --emulate | FileCheck %s --check-prefix=EMULATE

// REPORT: cuda codegen: 7 fused kernel(s) generated as 7 kernel(s), 0 run op by op
// REPORT: fusion "loop" [slice,slice,add,slice,slice,add,slice,slice,add,slice,slice,add,sigmoid,sigmoid,tanh,sigmoid,mul,mul,add,tanh,mul] at {{.*}}: cuda kiln_cuda_kernel_0

// PTXAS: sm_80: NVRTC {{[0-9]+}}.{{[0-9]+}} + ptxas OK
// PTXAS-DAG: kiln_cuda_kernel_0: {{[0-9]+}} registers, spill stores/loads 0/0 bytes
// PTXAS-DAG: kiln_cuda_kernel_0_vec: {{[0-9]+}} registers, spill stores/loads 0/0 bytes
// PTXAS: sm_90: NVRTC {{[0-9]+}}.{{[0-9]+}} + ptxas OK

// EMULATE-NOT: FAILED
// EMULATE-COUNT-7: matches the runtime
// EMULATE-NOT: FAILED

// The LSTM cell: c (input 2) is read in step with the result; gx (input 0)
// and gh (input 1) only through their slices, never whole.
// CHECK-LABEL: // loop kernel at
// CHECK: void kiln_cuda_kernel_0_body(float a2, float a0_0, float a1_0, float a0_1, float a1_1, float a0_2, float a1_2, float a0_3, float a1_3, float &r0, float &r1) {
// CHECK-NEXT: const float v9 = kiln_add(a0_0, a1_0);
// CHECK:      const float v19 = kiln_add(v17, v18);
// CHECK-NEXT: const float v20 = kiln_tanh(v19);
// CHECK-NEXT: const float v21 = kiln_mul(v16, v20);
// CHECK-NEXT: r0 = v21;
// CHECK-NEXT: r1 = v19;
// CHECK: kiln_cuda_kernel_0(const float * __restrict__ in0, const float * __restrict__ in1, const float * __restrict__ in2, float * __restrict__ out0, float * __restrict__ out1) {
// CHECK: i < 4096;
// CHECK:      const int c1 = t % 128;
// CHECK:      const int c0 = t;
// CHECK-NEXT: const float a2 = kiln_ld(in2 + i);
// CHECK-NEXT: const float a0_0 = kiln_ld(in0 + c0 * 512 + c1);
// CHECK-NEXT: const float a1_0 = kiln_ld(in1 + c0 * 512 + c1);
// CHECK-NEXT: const float a0_1 = kiln_ld(in0 + 128 + c0 * 512 + c1);
// CHECK-NEXT: const float a1_1 = kiln_ld(in1 + 128 + c0 * 512 + c1);
// CHECK-NEXT: const float a0_2 = kiln_ld(in0 + 256 + c0 * 512 + c1);
// CHECK-NEXT: const float a1_2 = kiln_ld(in1 + 256 + c0 * 512 + c1);
// CHECK-NEXT: const float a0_3 = kiln_ld(in0 + 384 + c0 * 512 + c1);
// CHECK-NEXT: const float a1_3 = kiln_ld(in1 + 384 + c0 * 512 + c1);
// CHECK-NOT:  kiln_ld(
// CHECK:      kiln_st(out0 + i, r0);
// CHECK-NEXT: kiln_st(out1 + i, r1);
// The offsets and the row stride are multiples of 4: 4-wide loads.
// CHECK: kiln_cuda_kernel_0_vec(
// CHECK: q < 1024;
// CHECK:      const kiln_vec<float, 4> x2 = *reinterpret_cast<const kiln_vec<float, 4> *>(in2 + i);
// CHECK-NEXT: const kiln_vec<float, 4> x0_0 = *reinterpret_cast<const kiln_vec<float, 4> *>(in0 + c0 * 512 + c1);
// CHECK-NEXT: const kiln_vec<float, 4> x1_0 = *reinterpret_cast<const kiln_vec<float, 4> *>(in1 + c0 * 512 + c1);
// CHECK-NEXT: const kiln_vec<float, 4> x0_1 = *reinterpret_cast<const kiln_vec<float, 4> *>(in0 + 128 + c0 * 512 + c1);
// CHECK-NEXT: const kiln_vec<float, 4> x1_1 = *reinterpret_cast<const kiln_vec<float, 4> *>(in1 + 128 + c0 * 512 + c1);
// CHECK-NEXT: const kiln_vec<float, 4> x0_2 = *reinterpret_cast<const kiln_vec<float, 4> *>(in0 + 256 + c0 * 512 + c1);
// CHECK-NEXT: const kiln_vec<float, 4> x1_2 = *reinterpret_cast<const kiln_vec<float, 4> *>(in1 + 256 + c0 * 512 + c1);
// CHECK-NEXT: const kiln_vec<float, 4> x0_3 = *reinterpret_cast<const kiln_vec<float, 4> *>(in0 + 384 + c0 * 512 + c1);
// CHECK-NEXT: const kiln_vec<float, 4> x1_3 = *reinterpret_cast<const kiln_vec<float, 4> *>(in1 + 384 + c0 * 512 + c1);
// CHECK: kiln_cuda_kernel_0_body(kiln_ld(&x2.v[l]), kiln_ld(&x0_0.v[l]), kiln_ld(&x1_0.v[l]), kiln_ld(&x0_1.v[l]), kiln_ld(&x1_1.v[l]), kiln_ld(&x0_2.v[l]), kiln_ld(&x1_2.v[l]), kiln_ld(&x0_3.v[l]), kiln_ld(&x1_3.v[l]), r0, r1);
// CHECK:      *reinterpret_cast<kiln_vec<float, 4> *>(out0 + i) = y0;
// CHECK-NEXT: *reinterpret_cast<kiln_vec<float, 4> *>(out1 + i) = y1;
func.func @lstm_cell(%gx: tensor<32x512xf32>, %gh: tensor<32x512xf32>, %c: tensor<32x128xf32>)
    -> (tensor<32x128xf32>, tensor<32x128xf32>) {
  %g = kiln.add %gx, %gh : tensor<32x512xf32>, tensor<32x512xf32>
  %i = kiln.slice %g {starts = array<i64: 0, 0>, ends = array<i64: 32, 128>} : tensor<32x512xf32>
  %f = kiln.slice %g {starts = array<i64: 0, 128>, ends = array<i64: 32, 256>} : tensor<32x512xf32>
  %u = kiln.slice %g {starts = array<i64: 0, 256>, ends = array<i64: 32, 384>} : tensor<32x512xf32>
  %o = kiln.slice %g {starts = array<i64: 0, 384>, ends = array<i64: 32, 512>} : tensor<32x512xf32>
  %is = kiln.sigmoid %i : tensor<32x128xf32>
  %fs = kiln.sigmoid %f : tensor<32x128xf32>
  %ut = kiln.tanh %u : tensor<32x128xf32>
  %os = kiln.sigmoid %o : tensor<32x128xf32>
  %fc = kiln.mul %fs, %c : tensor<32x128xf32>, tensor<32x128xf32>
  %iu = kiln.mul %is, %ut : tensor<32x128xf32>, tensor<32x128xf32>
  %c1 = kiln.add %fc, %iu : tensor<32x128xf32>, tensor<32x128xf32>
  %ct = kiln.tanh %c1 : tensor<32x128xf32>
  %h = kiln.mul %os, %ct : tensor<32x128xf32>, tensor<32x128xf32>
  return %h, %c1 : tensor<32x128xf32>, tensor<32x128xf32>
}

// The same cell in f16: 4-wide loads of __half at the column offsets.
// CHECK-LABEL: void __launch_bounds__(256) kiln_cuda_kernel_1_vec(const __half * __restrict__ in0, const __half * __restrict__ in1, __half * __restrict__ out0, __half * __restrict__ out1) {
// CHECK:      const kiln_vec<__half, 4> x1 = *reinterpret_cast<const kiln_vec<__half, 4> *>(in1 + i);
// CHECK-NEXT: const kiln_vec<__half, 4> x0_0 = *reinterpret_cast<const kiln_vec<__half, 4> *>(in0 + c0 * 32 + c1);
// CHECK-NEXT: const kiln_vec<__half, 4> x0_1 = *reinterpret_cast<const kiln_vec<__half, 4> *>(in0 + 8 + c0 * 32 + c1);
// CHECK-NEXT: const kiln_vec<__half, 4> x0_2 = *reinterpret_cast<const kiln_vec<__half, 4> *>(in0 + 16 + c0 * 32 + c1);
// CHECK-NEXT: const kiln_vec<__half, 4> x0_3 = *reinterpret_cast<const kiln_vec<__half, 4> *>(in0 + 24 + c0 * 32 + c1);
// CHECK: *reinterpret_cast<kiln_vec<__half, 4> *>(out1 + i) = y1;
func.func @half_cell(%g: tensor<4x32xf16>, %c: tensor<4x8xf16>) -> (tensor<4x8xf16>, tensor<4x8xf16>) {
  %i = kiln.slice %g {starts = array<i64: 0, 0>, ends = array<i64: 4, 8>} : tensor<4x32xf16>
  %f = kiln.slice %g {starts = array<i64: 0, 8>, ends = array<i64: 4, 16>} : tensor<4x32xf16>
  %u = kiln.slice %g {starts = array<i64: 0, 16>, ends = array<i64: 4, 24>} : tensor<4x32xf16>
  %o = kiln.slice %g {starts = array<i64: 0, 24>, ends = array<i64: 4, 32>} : tensor<4x32xf16>
  %is = kiln.sigmoid %i : tensor<4x8xf16>
  %fs = kiln.sigmoid %f : tensor<4x8xf16>
  %ut = kiln.tanh %u : tensor<4x8xf16>
  %os = kiln.sigmoid %o : tensor<4x8xf16>
  %fc = kiln.mul %fs, %c : tensor<4x8xf16>, tensor<4x8xf16>
  %iu = kiln.mul %is, %ut : tensor<4x8xf16>, tensor<4x8xf16>
  %c1 = kiln.add %fc, %iu : tensor<4x8xf16>, tensor<4x8xf16>
  %ct = kiln.tanh %c1 : tensor<4x8xf16>
  %h = kiln.mul %os, %ct : tensor<4x8xf16>, tensor<4x8xf16>
  return %h, %c1 : tensor<4x8xf16>, tensor<4x8xf16>
}

// Columns 1..128 of a [6, 130] input: offset 1 and row stride 130 would
// misalign a 4-wide load, so the _vec variant reads it one element per lane.
// CHECK-LABEL: void __launch_bounds__(256) kiln_cuda_kernel_2(
// CHECK: const float a0_0 = kiln_ld(in0 + 1 + c0 * 130 + c1);
// CHECK-LABEL: void __launch_bounds__(256) kiln_cuda_kernel_2_vec(
// CHECK:      const kiln_vec<float, 4> x1 = *reinterpret_cast<const kiln_vec<float, 4> *>(in1 + i);
// CHECK-NEXT: const float *p0_0 = in0 + 1 + c0 * 130 + c1;
// CHECK: kiln_cuda_kernel_2_body(kiln_ld(&x1.v[l]), kiln_ld(p0_0 + l), r0);
func.func @misaligned(%x: tensor<6x130xf32>, %y: tensor<6x128xf32>) -> tensor<6x128xf32> {
  %s = kiln.slice %x {starts = array<i64: 0, 1>, ends = array<i64: 6, 129>} : tensor<6x130xf32>
  %m = kiln.mul %s, %y : tensor<6x128xf32>, tensor<6x128xf32>
  %e = kiln.exp %m : tensor<6x128xf32>
  return %e : tensor<6x128xf32>
}

// Every other column (step 2): the innermost stride is 2, not contiguous.
// CHECK-LABEL: void __launch_bounds__(256) kiln_cuda_kernel_3(
// CHECK: const float a0_0 = kiln_ld(in0 + 1 + c0 * 2);
// CHECK-LABEL: void __launch_bounds__(256) kiln_cuda_kernel_3_vec(
// CHECK: const float *p0_0 = in0 + 1 + c0 * 2;
// CHECK: kiln_cuda_kernel_3_body(kiln_ld(&x1.v[l]), kiln_ld(p0_0 + l * 2), r0);
func.func @stepped(%x: tensor<6x16xf32>, %y: tensor<6x8xf32>) -> tensor<6x8xf32> {
  %s = kiln.slice %x {starts = array<i64: 0, 1>, ends = array<i64: 6, 16>, steps = array<i64: 1, 2>} : tensor<6x16xf32>
  %m = kiln.mul %s, %y : tensor<6x8xf32>, tensor<6x8xf32>
  %e = kiln.sigmoid %m : tensor<6x8xf32>
  return %e : tensor<6x8xf32>
}

// Column 3 of x, broadcast along the rows of y: one scalar load per vector.
// CHECK-LABEL: void __launch_bounds__(256) kiln_cuda_kernel_4_vec(
// CHECK: const float s0_0 = kiln_ld(in0 + 3 + c0 * 9);
// CHECK: kiln_cuda_kernel_4_body(kiln_ld(&x1.v[l]), s0_0, r0);
func.func @column(%x: tensor<6x9xf32>, %y: tensor<6x8xf32>) -> tensor<6x8xf32> {
  %s = kiln.slice %x {starts = array<i64: 0, 3>, ends = array<i64: 6, 4>} : tensor<6x9xf32>
  %m = kiln.mul %y, %s : tensor<6x8xf32>, tensor<6x1xf32>
  %e = kiln.tanh %m : tensor<6x8xf32>
  return %e : tensor<6x8xf32>
}

// Rows 1, 3, 5 of a [7, 3, 10] input, its first middle index (broadcast
// over 3), and columns 3 and 6 (bounds -7 and -1, step 3): offset
// 1 * 30 + 3, strides 60 (rows) and 3 (columns). Two columns: no _vec.
// CHECK-LABEL: void __launch_bounds__(256) kiln_cuda_kernel_5(
// CHECK: const float a0_0 = kiln_ld(in0 + 33 + c0 * 60 + c2 * 3);
// CHECK-NOT: kiln_cuda_kernel_5_vec
func.func @strided(%x: tensor<7x3x10xf32>, %y: tensor<3x3x2xf32>) -> tensor<3x3x2xf32> {
  %s = kiln.slice %x {starts = array<i64: 1, 0, -7>, ends = array<i64: 6, 1, -1>, steps = array<i64: 2, 1, 3>} : tensor<7x3x10xf32>
  %m = kiln.mul %s, %y : tensor<3x1x2xf32>, tensor<3x3x2xf32>
  %e = kiln.exp %m : tensor<3x3x2xf32>
  return %e : tensor<3x3x2xf32>
}

// Row 2 of x broadcast over x itself: x is read whole (a0) and at an offset
// (a0_0) from the same buffer.
// CHECK-LABEL: void __launch_bounds__(256) kiln_cuda_kernel_6(
// CHECK:      const float a0 = kiln_ld(in0 + i);
// CHECK-NEXT: const float a0_0 = kiln_ld(in0 + 16 + c1);
// CHECK-LABEL: void __launch_bounds__(256) kiln_cuda_kernel_6_vec(
// CHECK:      const kiln_vec<float, 4> x0 = *reinterpret_cast<const kiln_vec<float, 4> *>(in0 + i);
// CHECK-NEXT: const kiln_vec<float, 4> x0_0 = *reinterpret_cast<const kiln_vec<float, 4> *>(in0 + 16 + c1);
func.func @beside_whole(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = kiln.slice %x {starts = array<i64: 2, 0>, ends = array<i64: 3, 8>} : tensor<4x8xf32>
  %d = kiln.sub %x, %s : tensor<4x8xf32>, tensor<1x8xf32>
  %t = kiln.tanh %d : tensor<4x8xf32>
  return %t : tensor<4x8xf32>
}
