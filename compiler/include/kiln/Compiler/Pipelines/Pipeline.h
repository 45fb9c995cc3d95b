//===- Pipeline.h - The one place that orders Kiln's passes ---------------===//
#ifndef KILN_COMPILER_PIPELINES_PIPELINE_H
#define KILN_COMPILER_PIPELINES_PIPELINE_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::kiln {

/// Options of the compile pipeline; `kiln-opt --kiln-pipeline="..."` and
/// `kiln-compile` both build it from this struct.
struct PipelineOptions : public PassPipelineOptions<PipelineOptions> {
  Option<bool> fusion{*this, "fusion", llvm::cl::desc("Form fused kernels"),
                      llvm::cl::init(true)};
  Option<bool> report{*this, "report",
                      llvm::cl::desc("Emit fusion and memory remarks"),
                      llvm::cl::init(false)};
  Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("Storage precision: f32 (default), f16 or bf16"),
      llvm::cl::init("f32")};
  Option<std::string> convLayout{
      *this, "conv-layout",
      llvm::cl::desc("Activation layout of CPU convolution chains: nhwc "
                     "(default) or nchw (as imported)"),
      llvm::cl::init("nhwc")};
  Option<bool> inPlace{*this, "in-place",
                       llvm::cl::desc("Reuse dying inputs in place"),
                       llvm::cl::init(true)};
};

/// Appends the whole graph pipeline: simplify, lower precision, simplify,
/// fuse, plan memory.
void buildPipeline(OpPassManager &pm, const PipelineOptions &options);

/// Registers `kiln-pipeline` for kiln-opt.
void registerPipelines();

} // namespace mlir::kiln

#endif // KILN_COMPILER_PIPELINES_PIPELINE_H
