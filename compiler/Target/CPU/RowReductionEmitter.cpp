//===- RowReductionEmitter.cpp - Row-reduction fusions as LLVM functions --===//
//
// A "reduction" fusion whose root reduces the innermost dimensions of its
// operand X is a loop over rows: the runtime splits [0, rows) over threads
// and each row is a few sequential passes over its `cols` contiguous
// elements, one per reduction level:
//
//   softmax      m = max X;  s = sum exp(X - m);  y = exp(X - m) * (1 / s)
//   log_softmax  m = max X;  s = sum exp(X - m);  y = X - (m + log s)
//   layer_norm   mean = sum X / n;  var = sum (X - mean)^2 / n;
//                y = (X - mean) * (1 / sqrt(var + eps)) * scale + bias
//   sum, mean, reduce_max, reduce_min, prod:  r = reduce X
//
// The formulas are the eager kernels' (runtime/src/eager/Normalization.cpp),
// with f32 accumulators (f64 for f64) where those use f64, except for sums
// over more than kLongRow columns, which accumulate in f64. X comes from the
// fusion's elementwise prologue, evaluated per element as in loop kernels.
// Unit dimensions are ignored, so "innermost" means: every reduced
// dimension of size > 1 comes after every kept one of size > 1.
//
// When X is computed (a prologue), the first pass also stores it into the
// result row (the result has X's element type, and X is already rounded to
// it, so this is exact) and later passes read it back from cache instead
// of recomputing it. That is what keeps an in-place result correct too: a
// result may share an input's bytes (same layout, checked by the driver),
// and every pass reads an element before the pass that writes it. An f32
// softmax keeps its exps in the result row, as the eager kernel does; a
// 16-bit one recomputes them in the last pass (storing them would round).
//
// Every column loop carries llvm.loop.parallel_accesses (no runtime alias
// checks), and accumulators allow reassociation (fadd/fmul `reassoc`,
// llvm.maximum/minimum for max/min, which propagate NaN like the eager
// results), so LLVM's loop vectorizer turns each pass into ymm code with
// several independent accumulators and a scalar tail.
//
//===----------------------------------------------------------------------===//
#include "KernelEmitter.h"

#include "ScalarOps.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

#include <algorithm>

using namespace mlir;

namespace mlir::kiln::cpu {
namespace {

/// Elements a thread should get at least (a row is a few passes).
constexpr int64_t kMinElementsPerChunk = 16384;
/// Sums over rows longer than this accumulate in f64 (measured on a sum of
/// 4M values in [-1, 1), where the f32 tolerance is 1.5e-4: f32
/// accumulators are off by 4e-3, f32 blocks of 1024 added in f64 by
/// 1.5e-4, of 64 by 1e-5 but 30% slower than f64 lanes). Shorter rows sum
/// in f32: within tolerance, and twice the lanes per instruction.
constexpr int64_t kLongRow = 4096;

enum class RowKind { Softmax, LogSoftmax, LayerNorm, Sum, Mean, Max, Min, Prod };

/// One term of an input's offset at a row: ((row / divisor) % modulus) *
/// stride, without the modulo when modulus is 0.
struct RowTerm {
  int64_t divisor, modulus, stride;
};

/// A fusion input read by the kernel.
struct RowInput {
  ElementStorage storage;
  SmallVector<RowTerm> rowTerms;
  bool alongCols = false; // offset + col; otherwise one element per row
};

/// The value of a splat float constant, or nothing.
std::optional<double> splatValue(Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  auto dense = c ? dyn_cast<DenseElementsAttr>(c.getValue()) : nullptr;
  if (!dense || !dense.isSplat() || !isa<FloatType>(dense.getElementType()))
    return std::nullopt;
  return dense.getSplatValue<APFloat>().convertToDouble();
}

class RowEmitter {
public:
  RowEmitter(FusionOp fusion, llvm::Module &module)
      : fusion_(fusion), module_(module), ctx_(module.getContext()), b_(ctx_) {}

  std::optional<KernelLaunch> emit(StringRef symbol, std::string &why);

private:
  bool analyze(std::string &why);
  bool planInput(BlockArgument arg, std::string &why);
  llvm::Value *input(unsigned arg, llvm::Value *col);
  llvm::Value *computeX(llvm::Value *col);
  llvm::Value *readX(llvm::Value *col);
  llvm::Value *resultAddress(llvm::Value *col);
  using ColumnBody =
      function_ref<llvm::Value *(llvm::Value *col, llvm::Value *acc)>;
  llvm::Value *columnLoop(const Twine &name, std::optional<RowKind> kind,
                          ColumnBody body);
  llvm::Value *columnRange(const Twine &name, llvm::Value *lo, llvm::Value *hi,
                           int64_t span, llvm::Value *init, ColumnBody body);
  llvm::Value *accumulate(RowKind kind, llvm::Value *acc, llvm::Value *x);
  llvm::Value *identity(RowKind kind);
  void emitRow();

  FusionOp fusion_;
  llvm::Module &module_;
  llvm::LLVMContext &ctx_;
  llvm::IRBuilder<> b_;

  Operation *root_ = nullptr;
  RowKind kind_ = RowKind::Sum;
  Value x_;                          // the root's reduced operand
  int64_t rows_ = 1, cols_ = 1;
  SmallVector<int64_t> keptDims_;    // X's dims of size > 1
  SmallVector<bool> keptReduced_;    // per kept dim
  SmallVector<Operation *> prologue_; // ops computing X, in body order
  DenseMap<unsigned, RowInput> inputs_; // by block argument number
  ElementStorage result_;
  llvm::Type *acc_ = nullptr;        // f32, or f64 for f64
  bool stash_ = false;               // X stored into the result in pass 1

  // Per row, while emitting.
  SmallVector<llvm::Value *> bases_;   // buffer pointers: inputs, then result
  DenseMap<unsigned, llvm::Value *> rowOffsets_;
  DenseMap<Value, llvm::Value *> rowValues_; // inputs constant along the row
  llvm::Value *resultRow_ = nullptr;
  llvm::MDNode *accessGroup_ = nullptr;
};

bool RowEmitter::analyze(std::string &why) {
  Block &body = fusion_.getBodyBlock();
  auto yield = cast<YieldOp>(body.getTerminator());
  if (yield.getNumOperands() != 1) {
    why = "a reduction fusion with more than one result";
    return false;
  }
  root_ = yield.getOperand(0).getDefiningOp();
  if (!root_) {
    why = "a reduction fusion that yields an input";
    return false;
  }
  x_ = root_->getOperand(0);
  auto xType = cast<RankedTensorType>(x_.getType());
  ArrayRef<int64_t> shape = xType.getShape();
  int64_t rank = xType.getRank();
  auto normalize = [&](int64_t a) { return a < 0 ? a + rank : a; };
  SmallVector<bool> reduced(rank, false);
  if (isa<SoftmaxOp, LogSoftmaxOp>(root_)) {
    kind_ = isa<SoftmaxOp>(root_) ? RowKind::Softmax : RowKind::LogSoftmax;
    reduced[normalize(root_->getAttrOfType<IntegerAttr>("axis").getInt())] = true;
  } else if (auto ln = dyn_cast<LayerNormOp>(root_)) {
    kind_ = RowKind::LayerNorm;
    for (int64_t d = normalize(ln.getAxis()); d < rank; ++d)
      reduced[d] = true;
  } else if (isa<SumOp, MeanOp, ReduceMaxOp, ReduceMinOp, ProdOp>(root_)) {
    kind_ = isa<SumOp>(root_)         ? RowKind::Sum
            : isa<MeanOp>(root_)      ? RowKind::Mean
            : isa<ReduceMaxOp>(root_) ? RowKind::Max
            : isa<ReduceMinOp>(root_) ? RowKind::Min
                                      : RowKind::Prod;
    auto axes = root_->getAttrOfType<DenseI64ArrayAttr>("axes");
    if (!axes || axes.empty())
      reduced.assign(rank, true);
    else
      for (int64_t a : axes.asArrayRef())
        reduced[normalize(a)] = true;
  } else {
    why = ("a \"reduction\" fusion rooted at '" +
           root_->getName().stripDialect() + "' (no CPU generator)")
              .str();
    return false;
  }
  for (int64_t d = 0; d < rank; ++d) {
    if (shape[d] == 1)
      continue;
    if (!reduced[d] && !keptReduced_.empty() && keptReduced_.back()) {
      why = "a reduction over dimensions that are not the innermost ones "
            "(a column reduction)";
      return false;
    }
    keptDims_.push_back(d);
    keptReduced_.push_back(reduced[d]);
    (reduced[d] ? cols_ : rows_) *= shape[d];
  }
  if (xType.getNumElements() == 0) {
    why = "a reduction of an empty tensor";
    return false;
  }
  Type xElement = xType.getElementType();
  if (!isa<FloatType>(xElement)) {
    why = "a reduction of integers or booleans";
    return false;
  }
  auto resultType = cast<RankedTensorType>(fusion_.getResult(0).getType());
  bool rowResult = kind_ == RowKind::Softmax || kind_ == RowKind::LogSoftmax ||
                   kind_ == RowKind::LayerNorm;
  if (resultType.getNumElements() != (rowResult ? rows_ * cols_ : rows_) ||
      (rowResult && resultType.getElementType() != xElement)) {
    why = "a reduction result of an unexpected shape or type";
    return false;
  }
  auto storage = elementStorageOf(resultType.getElementType(), ctx_, why);
  auto xStorage = elementStorageOf(xElement, ctx_, why);
  if (!storage || !xStorage)
    return false;
  result_ = *storage;
  acc_ = xStorage->scalar;

  // The prologue: the ops that compute X. Nothing else may be in the body.
  llvm::SetVector<Operation *> producers;
  SmallVector<Value> work = {x_};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (!planInput(arg, why))
        return false;
      continue;
    }
    Operation *op = v.getDefiningOp();
    if (producers.insert(op))
      llvm::append_range(work, op->getOperands());
  }
  for (Operation &op : body.without_terminator()) {
    if (&op == root_)
      continue;
    if (kind_ == RowKind::LayerNorm && op.getNumResults() == 1 &&
        splatValue(op.getResult(0)) &&
        llvm::all_of(op.getUsers(), [&](Operation *u) { return u == root_; }))
      continue; // A splat scale or bias: an immediate (see below).
    if (!producers.contains(&op)) {
      why = ("'" + op.getName().stripDialect() +
             "' does not feed the reduced operand")
                .str();
      return false;
    }
    if (!canEmitElementOp(&op, why))
      return false;
    prologue_.push_back(&op);
  }
  if (kind_ == RowKind::LayerNorm)
    for (Value v : root_->getOperands().drop_front()) {
      // A splat scale or bias (ONNX exports of freshly initialised norms:
      // ones and zeros) is cloned into the fusion; it becomes an immediate.
      if (splatValue(v))
        continue;
      auto arg = dyn_cast<BlockArgument>(v);
      if (!arg) {
        why = "a layer_norm whose scale or bias is computed in the fusion";
        return false;
      }
      if (!planInput(arg, why))
        return false;
    }
  stash_ = rowResult && !isa<BlockArgument>(x_);
  return true;
}

/// How input `arg` is addressed: its broadcast strides against X, split
/// into the row part (a few div/mod terms, evaluated once per row) and the
/// column part (contiguous, or absent when the input is constant along a
/// row).
bool RowEmitter::planInput(BlockArgument arg, std::string &why) {
  if (inputs_.count(arg.getArgNumber()))
    return true;
  auto type = cast<RankedTensorType>(arg.getType());
  ArrayRef<int64_t> shape = cast<RankedTensorType>(x_.getType()).getShape();
  std::optional<SmallVector<int64_t>> broadcast =
      broadcastStrides(type.getShape(), shape, why);
  if (!broadcast) {
    why += " the reduced operand";
    return false;
  }
  SmallVector<int64_t> strides = std::move(*broadcast);
  RowInput in;
  auto storage = elementStorageOf(type.getElementType(), ctx_, why);
  if (!storage)
    return false;
  in.storage = *storage;
  // Columns: innermost first, unit stride and row-major, or all zero.
  int64_t expected = 1;
  bool zero = true, contiguous = true;
  for (size_t k = keptDims_.size(); k-- > 0;) {
    if (!keptReduced_[k])
      break;
    int64_t d = keptDims_[k];
    zero &= strides[d] == 0;
    contiguous &= strides[d] == expected;
    expected *= shape[d];
  }
  if (!zero && !contiguous) {
    why = "an input broadcast within the reduced dimensions";
    return false;
  }
  in.alongCols = !zero;
  // Rows: innermost first, adjacent dimensions merged where they step as
  // one run.
  int64_t divisor = 1;
  for (size_t k = keptDims_.size(); k-- > 0;) {
    if (keptReduced_[k])
      continue;
    int64_t d = keptDims_[k];
    if (strides[d] != 0) {
      RowTerm *last = in.rowTerms.empty() ? nullptr : &in.rowTerms.back();
      if (last && last->divisor * last->modulus == divisor &&
          last->stride * last->modulus == strides[d])
        last->modulus *= shape[d];
      else
        in.rowTerms.push_back({divisor, shape[d], strides[d]});
    }
    divisor *= shape[d];
  }
  // The outermost term needs no modulo: row < rows.
  if (!in.rowTerms.empty() &&
      in.rowTerms.back().divisor * in.rowTerms.back().modulus == rows_)
    in.rowTerms.back().modulus = 0;
  inputs_[arg.getArgNumber()] = std::move(in);
  return true;
}

llvm::Value *RowEmitter::input(unsigned arg, llvm::Value *col) {
  const RowInput &in = inputs_.find(arg)->second;
  llvm::Value *offset = rowOffsets_.lookup(arg);
  if (in.alongCols)
    offset = b_.CreateAdd(offset, col, "", /*HasNUW=*/true, /*HasNSW=*/true);
  llvm::Value *ptr =
      b_.CreateInBoundsGEP(in.storage.storage, bases_[arg], offset);
  return loadElement(b_, in.storage, ptr, accessGroup_);
}

/// X at `col` of the current row, from the inputs through the prologue.
llvm::Value *RowEmitter::computeX(llvm::Value *col) {
  DenseMap<Value, llvm::Value *> values = rowValues_;
  Block &body = fusion_.getBodyBlock();
  for (auto &[arg, in] : inputs_)
    if (in.alongCols && !values.count(body.getArgument(arg)))
      values[body.getArgument(arg)] = input(arg, col);
  emitElementOps(prologue_, values, b_);
  return values.lookup(x_);
}

llvm::Value *RowEmitter::resultAddress(llvm::Value *col) {
  llvm::Value *offset =
      col ? b_.CreateAdd(resultRow_, col, "", true, true) : resultRow_;
  return b_.CreateInBoundsGEP(result_.storage, bases_.back(), offset);
}

/// X at `col` after the first pass: from the result row when stashed.
llvm::Value *RowEmitter::readX(llvm::Value *col) {
  if (!stash_)
    return computeX(col);
  return loadElement(b_, result_, resultAddress(col), accessGroup_);
}

/// for (col = 0; col < cols; ++col) acc = body(col, acc), acc starting at
/// the identity of `kind`; returns the final acc (nullptr without a kind).
/// A sum over a long f32 row accumulates in f64 (as the eager kernels
/// do): f32 accumulators over a long row drift past the f32 tolerance.
llvm::Value *RowEmitter::columnLoop(const Twine &name,
                                    std::optional<RowKind> kind,
                                    ColumnBody body) {
  bool sum = kind && *kind != RowKind::Max && *kind != RowKind::Min &&
             *kind != RowKind::Prod;
  if (!sum || !acc_->isFloatTy() || cols_ <= kLongRow)
    return columnRange(name, b_.getInt64(0), b_.getInt64(cols_), cols_,
                       kind ? identity(*kind) : nullptr, body);
  llvm::Value *total =
      columnRange(name, b_.getInt64(0), b_.getInt64(cols_), cols_,
                  llvm::ConstantFP::get(b_.getDoubleTy(), 0.0), body);
  return b_.CreateFPTrunc(total, acc_);
}

/// for (col = lo; col < hi; ++col) acc = body(col, acc), at most `span`
/// iterations; returns the final acc (nullptr when init is).
llvm::Value *RowEmitter::columnRange(const Twine &name, llvm::Value *lo,
                                     llvm::Value *hi, int64_t span,
                                     llvm::Value *init, ColumnBody body) {
  llvm::Function *fn = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *pre = b_.GetInsertBlock();
  auto *header = llvm::BasicBlock::Create(ctx_, name, fn);
  auto *bodyBlock = llvm::BasicBlock::Create(ctx_, name + ".body", fn);
  auto *exit = llvm::BasicBlock::Create(ctx_, name + ".exit", fn);
  b_.CreateBr(header);
  b_.SetInsertPoint(header);
  llvm::PHINode *col = b_.CreatePHI(b_.getInt64Ty(), 2, "col");
  col->addIncoming(lo, pre);
  llvm::PHINode *acc = nullptr;
  if (init) {
    acc = b_.CreatePHI(init->getType(), 2, "acc");
    acc->addIncoming(init, pre);
  }
  b_.CreateCondBr(b_.CreateICmpSLT(col, hi), bodyBlock, exit);
  b_.SetInsertPoint(bodyBlock);
  llvm::Value *next = body(col, acc);
  if (acc)
    acc->addIncoming(next, b_.GetInsertBlock());
  col->addIncoming(b_.CreateAdd(col, b_.getInt64(1), "", true, true),
                   b_.GetInsertBlock());
  llvm::BranchInst *latch = b_.CreateBr(header);
  // No full unrolling before the vectorizer (an unrolled reduction of a
  // short row is a serial chain that SLP turns into shuffles), which also
  // turns interleaving off unless asked for: up to four ymm accumulators,
  // fewer on short rows, which would otherwise run in the scalar tail.
  int64_t lanes = 256 / int64_t(acc_->getPrimitiveSizeInBits());
  int64_t interleave = std::clamp<int64_t>(span / (2 * lanes), 1, 4);
  llvm::Metadata *parallel[] = {
      llvm::MDString::get(ctx_, "llvm.loop.parallel_accesses"), accessGroup_};
  llvm::Metadata *noUnroll[] = {
      llvm::MDString::get(ctx_, "llvm.loop.unroll.disable")};
  llvm::Metadata *count[] = {
      llvm::MDString::get(ctx_, "llvm.loop.interleave.count"),
      llvm::ConstantAsMetadata::get(b_.getInt32(uint32_t(interleave)))};
  // Full ymm vectors for 16-bit data too (the cost model picks 4 lanes).
  // f32 and f64 rows are left to the target's width: zmm on AVX-512
  // (softmax over [16384, 1024], two threads: 10.6 -> 9.1 ms), ymm on AVX2.
  bool narrowData = result_.storage->getPrimitiveSizeInBits() < 32 ||
                    llvm::any_of(inputs_, [](const auto &in) {
                      return in.second.storage.storage->getPrimitiveSizeInBits() < 32;
                    });
  llvm::Metadata *width[] = {
      llvm::MDString::get(ctx_, "llvm.loop.vectorize.width"),
      llvm::ConstantAsMetadata::get(b_.getInt32(uint32_t(lanes)))};
  SmallVector<llvm::Metadata *> ops = {nullptr, llvm::MDNode::get(ctx_, parallel),
                                       llvm::MDNode::get(ctx_, noUnroll),
                                       llvm::MDNode::get(ctx_, count)};
  if (narrowData)
    ops.push_back(llvm::MDNode::get(ctx_, width));
  llvm::MDNode *loopId = llvm::MDNode::getDistinct(ctx_, ops);
  loopId->replaceOperandWith(0, loopId);
  latch->setMetadata(llvm::LLVMContext::MD_loop, loopId);
  b_.SetInsertPoint(exit);
  return acc;
}

llvm::Value *RowEmitter::identity(RowKind kind) {
  switch (kind) {
  case RowKind::Max:
    return llvm::ConstantFP::getInfinity(acc_, /*Negative=*/true);
  case RowKind::Min:
    return llvm::ConstantFP::getInfinity(acc_, /*Negative=*/false);
  case RowKind::Prod:
    return llvm::ConstantFP::get(acc_, 1.0);
  default:
    return llvm::ConstantFP::get(acc_, 0.0);
  }
}

/// acc (op) x, free to be reassociated by the vectorizer.
llvm::Value *RowEmitter::accumulate(RowKind kind, llvm::Value *acc,
                                    llvm::Value *x) {
  switch (kind) {
  case RowKind::Max:
    return b_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, acc, x);
  case RowKind::Min:
    return b_.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, acc, x);
  default:
    break;
  }
  if (acc->getType() != x->getType()) // a long f32 sum, in f64
    x = b_.CreateFPExt(x, acc->getType());
  llvm::IRBuilder<>::FastMathFlagGuard guard(b_);
  llvm::FastMathFlags reassoc;
  reassoc.setAllowReassoc();
  b_.setFastMathFlags(reassoc);
  return kind == RowKind::Prod ? b_.CreateFMul(acc, x) : b_.CreateFAdd(acc, x);
}

void RowEmitter::emitRow() {
  auto exp = [&](llvm::Value *v) { return expValue(b_, v); };
  llvm::Value *n = llvm::ConstantFP::get(acc_, double(cols_));
  llvm::Value *one = llvm::ConstantFP::get(acc_, 1.0);
  auto store = [&](llvm::Value *col, llvm::Value *v) {
    storeElement(b_, result_, v, resultAddress(col), accessGroup_);
  };
  // Pass 1 reads X from the inputs (and stashes it); later ones use readX.
  auto firstPass = [&](const Twine &name, RowKind kind) {
    return columnLoop(name, kind, [&](llvm::Value *col, llvm::Value *acc) {
      llvm::Value *x = computeX(col);
      if (stash_)
        store(col, x);
      return accumulate(kind, acc, x);
    });
  };
  switch (kind_) {
  case RowKind::Sum:
  case RowKind::Mean:
  case RowKind::Max:
  case RowKind::Min:
  case RowKind::Prod: {
    llvm::Value *r = firstPass("reduce", kind_);
    if (kind_ == RowKind::Mean)
      r = b_.CreateFDiv(r, n);
    store(nullptr, r);
    return;
  }
  case RowKind::Softmax:
  case RowKind::LogSoftmax: {
    llvm::Value *m = firstPass("max", RowKind::Max);
    // f32/f64 results keep the exps; 16-bit ones would round them.
    bool keepExps = kind_ == RowKind::Softmax && result_.storage == result_.scalar;
    llvm::Value *s = columnLoop("sum", RowKind::Sum,
                                [&](llvm::Value *col, llvm::Value *acc) {
                                  llvm::Value *e = exp(b_.CreateFSub(readX(col), m));
                                  if (keepExps)
                                    store(col, e);
                                  return accumulate(RowKind::Sum, acc, e);
                                });
    if (kind_ == RowKind::LogSoftmax) {
      llvm::Value *shift = b_.CreateFAdd(
          m, b_.CreateUnaryIntrinsic(llvm::Intrinsic::log, s));
      columnLoop("out", std::nullopt, [&](llvm::Value *col, llvm::Value *) {
        store(col, b_.CreateFSub(readX(col), shift));
        return nullptr;
      });
      return;
    }
    llvm::Value *inv = b_.CreateFDiv(one, s);
    columnLoop("out", std::nullopt, [&](llvm::Value *col, llvm::Value *) {
      llvm::Value *e =
          keepExps ? loadElement(b_, result_, resultAddress(col), accessGroup_)
                   : exp(b_.CreateFSub(readX(col), m));
      store(col, b_.CreateFMul(e, inv));
      return nullptr;
    });
    return;
  }
  case RowKind::LayerNorm: {
    llvm::Value *mean = b_.CreateFDiv(firstPass("mean", RowKind::Sum), n);
    llvm::Value *q = columnLoop("var", RowKind::Sum,
                                [&](llvm::Value *col, llvm::Value *acc) {
                                  llvm::Value *d = b_.CreateFSub(readX(col), mean);
                                  return accumulate(RowKind::Sum, acc,
                                                    b_.CreateFMul(d, d));
                                });
    auto ln = cast<LayerNormOp>(root_);
    llvm::Value *eps = llvm::ConstantFP::get(
        acc_, ln.getEpsilon().convertToDouble());
    llvm::Value *rstd = b_.CreateFDiv(
        one, b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt,
                                     b_.CreateFAdd(b_.CreateFDiv(q, n), eps)));
    // Scale and bias: inputs read per column, or splat immediates.
    auto param = [&](Value v, llvm::Value *col) -> llvm::Value * {
      if (std::optional<double> splat = splatValue(v))
        return llvm::ConstantFP::get(acc_, *splat);
      return input(cast<BlockArgument>(v).getArgNumber(), col);
    };
    columnLoop("out", std::nullopt, [&](llvm::Value *col, llvm::Value *) {
      llvm::Value *y = b_.CreateFMul(
          b_.CreateFMul(b_.CreateFSub(readX(col), mean), rstd),
          param(ln.getScale(), col));
      if (ln.getBias())
        y = b_.CreateFAdd(y, param(ln.getBias(), col));
      store(col, y);
      return nullptr;
    });
    return;
  }
  }
}

std::optional<KernelLaunch> RowEmitter::emit(StringRef symbol,
                                             std::string &why) {
  if (!analyze(why))
    return std::nullopt;
  llvm::Function *fn = createKernelFunction(module_, symbol);
  b_.SetInsertPoint(&fn->getEntryBlock());
  bases_ = loadBufferBases(b_, fn, fusion_.getInputs().size() + 1);
  accessGroup_ = llvm::MDNode::getDistinct(ctx_, {});

  // for (row = begin; row < end; ++row)
  llvm::BasicBlock *pre = b_.GetInsertBlock();
  auto *header = llvm::BasicBlock::Create(ctx_, "row", fn);
  auto *bodyBlock = llvm::BasicBlock::Create(ctx_, "row.body", fn);
  auto *exit = llvm::BasicBlock::Create(ctx_, "row.exit", fn);
  b_.CreateBr(header);
  b_.SetInsertPoint(header);
  llvm::PHINode *row = b_.CreatePHI(b_.getInt64Ty(), 2, "row");
  row->addIncoming(fn->getArg(1), pre);
  b_.CreateCondBr(b_.CreateICmpSLT(row, fn->getArg(2)), bodyBlock, exit);
  b_.SetInsertPoint(bodyBlock);

  Block &body = fusion_.getBodyBlock();
  for (auto &[arg, in] : inputs_) {
    llvm::Value *offset = b_.getInt64(0);
    for (const RowTerm &t : in.rowTerms) {
      llvm::Value *i = row;
      if (t.divisor != 1)
        i = b_.CreateUDiv(i, b_.getInt64(t.divisor));
      if (t.modulus != 0)
        i = b_.CreateURem(i, b_.getInt64(t.modulus));
      offset = b_.CreateAdd(offset, b_.CreateMul(i, b_.getInt64(t.stride)), "",
                            true, true);
    }
    rowOffsets_[arg] = offset;
  }
  // Inputs constant along the row are loaded once per row.
  for (auto &[arg, in] : inputs_)
    if (!in.alongCols)
      rowValues_[body.getArgument(arg)] = input(arg, nullptr);
  bool rowResult = kind_ == RowKind::Softmax || kind_ == RowKind::LogSoftmax ||
                   kind_ == RowKind::LayerNorm;
  resultRow_ = rowResult ? b_.CreateMul(row, b_.getInt64(cols_), "", true, true)
                         : static_cast<llvm::Value *>(row);
  emitRow();
  row->addIncoming(b_.CreateAdd(row, b_.getInt64(1), "", true, true),
                   b_.GetInsertBlock());
  b_.CreateBr(header);
  b_.SetInsertPoint(exit);
  b_.CreateRetVoid();

  KernelLaunch launch;
  launch.outer = rows_;
  launch.grain = std::max<int64_t>(1, kMinElementsPerChunk / cols_);
  emitKernelSignature(fusion_, module_, symbol, launch);
  return launch;
}

} // namespace

std::optional<KernelLaunch> emitRowReductionKernel(FusionOp fusion,
                                                   llvm::Module &module,
                                                   StringRef symbol,
                                                   std::string &why) {
  RowEmitter emitter(fusion, module);
  return emitter.emit(symbol, why);
}

} // namespace mlir::kiln::cpu
