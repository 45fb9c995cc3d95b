//===- KernelEmitter.h - A fused loop kernel as an LLVM function ----------===//
#ifndef KILN_COMPILER_TARGET_CPU_KERNELEMITTER_H
#define KILN_COMPILER_TARGET_CPU_KERNELEMITTER_H

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include <string>

namespace llvm {
class Module;
} // namespace llvm

namespace mlir::kiln::cpu {

/// How the runtime calls a generated kernel: fn(buffers, begin, end) for
/// sub-ranges of [0, outer), each at least `grain` long where possible.
struct KernelLaunch {
  int64_t outer = 1;
  int64_t grain = 1;
};

/// Emits `fusion` (kind "loop") into `module` as
///   extern "C" void <symbol>(void **buffers, int64_t begin, int64_t end)
/// where buffers holds the fusion's inputs then its results, contiguous and
/// row-major, and [begin, end) is a range of the outermost (collapsed)
/// dimension of the results. Returns std::nullopt and sets `why` when the
/// fusion holds something the CPU backend does not generate.
std::optional<KernelLaunch> emitLoopKernel(FusionOp fusion, llvm::Module &module,
                                           StringRef symbol, std::string &why);

} // namespace mlir::kiln::cpu

#endif // KILN_COMPILER_TARGET_CPU_KERNELEMITTER_H
