// The generated CUDA C compiles with NVRTC for sm_80 and sm_90 and its PTX
// assembles with ptxas, without spills; --validate reports each kernel's
// registers. (CI runs this on every e2e graph: test/Target/CUDA/CMakeLists.txt.)
// RUN: kiln-cuda-compile %s --validate --arch 80,90 | FileCheck %s

// CHECK: sm_80: NVRTC {{[0-9]+}}.{{[0-9]+}} + ptxas OK
// CHECK-DAG: kiln_cuda_kernel_0: {{[0-9]+}} registers, spill stores/loads 0/0 bytes
// CHECK-DAG: kiln_cuda_kernel_0_vec: {{[0-9]+}} registers, spill stores/loads 0/0 bytes
// CHECK-DAG: kiln_cuda_kernel_1: {{[0-9]+}} registers, spill stores/loads 0/0 bytes, 128 bytes smem
// CHECK: sm_90: NVRTC {{[0-9]+}}.{{[0-9]+}} + ptxas OK
func.func @bias_gelu(%x: tensor<64x256xbf16>, %b: tensor<256xbf16>) -> tensor<64x256xbf16> {
  %a = kiln.add %x, %b : tensor<64x256xbf16>, tensor<256xbf16>
  %g = kiln.gelu %a : tensor<64x256xbf16>
  return %g : tensor<64x256xbf16>
}
func.func @log_softmax(%x: tensor<64x256xbf16>) -> tensor<64x256xbf16> {
  %p = kiln.log_softmax %x {axis = -1 : i64} : tensor<64x256xbf16>
  return %p : tensor<64x256xbf16>
}
