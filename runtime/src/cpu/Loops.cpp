//===- Loops.cpp - Strided N-d iteration shared by CPU kernels -------------===//
#include "Loops.h"
#include "Dispatch.h"

#include "kiln/ThreadPool.h"

#include <cstring>

namespace kiln::cpu {

LoopOperand makeOperand(const Tensor &t, std::span<const int64_t> shape) {
  LoopOperand op;
  op.base = static_cast<char *>(t.rawData());
  int64_t pad = int64_t(shape.size()) - t.rank();
  int64_t es = int64_t(t.elementSize());
  for (int64_t d = 0; d < t.rank(); ++d)
    op.byteStrides[size_t(pad + d)] =
        t.shape()[size_t(d)] == 1 ? 0 : t.strides()[size_t(d)] * es;
  return op;
}

void forEachRun(std::span<const int64_t> shapeIn, int numOperands,
                const LoopOperand *operands, InnerLoop inner, const void *ctx,
                int64_t grain) {
  // Collapse: drop size-1 dims, merge dims contiguous for every operand.
  std::array<int64_t, kMaxRank> shape{};
  std::array<std::array<int64_t, kMaxRank>, kMaxOperands> strides{};
  int rank = 0;
  int64_t total = 1;
  for (size_t d = 0; d < shapeIn.size(); ++d) {
    int64_t n = shapeIn[d];
    total *= n;
    if (n == 1)
      continue;
    bool merge = rank > 0;
    for (int i = 0; merge && i < numOperands; ++i)
      merge = strides[size_t(i)][size_t(rank - 1)] ==
              operands[i].byteStrides[d] * n;
    if (merge) {
      shape[size_t(rank - 1)] *= n;
      for (int i = 0; i < numOperands; ++i)
        strides[size_t(i)][size_t(rank - 1)] = operands[i].byteStrides[d];
      continue;
    }
    shape[size_t(rank)] = n;
    for (int i = 0; i < numOperands; ++i)
      strides[size_t(i)][size_t(rank)] = operands[i].byteStrides[d];
    ++rank;
  }
  if (total == 0)
    return;
  if (rank == 0) { // A single element.
    shape[0] = 1;
    rank = 1;
  }
  int64_t innerSize = shape[size_t(rank - 1)];
  std::array<int64_t, kMaxOperands> steps{};
  for (int i = 0; i < numOperands; ++i)
    steps[size_t(i)] = strides[size_t(i)][size_t(rank - 1)];

  auto runRange = [&](int64_t begin, int64_t end) {
    // Multi-index of `begin`, then walk runs along the innermost dim.
    std::array<int64_t, kMaxRank> idx{};
    int64_t rem = begin;
    for (int d = rank - 1; d >= 0; --d) {
      idx[size_t(d)] = rem % shape[size_t(d)];
      rem /= shape[size_t(d)];
    }
    std::array<char *, kMaxOperands> ptrs{};
    for (int i = 0; i < numOperands; ++i) {
      char *p = operands[i].base;
      for (int d = 0; d < rank; ++d)
        p += idx[size_t(d)] * strides[size_t(i)][size_t(d)];
      ptrs[size_t(i)] = p;
    }
    int64_t pos = begin;
    while (pos < end) {
      int64_t n = std::min(innerSize - idx[size_t(rank - 1)], end - pos);
      inner(ptrs.data(), steps.data(), n, ctx);
      pos += n;
      if (pos >= end)
        break;
      // Advance the multi-index by n along the inner dim, carrying outward.
      idx[size_t(rank - 1)] += n;
      for (int i = 0; i < numOperands; ++i)
        ptrs[size_t(i)] += n * steps[size_t(i)];
      for (int d = rank - 1; d > 0 && idx[size_t(d)] == shape[size_t(d)]; --d) {
        idx[size_t(d)] = 0;
        ++idx[size_t(d - 1)];
        for (int i = 0; i < numOperands; ++i)
          ptrs[size_t(i)] += strides[size_t(i)][size_t(d - 1)] -
                             shape[size_t(d)] * strides[size_t(i)][size_t(d)];
      }
    }
  };
  if (total < 2 * grain) {
    runRange(0, total);
    return;
  }
  ThreadPool::global().parallelFor(0, total, grain, runRange);
}

namespace {
template <typename To, typename From>
void castLoop(char **ptrs, const int64_t *steps, int64_t n, const void *) {
  char *out = ptrs[0];
  const char *in = ptrs[1];
  if (steps[0] == sizeof(To) && steps[1] == sizeof(From)) {
    if constexpr (std::is_same_v<To, From>) {
      std::memcpy(out, in, size_t(n) * sizeof(To));
    } else {
      To *o = reinterpret_cast<To *>(out);
      const From *a = reinterpret_cast<const From *>(in);
      for (int64_t i = 0; i < n; ++i)
        o[i] = convertValue<To>(a[i]);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i, out += steps[0], in += steps[1]) {
    From v;
    std::memcpy(&v, in, sizeof(From));
    To r = convertValue<To>(v);
    std::memcpy(out, &r, sizeof(To));
  }
}

template <typename To> InnerLoop castLoopFrom(DType from) {
  InnerLoop fn = nullptr;
  KILN_DISPATCH_ALL(from, fn = &castLoop<To, T>);
  return fn;
}

InnerLoop castLoopFor(DType to, DType from) {
  InnerLoop fn = nullptr;
  KILN_DISPATCH_ALL(to, fn = castLoopFrom<T>(from));
  return fn;
}
} // namespace

void copyCast(const Tensor &dst, const Tensor &src) {
  LoopOperand ops[2] = {makeOperand(dst, dst.shape()),
                        makeOperand(src, dst.shape())};
  forEachRun(dst.shape(), 2, ops, castLoopFor(dst.dtype(), src.dtype()),
             nullptr);
}

} // namespace kiln::cpu
