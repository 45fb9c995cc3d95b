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

} // namespace mlir::kiln

#endif // KILN_TOOLS_KILN_CUDA_COMPILE_RUNONDEVICE_H
