//===- Pooling.cpp - max_pool2d, avg_pool2d, global_avg_pool ---------------===//
//
// Direct window loops, one parallel task per (n, c) plane. Floats compute in
// their own type (f16/bf16 in f32); integer max pooling goes through f64,
// which is exact for i8/i32 and for i64 below 2^53. The gradients rerun the
// same windows: max pooling sends each output's gradient to the element
// that won its window (the first maximum, as the forward picks it), average
// pooling spreads it over the window with the forward's divisor.
//
//===----------------------------------------------------------------------===//
#include "kiln/NNOps.h"

#include "../autograd/Record.h"
#include "EagerUtil.h"
#include "kiln/ThreadPool.h"

#include <cmath>
#include <limits>

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

template <typename C>
void poolPlanes(const C *in, C *out, const PoolGeometry &g, const Window2D &win,
                bool isMax, bool countIncludePad) {
  int64_t kH = win.kernel[0], kW = win.kernel[1];
  int64_t sH = win.strides[0], sW = win.strides[1];
  int64_t pT = win.pads[0], pL = win.pads[1], pB = win.pads[2], pR = win.pads[3];
  int64_t dH = win.dilations[0], dW = win.dilations[1];
  ThreadPool::global().parallelFor(0, g.planes, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const C *src = in + p * g.h * g.w;
      C *dst = out + p * g.oh * g.ow;
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          double acc = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
          int64_t count = 0, padded = 0;
          for (int64_t ky = 0; ky < kH; ++ky) {
            int64_t y = oy * sH - pT + ky * dH;
            for (int64_t kx = 0; kx < kW; ++kx) {
              int64_t x = ox * sW - pL + kx * dW;
              if (y >= -pT && y < g.h + pB && x >= -pL && x < g.w + pR)
                ++padded;
              if (y < 0 || y >= g.h || x < 0 || x >= g.w)
                continue;
              double v = double(src[y * g.w + x]);
              if (isMax)
                acc = (v > acc || std::isnan(v)) && !std::isnan(acc) ? v : acc;
              else
                acc += v;
              ++count;
            }
          }
          if (!isMax) {
            int64_t div = countIncludePad ? padded : count;
            acc = div ? acc / double(div) : 0.0;
          }
          dst[oy * g.ow + ox] = C(acc);
        }
    }
  });
}

/// Gradient of one plane: for every output, adds its share of gy to gx.
template <typename C>
void poolBackwardPlanes(const C *in, const C *gy, C *gx, const PoolGeometry &g,
                        const Window2D &win, bool isMax, bool countIncludePad) {
  int64_t kH = win.kernel[0], kW = win.kernel[1];
  int64_t sH = win.strides[0], sW = win.strides[1];
  int64_t pT = win.pads[0], pL = win.pads[1], pB = win.pads[2], pR = win.pads[3];
  int64_t dH = win.dilations[0], dW = win.dilations[1];
  ThreadPool::global().parallelFor(0, g.planes, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const C *src = in + p * g.h * g.w;
      const C *grad = gy + p * g.oh * g.ow;
      C *dst = gx + p * g.h * g.w;
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          double go = double(grad[oy * g.ow + ox]);
          if (isMax) {
            // The forward's rule: the first maximum wins, a NaN sticks
            // (an all -inf window sends its gradient to its first tap).
            double acc = -std::numeric_limits<double>::infinity();
            int64_t at = -1;
            for (int64_t ky = 0; ky < kH; ++ky) {
              int64_t y = oy * sH - pT + ky * dH;
              if (y < 0 || y >= g.h)
                continue;
              for (int64_t kx = 0; kx < kW; ++kx) {
                int64_t x = ox * sW - pL + kx * dW;
                if (x < 0 || x >= g.w)
                  continue;
                double v = double(src[y * g.w + x]);
                if (at < 0 || ((v > acc || std::isnan(v)) && !std::isnan(acc))) {
                  acc = v;
                  at = y * g.w + x;
                }
              }
            }
            if (at >= 0)
              dst[at] = C(double(dst[at]) + go);
            continue;
          }
          int64_t count = 0, padded = 0;
          for (int64_t ky = 0; ky < kH; ++ky) {
            int64_t y = oy * sH - pT + ky * dH;
            for (int64_t kx = 0; kx < kW; ++kx) {
              int64_t x = ox * sW - pL + kx * dW;
              if (y >= -pT && y < g.h + pB && x >= -pL && x < g.w + pR)
                ++padded;
              if (y >= 0 && y < g.h && x >= 0 && x < g.w)
                ++count;
            }
          }
          int64_t div = countIncludePad ? padded : count;
          if (div == 0)
            continue;
          C share = C(go / double(div));
          for (int64_t ky = 0; ky < kH; ++ky) {
            int64_t y = oy * sH - pT + ky * dH;
            if (y < 0 || y >= g.h)
              continue;
            for (int64_t kx = 0; kx < kW; ++kx) {
              int64_t x = ox * sW - pL + kx * dW;
              if (x >= 0 && x < g.w)
                dst[y * g.w + x] += share;
            }
          }
        }
    }
  });
}

DType poolComputeType(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 ? DType::F32
                                                                 : DType::F64;
}

Expected<Tensor> poolForward(const char *op, const Tensor &x,
                             const Window2D &win, bool isMax,
                             bool countIncludePad) {
  KILN_ASSIGN_OR_RETURN(PoolGeometry g, poolGeometry(op, x, win));
  DType ct = poolComputeType(x.dtype());
  KILN_ASSIGN_OR_RETURN(Tensor in, x.to(ct));
  KILN_ASSIGN_OR_RETURN(Tensor out,
                        Tensor::empty({x.shape()[0], x.shape()[1], g.oh, g.ow}, ct));
  if (out.numel() > 0) {
    if (ct == DType::F64)
      poolPlanes(in.data<double>(), out.data<double>(), g, win, isMax, countIncludePad);
    else
      poolPlanes(in.data<float>(), out.data<float>(), g, win, isMax, countIncludePad);
  }
  return out.dtype() == x.dtype() ? Expected<Tensor>(out) : out.to(x.dtype());
}

Expected<Tensor> poolBackward(const char *op, const Tensor &x, const Tensor &gradOut,
                              const Window2D &win, bool isMax,
                              bool countIncludePad) {
  KILN_ASSIGN_OR_RETURN(PoolGeometry g, poolGeometry(op, x, win));
  DType ct = poolComputeType(x.dtype());
  KILN_ASSIGN_OR_RETURN(Tensor in, x.to(ct));
  KILN_ASSIGN_OR_RETURN(Tensor gy, gradOut.to(ct));
  KILN_ASSIGN_OR_RETURN(Tensor gx, Tensor::zeros(x.shape(), ct));
  if (gy.numel() > 0) {
    if (ct == DType::F64)
      poolBackwardPlanes(in.data<double>(), gy.data<double>(), gx.data<double>(),
                         g, win, isMax, countIncludePad);
    else
      poolBackwardPlanes(in.data<float>(), gy.data<float>(), gx.data<float>(), g,
                         win, isMax, countIncludePad);
  }
  return gx.dtype() == x.dtype() ? Expected<Tensor>(gx) : gx.to(x.dtype());
}

Expected<Tensor> pool(const char *op, const Tensor &x, const Window2D &win,
                      bool isMax, bool countIncludePad) {
  KILN_RETURN_IF_ERROR(eager::checkInputs(op, {&x}));
  if (x.dtype() == DType::Bool || (!isMax && !isFloat(x.dtype())))
    return invalidArgument("op '", op, "': input has dtype ",
                           dtypeName(x.dtype()), ", outside its domain");
  return autograd::differentiable(
      op, {x}, [&] { return poolForward(op, x, win, isMax, countIncludePad); },
      [&] {
        return autograd::BackwardFn(
            [op, xs = x.detach(), win, isMax,
             countIncludePad](const Tensor &gy, const Tensor &) {
              return autograd::grads(
                  poolBackward(op, xs, gy, win, isMax, countIncludePad));
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
