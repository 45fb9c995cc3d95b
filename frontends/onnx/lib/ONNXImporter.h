//===- ONNXImporter.h - The importer's state, shared by its files ---------===//
//
// ONNXImporter.cpp walks the model (opsets, inputs, initializers, node
// order, outputs); ONNXTensors.cpp turns TensorProtos (inline or external)
// into attributes; ONNXOps.cpp, ONNXNNOps.cpp, ONNXShapeOps.cpp and
// ONNXRecurrentOps.cpp convert one node each, through the op table at the bottom of ONNXOps.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_FRONTENDS_ONNX_LIB_ONNXIMPORTER_H
#define KILN_FRONTENDS_ONNX_LIB_ONNXIMPORTER_H

#include "kiln/Frontends/ONNX/ImportONNX.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"

#include "onnx.pb.h"

#include <functional>

namespace mlir::kiln::onnx {

/// Declared tensors larger than this are refused before anything is
/// allocated for them (a model that claims a 2^62-element input).
constexpr int64_t kMaxTensorBytes = int64_t(1) << 40;
/// The most values read from a constant input that the importer needs as
/// numbers (shapes, axes, pads, repeats, ...); a hostile model could make
/// one from ConstantOfShape with billions of elements.
constexpr int64_t kMaxConstInts = int64_t(1) << 16;
/// The largest constant the importer builds itself element by element
/// (Range, Hardmax's and the losses' class indices); bigger ones would take
/// the importer minutes and gigabytes.
constexpr int64_t kMaxBuiltConstant = int64_t(1) << 24;

/// The MLIR element type of an ONNX TensorProto::DataType, or null.
Type elementTypeOf(MLIRContext *ctx, int32_t onnxType);
/// "float", "int64", ... for messages.
std::string onnxTypeName(int32_t onnxType);
/// Bytes per element of a kiln element type in storage (i1: one byte).
int64_t elementBytes(Type type);

/// Turns a TensorProto (inline data or external data beside the model in
/// `modelDir`; empty refuses external data) into a dense attribute.
/// Errors are emitted at `loc` and name the tensor as `what`.
FailureOr<DenseElementsAttr> tensorToAttr(const ::onnx::TensorProto &tensor,
                                          llvm::StringRef modelDir,
                                          Location loc, llvm::StringRef what);

/// The shape of a declared tensor with every dim checked (>= 0, the bytes
/// of its non-zero dims within kMaxTensorBytes); emits at `loc` otherwise.
/// Every value the importer builds is held to it (Importer::finish), so the
/// product of any tensor's dims fits in int64.
FailureOr<RankedTensorType> checkedTensorType(Location loc,
                                              ArrayRef<int64_t> shape,
                                              Type element,
                                              llvm::StringRef what);

/// One node being converted.
struct Node {
  const ::onnx::NodeProto *proto;
  int64_t opset;
  Location loc;
  /// Null for an omitted optional input ("" or absent trailing inputs).
  SmallVector<Value> inputs;
  /// One per output, set by the converter (null: not produced).
  SmallVector<Value> results;

  Value in(unsigned i) const { return i < inputs.size() ? inputs[i] : Value(); }
  bool hasInput(unsigned i) const { return bool(in(i)); }
  unsigned numOutputs() const { return proto->output_size(); }
  /// Whether output `i` is named (used by the graph), "" meaning omitted.
  bool wantsOutput(unsigned i) const {
    return int(i) < proto->output_size() && !proto->output(int(i)).empty();
  }
  llvm::StringRef opType() const { return proto->op_type(); }
};

class Importer {
public:
  Importer(MLIRContext *ctx, llvm::StringRef modelPath,
           const ImportOptions &options);

  FailureOr<OwningOpRef<ModuleOp>> importModel(const ::onnx::ModelProto &model);

  //===--------------------------------------------------------------------===//
  // Used by the op converters
  //===--------------------------------------------------------------------===//
  MLIRContext *ctx;
  OpBuilder b;

  /// Builds `OpTy` on `operands` with `attrs`. The result types come from
  /// the op's own inference (kiln's inferred ops), `resultTypes` when given,
  /// or the first operand's type (SameOperandsAndResultType ops). The op is
  /// verified at once (the message names the node) and folded when all its
  /// operands are constants, so shape arithmetic on constants disappears.
  template <typename OpTy>
  FailureOr<SmallVector<Value>> makeAll(Location loc, ValueRange operands,
                                        ArrayRef<NamedAttribute> attrs = {},
                                        TypeRange resultTypes = {}) {
    OperationState state(loc, OpTy::getOperationName());
    state.addOperands(operands);
    state.addAttributes(attrs);
    SmallVector<Type> types(resultTypes.begin(), resultTypes.end());
    if (types.empty()) {
      if constexpr (OpTy::template hasTrait<InferTypeOpInterface::Trait>()) {
        if (failed(OpTy::inferReturnTypes(
                ctx, loc, state.operands,
                state.attributes.getDictionary(ctx), state.getRawProperties(),
                state.regions, types)))
          return failure();
      } else {
        if (operands.empty())
          return emitError(loc) << OpTy::getOperationName()
                                << " needs a result type";
        types.push_back(operands.front().getType());
      }
    }
    state.addTypes(types);
    return finish(b.create(state));
  }
  template <typename OpTy>
  FailureOr<Value> make(Location loc, ValueRange operands,
                        ArrayRef<NamedAttribute> attrs = {},
                        Type resultType = {}) {
    auto r = resultType ? makeAll<OpTy>(loc, operands, attrs, TypeRange(resultType))
                        : makeAll<OpTy>(loc, operands, attrs);
    if (failed(r))
      return failure();
    return r->front();
  }

  /// Verifies a freshly built op, checks its result sizes (checkedTensorType)
  /// and folds it when its operands are all constants; erases it on failure.
  FailureOr<SmallVector<Value>> finish(Operation *op);

  /// Constants.
  Value constant(DenseElementsAttr value);
  /// A rank-0 (shape {}) or shaped splat of `element` holding `v`.
  Value splat(Type element, double v, ArrayRef<int64_t> shape = {});
  Value constI64(ArrayRef<int64_t> values);
  /// The constant behind `v`, if `v` is one.
  DenseElementsAttr constantOf(Value v);
  /// The values of a constant integer (or integral float) tensor input, or
  /// an error naming `what` when it is not a constant.
  FailureOr<SmallVector<int64_t>> constInts(const Node &n, Value v,
                                            llvm::StringRef what);
  FailureOr<SmallVector<double>> constFloats(const Node &n, Value v,
                                             llvm::StringRef what);

  /// Attributes with defaults. A present attribute of the wrong kind is an
  /// error naming it.
  const ::onnx::AttributeProto *attr(const Node &n, llvm::StringRef name);
  FailureOr<int64_t> getInt(const Node &n, llvm::StringRef name, int64_t dflt);
  FailureOr<double> getFloat(const Node &n, llvm::StringRef name, double dflt);
  FailureOr<std::string> getString(const Node &n, llvm::StringRef name,
                                   llvm::StringRef dflt);
  FailureOr<SmallVector<int64_t>> getInts(const Node &n, llvm::StringRef name,
                                          ArrayRef<int64_t> dflt = {});
  FailureOr<SmallVector<double>> getFloats(const Node &n, llvm::StringRef name);
  /// Required attribute.
  FailureOr<int64_t> requireInt(const Node &n, llvm::StringRef name);

  /// Checked tensor type of a value.
  static RankedTensorType typeOf(Value v) {
    return cast<RankedTensorType>(v.getType());
  }
  static ArrayRef<int64_t> shapeOf(Value v) { return typeOf(v).getShape(); }
  static int64_t rankOf(Value v) { return typeOf(v).getRank(); }

  /// Axis in [-rank, rank) -> [0, rank), or an error naming `what`.
  FailureOr<int64_t> normAxis(const Node &n, int64_t axis, int64_t rank,
                              llvm::StringRef what = "axis");

  /// Common sequences.
  FailureOr<Value> reshape(Location loc, Value v, ArrayRef<int64_t> shape);
  FailureOr<Value> castTo(Location loc, Value v, Type element);

  llvm::StringRef modelDir() const { return modelDir_; }

private:
  LogicalResult importGraph(const ::onnx::GraphProto &graph, ModuleOp module);
  LogicalResult convertNode(Node &n);
  FailureOr<RankedTensorType> inputType(const ::onnx::ValueInfoProto &info);
  std::string describe(const ::onnx::NodeProto &node, int64_t opset) const;

  std::string modelPath_, modelDir_;
  const ImportOptions &options_;
  int64_t opset_ = 0;
  Location fileLoc_;
  llvm::StringMap<Value> values_;
};

/// A node converter: reads `n`, builds kiln ops, sets n.results.
using Converter = std::function<LogicalResult(Importer &, Node &)>;
/// The converter for an op type of the default domain, or null.
const Converter *lookupConverter(llvm::StringRef opType);
/// Adds the recurrent converters (LSTM, GRU, RNN) to `table`.
void addRecurrentConverters(llvm::StringMap<Converter> &table);

} // namespace mlir::kiln::onnx

#endif // KILN_FRONTENDS_ONNX_LIB_ONNXIMPORTER_H
