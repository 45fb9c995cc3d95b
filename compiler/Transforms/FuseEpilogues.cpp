//===- FuseEpilogues.cpp - Bias and activation into GEMM/conv calls -------===//
//
// matmul -> add(bias along the last dim) -> activation becomes kiln.gemm;
// conv2d -> add(per-channel bias) becomes conv2d with its bias operand, and
// conv2d -> activation a conv2d with that `activation` (oneDNN applies it
// as a post-op in the same pass over the output). Each folded intermediate
// must have exactly one use, so nothing is computed twice and no value
// another op needs disappears.
//
//===----------------------------------------------------------------------===//
#include "kiln/Compiler/Transforms/Passes.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_FUSEEPILOGUES
#include "kiln/Compiler/Transforms/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The single user of `v`, if it has exactly one use.
Operation *singleUser(Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

/// If `add` adds `v` and a vector of length `n` that broadcasts along the
/// last dim (shape [n], or [1, ..., 1, n]), returns that vector reshaped to
/// [n] (inserting a reshape if needed).
Value lastDimBias(PatternRewriter &rewriter, AddOp add, Value v, int64_t n) {
  Value other = add.getLhs() == v ? add.getRhs() : add.getLhs();
  auto t = cast<RankedTensorType>(other.getType());
  if (t.getNumElements() != n || t.getRank() == 0 || t.getShape().back() != n)
    return {};
  if (add.getType() != v.getType())
    return {}; // the bias would broadcast v itself
  if (t.getRank() == 1)
    return other;
  auto flat = RankedTensorType::get({n}, t.getElementType());
  return rewriter.create<ReshapeOp>(add.getLoc(), flat, other);
}

StringRef activationOf(Operation *op) {
  if (!op)
    return "";
  if (isa<ReluOp>(op))
    return "relu";
  // clip(0, 6): MobileNet's ReLU6, after every expansion and depthwise conv.
  if (auto c = dyn_cast<ClipOp>(op))
    if (c.getMinAttr() && c.getMaxAttr() &&
        c.getMinAttr().getValueAsDouble() == 0.0 &&
        c.getMaxAttr().getValueAsDouble() == 6.0 &&
        isa<FloatType>(c.getType().getElementType()))
      return "relu6";
  if (auto g = dyn_cast<GeluOp>(op))
    return g.getApproximate() == "tanh" ? "gelu_tanh" : "gelu";
  if (isa<SiluOp>(op))
    return "silu";
  if (isa<SigmoidOp>(op))
    return "sigmoid";
  if (isa<TanhOp>(op))
    return "tanh";
  return "";
}

struct MatmulEpilogue : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp mm,
                                PatternRewriter &rewriter) const override {
    if (!isa<FloatType>(mm.getType().getElementType()))
      return rewriter.notifyMatchFailure(mm, "integer matmul has no epilogue");
    Value acc = mm.getResult();
    Value bias;
    AddOp biasAdd;
    if (auto add = dyn_cast_or_null<AddOp>(singleUser(acc))) {
      rewriter.setInsertionPoint(add); // the bias is defined before the add
      bias = lastDimBias(rewriter, add, acc, mm.getType().getShape().back());
      if (bias) {
        acc = add.getResult();
        biasAdd = add;
      }
    }
    Operation *actOp = singleUser(acc);
    StringRef activation = activationOf(actOp);
    if (activation.empty())
      actOp = nullptr;
    if (!biasAdd && !actOp)
      return rewriter.notifyMatchFailure(mm, "no bias or activation to fold");
    // Replace the last op of the chain, then erase the now-dead rest, so the
    // pattern cannot match the same matmul again.
    Operation *last = actOp ? actOp : biasAdd.getOperation();
    rewriter.setInsertionPoint(last);
    auto gemm = rewriter.create<GemmOp>(
        last->getLoc(), mm.getLhs(), mm.getRhs(), bias, mm.getTransposeLhs(),
        mm.getTransposeRhs(), actOp ? activation : StringRef("none"));
    rewriter.replaceOp(last, gemm.getResult());
    if (actOp && biasAdd)
      rewriter.eraseOp(biasAdd);
    rewriter.eraseOp(mm);
    return success();
  }
};

struct ConvBias : OpRewritePattern<Conv2DOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(Conv2DOp conv,
                                PatternRewriter &rewriter) const override {
    if (conv.getBias())
      return rewriter.notifyMatchFailure(conv, "already has a bias");
    if (conv.getActivation() != "none") // the add comes after the activation
      return rewriter.notifyMatchFailure(conv, "already has an activation");
    auto add = dyn_cast_or_null<AddOp>(singleUser(conv.getResult()));
    if (!add || add.getType() != conv.getType())
      return rewriter.notifyMatchFailure(conv, "no same-shape add");
    Value other = add.getLhs() == conv.getResult() ? add.getRhs() : add.getLhs();
    auto t = cast<RankedTensorType>(other.getType());
    if (conv.getLayout() != "nchw") // kiln-conv-layout runs after this pass
      return rewriter.notifyMatchFailure(conv, "bias folding expects NCHW");
    int64_t channels = conv.getType().getDimSize(1);
    // Per-channel: [C, 1, 1] or [1, C, 1, 1].
    ArrayRef<int64_t> s = t.getShape();
    bool perChannel =
        (s.size() == 3 && s[0] == channels && s[1] == 1 && s[2] == 1) ||
        (s.size() == 4 && s[0] == 1 && s[1] == channels && s[2] == 1 &&
         s[3] == 1);
    if (!perChannel)
      return rewriter.notifyMatchFailure(conv, "add is not per channel");
    rewriter.setInsertionPoint(add);
    Value bias = rewriter.create<ReshapeOp>(
        add.getLoc(), RankedTensorType::get({channels}, t.getElementType()),
        other);
    auto fused = rewriter.create<Conv2DOp>(
        add.getLoc(), conv.getInput(), conv.getWeight(), bias,
        conv.getStridesAttr(), conv.getPadsAttr(), conv.getDilationsAttr(),
        conv.getGroupsAttr(), conv.getActivationAttr(), conv.getLayoutAttr());
    rewriter.replaceOp(add, fused.getResult());
    rewriter.eraseOp(conv);
    return success();
  }
};

/// conv2d (with or without its bias) -> activation. ConvBias folds the add
/// first when there is one: the activation follows the bias, never the
/// other way round.
struct ConvActivation : OpRewritePattern<Conv2DOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(Conv2DOp conv,
                                PatternRewriter &rewriter) const override {
    if (conv.getActivation() != "none")
      return rewriter.notifyMatchFailure(conv, "already has an activation");
    Operation *actOp = singleUser(conv.getResult());
    StringRef activation = activationOf(actOp);
    if (activation.empty())
      return rewriter.notifyMatchFailure(conv, "no single-use activation");
    rewriter.setInsertionPoint(actOp);
    auto fused = rewriter.create<Conv2DOp>(
        actOp->getLoc(), conv.getInput(), conv.getWeight(), conv.getBias(),
        conv.getStridesAttr(), conv.getPadsAttr(), conv.getDilationsAttr(),
        conv.getGroupsAttr(), rewriter.getStringAttr(activation),
        conv.getLayoutAttr());
    rewriter.replaceOp(actOp, fused.getResult());
    rewriter.eraseOp(conv);
    return success();
  }
};

struct FuseEpiloguesPass : mlir::kiln::impl::FuseEpiloguesBase<FuseEpiloguesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MatmulEpilogue, ConvBias, ConvActivation>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
