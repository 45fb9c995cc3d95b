//===- ScalarOps.h - One element of a kiln elementwise op in CUDA C -------===//
//
// The table from kiln elementwise ops to CUDA C expressions over register
// values (the device functions of Prelude.cuh); the CUDA sibling of
// Target/CPU/ScalarOps.h, with the same semantics.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_COMPILER_TARGET_CUDA_SCALAROPS_H
#define KILN_COMPILER_TARGET_CUDA_SCALAROPS_H

#include "mlir/IR/Operation.h"

#include <optional>
#include <string>

namespace mlir::kiln::cuda {

/// How an element type lives in memory and in registers.
struct ElementType {
  std::string storage;  ///< "__half", "unsigned char" (i1), "float", ...
  std::string reg;      ///< "float" for f16/bf16/f32, "bool" for i1, ...
  bool isFloat = false; ///< f16, bf16, f32, f64
  bool isBool = false;
  unsigned bits = 0;
  /// "kiln_round_f16" / "kiln_round_bf16" for 16-bit floats, else empty.
  std::string rounding;
};

/// The element type of `type` (a tensor or scalar type), or std::nullopt
/// with `why` set.
std::optional<ElementType> elementTypeOf(Type type, std::string &why);

/// A C literal of `value` in register type `t` (inf and NaN included).
std::string literal(double value, const ElementType &t);

/// Whether `op` can be emitted; `why` says what is missing when not.
bool canEmitScalar(Operation *op, std::string &why);

/// The expression of `op` over its operands' expressions. Call only after
/// canEmitScalar.
std::string emitScalar(Operation *op, llvm::ArrayRef<std::string> operands);

} // namespace mlir::kiln::cuda

#endif // KILN_COMPILER_TARGET_CUDA_SCALAROPS_H
