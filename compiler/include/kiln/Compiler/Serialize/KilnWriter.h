//===- KilnWriter.h - Writing a planned kiln module as a .kiln file -------===//
#ifndef KILN_COMPILER_SERIALIZE_KILNWRITER_H
#define KILN_COMPILER_SERIALIZE_KILNWRITER_H

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace mlir::kiln {

/// Supplies the bytes of a named parameter of the given type (row-major, the
/// element type's native layout), or fails after emitting a diagnostic.
using ParameterSource =
    std::function<FailureOr<std::vector<uint8_t>>(StringRef name,
                                                  RankedTensorType type)>;

/// Serializes every function of `module` (which must have gone through
/// kiln-plan-memory) into the bytes of a .kiln file: a size-prefixed
/// FlatBuffer with the payload checksum. Emits a diagnostic and fails on
/// anything it cannot represent.
LogicalResult writeKilnFile(ModuleOp module, const ParameterSource &parameters,
                            std::vector<uint8_t> &out);

} // namespace mlir::kiln

#endif // KILN_COMPILER_SERIALIZE_KILNWRITER_H
