//===- FusedKernel.h - Launching the compiler's generated CUDA kernels ----===//
//
// The compiler (compiler/Target/CUDA) emits, per fused region, a kernel
// taking one pointer per input then per result, and for loop kernels whose
// innermost dimension allows it a `<name>_vec` variant that moves 4
// elements per access. The variant is only correct when every buffer is
// aligned to 4 of its elements (16 bytes for f32); launchFused picks it
// when they are, else the scalar kernel. Grids and block sizes come from
// the compiler (CUDAKernelInfo; kiln.cuda_grid / kiln.cuda_block).
//
//   FusedKernelLaunch k{"kiln_cuda_kernel_0", 4096, 256, true, 1024};
//   void *buffers[] = {in0, in1, out0};
//   size_t elementBytes[] = {4, 4, 4};
//   KILN_RETURN_IF_ERROR(launchFused(gpu, module, k, buffers, elementBytes, stream));
//
//===----------------------------------------------------------------------===//
#ifndef KILN_CUDA_FUSEDKERNEL_H
#define KILN_CUDA_FUSEDKERNEL_H

#include "kiln/cuda/CudaDevice.h"

#include <span>

namespace kiln::cuda {

struct FusedKernelLaunch {
  std::string name;
  unsigned grid = 1, block = 256;
  bool hasVectorVariant = false;
  unsigned vectorGrid = 0;
};

/// Elements the `_vec` variant moves per access.
inline constexpr size_t kFusedVectorWidth = 4;

/// Whether the `_vec` variant may run on these buffers: each aligned to
/// kFusedVectorWidth of its elements.
bool vectorVariantAllowed(std::span<void *const> buffers,
                          std::span<const size_t> elementBytes);

/// Launches `kernel` from `module` on `stream` (the _vec variant when
/// allowed). InvalidArgument when the buffer lists disagree in length.
Status launchFused(CudaDevice &device, ModuleHandle module,
                   const FusedKernelLaunch &kernel, std::span<void *const> buffers,
                   std::span<const size_t> elementBytes, StreamHandle stream);

} // namespace kiln::cuda

#endif // KILN_CUDA_FUSEDKERNEL_H
