//===- ONNXConvert.h - Helpers shared by the node converters --------------===//
//
// ONNXOps.cpp (elementwise, values), ONNXNNOps.cpp (linear algebra, NN),
// ONNXShapeOps.cpp (data movement, reductions) and ONNXRecurrentOps.cpp
// (LSTM, GRU, RNN) each convert a
// family of node types; these are the small pieces they all use.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_FRONTENDS_ONNX_ONNXCONVERT_H
#define KILN_FRONTENDS_ONNX_ONNXCONVERT_H

#include "ONNXImporter.h"

/// `auto var = *expr;`, returning failure() from the enclosing converter
/// when expr failed (it has emitted its diagnostic).
#define KILN_TRY(var, expr)                                                    \
  auto var##OrFailure = (expr);                                                \
  if (failed(var##OrFailure))                                                  \
    return failure();                                                          \
  auto var = std::move(*var##OrFailure)

namespace mlir::kiln::onnx {

using I = Importer;

inline LogicalResult needInputs(Node &n, unsigned count) {
  for (unsigned i = 0; i < count; ++i)
    if (!n.hasInput(i))
      return emitError(n.loc) << "expects input #" << i << ", which is missing";
  return success();
}

inline NamedAttribute named(I &im, StringRef name, Attribute a) {
  return im.b.getNamedAttr(name, a);
}
inline Attribute i64Array(I &im, ArrayRef<int64_t> v) {
  return im.b.getDenseI64ArrayAttr(v);
}

/// A scalar of `v`'s element type.
inline Value scalarLike(I &im, Value v, double x) {
  return im.splat(I::typeOf(v).getElementType(), x);
}

/// Adds the linear algebra and NN converters (ONNXNNOps.cpp).
void addNNConverters(llvm::StringMap<Converter> &table);

/// Adds the data-movement and reduction converters (ONNXShapeOps.cpp).
void addShapeConverters(llvm::StringMap<Converter> &table);

} // namespace mlir::kiln::onnx

#endif // KILN_FRONTENDS_ONNX_ONNXCONVERT_H
