//===- PreparedCall.h - oneDNN calls prepared once for constant weights ---===//
//
// Internal. A compiled module knows its weights when it is loaded, so its
// GEMMs and convolutions need not do per call what eager mode must: create
// the primitive, reorder the weights into the library's blocked layout,
// then add the bias and apply the activation in separate passes. A
// PreparedCall does all of that once, at load, and each run is one call
// per thread that writes the result where the memory plan put it, with the
// bias and activation applied by oneDNN post-ops in the same pass (the
// epilogue kiln-fuse-epilogues folded into kiln.gemm or kiln.conv2d).
//
// Threading follows DESIGN.md's one-pool rule: oneDNN runs single-threaded
// and the work is split over Kiln's pool into parts, each with its own
// primitive and weights: GEMMs by output columns (each thread streams its
// own slice of the weights), convolutions by batch or, for one image, by
// output channels. Parts with equal weight layouts share one packed copy.
//
// Runs may overlap from several threads (one module, several sessions):
// primitives are immutable once created, and every run uses a per-thread
// stream and scratchpad (oneDNN's user scratchpad mode), never a shared one.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_PREPAREDCALL_H
#define KILN_RUNTIME_CPU_PREPAREDCALL_H

#include "kiln/NNOps.h"

#include <memory>
#include <span>
#include <string_view>

namespace kiln::cpu {

class PreparedCall {
public:
  virtual ~PreparedCall() = default;
  /// y = op(x), both contiguous f32 of the shapes given at preparation.
  virtual Status run(const float *x, float *y) const = 0;
  /// y = op(operands...): calls with more than one non-constant operand
  /// (a product of two activations) override this; the others take x.
  virtual Status runOperands(std::span<const float *const> operands,
                             float *y) const {
    return run(operands[0], y);
  }
  /// What oneDNN picked, for reports ("brg:avx512_core", ...).
  virtual std::string implementation() const = 0;
};

/// act(x[m, k] * W + bias) with W the constant [k, n] (or [n, k] when
/// `transposeW`); `bias` is [n] or undefined; `activation` is a kiln.gemm
/// activation name. nullptr when oneDNN is absent or has no kernel for it
/// (the caller runs the op as eager mode does).
Expected<std::unique_ptr<PreparedCall>>
prepareGemm(int64_t m, int64_t k, int64_t n, const Tensor &w, bool transposeW,
            const Tensor &bias, std::string_view activation);

/// act(conv2d(x, W) + bias) for x of `inputShape` in `layout` (NCHW or
/// NHWC), OIHW constant W, result of `outputShape` in the same layout;
/// `activation` as for prepareGemm; nullptr when not applicable, as for
/// prepareGemm.
Expected<std::unique_ptr<PreparedCall>>
prepareConv2d(const Shape &inputShape, const Tensor &w, const Tensor &bias,
              const Window2D &win, int64_t groups, const Shape &outputShape,
              std::string_view activation = "none",
              shapes::Layout2D layout = shapes::Layout2D::NCHW);

/// max_pool2d of f32 x of `inputShape` in `layout` into `outputShape`,
/// when a vectorized kernel (MaxPool.h; any window in NHWC) covers `win` on
/// this CPU; else nullptr (the op table's eager kernel runs it). No argmax:
/// nothing records.
Expected<std::unique_ptr<PreparedCall>>
prepareMaxPool2d(const Shape &inputShape, const Window2D &win,
                 const Shape &outputShape,
                 shapes::Layout2D layout = shapes::Layout2D::NCHW);

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_PREPAREDCALL_H
