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

namespace kiln {

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
};

struct FunctionData {
  std::string name;
  std::vector<TensorSpec> inputs, outputs;
  std::vector<uint32_t> inputIds, outputIds;
  std::vector<ValueData> values;
  std::vector<OpData> ops;
  size_t arenaSize = 0;
};

struct ModuleData {
  std::string name;
  std::vector<uint8_t> bytes; // the whole file; constants point into it
  std::vector<Tensor> constants;
  std::vector<FunctionData> functions;
  std::shared_ptr<NativeLibrary> native; // the file's native code, if any
};

/// Runs a `cpu_kernel` op: its operands (any layout) in, its results
/// written where the plan put them (NativeCode.cpp).
Status runNativeKernel(const OpData &op, const FunctionData &fn,
                       std::span<const Tensor> operands,
                       const std::shared_ptr<Storage> &arena,
                       std::vector<Tensor> &temps);

/// Verifies `bytes` as a .kiln file and builds the module (Verify.cpp).
Expected<std::shared_ptr<ModuleData>> parseModule(std::vector<uint8_t> bytes,
                                                  std::string name);

} // namespace kiln

#endif // KILN_RUNTIME_MODULE_MODULEDATA_H
