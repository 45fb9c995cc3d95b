//===- Derivatives.h - Backward functions of the core eager ops ------------===//
//
// One function per op family, keyed by the same enums as the kernels
// (OpTables.def), so the op table is where both are looked up. Each returns
// an empty BackwardFn for ops with no derivative (floor, comparisons...):
// their results simply carry no gradient. Arguments are captured detached.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_AUTOGRAD_DERIVATIVES_H
#define KILN_RUNTIME_AUTOGRAD_DERIVATIVES_H

#include "kiln/Autograd.h"
#include "kiln/Ops.h"

namespace kiln::autograd {

bool hasDerivative(UnaryOp op);
bool hasDerivative(BinaryOp op);

BackwardFn unaryBackward(UnaryOp op, const Tensor &x, const UnaryParams &p);
BackwardFn binaryBackward(BinaryOp op, const Tensor &a, const Tensor &b);
BackwardFn selectBackward(const Tensor &cond, const Tensor &onTrue,
                          const Tensor &onFalse);
BackwardFn reduceBackward(ReduceOp op, const Tensor &x,
                          std::span<const int64_t> axes, bool keepDims);
BackwardFn matmulBackward(const Tensor &a, const Tensor &b, bool transposeA,
                          bool transposeB);

} // namespace kiln::autograd

#endif // KILN_RUNTIME_AUTOGRAD_DERIVATIVES_H
