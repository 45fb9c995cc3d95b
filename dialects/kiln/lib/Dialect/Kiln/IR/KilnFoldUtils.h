//===- KilnFoldUtils.h - Reading and writing constants as doubles ---------===//
//
// Constant folding evaluates in double: exact for every kiln element type up
// to i32 and f32, and for i64 values up to 2^53 in magnitude. Integer
// constants or results beyond 2^53 are not folded (they would round). Folding
// is only attempted on small constants: see kMaxFoldElements.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LIB_DIALECT_KILN_IR_KILNFOLDUTILS_H
#define KILN_LIB_DIALECT_KILN_IR_KILNFOLDUTILS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>

namespace mlir::kiln {

/// Constants larger than this (and not splats) are left alone: folding them
/// would bloat the IR and the compile time for no runtime gain.
constexpr int64_t kMaxFoldElements = 1 << 16;

/// The elements of a small dense constant as doubles (a splat yields one);
/// nullopt for an integer beyond 2^53 in magnitude (not exact in a double).
std::optional<SmallVector<double>> readDoubles(Attribute attr);

/// A dense constant of `type` from doubles (one value: a splat). Returns
/// null when a value does not fit the element type (NaN or out of range
/// into an integer, or an integer beyond 2^53, which may have been rounded),
/// so the caller does not fold.
DenseElementsAttr writeDoubles(ShapedType type, ArrayRef<double> values);

} // namespace mlir::kiln

#endif // KILN_LIB_DIALECT_KILN_IR_KILNFOLDUTILS_H
