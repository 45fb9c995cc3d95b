//===- CUDACodegen.h - CUDA C for fused kernels ---------------------------===//
//
// Turns the kiln.fusion regions of a planned module into one CUDA C
// translation unit that the runtime compiles with NVRTC for the GPU it
// finds (and CI compiles for sm_80/sm_90 and assembles with ptxas):
//
//  * "loop" fusions: one thread per element (grid-stride), broadcasting
//    inputs indexed through the collapsed result shape, f16/bf16 stored and
//    f32 computed; a `<name>_vec` variant moves 4 elements per access when
//    the innermost dimension allows (the launcher uses it when every buffer
//    is 16-byte aligned).
//  * "reduction" fusions rooted at sum/mean/prod/reduce_max/reduce_min over
//    trailing axes, softmax/log_softmax over the last axis and layer_norm:
//    one block per row, elementwise producers evaluated in the row loop,
//    warp-shuffle block reductions.
//
// Kernel ABI: extern "C" __global__ void <name>(in0, ..., out0, ...), one
// pointer per fusion input then result, contiguous row-major; shapes are
// compile-time constants. Identical fusions share a kernel. A fusion the
// backend cannot generate is listed as a fallback with the reason.
//
// Each generated fusion gets kiln.cuda_kernel (string), kiln.cuda_grid and
// kiln.cuda_block (i64) attributes.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_COMPILER_TARGET_CUDA_CUDACODEGEN_H
#define KILN_COMPILER_TARGET_CUDA_CUDACODEGEN_H

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace mlir::kiln {

struct CUDAKernelInfo {
  std::string name;
  std::string kind;        ///< "loop", "row_reduce", "softmax", "layer_norm"
  int64_t grid = 1;        ///< Blocks (x).
  int64_t block = 256;     ///< Threads per block.
  bool hasVectorVariant = false; ///< `<name>_vec`, grid `vectorGrid`.
  int64_t vectorGrid = 0;
  unsigned numBuffers = 0; ///< Inputs + results.
};

struct CUDACodegenResult {
  std::string source;      ///< One translation unit with every kernel.
  std::vector<CUDAKernelInfo> kernels;
  unsigned fusionsGenerated = 0;
  struct Fallback {
    Operation *fusion;
    std::string reason;
  };
  std::vector<Fallback> fallbacks;
};

/// Generates CUDA C for every fusion of `module` it can. Never fails on a
/// fusion it cannot handle (that is a fallback).
LogicalResult generateCUDACode(ModuleOp module, CUDACodegenResult &result);

/// Prints one line per fused kernel: generated (kernel name) or fallback.
void printCUDACodegenReport(ModuleOp module, const CUDACodegenResult &result,
                            llvm::raw_ostream &os);

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_CUDA_CUDACODEGEN_H
