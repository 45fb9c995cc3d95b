//===- LowerPrecision.cpp - f16/bf16 storage with f32 where it matters ----===//
//
// Walks the top-level ops in order. An op in the lowered set whose tensors
// are f32 is rebuilt with the low precision: its f32 operands are read
// through a cast (made once per value, or avoided when the low version
// already exists), and its results are cast back to f32 for whoever still
// wants f32. Casts nobody reads are removed by the canonicalizer that runs
// next in the pipeline. Runs before fusion so that casts fuse too.
//
//===----------------------------------------------------------------------===//
#include "kiln/Compiler/Transforms/Passes.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_LOWERPRECISION
#include "kiln/Compiler/Transforms/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Ops computed in the low precision by default (names without "kiln.").
const char *const kLoweredByDefault[] = {
    "matmul",  "gemm",        "conv2d",     "conv_transpose2d", "add",
    "sub",     "mul",         "div",        "max",              "min",
    "neg",     "abs",         "relu",       "leaky_relu",       "gelu",
    "silu",    "sigmoid",     "tanh",       "clip",             "dropout",
    "select",  "transpose",   "reshape",    "broadcast_to",     "concat",
    "slice",   "pad",         "split",      "expand_dims",      "squeeze",
    "gather",  "max_pool2d",  "avg_pool2d", "global_avg_pool",
};

bool isF32Tensor(Type t) {
  auto rt = dyn_cast<RankedTensorType>(t);
  return rt && rt.getElementType().isF32();
}

Type withElement(Type t, Type element) {
  auto rt = cast<RankedTensorType>(t);
  return RankedTensorType::get(rt.getShape(), element);
}

struct LowerPrecisionPass
    : mlir::kiln::impl::LowerPrecisionBase<LowerPrecisionPass> {
  using LowerPrecisionBase::LowerPrecisionBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    MLIRContext *ctx = &getContext();
    Type low;
    if (precision == "bf16")
      low = BFloat16Type::get(ctx);
    else if (precision == "f16")
      low = Float16Type::get(ctx);
    else {
      func.emitError("precision must be f16 or bf16, got '") << precision << "'";
      return signalPassFailure();
    }
    llvm::StringSet<> lowered;
    for (const char *name : kLoweredByDefault)
      lowered.insert(name);
    for (const std::string &name : allow)
      lowered.insert(name);
    for (const std::string &name : deny)
      lowered.erase(name);
    auto isLowered = [&](Operation *op) {
      return isa<KilnDialect>(op->getDialect()) &&
             lowered.contains(op->getName().stripDialect()) &&
             (llvm::any_of(op->getOperandTypes(), isF32Tensor) ||
              llvm::any_of(op->getResultTypes(), isF32Tensor));
    };

    Block &body = func.getBody().front();
    DenseMap<Value, Value> lowOf; // f32 value -> its low-precision twin

    // Parameters read only by lowered ops are stored in low precision.
    for (auto param : llvm::make_early_inc_range(body.getOps<ParameterOp>())) {
      if (!isF32Tensor(param.getType()) || param->use_empty() ||
          !llvm::all_of(param->getUsers(), isLowered))
        continue;
      param.getResult().setType(
          cast<RankedTensorType>(withElement(param.getType(), low)));
      lowOf[param.getResult()] = param.getResult();
    }

    OpBuilder builder(ctx);
    auto lowVersion = [&](Value v) -> Value {
      if (auto it = lowOf.find(v); it != lowOf.end())
        return it->second;
      if (!isF32Tensor(v.getType()))
        return v;
      builder.setInsertionPointAfterValue(v);
      Value c = builder.create<CastOp>(v.getLoc(), withElement(v.getType(), low), v);
      lowOf[v] = c;
      return c;
    };

    for (Operation &opRef : llvm::make_early_inc_range(body)) {
      Operation *op = &opRef;
      if (!isLowered(op))
        continue;
      SmallVector<Value> operands;
      for (Value v : op->getOperands())
        operands.push_back(lowVersion(v));
      SmallVector<Type> results;
      for (Type t : op->getResultTypes())
        results.push_back(isF32Tensor(t) ? withElement(t, low) : t);
      builder.setInsertionPoint(op);
      OperationState state(op->getLoc(), op->getName(), operands, results,
                           op->getAttrs());
      Operation *clone = builder.create(state);
      builder.setInsertionPointAfter(clone);
      for (auto [old, now] : llvm::zip(op->getResults(), clone->getResults())) {
        if (old.getType() == now.getType()) {
          old.replaceAllUsesWith(now);
          continue;
        }
        Value back = builder.create<CastOp>(op->getLoc(), old.getType(), now);
        old.replaceAllUsesWith(back);
        lowOf[back] = now;
      }
      op->erase();
    }
  }
};

} // namespace
