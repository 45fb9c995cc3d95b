// Dropout in a fused kernel draws the eager kernel's mask: Philox-4x32-10
// at counter idx / 4 with the op's seed, word idx % 4, kept when the word
// is >= ceil(ratio * 2^32), so compiled and eager training agree element
// for element (checked on host threads against the runtime).
// RUN: kiln-cuda-compile %s --emit-cuda | FileCheck %s
// RUN: kiln-cuda-compile %s --emulate --report | FileCheck %s --check-prefix=EMU

// CHECK-LABEL: kiln_cuda_kernel_0_body(long long idx, float a0, float a1, float &r0) {
// CHECK: kiln_dropout(v{{[0-9]+}}, idx, 7ULL, 1288490189ULL, 1.42857146f)
// CHECK: kiln_cuda_kernel_0_body(i, a0, a1, r0);
// CHECK: kiln_cuda_kernel_0_body(i + l, kiln_ld(&x0.v[l]), kiln_ld(&x1.v[l]), r0);
// EMU: fusion "loop" [add,gelu,dropout] {{.*}}: cuda kiln_cuda_kernel_0
// EMU: fusion "loop" [dropout] {{.*}}: cuda kiln_cuda_kernel_1
// EMU: fusion "loop" [dropout] {{.*}}: cuda kiln_cuda_kernel_2
// EMU: fusion "loop" [add] {{.*}}: cuda kiln_cuda_kernel_3
// EMU: kiln_cuda_kernel_0 (loop): matches the runtime
// EMU: kiln_cuda_kernel_1 (loop): matches the runtime
// EMU: kiln_cuda_kernel_2 (loop): matches the runtime
// EMU: kiln_cuda_kernel_3 (loop): matches the runtime
func.func @bias_gelu_dropout(%x: tensor<16x64xf32>, %b: tensor<64xf32>) -> tensor<16x64xf32> {
  %a = kiln.add %x, %b : tensor<16x64xf32>, tensor<64xf32>
  %g = kiln.gelu %a : tensor<16x64xf32>
  %d = kiln.dropout %g {ratio = 0.3 : f64, training = true, seed = 7 : i64} : tensor<16x64xf32>
  return %d : tensor<16x64xf32>
}

// bf16 storage: the masked value is rounded to bf16 as the eager op stores it.
func.func @bf16(%x: tensor<1000xbf16>) -> tensor<1000xbf16> {
  %d = kiln.dropout %x {ratio = 0.5 : f64, training = true, seed = 123456789012 : i64} : tensor<1000xbf16>
  return %d : tensor<1000xbf16>
}

// A dropout of a [64] vector broadcast into [16, 64]: the fusion pass
// keeps the (expensive) dropout in a kernel of its own, indexed by the
// vector's 64 elements. (Were it fused into the [16, 64] kernel, the
// emitter would refuse it: its mask is not indexed by the kernel's
// elements.)
func.func @broadcast_dropout(%x: tensor<16x64xf32>, %v: tensor<64xf32>) -> tensor<16x64xf32> {
  %d = kiln.dropout %v {ratio = 0.5 : f64, training = true, seed = 1 : i64} : tensor<64xf32>
  %a = kiln.add %x, %d : tensor<16x64xf32>, tensor<64xf32>
  return %a : tensor<16x64xf32>
}
