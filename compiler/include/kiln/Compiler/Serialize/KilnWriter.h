//===- KilnWriter.h - Writing a planned kiln module as a .kiln file -------===//
#ifndef KILN_COMPILER_SERIALIZE_KILNWRITER_H
#define KILN_COMPILER_SERIALIZE_KILNWRITER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mlir::kiln {

/// Writes the bytes of a named parameter of the given type (row-major, the
/// element type's native layout) into `out`, which has exactly the tensor's
/// size, or fails after emitting a diagnostic.
using ParameterSource = std::function<LogicalResult(
    StringRef name, RankedTensorType type, llvm::MutableArrayRef<uint8_t> out)>;

/// Receives a .kiln file as consecutive pieces (the FlatBuffer, padding, the
/// payload), which stay inside the writer: no copy of hundreds of MB.
using FileSink =
    llvm::function_ref<LogicalResult(llvm::ArrayRef<llvm::ArrayRef<uint8_t>>)>;

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
/// FlatBuffer with the payload checksum, then the payload (format 2,
/// runtime/schema/kiln.fbs). Emits a diagnostic and fails on
/// anything it cannot represent. With `native` (one shared object per
/// target, the same symbols in each, best target first: the runtime loads
/// the first its CPU can run), each fusion that has a kernel is written as
/// one `cpu_kernel` op calling that kernel.
LogicalResult writeKilnFile(ModuleOp module, const ParameterSource &parameters,
                            std::vector<uint8_t> &out,
                            llvm::ArrayRef<NativeCode> native = {});

/// The same, handing the file's pieces to `sink` instead of copying them.
LogicalResult writeKilnFile(ModuleOp module, const ParameterSource &parameters,
                            FileSink sink, llvm::ArrayRef<NativeCode> native = {});

} // namespace mlir::kiln

#endif // KILN_COMPILER_SERIALIZE_KILNWRITER_H
