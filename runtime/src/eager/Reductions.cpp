//===- Reductions.cpp - Eager reductions and arg-reductions ----------------===//
//
// One driver for every reduction: the output is the kept dims of the input;
// each output element walks the reduced dims (innermost as a run, four
// accumulators when it is contiguous so that the adds pipeline). Float sums
// accumulate in f64 (f32 sums of long rows would miss DESIGN.md's f32
// tolerance); integer sums and products wrap in 64 bits. Max/min propagate
// NaN. Output elements are split over the thread pool.
//
//===----------------------------------------------------------------------===//
#include "kiln/Ops.h"

#include "../autograd/Derivatives.h"
#include "../autograd/Record.h"

#include "../cpu/Dispatch.h"
#include "EagerUtil.h"
#include "kiln/Support/Shapes.h"
#include "kiln/ThreadPool.h"

#include <algorithm>
#include <array>
#include <vector>
#include <cmath>

namespace kiln {

std::string_view opName(ReduceOp op) {
  switch (op) {
#define KILN_REDUCE_OP(E, fn, name, domain)                                    \
  case ReduceOp::E:                                                            \
    return name;
#include "kiln/OpTables.def"
  }
  return "?";
}
OpDomain opDomain(ReduceOp op) {
  switch (op) {
#define KILN_REDUCE_OP(E, fn, name, domain)                                    \
  case ReduceOp::E:                                                            \
    return OpDomain::domain;
#include "kiln/OpTables.def"
  }
  return OpDomain::Any;
}

namespace {

/// Input element strides split into kept (outer) and reduced dims.
struct ReducePlan {
  int keptRank = 0, redRank = 0;
  std::array<int64_t, kMaxRank> keptShape{}, keptStride{};
  std::array<int64_t, kMaxRank> redShape{}, redStride{};
  int64_t numOut = 1, numRed = 1;
};

ReducePlan makePlan(const Tensor &x, const std::vector<int64_t> &axes) {
  ReducePlan p;
  std::vector<bool> reduced(size_t(x.rank()), false);
  for (int64_t a : axes)
    reduced[size_t(a)] = true;
  for (size_t d = 0; d < reduced.size(); ++d) {
    int64_t n = x.shape()[d], s = x.strides()[d];
    if (reduced[d]) {
      p.numRed *= n;
      if (n == 1)
        continue;
      // Merge with the previous reduced dim when contiguous with it.
      if (p.redRank && p.redStride[size_t(p.redRank - 1)] == s * n) {
        p.redShape[size_t(p.redRank - 1)] *= n;
        p.redStride[size_t(p.redRank - 1)] = s;
        continue;
      }
      p.redShape[size_t(p.redRank)] = n;
      p.redStride[size_t(p.redRank++)] = s;
    } else {
      p.numOut *= n;
      p.keptShape[size_t(p.keptRank)] = n;
      p.keptStride[size_t(p.keptRank++)] = s;
    }
  }
  return p;
}

/// Visits every reduced element of one output: fn(ptr, stride, n) per run.
template <typename T, typename Fn>
void forEachReducedRun(const ReducePlan &p, const T *base, Fn &&fn) {
  if (p.redRank == 0) {
    fn(base, int64_t(0), int64_t(1));
    return;
  }
  int inner = p.redRank - 1;
  std::array<int64_t, kMaxRank> idx{};
  for (;;) {
    const T *ptr = base;
    for (int d = 0; d < inner; ++d)
      ptr += idx[size_t(d)] * p.redStride[size_t(d)];
    fn(ptr, p.redStride[size_t(inner)], p.redShape[size_t(inner)]);
    int d = inner - 1;
    for (; d >= 0; --d) {
      if (++idx[size_t(d)] < p.redShape[size_t(d)])
        break;
      idx[size_t(d)] = 0;
    }
    if (d < 0)
      return;
  }
}

template <typename T> const T *keptBase(const ReducePlan &p, const T *x, int64_t o) {
  const T *ptr = x;
  for (int d = p.keptRank - 1; d >= 0; --d) {
    int64_t n = p.keptShape[size_t(d)];
    ptr += (o % n) * p.keptStride[size_t(d)];
    o /= n;
  }
  return ptr;
}

template <typename T> using AccT =
    std::conditional_t<std::is_integral_v<T>, uint64_t, double>;

template <typename T>
AccT<T> sumRun(const T *p, int64_t stride, int64_t n) {
  using A = AccT<T>;
  if (stride == 1) {
    A a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      a0 += A(cpu::toCompute(p[i]));
      a1 += A(cpu::toCompute(p[i + 1]));
      a2 += A(cpu::toCompute(p[i + 2]));
      a3 += A(cpu::toCompute(p[i + 3]));
    }
    for (; i < n; ++i)
      a0 += A(cpu::toCompute(p[i]));
    return (a0 + a1) + (a2 + a3);
  }
  A a = 0;
  for (int64_t i = 0; i < n; ++i)
    a += A(cpu::toCompute(p[i * stride]));
  return a;
}

/// The running state of one reduction: add runs of elements, merge two
/// partial states (for split rows), and produce the result.
template <ReduceOp op, typename T> struct Accumulator {
  using C = cpu::ComputeT<T>;
  using A = AccT<T>;
  static constexpr bool kExtremum = op == ReduceOp::Max || op == ReduceOp::Min;
  std::conditional_t<kExtremum, C, A> acc;
  bool empty = true; // Max/min start from their first element.

  Accumulator() : acc(op == ReduceOp::Prod ? 1 : 0) {}

  void addRun(const T *r, int64_t s, int64_t n) {
    if constexpr (op == ReduceOp::Sum || op == ReduceOp::Mean) {
      acc += sumRun(r, s, n);
    } else if constexpr (op == ReduceOp::Prod) {
      for (int64_t i = 0; i < n; ++i)
        acc *= A(cpu::toCompute(r[i * s]));
    } else {
      for (int64_t i = 0; i < n; ++i)
        addValue(cpu::toCompute(r[i * s]));
    }
  }
  void addValue(C v) {
    if (empty) {
      acc = v;
      empty = false;
      return;
    }
    bool better = op == ReduceOp::Max ? v > acc : v < acc;
    if ((better || v != v) && acc == acc) // The first NaN sticks.
      acc = v;
  }
  void merge(const Accumulator &o) {
    if constexpr (kExtremum) {
      if (!o.empty)
        addValue(o.acc);
    } else if constexpr (op == ReduceOp::Prod) {
      acc *= o.acc;
    } else {
      acc += o.acc;
    }
  }
  T result(int64_t count) const {
    if constexpr (op == ReduceOp::Mean)
      return cpu::convertValue<T>(double(acc) / double(count));
    else if constexpr (!kExtremum && std::is_integral_v<T>)
      return T(std::make_signed_t<A>(acc)); // Wraps (C++20).
    else
      return cpu::convertValue<T>(acc);
  }
};

/// Rows longer than this are split into pieces of this size when there are
/// too few outputs to keep the pool busy. The pieces are fixed, not per
/// thread, so the result does not depend on the thread count.
constexpr int64_t kReducePiece = 1 << 15;

/// Sums over leading dims into a contiguous trailing dim ([rows, cols] ->
/// [cols], e.g. a bias gradient): walking each column would touch one cache
/// line per element, so add whole rows into a strip of accumulators instead.
/// Each output still adds its elements in row order, whatever the threads.
template <ReduceOp op, typename T>
bool columnReduce(const ReducePlan &p, const T *x, T *out) {
  if constexpr (op != ReduceOp::Sum && op != ReduceOp::Mean) {
    return false;
  } else {
    if (p.keptRank != 1 || p.keptStride[0] != 1 || p.redRank != 1 ||
        p.redStride[0] < p.keptShape[0] || p.numRed < 2)
      return false;
    using A = AccT<T>;
    int64_t cols = p.keptShape[0], rows = p.redShape[0], rs = p.redStride[0];
    constexpr int64_t kStrip = 512;
    ThreadPool::global().parallelFor(
        0, (cols + kStrip - 1) / kStrip, 1, [&](int64_t b, int64_t e) {
          std::array<A, kStrip> acc;
          for (int64_t strip = b; strip < e; ++strip) {
            int64_t c0 = strip * kStrip, n = std::min(kStrip, cols - c0);
            std::fill(acc.begin(), acc.begin() + n, A(0));
            for (int64_t r = 0; r < rows; ++r) {
              const T *row = x + r * rs + c0;
              for (int64_t j = 0; j < n; ++j)
                acc[size_t(j)] += A(cpu::toCompute(row[j]));
            }
            for (int64_t j = 0; j < n; ++j) {
              if constexpr (op == ReduceOp::Mean)
                out[c0 + j] = cpu::convertValue<T>(double(acc[size_t(j)]) / double(p.numRed));
              else if constexpr (std::is_integral_v<T>)
                out[c0 + j] = T(std::make_signed_t<A>(acc[size_t(j)]));
              else
                out[c0 + j] = cpu::convertValue<T>(acc[size_t(j)]);
            }
          }
        });
    return true;
  }
}

template <ReduceOp op, typename T>
void reduceKernel(const ReducePlan &p, const T *x, T *out) {
  using Acc = Accumulator<op, T>;
  ThreadPool &pool = ThreadPool::global();
  if (columnReduce<op, T>(p, x, out))
    return;
  if (p.redRank == 1 && p.numOut < pool.numThreads() &&
      p.numRed >= 2 * kReducePiece) {
    int64_t n = p.redShape[0], s = p.redStride[0];
    int64_t pieces = (n + kReducePiece - 1) / kReducePiece;
    for (int64_t o = 0; o < p.numOut; ++o) {
      const T *base = keptBase(p, x, o);
      std::vector<Acc> partial(static_cast<size_t>(pieces));
      pool.parallelFor(0, pieces, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i)
          partial[size_t(i)].addRun(base + i * kReducePiece * s, s,
                                    std::min(kReducePiece, n - i * kReducePiece));
      });
      Acc total;
      for (const Acc &a : partial)
        total.merge(a);
      out[o] = total.result(p.numRed);
    }
    return;
  }
  int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(p.numRed, 1));
  pool.parallelFor(0, p.numOut, grain, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      Acc acc;
      forEachReducedRun(p, keptBase(p, x, o),
                        [&](const T *r, int64_t s, int64_t n) { acc.addRun(r, s, n); });
      out[o] = acc.result(p.numRed);
    }
  });
}

template <bool isMax, typename T>
void argKernel(const ReducePlan &p, const T *x, int64_t *out) {
  using C = cpu::ComputeT<T>;
  int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(p.numRed, 1));
  ThreadPool::global().parallelFor(0, p.numOut, grain, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const T *base = keptBase(p, x, o);
      int64_t stride = p.redRank ? p.redStride[0] : 0;
      C best = cpu::toCompute(base[0]);
      int64_t bestIdx = 0;
      for (int64_t i = 1; i < p.numRed && best == best; ++i) {
        C v = cpu::toCompute(base[i * stride]);
        if ((isMax ? v > best : v < best) || v != v) {
          best = v;
          bestIdx = i;
        }
      }
      out[o] = bestIdx;
    }
  });
}

template <typename T>
void runReduce(ReduceOp op, const ReducePlan &plan, const T *in, T *out) {
  switch (op) {
#define KILN_REDUCE_OP(E, fn, name, domain)                                    \
  case ReduceOp::E:                                                            \
    reduceKernel<ReduceOp::E, T>(plan, in, out);                               \
    break;
#include "kiln/OpTables.def"
  }
}

} // namespace

namespace {
Expected<Tensor> reduceOp(ReduceOp op, const Tensor &x,
                              std::span<const int64_t> axes, bool keepDims) {
  std::string_view name = opName(op);
  KILN_RETURN_IF_ERROR(eager::checkInputs(name, {&x}));
  if (!inDomain(opDomain(op), x.dtype()))
    return invalidArgument("op '", name, "': input has dtype ",
                           dtypeName(x.dtype()), ", outside its domain");
  auto shape = shapes::reduce(x.shape(), axes, keepDims);
  if (!shape)
    return invalidArgument("op '", name, "': ", shape.message());
  auto norm = shapes::reductionAxes(axes, x.rank());
  if (!norm)
    return invalidArgument("op '", name, "': bad axes");
  ReducePlan plan = makePlan(x, *norm);
  if (plan.numRed == 0 && plan.numOut > 0 &&
      (op == ReduceOp::Max || op == ReduceOp::Min))
    return invalidArgument("op '", name,
                           "': reducing an empty dimension has no identity");
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(*shape, x.dtype(), x.device()));
  if (out.numel() == 0)
    return out;
  if (plan.numRed == 0) {
    // Nothing to read (the input may have no storage at all): the identity,
    // and 0/0 for a mean.
    double identity = op == ReduceOp::Prod   ? 1.0
                      : op == ReduceOp::Mean ? std::nan("")
                                             : 0.0;
    return Tensor::full(*shape, identity, x.dtype(), x.device());
  }
  KILN_DISPATCH_ALL(x.dtype(), {
    if constexpr (!std::is_same_v<T, bool>)
      runReduce<T>(op, plan, static_cast<const T *>(x.rawData()),
                   static_cast<T *>(out.rawData()));
  });
  return out;
}
} // namespace

Expected<Tensor> reduce(ReduceOp op, const Tensor &x,
                        std::span<const int64_t> axes, bool keepDims) {
  return autograd::differentiable(
      opName(op), {x}, [&] { return reduceOp(op, x, axes, keepDims); },
      [&] { return autograd::reduceBackward(op, x, axes, keepDims); });
}

namespace {
Expected<Tensor> argReduce(bool isMax, const Tensor &x, int64_t axis,
                           bool keepDims) {
  const char *name = isMax ? "argmax" : "argmin";
  KILN_RETURN_IF_ERROR(eager::checkInputs(name, {&x}));
  if (x.dtype() == DType::Bool)
    return invalidArgument("op '", name, "': input has dtype i1, expected a "
                           "numeric dtype");
  std::vector<int64_t> axes = {axis};
  auto shape = shapes::reduce(x.shape(), axes, keepDims);
  if (!shape)
    return invalidArgument("op '", name, "': ", shape.message());
  int64_t a = *shapes::normalizeAxis(axis, x.rank());
  ReducePlan plan = makePlan(x, {a});
  if (plan.numRed == 0 && plan.numOut > 0)
    return invalidArgument("op '", name, "': axis ", axis, " has size 0");
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(*shape, DType::I64, x.device()));
  if (out.numel() == 0)
    return out;
  KILN_DISPATCH_ALL(x.dtype(), {
    if constexpr (!std::is_same_v<T, bool>) {
      const T *in = static_cast<const T *>(x.rawData());
      if (isMax)
        argKernel<true, T>(plan, in, out.data<int64_t>());
      else
        argKernel<false, T>(plan, in, out.data<int64_t>());
    }
  });
  return out;
}
} // namespace

Expected<Tensor> argmax(const Tensor &x, int64_t axis, bool keepDims) {
  return argReduce(true, x, axis, keepDims);
}
Expected<Tensor> argmin(const Tensor &x, int64_t axis, bool keepDims) {
  return argReduce(false, x, axis, keepDims);
}

} // namespace kiln
