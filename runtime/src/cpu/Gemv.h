//===- Gemv.h - Matrix-vector products for few-row GEMMs -------------------===//
//
// Internal. A GEMM of one to a few rows against constant weights is a
// stream over the weights: its speed is the memory's, and GEMM libraries
// spend more on packing and blocking than they save (oneDNN 2.6 here:
// 1x784x512 took 66-100 us in brgemm and 170 us in its sgemm path, for
// 1.6 MB of weights). This kernel walks the weights in their [n, k]
// (output-major) layout: with AVX-512, once per call for all rows, eight
// outputs at a time (MLP b1 compiled, 784-512-512-10, two threads: 14.5 ->
// 12.1 us min against the AVX2 kernel); with AVX2 FMA, once per row, four
// outputs at a time.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_GEMV_H
#define KILN_RUNTIME_CPU_GEMV_H

#include <cstdint>

namespace kiln::cpu {

/// y[r * ldy + j] = dot(x[r * k, +k), w[j * k, +k)) (+ bias[j] when not
/// null) for rows r < m and outputs j in [n0, n1).
void gemvRowsF32(int64_t m, int64_t k, const float *x, const float *w,
                 const float *bias, float *y, int64_t ldy, int64_t n0,
                 int64_t n1);

/// Products of at most this many rows are GEMVs.
constexpr int64_t kGemvMaxRows = 4;

/// How many column parts a GEMV splits into over a pool of `threads`: from
/// 2^17 multiply-adds, below which the handoff costs more than the work
/// (an LSTM step's 128x512 GEMV: 416 us split vs 312 us not, per 50-step
/// sequence, 2 threads).
int64_t gemvParts(int64_t m, int64_t k, int64_t n, int64_t threads);

/// y[m, n] = x[m, k] w[n, k]^T over the global pool, in gemvParts columns
/// (multiples of 4, each with a home thread).
void gemvF32(int64_t m, int64_t k, const float *x, const float *w, float *y,
             int64_t n);

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_GEMV_H
