//===- LLVMBackend.h - Optimizing and compiling kernels to x86-64 ---------===//
//
// Kept free of TargetMachine/PassBuilder includes: those make a file take
// ~35 s to compile here.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_COMPILER_TARGET_CPU_LLVMBACKEND_H
#define KILN_COMPILER_TARGET_CPU_LLVMBACKEND_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llvm {
class Module;
} // namespace llvm

namespace mlir::kiln::cpu {

/// What the generated code needs from the CPU that runs it.
struct TargetDescription {
  std::string triple;                    // e.g. x86_64-pc-linux-gnu
  std::string cpu;                       // e.g. x86-64-v3, or the host's name
  std::vector<std::string> features;     // the runtime checks each (cpuid)
};

/// Resolves `cpu` ("native", "x86-64-v3", or any x86 CPU name LLVM knows).
/// Fails with `error` set off x86-64 or for an unknown CPU.
bool describeTarget(llvm::StringRef cpu, TargetDescription &target,
                    std::string &error);

/// Runs LLVM's O3 pipeline on `module` (loop and SLP vectorization, glibc's
/// libmvec for vector exp/log/tanh/erf/...), then emits an ELF object into
/// `object` and, when asked, the assembly into `assembly` and the optimized
/// IR into `optimizedIR`.
bool compileModule(llvm::Module &module, const TargetDescription &target,
                   std::vector<uint8_t> &object, std::string *assembly,
                   std::string *optimizedIR, std::string &error);

} // namespace mlir::kiln::cpu

#endif // KILN_COMPILER_TARGET_CPU_LLVMBACKEND_H
