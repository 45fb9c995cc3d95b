//===- Pipeline.cpp - The one place that orders Kiln's passes -------------===//
#include "kiln/Compiler/Pipelines/Pipeline.h"
#include "kiln/Compiler/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::kiln::buildPipeline(OpPassManager &pm,
                               const PipelineOptions &options) {
  // Simplify first so fusion sees the real graph (no identities, no dead
  // ops, shared weights merged).
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (options.precision != "f32") {
    LowerPrecisionOptions lower;
    lower.precision = options.precision;
    pm.nest<func::FuncOp>().addPass(createLowerPrecision(lower));
    // Drop the casts back to f32 that nobody reads; merge duplicates.
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  OpPassManager &fn = pm.nest<func::FuncOp>();
  if (options.fusion) {
    fn.addPass(createFuseEpilogues());
    if (options.convLayout == "nhwc")
      fn.addPass(createConvLayout());
    fn.addPass(createFuseElementwise());
    if (options.report)
      fn.addPass(createFusionReport());
  }
  PlanMemoryOptions memory;
  memory.report = options.report;
  memory.inPlace = options.inPlace;
  fn.addPass(createPlanMemory(memory));
}

void mlir::kiln::registerPipelines() {
  PassPipelineRegistration<PipelineOptions>(
      "kiln-pipeline",
      "Kiln's compile pipeline: canonicalize, CSE, lower precision, fuse "
      "epilogues, channels-last convolutions, fuse elementwise chains, plan "
      "memory",
      buildPipeline);
}
