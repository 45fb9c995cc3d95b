//===- ScalarOps.h - One element of a kiln elementwise op in LLVM IR -------===//
//
// The CPU kernel emitter evaluates a fused body element by element; this is
// the table that turns one kiln elementwise op into scalar LLVM IR. The
// formulas follow the eager kernels (runtime/src/cpu/ElementwiseKernels.cpp)
// operation for operation, so compiled and eager results agree to rounding.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_COMPILER_TARGET_CPU_SCALAROPS_H
#define KILN_COMPILER_TARGET_CPU_SCALAROPS_H

#include "mlir/IR/Operation.h"
#include "llvm/IR/IRBuilder.h"

#include <string>

namespace mlir::kiln::cpu {

/// The LLVM type one element of `type` has in registers (i1 for booleans,
/// which are stored as bytes; f32 for f16, which is stored as half), or
/// nullptr with `why` set when the CPU backend does not generate code for
/// it.
llvm::Type *scalarTypeOf(Type type, llvm::LLVMContext &ctx, std::string &why);

/// bf16 <-> f32 as the runtime converts (DType.h): widening is exact,
/// narrowing rounds to nearest even and keeps NaN a quiet NaN. bf16 values
/// are i16 bit patterns in memory.
llvm::Value *bf16BitsToFloat(llvm::IRBuilder<> &b, llvm::Value *bits);
llvm::Value *floatToBF16Bits(llvm::IRBuilder<> &b, llvm::Value *x);

/// e^x as every kernel computes it: f32 inline (no call; the runtime's
/// vecmath::exp formula), f64 through llvm.exp.
llvm::Value *expValue(llvm::IRBuilder<> &b, llvm::Value *x);

/// Whether `op` can be emitted (op kind, element types, attributes);
/// `why` says what is missing when it cannot.
bool canEmitScalar(Operation *op, std::string &why);

/// Emits `op` applied to one element of each operand (already in register
/// types); returns the result element. Call only after canEmitScalar.
llvm::Value *emitScalar(Operation *op, ArrayRef<llvm::Value *> operands,
                        llvm::IRBuilder<> &b);

} // namespace mlir::kiln::cpu

#endif // KILN_COMPILER_TARGET_CPU_SCALAROPS_H
