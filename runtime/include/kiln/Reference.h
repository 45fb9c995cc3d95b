//===- Reference.h - Naive reference kernels: the numerics oracle ----------===//
//
// Obviously correct, slow kernels that compute every op in f64 with plain
// nested loops over multi-indices, sharing no code with the fast kernels
// (only the shape rules of kiln::shapes). Every numerics test in the
// project, eager and compiled, compares against these with the tolerances of
// DESIGN.md via ref::compare, which names the worst element on failure.
//
// Result dtypes: f64 for ops whose result is a float; the op's own result
// dtype otherwise (i1 for comparisons, the input's integer dtype for integer
// arithmetic, i64 for argmax/argmin).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_REFERENCE_H
#define KILN_REFERENCE_H

#include "kiln/Ops.h"
#include "kiln/Support/Shapes.h"
#include "kiln/Tensor.h"

#include <string>

namespace kiln::ref {

Expected<Tensor> unary(UnaryOp op, const Tensor &x, const UnaryParams &params);
Expected<Tensor> binary(BinaryOp op, const Tensor &a, const Tensor &b);
Expected<Tensor> select(const Tensor &cond, const Tensor &onTrue,
                        const Tensor &onFalse);
Expected<Tensor> reduce(ReduceOp op, const Tensor &x,
                        std::span<const int64_t> axes, bool keepDims);
Expected<Tensor> argReduce(bool isMax, const Tensor &x, int64_t axis,
                           bool keepDims);
Expected<Tensor> matmul(const Tensor &a, const Tensor &b, bool transposeA,
                        bool transposeB);

// Neural-network and shape ops (ReferenceNN.cpp); arguments as in NNOps.h.
Expected<Tensor> conv2d(const Tensor &x, const Tensor &w, const Tensor &bias,
                        const shapes::Window2D &win, int64_t groups);
Expected<Tensor> convTranspose2d(const Tensor &x, const Tensor &w,
                                 const Tensor &bias, const shapes::Window2D &win,
                                 std::span<const int64_t> outputPadding,
                                 int64_t groups);
Expected<Tensor> pool2d(const Tensor &x, const shapes::Window2D &win,
                        bool isMax, bool countIncludePad);
Expected<Tensor> softmax(const Tensor &x, int64_t axis, bool logForm);
Expected<Tensor> layerNorm(const Tensor &x, const Tensor &scale,
                           const Tensor &bias, int64_t axis, double epsilon);
Expected<Tensor> batchNorm(const Tensor &x, const Tensor &scale,
                           const Tensor &bias, const Tensor &mean,
                           const Tensor &variance, double epsilon);
Expected<Tensor> gather(const Tensor &data, const Tensor &indices, int64_t axis);
Expected<Tensor> pad(const Tensor &x, std::span<const int64_t> pads, double value);
Expected<Tensor> concat(const std::vector<Tensor> &inputs, int64_t axis);
/// Per-sample / per-element losses ("none" reduction).
Expected<Tensor> crossEntropy(const Tensor &logits, const Tensor &labels);
Expected<Tensor> bceWithLogits(const Tensor &logits, const Tensor &target);

/// |actual - expected| <= atol + rtol * |expected| per element.
struct Tolerance {
  double rtol = 0, atol = 0;
};
/// DESIGN.md: f32 (1.3e-6, 1e-5), f16 (1e-3, 1e-5), bf16 (1.6e-2, 1e-5),
/// f64 (1e-7, 1e-7); exact for integers and i1.
Tolerance toleranceFor(DType dtype);

struct Comparison {
  bool ok = true;
  std::string message; ///< Names the worst element when !ok.
  double maxAbsError = 0;
};
/// Compares shapes, then values (NaN equals NaN, infinities must match).
Comparison compare(const Tensor &actual, const Tensor &expected,
                   Tolerance tolerance);

} // namespace kiln::ref

#endif // KILN_REFERENCE_H
