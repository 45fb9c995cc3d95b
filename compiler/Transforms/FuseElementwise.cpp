//===- FuseElementwise.cpp - Elementwise chains into kiln.fusion kernels --===//
//
// Producer-consumer fusion on the top-level ops of a function. Groups are
// rooted at elementwise ops and reductions, from the last op backwards, and
// grow by pulling in elementwise producers. Candidates are visited latest
// first, so when a producer is judged every user that could join the group
// already has. See Passes.td for the cost rules.
//
// Static slices join loop groups as reads at an offset (XLA's approach): a
// slice member reads one of the kernel's inputs through its bounds, so its
// operand always stays an input. Before grouping, slices are moved above the
// elementwise ops they select from (slice(add(a, b)) -> add(slice(a),
// slice(b))) where that adds no work, so that a computation split into
// column blocks (an LSTM's four gates) fuses with what consumes the blocks.
// A producer that is also read after the root becomes an extra result of
// the group (multi-output fusion) instead of a kernel of its own.
//
//===----------------------------------------------------------------------===//
#include "OpClasses.h"
#include "kiln/Compiler/Transforms/Passes.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Support/Shapes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>
#include <set>

namespace mlir::kiln {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "kiln/Compiler/Transforms/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct Group {
  Operation *root = nullptr;
  /// Members, including the root; cloned ones are also kept outside.
  llvm::SmallPtrSet<Operation *, 8> members;
  llvm::SmallPtrSet<Operation *, 4> cloned;
  llvm::SmallPtrSet<Operation *, 4> splatConstants;
  /// Members that ops after the root also read: extra results, in the
  /// order they joined.
  SmallVector<Operation *> extraResults;
  /// Values that slice members read: they must stay inputs (a slice reads
  /// a buffer at an offset; it cannot select from a value computed in the
  /// same pass over the elements).
  llvm::SmallPtrSet<Value, 4> sliced;
};

RankedTensorType tensorOf(Value v) { return cast<RankedTensorType>(v.getType()); }

int64_t elementsOf(Value v) { return tensorOf(v).getNumElements(); }

/// A slice that a loop kernel can read as an offset view of its operand:
/// positive steps and at least one element.
bool isFusableSlice(Operation *op) {
  auto slice = dyn_cast<SliceOp>(op);
  return slice && elementsOf(slice.getResult()) > 0 &&
         llvm::all_of(slice.getSteps(), [](int64_t s) { return s > 0; });
}

/// Dropout draws its random numbers by element index: computing it on a
/// slice would draw other numbers. Broadcast_to takes its shape from its
/// result type, not from its operands.
bool canSinkSliceThrough(Operation *op) {
  return classify(op).role == OpRole::Elementwise && op->getNumResults() == 1 &&
         !isa<DropoutOp, BroadcastToOp>(op);
}

/// The slice of an operand of `producer` (numpy-broadcast to its shape)
/// that `slice` of the producer's result reads: a broadcast dim is kept
/// whole, the others take the slice's bounds. Returns the operand itself
/// when the slice keeps all of it.
Value sliceOperand(OpBuilder &builder, SliceOp slice, Value operand) {
  ArrayRef<int64_t> out = tensorOf(slice.getInput()).getShape();
  ArrayRef<int64_t> in = tensorOf(operand).getShape();
  size_t lead = out.size() - in.size();
  SmallVector<int64_t> starts, ends, steps;
  bool whole = true;
  for (size_t k = 0; k < in.size(); ++k) {
    size_t d = lead + k;
    int64_t step = slice.getSteps().empty() ? 1 : slice.getSteps()[d];
    if (in[k] == 1 && out[d] != 1) {
      starts.push_back(0);
      ends.push_back(1);
      steps.push_back(1);
      continue;
    }
    starts.push_back(slice.getStarts()[d]);
    ends.push_back(slice.getEnds()[d]);
    steps.push_back(step);
    int64_t start = starts.back() < 0 ? starts.back() + in[k] : starts.back();
    whole &= step == 1 && start <= 0 && ends.back() >= in[k];
  }
  if (whole)
    return operand;
  // A slice of a slice (an unrolled recurrence's step t of its input
  // projection, split into gates) is one slice of the first one's input,
  // so that the kernel reads that input at an offset instead of the inner
  // slice being copied out first.
  if (auto inner = operand.getDefiningOp<SliceOp>();
      inner && isFusableSlice(inner) && tensorOf(inner.getInput()).hasStaticShape()) {
    ArrayRef<int64_t> src = tensorOf(inner.getInput()).getShape();
    SmallVector<int64_t> s2, e2, k2;
    for (size_t k = 0; k < in.size(); ++k) {
      int64_t k1 = inner.getSteps().empty() ? 1 : inner.getSteps()[k];
      namespace shapes = ::kiln::shapes;
      shapes::SliceRange r = shapes::composeSlices(
          shapes::resolveSlice(inner.getStarts()[k], inner.getEnds()[k], k1, src[k]),
          shapes::resolveSlice(starts[k], ends[k], steps[k], in[k]));
      s2.push_back(r.start);
      e2.push_back(r.end);
      k2.push_back(r.step);
    }
    return builder.create<SliceOp>(slice.getLoc(), inner.getInput(),
                                   builder.getDenseI64ArrayAttr(s2),
                                   builder.getDenseI64ArrayAttr(e2),
                                   builder.getDenseI64ArrayAttr(k2));
  }
  return builder.create<SliceOp>(slice.getLoc(), operand,
                                 builder.getDenseI64ArrayAttr(starts),
                                 builder.getDenseI64ArrayAttr(ends),
                                 builder.getDenseI64ArrayAttr(steps));
}

/// slice(ew(a, b)) -> ew(slice(a), slice(b)) for an elementwise op read only
/// by fusable slices whose users are all elementwise (so each slice, and the
/// op computed on it, joins its consumer's loop kernel), when the slices
/// together select no more elements than the op computes: no work is
/// added, and the op's full result is never stored.
void sinkSlicesIntoProducers(Block &body) {
  // A set: sinking erases every slice of a producer, not only the one
  // popped, and those must leave the worklist.
  llvm::SetVector<Operation *> worklist;
  for (Operation &op : body)
    if (isa<SliceOp>(op))
      worklist.insert(&op);
  OpBuilder builder(body.getParentOp()->getContext());
  while (!worklist.empty()) {
    auto slice = cast<SliceOp>(worklist.pop_back_val());
    Operation *producer = slice.getInput().getDefiningOp();
    if (!producer || producer->getBlock() != &body ||
        !canSinkSliceThrough(producer))
      continue;
    int64_t selected = 0;
    bool sinkable = true;
    for (Operation *user : producer->getUsers()) {
      sinkable &= isFusableSlice(user) &&
                  llvm::all_of(user->getUsers(), [](Operation *u) {
                    return classify(u).role == OpRole::Elementwise;
                  });
      if (!sinkable)
        break;
      selected += elementsOf(user->getResult(0));
    }
    if (!sinkable || producer->use_empty() ||
        selected > elementsOf(producer->getResult(0)))
      continue;
    Type element = tensorOf(producer->getResult(0)).getElementType();
    for (Operation *user : llvm::make_early_inc_range(producer->getUsers())) {
      auto s = cast<SliceOp>(user);
      builder.setInsertionPoint(s);
      IRMapping operands;
      for (Value operand : producer->getOperands()) {
        if (operands.contains(operand)) // add(x, x): one slice of x
          continue;
        Value v = sliceOperand(builder, s, operand);
        if (v != operand)
          worklist.insert(v.getDefiningOp());
        operands.map(operand, v);
      }
      Operation *computed = builder.clone(*producer, operands);
      computed->setLoc(s.getLoc());
      computed->getResult(0).setType(
          RankedTensorType::get(s.getType().getShape(), element));
      s.getResult().replaceAllUsesWith(computed->getResult(0));
      worklist.remove(s);
      s->erase();
    }
    producer->erase();
  }
}

bool isSplatConstant(Operation *op) {
  auto c = dyn_cast<ConstantOp>(op);
  auto dense = c ? dyn_cast<DenseElementsAttr>(c.getValue()) : nullptr;
  return dense && dense.isSplat();
}

struct FuseElementwisePass : mlir::kiln::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    Block &body = func.getBody().front();
    sinkSlicesIntoProducers(body);
    DenseMap<Operation *, int64_t> position;
    SmallVector<Operation *> ops;
    for (Operation &op : body) {
      position[&op] = ops.size();
      ops.push_back(&op);
    }

    // Each group is outlined as soon as it is formed, so its fusion op is a
    // real user of its inputs: a later (earlier in program order) group then
    // sees that a producer is still read and never swallows it.
    llvm::SmallPtrSet<Operation *, 32> owned; // members of some group (erased)
    llvm::SmallPtrSet<Operation *, 8> erased; // dead splat constants
    for (Operation *op : llvm::reverse(ops)) {
      if (owned.contains(op) || erased.contains(op) ||
          !isa<KilnDialect>(op->getDialect()) || op->getNumResults() != 1 ||
          isa<FusionOp>(op))
        continue;
      OpRole role = classify(op).role;
      if (role != OpRole::Elementwise && role != OpRole::Reduction)
        continue;
      Group g = growGroup(op, body, position, owned);
      outline(g, position, erased);
    }
    // A slice whose every user now reads it inside a kernel (cloned there)
    // would still be copied at run time.
    for (Operation &op : llvm::make_early_inc_range(body))
      if (isa<SliceOp>(op) && op.use_empty())
        op.erase();
  }

  Group growGroup(Operation *root, Block &body,
                  DenseMap<Operation *, int64_t> &position,
                  llvm::SmallPtrSet<Operation *, 32> &owned) {
    Group g;
    g.root = root;
    g.members.insert(root);
    owned.insert(root);
    int64_t rootElements = elementsOf(root->getResult(0));
    bool loop = classify(root).role == OpRole::Elementwise;
    auto later = [&](Operation *a, Operation *b) {
      return position[a] > position[b];
    };
    std::set<Operation *, decltype(later)> candidates(later);
    auto addProducers = [&](Operation *op) {
      for (Value v : op->getOperands())
        if (Operation *p = v.getDefiningOp())
          if (p->getBlock() == &body && !g.members.contains(p))
            candidates.insert(p);
    };
    addProducers(root);
    while (!candidates.empty()) {
      Operation *p = *candidates.begin();
      candidates.erase(candidates.begin());
      if (owned.contains(p))
        continue;
      if (isSplatConstant(p)) {
        g.splatConstants.insert(p);
        continue;
      }
      // A value some slice member reads at an offset stays an input.
      if (llvm::any_of(p->getResults(),
                       [&](Value r) { return g.sliced.contains(r); }))
        continue;
      if (isFusableSlice(p)) {
        // Only loop kernels read inputs at an offset. A slice is a read:
        // recomputing it in every kernel that uses it costs nothing. Its
        // operand is not a candidate (it must stay an input), and a splat
        // constant operand would be cloned into the body instead.
        Value source = p->getOperand(0);
        if (!loop || g.members.contains(source.getDefiningOp()) ||
            (source.getDefiningOp() && isSplatConstant(source.getDefiningOp())))
          continue;
        bool exclusive = llvm::all_of(p->getUsers(), [&](Operation *u) {
          return g.members.contains(u) && !g.cloned.contains(u);
        });
        if (exclusive)
          owned.insert(p);
        else
          g.cloned.insert(p);
        g.members.insert(p);
        g.sliced.insert(source);
        continue;
      }
      OpClass c = classify(p);
      if (c.role != OpRole::Elementwise || p->getNumResults() != 1)
        continue; // stays outside; its result becomes an input
      // An expensive producer broadcast into a larger root would be
      // evaluated once per output element instead of once per its own.
      if (c.expensive && elementsOf(p->getResult(0)) < rootElements)
        continue;
      bool exclusive = llvm::all_of(p->getUsers(), [&](Operation *u) {
        return g.members.contains(u) && !g.cloned.contains(u);
      });
      // A cheap shared producer is recomputed here only when its operands
      // are at hand (inputs, library results, splats, members): cloning
      // through chains of shared producers recomputed an LSTM's whole cell
      // state history in every step's kernel (step t: 3t ops, quadratic).
      // Otherwise it stays outside and its own kernel materializes it.
      bool leafOperands = llvm::all_of(p->getOperands(), [&](Value v) {
        Operation *def = v.getDefiningOp();
        return !def || def->getBlock() != &body || g.members.contains(def) ||
               isSplatConstant(def) ||
               classify(def).role != OpRole::Elementwise;
      });
      // Read after the root only (so the fusion, placed at the root, comes
      // before those readers, and none of them feeds the group): computed
      // here once and stored as an extra result. A loop kernel's results
      // share one shape.
      bool extraResult =
          loop && !root->use_empty() &&
          tensorOf(p->getResult(0)).getShape() ==
              tensorOf(root->getResult(0)).getShape() &&
          llvm::all_of(p->getUsers(), [&](Operation *u) {
            // A recomputed member's original stays before the root and
            // could not read the fusion's result.
            return (g.members.contains(u) && !g.cloned.contains(u)) ||
                   position.lookup(u) > position[root];
          });
      if (exclusive) {
        owned.insert(p);
      } else if (extraResult) {
        owned.insert(p);
        g.extraResults.push_back(p);
      } else if (!c.expensive && leafOperands) {
        g.cloned.insert(p); // cheap: recompute it here, keep the original
      } else {
        continue; // needed elsewhere and not cheaply at hand: an input
      }
      g.members.insert(p);
      addProducers(p);
    }
    return g;
  }

  void outline(Group &g, DenseMap<Operation *, int64_t> &position,
               llvm::SmallPtrSet<Operation *, 8> &erased) {
    SmallVector<Operation *> members(g.members.begin(), g.members.end());
    llvm::sort(members, [&](Operation *a, Operation *b) {
      return position[a] < position[b];
    });
    // A group whose every user was recomputed into later kernels (a cheap
    // shared producer) is dead: drop it instead of emitting a kernel.
    if (g.root->use_empty()) {
      for (Operation *op : llvm::reverse(members))
        if (!g.cloned.contains(op) && op->use_empty())
          op->erase();
      return;
    }
    llvm::SetVector<Value> inputs;
    for (Operation *op : members)
      for (Value v : op->getOperands()) {
        Operation *def = v.getDefiningOp();
        if (def && (g.members.contains(def) || g.splatConstants.contains(def)))
          continue;
        inputs.insert(v);
      }

    Operation *root = g.root;
    OpBuilder builder(root);
    StringRef kind =
        classify(root).role == OpRole::Reduction ? "reduction" : "loop";
    SmallVector<Value> results = {root->getResult(0)};
    for (Operation *op : g.extraResults)
      results.push_back(op->getResult(0));
    auto fusion = builder.create<FusionOp>(root->getLoc(), kind,
                                           inputs.getArrayRef(),
                                           ValueRange(results).getTypes());
    position[fusion] = position[root];
    Block &block = fusion.getBodyBlock();
    IRMapping mapping;
    for (auto [input, arg] : llvm::zip(inputs, block.getArguments()))
      mapping.map(input, arg);
    builder.setInsertionPointToStart(&block);
    for (Operation *c : g.splatConstants)
      builder.clone(*c, mapping);
    for (Operation *op : members)
      builder.clone(*op, mapping);
    SmallVector<Value> yielded;
    for (Value r : results)
      yielded.push_back(mapping.lookup(r));
    builder.create<YieldOp>(root->getLoc(), yielded);

    for (auto [r, f] : llvm::zip(results, fusion.getResults()))
      r.replaceAllUsesWith(f);
    for (Operation *op : llvm::reverse(members))
      if (!g.cloned.contains(op))
        op->erase();
    for (Operation *c : g.splatConstants)
      if (c->use_empty()) {
        erased.insert(c);
        c->erase();
      }
  }
};

} // namespace
