//===- KernelEmitter.h - One kiln.fusion as CUDA C ------------------------===//
#ifndef KILN_COMPILER_TARGET_CUDA_KERNELEMITTER_H
#define KILN_COMPILER_TARGET_CUDA_KERNELEMITTER_H

#include "kiln/Compiler/Target/CUDA/CUDACodegen.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>

namespace mlir::kiln::cuda {

/// The device functions every kernel uses (Prelude.cuh).
llvm::StringRef kernelPrelude();

/// Appends the CUDA C of `fusion` as kernel(s) named `name` to `os`.
/// Returns std::nullopt with `why` set when the fusion holds something the
/// CUDA backend does not generate (then nothing is written). `restrictPtrs`
/// marks every buffer __restrict__ (false when a result shares memory with
/// an input).
std::optional<CUDAKernelInfo> emitKernel(FusionOp fusion, llvm::StringRef name,
                                         bool restrictPtrs, llvm::raw_ostream &os,
                                         std::string &why);

} // namespace mlir::kiln::cuda

#endif // KILN_COMPILER_TARGET_CUDA_KERNELEMITTER_H
