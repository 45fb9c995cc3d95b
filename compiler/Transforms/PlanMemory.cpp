//===- PlanMemory.cpp - One arena for every intermediate tensor -----------===//
//
// 1. Buffers: every result of a top-level op that a kernel writes. Views
//    (reshape) alias their operand's buffer; constants and parameters live
//    apart; function arguments belong to the caller.
// 2. Live ranges in program order; a buffer returned by the function lives
//    to the end.
// 3. In place: an elementwise fusion may write over an input buffer of the
//    same byte size whose live range ends at that op (and which no view
//    still reads): the two share one buffer and one range.
// 4. Placement: greedy by size: largest first, each at the lowest 64-byte
//    aligned offset overlapping no placed buffer with an intersecting range.
//
// A buffer that holds a function result (or a view the function returns)
// is not placed: it gets no offset, so the .kiln file stores it as a
// temporary, which the executor allocates fresh for each run and hands to
// the caller as it is. Results in the arena were copied out at the end of
// every run (3-5 ms of a 64 MiB softmax's 12 ms run here). Nor does a
// result take over a dying operand's buffer in place.
//
//===----------------------------------------------------------------------===//
#include "OpClasses.h"
#include "kiln/Compiler/Transforms/Passes.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_PLANMEMORY
#include "kiln/Compiler/Transforms/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

constexpr int64_t kAlignment = 64;

int64_t alignUp(int64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

int64_t byteSize(Type type) {
  auto t = cast<RankedTensorType>(type);
  int64_t bits = t.getElementTypeBitWidth();
  int64_t bytes = bits == 1 ? 1 : bits / 8; // i1 is stored as one byte
  return t.getNumElements() * bytes;
}

struct Buffer {
  int64_t size = 0;
  int64_t first = 0, last = 0; // live range, op indices, inclusive
  int64_t offset = -1;
};

struct PlanMemoryPass : mlir::kiln::impl::PlanMemoryBase<PlanMemoryPass> {
  using PlanMemoryBase::PlanMemoryBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    Block &body = func.getBody().front();
    SmallVector<Buffer> buffers;
    DenseMap<Value, int64_t> bufferOf; // value -> index into buffers
    DenseMap<Operation *, int64_t> index;
    int64_t n = 0;
    for (Operation &op : body)
      index[&op] = n++;

    // Last use of every value, in op indices; returned values live to the end.
    DenseMap<Value, int64_t> lastUse;
    for (Operation &op : body)
      for (Value operand : op.getOperands())
        lastUse[operand] = isa<func::ReturnOp>(op) ? n : index[&op];
    auto lastUseOf = [&](Value v) {
      auto it = lastUse.find(v);
      return it == lastUse.end() ? int64_t(-1) : it->second;
    };

    // 1-3. Buffers, live ranges, in-place reuse.
    for (Operation &op : body) {
      int64_t i = index[&op];
      if (!isa<KilnDialect>(op.getDialect()))
        continue;
      OpRole role = classify(&op).role;
      if (role == OpRole::Source)
        continue;
      if (role == OpRole::View) {
        if (auto it = bufferOf.find(op.getOperand(0)); it != bufferOf.end()) {
          // Copy before inserting: the insertion may grow the map and leave
          // `it` dangling (ASan caught it on PyTorch's opset-17 attention).
          auto source = it->second;
          bufferOf[op.getResult(0)] = source;
          Buffer &b = buffers[source];
          b.last = std::max(b.last, lastUseOf(op.getResult(0)));
        }
        continue;
      }
      for (Value result : op.getResults()) {
        int64_t size = byteSize(result.getType());
        // Views share their source's buffer and extended its range, so
        // `last == i` means nothing reads the buffer after this op.
        if (inPlace && isInPlaceCandidate(op) && lastUseOf(result) != n) {
          auto reusable = llvm::find_if(op.getOpOperands(), [&](OpOperand &operand) {
            auto it = bufferOf.find(operand.get());
            return it != bufferOf.end() && buffers[it->second].last == i &&
                   buffers[it->second].size == size &&
                   !isReadAtOffset(op, operand.getOperandNumber());
          });
          if (reusable != op.getOpOperands().end()) {
            int64_t b = bufferOf[reusable->get()];
            bufferOf[result] = b;
            buffers[b].last = std::max(i, lastUseOf(result));
            continue;
          }
        }
        bufferOf[result] = buffers.size();
        buffers.push_back({size, i, std::max(i, lastUseOf(result)), -1});
      }
    }
    // Buffers that hold what the function returns: not in the arena.
    llvm::DenseSet<int64_t> returned;
    for (Value v : body.getTerminator()->getOperands())
      if (auto it = bufferOf.find(v); it != bufferOf.end())
        returned.insert(it->second);

    // 4. Greedy by size.
    SmallVector<int64_t> order;
    for (size_t k = 0; k < buffers.size(); ++k)
      if (!returned.contains(int64_t(k)))
        order.push_back(int64_t(k));
    llvm::stable_sort(order, [&](int64_t a, int64_t b) {
      return buffers[a].size > buffers[b].size;
    });
    SmallVector<int64_t> placed;
    int64_t arena = 0;
    for (int64_t k : order) {
      Buffer &b = buffers[k];
      // Placed buffers whose range meets b's, by offset.
      SmallVector<Buffer *> overlapping;
      for (int64_t p : placed) {
        Buffer &q = buffers[p];
        if (q.first <= b.last && b.first <= q.last)
          overlapping.push_back(&q);
      }
      llvm::sort(overlapping,
                 [](Buffer *x, Buffer *y) { return x->offset < y->offset; });
      int64_t offset = 0;
      for (Buffer *q : overlapping) {
        if (offset + b.size <= q->offset)
          break;
        offset = std::max(offset, alignUp(q->offset + q->size));
      }
      b.offset = offset;
      arena = std::max(arena, alignUp(offset + b.size));
      placed.push_back(k);
    }

    // Lower bound: the largest total of buffers live at one time.
    int64_t lowerBound = 0, noReuse = 0;
    for (int64_t k : order)
      noReuse += alignUp(buffers[k].size);
    for (int64_t t = 0; t <= n; ++t) {
      int64_t live = 0;
      for (int64_t k : order)
        if (buffers[k].first <= t && t <= buffers[k].last)
          live += alignUp(buffers[k].size);
      lowerBound = std::max(lowerBound, live);
    }

    Builder builder(&getContext());
    for (Operation &op : body) {
      if (op.getNumResults() == 0 || !isa<KilnDialect>(op.getDialect()))
        continue;
      SmallVector<int64_t> offsets;
      for (Value r : op.getResults()) {
        auto it = bufferOf.find(r);
        offsets.push_back(it == bufferOf.end() ? -1
                                               : buffers[it->second].offset);
      }
      if (llvm::any_of(offsets, [](int64_t o) { return o >= 0; }))
        op.setAttr("kiln.offsets", builder.getDenseI64ArrayAttr(offsets));
    }
    func->setAttr("kiln.arena_size", builder.getI64IntegerAttr(arena));
    func->setAttr("kiln.arena_lower_bound", builder.getI64IntegerAttr(lowerBound));
    func->setAttr("kiln.arena_no_reuse", builder.getI64IntegerAttr(noReuse));
    if (report)
      func.emitRemark() << "arena " << arena << " bytes (lower bound "
                        << lowerBound << ", without reuse " << noReuse << ", "
                        << order.size() << " buffers; " << returned.size()
                        << " returned)";
  }

  /// Elementwise kernels read element i before writing element i, so
  /// writing over a same-sized input is safe. Broadcast inputs differ in
  /// size and never qualify.
  /// A fusion input that a slice in its body reads: element i of the
  /// result is not written over element i of what the kernel reads, so
  /// the result may not share its buffer.
  static bool isReadAtOffset(Operation &op, unsigned operand) {
    auto fusion = dyn_cast<FusionOp>(op);
    return fusion &&
           llvm::any_of(fusion.getBodyBlock().getArgument(operand).getUsers(),
                        [](Operation *u) { return isa<SliceOp>(u); });
  }

  static bool isInPlaceCandidate(Operation &op) {
    if (auto fusion = dyn_cast<FusionOp>(op))
      return fusion.getKind() == "loop";
    return classify(&op).role == OpRole::Elementwise;
  }
};

} // namespace
