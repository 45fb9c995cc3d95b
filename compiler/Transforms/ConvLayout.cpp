//===- ConvLayout.cpp - Channels-last activations for CPU conv chains -----===//
//
// Each qualifying NCHW conv2d becomes transpose -> conv2d {layout = "nhwc"}
// -> transpose; the transposes then cancel along the chain (see Passes.td).
// Why NHWC and not oneDNN's blocked nChw16c: NHWC is a plain tensor shape,
// so every other op (the residual add, the fused kernels, the memory plan)
// handles it unchanged, and oneDNN's brgemm convolutions and Kiln's own
// kernels run on it without reorders.
//
//===----------------------------------------------------------------------===//
#include "OpClasses.h"

#include "kiln/Compiler/Transforms/Passes.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CONVLAYOUT
#include "kiln/Compiler/Transforms/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

constexpr int64_t kToNhwc[] = {0, 2, 3, 1};
constexpr int64_t kToNchw[] = {0, 3, 1, 2};

RankedTensorType tensorOf(Value v) { return cast<RankedTensorType>(v.getType()); }

/// `type` with its dims in NHWC order.
RankedTensorType nhwcType(RankedTensorType type) {
  ArrayRef<int64_t> s = type.getShape();
  return RankedTensorType::get({s[0], s[2], s[3], s[1]}, type.getElementType());
}

/// The NHWC value `v` is the NHWC-to-NCHW transpose of, if it is one.
Value nhwcSource(Value v) {
  auto t = v.getDefiningOp<TransposeOp>();
  if (!t || t.getPermutation() != ArrayRef<int64_t>(kToNchw))
    return {};
  return t.getInput();
}

/// An NCHW-to-NHWC transpose of `v` that already exists before `op` (the
/// residual input of a block, which its first conv reads in NHWC).
Value existingNhwc(Value v, Operation *op) {
  for (Operation *user : v.getUsers()) {
    auto t = dyn_cast<TransposeOp>(user);
    if (t && t.getPermutation() == ArrayRef<int64_t>(kToNhwc) &&
        t->getBlock() == op->getBlock() && t->isBeforeInBlock(op))
      return t.getResult();
  }
  return {};
}

Value toNhwc(PatternRewriter &rewriter, Location loc, Value nchw) {
  return rewriter.create<TransposeOp>(loc, nchw, kToNhwc);
}

Value toNchw(PatternRewriter &rewriter, Location loc, Value nhwc) {
  return rewriter.create<TransposeOp>(loc, nhwc, kToNchw);
}

struct ConvToNhwc : OpRewritePattern<Conv2DOp> {
  ConvToNhwc(MLIRContext *context, int64_t minChannels)
      : OpRewritePattern(context), minChannels(minChannels) {}

  LogicalResult matchAndRewrite(Conv2DOp conv,
                                PatternRewriter &rewriter) const override {
    if (conv.getLayout() != "nchw")
      return rewriter.notifyMatchFailure(conv, "already NHWC");
    RankedTensorType in = tensorOf(conv.getInput()), out = conv.getType();
    if (!in.getElementType().isF32())
      return rewriter.notifyMatchFailure(conv, "the NHWC kernels are f32");
    // Few channels make the channel dim a short, badly vectorized one, and
    // Kiln's NCHW direct kernel is the fast one there (LeNet's 1 -> 6 and
    // 6 -> 16): those stay. An image stem (<= 4 input channels) moves, so
    // that the wide layers after it start in NHWC.
    int64_t cin = in.getDimSize(1), cout = out.getDimSize(1);
    if (cout < minChannels || (cin < minChannels && cin > 4))
      return rewriter.notifyMatchFailure(conv, "too few channels");
    Location loc = conv.getLoc();
    // Branches reading one input (Inception, a residual's projection) share
    // its NHWC copy.
    Value x = existingNhwc(conv.getInput(), conv);
    if (!x) {
      // Right after the input's definition, so that it comes before every
      // other reader too, whichever the driver rewrites first.
      OpBuilder::InsertionGuard guard(rewriter);
      Value in = conv.getInput();
      if (Operation *def = in.getDefiningOp())
        rewriter.setInsertionPointAfter(def);
      else
        rewriter.setInsertionPointToStart(in.getParentBlock());
      x = toNhwc(rewriter, loc, in);
    }
    auto nhwc = rewriter.create<Conv2DOp>(
        loc, nhwcType(out), x, conv.getWeight(), conv.getBias(),
        conv.getStridesAttr(), conv.getPadsAttr(), conv.getDilationsAttr(),
        conv.getGroupsAttr(), conv.getActivationAttr(),
        rewriter.getStringAttr("nhwc"));
    rewriter.replaceOp(conv, toNchw(rewriter, loc, nhwc));
    return success();
  }

  int64_t minChannels;
};

/// max_pool2d(transpose_to_nchw(x)) -> transpose_to_nchw(max_pool2d_nhwc(x)).
struct MaxPoolToNhwc : OpRewritePattern<MaxPool2DOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MaxPool2DOp pool,
                                PatternRewriter &rewriter) const override {
    Value x = nhwcSource(pool.getInput());
    if (!x || pool.getLayout() != "nchw")
      return rewriter.notifyMatchFailure(pool, "input is not from NHWC");
    auto nhwc = rewriter.create<MaxPool2DOp>(
        pool.getLoc(), nhwcType(pool.getType()), x, pool.getKernelAttr(),
        pool.getStridesAttr(), pool.getPadsAttr(), pool.getDilationsAttr(),
        pool.getCeilModeAttr(), rewriter.getStringAttr("nhwc"));
    rewriter.replaceOp(pool, toNchw(rewriter, pool.getLoc(), nhwc));
    return success();
  }
};

/// batch_norm(transpose_to_nchw(x)) -> transpose_to_nchw(x * s + t) with
/// s = scale * rsqrt(variance + epsilon) and t = bias - mean * s, both [C]:
/// on NHWC they broadcast along the last dim, and the mul and add fuse with
/// whatever elementwise op follows (an exporter that did not fold the
/// norm into the conv leaves one after every conv).
struct BatchNormToNhwc : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    Value x = nhwcSource(bn.getInput());
    if (!x || tensorOf(bn.getScale()).getRank() != 1)
      return rewriter.notifyMatchFailure(bn, "input is not from NHWC");
    Location loc = bn.getLoc();
    RankedTensorType channelType = tensorOf(bn.getScale());
    auto scalar = RankedTensorType::get({}, channelType.getElementType());
    Value eps = rewriter.create<ConstantOp>(
        loc, scalar,
        DenseElementsAttr::get(
            scalar, rewriter.getFloatAttr(scalar.getElementType(),
                                          bn.getEpsilon().convertToDouble())));
    Value var = rewriter.create<AddOp>(loc, bn.getVariance(), eps);
    Value s = rewriter.create<MulOp>(loc, bn.getScale(),
                                     rewriter.create<RsqrtOp>(loc, var));
    Value t = rewriter.create<SubOp>(loc, bn.getBias(),
                                     rewriter.create<MulOp>(loc, bn.getMean(), s));
    Value y = rewriter.create<AddOp>(loc, rewriter.create<MulOp>(loc, x, s), t);
    rewriter.replaceOp(bn, toNchw(rewriter, loc, y));
    return success();
  }
};

/// An elementwise op whose operands are NHWC-to-NCHW transposes of one
/// shape, one-element constants, or values of that shape already transposed to
/// NHWC for another op: the op on the NHWC values, then one transpose. Dropout is left alone (its random stream follows the element
/// order) and so is broadcast_to (not a same-shape op).
struct SinkTransposeBelowElementwise : RewritePattern {
  explicit SinkTransposeBelowElementwise(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (op->getNumResults() != 1 || op->getNumRegions() != 0 ||
        classify(op).role != OpRole::Elementwise ||
        isa<DropoutOp, BroadcastToOp>(op))
      return failure();
    auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!resultType || resultType.getRank() != 4)
      return failure();
    SmallVector<Value> operands;
    SmallVector<size_t> perChannel; // operands to reshape to [C]
    bool anyTransposed = false;
    const int64_t channels = resultType.getDimSize(1);
    for (Value v : op->getOperands()) {
      if (Value src = nhwcSource(v)) {
        if (tensorOf(v).getShape() != resultType.getShape())
          return failure(); // it broadcasts: the result is not its layout
        operands.push_back(src);
        anyTransposed = true;
        continue;
      }
      SplatElementsAttr splat;
      if (matchPattern(v, m_Constant(&splat)) && splat.getNumElements() == 1) {
        operands.push_back(v); // one value: broadcasts in any layout
        continue;
      }
      // One value per channel, [1, C, 1, 1] or [C, 1, 1] (an unfolded
      // bias): as [C] it broadcasts along NHWC's last dim.
      ArrayRef<int64_t> s = tensorOf(v).getShape();
      if ((s.size() == 4 && s[0] == 1 && s[1] == channels && s[2] == 1 && s[3] == 1) ||
          (s.size() == 3 && s[0] == channels && s[1] == 1 && s[2] == 1)) {
        perChannel.push_back(operands.size());
        operands.push_back(v);
        continue;
      }
      Value nhwc = existingNhwc(v, op);
      if (!nhwc || v.getType() != resultType)
        return failure();
      operands.push_back(nhwc);
    }
    if (!anyTransposed)
      return failure();
    for (size_t i : perChannel)
      operands[i] = rewriter.create<ReshapeOp>(
          op->getLoc(),
          RankedTensorType::get({channels}, tensorOf(operands[i]).getElementType()),
          operands[i]);
    RankedTensorType nhwc = nhwcType(resultType);
    OperationState state(op->getLoc(), op->getName(), operands, {nhwc},
                         op->getAttrs());
    Operation *moved = rewriter.create(state);
    rewriter.replaceOp(op, toNchw(rewriter, op->getLoc(), moved->getResult(0)));
    return success();
  }
};

/// concat(transpose_to_nchw(a), transpose_to_nchw(b), ...) along any axis
/// -> transpose_to_nchw(concat(a, b, ...)) along the same dim in NHWC (the
/// channel concat of Inception, DenseNet and U-Net skips).
struct ConcatToNhwc : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp concat,
                                PatternRewriter &rewriter) const override {
    if (concat.getType().getRank() != 4)
      return rewriter.notifyMatchFailure(concat, "not rank 4");
    SmallVector<Value> inputs;
    for (Value v : concat.getInputs()) {
      Value src = nhwcSource(v);
      if (!src)
        return rewriter.notifyMatchFailure(concat, "an input is not from NHWC");
      inputs.push_back(src);
    }
    int64_t axis = concat.getAxis() < 0 ? concat.getAxis() + 4 : concat.getAxis();
    constexpr int64_t kNchwToNhwcAxis[] = {0, 3, 1, 2};
    auto nhwc = rewriter.create<ConcatOp>(
        concat.getLoc(), inputs,
        rewriter.getI64IntegerAttr(kNchwToNhwcAxis[axis]));
    rewriter.replaceOp(concat, toNchw(rewriter, concat.getLoc(), nhwc));
    return success();
  }
};

struct ConvLayoutPass : mlir::kiln::impl::ConvLayoutBase<ConvLayoutPass> {
  using ConvLayoutBase::ConvLayoutBase;
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    patterns.add<ConvToNhwc>(context, minChannels);
    patterns.add<MaxPoolToNhwc, BatchNormToNhwc, ConcatToNhwc,
                 SinkTransposeBelowElementwise>(context);
    // The driver folds as it goes: transpose(transpose(x)) composes, and
    // to the identity folds away (TransposeOp::fold).
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
