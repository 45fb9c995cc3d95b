//===- FuseElementwise.cpp - Elementwise chains into kiln.fusion kernels --===//
//
// Producer-consumer fusion on the top-level ops of a function. Groups are
// rooted at elementwise ops and reductions, from the last op backwards, and
// grow by pulling in elementwise producers. Candidates are visited latest
// first, so when a producer is judged every user that could join the group
// already has. See Passes.td for the cost rules.
//
//===----------------------------------------------------------------------===//
#include "OpClasses.h"
#include "kiln/Compiler/Transforms/Passes.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

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
};

int64_t elementsOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getNumElements();
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
  }

  Group growGroup(Operation *root, Block &body,
                  DenseMap<Operation *, int64_t> &position,
                  llvm::SmallPtrSet<Operation *, 32> &owned) {
    Group g;
    g.root = root;
    g.members.insert(root);
    owned.insert(root);
    int64_t rootElements = elementsOf(root->getResult(0));
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
      if (exclusive) {
        owned.insert(p);
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
    auto fusion = builder.create<FusionOp>(root->getLoc(), kind,
                                           inputs.getArrayRef(),
                                           root->getResultTypes());
    Block &block = fusion.getBodyBlock();
    IRMapping mapping;
    for (auto [input, arg] : llvm::zip(inputs, block.getArguments()))
      mapping.map(input, arg);
    builder.setInsertionPointToStart(&block);
    for (Operation *c : g.splatConstants)
      builder.clone(*c, mapping);
    for (Operation *op : members)
      builder.clone(*op, mapping);
    builder.create<YieldOp>(root->getLoc(),
                            mapping.lookup(root->getResult(0)));

    root->getResult(0).replaceAllUsesWith(fusion.getResult(0));
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
