//===- ReferenceNN.cpp - Naive reference kernels for NN and shape ops ------===//
//
// Direct definitions, one output element (or one input element, for the
// scatter form of the transposed convolution) at a time, in f64.
//
//===----------------------------------------------------------------------===//
#include "kiln/Reference.h"

#include <cmath>
#include <limits>

namespace kiln::ref {

namespace {
double at4(const Tensor &t, int64_t a, int64_t b, int64_t c, int64_t d) {
  return *t.at({a, b, c, d});
}
std::vector<int64_t> unravelIndex(int64_t flat, const Shape &shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}
} // namespace

Expected<Tensor> conv2d(const Tensor &x, const Tensor &w, const Tensor &bias,
                        const shapes::Window2D &winIn, int64_t groups) {
  shapes::Window2D win = winIn;
  win.kernel = {w.shape()[2], w.shape()[3]};
  auto shape = shapes::conv2d(x.shape(), w.shape(), win, groups);
  if (!shape)
    return invalidArgument("ref conv2d: ", shape.message());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::zeros(*shape, DType::F64));
  int64_t cg = x.shape()[1] / groups, fg = w.shape()[0] / groups;
  for (int64_t n = 0; n < (*shape)[0]; ++n)
    for (int64_t f = 0; f < (*shape)[1]; ++f)
      for (int64_t oy = 0; oy < (*shape)[2]; ++oy)
        for (int64_t ox = 0; ox < (*shape)[3]; ++ox) {
          double acc = bias.defined() ? *bias.at({f}) : 0.0;
          int64_t g = f / fg;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t ky = 0; ky < win.kernel[0]; ++ky)
              for (int64_t kx = 0; kx < win.kernel[1]; ++kx) {
                int64_t y = oy * win.strides[0] - win.pads[0] + ky * win.dilations[0];
                int64_t xx = ox * win.strides[1] - win.pads[1] + kx * win.dilations[1];
                if (y < 0 || y >= x.shape()[2] || xx < 0 || xx >= x.shape()[3])
                  continue;
                acc += at4(x, n, g * cg + ci, y, xx) * at4(w, f, ci, ky, kx);
              }
          KILN_RETURN_IF_ERROR(out.set(std::vector<int64_t>{n, f, oy, ox}, acc));
        }
  return out;
}

Expected<Tensor> convTranspose2d(const Tensor &x, const Tensor &w,
                                 const Tensor &bias,
                                 const shapes::Window2D &winIn,
                                 std::span<const int64_t> outputPadding,
                                 int64_t groups) {
  shapes::Window2D win = winIn;
  win.kernel = {w.shape()[2], w.shape()[3]};
  auto shape = shapes::convTranspose2d(x.shape(), w.shape(), win, groups,
                                       outputPadding);
  if (!shape)
    return invalidArgument("ref conv_transpose2d: ", shape.message());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::zeros(*shape, DType::F64));
  int64_t cg = x.shape()[1] / groups, fg = w.shape()[1];
  double *o = out.data<double>();
  int64_t F = (*shape)[1], OH = (*shape)[2], OW = (*shape)[3];
  // Every input element scatters through the kernel into the output.
  for (int64_t n = 0; n < x.shape()[0]; ++n)
    for (int64_t c = 0; c < x.shape()[1]; ++c)
      for (int64_t y = 0; y < x.shape()[2]; ++y)
        for (int64_t xx = 0; xx < x.shape()[3]; ++xx) {
          double v = at4(x, n, c, y, xx);
          int64_t g = c / cg;
          for (int64_t fi = 0; fi < fg; ++fi)
            for (int64_t ky = 0; ky < win.kernel[0]; ++ky)
              for (int64_t kx = 0; kx < win.kernel[1]; ++kx) {
                int64_t oy = y * win.strides[0] - win.pads[0] + ky * win.dilations[0];
                int64_t ox = xx * win.strides[1] - win.pads[1] + kx * win.dilations[1];
                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW)
                  continue;
                int64_t f = g * fg + fi;
                o[((n * F + f) * OH + oy) * OW + ox] += v * at4(w, c, fi, ky, kx);
              }
        }
  if (bias.defined())
    for (int64_t i = 0; i < out.numel(); ++i)
      o[i] += *bias.at({(i / (OH * OW)) % F});
  return out;
}

Expected<Tensor> pool2d(const Tensor &x, const shapes::Window2D &win,
                        bool isMax, bool countIncludePad) {
  auto shape = shapes::pool2d(x.shape(), win);
  if (!shape)
    return invalidArgument("ref pool2d: ", shape.message());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::zeros(*shape, DType::F64));
  int64_t H = x.shape()[2], W = x.shape()[3];
  for (int64_t i = 0; i < out.numel(); ++i) {
    auto idx = unravelIndex(i, *shape);
    double best = -std::numeric_limits<double>::infinity(), sum = 0;
    int64_t count = 0, padded = 0;
    for (int64_t ky = 0; ky < win.kernel[0]; ++ky)
      for (int64_t kx = 0; kx < win.kernel[1]; ++kx) {
        int64_t y = idx[2] * win.strides[0] - win.pads[0] + ky * win.dilations[0];
        int64_t xx = idx[3] * win.strides[1] - win.pads[1] + kx * win.dilations[1];
        bool inPadded = y >= -win.pads[0] && y < H + win.pads[2] &&
                        xx >= -win.pads[1] && xx < W + win.pads[3];
        padded += inPadded;
        if (y < 0 || y >= H || xx < 0 || xx >= W)
          continue;
        double v = at4(x, idx[0], idx[1], y, xx);
        if (std::isnan(v) || std::isnan(best))
          best = NAN;
        else
          best = std::max(best, v);
        sum += v;
        ++count;
      }
    double r = isMax ? best
                     : ((countIncludePad ? padded : count)
                            ? sum / double(countIncludePad ? padded : count)
                            : 0.0);
    KILN_RETURN_IF_ERROR(out.set(idx, r));
  }
  return out;
}

Expected<Tensor> softmax(const Tensor &x, int64_t axis, bool logForm) {
  auto a = shapes::normalizeAxis(axis, x.rank());
  if (!a)
    return invalidArgument("ref softmax: bad axis");
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::zeros(x.shape(), DType::F64));
  int64_t n = x.shape()[size_t(*a)];
  for (int64_t i = 0; i < x.numel(); ++i) {
    auto idx = unravelIndex(i, x.shape());
    double xi = *x.at(idx), s = 0;
    bool allNegInf = true;
    for (int64_t j = 0; j < n; ++j) {
      auto jdx = idx;
      jdx[size_t(*a)] = j;
      double xj = *x.at(jdx);
      allNegInf = allNegInf && xj == -INFINITY;
      s += std::exp(xj - xi); // Relative to x_i: exp(x_j - x_i).
    }
    // x_i = -inf has probability 0 beside any larger entry (the sum above
    // is inf, or NaN from -inf - -inf); a row of -inf alone is undefined.
    if (xi == -INFINITY)
      s = allNegInf ? NAN : INFINITY;
    // softmax_i = 1 / sum_j exp(x_j - x_i).
    KILN_RETURN_IF_ERROR(out.set(idx, logForm ? -std::log(s) : 1.0 / s));
  }
  return out;
}

Expected<Tensor> layerNorm(const Tensor &x, const Tensor &scale,
                           const Tensor &bias, int64_t axis, double epsilon) {
  auto a = shapes::normalizeAxis(axis, x.rank());
  if (!a)
    return invalidArgument("ref layer_norm: bad axis");
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::zeros(x.shape(), DType::F64));
  std::vector<double> v = x.toDoubles(), sv = scale.toDoubles();
  std::vector<double> bv = bias.defined() ? bias.toDoubles() : std::vector<double>();
  int64_t n = 1;
  for (int64_t d = *a; d < x.rank(); ++d)
    n *= x.shape()[size_t(d)];
  double *o = out.data<double>();
  for (int64_t r = 0; n && r < x.numel() / n; ++r) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < n; ++j)
      mean += v[size_t(r * n + j)] / double(n);
    for (int64_t j = 0; j < n; ++j)
      var += std::pow(v[size_t(r * n + j)] - mean, 2) / double(n);
    for (int64_t j = 0; j < n; ++j)
      o[r * n + j] = (v[size_t(r * n + j)] - mean) / std::sqrt(var + epsilon) *
                         sv[size_t(j)] +
                     (bv.empty() ? 0.0 : bv[size_t(j)]);
  }
  return out;
}

Expected<Tensor> batchNorm(const Tensor &x, const Tensor &scale,
                           const Tensor &bias, const Tensor &mean,
                           const Tensor &variance, double epsilon) {
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::zeros(x.shape(), DType::F64));
  for (int64_t i = 0; i < x.numel(); ++i) {
    auto idx = unravelIndex(i, x.shape());
    std::vector<int64_t> c = {idx[1]};
    double v = (*x.at(idx) - *mean.at(c)) / std::sqrt(*variance.at(c) + epsilon) *
                   *scale.at(c) +
               *bias.at(c);
    KILN_RETURN_IF_ERROR(out.set(idx, v));
  }
  return out;
}

Expected<Tensor> gather(const Tensor &data, const Tensor &indices, int64_t axis) {
  auto shape = shapes::gather(data.shape(), indices.shape(), axis);
  if (!shape)
    return invalidArgument("ref gather: ", shape.message());
  int64_t a = *shapes::normalizeAxis(axis, data.rank());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::zeros(*shape, data.dtype()));
  int64_t ir = indices.rank();
  for (int64_t i = 0; i < out.numel(); ++i) {
    auto idx = unravelIndex(i, *shape);
    std::vector<int64_t> ii(idx.begin() + a, idx.begin() + a + ir);
    int64_t k = int64_t(*indices.at(ii));
    if (k < 0)
      k += data.shape()[size_t(a)];
    std::vector<int64_t> di(idx.begin(), idx.begin() + a);
    di.push_back(k);
    di.insert(di.end(), idx.begin() + a + ir, idx.end());
    KILN_ASSIGN_OR_RETURN(double v, data.at(di));
    KILN_RETURN_IF_ERROR(out.set(idx, v));
  }
  return out;
}

Expected<Tensor> pad(const Tensor &x, std::span<const int64_t> pads,
                     double value) {
  auto shape = shapes::pad(x.shape(), pads);
  if (!shape)
    return invalidArgument("ref pad: ", shape.message());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::zeros(*shape, x.dtype()));
  for (int64_t i = 0; i < out.numel(); ++i) {
    auto idx = unravelIndex(i, *shape);
    bool inside = true;
    std::vector<int64_t> src(idx.size());
    for (size_t d = 0; d < idx.size(); ++d) {
      src[d] = idx[d] - pads[d];
      inside &= src[d] >= 0 && src[d] < x.shape()[d];
    }
    KILN_RETURN_IF_ERROR(out.set(idx, inside ? *x.at(src) : value));
  }
  return out;
}

Expected<Tensor> concat(const std::vector<Tensor> &inputs, int64_t axis) {
  std::vector<shapes::Shape> in;
  for (const Tensor &t : inputs)
    in.push_back(t.shape());
  auto shape = shapes::concat(in, axis);
  if (!shape)
    return invalidArgument("ref concat: ", shape.message());
  int64_t a = *shapes::normalizeAxis(axis, int64_t(shape.value().size()));
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::zeros(*shape, inputs[0].dtype()));
  for (int64_t i = 0; i < out.numel(); ++i) {
    auto idx = unravelIndex(i, *shape);
    int64_t k = idx[size_t(a)];
    size_t which = 0;
    while (k >= inputs[which].shape()[size_t(a)])
      k -= inputs[which++].shape()[size_t(a)];
    auto src = idx;
    src[size_t(a)] = k;
    KILN_RETURN_IF_ERROR(out.set(idx, *inputs[which].at(src)));
  }
  return out;
}

Expected<Tensor> crossEntropy(const Tensor &logits, const Tensor &labels) {
  int64_t n = logits.shape()[0], c = logits.shape()[1];
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::zeros({n}, DType::F64));
  for (int64_t i = 0; i < n; ++i) {
    int64_t l = int64_t(*labels.at({i}));
    double xl = *logits.at({i, l}), s = 0;
    for (int64_t j = 0; j < c; ++j)
      s += std::exp(*logits.at({i, j}) - xl);
    KILN_RETURN_IF_ERROR(out.set(std::vector<int64_t>{i}, std::log(s)));
  }
  return out;
}

Expected<Tensor> bceWithLogits(const Tensor &logits, const Tensor &target) {
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::zeros(logits.shape(), DType::F64));
  for (int64_t i = 0; i < out.numel(); ++i) {
    auto idx = unravelIndex(i, logits.shape());
    double x = *logits.at(idx), t = *target.at(idx);
    // -(t log s(x) + (1 - t) log(1 - s(x))), with log s(x) = -log1p(e^-x).
    double logS = x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));
    double log1mS = logS - x;
    KILN_RETURN_IF_ERROR(out.set(idx, -(t * logS + (1 - t) * log1mS)));
  }
  return out;
}

} // namespace kiln::ref
