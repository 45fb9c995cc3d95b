//===- KilnInference.h - Checked reading of ops inside inferReturnTypes ---===//
//
// MLIR 19's custom parser calls inferReturnTypes before the op exists, so
// before ODS has checked anything about it: a required attribute may be
// missing, any attribute may be of the wrong kind (`[1, 0]` where an
// `array<i64: ...>` is declared, `"a"` where an i64 is), and operand types
// may be dynamic, unranked or not tensors at all. The generated adaptor
// getters assume all of that was checked (unchecked casts, a sorted lookup
// that walks out of range when a required attribute is absent), so
// inference must not use them for attributes.
//
// OpInference is the one place that reads an op for inference: it checks
// the operands against the dialect's type rules, reads attributes by name
// with the same checks (and the same words) as the ODS verifier, and
// prefixes every message with the op, as a verifier error would be.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LIB_DIALECT_KILN_IR_KILNINFERENCE_H
#define KILN_LIB_DIALECT_KILN_IR_KILNINFERENCE_H

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Support/Shapes.h"

#include "mlir/IR/Diagnostics.h"

namespace mlir::kiln {

class OpInference {
public:
  /// `opName` is the op's full name ("kiln.add"); `adaptor` is the
  /// InferTypeOpAdaptor's adaptor.
  template <typename AdaptorT>
  OpInference(std::optional<Location> loc, StringRef opName, AdaptorT &adaptor)
      : OpInference(loc, opName, adaptor.getOperands(),
                    adaptor.getAttributes()) {}
  OpInference(std::optional<Location> loc, StringRef opName,
              ValueRange operands, DictionaryAttr attrs)
      : loc(loc), opName(opName), operands(operands), attrs(attrs) {}

  /// Emits "'<op>' op <args...>" at the op's location (nothing when there is
  /// no location) and returns failure.
  template <typename... Args>
  LogicalResult emitError(Args &&...args) const {
    return emitOptionalError(loc, "'", opName, "' op ",
                             std::forward<Args>(args)...);
  }

  /// Every operand must be a ranked, statically shaped tensor whose element
  /// count fits int64: the dialect's type rules, which ODS checks only after
  /// inference. Call first; the shape rules assume it.
  LogicalResult checkOperands() const;

  /// Attributes by name. Without a default the attribute is required
  /// ("requires attribute 'x'"); of the wrong kind it is "attribute 'x'
  /// failed to satisfy constraint: ...", as the ODS verifier says.
  /// Arrays are copied: a default is often a braced list that dies with the
  /// full expression.
  FailureOr<SmallVector<int64_t>> getI64Array(StringRef name) const;
  FailureOr<SmallVector<int64_t>> getI64Array(StringRef name,
                                              ArrayRef<int64_t> dflt) const;
  FailureOr<int64_t> getI64(StringRef name) const;
  FailureOr<int64_t> getI64(StringRef name, int64_t dflt) const;
  FailureOr<bool> getBool(StringRef name, bool dflt) const;
  FailureOr<StringRef> getString(StringRef name, StringRef dflt) const;

  /// Appends a tensor of `shape` and `element`, or emits the rule's message.
  LogicalResult push(const ::kiln::shapes::ShapeOr &shape, Type element,
                     SmallVectorImpl<Type> &types) const;

private:
  /// The attribute `name` if present and an `AttrT`; null with a
  /// diagnostic if present and of another kind; null without one if absent.
  template <typename AttrT>
  FailureOr<AttrT> lookup(StringRef name, StringRef constraint) const;

  std::optional<Location> loc;
  StringRef opName;
  ValueRange operands;
  DictionaryAttr attrs;
};

/// Result type of a broadcasting binary op: the broadcast shape, with the
/// operands' element type or i1 for predicates.
LogicalResult inferBroadcastResult(const OpInference &infer, Type lhs,
                                   Type rhs, bool predicate,
                                   SmallVectorImpl<Type> &types);

/// The epilogue activation of kiln.gemm and kiln.conv2d must be one the
/// runtime applies (its oneDNN post-ops and eager kernels know the same
/// names); emits the error otherwise.
LogicalResult checkActivation(const OpInference &infer, StringRef activation);

/// Result type of a reduction over `axes`; i64 elements for arg reductions.
LogicalResult inferReduceResult(const OpInference &infer, Type input,
                                ArrayRef<int64_t> axes, bool keepDims,
                                bool indexResult, SmallVectorImpl<Type> &types);

} // namespace mlir::kiln

#endif // KILN_LIB_DIALECT_KILN_IR_KILNINFERENCE_H
