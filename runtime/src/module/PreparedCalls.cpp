//===- PreparedCalls.cpp - Library calls prepared at load -----------------===//
//
// A compiled module's GEMMs and convolutions usually take constant weights.
// At load, each such op gets a cpu::PreparedCall (cpu/PreparedCall.h): the
// oneDNN primitive created and the weights packed once, the bias and
// activation of kiln.gemm and kiln.conv2d applied as post-ops. At run time the op is then
// one library call that writes its result straight into the arena, instead
// of the eager kernel's fresh tensor, separate bias and activation passes,
// and a copy into the arena.
//
// Only f32 ops whose weights (and bias) are constants qualify; everything
// else, and anything oneDNN declines, runs through the op table as before.
// max_pool2d has no weights but gains the same way (cpu/MaxPool.h): its
// vectorized kernel writes into the arena.
//
//===----------------------------------------------------------------------===//
#include "KernelAdapters.h"
#include "ModuleData.h"

#include "../cpu/PackedGemm.h"
#include "../cpu/PreparedCall.h"

#include "kiln/Support/Shapes.h"

#include <compare>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

namespace {

const Tensor *constantOperand(const ModuleData &data, const FunctionData &fn,
                              const OpData &op, size_t i) {
  if (i >= op.operands.size())
    return nullptr;
  const ValueData &v = fn.values[op.operands[i]];
  return v.storage == format::Storage::Constant ? &data.constants[v.index]
                                                : nullptr;
}

Expected<std::unique_ptr<cpu::PreparedCall>>
prepareGemmOp(const ModuleData &data, const FunctionData &fn, const OpData &op,
              const OpAttrs &a, bool isGemm) {
  const Tensor *w = constantOperand(data, fn, op, 1);
  const TensorSpec &x = fn.values[op.operands[0]].spec;
  const TensorSpec &y = fn.values[op.results[0]].spec;
  if (!w && !isGemm && op.operands.size() == 2 && x.dtype == DType::F32 &&
      y.dtype == DType::F32 && fn.values[op.operands[1]].spec.dtype == DType::F32 &&
      !a.getBool("transpose_lhs", false))
    // Two activations (attention): Kiln's panel kernel into the arena.
    return cpu::prepareActivationMatmul(x.shape, fn.values[op.operands[1]].spec.shape,
                                        a.getBool("transpose_rhs", false), y.shape);
  if (!w || w->rank() != 2 || x.dtype != DType::F32 || y.dtype != DType::F32 ||
      x.shape.size() < 2 || a.getBool("transpose_lhs", false))
    return std::unique_ptr<cpu::PreparedCall>();
  Tensor bias;
  if (op.operands.size() > 2) {
    const Tensor *b = constantOperand(data, fn, op, 2);
    if (!b || b->rank() != 1)
      return std::unique_ptr<cpu::PreparedCall>();
    bias = *b;
  }
  bool transW = a.getBool("transpose_rhs", false);
  int64_t k = x.shape.back(), n = transW ? w->shape()[0] : w->shape()[1];
  if ((transW ? w->shape()[1] : w->shape()[0]) != k || y.shape.back() != n)
    return std::unique_ptr<cpu::PreparedCall>();
  // A batch of rows times one matrix: the rows of every batch are one M.
  int64_t m = 1;
  for (size_t d = 0; d + 1 < x.shape.size(); ++d)
    m *= x.shape[d];
  return cpu::prepareGemm(m, k, n, *w, transW, bias,
                          isGemm ? a.getString("activation", "none") : "none");
}

Expected<std::unique_ptr<cpu::PreparedCall>>
prepareConvOp(const ModuleData &data, const FunctionData &fn, const OpData &op,
              const OpAttrs &a) {
  const Tensor *w = constantOperand(data, fn, op, 1);
  const TensorSpec &x = fn.values[op.operands[0]].spec;
  const TensorSpec &y = fn.values[op.results[0]].spec;
  if (!w || x.dtype != DType::F32 || y.dtype != DType::F32)
    return std::unique_ptr<cpu::PreparedCall>();
  Tensor bias;
  if (op.operands.size() > 2) {
    const Tensor *b = constantOperand(data, fn, op, 2);
    if (!b)
      return std::unique_ptr<cpu::PreparedCall>();
    bias = *b;
  }
  if (w->rank() != 4)
    return std::unique_ptr<cpu::PreparedCall>();
  Window2D win = adapters::windowOf(a, {w->shape()[2], w->shape()[3]});
  if (shapes::checkWindow(win))
    return std::unique_ptr<cpu::PreparedCall>(); // the eager kernel says why
  Expected<shapes::Layout2D> layout = adapters::layoutOf(a);
  if (!layout)
    return std::unique_ptr<cpu::PreparedCall>(); // the eager kernel says why
  return cpu::prepareConv2d(x.shape, *w, bias, win, a.getInt("groups", 1),
                            y.shape, a.getString("activation", "none"), *layout);
}

Expected<std::unique_ptr<cpu::PreparedCall>>
prepareMaxPoolOp(const FunctionData &fn, const OpData &op, const OpAttrs &a) {
  const TensorSpec &x = fn.values[op.operands[0]].spec;
  const TensorSpec &y = fn.values[op.results[0]].spec;
  if (op.operands.size() != 1 || x.dtype != DType::F32 || y.dtype != DType::F32)
    return std::unique_ptr<cpu::PreparedCall>();
  Expected<shapes::Layout2D> layout = adapters::layoutOf(a);
  if (!layout)
    return std::unique_ptr<cpu::PreparedCall>();
  return cpu::prepareMaxPool2d(x.shape, adapters::windowOf(a, a.getInts("kernel")),
                               y.shape, *layout);
}

/// What makes two GEMM ops the same call: the constant weights and bias
/// (by address: constants do not move while the module lives), the shape,
/// the layout and the epilogue.
struct GemmKey {
  const void *w, *bias;
  std::vector<int64_t> x, y;
  bool transW;
  std::string activation;
  auto operator<=>(const GemmKey &) const = default;
};

std::optional<GemmKey> gemmKey(const ModuleData &data, const FunctionData &fn,
                               const OpData &op, const OpAttrs &a, bool isGemm) {
  const Tensor *w = constantOperand(data, fn, op, 1);
  if (!w)
    return std::nullopt;
  const Tensor *b = constantOperand(data, fn, op, 2);
  return GemmKey{w->rawData(), b ? b->rawData() : nullptr,
                 fn.values[op.operands[0]].spec.shape,
                 fn.values[op.results[0]].spec.shape,
                 a.getBool("transpose_rhs", false),
                 std::string(isGemm ? a.getString("activation", "none") : "none")};
}

} // namespace

Status prepareLibraryCalls(ModuleData &data) {
  // An unrolled recurrence runs one GEMM per step against the same
  // weights: those ops share one prepared call (one packed copy of the
  // weights, one timing of the candidates). Fifty copies of an LSTM's
  // 256 KB recurrent matrix had each step stream its weights from memory
  // instead of L2, and made the load-time choice per step, inconsistently.
  std::map<GemmKey, std::shared_ptr<const cpu::PreparedCall>> gemms;
  for (FunctionData &fn : data.functions)
    for (OpData &op : fn.ops) {
      if (op.native || op.results.size() != 1 || op.operands.empty())
        continue;
      OpAttrs a(op.op);
      std::string_view name = a.opName();
      std::optional<GemmKey> key;
      if (name == "gemm" || name == "matmul")
        key = gemmKey(data, fn, op, a, name == "gemm");
      if (key) {
        auto it = gemms.find(*key);
        if (it != gemms.end()) {
          op.prepared = it->second;
          continue;
        }
      }
      Expected<std::unique_ptr<cpu::PreparedCall>> call =
          name == "gemm" || name == "matmul"
              ? prepareGemmOp(data, fn, op, a, name == "gemm")
          : name == "conv2d"     ? prepareConvOp(data, fn, op, a)
          : name == "max_pool2d" ? prepareMaxPoolOp(fn, op, a)
                             : std::unique_ptr<cpu::PreparedCall>();
      if (!call)
        return call.takeStatus().withContext(
            strCat("function '", fn.name, "', op '", name, "'"));
      op.prepared = std::move(*call);
      if (key)
        gemms.emplace(std::move(*key), op.prepared);
    }
  return Status::ok();
}

Status runPreparedCall(const OpData &op, const FunctionData &fn,
                       std::span<void *const> operands,
                       const std::shared_ptr<Storage> &arena,
                       std::vector<Tensor> &temps) {
  const ValueData &v = fn.values[op.results[0]];
  if (v.bytes == 0)
    return Status::ok();
  float *y;
  std::vector<const float *> in;
  for (void *p : operands)
    in.push_back(static_cast<const float *>(p));
  std::vector<Tensor> copies;
  if (v.storage == format::Storage::Arena) {
    y = reinterpret_cast<float *>(static_cast<uint8_t *>(arena->data()) + v.index);
    // The plan never gives a GEMM's result an operand's bytes; if a file
    // does, read from a copy rather than overwrite the input mid-call.
    const auto *yb = reinterpret_cast<const uint8_t *>(y);
    for (size_t i = 0; i < in.size(); ++i) {
      const ValueData &iv = fn.values[op.operands[i]];
      const auto *xb = reinterpret_cast<const uint8_t *>(in[i]);
      if (xb < yb + v.bytes && yb < xb + iv.bytes) {
        KILN_ASSIGN_OR_RETURN(Tensor copy, Tensor::empty(iv.spec.shape, iv.spec.dtype));
        std::memcpy(copy.rawData(), in[i], iv.bytes);
        in[i] = copy.data<float>();
        copies.push_back(std::move(copy));
      }
    }
  } else {
    KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::empty(v.spec.shape, v.spec.dtype));
    y = t.data<float>();
    temps[op.results[0]] = std::move(t);
  }
  Status st = op.prepared->runOperands(in, y);
  if (!st.isOk())
    return std::move(st).withContext(strCat("function '", fn.name, "'"));
  return Status::ok();
}

} // namespace kiln
