//===- OpClasses.h - How the compiler treats each kiln op -----------------===//
//
// One table answering, for every kiln op, the questions the fusion, memory
// and codegen passes ask: does it become part of a generated kernel, is it a
// library call, is it a view, and is it expensive to recompute.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_COMPILER_TRANSFORMS_OPCLASSES_H
#define KILN_COMPILER_TRANSFORMS_OPCLASSES_H

#include "mlir/IR/Operation.h"

namespace mlir::kiln {

enum class OpRole {
  Elementwise, ///< one output element from one element of each operand
  Reduction,   ///< reduces along axes; can root a fused kernel
  Library,     ///< GEMM, convolution: a library call (oneDNN, cuBLASLt)
  View,        ///< reshape: no data moves, the result aliases the operand
  Source,      ///< constant, parameter: stored apart, never computed
  Other,       ///< gathers, pooling, data movement: a kernel of its own
};

struct OpClass {
  OpRole role;
  /// Transcendental or otherwise costly per element: never recomputed.
  bool expensive;
};

OpClass classify(Operation *op);

} // namespace mlir::kiln

#endif // KILN_COMPILER_TRANSFORMS_OPCLASSES_H
