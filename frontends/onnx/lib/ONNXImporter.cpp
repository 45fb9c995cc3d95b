//===- ONNXImporter.cpp - ModelProto -> func.func of kiln ops -------------===//
//
// Checks the model (IR version, opsets, domains), binds the graph inputs'
// shapes, turns initializers into constants, orders the nodes (refusing
// cycles, dangling names and values defined twice), converts each node
// through the op table and checks the outputs against their declared types.
// Every error is a diagnostic naming the node, its op type and the opset.
//
//===----------------------------------------------------------------------===//
#include "ONNXImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <queue>

namespace mlir::kiln::onnx {

namespace {
/// The newest IR version the pinned onnx package writes.
constexpr int64_t kMaxIrVersion = 10;

bool isDefaultDomain(llvm::StringRef d) { return d.empty() || d == "ai.onnx"; }
} // namespace

Importer::Importer(MLIRContext *ctx, llvm::StringRef modelPath,
                   const ImportOptions &options)
    : ctx(ctx), b(ctx), modelPath_(modelPath.str()), options_(options),
      fileLoc_(FileLineColLoc::get(
          ctx, modelPath.empty() ? "<onnx>" : modelPath, 0, 0)) {
  if (!modelPath.empty()) {
    llvm::StringRef parent = llvm::sys::path::parent_path(modelPath);
    modelDir_ = parent.empty() ? "." : parent.str();
  }
}

//===----------------------------------------------------------------------===//
// Model
//===----------------------------------------------------------------------===//

FailureOr<OwningOpRef<ModuleOp>>
Importer::importModel(const ::onnx::ModelProto &model) {
  auto err = [&]() { return emitError(fileLoc_); };
  if (!model.has_graph())
    return err() << "not an ONNX model: no graph (is this an ONNX file?)";
  if (!model.has_ir_version() || model.ir_version() < 3)
    return err() << "ONNX IR version "
                 << (model.has_ir_version() ? std::to_string(model.ir_version())
                                            : std::string("(missing)"))
                 << " is not supported (Kiln reads IR 3 to " << kMaxIrVersion
                 << ")";
  if (model.ir_version() > kMaxIrVersion)
    return err() << "ONNX IR version " << model.ir_version()
                 << " is newer than Kiln reads (3 to " << kMaxIrVersion << ")";
  bool found = false;
  for (const auto &op : model.opset_import()) {
    if (!isDefaultDomain(op.domain()))
      continue; // checked when a node uses it
    if (found)
      return err() << "the model imports the default domain twice";
    found = true;
    opset_ = op.version();
  }
  if (!found)
    return err() << "the model imports no opset of the default domain "
                    "(ai.onnx)";
  if (opset_ < kMinOpset || opset_ > kMaxOpset)
    return err() << "opset " << opset_
                 << " of the default domain (ai.onnx) is not supported: Kiln "
                    "imports opsets "
                 << kMinOpset << " to " << kMaxOpset;

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc_);
  if (failed(importGraph(model.graph(), *module)))
    return failure();
  if (failed(mlir::verify(*module)))
    return failure();
  return module;
}

std::string Importer::describe(const ::onnx::NodeProto &node,
                               int64_t opset) const {
  std::string s = "node ";
  if (!node.name().empty())
    s += "'" + node.name() + "'";
  else if (node.output_size() > 0)
    s += "producing '" + node.output(0) + "'";
  else
    s += "(unnamed)";
  s += " (" + node.op_type();
  if (!isDefaultDomain(node.domain()))
    s += ", domain '" + node.domain() + "'";
  else
    s += ", opset " + std::to_string(opset);
  return s + ")";
}

FailureOr<RankedTensorType>
Importer::inputType(const ::onnx::ValueInfoProto &info) {
  llvm::StringRef name = info.name();
  auto err = [&]() {
    return emitError(fileLoc_) << "graph input '" << name << "': ";
  };
  if (!info.has_type() || !info.type().has_tensor_type())
    return err() << "is not a tensor (sequences, maps and optionals are not "
                    "supported)";
  const auto &tt = info.type().tensor_type();
  Type element = elementTypeOf(ctx, tt.elem_type());
  if (!element)
    return err() << "element type " << onnxTypeName(tt.elem_type())
                 << " is not supported";
  SmallVector<int64_t> shape;
  auto bound = options_.inputShapes.find(name);
  if (bound != options_.inputShapes.end()) {
    shape.assign(bound->second.begin(), bound->second.end());
    if (tt.has_shape() && tt.shape().dim_size() != int64_t(shape.size()))
      return err() << "--input-shape gives " << shape.size()
                   << " dims, the model declares " << tt.shape().dim_size();
    if (tt.has_shape())
      for (auto [i, d] : llvm::enumerate(tt.shape().dim()))
        if (d.has_dim_value() && d.dim_value() != shape[i])
          return err() << "--input-shape gives dim " << i << " = " << shape[i]
                       << ", the model fixes it to " << d.dim_value();
  } else {
    if (!tt.has_shape())
      return err() << "has no declared shape; give one with --input-shape "
                   << name << "=<d0>x<d1>x...";
    SmallVector<std::string> unbound;
    for (auto [i, d] : llvm::enumerate(tt.shape().dim())) {
      if (d.has_dim_value()) {
        shape.push_back(d.dim_value());
        continue;
      }
      if (d.has_dim_param()) {
        auto it = options_.symbolicDims.find(d.dim_param());
        if (it != options_.symbolicDims.end()) {
          shape.push_back(it->second);
          continue;
        }
      }
      shape.push_back(-1);
      unbound.push_back("dim " + std::to_string(i) +
                        (d.has_dim_param() ? " '" + d.dim_param() + "'"
                                           : std::string(" (unnamed)")));
    }
    if (!unbound.empty()) {
      std::string dims;
      for (int64_t d : shape)
        dims += (dims.empty() ? "" : "x") + (d < 0 ? std::string("?") : std::to_string(d));
      return err() << "has symbolic dims (" << llvm::join(unbound, ", ")
                   << "; shape " << dims
                   << "); Kiln compiles static shapes: bind them with "
                      "--input-shape "
                   << name << "=<d0>x<d1>x... or --input-dim <name>=<value>";
    }
  }
  return checkedTensorType(fileLoc_, shape, element,
                           ("graph input '" + name + "'").str());
}

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

LogicalResult Importer::importGraph(const ::onnx::GraphProto &graph,
                                    ModuleOp module) {
  auto err = [&]() { return emitError(fileLoc_); };
  // Where each value comes from, for ordering and the duplicate check.
  llvm::StringMap<std::string> definedBy;
  auto define = [&](llvm::StringRef name, std::string by) -> LogicalResult {
    auto [it, inserted] = definedBy.try_emplace(name, by);
    if (!inserted)
      return err() << "value '" << name << "' is defined twice: by "
                   << it->second << " and by " << by;
    return success();
  };

  if (graph.sparse_initializer_size() > 0)
    return err() << "sparse initializers are not supported";
  llvm::StringMap<int> initializerIndex;
  for (auto [i, init] : llvm::enumerate(graph.initializer())) {
    if (init.name().empty())
      return err() << "initializer #" << i << " has no name";
    if (failed(define(init.name(), "initializer '" + init.name() + "'")))
      return failure();
    initializerIndex[init.name()] = int(i);
  }

  // Graph inputs; old models also list their initializers here (the
  // initializer is then the input's value, and Kiln keeps it constant).
  SmallVector<Type> argTypes;
  SmallVector<const ::onnx::ValueInfoProto *> args;
  llvm::StringSet<> inputNames;
  for (const auto &in : graph.input()) {
    if (in.name().empty())
      return err() << "a graph input has no name";
    if (!inputNames.insert(in.name()).second)
      return err() << "graph input '" << in.name() << "' is declared twice";
  }
  for (const auto &kv : options_.inputShapes)
    if (!inputNames.contains(kv.getKey()) || initializerIndex.count(kv.getKey()))
      return err() << "--input-shape names '" << kv.getKey()
                   << "', which is not a graph input";
  for (const auto &in : graph.input()) {
    if (initializerIndex.count(in.name()))
      continue;
    if (failed(define(in.name(), "graph input '" + in.name() + "'")))
      return failure();
    auto type = inputType(in);
    if (failed(type))
      return failure();
    argTypes.push_back(*type);
    args.push_back(&in);
  }

  // Node order: Kahn's algorithm, keeping the file's order where it is
  // already topological. Also finds dangling names and cycles.
  int numNodes = graph.node_size();
  for (int i = 0; i < numNodes; ++i) {
    const auto &node = graph.node(i);
    if (!isDefaultDomain(node.domain()))
      return err() << describe(node, opset_) << ": unknown domain '"
                   << node.domain()
                   << "' (Kiln imports the default ONNX domain only)";
    for (const auto &out : node.output())
      if (!out.empty() && failed(define(out, describe(node, opset_))))
        return failure();
  }
  llvm::StringMap<int> producer;
  for (int i = 0; i < numNodes; ++i)
    for (const auto &out : graph.node(i).output())
      if (!out.empty())
        producer[out] = i;
  std::vector<int> pending(numNodes, 0);
  std::vector<std::vector<int>> users(numNodes);
  for (int i = 0; i < numNodes; ++i) {
    const auto &node = graph.node(i);
    for (const auto &in : node.input()) {
      if (in.empty())
        continue;
      if (!definedBy.count(in))
        return err() << describe(node, opset_) << ": input '" << in
                     << "' is not a graph input, an initializer or the output "
                        "of any node";
      auto p = producer.find(in);
      if (p != producer.end()) {
        ++pending[i];
        users[p->second].push_back(i);
      }
    }
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < numNodes; ++i)
    if (pending[i] == 0)
      ready.push(i);
  std::vector<int> order;
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int u : users[i])
      if (--pending[u] == 0)
        ready.push(u);
  }
  if (int(order.size()) != numNodes) {
    for (int i = 0; i < numNodes; ++i)
      if (pending[i] > 0)
        return err() << "the graph has a cycle: " << describe(graph.node(i), opset_)
                     << " depends (indirectly) on its own output";
  }
  for (const auto &out : graph.output())
    if (!definedBy.count(out.name()))
      return err() << "graph output '" << out.name()
                   << "' is not produced by any node, initializer or input";

  // The function.
  b.setInsertionPointToEnd(module.getBody());
  auto func = b.create<func::FuncOp>(fileLoc_, options_.functionName,
                                     b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [i, in] : llvm::enumerate(args)) {
    func.setArgAttr(i, "kiln.name", b.getStringAttr(in->name()));
    values_[in->name()] = entry->getArgument(i);
  }
  b.setInsertionPointToEnd(entry);

  for (const auto &init : graph.initializer()) {
    Location loc = NameLoc::get(b.getStringAttr(init.name()), fileLoc_);
    auto attr = tensorToAttr(init, modelDir_, fileLoc_,
                             ("initializer '" + init.name() + "'"));
    if (failed(attr))
      return failure();
    values_[init.name()] = b.create<ConstantOp>(loc, *attr).getResult();
  }

  for (int i : order) {
    const auto &proto = graph.node(i);
    std::string name = proto.name().empty()
                           ? (proto.output_size() ? proto.output(0) : proto.op_type())
                           : proto.name();
    Node n{&proto, opset_, NameLoc::get(b.getStringAttr(name), fileLoc_), {}, {}};
    for (const auto &in : proto.input())
      n.inputs.push_back(in.empty() ? Value() : values_.lookup(in));
    if (failed(convertNode(n)))
      return failure();
  }

  SmallVector<Value> results;
  for (const auto &out : graph.output()) {
    Value v = values_.lookup(out.name());
    auto type = typeOf(v);
    // The declared type must agree with what the graph computes: catches
    // an importer bug or a model whose declaration is wrong.
    if (out.has_type() && out.type().has_tensor_type()) {
      const auto &tt = out.type().tensor_type();
      Type declared = elementTypeOf(ctx, tt.elem_type());
      if (tt.elem_type() != 0 && declared != type.getElementType())
        return err() << "graph output '" << out.name() << "' is declared "
                     << onnxTypeName(tt.elem_type()) << " but computed as "
                     << type;
      if (tt.has_shape()) {
        bool ok = tt.shape().dim_size() == type.getRank();
        for (int d = 0; ok && d < tt.shape().dim_size(); ++d)
          if (tt.shape().dim(d).has_dim_value() &&
              tt.shape().dim(d).dim_value() != type.getDimSize(d))
            ok = false;
        if (!ok) {
          std::string dims;
          for (const auto &d : tt.shape().dim())
            dims += (dims.empty() ? "" : "x") +
                    (d.has_dim_value() ? std::to_string(d.dim_value())
                                       : std::string("?"));
          return err() << "graph output '" << out.name() << "' is declared "
                       << dims << " but computed as " << type;
        }
      }
    }
    results.push_back(v);
  }
  b.create<func::ReturnOp>(fileLoc_, results);
  // Constants that only fed folded shape arithmetic (or initializers no
  // node reads) are dead; drop them so the graph shows what runs.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*entry)))
    if (isa<ConstantOp>(op) && op.use_empty())
      op.erase();
  func.setFunctionType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));
  return success();
}

LogicalResult Importer::convertNode(Node &n) {
  const auto &proto = *n.proto;
  const Converter *convert = lookupConverter(proto.op_type());
  if (!convert)
    return emitError(fileLoc_) << describe(proto, n.opset)
                               << ": unsupported op type '" << proto.op_type()
                               << "'";
  // Converter and dialect messages (inference, verification) are gathered
  // and reported once, prefixed with the node.
  std::string messages;
  LogicalResult result = failure();
  {
    ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
      if (d.getSeverity() != DiagnosticSeverity::Error)
        return failure();
      if (!messages.empty())
        messages += "; ";
      messages += d.str();
      return success();
    });
    n.results.assign(n.numOutputs(), Value());
    result = (*convert)(*this, n);
    if (succeeded(result)) {
      for (unsigned i = 0; i < n.numOutputs(); ++i) {
        if (!n.wantsOutput(i))
          continue;
        if (!n.results[i]) {
          emitError(n.loc) << "output #" << i << " ('" << proto.output(int(i))
                           << "') is not supported";
          result = failure();
          break;
        }
      }
    }
  }
  if (failed(result) || !messages.empty())
    return emitError(fileLoc_) << describe(proto, n.opset) << ": "
                               << (messages.empty() ? "conversion failed" : messages);
  for (unsigned i = 0; i < n.numOutputs(); ++i)
    if (n.wantsOutput(i))
      values_[proto.output(int(i))] = n.results[i];
  return success();
}

//===----------------------------------------------------------------------===//
// Helpers for the converters
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<Value>> Importer::finish(Operation *op) {
  if (failed(mlir::verify(op))) {
    op->erase();
    return failure();
  }
  // Inference accepts any shape that fits in int64 (a Tile of 4096 copies,
  // a huge Pad); the importer holds every value to the per-tensor limit.
  for (Type t : op->getResultTypes()) {
    auto rt = dyn_cast<RankedTensorType>(t);
    if (!rt || !rt.getElementType().isIntOrFloat())
      continue;
    if (failed(checkedTensorType(op->getLoc(), rt.getShape(),
                                 rt.getElementType(), "the result"))) {
      op->erase();
      return failure();
    }
  }
  bool allConstant = op->getNumOperands() > 0 &&
                     llvm::all_of(op->getOperands(), [&](Value v) {
                       return bool(constantOf(v));
                     });
  SmallVector<Value> results;
  if (allConstant && succeeded(b.tryFold(op, results))) {
    if (results.empty()) {
      results.assign(op->result_begin(), op->result_end());
    } else {
      // Materialized constants may carry a folded type; keep the op's.
      bool same = true;
      for (auto [r, o] : llvm::zip(results, op->getResults()))
        same &= r.getType() == o.getType();
      if (same) {
        op->erase();
        return results;
      }
      results.assign(op->result_begin(), op->result_end());
    }
    return results;
  }
  // Concatenated constants (shape vectors built by exporters) fold here.
  if (allConstant && isa<ConcatOp>(op)) {
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    if (type.getNumElements() <= (1 << 16)) {
      int64_t axis = cast<ConcatOp>(op).getAxis();
      int64_t outer = 1;
      for (int64_t i = 0; i < axis; ++i)
        outer *= type.getDimSize(i);
      SmallVector<SmallVector<Attribute>> parts;
      SmallVector<int64_t> chunk;
      for (Value v : op->getOperands()) {
        parts.push_back(llvm::to_vector(constantOf(v).getValues<Attribute>()));
        auto t = cast<RankedTensorType>(v.getType());
        chunk.push_back(outer ? t.getNumElements() / std::max<int64_t>(outer, 1) : 0);
      }
      SmallVector<Attribute> out;
      for (int64_t o = 0; o < outer; ++o)
        for (auto [p, c] : llvm::zip(parts, chunk))
          out.append(p.begin() + o * c, p.begin() + (o + 1) * c);
      if (int64_t(out.size()) == type.getNumElements()) {
        Value cst = constant(DenseElementsAttr::get(type, out));
        op->erase();
        return SmallVector<Value>{cst};
      }
    }
  }
  // Reshape-like ops on constants have no folder of their own: the data
  // stays, only the type changes (shape arithmetic goes through them).
  if (allConstant && op->getNumResults() == 1 &&
      isa<ReshapeOp, SqueezeOp, ExpandDimsOp>(op)) {
    DenseElementsAttr in = constantOf(op->getOperand(0));
    auto type = cast<ShapedType>(op->getResult(0).getType());
    Value c = constant(in.reshape(type)); // at the end of the block
    op->erase();
    return SmallVector<Value>{c};
  }
  // Slices of constants (PyTorch's attention slices Shape's result into the
  // head-split shape) fold here: kiln.slice has no folder. The result type
  // already holds each dim's length; only the normalized starts are needed.
  if (auto slice = dyn_cast<SliceOp>(op); slice && allConstant) {
    DenseElementsAttr in = constantOf(slice.getInput());
    auto inType = cast<RankedTensorType>(in.getType());
    auto outType = cast<RankedTensorType>(slice.getResult().getType());
    if (in.isSplat()) {
      Value c = constant(DenseElementsAttr::get(outType, in.getSplatValue<Attribute>()));
      op->erase();
      return SmallVector<Value>{c};
    }
    // The input's elements are copied out one by one: bound them too.
    if (outType.getNumElements() <= (1 << 16) &&
        inType.getNumElements() <= kMaxConstInts * 16) {
      int64_t rank = inType.getRank();
      ArrayRef<int64_t> starts = slice.getStarts(), steps = slice.getSteps();
      SmallVector<int64_t> start(rank, 0), step(rank, 1);
      for (int64_t d = 0; d < rank && d < int64_t(starts.size()); ++d) {
        int64_t size = inType.getDimSize(d);
        step[d] = d < int64_t(steps.size()) ? steps[d] : 1;
        int64_t lo = step[d] > 0 ? 0 : -1, hi = step[d] > 0 ? size : size - 1;
        int64_t s = starts[d] < 0 ? starts[d] + size : starts[d];
        start[d] = std::clamp(s, lo, hi);
      }
      auto values = llvm::to_vector(in.getValues<Attribute>());
      SmallVector<Attribute> out;
      out.reserve(outType.getNumElements());
      SmallVector<int64_t> idx(rank, 0);
      for (int64_t k = 0; k < outType.getNumElements(); ++k) {
        int64_t flat = 0;
        for (int64_t d = 0; d < rank; ++d)
          flat = flat * inType.getDimSize(d) + start[d] + idx[d] * step[d];
        out.push_back(values[flat]);
        for (int64_t d = rank - 1; d >= 0; --d) {
          if (++idx[d] < outType.getDimSize(d))
            break;
          idx[d] = 0;
        }
      }
      Value c = constant(DenseElementsAttr::get(outType, out));
      op->erase();
      return SmallVector<Value>{c};
    }
  }
  results.assign(op->result_begin(), op->result_end());
  return results;
}

Value Importer::constant(DenseElementsAttr value) {
  return b.create<ConstantOp>(b.getUnknownLoc(), value).getResult();
}

Value Importer::splat(Type element, double v, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, element);
  Attribute a;
  if (auto ft = dyn_cast<FloatType>(element))
    a = b.getFloatAttr(ft, v);
  else if (element.isInteger(1))
    a = b.getBoolAttr(v != 0);
  else
    a = b.getIntegerAttr(element, int64_t(v));
  return constant(DenseElementsAttr::get(type, a));
}

Value Importer::constI64(ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({int64_t(values.size())}, b.getI64Type());
  return constant(DenseElementsAttr::get(type, values));
}

DenseElementsAttr Importer::constantOf(Value v) {
  if (!v)
    return {};
  DenseElementsAttr attr;
  if (matchPattern(v, m_Constant(&attr)))
    return attr;
  return {};
}

FailureOr<SmallVector<int64_t>> Importer::constInts(const Node &n, Value v,
                                                    llvm::StringRef what) {
  DenseElementsAttr attr = constantOf(v);
  if (!attr)
    return emitError(n.loc) << "input '" << what
                            << "' must be a constant (an initializer or a "
                               "Constant node, or computed from them): Kiln "
                               "compiles static shapes";
  if (attr.getNumElements() > kMaxConstInts)
    return emitError(n.loc) << "input '" << what << "' holds "
                            << attr.getNumElements()
                            << " values; Kiln reads at most " << kMaxConstInts
                            << " from a constant";
  SmallVector<int64_t> out;
  Type et = attr.getElementType();
  if (isa<IntegerType>(et)) {
    for (const APInt &x : attr.getValues<APInt>())
      out.push_back(et.isInteger(1) ? int64_t(x.getZExtValue()) : x.getSExtValue());
  } else {
    for (APFloat x : attr.getValues<APFloat>()) {
      // Widen first (convertToDouble accepts doubles only), and refuse what
      // int64 cannot hold: converting NaN or 1e30 is undefined.
      bool lost;
      x.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
                &lost);
      double d = x.convertToDouble();
      if (!(d >= -0x1p63 && d < 0x1p63))
        return emitError(n.loc) << "input '" << what << "' holds " << d
                                << ", which is not an int64 value";
      out.push_back(int64_t(d));
    }
  }
  return out;
}

FailureOr<SmallVector<double>> Importer::constFloats(const Node &n, Value v,
                                                     llvm::StringRef what) {
  DenseElementsAttr attr = constantOf(v);
  if (!attr)
    return emitError(n.loc) << "input '" << what
                            << "' must be a constant (an initializer or a "
                               "Constant node)";
  if (attr.getNumElements() > kMaxConstInts)
    return emitError(n.loc) << "input '" << what << "' holds "
                            << attr.getNumElements()
                            << " values; Kiln reads at most " << kMaxConstInts
                            << " from a constant";
  SmallVector<double> out;
  Type et = attr.getElementType();
  if (isa<IntegerType>(et)) {
    for (const APInt &x : attr.getValues<APInt>())
      out.push_back(double(x.getSExtValue()));
  } else {
    for (APFloat x : attr.getValues<APFloat>()) {
      bool lost;
      x.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
                &lost);
      out.push_back(x.convertToDouble());
    }
  }
  return out;
}

const ::onnx::AttributeProto *Importer::attr(const Node &n,
                                             llvm::StringRef name) {
  for (const auto &a : n.proto->attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

FailureOr<int64_t> Importer::getInt(const Node &n, llvm::StringRef name,
                                    int64_t dflt) {
  const auto *a = attr(n, name);
  if (!a)
    return dflt;
  if (a->type() != ::onnx::AttributeProto::INT && !a->has_i())
    return emitError(n.loc) << "attribute '" << name << "' must be an int";
  return int64_t(a->i());
}

FailureOr<int64_t> Importer::requireInt(const Node &n, llvm::StringRef name) {
  if (!attr(n, name))
    return emitError(n.loc) << "requires attribute '" << name << "'";
  return getInt(n, name, 0);
}

FailureOr<double> Importer::getFloat(const Node &n, llvm::StringRef name,
                                     double dflt) {
  const auto *a = attr(n, name);
  if (!a)
    return dflt;
  if (a->type() != ::onnx::AttributeProto::FLOAT && !a->has_f())
    return emitError(n.loc) << "attribute '" << name << "' must be a float";
  return double(a->f());
}

FailureOr<std::string> Importer::getString(const Node &n, llvm::StringRef name,
                                           llvm::StringRef dflt) {
  const auto *a = attr(n, name);
  if (!a)
    return dflt.str();
  if (a->type() != ::onnx::AttributeProto::STRING && !a->has_s())
    return emitError(n.loc) << "attribute '" << name << "' must be a string";
  return a->s();
}

FailureOr<SmallVector<int64_t>> Importer::getInts(const Node &n,
                                                  llvm::StringRef name,
                                                  ArrayRef<int64_t> dflt) {
  const auto *a = attr(n, name);
  if (!a)
    return SmallVector<int64_t>(dflt.begin(), dflt.end());
  if (a->type() != ::onnx::AttributeProto::INTS && a->ints_size() == 0)
    return emitError(n.loc) << "attribute '" << name << "' must be ints";
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

FailureOr<SmallVector<double>> Importer::getFloats(const Node &n,
                                                   llvm::StringRef name) {
  const auto *a = attr(n, name);
  if (!a)
    return SmallVector<double>();
  if (a->type() != ::onnx::AttributeProto::FLOATS && a->floats_size() == 0)
    return emitError(n.loc) << "attribute '" << name << "' must be floats";
  return SmallVector<double>(a->floats().begin(), a->floats().end());
}

FailureOr<int64_t> Importer::normAxis(const Node &n, int64_t axis, int64_t rank,
                                      llvm::StringRef what) {
  if (axis < -rank || axis >= rank)
    return emitError(n.loc) << what << " " << axis
                            << " is out of range for rank " << rank;
  return axis < 0 ? axis + rank : axis;
}

FailureOr<Value> Importer::reshape(Location loc, Value v,
                                   ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, typeOf(v).getElementType());
  if (type == v.getType())
    return v;
  return make<ReshapeOp>(loc, v, {}, type);
}

FailureOr<Value> Importer::castTo(Location loc, Value v, Type element) {
  if (typeOf(v).getElementType() == element)
    return v;
  return make<CastOp>(loc, v, {}, typeOf(v).clone(element));
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

FailureOr<OwningOpRef<ModuleOp>> importONNX(llvm::StringRef bytes,
                                            llvm::StringRef modelPath,
                                            MLIRContext *context,
                                            const ImportOptions &options) {
  context->loadDialect<KilnDialect, func::FuncDialect>();
  Location loc = FileLineColLoc::get(
      context, modelPath.empty() ? "<onnx>" : modelPath, 0, 0);
  if (bytes.size() > size_t(INT32_MAX))
    return emitError(loc) << "the model is larger than 2 GiB; store its "
                             "weights as external data";
  ::onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), int(bytes.size())))
    return emitError(loc) << "not a valid ONNX model: the protobuf does not "
                             "parse (truncated, corrupt, or not ONNX)";
  Importer importer(context, modelPath, options);
  return importer.importModel(model);
}

FailureOr<OwningOpRef<ModuleOp>> importONNXFile(llvm::StringRef path,
                                                MLIRContext *context,
                                                const ImportOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return emitError(FileLineColLoc::get(context, path, 0, 0))
           << "cannot read '" << path << "': " << buffer.getError().message();
  return importONNX((*buffer)->getBuffer(), path, context, options);
}

static std::optional<std::string> parseDims(llvm::StringRef text,
                                            std::vector<int64_t> &dims) {
  dims.clear();
  if (text.empty() || text == "scalar")
    return std::nullopt; // rank 0
  llvm::SmallVector<llvm::StringRef> parts;
  text.split(parts, 'x');
  for (llvm::StringRef p : parts) {
    int64_t d;
    if (p.getAsInteger(10, d) || d < 0)
      return "'" + p.str() + "' is not a dim (a non-negative integer)";
    dims.push_back(d);
  }
  return std::nullopt;
}

std::optional<std::string> parseInputShape(llvm::StringRef spec,
                                           ImportOptions &options) {
  auto [name, dims] = spec.rsplit('=');
  if (name.empty() || !spec.contains('='))
    return "--input-shape wants NAME=D0xD1x..., got '" + spec.str() + "'";
  std::vector<int64_t> shape;
  if (auto e = parseDims(dims, shape))
    return "--input-shape " + spec.str() + ": " + *e;
  options.inputShapes[name] = shape;
  return std::nullopt;
}

std::optional<std::string> parseInputDim(llvm::StringRef spec,
                                         ImportOptions &options) {
  auto [name, value] = spec.rsplit('=');
  int64_t v;
  if (name.empty() || !spec.contains('=') || value.getAsInteger(10, v) || v < 0)
    return "--input-dim wants NAME=VALUE (a non-negative integer), got '" +
           spec.str() + "'";
  options.symbolicDims[name] = v;
  return std::nullopt;
}

} // namespace mlir::kiln::onnx
