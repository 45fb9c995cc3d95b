//===- Pooling.cpp - max_pool2d, avg_pool2d, global_avg_pool ---------------===//
//
// Direct window loops, one parallel task per (n, c) plane. Floats compute in
// their own type (f16/bf16 in f32); integer max pooling goes through f64,
// which is exact for i8/i32 and for i64 below 2^53.
//
//===----------------------------------------------------------------------===//
#include "kiln/NNOps.h"

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

Expected<Tensor> pool(const char *op, const Tensor &x, const Window2D &win,
                      bool isMax, bool countIncludePad) {
  KILN_RETURN_IF_ERROR(eager::checkInputs(op, {&x}));
  if (x.dtype() == DType::Bool || (!isMax && !isFloat(x.dtype())))
    return invalidArgument("op '", op, "': input has dtype ",
                           dtypeName(x.dtype()), ", outside its domain");
  KILN_ASSIGN_OR_RETURN(PoolGeometry g, poolGeometry(op, x, win));
  DType ct = x.dtype() == DType::F32 || x.dtype() == DType::F16 ||
                     x.dtype() == DType::BF16
                 ? DType::F32
                 : DType::F64;
  KILN_ASSIGN_OR_RETURN(Tensor in, x.to(ct));
  KILN_ASSIGN_OR_RETURN(Tensor out,
                        Tensor::empty({x.shape()[0], x.shape()[1], g.oh, g.ow}, ct));
  if (out.numel() > 0) {
    if (ct == DType::F64)
      poolPlanes(in.data<double>(), out.data<double>(), g, win, isMax, countIncludePad);
    else
      poolPlanes(in.data<float>(), out.data<float>(), g, win, isMax, countIncludePad);
  }
  return out.to(x.dtype());
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
  if (axes.empty()) // Nothing spatial: the mean of one element each.
    return input.clone();
  return mean(input, axes, /*keepDims=*/true);
}

} // namespace kiln
