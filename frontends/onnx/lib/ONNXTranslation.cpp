//===- ONNXTranslation.cpp - The --import-onnx translation ----------------===//
//
// `kiln-translate --import-onnx model.onnx [--input-shape x=1x3x8x8]
// [--input-dim batch=1]` prints the imported kiln IR (for lit tests and
// for looking at what a model becomes).
//
//===----------------------------------------------------------------------===//
#include "kiln/Frontends/ONNX/ImportONNX.h"

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"

namespace mlir::kiln::onnx {

void registerONNXTranslation() {
  static llvm::cl::list<std::string> inputShapes(
      "input-shape",
      llvm::cl::desc("Shape of a graph input for --import-onnx: NAME=D0xD1x..."),
      llvm::cl::value_desc("name=shape"));
  static llvm::cl::list<std::string> inputDims(
      "input-dim",
      llvm::cl::desc("Value of a symbolic dim for --import-onnx: NAME=VALUE"),
      llvm::cl::value_desc("name=value"));
  static TranslateToMLIRRegistration registration(
      "import-onnx", "Import an ONNX model (.onnx) into the kiln dialect",
      [](const std::shared_ptr<llvm::SourceMgr> &sourceMgr,
         MLIRContext *ctx) -> OwningOpRef<Operation *> {
        ImportOptions options;
        for (const std::string &s : inputShapes)
          if (auto e = parseInputShape(s, options)) {
            emitError(UnknownLoc::get(ctx)) << *e;
            return {};
          }
        for (const std::string &s : inputDims)
          if (auto e = parseInputDim(s, options)) {
            emitError(UnknownLoc::get(ctx)) << *e;
            return {};
          }
        const llvm::MemoryBuffer *buffer =
            sourceMgr->getMemoryBuffer(sourceMgr->getMainFileID());
        auto module = importONNX(buffer->getBuffer(),
                                 buffer->getBufferIdentifier(), ctx, options);
        if (failed(module))
          return {};
        return OwningOpRef<Operation *>(module->release());
      },
      [](DialectRegistry &registry) {
        registry.insert<KilnDialect, func::FuncDialect>();
      });
}

} // namespace mlir::kiln::onnx
