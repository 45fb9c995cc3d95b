//===- Shapes.cpp - Shape rules shared by the dialect and the runtime -----===//
//
// Messages are written for users: they name the axis, the dims and the
// shapes involved, and the dialect prefixes them with the op.
//
//===----------------------------------------------------------------------===//
#include "kiln/Support/Shapes.h"

#include <algorithm>
#include <limits>

namespace kiln::shapes {

std::string toString(Dims shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::optional<int64_t> numElements(Dims shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return std::nullopt;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      return std::nullopt;
    n *= d;
  }
  return n;
}

std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

/// int64 arithmetic on user-provided sizes: nullopt when the result does not
/// fit (dims and attributes come straight from the IR, so any of them may be
/// near INT64_MAX).
static std::optional<int64_t> add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    return std::nullopt;
  return r;
}
static std::optional<int64_t> sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r))
    return std::nullopt;
  return r;
}
static std::optional<int64_t> mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    return std::nullopt;
  return r;
}

static std::string axisError(int64_t axis, int64_t rank) {
  return "axis " + std::to_string(axis) + " is out of range for rank " +
         std::to_string(rank);
}

ShapeOr broadcast(Dims a, Dims b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return ShapeOr::error("shapes " + toString(a) + " and " + toString(b) +
                            " do not broadcast (dimension " +
                            std::to_string(i) + ": " + std::to_string(da) +
                            " vs " + std::to_string(db) + ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

ShapeOr broadcast(const std::vector<Shape> &shapes) {
  Shape acc;
  for (const Shape &s : shapes) {
    ShapeOr r = broadcast(acc, s);
    if (!r)
      return r;
    acc = *r;
  }
  return acc;
}

bool broadcastsTo(Dims from, Dims to) {
  if (from.size() > to.size())
    return false;
  size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[lead + i])
      return false;
  return true;
}

std::optional<std::vector<int64_t>> reductionAxes(Dims axes, int64_t rank) {
  std::vector<int64_t> out;
  if (axes.empty()) {
    for (int64_t i = 0; i < rank; ++i)
      out.push_back(i);
    return out;
  }
  for (int64_t a : axes) {
    auto n = normalizeAxis(a, rank);
    if (!n)
      return std::nullopt;
    out.push_back(*n);
  }
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    return std::nullopt;
  return out;
}

ShapeOr reduce(Dims input, Dims axes, bool keepDims) {
  int64_t rank = input.size();
  for (int64_t a : axes)
    if (!normalizeAxis(a, rank))
      return ShapeOr::error(axisError(a, rank));
  auto norm = reductionAxes(axes, rank);
  if (!norm)
    return ShapeOr::error("reduction axes " + toString(axes) +
                          " repeat an axis");
  Shape out;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = std::binary_search(norm->begin(), norm->end(), i);
    if (!reduced)
      out.push_back(input[i]);
    else if (keepDims)
      out.push_back(1);
  }
  return out;
}

ShapeOr matmul(Dims lhs, Dims rhs, bool transposeLhs, bool transposeRhs) {
  if (lhs.size() < 2 || rhs.size() < 2)
    return ShapeOr::error("matmul operands must have rank >= 2, got " +
                          toString(lhs) + " and " + toString(rhs));
  size_t rl = lhs.size(), rr = rhs.size();
  int64_t m = transposeLhs ? lhs[rl - 1] : lhs[rl - 2];
  int64_t kl = transposeLhs ? lhs[rl - 2] : lhs[rl - 1];
  int64_t kr = transposeRhs ? rhs[rr - 1] : rhs[rr - 2];
  int64_t n = transposeRhs ? rhs[rr - 2] : rhs[rr - 1];
  if (kl != kr)
    return ShapeOr::error("matmul contraction dims differ: " + toString(lhs) +
                          " x " + toString(rhs) + " contracts " +
                          std::to_string(kl) + " with " + std::to_string(kr));
  ShapeOr batch = broadcast(lhs.subspan(0, rl - 2), rhs.subspan(0, rr - 2));
  if (!batch)
    return ShapeOr::error("matmul batch dims: " + batch.message());
  Shape out = *batch;
  out.push_back(m);
  out.push_back(n);
  return out;
}

std::optional<std::string> checkWindow(const Window2D &w) {
  if (w.kernel.size() != 2 || w.strides.size() != 2 || w.pads.size() != 4 ||
      w.dilations.size() != 2)
    return "window needs 2 kernel sizes, 2 strides, 4 pads and 2 dilations";
  for (int64_t k : w.kernel)
    if (k < 1)
      return "kernel sizes must be >= 1, got " + toString(w.kernel);
  for (int64_t s : w.strides)
    if (s < 1)
      return "strides must be >= 1, got " + toString(w.strides);
  for (int64_t p : w.pads)
    if (p < 0)
      return "pads must be >= 0, got " + toString(w.pads);
  for (int64_t d : w.dilations)
    if (d < 1)
      return "dilations must be >= 1, got " + toString(w.dilations);
  return std::nullopt;
}

ShapeOr windowOutput(int64_t h, int64_t w, const Window2D &win) {
  if (auto err = checkWindow(win))
    return ShapeOr::error(*err);
  Shape out;
  int64_t in[2] = {h, w};
  for (int i = 0; i < 2; ++i) {
    std::string where = " (spatial dim " + std::to_string(i) + ")";
    std::optional<int64_t> lowPadded = add(in[i], win.pads[i]);
    std::optional<int64_t> padded =
        lowPadded ? add(*lowPadded, win.pads[i + 2]) : std::nullopt;
    if (!padded)
      return ShapeOr::error("padded input size " + std::to_string(in[i]) +
                            " + " + std::to_string(win.pads[i]) + " + " +
                            std::to_string(win.pads[i + 2]) +
                            " overflows int64" + where);
    std::optional<int64_t> span = mul(win.dilations[i], win.kernel[i] - 1);
    if (span)
      span = add(*span, 1);
    if (!span)
      return ShapeOr::error("window extent (dilation " +
                            std::to_string(win.dilations[i]) + ", kernel " +
                            std::to_string(win.kernel[i]) +
                            ") overflows int64" + where);
    if (*padded < *span)
      return ShapeOr::error("window of extent " + std::to_string(*span) +
                            " does not fit the padded input of size " +
                            std::to_string(*padded) + where);
    int64_t num = *padded - *span, stride = win.strides[i];
    int64_t o = num / stride;
    if (win.ceilMode) {
      if (num % stride != 0)
        ++o;
      // With ceil mode the last window must start inside the input or the
      // left padding (PyTorch/ONNX rule).
      std::optional<int64_t> lastStart = mul(o, stride);
      if (!lastStart || *lastStart >= *lowPadded)
        --o;
    }
    out.push_back(o + 1); // o <= num < INT64_MAX
  }
  return out;
}

/// `layout` names the four dims: NCHW for data, OIHW/IOHW for weights.
static std::optional<std::string> checkRank4(Dims s, const char *what,
                                             const char *layout = "NCHW") {
  if (s.size() != 4)
    return std::string(what) + " must have rank 4 (" + layout + "), got " +
           toString(s);
  return std::nullopt;
}

ShapeOr conv2d(Dims input, Dims weight, const Window2D &win, int64_t groups) {
  if (auto e = checkRank4(input, "conv2d input"))
    return ShapeOr::error(*e);
  if (auto e = checkRank4(weight, "conv2d weight", "OIHW"))
    return ShapeOr::error(*e);
  if (groups < 1)
    return ShapeOr::error("groups must be >= 1, got " + std::to_string(groups));
  if (input[1] % groups != 0 || weight[0] % groups != 0)
    return ShapeOr::error("groups " + std::to_string(groups) +
                          " must divide the input channels (" +
                          std::to_string(input[1]) + ") and the filters (" +
                          std::to_string(weight[0]) + ")");
  std::optional<int64_t> channels = mul(weight[1], groups);
  if (!channels)
    return ShapeOr::error("conv2d input channels " + std::to_string(weight[1]) +
                          " x groups " + std::to_string(groups) +
                          " overflows int64");
  if (*channels != input[1])
    return ShapeOr::error("conv2d weight " + toString(weight) + " expects " +
                          std::to_string(*channels) +
                          " input channels, input has " +
                          std::to_string(input[1]));
  Window2D w = win;
  w.kernel = {weight[2], weight[3]};
  ShapeOr hw = windowOutput(input[2], input[3], w);
  if (!hw)
    return hw;
  return Shape{input[0], weight[0], (*hw)[0], (*hw)[1]};
}

ShapeOr convTranspose2d(Dims input, Dims weight, const Window2D &win,
                        int64_t groups, Dims outputPadding) {
  if (auto e = checkRank4(input, "conv_transpose2d input"))
    return ShapeOr::error(*e);
  if (auto e = checkRank4(weight, "conv_transpose2d weight", "IOHW"))
    return ShapeOr::error(*e);
  if (groups < 1)
    return ShapeOr::error("groups must be >= 1, got " + std::to_string(groups));
  if (weight[0] != input[1])
    return ShapeOr::error("conv_transpose2d weight " + toString(weight) +
                          " expects " + std::to_string(weight[0]) +
                          " input channels, input has " +
                          std::to_string(input[1]));
  if (input[1] % groups != 0)
    return ShapeOr::error("groups " + std::to_string(groups) +
                          " must divide the input channels (" +
                          std::to_string(input[1]) + ")");
  Window2D w = win;
  w.kernel = {weight[2], weight[3]};
  if (auto err = checkWindow(w))
    return ShapeOr::error(*err);
  if (outputPadding.size() != 2)
    return ShapeOr::error("output_padding needs 2 values");
  std::optional<int64_t> filters = mul(weight[1], groups);
  if (!filters)
    return ShapeOr::error("conv_transpose2d filters " +
                          std::to_string(weight[1]) + " x groups " +
                          std::to_string(groups) + " overflows int64");
  Shape out = {input[0], *filters};
  for (int i = 0; i < 2; ++i) {
    if (outputPadding[i] < 0 ||
        outputPadding[i] >= std::max(w.strides[i], w.dilations[i]))
      return ShapeOr::error("output_padding " + toString(outputPadding) +
                            " must be >= 0 and smaller than the stride or "
                            "dilation");
    // (in - 1) * stride - pad_lo - pad_hi + dilation * (k - 1) + out_pad + 1
    std::optional<int64_t> o = mul(input[2 + i] - 1, w.strides[i]);
    if (o)
      o = sub(*o, w.pads[i]);
    if (o)
      o = sub(*o, w.pads[i + 2]);
    std::optional<int64_t> span = mul(w.dilations[i], w.kernel[i] - 1);
    if (o && span)
      o = add(*o, *span);
    else
      o = std::nullopt;
    if (o)
      o = add(*o, outputPadding[i]);
    if (o)
      o = add(*o, 1);
    if (!o)
      return ShapeOr::error("conv_transpose2d output size overflows int64 "
                            "in spatial dim " + std::to_string(i));
    if (*o < 1)
      return ShapeOr::error("conv_transpose2d output size would be " +
                            std::to_string(*o) + " in spatial dim " +
                            std::to_string(i));
    out.push_back(*o);
  }
  return out;
}

ShapeOr pool2d(Dims input, const Window2D &win) {
  if (auto e = checkRank4(input, "pooling input"))
    return ShapeOr::error(*e);
  // The window itself first: a kernel of 0 is the error, not the pads.
  if (auto err = checkWindow(win))
    return ShapeOr::error(*err);
  for (int i = 0; i < 2; ++i)
      if (win.pads[i] >= win.kernel[i] || win.pads[i + 2] >= win.kernel[i])
        return ShapeOr::error("pads " + toString(win.pads) +
                              " must be smaller than the kernel " +
                              toString(win.kernel));
  ShapeOr hw = windowOutput(input[2], input[3], win);
  if (!hw)
    return hw;
  return Shape{input[0], input[1], (*hw)[0], (*hw)[1]};
}

std::optional<Layout2D> parseLayout2D(std::string_view name) {
  if (name == "nchw")
    return Layout2D::NCHW;
  if (name == "nhwc")
    return Layout2D::NHWC;
  return std::nullopt;
}

Shape nhwcToNchw(Dims s) {
  if (s.size() != 4)
    return Shape(s.begin(), s.end());
  return Shape{s[0], s[3], s[1], s[2]};
}

Shape nchwToNhwc(Dims s) {
  if (s.size() != 4)
    return Shape(s.begin(), s.end());
  return Shape{s[0], s[2], s[3], s[1]};
}

/// A rule over NCHW shapes applied to an input and result in `layout`.
template <typename Rule>
static ShapeOr inLayout(Dims input, Layout2D layout, const char *what,
                        Rule rule) {
  if (layout == Layout2D::NCHW)
    return rule(input);
  if (input.size() != 4)
    return ShapeOr::error(std::string(what) + " must have rank 4 (NHWC), got " +
                          toString(input));
  Shape nchw = nhwcToNchw(input);
  ShapeOr out = rule(Dims(nchw));
  if (!out)
    return out;
  return nchwToNhwc(*out);
}

ShapeOr conv2d(Dims input, Dims weight, const Window2D &win, int64_t groups,
               Layout2D layout) {
  return inLayout(input, layout, "conv2d input", [&](Dims nchw) {
    return conv2d(nchw, weight, win, groups);
  });
}

ShapeOr pool2d(Dims input, const Window2D &win, Layout2D layout) {
  return inLayout(input, layout, "pooling input",
                  [&](Dims nchw) { return pool2d(nchw, win); });
}

ShapeOr transpose(Dims input, Dims permutation) {
  int64_t rank = input.size();
  if ((int64_t)permutation.size() != rank)
    return ShapeOr::error("permutation " + toString(permutation) +
                          " has " + std::to_string(permutation.size()) +
                          " entries for rank " + std::to_string(rank));
  std::vector<bool> seen(rank, false);
  Shape out;
  for (int64_t p : permutation) {
    if (p < 0 || p >= rank || seen[p])
      return ShapeOr::error("permutation " + toString(permutation) +
                            " is not a permutation of [0, " +
                            std::to_string(rank) + ")");
    seen[p] = true;
    out.push_back(input[p]);
  }
  return out;
}

ShapeOr concat(const std::vector<Shape> &inputs, int64_t axis) {
  if (inputs.empty())
    return ShapeOr::error("concat needs at least one operand");
  int64_t rank = inputs[0].size();
  auto a = normalizeAxis(axis, rank);
  if (!a)
    return ShapeOr::error(axisError(axis, rank));
  Shape out = inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) {
    const Shape &s = inputs[i];
    if ((int64_t)s.size() != rank)
      return ShapeOr::error("concat operand " + std::to_string(i) +
                            " has rank " + std::to_string(s.size()) +
                            ", expected " + std::to_string(rank));
    for (int64_t d = 0; d < rank; ++d)
      if (d != *a && s[d] != out[d])
        return ShapeOr::error("concat operand " + std::to_string(i) +
                              " has shape " + toString(s) + ", which differs "
                              "from " + toString(inputs[0]) +
                              " outside axis " + std::to_string(*a));
    std::optional<int64_t> joined = add(out[*a], s[*a]);
    if (!joined)
      return ShapeOr::error("concat result size along axis " +
                            std::to_string(*a) + " overflows int64");
    out[*a] = *joined;
  }
  return out;
}

ShapeOr slice(Dims input, Dims starts, Dims ends, Dims steps) {
  size_t rank = input.size();
  if (starts.size() != rank || ends.size() != rank || steps.size() != rank)
    return ShapeOr::error("slice needs one start, end and step per dimension "
                          "(rank " + std::to_string(rank) + ")");
  Shape out;
  for (size_t i = 0; i < rank; ++i) {
    int64_t n = input[i], step = steps[i];
    if (step == 0)
      return ShapeOr::error("slice step is 0 in dimension " +
                            std::to_string(i));
    // Python semantics: negative indices count from the end, then clamp.
    auto clampIndex = [&](int64_t v, bool isStart) {
      if (v < 0)
        v += n;
      if (step > 0)
        return std::clamp<int64_t>(v, 0, n);
      (void)isStart;
      return std::clamp<int64_t>(v, -1, n - 1);
    };
    int64_t s = clampIndex(starts[i], true), e = clampIndex(ends[i], false);
    // ceil(|e - s| / |step|), written so that neither a step near INT64_MAX
    // nor INT64_MIN overflows (|e - s| <= n + 1 after clamping; division
    // truncates toward zero, so (s - e - 1) / step == -((s - e - 1) / -step)).
    int64_t len = step > 0 ? (e > s ? (e - s - 1) / step + 1 : 0)
                           : (s > e ? 1 - (s - e - 1) / step : 0);
    out.push_back(len);
  }
  return out;
}

SliceRange resolveSlice(int64_t start, int64_t end, int64_t step, int64_t n) {
  auto clampIndex = [n](int64_t v) {
    return std::clamp<int64_t>(v < 0 ? v + n : v, 0, n);
  };
  int64_t s = clampIndex(start), e = clampIndex(end);
  return {s, std::max(s, e), step};
}

SliceRange composeSlices(SliceRange inner, SliceRange outer) {
  const int64_t step = inner.step * outer.step;
  if (outer.end <= outer.start) // nothing taken: an empty range within x
    return {inner.end, inner.end, step};
  // The last element taken, plus one: within x, whatever the steps.
  return {inner.start + outer.start * inner.step,
          inner.start + (outer.end - 1) * inner.step + 1, step};
}

ShapeOr pad(Dims input, Dims pads) {
  size_t rank = input.size();
  if (pads.size() != 2 * rank)
    return ShapeOr::error("pad needs " + std::to_string(2 * rank) +
                          " values (low and high per dimension), got " +
                          std::to_string(pads.size()));
  Shape out;
  for (size_t i = 0; i < rank; ++i) {
    if (pads[i] < 0 || pads[rank + i] < 0)
      return ShapeOr::error("pads must be >= 0, got " + toString(pads));
    std::optional<int64_t> padded = add(input[i], pads[i]);
    if (padded)
      padded = add(*padded, pads[rank + i]);
    if (!padded)
      return ShapeOr::error("padded size of dimension " + std::to_string(i) +
                            " (" + std::to_string(input[i]) + " + " +
                            std::to_string(pads[i]) + " + " +
                            std::to_string(pads[rank + i]) +
                            ") overflows int64");
    out.push_back(*padded);
  }
  return out;
}

std::optional<std::string> checkSplit(Dims input, int64_t axis, Dims sizes) {
  int64_t rank = input.size();
  auto a = normalizeAxis(axis, rank);
  if (!a)
    return axisError(axis, rank);
  if (sizes.empty())
    return std::string("split needs at least one piece");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0)
      return "split sizes must be >= 0, got " + toString(sizes);
    std::optional<int64_t> sum = add(total, s);
    if (!sum)
      return "the sum of split sizes " + toString(sizes) + " overflows int64";
    total = *sum;
  }
  if (total != input[*a])
    return "split sizes " + toString(sizes) + " sum to " +
           std::to_string(total) + " but axis " + std::to_string(*a) +
           " has size " + std::to_string(input[*a]);
  return std::nullopt;
}

ShapeOr squeeze(Dims input, Dims axes) {
  int64_t rank = input.size();
  auto norm = reductionAxes(axes, rank);
  for (int64_t a : axes)
    if (!normalizeAxis(a, rank))
      return ShapeOr::error(axisError(a, rank));
  if (!norm)
    return ShapeOr::error("squeeze axes " + toString(axes) + " repeat an axis");
  Shape out;
  for (int64_t i = 0; i < rank; ++i) {
    bool listed = std::binary_search(norm->begin(), norm->end(), i);
    if (listed && input[i] != 1) {
      if (!axes.empty())
        return ShapeOr::error("cannot squeeze axis " + std::to_string(i) +
                              " of size " + std::to_string(input[i]));
      out.push_back(input[i]); // empty axes: squeeze only the size-1 dims
      continue;
    }
    if (!listed)
      out.push_back(input[i]);
  }
  return out;
}

ShapeOr expandDims(Dims input, Dims axes) {
  int64_t outRank = input.size() + axes.size();
  if (axes.empty())
    return ShapeOr::error("expand_dims needs at least one axis");
  for (int64_t a : axes)
    if (!normalizeAxis(a, outRank))
      return ShapeOr::error(axisError(a, outRank));
  auto norm = reductionAxes(axes, outRank);
  if (!norm)
    return ShapeOr::error("expand_dims axes " + toString(axes) +
                          " repeat an axis");
  Shape out;
  size_t next = 0;
  for (int64_t i = 0; i < outRank; ++i)
    out.push_back(std::binary_search(norm->begin(), norm->end(), i)
                      ? 1
                      : input[next++]);
  return out;
}

ShapeOr gather(Dims data, Dims indices, int64_t axis) {
  int64_t rank = data.size();
  if (rank == 0)
    return ShapeOr::error("gather needs data of rank >= 1");
  auto a = normalizeAxis(axis, rank);
  if (!a)
    return ShapeOr::error(axisError(axis, rank));
  Shape out(data.begin(), data.begin() + *a);
  out.insert(out.end(), indices.begin(), indices.end());
  out.insert(out.end(), data.begin() + *a + 1, data.end());
  return out;
}

ShapeOr oneHot(Dims indices, int64_t depth, int64_t axis) {
  if (depth < 1)
    return ShapeOr::error("one_hot depth must be >= 1, got " +
                          std::to_string(depth));
  int64_t outRank = indices.size() + 1;
  auto a = normalizeAxis(axis, outRank);
  if (!a)
    return ShapeOr::error(axisError(axis, outRank));
  Shape out(indices.begin(), indices.end());
  out.insert(out.begin() + *a, depth);
  return out;
}

std::optional<std::string> checkReshape(Dims from, Dims to) {
  auto a = numElements(from), b = numElements(to);
  if (!a || !b)
    return std::string("element count overflows");
  if (*a != *b)
    return "cannot reshape " + toString(from) + " (" + std::to_string(*a) +
           " elements) to " + toString(to) + " (" + std::to_string(*b) +
           " elements)";
  return std::nullopt;
}

} // namespace kiln::shapes
