//===- Verify.cpp - Checking a .kiln file before anything runs ------------===//
//
// Order: structure (size prefix, identifier, FlatBuffers Verifier), version,
// payload checksum, constants, then each function's values and ops. Every
// failure names the file and the element at fault.
//
//===----------------------------------------------------------------------===//
#include "ModuleData.h"

#include "kiln/Support/Checksum.h"
#include "kiln/Support/Shapes.h"

#include <cstring>
#include <limits>

namespace kiln {
namespace {

constexpr size_t kMaxRankOnDisk = 16;

/// `cpu_kernel` ops run generated code (NativeCode.h), never this handler;
/// it answers the reference run, which has no f64 version of them.
const OpHandler kNativeKernelHandler{
    0, -1, 1, -1,
    [](const OpAttrs &a, std::span<const Tensor>, std::span<const TensorSpec>)
        -> Expected<std::vector<Tensor>> {
      return failedPrecondition(
          "generated kernel '", a.getString("symbol", "?"),
          "' has no reference version; compile with --no-fusion or "
          "--cpu=none to run the reference");
    }};

/// Binds a `cpu_kernel` op to its symbol in the module's native code.
Status bindNativeKernel(const ModuleData &module,
                        const std::vector<ValueData> &values, OpData &data,
                        const std::string &where) {
  OpAttrs attrs(data.op);
  std::string_view symbol = attrs.getString("symbol", "");
  if (!module.native)
    return dataLoss(where, ": calls native kernel '", symbol,
                    "' but the file has no native code");
  data.native = module.native->find(symbol);
  if (!data.native)
    return dataLoss(where, ": calls native kernel '", symbol,
                    "', which the native code does not list");
  data.outer = attrs.getInt("outer", -1);
  data.grain = attrs.getInt("grain", 1);
  if (data.outer < 0 || data.grain < 1)
    return dataLoss(where, ": bad outer range ", data.outer, " or grain ",
                    data.grain);
  // The code's own record of what it reads and writes must match the op.
  std::vector<int64_t> sig = module.native->signature(symbol);
  size_t buffers = data.operands.size() + data.results.size();
  if (sig.size() != buffers + 2 || sig[1] != data.outer)
    return dataLoss(where, ": native kernel '", symbol, "' was compiled for ",
                    sig.empty() ? 0 : sig[0], " buffers and outer range ",
                    sig.size() > 1 ? sig[1] : 0, "; the op has ", buffers,
                    " and ", data.outer);
  std::vector<uint32_t> ids = data.operands;
  ids.insert(ids.end(), data.results.begin(), data.results.end());
  for (size_t i = 0; i < ids.size(); ++i)
    if (int64_t(values[ids[i]].bytes) != sig[2 + i])
      return dataLoss(where, ": buffer #", i, " of native kernel '", symbol,
                      "' is ", values[ids[i]].bytes, " bytes; the code was "
                      "compiled for ", sig[2 + i], " bytes");
  return Status::ok();
}

/// Element type, shape and byte size of a serialized tensor type.
Expected<std::pair<TensorSpec, size_t>> readType(const format::TensorType *t,
                                                 const std::string &where) {
  if (!t)
    return dataLoss(where, ": missing tensor type");
  auto et = static_cast<int>(t->element_type());
  if (et < 0 || et > static_cast<int>(format::ElementType::MAX))
    return dataLoss(where, ": unknown element type ", et);
  TensorSpec spec{"", static_cast<DType>(et), {}};
  if (t->shape()) {
    if (t->shape()->size() > kMaxRankOnDisk)
      return dataLoss(where, ": rank ", t->shape()->size(), " exceeds ",
                      kMaxRankOnDisk);
    for (int64_t d : *t->shape()) {
      if (d < 0)
        return dataLoss(where, ": negative dimension ", d);
      spec.shape.push_back(d);
    }
  }
  auto n = shapes::numElements(spec.shape);
  size_t elem = sizeOf(spec.dtype);
  if (!n || *n > int64_t(std::numeric_limits<int64_t>::max() / elem))
    return dataLoss(where, ": shape ", shapes::toString(spec.shape),
                    " overflows");
  return std::make_pair(spec, size_t(*n) * elem);
}

/// Re-infers the op's result shapes (ShapeRules.cpp) and compares them with
/// the declared ones, so that no kernel computes a result the file did not
/// declare (and the memory limit did not count).
Status checkResultShapes(const OpData &op, const std::vector<ValueData> &values,
                         const std::string &where) {
  const ShapeRule *rule = findShapeRule(op.op->name()->string_view());
  if (!rule)
    return internalError(where, ": the runtime has a kernel but no shape rule "
                                "for this op");
  std::vector<TensorSpec> operands, results;
  for (uint32_t id : op.operands)
    operands.push_back(values[id].spec);
  for (uint32_t id : op.results)
    results.push_back(values[id].spec);
  Expected<std::vector<Shape>> inferred =
      (*rule)(OpAttrs(op.op), operands, results);
  if (!inferred)
    return dataLoss(where, ": ", inferred.status().message());
  if (inferred->size() != results.size())
    return dataLoss(where, ": declares ", results.size(),
                    " results; its operands and attributes give ",
                    inferred->size());
  for (size_t r = 0; r < results.size(); ++r)
    if ((*inferred)[r] != results[r].shape)
      return dataLoss(where, ": result #", r, " is declared ",
                      shapes::toString(results[r].shape),
                      " but its operands and attributes give ",
                      shapes::toString((*inferred)[r]));
  std::optional<DType> dtype =
      inferResultDType(op.op->name()->string_view(), operands);
  for (size_t r = 0; r < results.size(); ++r)
    if (dtype && results[r].dtype != *dtype)
      return dataLoss(where, ": result #", r, " is declared ",
                      dtypeName(results[r].dtype), " but the op gives ",
                      dtypeName(*dtype));
  return Status::ok();
}

/// a + b, or SIZE_MAX when it overflows (a memory bound that saturates).
size_t addSaturating(size_t a, size_t b) {
  return a > std::numeric_limits<size_t>::max() - b
             ? std::numeric_limits<size_t>::max()
             : a + b;
}

/// The most memory one run of `fn` holds at once, not counting the
/// caller's inputs or the kernels' scratch: the arena, every temporary (the
/// executor keeps them to the end of the run), the largest result a kernel
/// returns before it is copied into the arena, and the output copies. The
/// reference run holds every value (inputs and constants too) widened.
void computeMemoryBounds(FunctionData &fn) {
  auto widened = [](const ValueData &v) {
    size_t elements = v.bytes / sizeOf(v.spec.dtype);
    if (!isFloat(v.spec.dtype))
      return v.bytes;
    return elements <= SIZE_MAX / 8 ? elements * 8 : SIZE_MAX;
  };
  size_t temporaries = 0, largestArenaResult = 0, outputs = 0;
  size_t reference = 0;
  for (const ValueData &v : fn.values) {
    if (v.storage == format::Storage::Temporary)
      temporaries = addSaturating(temporaries, v.bytes);
    else if (v.storage == format::Storage::Arena)
      largestArenaResult = std::max(largestArenaResult, v.bytes);
    reference = addSaturating(reference, widened(v));
  }
  for (uint32_t id : fn.outputIds) {
    outputs = addSaturating(outputs, fn.values[id].bytes);
    reference = addSaturating(reference, widened(fn.values[id]));
  }
  fn.runBytes = addSaturating(addSaturating(fn.arenaSize, temporaries),
                              addSaturating(largestArenaResult, outputs));
  fn.referenceRunBytes = reference;
}

/// FlatBuffers 2.0.8's Verifier checks the alignment of table fields and of
/// a vector's length, but not of 8-byte vector elements: a mutated offset
/// gives an int64 vector at 4 mod 8, and reading it is undefined behaviour
/// (a libFuzzer find, UBSan). Our buffer starts 64-byte aligned, so
/// alignment in memory is alignment in the buffer. Empty vectors are
/// exempt: FlatBuffers writes them unaligned (its PreAlign skips length 0),
/// so a scalar's shape [] or an empty `axes` can sit at 4 mod 8 in files
/// our own writer makes (why the first version of this check was reverted),
/// and nothing reads their elements.
template <typename T>
bool isAligned(const flatbuffers::Vector<T> *v) {
  return !v || v->size() == 0 ||
         reinterpret_cast<uintptr_t>(v->Data()) % alignof(T) == 0;
}

Status checkVectorAlignment(const format::Module *fb, const std::string &name) {
  if (fb->constants())
    for (size_t c = 0; c < fb->constants()->size(); ++c) {
      const format::TensorType *t = fb->constants()->Get(c)->type();
      if (t && !isAligned(t->shape()))
        return dataLoss(name, ": constant #", c, ": misaligned shape vector");
    }
  if (!fb->functions())
    return Status::ok();
  for (size_t f = 0; f < fb->functions()->size(); ++f) {
    const format::Function *fn = fb->functions()->Get(f);
    if (fn->values())
      for (size_t v = 0; v < fn->values()->size(); ++v) {
        const format::TensorType *t = fn->values()->Get(v)->type();
        if (t && !isAligned(t->shape()))
          return dataLoss(name, ": function #", f, ", value #", v,
                          ": misaligned shape vector");
      }
    if (fn->ops())
      for (size_t o = 0; o < fn->ops()->size(); ++o) {
        const format::Op *op = fn->ops()->Get(o);
        if (op->attrs())
          for (const format::Attr *a : *op->attrs())
            if (!isAligned(a->ints()))
              return dataLoss(name, ": function #", f, ", op #", o,
                              ": misaligned attribute vector");
      }
  }
  return Status::ok();
}

bool fitsIn(uint64_t offset, uint64_t size, uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

Status verifyFunction(const format::Function *fn, size_t index,
                      const ModuleData &module, FunctionData &out) {
  std::string where = strCat(module.name, ": function #", index);
  if (!fn->name() || fn->name()->size() == 0)
    return dataLoss(where, " has no name");
  out.name = fn->name()->str();
  where = strCat(module.name, ": function '", out.name, "'");
  out.arenaSize = fn->arena_size();
  if (!fn->values() || !fn->ops() || !fn->inputs() || !fn->outputs())
    return dataLoss(where, " lacks values, ops, inputs or outputs");

  size_t numValues = fn->values()->size();
  size_t numInputs = fn->inputs()->size();
  for (size_t v = 0; v < numValues; ++v) {
    const format::Value *value = fn->values()->Get(v);
    std::string vwhere = strCat(where, ", value #", v);
    KILN_ASSIGN_OR_RETURN(auto typed, readType(value->type(), vwhere));
    ValueData data{typed.first, value->storage(), value->index(), typed.second};
    switch (value->storage()) {
    case format::Storage::Input:
      if (value->index() < 0 || size_t(value->index()) >= numInputs)
        return dataLoss(vwhere, ": input index ", value->index(),
                        " out of range (", numInputs, " inputs)");
      break;
    case format::Storage::Constant: {
      if (value->index() < 0 ||
          size_t(value->index()) >= module.constants.size())
        return dataLoss(vwhere, ": constant index ", value->index(),
                        " out of range");
      const Tensor &c = module.constants[value->index()];
      if (c.dtype() != data.spec.dtype || c.shape() != data.spec.shape)
        return dataLoss(vwhere, ": type differs from constant #",
                        value->index());
      break;
    }
    case format::Storage::Arena:
      if (value->index() < 0 ||
          !fitsIn(uint64_t(value->index()), data.bytes, out.arenaSize))
        return dataLoss(vwhere, ": arena slice [", value->index(), ", +",
                        data.bytes, ") outside the arena of ", out.arenaSize,
                        " bytes");
      break;
    case format::Storage::Temporary:
      break;
    default:
      return dataLoss(vwhere, ": unknown storage ",
                      static_cast<int>(value->storage()));
    }
    out.values.push_back(std::move(data));
  }

  std::vector<bool> defined(numValues, false);
  for (size_t i = 0; i < numInputs; ++i) {
    uint32_t id = fn->inputs()->Get(i);
    if (id >= numValues || out.values[id].storage != format::Storage::Input ||
        out.values[id].index != int64_t(i))
      return dataLoss(where, ": input #", i, " is not an input value");
    TensorSpec spec = out.values[id].spec;
    if (fn->input_names() && i < fn->input_names()->size())
      spec.name = fn->input_names()->Get(i)->str();
    out.inputs.push_back(spec);
    out.inputIds.push_back(id);
    defined[id] = true;
  }
  for (size_t v = 0; v < numValues; ++v)
    if (out.values[v].storage == format::Storage::Constant)
      defined[v] = true;

  for (size_t o = 0; o < fn->ops()->size(); ++o) {
    const format::Op *op = fn->ops()->Get(o);
    std::string owhere = strCat(where, ", op #", o);
    if (!op->name())
      return dataLoss(owhere, " has no name");
    owhere += strCat(" (", op->name()->string_view(), ")");
    bool native = op->name()->string_view() == "cpu_kernel";
    const OpHandler *handler = native ? &kNativeKernelHandler
                                      : findOpHandler(op->name()->string_view());
    if (!handler)
      return invalidArgument(owhere, ": no kernel for this op in this runtime");
    OpData data{op, handler, {}, {}, op->kernel()};
    if (op->operands())
      data.operands.assign(op->operands()->begin(), op->operands()->end());
    if (op->results())
      data.results.assign(op->results()->begin(), op->results()->end());
    auto arity = [](size_t n, int lo, int hi) {
      return int64_t(n) >= lo && (hi < 0 || int64_t(n) <= hi);
    };
    if (!arity(data.operands.size(), handler->minOperands, handler->maxOperands) ||
        !arity(data.results.size(), handler->minResults, handler->maxResults))
      return dataLoss(owhere, ": wrong number of operands (",
                      data.operands.size(), ") or results (",
                      data.results.size(), ")");
    for (uint32_t id : data.operands)
      if (id >= numValues || !defined[id])
        return dataLoss(owhere, ": operand value #", id,
                        " is out of range or read before it is written");
    for (uint32_t id : data.results) {
      if (id >= numValues)
        return dataLoss(owhere, ": result value #", id, " out of range");
      auto storage = out.values[id].storage;
      if (storage == format::Storage::Input ||
          storage == format::Storage::Constant)
        return dataLoss(owhere, ": writes into an input or a constant");
      defined[id] = true;
    }
    if (native)
      KILN_RETURN_IF_ERROR(bindNativeKernel(module, out.values, data, owhere));
    else
      KILN_RETURN_IF_ERROR(checkResultShapes(data, out.values, owhere));
    out.ops.push_back(std::move(data));
  }
  for (size_t i = 0; i < fn->outputs()->size(); ++i) {
    uint32_t id = fn->outputs()->Get(i);
    if (id >= numValues || !defined[id])
      return dataLoss(where, ": output #", i, " is never written");
    out.outputs.push_back(out.values[id].spec);
    out.outputIds.push_back(id);
  }
  computeMemoryBounds(out);
  return Status::ok();
}

struct PayloadView {
  const uint8_t *data = nullptr;
  size_t size = 0;
};

/// Where the payload is: inside the FlatBuffer (format 1, which must then
/// fill the file) or after it (format 2: at the first 64-byte offset past
/// the FlatBuffer, zero padding between, ending the file).
Expected<PayloadView> locatePayload(const format::Module *fb,
                                    const uint8_t *bytes, size_t size,
                                    size_t head, const std::string &name) {
  const auto *inside = fb->payload();
  if (fb->version_major() < 2) {
    if (head != size)
      return dataLoss(name, ": size prefix says ", head - 4, " bytes but ",
                      size - 4, " follow (trailing data)");
    return PayloadView{inside ? inside->data() : nullptr,
                       inside ? inside->size() : 0};
  }
  if (inside && inside->size() > 0)
    return dataLoss(name, ": a format ", fb->version_major(),
                    " file with a payload inside its FlatBuffer (it must "
                    "follow it)");
  size_t start = (head + 63) / 64 * 64;
  uint64_t declared = fb->payload_size();
  if (declared == 0 && size == head)
    return PayloadView{};
  if (start > size || size - start != declared)
    return dataLoss(name, ": payload_size says ", declared,
                    " bytes after the FlatBuffer (from offset ", start,
                    ") but the file has ", size > start ? size - start : 0,
                    " (truncated or trailing data)");
  for (size_t i = head; i < start; ++i)
    if (bytes[i] != 0)
      return dataLoss(name, ": nonzero padding byte at offset ", i,
                      " before the payload");
  return PayloadView{bytes + start, size_t(declared)};
}

} // namespace

Expected<std::shared_ptr<ModuleData>> parseModule(FileBytes file,
                                                  std::string name) {
  const uint8_t *bytes = file.data;
  size_t size = file.size;
  if (size < 8)
    return dataLoss(name, ": ", size, " bytes is too short for a .kiln file");
  if (reinterpret_cast<uintptr_t>(bytes) % kFileAlignment != 0)
    return internalError(name, ": the loader's buffer is not ", kFileAlignment,
                         "-byte aligned");
  uint32_t declared = flatbuffers::ReadScalar<uint32_t>(bytes);
  // The FlatBuffer: the whole file (format 1) or its head (format 2).
  size_t head = size_t(declared) + 4;
  if (head > size)
    return dataLoss(name, ": size prefix says ", declared, " bytes but ",
                    size - 4, " follow (truncated)");
  if (!flatbuffers::BufferHasIdentifier(bytes, format::ModuleIdentifier(),
                                        true))
    return dataLoss(name, ": not a .kiln file (missing the KILN identifier)");
  flatbuffers::Verifier::Options options;
  options.max_depth = 16;
  options.max_tables = 10'000'000;
  flatbuffers::Verifier verifier(bytes, head, options);
  if (!format::VerifySizePrefixedModuleBuffer(verifier))
    return dataLoss(name, ": corrupt .kiln structure (FlatBuffers "
                          "verification failed)");
  const format::Module *fb = format::GetSizePrefixedModule(bytes);
  KILN_RETURN_IF_ERROR(checkVectorAlignment(fb, name));
  if (fb->version_major() > kKilnFormatMajor)
    return invalidArgument(name, ": written by a newer Kiln (format ",
                           fb->version_major(), ".", fb->version_minor(),
                           "); this runtime reads format ", kKilnFormatMajor,
                           ".x");
  KILN_ASSIGN_OR_RETURN(PayloadView payload, locatePayload(fb, bytes, size, head, name));
  uint64_t sum = payloadChecksum(fb->version_major(), payload.data, payload.size);
  if (sum != fb->payload_checksum())
    return dataLoss(name, ": payload checksum mismatch (the weights are "
                          "corrupt)");
  size_t payloadSize = payload.size;

  auto data = std::make_shared<ModuleData>();
  data->name = name;
  data->file = std::move(file);
  if (fb->native_code() && fb->native_code()->size() > 0) {
    // One shared object per target, best first (kiln-compile --cpu=v4,v3):
    // the first whose CPU features this host has is loaded. A corrupt one
    // is an error, never a reason to try the next.
    std::string refusals;
    for (const format::NativeCode *code : *fb->native_code()) {
      std::string cpu = code->cpu() ? code->cpu()->str() : "?";
      Status fits = checkCpuFeatures(code->features(), cpu, name);
      if (!fits.isOk()) {
        refusals += (refusals.empty() ? "" : "; ") + std::string(fits.message());
        continue;
      }
      KILN_ASSIGN_OR_RETURN(data->native, NativeLibrary::load(*code, name));
      break;
    }
    if (!data->native)
      return unavailable(refusals);
  }
  if (fb->constants()) {
    for (size_t c = 0; c < fb->constants()->size(); ++c) {
      const format::Constant *constant = fb->constants()->Get(c);
      std::string where = strCat(name, ": constant #", c);
      KILN_ASSIGN_OR_RETURN(auto typed, readType(constant->type(), where));
      if (constant->size() != typed.second)
        return dataLoss(where, ": ", constant->size(), " bytes for a ",
                        dtypeName(typed.first.dtype), " tensor of shape ",
                        shapes::toString(typed.first.shape), " (",
                        typed.second, " bytes)");
      if (!fitsIn(constant->offset(), constant->size(), payloadSize))
        return dataLoss(where, ": bytes [", constant->offset(), ", +",
                        constant->size(), ") outside the payload of ",
                        payloadSize, " bytes");
      const uint8_t *bytesAt =
          payload.data ? payload.data + constant->offset() : nullptr;
      std::shared_ptr<Storage> storage;
      if (reinterpret_cast<uintptr_t>(bytesAt) % kFileAlignment == 0) {
        // In place (zero-copy): read-only (a mapping of the file is
        // PROT_READ), and the storage keeps the file's bytes alive.
        storage = Storage::wrap(cpuDevice(), const_cast<uint8_t *>(bytesAt),
                                constant->size(),
                                [owner = data->file.owner](void *) {});
      } else {
        // Files written before the payload was 64-byte aligned (or crafted):
        // an aligned copy, so no kernel reads a misaligned element.
        KILN_ASSIGN_OR_RETURN(storage, Storage::allocate(cpuDevice(),
                                                         constant->size()));
        if (constant->size() > 0)
          std::memcpy(storage->data(), bytesAt, constant->size());
      }
      KILN_ASSIGN_OR_RETURN(
          Tensor t,
          Tensor::fromStorage(storage, typed.first.dtype, typed.first.shape,
                              contiguousStrides(typed.first.shape), 0));
      data->constants.push_back(std::move(t));
    }
  }
  if (!fb->functions() || fb->functions()->size() == 0)
    return dataLoss(name, ": the module has no functions");
  for (size_t f = 0; f < fb->functions()->size(); ++f) {
    FunctionData fn;
    KILN_RETURN_IF_ERROR(verifyFunction(fb->functions()->Get(f), f, *data, fn));
    data->functions.push_back(std::move(fn));
  }
  return data;
}

} // namespace kiln
