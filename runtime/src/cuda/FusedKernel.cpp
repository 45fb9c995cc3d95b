//===- FusedKernel.cpp - Launching the compiler's generated CUDA kernels --===//
#include "kiln/cuda/FusedKernel.h"

#include <cstdint>
#include <vector>

namespace kiln::cuda {

bool vectorVariantAllowed(std::span<void *const> buffers,
                          std::span<const size_t> elementBytes) {
  if (buffers.size() != elementBytes.size())
    return false;
  for (size_t i = 0; i < buffers.size(); ++i)
    if (reinterpret_cast<uintptr_t>(buffers[i]) %
            (elementBytes[i] * kFusedVectorWidth) !=
        0)
      return false;
  return true;
}

Status launchFused(CudaDevice &device, ModuleHandle module,
                   const FusedKernelLaunch &kernel, std::span<void *const> buffers,
                   std::span<const size_t> elementBytes, StreamHandle stream) {
  if (buffers.size() != elementBytes.size())
    return invalidArgument("kernel '", kernel.name, "': ", buffers.size(),
                           " buffers but ", elementBytes.size(), " element sizes");
  bool vec = kernel.hasVectorVariant && vectorVariantAllowed(buffers, elementBytes);
  std::string name = vec ? kernel.name + "_vec" : kernel.name;
  KILN_ASSIGN_OR_RETURN(FunctionHandle fn, device.function(module, name));
  std::vector<void *> pointers(buffers.begin(), buffers.end());
  std::vector<void *> args;
  for (void *&p : pointers)
    args.push_back(&p);
  return device.launch(fn, {vec ? kernel.vectorGrid : kernel.grid, 1, 1},
                       {kernel.block, 1, 1}, 0, stream, args.data());
}

} // namespace kiln::cuda
