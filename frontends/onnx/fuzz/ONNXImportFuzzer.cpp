//===- ONNXImportFuzzer.cpp - libFuzzer target for the ONNX importer ------===//
//
// Feeds raw bytes to importONNX (no model path, so external data is
// refused without touching the file system). Any diagnostic is fine; a
// crash, sanitizer report or leak is a bug. Seed it with the node-test
// models:  kiln-onnx-import-fuzzer CORPUS \
//            $(find .venv/lib/python3*/site-packages/onnx/backend/test/data/node -name model.onnx)
//
//===----------------------------------------------------------------------===//
#include "kiln/Frontends/ONNX/ImportONNX.h"

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext context;
  context.loadDialect<mlir::kiln::KilnDialect, mlir::func::FuncDialect>();
  context.printOpOnDiagnostic(false);
  mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  (void)mlir::kiln::onnx::importONNX(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), "",
      &context);
  return 0;
}
