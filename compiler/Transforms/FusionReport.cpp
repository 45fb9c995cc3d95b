//===- FusionReport.cpp - Kernels a function will dispatch, as remarks ----===//
#include "OpClasses.h"
#include "kiln/Compiler/Transforms/Passes.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/ADT/StringExtras.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_FUSIONREPORT
#include "kiln/Compiler/Transforms/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {
struct FusionReportPass : mlir::kiln::impl::FusionReportBase<FusionReportPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    int64_t graphOps = 0, fusions = 0, library = 0, other = 0;
    for (Operation &op : func.getBody().front()) {
      if (auto fusion = dyn_cast<FusionOp>(op)) {
        SmallVector<std::string> names;
        for (Operation &inner : fusion.getBodyBlock().without_terminator()) {
          if (isa<ConstantOp>(inner))
            continue;
          names.push_back(inner.getName().stripDialect().str());
        }
        graphOps += names.size();
        ++fusions;
        fusion.emitRemark() << fusion.getKind() << " kernel of " << names.size()
                            << " ops: " << llvm::join(names, ", ");
        continue;
      }
      if (!isa<KilnDialect>(op.getDialect()))
        continue;
      ++graphOps;
      // A gemm stands for the matmul, bias add and activation it absorbed;
      // a conv2d for the activation it absorbed (its bias may have been an
      // operand from the start, so that one is not counted).
      if (auto gemm = dyn_cast<GemmOp>(op))
        graphOps += (gemm.getBias() ? 1 : 0) + (gemm.getActivation() != "none");
      if (auto conv = dyn_cast<Conv2DOp>(op))
        graphOps += conv.getActivation() != "none";
      switch (classify(&op).role) {
      case OpRole::Library:
        ++library;
        break;
      case OpRole::View:
      case OpRole::Source:
        break;
      default:
        ++other;
      }
    }
    func.emitRemark() << graphOps << " graph ops -> "
                      << fusions + library + other << " kernels (" << fusions
                      << " fused, " << library << " library calls, " << other
                      << " other)";
  }
};
} // namespace
