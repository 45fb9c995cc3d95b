//===- Passes.h - Kiln's graph passes -------------------------------------===//
#ifndef KILN_COMPILER_TRANSFORMS_PASSES_H
#define KILN_COMPILER_TRANSFORMS_PASSES_H

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "kiln/Compiler/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "kiln/Compiler/Transforms/Passes.h.inc"

} // namespace mlir::kiln

#endif // KILN_COMPILER_TRANSFORMS_PASSES_H
