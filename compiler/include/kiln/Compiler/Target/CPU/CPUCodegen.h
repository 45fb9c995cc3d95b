//===- CPUCodegen.h - Native x86-64 code for fused kernels ----------------===//
//
// Turns every `kiln.fusion "loop"` of a planned module, and every
// `kiln.fusion "reduction"` whose root reduces the innermost axes (softmax,
// log_softmax, layer_norm, row sums, means, max, min, products), into a
// function
//   extern "C" void kiln_kernel_<N>(void **buffers, int64_t begin, int64_t end)
// (buffers: the fusion's inputs then its results; [begin, end): a range of
// the parallel outer dimension, rows for a reduction), compiles them with
// LLVM (O3, AVX2+FMA by default, vector math from glibc's libmvec) and
// links them with ld.lld into one shared object for the .kiln file. Identical fusions share one
// kernel, exported with `kiln_kernel_<N>_signature` (i64: buffer count,
// outer, bytes per buffer) that the runtime checks the file against. A
// fusion that cannot be generated keeps running op by op; the result lists
// it with the reason.
//
// Each generated fusion gets the attributes the writer reads:
//   kiln.cpu_symbol (string), kiln.cpu_outer, kiln.cpu_grain (i64).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_COMPILER_TARGET_CPU_CPUCODEGEN_H
#define KILN_COMPILER_TARGET_CPU_CPUCODEGEN_H

#include "kiln/Compiler/Serialize/KilnWriter.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace mlir::kiln {

struct CPUCodegenOptions {
  /// Comma-separated targets, best first: "x86-64-v3" (AVX2+FMA),
  /// "x86-64-v4" (AVX-512), "native", or x86 CPU names. The same kernels
  /// are compiled for each, and the runtime loads the first its CPU runs.
  std::string cpu = "x86-64-v3";
};

struct CPUCodegenResult {
  /// One shared object per target, in the order of CPUCodegenOptions::cpu,
  /// with the same symbols; empty when nothing was generated.
  std::vector<NativeCode> code;
  unsigned fusionsGenerated = 0;
  struct Fallback {
    Operation *fusion;
    std::string reason;
  };
  std::vector<Fallback> fallbacks; // fusions left to the op-by-op path
  std::string assembly;    // when asked for: each target's, under a header
  std::string optimizedIR; // when asked for: each target's, under a header
};

/// Generates the kernels of `module`. Fails (with a diagnostic) only when
/// the toolchain does: no ld.lld, an unknown CPU, an LLVM error. A fusion
/// the backend cannot handle is a fallback, not a failure.
LogicalResult generateCPUCode(ModuleOp module, const CPUCodegenOptions &options,
                              CPUCodegenResult &result, bool wantAssembly = false,
                              bool wantIR = false);

/// Prints one line per fused kernel: generated (symbol) or fallback (why).
void printCPUCodegenReport(ModuleOp module, const CPUCodegenResult &result,
                           llvm::raw_ostream &os);

} // namespace mlir::kiln

#endif // KILN_COMPILER_TARGET_CPU_CPUCODEGEN_H
