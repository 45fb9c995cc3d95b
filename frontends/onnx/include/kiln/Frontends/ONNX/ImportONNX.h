//===- ImportONNX.h - ONNX models to kiln IR -------------------------------===//
//
// Reads an ONNX ModelProto and builds one `func.func` of kiln ops:
//
//   mlir::kiln::onnx::ImportOptions options;
//   options.inputShapes["x"] = {1, 3, 224, 224};   // binds symbolic dims
//   auto module = mlir::kiln::onnx::importONNXFile("model.onnx", &ctx, options);
//   if (failed(module)) ...   // diagnostics were emitted on `ctx`
//
// Graph inputs become function arguments (named with the `kiln.name`
// argument attribute), graph outputs the returned values, initializers and
// Constant nodes `kiln.constant` ops. Every result type is static: the
// dialect's own inference computes it as each op is built, and shape
// arithmetic on constants (Shape, Gather, Concat, ... as exporters emit
// them) is folded while importing. Errors never abort: each is a diagnostic
// naming the node, its op type and the opset.
//
// External data (tensors stored beside the model) is read relative to the
// model's directory only: absolute paths, `..`, and symbolic or hard links
// that leave that directory are refused, as are offsets and lengths outside
// the file.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_FRONTENDS_ONNX_IMPORTONNX_H
#define KILN_FRONTENDS_ONNX_IMPORTONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::kiln::onnx {

/// The opsets of the default domain ("" / "ai.onnx") the importer accepts.
constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 22; // the newest that the pinned onnx 1.17 knows

struct ImportOptions {
  /// Full shapes for graph inputs, by input name (`--input-shape x=1x3x8x8`).
  llvm::StringMap<std::vector<int64_t>> inputShapes;
  /// Values for symbolic dims, by dim_param name (`--input-dim batch=1`).
  llvm::StringMap<int64_t> symbolicDims;
  /// The name of the generated function.
  std::string functionName = "main";
};

/// Imports the model in `bytes`. `modelPath` names the model in messages and
/// its directory holds external data; empty: external data is refused.
FailureOr<OwningOpRef<ModuleOp>> importONNX(llvm::StringRef bytes,
                                            llvm::StringRef modelPath,
                                            MLIRContext *context,
                                            const ImportOptions &options = {});

/// Reads and imports `path`.
FailureOr<OwningOpRef<ModuleOp>> importONNXFile(llvm::StringRef path,
                                                MLIRContext *context,
                                                const ImportOptions &options = {});

/// Parses "x=1x3x224x224" into options.inputShapes or "batch=1" into
/// options.symbolicDims; returns a message on malformed text.
std::optional<std::string> parseInputShape(llvm::StringRef spec,
                                           ImportOptions &options);
std::optional<std::string> parseInputDim(llvm::StringRef spec,
                                         ImportOptions &options);

/// Registers the `--import-onnx` translation (with its --input-shape and
/// --input-dim options) for mlir-translate style drivers.
void registerONNXTranslation();

} // namespace mlir::kiln::onnx

#endif // KILN_FRONTENDS_ONNX_IMPORTONNX_H
