//===- KernelEmitter.cpp - A fused loop kernel as an LLVM function --------===//
//
// A "loop" fusion computes every result element from the elements of its
// inputs at the same (broadcast) index. The emitter views the result shape
// as a few collapsed dimensions: unit dimensions are dropped and neighbours
// merged wherever every input steps through them contiguously, so a bias
// add over [8, 128] stays 2-D while a residual add collapses to 1-D. Inputs
// get stride 0 on broadcast dimensions and are loaded at the outermost loop
// that changes them. The innermost loop carries llvm.loop.parallel_accesses:
// iterations never depend on each other (the result may alias an input
// only element for element, which the memory plan guarantees and the
// driver re-checks), so the vectorizer needs no runtime alias checks.
//
// The outermost collapsed dimension is the parallel range the runtime
// splits over threads; a 1-D kernel is cut into blocks of kBlock elements.
//
// A kiln.slice of an input (positive steps) is read as one more operand: the
// input's buffer at a constant element offset, with the input's row-major
// strides times the steps, broadcast into the result's index space like any
// input. An input read only through slices is never loaded directly.
//
//===----------------------------------------------------------------------===//
#include "KernelEmitter.h"

#include "ScalarOps.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

#include <algorithm>

using namespace mlir;

namespace mlir::kiln::cpu {
namespace {

/// Elements per parallel step of a 1-D kernel.
constexpr int64_t kBlock = 4096;
/// Elements a thread should get at least, so that small kernels stay on
/// the calling thread; divided by 1 + 4 per transcendental op of the
/// kernel (an exp or tanh costs ~20 adds): an LSTM step's gate kernel (32x128,
/// five of them) took ~16 us on one thread and is worth splitting.
constexpr int64_t kMinElementsPerChunk = 32768;

/// The transcendental ops in a fused body (see kMinElementsPerChunk).
int64_t transcendentalOps(Block &body) {
  int64_t n = 0;
  for (Operation &op : body.without_terminator()) {
    StringRef name = op.getName().stripDialect();
    n += llvm::is_contained({"exp", "log", "tanh", "sigmoid", "gelu", "silu",
                             "softplus", "erf", "elu", "sin", "cos", "pow"},
                            name);
  }
  return n;
}

struct Operand : ElementStorage {
  SmallVector<int64_t> strides; // per collapsed dimension, in elements
  /// What a load of this operand defines: a block argument read directly,
  /// a slice of one, or nothing (results, inputs read only through slices).
  Value read;
  /// The buffer (input or result index) and the element offset in it.
  size_t buffer = 0;
  int64_t offset = 0;
};

class Emitter {
public:
  Emitter(FusionOp fusion, llvm::Module &module)
      : fusion_(fusion), module_(module), ctx_(module.getContext()),
        b_(ctx_) {}

  std::optional<KernelLaunch> emit(StringRef symbol, std::string &why);

private:
  bool planDimensions(std::string &why);
  void emitLoops(size_t dim, SmallVector<llvm::Value *> offsets,
                 llvm::Value *lo, llvm::Value *hi);
  void emitElement(ArrayRef<llvm::Value *> offsets);
  void loadInvariantInputs(size_t dim, ArrayRef<llvm::Value *> offsets);
  llvm::Value *address(size_t operand, llvm::Value *offset);
  void markParallel(llvm::BranchInst *latch);

  FusionOp fusion_;
  llvm::Module &module_;
  llvm::LLVMContext &ctx_;
  llvm::IRBuilder<> b_;
  llvm::Type *i64_ = nullptr;

  SmallVector<int64_t> dims_;         // collapsed result shape
  SmallVector<Operand> operands_;     // inputs, results, then slices
  SmallVector<llvm::Value *> bases_;  // their base pointers
  DenseMap<Value, llvm::Value *> values_; // block arguments and op results
  llvm::MDNode *accessGroup_ = nullptr;
  bool oneDimensional_ = false;
};

} // namespace

std::optional<SmallVector<int64_t>>
broadcastStrides(ArrayRef<int64_t> s, ArrayRef<int64_t> shape,
                 std::string &why) {
  size_t rank = shape.size();
  if (s.size() > rank) {
    why = "an input of higher rank than";
    return std::nullopt;
  }
  SmallVector<int64_t> strides(rank, 0);
  int64_t step = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    size_t d = rank - 1 - i, sd = s.size() - 1 - i;
    if (s[sd] == shape[d])
      strides[d] = s[sd] == 1 ? 0 : step;
    else if (s[sd] != 1) {
      why = "an input that does not broadcast to";
      return std::nullopt;
    }
    step *= s[sd];
  }
  return strides;
}

namespace {

bool Emitter::planDimensions(std::string &why) {
  auto resultType = cast<RankedTensorType>(fusion_.getResult(0).getType());
  for (Value r : fusion_.getResults())
    if (cast<RankedTensorType>(r.getType()).getShape() != resultType.getShape()) {
      why = "results of different shapes";
      return false;
    }
  ArrayRef<int64_t> shape = resultType.getShape();
  size_t rank = shape.size();
  Block &body = fusion_.getBodyBlock();
  size_t numInputs = fusion_.getInputs().size();
  // Row-major strides of every operand against the result's index space.
  SmallVector<SmallVector<int64_t>> full;
  SmallVector<Value> values(fusion_.getInputs());
  values.append(fusion_->result_begin(), fusion_->result_end());
  for (auto [j, v] : llvm::enumerate(values)) {
    auto type = cast<RankedTensorType>(v.getType());
    Operand op;
    op.buffer = j;
    Value arg = j < numInputs ? body.getArgument(j) : Value();
    bool direct = !arg || llvm::any_of(arg.getUsers(), [](Operation *u) {
      return !isa<SliceOp>(u);
    });
    if (direct) {
      std::optional<SmallVector<int64_t>> strides =
          broadcastStrides(type.getShape(), shape, why);
      if (!strides) {
        why += " the result";
        return false;
      }
      full.push_back(std::move(*strides));
      op.read = arg;
    } else {
      full.push_back(SmallVector<int64_t>(rank, 0));
    }
    auto storage = elementStorageOf(type.getElementType(), ctx_, why);
    if (!storage)
      return false;
    static_cast<ElementStorage &>(op) = *storage;
    operands_.push_back(op);
  }
  // Slices of inputs: an offset into the input's buffer and its row-major
  // strides times the steps, then broadcast into the result like an input.
  for (Operation &o : body.without_terminator()) {
    auto slice = dyn_cast<SliceOp>(o);
    if (!slice)
      continue;
    auto arg = dyn_cast<BlockArgument>(slice.getInput());
    if (!arg || arg.getOwner() != &body) {
      why = "a slice of a value computed in the kernel";
      return false;
    }
    ArrayRef<int64_t> in = slice.getInput().getType().getShape();
    ArrayRef<int64_t> out = slice.getType().getShape();
    if (out.size() > rank) {
      why = "a slice of higher rank than the result";
      return false;
    }
    Operand op = operands_[arg.getArgNumber()];
    op.read = slice.getResult();
    op.strides.clear();
    SmallVector<int64_t> natural(in.size());
    int64_t step = 1;
    for (size_t k = in.size(); k-- > 0;) {
      int64_t sliceStep = slice.getSteps().empty() ? 1 : slice.getSteps()[k];
      if (sliceStep <= 0) {
        why = "a slice with a negative step";
        return false;
      }
      int64_t start = slice.getStarts()[k];
      start = std::clamp<int64_t>(start < 0 ? start + in[k] : start, 0, in[k]);
      op.offset += start * step;
      natural[k] = step * sliceStep;
      step *= in[k];
    }
    SmallVector<int64_t> strides(rank, 0);
    for (size_t i = 0; i < out.size(); ++i) {
      size_t d = rank - 1 - i, k = out.size() - 1 - i;
      if (out[k] == shape[d])
        strides[d] = out[k] == 1 ? 0 : natural[k];
      else if (out[k] != 1) {
        why = "a slice that does not broadcast to the result";
        return false;
      }
    }
    full.push_back(std::move(strides));
    operands_.push_back(op);
  }
  // Drop unit dimensions; merge d into the previous kept one when every
  // operand steps through both as one run.
  for (size_t d = 0; d < rank; ++d) {
    if (shape[d] == 1)
      continue;
    bool merge = !dims_.empty();
    for (size_t j = 0; merge && j < full.size(); ++j)
      merge = operands_[j].strides.back() == full[j][d] * shape[d];
    if (merge) {
      dims_.back() *= shape[d];
      for (size_t j = 0; j < full.size(); ++j)
        operands_[j].strides.back() = full[j][d];
      continue;
    }
    dims_.push_back(shape[d]);
    for (size_t j = 0; j < full.size(); ++j)
      operands_[j].strides.push_back(full[j][d]);
  }
  if (dims_.empty()) { // a scalar result
    dims_.push_back(1);
    for (Operand &op : operands_)
      op.strides.push_back(0);
  }
  oneDimensional_ = dims_.size() == 1;
  return true;
}

llvm::Value *Emitter::address(size_t operand, llvm::Value *offset) {
  return b_.CreateInBoundsGEP(operands_[operand].storage, bases_[operand],
                              offset);
}

void Emitter::markParallel(llvm::BranchInst *latch) {
  llvm::Metadata *parallel[] = {
      llvm::MDString::get(ctx_, "llvm.loop.parallel_accesses"), accessGroup_};
  llvm::Metadata *ops[] = {nullptr, llvm::MDNode::get(ctx_, parallel)};
  llvm::MDNode *loopId = llvm::MDNode::getDistinct(ctx_, ops);
  loopId->replaceOperandWith(0, loopId);
  latch->setMetadata(llvm::LLVMContext::MD_loop, loopId);
}

/// Loads the inputs (and slices of them) that no dimension after `dim`
/// moves.
void Emitter::loadInvariantInputs(size_t dim, ArrayRef<llvm::Value *> offsets) {
  for (auto [j, operand] : llvm::enumerate(operands_)) {
    if (!operand.read || values_.count(operand.read))
      continue;
    ArrayRef<int64_t> s = operand.strides;
    if (!llvm::all_of(s.drop_front(dim + 1), [](int64_t x) { return x == 0; }))
      continue;
    values_[operand.read] =
        loadElement(b_, operand, address(j, offsets[j]), accessGroup_);
  }
}

void Emitter::emitElement(ArrayRef<llvm::Value *> offsets) {
  Block &body = fusion_.getBodyBlock();
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    if (!isa<SliceOp>(op)) // loaded as operands
      ops.push_back(&op);
  emitElementOps(ops, values_, b_);
  auto yield = cast<YieldOp>(body.getTerminator());
  size_t numInputs = fusion_.getInputs().size();
  for (auto [i, v] : llvm::enumerate(yield.getValues())) {
    size_t j = numInputs + i;
    storeElement(b_, operands_[j], values_.lookup(v), address(j, offsets[j]),
                 accessGroup_);
  }
}

/// Emits the loop over collapsed dimension `dim`, from lo to hi, with
/// `offsets` the element offsets of every operand at its start.
void Emitter::emitLoops(size_t dim, SmallVector<llvm::Value *> offsets,
                        llvm::Value *lo, llvm::Value *hi) {
  llvm::Function *fn = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *pre = b_.GetInsertBlock();
  auto *header = llvm::BasicBlock::Create(ctx_, "d" + Twine(dim), fn);
  auto *bodyBlock = llvm::BasicBlock::Create(ctx_, "d" + Twine(dim) + ".body", fn);
  auto *exit = llvm::BasicBlock::Create(ctx_, "d" + Twine(dim) + ".exit", fn);
  b_.CreateBr(header);
  b_.SetInsertPoint(header);
  llvm::PHINode *iv = b_.CreatePHI(i64_, 2, "i" + Twine(dim));
  iv->addIncoming(lo, pre);
  b_.CreateCondBr(b_.CreateICmpSLT(iv, hi), bodyBlock, exit);
  b_.SetInsertPoint(bodyBlock);

  SmallVector<llvm::Value *> inner;
  for (auto [j, op] : llvm::enumerate(operands_)) {
    int64_t s = op.strides[dim];
    inner.push_back(s == 0 ? offsets[j]
                           : b_.CreateAdd(offsets[j],
                                          b_.CreateMul(iv, b_.getInt64(s))));
  }
  // Values loaded or computed inside this loop are scoped to it.
  DenseMap<Value, llvm::Value *> outerValues = values_;
  loadInvariantInputs(dim, inner);
  bool innermost = dim + 1 == dims_.size();
  if (innermost)
    emitElement(inner);
  else
    emitLoops(dim + 1, inner, b_.getInt64(0), b_.getInt64(dims_[dim + 1]));
  values_ = std::move(outerValues);

  llvm::Value *next = b_.CreateAdd(iv, b_.getInt64(1), "", /*HasNUW=*/true,
                                   /*HasNSW=*/true);
  iv->addIncoming(next, b_.GetInsertBlock());
  llvm::BranchInst *latch = b_.CreateBr(header);
  if (innermost)
    markParallel(latch);
  b_.SetInsertPoint(exit);
}

std::optional<KernelLaunch> Emitter::emit(StringRef symbol, std::string &why) {
  Block &body = fusion_.getBodyBlock();
  for (Operation &op : body.without_terminator())
    if (!isa<SliceOp>(op) && !canEmitElementOp(&op, why))
      return std::nullopt;
  auto yield = cast<YieldOp>(body.getTerminator());
  for (Value v : yield.getValues())
    if (!v.getDefiningOp() || isa<ConstantOp>(v.getDefiningOp())) {
      why = "a result that is an input or a constant";
      return std::nullopt;
    }
  if (!planDimensions(why))
    return std::nullopt;

  i64_ = b_.getInt64Ty();
  llvm::Function *fn = createKernelFunction(module_, symbol);
  b_.SetInsertPoint(&fn->getEntryBlock());
  size_t numBuffers =
      fusion_.getInputs().size() + fusion_.getNumResults();
  bases_ = loadBufferBases(b_, fn, numBuffers);
  for (size_t j = numBuffers; j < operands_.size(); ++j)
    bases_.push_back(b_.CreateInBoundsGEP(
        operands_[j].storage, bases_[operands_[j].buffer],
        b_.getInt64(operands_[j].offset)));
  accessGroup_ = llvm::MDNode::getDistinct(ctx_, {});

  KernelLaunch launch;
  const int64_t chunk =
      kMinElementsPerChunk / (1 + 4 * transcendentalOps(body));
  SmallVector<llvm::Value *> zero(operands_.size(), b_.getInt64(0));
  int64_t total = 1;
  for (int64_t d : dims_)
    total *= d;
  if (oneDimensional_) {
    // One loop, cut into blocks: [begin, end) counts blocks.
    // Blocks of kBlock, smaller for costly elements so that a kernel of a
    // few thousand can still be split (multiples of 64: whole vectors).
    const int64_t block = std::clamp<int64_t>(chunk / 2 / 64 * 64, 512, kBlock);
    launch.outer = (dims_[0] + block - 1) / block;
    llvm::Value *lo = b_.CreateMul(fn->getArg(1), b_.getInt64(block));
    llvm::Value *hi = b_.CreateBinaryIntrinsic(
        llvm::Intrinsic::smin, b_.CreateMul(fn->getArg(2), b_.getInt64(block)),
        b_.getInt64(dims_[0]));
    emitLoops(0, zero, lo, hi);
    launch.grain = std::max<int64_t>(1, chunk / block);
  } else {
    launch.outer = dims_[0];
    emitLoops(0, zero, fn->getArg(1), fn->getArg(2));
    int64_t inner = dims_[0] == 0 ? 0 : total / dims_[0];
    launch.grain =
        inner == 0 ? 1 : std::max<int64_t>(1, chunk / inner);
  }
  b_.CreateRetVoid();
  emitKernelSignature(fusion_, module_, symbol, launch);
  return launch;
}

} // namespace

std::optional<KernelLaunch> emitLoopKernel(FusionOp fusion, llvm::Module &module,
                                           StringRef symbol, std::string &why) {
  Emitter emitter(fusion, module);
  return emitter.emit(symbol, why);
}

std::optional<ElementStorage> elementStorageOf(Type elementType,
                                               llvm::LLVMContext &ctx,
                                               std::string &why) {
  ElementStorage s;
  s.scalar = scalarTypeOf(elementType, ctx, why);
  if (!s.scalar)
    return std::nullopt;
  s.bf16 = elementType.isBF16();
  s.storage = s.scalar->isIntegerTy(1) ? llvm::Type::getInt8Ty(ctx)
              : elementType.isF16()   ? llvm::Type::getHalfTy(ctx)
              : s.bf16                ? llvm::Type::getInt16Ty(ctx)
                                      : s.scalar;
  return s;
}

llvm::Value *loadElement(llvm::IRBuilder<> &b, const ElementStorage &s,
                         llvm::Value *ptr, llvm::MDNode *accessGroup) {
  llvm::LoadInst *load = b.CreateLoad(s.storage, ptr);
  if (accessGroup)
    load->setMetadata(llvm::LLVMContext::MD_access_group, accessGroup);
  if (s.storage->isHalfTy())
    return b.CreateFPExt(load, s.scalar);
  if (s.bf16)
    return bf16BitsToFloat(b, load);
  if (s.scalar != s.storage)
    return b.CreateICmpNE(load, llvm::ConstantInt::get(s.storage, 0));
  return load;
}

void storeElement(llvm::IRBuilder<> &b, const ElementStorage &s, llvm::Value *x,
                  llvm::Value *ptr, llvm::MDNode *accessGroup) {
  if (s.storage->isHalfTy())
    x = b.CreateFPTrunc(x, s.storage);
  else if (s.bf16)
    x = floatToBF16Bits(b, x);
  else if (s.scalar != s.storage)
    x = b.CreateZExt(x, s.storage);
  llvm::StoreInst *store = b.CreateStore(x, ptr);
  if (accessGroup)
    store->setMetadata(llvm::LLVMContext::MD_access_group, accessGroup);
}

bool canEmitElementOp(Operation *op, std::string &why) {
  if (auto c = dyn_cast<ConstantOp>(op)) {
    auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
    if (!dense || !dense.isSplat()) {
      why = "a non-splat constant inside the kernel";
      return false;
    }
    llvm::LLVMContext probe;
    return scalarTypeOf(dense.getElementType(), probe, why) != nullptr;
  }
  return canEmitScalar(op, why);
}

void emitElementOps(ArrayRef<Operation *> ops,
                    DenseMap<Value, llvm::Value *> &values,
                    llvm::IRBuilder<> &b) {
  llvm::LLVMContext &ctx = b.getContext();
  for (Operation *op : ops) {
    if (auto c = dyn_cast<ConstantOp>(op)) {
      auto dense = cast<DenseElementsAttr>(c.getValue());
      std::string why;
      llvm::Type *t = scalarTypeOf(dense.getElementType(), ctx, why);
      if (t->isFloatingPointTy()) {
        APFloat value = dense.getSplatValue<APFloat>();
        bool lost;
        value.convert(t->getFltSemantics(), APFloat::rmNearestTiesToEven, &lost);
        values[c.getResult()] = llvm::ConstantFP::get(t, value);
      } else {
        values[c.getResult()] =
            llvm::ConstantInt::get(t, dense.getSplatValue<APInt>());
      }
      continue;
    }
    SmallVector<llvm::Value *> args;
    for (Value v : op->getOperands())
      args.push_back(values.lookup(v));
    llvm::Value *r = emitScalar(op, args, b);
    Type et = cast<ShapedType>(op->getResult(0).getType()).getElementType();
    if (et.isF16())
      r = b.CreateFPExt(b.CreateFPTrunc(r, b.getHalfTy()), r->getType());
    else if (et.isBF16())
      r = bf16BitsToFloat(b, floatToBF16Bits(b, r));
    values[op->getResult(0)] = r;
  }
}

SmallVector<llvm::Value *> loadBufferBases(llvm::IRBuilder<> &b,
                                           llvm::Function *fn, size_t count) {
  SmallVector<llvm::Value *> bases;
  llvm::Type *ptr = b.getPtrTy();
  for (size_t j = 0; j < count; ++j) {
    llvm::Value *slot = b.CreateConstInBoundsGEP1_64(ptr, fn->getArg(0), j);
    auto *base = b.CreateLoad(ptr, slot, "buf" + Twine(j));
    base->setMetadata(llvm::LLVMContext::MD_invariant_load,
                      llvm::MDNode::get(b.getContext(), {}));
    bases.push_back(base);
  }
  return bases;
}

llvm::Function *createKernelFunction(llvm::Module &module, StringRef symbol) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Type *ptr = llvm::PointerType::getUnqual(ctx);
  llvm::Type *i64 = llvm::Type::getInt64Ty(ctx);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx),
                                       {ptr, i64, i64}, false);
  auto *fn = llvm::Function::Create(type, llvm::Function::ExternalLinkage,
                                    symbol, module);
  fn->setDoesNotThrow();
  fn->addFnAttr("frame-pointer", "none");
  fn->getArg(0)->setName("buffers");
  fn->getArg(1)->setName("begin");
  fn->getArg(2)->setName("end");
  llvm::BasicBlock::Create(ctx, "entry", fn);
  return fn;
}

void emitKernelSignature(FusionOp fusion, llvm::Module &module,
                         StringRef symbol, const KernelLaunch &launch) {
  SmallVector<Value> values(fusion.getInputs());
  values.append(fusion->result_begin(), fusion->result_end());
  SmallVector<uint64_t> words = {values.size(), uint64_t(launch.outer)};
  for (Value v : values) {
    auto type = cast<RankedTensorType>(v.getType());
    unsigned bits = type.getElementTypeBitWidth();
    words.push_back(uint64_t(type.getNumElements()) * (bits == 1 ? 1 : bits / 8));
  }
  auto *init = llvm::ConstantDataArray::get(module.getContext(), words);
  new llvm::GlobalVariable(module, init->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, init,
                           symbol + "_signature");
}

} // namespace mlir::kiln::cpu
