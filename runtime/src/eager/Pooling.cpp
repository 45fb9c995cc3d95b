//===- Pooling.cpp - max_pool2d, avg_pool2d, global_avg_pool ---------------===//
//
// Direct window loops over the in-image taps of each output (their ranges
// computed once per row and column), one parallel task per (n, c) plane.
// Floats compute in their own type (f16/bf16 in f32); integer max pooling
// goes through f64, which is exact for i8/i32 and for i64 below 2^53.
// f32 max pooling without padding goes to the vectorized kernel of
// cpu/MaxPool.h where the CPU has it (same results, bit for bit).
// Gradients: max pooling records the winner of each window (the first
// maximum) while recording and adds each output's gradient there; average
// pooling spreads it over the window with the forward's divisor.
//
//===----------------------------------------------------------------------===//
#include "kiln/NNOps.h"

#include "../autograd/Record.h"
#include "../cpu/MaxPool.h"
#include "ConvolutionKernels.h"
#include "EagerUtil.h"
#include "kiln/ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace kiln {

Window2D makeWindow(int64_t kH, int64_t kW) {
  Window2D w;
  w.kernel = {kH, kW};
  w.strides = {1, 1};
  w.pads = {0, 0, 0, 0};
  w.dilations = {1, 1};
  return w;
}

namespace {

struct PoolGeometry {
  int64_t planes, h, w, oh, ow;
};

Expected<PoolGeometry> poolGeometry(const char *op, const Tensor &x,
                                    const Window2D &win) {
  if (auto err = shapes::checkWindow(win))
    return invalidArgument("op '", op, "': ", *err);
  auto shape = shapes::pool2d(x.shape(), win);
  if (!shape)
    return invalidArgument("op '", op, "': ", shape.message());
  return PoolGeometry{x.shape()[0] * x.shape()[1], x.shape()[2], x.shape()[3],
                      (*shape)[2], (*shape)[3]};
}

/// Per output position along one axis: the window taps [lo, hi) inside the
/// input, and how many taps fall inside the padded input (the divisor of
/// avg pooling with countIncludePad).
struct AxisTaps {
  std::vector<int64_t> lo, hi, padded;
};

AxisTaps axisTaps(int64_t outCount, int64_t stride, int64_t padLow,
                  int64_t padHigh, int64_t dilation, int64_t kernel,
                  int64_t size) {
  AxisTaps t;
  t.lo.resize(size_t(outCount));
  t.hi.resize(size_t(outCount));
  t.padded.resize(size_t(outCount));
  for (int64_t o = 0; o < outCount; ++o) {
    int64_t start = o * stride - padLow, plo, phi;
    eager::validTaps(start, dilation, size, kernel, t.lo[size_t(o)], t.hi[size_t(o)]);
    eager::validTaps(start + padLow, dilation, size + padLow + padHigh, kernel,
                     plo, phi);
    t.padded[size_t(o)] = phi - plo;
  }
  return t;
}

struct PoolTaps {
  AxisTaps rows, cols;
};

PoolTaps poolTaps(const PoolGeometry &g, const Window2D &win) {
  return {axisTaps(g.oh, win.strides[0], win.pads[0], win.pads[2],
                   win.dilations[0], win.kernel[0], g.h),
          axisTaps(g.ow, win.strides[1], win.pads[1], win.pads[3],
                   win.dilations[1], win.kernel[1], g.w)};
}

/// Calls visit(offset) for each in-image tap of output (oy, ox), where
/// offset indexes the plane, in row-major window order.
template <typename Visit>
inline void forEachTap(const PoolGeometry &g, const Window2D &win,
                       const PoolTaps &t, int64_t oy, int64_t ox, Visit &&visit) {
  int64_t y0 = oy * win.strides[0] - win.pads[0];
  int64_t x0 = ox * win.strides[1] - win.pads[1];
  int64_t dH = win.dilations[0], dW = win.dilations[1];
  for (int64_t ky = t.rows.lo[size_t(oy)]; ky < t.rows.hi[size_t(oy)]; ++ky) {
    int64_t rowBase = (y0 + ky * dH) * g.w + x0;
    for (int64_t kx = t.cols.lo[size_t(ox)]; kx < t.cols.hi[size_t(ox)]; ++kx)
      visit(rowBase + kx * dW);
  }
}

/// The divisor of avg pooling at (oy, ox).
inline int64_t avgDivisor(const PoolTaps &t, int64_t oy, int64_t ox,
                          bool countIncludePad) {
  if (countIncludePad)
    return t.rows.padded[size_t(oy)] * t.cols.padded[size_t(ox)];
  return (t.rows.hi[size_t(oy)] - t.rows.lo[size_t(oy)]) *
         (t.cols.hi[size_t(ox)] - t.cols.lo[size_t(ox)]);
}

/// Pooling of each plane, tap-major: for each output row, every (ky, kx)
/// tap updates the run of outputs it falls in with a unit-stride (or
/// `stride`-strided) inner loop the compiler can vectorize, instead of a
/// per-output walk over a table of taps (4x-40x faster on LeNet's 2x2
/// pools; training LeNet b64 spent 13% of its step in that walk while max
/// pooling recorded its winners). Max: the first maximum wins, a NaN
/// sticks, padding never wins; with `argmax`, each output's winner as a
/// plane offset (taps come in row-major window order, and an output
/// without a winner yet takes its first tap, so an all -inf window picks
/// that one), -1 for a window without taps. Sums accumulate in C (windows
/// are small).
template <typename C>
void poolPlanesByTap(const C *in, C *out, const PoolGeometry &g,
                     const Window2D &win, bool isMax, bool countIncludePad,
                     int64_t *argmax) {
  PoolTaps taps = poolTaps(g, win);
  const int64_t sW = win.strides[1], dW = win.dilations[1], kW = win.kernel[1];
  // Per kx: the outputs [lo, hi) whose tap kx lies inside the row.
  std::vector<int64_t> colLo(static_cast<size_t>(kW)), colHi(static_cast<size_t>(kW));
  for (int64_t kx = 0; kx < kW; ++kx)
    eager::validTaps(kx * dW - win.pads[1], sW, g.w, g.ow, colLo[size_t(kx)],
                     colHi[size_t(kx)]);
  ThreadPool::global().parallelFor(0, g.planes, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const C *src = in + p * g.h * g.w;
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        C *dst = out + (p * g.oh + oy) * g.ow;
        std::fill(dst, dst + g.ow,
                  isMax ? -std::numeric_limits<C>::infinity() : C(0));
        int64_t *won = argmax ? argmax + (p * g.oh + oy) * g.ow : nullptr;
        if (won)
          std::fill(won, won + g.ow, int64_t(-1));
        int64_t y0 = oy * win.strides[0] - win.pads[0];
        for (int64_t ky = taps.rows.lo[size_t(oy)]; ky < taps.rows.hi[size_t(oy)];
             ++ky) {
          const int64_t rowAt = (y0 + ky * win.dilations[0]) * g.w;
          const C *row = src + rowAt;
          for (int64_t kx = 0; kx < kW; ++kx) {
            const C *at = row + kx * dW - win.pads[1];
            int64_t lo = colLo[size_t(kx)], hi = colHi[size_t(kx)];
            if (won) {
              const int64_t tapAt = rowAt + kx * dW - win.pads[1];
              for (int64_t ox = lo; ox < hi; ++ox) {
                C v = at[ox * sW], acc = dst[ox];
                bool take = won[ox] < 0 || ((v > acc || v != v) && acc == acc);
                dst[ox] = take ? v : acc;
                won[ox] = take ? tapAt + ox * sW : won[ox];
              }
            } else if (isMax) {
              for (int64_t ox = lo; ox < hi; ++ox) {
                C v = at[ox * sW], acc = dst[ox];
                dst[ox] = (v > acc || v != v) && acc == acc ? v : acc;
              }
            } else {
              for (int64_t ox = lo; ox < hi; ++ox)
                dst[ox] += at[ox * sW];
            }
          }
        }
        if (!isMax)
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            int64_t div = avgDivisor(taps, oy, ox, countIncludePad);
            dst[ox] = div ? C(dst[ox] / C(div)) : C(0);
          }
      }
    }
  });
}

/// Gradient of avg pooling: each output's gradient spread over its window.
template <typename C>
void avgPoolBackwardPlanes(const C *gy, C *gx, const PoolGeometry &g,
                           const Window2D &win, bool countIncludePad) {
  PoolTaps taps = poolTaps(g, win);
  ThreadPool::global().parallelFor(0, g.planes, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const C *grad = gy + p * g.oh * g.ow;
      C *dst = gx + p * g.h * g.w;
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          int64_t div = avgDivisor(taps, oy, ox, countIncludePad);
          if (div == 0)
            continue;
          C share = C(double(grad[oy * g.ow + ox]) / double(div));
          forEachTap(g, win, taps, oy, ox, [&](int64_t at) { dst[at] += share; });
        }
    }
  });
}

/// Gradient of max pooling: each output's gradient added at its winner.
template <typename C>
void maxPoolBackwardPlanes(const C *gy, const int64_t *argmax, C *gx,
                           const PoolGeometry &g) {
  ThreadPool::global().parallelFor(0, g.planes, 4, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const C *grad = gy + p * g.oh * g.ow;
      const int64_t *won = argmax + p * g.oh * g.ow;
      C *dst = gx + p * g.h * g.w;
      for (int64_t o = 0; o < g.oh * g.ow; ++o)
        if (won[o] >= 0)
          dst[won[o]] += grad[o];
    }
  });
}

/// t as a contiguous tensor of `dtype`, copying only when needed.
Expected<Tensor> asComputeType(const Tensor &t, DType dtype) {
  return t.dtype() == dtype ? t.contiguous() : t.to(dtype);
}

DType poolComputeType(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 ? DType::F32
                                                                 : DType::F64;
}

/// `argmax`: when not null (max pooling that records), set to the winners.
Expected<Tensor> poolForward(const char *op, const Tensor &x,
                             const Window2D &win, bool isMax,
                             bool countIncludePad, Tensor *argmax) {
  KILN_ASSIGN_OR_RETURN(PoolGeometry g, poolGeometry(op, x, win));
  DType ct = poolComputeType(x.dtype());
  KILN_ASSIGN_OR_RETURN(Tensor in, asComputeType(x, ct));
  Shape shape = {x.shape()[0], x.shape()[1], g.oh, g.ow};
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(shape, ct));
  int64_t *won = nullptr;
  if (argmax) {
    KILN_ASSIGN_OR_RETURN(*argmax, Tensor::empty(shape, DType::I64));
    won = argmax->data<int64_t>();
  }
  const cpu::PoolPlanes planes{g.planes, g.h, g.w, g.oh, g.ow};
  if (out.numel() > 0 && !won && isMax && ct == DType::F32 &&
      cpu::canMaxPoolFast(planes, win)) {
    cpu::maxPoolF32(in.data<float>(), out.data<float>(), planes, win);
  } else if (out.numel() > 0 && won && ct == DType::F32 &&
             g.h * g.w < (int64_t(1) << 31) && cpu::canMaxPoolFast(planes, win)) {
    cpu::maxPoolWinnersF32(in.data<float>(), out.data<float>(), won, planes, win);
  } else if (out.numel() > 0) {
    if (ct == DType::F64)
      poolPlanesByTap(in.data<double>(), out.data<double>(), g, win, isMax,
                      countIncludePad, won);
    else
      poolPlanesByTap(in.data<float>(), out.data<float>(), g, win, isMax,
                      countIncludePad, won);
  }
  return out.dtype() == x.dtype() ? Expected<Tensor>(out) : out.to(x.dtype());
}

/// `argmax`: the forward's winners (max pooling), else undefined.
Expected<Tensor> poolBackward(const char *op, const Shape &xShape, DType xType,
                              const Tensor &gradOut, const Window2D &win,
                              bool countIncludePad, const Tensor &argmax) {
  PoolGeometry g{xShape[0] * xShape[1], xShape[2], xShape[3], gradOut.shape()[2],
                 gradOut.shape()[3]};
  DType ct = poolComputeType(xType);
  KILN_ASSIGN_OR_RETURN(Tensor gy, asComputeType(gradOut, ct));
  KILN_ASSIGN_OR_RETURN(Tensor gx, Tensor::zeros(xShape, ct));
  if (gy.numel() > 0) {
    if (argmax.defined()) {
      if (ct == DType::F64)
        maxPoolBackwardPlanes(gy.data<double>(), argmax.data<int64_t>(),
                              gx.data<double>(), g);
      else
        maxPoolBackwardPlanes(gy.data<float>(), argmax.data<int64_t>(),
                              gx.data<float>(), g);
    } else if (ct == DType::F64) {
      avgPoolBackwardPlanes(gy.data<double>(), gx.data<double>(), g, win,
                            countIncludePad);
    } else {
      avgPoolBackwardPlanes(gy.data<float>(), gx.data<float>(), g, win,
                            countIncludePad);
    }
  }
  return gx.dtype() == xType ? Expected<Tensor>(gx) : gx.to(xType);
}

Expected<Tensor> pool(const char *op, const Tensor &x, const Window2D &win,
                      bool isMax, bool countIncludePad) {
  KILN_RETURN_IF_ERROR(eager::checkInputs(op, {&x}));
  if (x.dtype() == DType::Bool || (!isMax && !isFloat(x.dtype())))
    return invalidArgument("op '", op, "': input has dtype ",
                           dtypeName(x.dtype()), ", outside its domain");
  // The winners are kept only when a node will be recorded (the forward
  // runs with grad mode off then, so decide here).
  Tensor argmax;
  bool keep = isMax && autograd::needsGrad({&x});
  return autograd::differentiable(
      op, {x},
      [&] {
        return poolForward(op, x, win, isMax, countIncludePad,
                           keep ? &argmax : nullptr);
      },
      [&] {
        return autograd::BackwardFn(
            [op, shape = x.shape(), dtype = x.dtype(), win, countIncludePad,
             argmax = std::move(argmax)](const Tensor &gy, const Tensor &) {
              return autograd::grads(poolBackward(op, shape, dtype, gy, win,
                                                  countIncludePad, argmax));
            });
      });
}

} // namespace

Expected<Tensor> maxPool2d(const Tensor &input, const Window2D &win) {
  return pool("max_pool2d", input, win, true, false);
}

Expected<Tensor> avgPool2d(const Tensor &input, const Window2D &win,
                           bool countIncludePad) {
  return pool("avg_pool2d", input, win, false, countIncludePad);
}

Expected<Tensor> globalAvgPool(const Tensor &input) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("global_avg_pool", {&input}));
  if (input.rank() < 2)
    return invalidArgument("op 'global_avg_pool': input of rank ", input.rank(),
                           ", expected >= 2");
  std::vector<int64_t> axes;
  for (int64_t d = 2; d < input.rank(); ++d)
    axes.push_back(d);
  auto forward = [&]() -> Expected<Tensor> {
    if (axes.empty()) // Nothing spatial: the mean of one element each.
      return input.clone();
    return mean(input, axes, /*keepDims=*/true);
  };
  return autograd::differentiable(
      "global_avg_pool", {input}, forward, [&] {
        return autograd::BackwardFn([shape = input.shape()](const Tensor &gy,
                                                            const Tensor &) {
          int64_t count = 1;
          for (size_t d = 2; d < shape.size(); ++d)
            count *= shape[d];
          return autograd::grads(
              gy.broadcastTo(shape) * (1.0 / double(std::max<int64_t>(count, 1))));
        });
      });
}

} // namespace kiln
