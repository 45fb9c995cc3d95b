//===- kiln-translate.cpp - Other formats to and from kiln IR -------------===//
//
//   kiln-translate --import-onnx model.onnx [--input-shape x=1x3x224x224]
//                  [--input-dim batch=1]
//
// Prints the kiln IR that a model imports to (frontends/onnx); lit tests
// check it with FileCheck.
//
//===----------------------------------------------------------------------===//
#include "kiln/Frontends/ONNX/ImportONNX.h"

#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  mlir::kiln::onnx::registerONNXTranslation();
  return mlir::failed(mlir::mlirTranslateMain(
             argc, argv, "Kiln translation driver: imports models as kiln IR\n"))
             ? 1
             : 0;
}
