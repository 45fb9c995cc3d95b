//===- PackedGemm.h - f32 GEMM against weights packed at load -------------===//
//
// Internal. y[m, n] = act(x[m, k] W[k, n] + bias) for a compiled module's
// constant W, on AVX-512. oneDNN's matmul costs several microseconds a
// call before any arithmetic (memory objects, an argument map, its
// dispatch) and, for the few dozen rows of an LSTM step or a small batch,
// its blocking wastes most of the core: an LSTM step's 32x128x512 product
// ran 28-30 us in brgemm, with one thread or two (140-150 GFLOP/s, against
// ~235 a core). This kernel packs W once into panels of 64 columns,
// k-major (zeros past n), and computes blocks of 6 rows x 64 columns in 24
// register accumulators: per k, four vector loads of the panel and six
// broadcasts of x, read where it lies (no packing of the activations).
// K is cut into slices of 128 so a panel's slice (32 KB) stays in L1/L2
// while every row block passes over it; the result is accumulated in y
// between slices. Work is spread over Kiln's pool by rows when the packed
// weights are at most an eighth of a core's L2 (each thread keeps its rows
// in its cache, as the elementwise kernels around the product split them),
// else by panels. Each element is one FMA chain over k in order, so neither
// the blocking nor the split changes a bit of the result.
//
// Bias optional; activation none, relu or relu6 (ClampActivation.h) in
// registers, or gelu, gelu_tanh, silu, sigmoid, tanh (VecMath.h) over each
// finished row of a panel while it is in cache.
// One more candidate in prepareGemm's load-time timing.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_PACKEDGEMM_H
#define KILN_RUNTIME_CPU_PACKEDGEMM_H

#include "PreparedCall.h"

#include <memory>

namespace kiln::cpu {

/// The GEMM act(x[m, k] W + bias) with W the constant [k, n] (or [n, k]
/// when `transposeW`), as prepareGemm's; nullptr when the CPU lacks
/// AVX-512F or the activation is unknown.
Expected<std::unique_ptr<PreparedCall>>
preparePackedGemm(int64_t m, int64_t k, int64_t n, const Tensor &w,
                  bool transposeW, const Tensor &bias,
                  std::string_view activation);

/// y[batch..., m, n] = a[batch..., m, k] b[batch..., k, n] (b given as
/// [..., n, k] when `transposeB`) for two non-constant f32 operands, as
/// attention's Q K^T and P V are in a compiled module: the panel kernel
/// below over (batch, panel) pairs, spread over the pool. `a` and `b` may
/// also be single matrices shared by every batch; nullptr for any other
/// broadcasting, a transposed `a`, or a CPU without AVX-512F.
Expected<std::unique_ptr<PreparedCall>>
prepareActivationMatmul(const Shape &a, const Shape &b, bool transposeB,
                        const Shape &y);

/// The same kernel on operands read where they lie, for products whose
/// right operand is not a constant (attention's Q K^T and P V, eager
/// matmul): no packing of B when its rows are contiguous, a copy of one
/// panel (k x 64) when it is transposed. Whether this CPU runs it:
bool haveGemmPanelF32();

/// The number of 64-column panels of a product with n columns.
int64_t gemmPanelsF32(int64_t n);

/// Columns [64 p, 64 p + 64) (within n) of C[m, n] = A[m, k] B[k, n] on the
/// calling thread: A's element (i, q) at a[i * lda + q], B's (q, j) at
/// b[q * brs + j * bcs] with brs or bcs equal to 1, C's rows ldc apart.
/// Callers spread (matrix, panel) pairs over the pool.
void gemmPanelF32(int64_t m, int64_t n, int64_t k, const float *a,
                  int64_t lda, const float *b, int64_t brs, int64_t bcs,
                  float *c, int64_t ldc, int64_t p);

/// A right operand B[k, n] packed once into the panel kernel's layout,
/// for products repeated against it while it lives: an LSTM's recurrent
/// weights over its steps (eager's lstm_sequence multiplies them by
/// h_{t-1} every step; OpenBLAS ran those 32x128x512 products at a
/// fraction of the core). Only where haveGemmPanelF32().
class PackedPanelsF32 {
public:
  /// B given as [k, n], or as [n, k] when `transposed`.
  PackedPanelsF32(const float *b, int64_t k, int64_t n, bool transposed);
  ~PackedPanelsF32();
  PackedPanelsF32(const PackedPanelsF32 &) = delete;
  PackedPanelsF32 &operator=(const PackedPanelsF32 &) = delete;

  int64_t panels() const { return gemmPanelsF32(n_); }
  /// Columns [64 p, 64 p + 64) (within n) of C[m, n] = A[m, k] B, or
  /// C += A B when `accumulate`, on the calling thread; A's rows lda
  /// apart, C's ldc apart. Callers spread panels over the pool.
  void multiply(int64_t m, const float *a, int64_t lda, int64_t p, float *c,
                int64_t ldc, bool accumulate) const;

private:
  struct Data;
  int64_t k_, n_;
  std::unique_ptr<Data> data_;
};

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_PACKEDGEMM_H
