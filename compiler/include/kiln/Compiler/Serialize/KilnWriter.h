//===- KilnWriter.h - Writing a planned kiln module as a .kiln file -------===//
#ifndef KILN_COMPILER_SERIALIZE_KILNWRITER_H
#define KILN_COMPILER_SERIALIZE_KILNWRITER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mlir::kiln {

/// Supplies the bytes of a named parameter of the given type (row-major, the
/// element type's native layout), or fails after emitting a diagnostic.
using ParameterSource =
    std::function<FailureOr<std::vector<uint8_t>>(StringRef name,
                                                  RankedTensorType type)>;

/// Generated machine code to ship in the file (compiler/Target/CPU): one
/// shared object whose symbols are the kernels of the fusions that carry a
/// `kiln.cpu_symbol` attribute.
struct NativeCode {
  std::string triple, cpu;
  std::vector<std::string> features; // the CPU must have each (cpuid)
  std::vector<std::string> symbols;
  std::vector<uint8_t> sharedObject;
};

/// Serializes every function of `module` (which must have gone through
/// kiln-plan-memory) into the bytes of a .kiln file: a size-prefixed
/// FlatBuffer with the payload checksum. Emits a diagnostic and fails on
/// anything it cannot represent. With `native`, each fusion that has a
/// kernel in it is written as one `cpu_kernel` op calling that kernel.
LogicalResult writeKilnFile(ModuleOp module, const ParameterSource &parameters,
                            std::vector<uint8_t> &out,
                            const NativeCode *native = nullptr);

/// The same, handing the file's bytes to `sink` (still inside the builder:
/// no copy, for files of hundreds of MB) instead of copying them out.
LogicalResult writeKilnFile(
    ModuleOp module, const ParameterSource &parameters,
    llvm::function_ref<LogicalResult(llvm::ArrayRef<uint8_t>)> sink,
    const NativeCode *native = nullptr);

} // namespace mlir::kiln

#endif // KILN_COMPILER_SERIALIZE_KILNWRITER_H
