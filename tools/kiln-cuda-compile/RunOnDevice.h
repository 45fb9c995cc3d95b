//===- RunOnDevice.h - Run generated kernels on a GPU, check and time -----===//
#ifndef KILN_TOOLS_KILN_CUDA_COMPILE_RUNONDEVICE_H
#define KILN_TOOLS_KILN_CUDA_COMPILE_RUNONDEVICE_H

#include "kiln/Compiler/Target/CUDA/CUDACodegen.h"

namespace mlir::kiln {

/// Runs every kernel of `result` on cuda:0 with random inputs: checks that
/// the scalar and _vec variants agree bit for bit, that loop kernels match
/// the CPU backend's kernel for the same fusion (per-dtype tolerances of
/// DESIGN.md), and prints each kernel's time and GB/s next to the device's
/// copy bandwidth. Returns 0 on success, 1 on a failed check, 2 when there
/// is no GPU (after saying why).
int runOnDevice(ModuleOp module, const CUDACodegenResult &result, int repeats);

/// Without a GPU: compiles the generated CUDA C as host C++ (HostEmulation.h,
/// with `cxx`), runs every kernel with one thread per CUDA thread, and
/// compares its results with the runtime running the fusion's ops one by
/// one on the CPU (kiln::Module, same inputs), within DESIGN.md tolerances
/// (widened by sqrt(reduction length) for reductions). Returns 0 when all
/// kernels agree.
int emulateOnHost(ModuleOp module, const CUDACodegenResult &result,
                  const std::string &cxx);

} // namespace mlir::kiln

#endif // KILN_TOOLS_KILN_CUDA_COMPILE_RUNONDEVICE_H
