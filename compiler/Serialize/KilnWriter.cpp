//===- KilnWriter.cpp - Writing a planned kiln module as a .kiln file -----===//
//
// Each function becomes a value table and a dispatch list. Values live in
// the caller's inputs, the constant payload (literals and parameters), the
// arena (at the offsets kiln-plan-memory chose) or, for the insides of
// fused kernels and values the plan left out, the executor's temporaries.
// A kiln.fusion is written as its body ops tagged with one kernel number,
// or, when compiler/Target/CPU generated code for it, as one `cpu_kernel`
// op calling that code (shipped in the file as a shared object).
//
//===----------------------------------------------------------------------===//
#include "kiln/Compiler/Serialize/KilnWriter.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Support/Checksum.h"
#include "kiln/format/kiln_generated.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace fb = kiln::format;
using namespace mlir;
using namespace mlir::kiln;

namespace {

FailureOr<fb::ElementType> elementTypeOf(Location loc, Type t) {
  if (t.isF64()) return fb::ElementType::F64;
  if (t.isF32()) return fb::ElementType::F32;
  if (t.isF16()) return fb::ElementType::F16;
  if (t.isBF16()) return fb::ElementType::BF16;
  if (t.isInteger(64)) return fb::ElementType::I64;
  if (t.isInteger(32)) return fb::ElementType::I32;
  if (t.isInteger(8)) return fb::ElementType::I8;
  if (t.isInteger(1)) return fb::ElementType::I1;
  return emitError(loc) << "cannot store element type " << t << " in a .kiln file";
}

/// Row-major bytes of a dense constant in Kiln's storage layout (i1 as one
/// byte per element; splats expanded).
FailureOr<std::vector<uint8_t>> constantBytes(Location loc, ElementsAttr attr) {
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return emitError(loc) << "only dense constants can be serialized";
  Type et = dense.getElementType();
  int64_t n = dense.getNumElements();
  std::vector<uint8_t> out;
  // Non-splat dense data is already row-major, little-endian, one element
  // per byte-rounded slot (except i1, which MLIR packs in bits): copy it
  // whole. A weight of 85M floats took seconds element by element.
  if (!dense.isSplat() && !et.isInteger(1) && et.isIntOrFloat() &&
      et.getIntOrFloatBitWidth() % 8 == 0) {
    ArrayRef<char> raw = dense.getRawData();
    if (raw.size() == size_t(n) * (et.getIntOrFloatBitWidth() / 8)) {
      out.assign(raw.begin(), raw.end());
      return out;
    }
  }
  auto append = [&](uint64_t bits, unsigned bytes) {
    for (unsigned b = 0; b < bytes; ++b)
      out.push_back(uint8_t(bits >> (8 * b))); // little-endian host
  };
  if (isa<FloatType>(et)) {
    unsigned bytes = et.getIntOrFloatBitWidth() / 8;
    out.reserve(n * bytes);
    if (dense.isSplat()) {
      uint64_t bits = dense.getSplatValue<APFloat>().bitcastToAPInt().getZExtValue();
      for (int64_t i = 0; i < n; ++i)
        append(bits, bytes);
    } else {
      for (const APFloat &v : dense.getValues<APFloat>())
        append(v.bitcastToAPInt().getZExtValue(), bytes);
    }
    return out;
  }
  if (auto it = dyn_cast<IntegerType>(et)) {
    unsigned bytes = it.getWidth() == 1 ? 1 : it.getWidth() / 8;
    out.reserve(n * bytes);
    if (dense.isSplat()) {
      uint64_t bits = dense.getSplatValue<APInt>().getZExtValue();
      for (int64_t i = 0; i < n; ++i)
        append(bits, bytes);
    } else {
      for (const APInt &v : dense.getValues<APInt>())
        append(v.getZExtValue(), bytes);
    }
    return out;
  }
  return emitError(loc) << "cannot serialize constants of type " << et;
}

// Writes format kKilnFormatMajor.kKilnFormatMinor (2.0): native code
// (1.1) and the payload after the FlatBuffer (2.0).
static_assert(::kiln::kKilnFormatMajor == 2);

class Writer {
public:
  /// `payloadHint`: the bytes the constants will take, so that the payload
  /// never grows (and copies) on the way: each doubling of a 300 MB buffer
  /// cost a copy and fresh zeroed pages. The FlatBuffer holds only the
  /// graph and the generated code.
  Writer(const ParameterSource &parameters, llvm::ArrayRef<NativeCode> native,
         size_t payloadHint)
      : parameters_(parameters), builder_(size_t(1) << 20) {
    for (const NativeCode &code : native)
      if (!code.sharedObject.empty())
        native_.push_back(&code);
    payload_.reserve(payloadHint);
  }

  LogicalResult writeModule(ModuleOp module, FileSink sink) {
    std::vector<flatbuffers::Offset<fb::Function>> functions;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      auto f = writeFunction(func);
      if (failed(f))
        return failure();
      functions.push_back(*f);
    }
    if (functions.empty())
      return module.emitError("nothing to compile: the module has no function "
                              "with a body");
    // Format 2: the payload follows the FlatBuffer at the next 64-byte
    // offset of the file (constants sit at 64-byte offsets within it), so
    // loaders view weights in place, and it may exceed the 2 GiB that a
    // FlatBuffer can address.
    uint64_t checksum = ::kiln::payloadChecksum(
        ::kiln::kKilnFormatMajor, payload_.data(), payload_.size());
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::NativeCode>>>
        native;
    if (!native_.empty()) {
      std::vector<flatbuffers::Offset<fb::NativeCode>> codes;
      for (const NativeCode *code : native_)
        codes.push_back(writeNativeCode(*code));
      native = builder_.CreateVector(codes);
    }
    auto root = fb::CreateModule(
        builder_, ::kiln::kKilnFormatMajor,
        ::kiln::kKilnFormatMinor,
        builder_.CreateString("kiln-compile 0.1"),
        builder_.CreateVector(functions), builder_.CreateVector(constants_),
        /*payload=*/0, checksum, native, payload_.size());
    builder_.FinishSizePrefixed(root, fb::ModuleIdentifier());
    llvm::ArrayRef<uint8_t> head(builder_.GetBufferPointer(), builder_.GetSize());
    static const uint8_t zeros[64] = {};
    size_t pad = (64 - head.size() % 64) % 64;
    llvm::ArrayRef<uint8_t> pieces[] = {head, llvm::ArrayRef<uint8_t>(zeros, pad),
                                        llvm::ArrayRef<uint8_t>(payload_.data(), payload_.size())};
    return sink(pieces);
  }

private:
  /// Aligns the data of the next vector (of `bytes` bytes) to `alignment`,
  /// counted from the end of the buffer, which FlatBuffers pads to a
  /// multiple of the largest alignment used, so it holds from the start too.
  /// ForceVectorAlignment would do this, but FlatBuffers 2.0.8 asserts there
  /// that alignment <= FLATBUFFERS_MAX_ALIGNMENT (32), though the schema's
  /// force_align: 64 and PreAlign handle 64 fine.
  void alignNextVector(size_t bytes, size_t alignment) {
    builder_.PreAlign(bytes, alignment);
  }

  flatbuffers::Offset<fb::NativeCode> writeNativeCode(const NativeCode &code) {
    alignNextVector(code.sharedObject.size(), 64);
    auto so = builder_.CreateVector(code.sharedObject);
    return fb::CreateNativeCode(
        builder_, builder_.CreateString(code.triple),
        builder_.CreateString(code.cpu),
        builder_.CreateVectorOfStrings(code.features),
        builder_.CreateVectorOfStrings(code.symbols), so,
        ::kiln::fnv1a64(code.sharedObject.data(), code.sharedObject.size()));
  }

  /// A fusion with generated code: one op calling kernel `symbol` on the
  /// fusion's inputs and results.
  LogicalResult writeNativeKernel(FusionOp fusion, StringRef symbol,
                                  uint32_t kernel) {
    SmallVector<uint32_t> operands;
    for (Value v : fusion.getInputs()) {
      auto it = ids_.find(v);
      if (it == ids_.end())
        return fusion.emitError("operand is not defined in this function");
      operands.push_back(it->second);
    }
    auto results = placeResults(fusion);
    if (failed(results))
      return failure();
    auto intAttr = [&](StringRef name, StringRef from) {
      auto value = fusion->getAttrOfType<IntegerAttr>(from);
      auto n = builder_.CreateString(name.str());
      return fb::CreateAttr(builder_, n, fb::AttrKind::Int,
                            value ? value.getInt() : 1);
    };
    auto symbolName = builder_.CreateString("symbol");
    auto symbolValue = builder_.CreateString(symbol.str());
    fb::AttrBuilder sb(builder_);
    sb.add_name(symbolName);
    sb.add_kind(fb::AttrKind::String);
    sb.add_string_value(symbolValue);
    std::vector<flatbuffers::Offset<fb::Attr>> attrs = {
        sb.Finish(), intAttr("outer", "kiln.cpu_outer"),
        intAttr("grain", "kiln.cpu_grain")};
    ops_.push_back(fb::CreateOp(
        builder_, builder_.CreateString("cpu_kernel"),
        builder_.CreateVector(operands.data(), operands.size()),
        builder_.CreateVector(results->data(), results->size()),
        builder_.CreateVector(attrs), kernel));
    return success();
  }

  FailureOr<flatbuffers::Offset<fb::TensorType>> tensorType(Location loc, Type t) {
    auto rt = dyn_cast<RankedTensorType>(t);
    if (!rt || !rt.hasStaticShape())
      return emitError(loc) << "expected a statically shaped tensor, got " << t;
    auto et = elementTypeOf(loc, rt.getElementType());
    if (failed(et))
      return failure();
    return fb::CreateTensorType(builder_, *et,
                                builder_.CreateVector(rt.getShape().vec()));
  }

  /// Adds a value of `type` stored in `storage` at `index`; returns its id.
  FailureOr<uint32_t> addValue(Location loc, Type type, fb::Storage storage,
                               int64_t index) {
    auto t = tensorType(loc, type);
    if (failed(t))
      return failure();
    values_.push_back(fb::CreateValue(builder_, *t, storage, index));
    return uint32_t(values_.size() - 1);
  }

  /// Adds a constant of `size` bytes at the next 64-byte offset of the
  /// payload; `fill` writes its bytes in place (no staging copy: the
  /// weights of a large model are hundreds of MB).
  FailureOr<int64_t>
  addConstant(Location loc, StringRef name, Type type, size_t size,
              llvm::function_ref<LogicalResult(llvm::MutableArrayRef<uint8_t>)> fill) {
    auto t = tensorType(loc, type);
    if (failed(t))
      return failure();
    size_t start = payload_.size();
    size_t offset = (start + 63) / 64 * 64;
    payload_.resize(offset + size); // Not zeroed: `fill` writes every byte.
    std::memset(payload_.data() + start, 0, offset - start); // The padding.
    if (failed(fill(llvm::MutableArrayRef<uint8_t>(payload_.data() + offset, size))))
      return failure();
    constants_.push_back(fb::CreateConstant(builder_, builder_.CreateString(name.str()),
                                            *t, offset, size));
    return int64_t(constants_.size() - 1);
  }

  /// Encodes one attribute. Strings and vectors are created before the
  /// table is started: a FlatBuffers builder cannot nest them in an open
  /// table (it asserts in debug builds and writes garbage in release ones).
  FailureOr<flatbuffers::Offset<fb::Attr>> attr(Operation *op, NamedAttribute a) {
    auto name = builder_.CreateString(a.getName().strref().str());
    Attribute v = a.getValue();
    auto scalar = [&](fb::AttrKind kind, int64_t i, double f) {
      fb::AttrBuilder b(builder_);
      b.add_name(name);
      b.add_kind(kind);
      if (kind == fb::AttrKind::Float)
        b.add_float_value(f);
      else
        b.add_int_value(i);
      return b.Finish();
    };
    if (auto i = dyn_cast<IntegerAttr>(v))
      return scalar(i.getType().isInteger(1) ? fb::AttrKind::Bool
                                             : fb::AttrKind::Int,
                    i.getValue().getSExtValue(), 0);
    if (auto boolean = dyn_cast<BoolAttr>(v))
      return scalar(fb::AttrKind::Bool, boolean.getValue(), 0);
    if (auto f = dyn_cast<FloatAttr>(v))
      return scalar(fb::AttrKind::Float, 0, f.getValueAsDouble());
    if (auto s = dyn_cast<StringAttr>(v)) {
      auto str = builder_.CreateString(s.strref().str());
      fb::AttrBuilder sb(builder_);
      sb.add_name(name);
      sb.add_kind(fb::AttrKind::String);
      sb.add_string_value(str);
      return sb.Finish();
    }
    if (auto ints = dyn_cast<DenseI64ArrayAttr>(v)) {
      auto vec = builder_.CreateVector(ints.asArrayRef().vec());
      fb::AttrBuilder ib(builder_);
      ib.add_name(name);
      ib.add_kind(fb::AttrKind::Ints);
      ib.add_ints(vec);
      return ib.Finish();
    }
    return op->emitError("cannot serialize attribute '")
           << a.getName().strref() << "' = " << v;
  }

  /// Writes one op of the dispatch list.
  LogicalResult addOp(Operation *op, ArrayRef<uint32_t> results,
                      uint32_t kernel) {
    SmallVector<uint32_t> operands;
    for (Value v : op->getOperands()) {
      auto it = ids_.find(v);
      if (it == ids_.end())
        return op->emitError("operand is not defined in this function");
      operands.push_back(it->second);
    }
    std::vector<flatbuffers::Offset<fb::Attr>> attrs;
    for (NamedAttribute a : op->getAttrs()) {
      if (a.getName().strref().starts_with("kiln."))
        continue; // compiler annotations (offsets), not op semantics
      auto encoded = attr(op, a);
      if (failed(encoded))
        return failure();
      attrs.push_back(*encoded);
    }
    auto name = builder_.CreateString(op->getName().stripDialect().str());
    ops_.push_back(fb::CreateOp(builder_, name,
                                builder_.CreateVector(operands.data(),
                                                      operands.size()),
                                builder_.CreateVector(results.vec()),
                                builder_.CreateVector(attrs), kernel));
    return success();
  }

  /// Results of a top-level op: in the arena where the plan put them.
  FailureOr<SmallVector<uint32_t>> placeResults(Operation *op) {
    auto offsets = op->getAttrOfType<DenseI64ArrayAttr>("kiln.offsets");
    SmallVector<uint32_t> ids;
    for (auto [i, r] : llvm::enumerate(op->getResults())) {
      int64_t offset = offsets && int64_t(i) < offsets.size() ? offsets[i] : -1;
      auto id = offset >= 0 ? addValue(op->getLoc(), r.getType(),
                                       fb::Storage::Arena, offset)
                            : addValue(op->getLoc(), r.getType(),
                                       fb::Storage::Temporary, 0);
      if (failed(id))
        return failure();
      ids_[r] = *id;
      ids.push_back(*id);
    }
    return ids;
  }

  LogicalResult writeSource(Operation *op) {
    std::vector<uint8_t> bytes;
    std::string name;
    if (auto c = dyn_cast<ConstantOp>(op)) {
      auto b = constantBytes(op->getLoc(), c.getValue());
      if (failed(b))
        return failure();
      bytes = std::move(*b);
    } else {
      auto p = cast<ParameterOp>(op);
      name = p.getName().str();
      auto it = parameterConstants_.find(name);
      if (it == parameterConstants_.end()) {
        int64_t size = p.getType().getNumElements() *
                       (p.getType().getElementTypeBitWidth() == 1
                            ? 1
                            : p.getType().getElementTypeBitWidth() / 8);
        auto index = addConstant(
            op->getLoc(), name, p.getType(), size_t(size),
            [&](llvm::MutableArrayRef<uint8_t> out) {
              return parameters_(name, p.getType(), out);
            });
        if (failed(index))
          return failure();
        it = parameterConstants_.insert({name, *index}).first;
      }
      auto id = addValue(op->getLoc(), p.getType(), fb::Storage::Constant,
                         it->second);
      if (failed(id))
        return failure();
      ids_[p.getResult()] = *id;
      return success();
    }
    auto index = addConstant(op->getLoc(), name, op->getResult(0).getType(),
                             bytes.size(), [&](llvm::MutableArrayRef<uint8_t> out) {
                               if (!bytes.empty())
                                 std::memcpy(out.data(), bytes.data(), bytes.size());
                               return success();
                             });
    if (failed(index))
      return failure();
    auto id = addValue(op->getLoc(), op->getResult(0).getType(),
                       fb::Storage::Constant, *index);
    if (failed(id))
      return failure();
    ids_[op->getResult(0)] = *id;
    return success();
  }

  LogicalResult writeFusion(FusionOp fusion, uint32_t kernel) {
    auto resultIds = placeResults(fusion);
    if (failed(resultIds))
      return failure();
    Block &body = fusion.getBodyBlock();
    for (auto [arg, input] : llvm::zip(body.getArguments(), fusion.getInputs()))
      ids_[arg] = ids_.lookup(input);
    auto yield = cast<YieldOp>(body.getTerminator());
    // The op computing a yielded value writes straight into the result.
    DenseMap<Value, uint32_t> yielded;
    for (auto [v, id] : llvm::zip(yield.getValues(), *resultIds))
      yielded[v] = id;
    for (Operation &op : body.without_terminator()) {
      if (isa<ConstantOp>(op)) {
        if (failed(writeSource(&op)))
          return failure();
        continue;
      }
      SmallVector<uint32_t> results;
      for (Value r : op.getResults()) {
        if (auto it = yielded.find(r); it != yielded.end()) {
          ids_[r] = it->second;
          results.push_back(it->second);
          continue;
        }
        auto id = addValue(op.getLoc(), r.getType(), fb::Storage::Temporary, 0);
        if (failed(id))
          return failure();
        ids_[r] = *id;
        results.push_back(*id);
      }
      if (failed(addOp(&op, results, kernel)))
        return failure();
    }
    // A yielded block argument (or constant) still has to reach the result.
    for (auto [v, id] : llvm::zip(yield.getValues(), *resultIds))
      if (!v.getDefiningOp() || isa<ConstantOp>(v.getDefiningOp()))
        return fusion.emitError("a fused kernel must compute its results");
    return success();
  }

  FailureOr<flatbuffers::Offset<fb::Function>> writeFunction(func::FuncOp func) {
    values_.clear();
    ops_.clear();
    ids_.clear();
    auto arena = func->getAttrOfType<IntegerAttr>("kiln.arena_size");
    auto bound = func->getAttrOfType<IntegerAttr>("kiln.arena_lower_bound");
    if (!arena)
      return func.emitError("function has no memory plan: run "
                            "--kiln-pipeline (or --kiln-plan-memory) first");
    std::vector<uint32_t> inputs;
    std::vector<flatbuffers::Offset<flatbuffers::String>> inputNames;
    for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
      auto id = addValue(arg.getLoc(), arg.getType(), fb::Storage::Input, i);
      if (failed(id))
        return failure();
      ids_[arg] = *id;
      inputs.push_back(*id);
      auto name = func.getArgAttrOfType<StringAttr>(i, "kiln.name");
      inputNames.push_back(builder_.CreateString(
          name ? name.str() : "arg" + std::to_string(i)));
    }
    std::vector<uint32_t> outputs;
    uint32_t kernels = 0;
    for (Operation &op : func.getBody().front()) {
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        for (Value v : ret.getOperands())
          outputs.push_back(ids_.lookup(v));
        continue;
      }
      if (!isa<KilnDialect>(op.getDialect()))
        return op.emitError("only kiln ops can be compiled");
      if (isa<ConstantOp, ParameterOp>(op)) {
        if (failed(writeSource(&op)))
          return failure();
        continue;
      }
      if (auto fusion = dyn_cast<FusionOp>(op)) {
        auto symbol = fusion->getAttrOfType<StringAttr>("kiln.cpu_symbol");
        if (!native_.empty() && symbol) {
          if (failed(writeNativeKernel(fusion, symbol.getValue(), ++kernels)))
            return failure();
          continue;
        }
        if (failed(writeFusion(fusion, ++kernels)))
          return failure();
        continue;
      }
      auto results = placeResults(&op);
      if (failed(results) || failed(addOp(&op, *results, 0)))
        return failure();
      ++kernels;
    }
    return fb::CreateFunction(
        builder_, builder_.CreateString(func.getSymName().str()),
        builder_.CreateVector(inputs), builder_.CreateVector(inputNames),
        builder_.CreateVector(outputs), builder_.CreateVector(values_),
        builder_.CreateVector(ops_), uint64_t(arena.getInt()),
        bound ? uint64_t(bound.getInt()) : 0, kernels);
  }

  const ParameterSource &parameters_;
  std::vector<const NativeCode *> native_; // targets with code, best first
  flatbuffers::FlatBufferBuilder builder_;
  /// Grows without zeroing: zeroing hundreds of MB of weights that are
  /// written next was a whole extra pass over them.
  template <typename T> struct NoInit : std::allocator<T> {
    template <typename U> struct rebind { using other = NoInit<U>; };
    template <typename U> void construct(U *p) { ::new (static_cast<void *>(p)) U; }
    using std::allocator<T>::allocator;
  };
  std::vector<uint8_t, NoInit<uint8_t>> payload_;
  std::vector<flatbuffers::Offset<fb::Constant>> constants_;
  std::map<std::string, int64_t> parameterConstants_; // shared weights: once
  std::vector<flatbuffers::Offset<fb::Value>> values_;
  std::vector<flatbuffers::Offset<fb::Op>> ops_;
  DenseMap<Value, uint32_t> ids_;
};

} // namespace

LogicalResult mlir::kiln::writeKilnFile(ModuleOp module,
                                        const ParameterSource &parameters,
                                        std::vector<uint8_t> &out,
                                        llvm::ArrayRef<NativeCode> native) {
  return writeKilnFile(
      module, parameters,
      [&](llvm::ArrayRef<llvm::ArrayRef<uint8_t>> pieces) {
        out.clear();
        for (llvm::ArrayRef<uint8_t> piece : pieces)
          out.insert(out.end(), piece.begin(), piece.end());
        return success();
      },
      native);
}

LogicalResult mlir::kiln::writeKilnFile(ModuleOp module,
                                        const ParameterSource &parameters,
                                        FileSink sink,
                                        llvm::ArrayRef<NativeCode> native) {
  size_t payloadHint = 0;
  module.walk([&](Operation *op) {
    if (!isa<ConstantOp, ParameterOp>(op) || op->getNumResults() != 1)
      return;
    auto t = dyn_cast<ShapedType>(op->getResult(0).getType());
    if (!t || !t.hasStaticShape() || !t.getElementType().isIntOrFloat())
      return;
    size_t bits = t.getElementType().getIntOrFloatBitWidth();
    payloadHint += size_t(t.getNumElements()) * std::max<size_t>(1, bits / 8) + 64;
  });
  Writer writer(parameters, native, payloadHint);
  return writer.writeModule(module, sink);
}
