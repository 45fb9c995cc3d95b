//===- ModuleData.h - A verified, loaded .kiln module ---------------------===//
//
// Everything here was checked by parseModule (Verify.cpp): indices are in
// range, sizes agree with dtypes and shapes, arena slices fit the arena,
// every value is defined before it is read and every op has a handler with
// the right arity. The executor relies on that and re-checks nothing.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_MODULE_MODULEDATA_H
#define KILN_RUNTIME_MODULE_MODULEDATA_H

#include "NativeCode.h"

#include "kiln/Module.h"
#include "kiln/format/kiln_generated.h"

#include <functional>
#include <optional>

namespace kiln {

namespace cpu {
class PreparedCall; // cpu/PreparedCall.h
} // namespace cpu

/// Typed access to an op's attributes, with defaults for absent ones.
class OpAttrs {
public:
  explicit OpAttrs(const format::Op *op) : op_(op) {}
  int64_t getInt(std::string_view name, int64_t dflt) const;
  double getFloat(std::string_view name, double dflt) const;
  bool getBool(std::string_view name, bool dflt) const;
  std::string_view getString(std::string_view name, std::string_view dflt) const;
  std::vector<int64_t> getInts(std::string_view name,
                               std::vector<int64_t> dflt = {}) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }
  std::string_view opName() const { return op_->name()->string_view(); }

private:
  const format::Attr *find(std::string_view name) const;
  const format::Op *op_;
};

/// Runs one op: the operands in, the results out (as many as the op has).
using OpKernel = std::function<Expected<std::vector<Tensor>>(
    const OpAttrs &, std::span<const Tensor>, std::span<const TensorSpec>)>;

struct OpHandler {
  int minOperands, maxOperands; // max -1: variadic
  int minResults, maxResults;
  OpKernel run;
};
/// The handler for a kiln op name, or nullptr.
const OpHandler *findOpHandler(std::string_view name);
/// Names of every op the executor has a handler for (for coverage tests).
std::vector<std::string_view> opHandlerNames();

/// Re-infers an op's result shapes from its operands' specs and attributes
/// with the shared rules (kiln/Support/Shapes.h, ShapeRules.cpp), or says
/// why they have none. Takes the declared results too: for reshape,
/// broadcast_to and iota the declared shape is the op's only statement of
/// its shape, so their rules check it instead of deriving it.
using ShapeRule = std::function<Expected<std::vector<Shape>>(
    const OpAttrs &, std::span<const TensorSpec> operands,
    std::span<const TensorSpec> results)>;
/// The shape rule for a kiln op name, or nullptr.
const ShapeRule *findShapeRule(std::string_view name);
/// The dtype the eager kernel of `op` gives every result for these
/// operands, or nullopt when the file states it (cast, one_hot, iota).
std::optional<DType> inferResultDType(std::string_view op,
                                      std::span<const TensorSpec> operands);

/// The f64 reference kernel for a kiln op name, or nullptr when the eager
/// kernel is exact (data movement) and serves as its own reference.
const OpKernel *findReferenceKernel(std::string_view name);

struct ValueData {
  TensorSpec spec;
  format::Storage storage;
  int64_t index; // argument, constant, or arena byte offset
  size_t bytes;
};

struct OpData {
  const format::Op *op;
  const OpHandler *handler;
  std::vector<uint32_t> operands, results;
  uint32_t kernel;
  /// A `cpu_kernel` op: generated code over [0, outer) in grain-sized chunks.
  NativeKernelFn native = nullptr;
  int64_t outer = 0, grain = 1;
  /// A gemm/matmul/conv2d with constant weights, or an f32 matmul of two
  /// activations, prepared at load (PreparedCalls.cpp): result 0 out, one
  /// kernel call.
  std::shared_ptr<const cpu::PreparedCall> prepared;
};

struct FunctionData {
  std::string name;
  std::vector<TensorSpec> inputs, outputs;
  std::vector<uint32_t> inputIds, outputIds;
  std::vector<ValueData> values;
  std::vector<OpData> ops;
  size_t arenaSize = 0;
  /// Upper bounds on the memory one run holds at once, without the
  /// caller's inputs and the kernels' scratch (Verify.cpp
  /// computeMemoryBounds); newSession holds them against
  /// SessionOptions::memoryLimit.
  size_t runBytes = 0, referenceRunBytes = 0;
};

/// The bytes of a whole .kiln file, 64-byte aligned (FlatBuffers aligns
/// relative to the buffer, so an aligned start makes every 8-byte field and
/// the 64-byte aligned payload aligned in memory), kept alive by `owner`: a
/// read-only private mapping of the file, or a heap buffer.
struct FileBytes {
  const uint8_t *data = nullptr;
  size_t size = 0;
  std::shared_ptr<const void> owner;
  bool mapped = false; // a mapping of the file (Module::load), not a copy
};
inline constexpr size_t kFileAlignment = 64;

/// `bytes` as FileBytes: adopted when already 64-byte aligned, else copied
/// into an aligned buffer (Module.cpp).
Expected<FileBytes> alignedFileBytes(std::vector<uint8_t> bytes);
/// A read-only, private mapping of the file at `path` (Module.cpp); an
/// empty FileBytes (no error) when it cannot be mapped (not a regular
/// file, size 0) and should be read instead.
Expected<FileBytes> mapFile(const std::string &path);

struct ModuleData {
  std::string name;
  FileBytes file; // the whole file; constants view it in place
  std::vector<Tensor> constants;
  std::vector<FunctionData> functions;
  std::shared_ptr<NativeLibrary> native; // the file's native code, if any
};

/// Runs a `cpu_kernel` op: `buffers` holds the data of its operands
/// (contiguous, in order); the kernel's result pointers, where the plan put
/// them, are appended to it (NativeCode.cpp).
Status runNativeKernel(const OpData &op, const FunctionData &fn,
                       std::vector<void *> &buffers,
                       const std::shared_ptr<Storage> &arena,
                       std::vector<Tensor> &temps);

/// Prepares the library calls of every function whose weights are
/// constants (PreparedCalls.cpp); ops it cannot prepare are left as they
/// are. Fails only on an out-of-memory or similar runtime error.
Status prepareLibraryCalls(ModuleData &data);
/// Runs op.prepared on its operands' data (contiguous f32; operand 0 for
/// calls with constant weights, all of them for a product of two
/// activations), writing the result where the plan put it.
Status runPreparedCall(const OpData &op, const FunctionData &fn,
                       std::span<void *const> operands,
                       const std::shared_ptr<Storage> &arena,
                       std::vector<Tensor> &temps);

/// Verifies `bytes` as a .kiln file and builds the module (Verify.cpp).
Expected<std::shared_ptr<ModuleData>> parseModule(FileBytes file,
                                                  std::string name);

} // namespace kiln

#endif // KILN_RUNTIME_MODULE_MODULEDATA_H
