//===- ElementwiseKernels.h - Inner loops of the elementwise ops -----------===//
//
// Internal. For each op and dtype, the InnerLoop that forEachRun drives.
// Operand order: ptrs[0] is the output, then the inputs.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_ELEMENTWISEKERNELS_H
#define KILN_RUNTIME_CPU_ELEMENTWISEKERNELS_H

#include "Loops.h"
#include "kiln/Ops.h"

namespace kiln::cpu {

/// nullptr when the dtype is outside the op's domain. ctx: UnaryParams.
InnerLoop unaryLoop(UnaryOp op, DType dtype);
/// nullptr when the dtype is outside the op's domain. ctx unused.
InnerLoop binaryLoop(BinaryOp op, DType dtype);
/// Operands: out, cond (i1), onTrue, onFalse.
InnerLoop selectLoop(DType dtype);

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_ELEMENTWISEKERNELS_H
