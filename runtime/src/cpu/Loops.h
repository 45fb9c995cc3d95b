//===- Loops.h - Strided N-d iteration shared by CPU kernels ---------------===//
//
// Internal. The numpy ufunc scheme: an op is an inner loop over one run of
// elements (pointers plus one byte step per operand); forEachRun drives it
// over any shape and any strides (broadcast dims have stride 0), after
// dropping size-1 dims and merging dims that are contiguous for every
// operand, so a contiguous or scalar-broadcast case becomes one long run the
// compiler vectorizes. Runs are split over the thread pool by element count.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_LOOPS_H
#define KILN_RUNTIME_CPU_LOOPS_H

#include "kiln/Tensor.h"

#include <array>
#include <cstdint>

namespace kiln::cpu {

inline constexpr int kMaxOperands = 4;

/// One operand of a loop: its first element and per-dim byte strides,
/// aligned to the iteration shape.
struct LoopOperand {
  char *base = nullptr;
  std::array<int64_t, kMaxRank> byteStrides{};
};

/// inner(ptrs, steps, n): process n elements; operand i starts at ptrs[i]
/// and advances by steps[i] bytes.
using InnerLoop = void (*)(char **ptrs, const int64_t *steps, int64_t n,
                           const void *ctx);

/// An operand view of `t` broadcast to `shape` (t's rank <= shape's rank,
/// already checked to broadcast).
LoopOperand makeOperand(const Tensor &t, std::span<const int64_t> shape);

/// Runs `inner` over every element of `shape` for `numOperands` operands.
/// Parallel over the global pool when the work is at least `grain`
/// elements.
void forEachRun(std::span<const int64_t> shape, int numOperands,
                const LoopOperand *operands, InnerLoop inner, const void *ctx,
                int64_t grain = 32768);

/// Copies src into dst (same shape), converting the dtype.
void copyCast(const Tensor &dst, const Tensor &src);

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_LOOPS_H
