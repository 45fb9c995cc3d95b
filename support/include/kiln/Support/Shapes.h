//===- Shapes.h - Shape rules shared by the dialect and the runtime -------===//
//
// One definition of every Kiln op's shape semantics: numpy broadcasting,
// reductions, matmul, convolution and pooling windows, transpose, concat,
// slice, pad, split, squeeze/expand_dims, gather and one_hot. The dialect's
// verifiers and type inference call these, and so do the runtime's eager
// kernels, so the compiled and the eager mode cannot disagree on a shape.
//
// Plain C++ with no dependencies: the runtime links it without MLIR.
// Every rule returns a ShapeOr: the result shape, or a message saying what is
// wrong in the words a user sees in a diagnostic ("axis 3 is out of range for
// rank 2"). Dimensions are non-negative; there are no dynamic dimensions.
// Sizes and attributes may be anywhere in int64 (they come from user input):
// a rule whose arithmetic would overflow int64 returns an error saying so
// ("... overflows int64"), never a wrapped or undefined result.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_SUPPORT_SHAPES_H
#define KILN_SUPPORT_SHAPES_H

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::shapes {

using Shape = std::vector<int64_t>;
using Dims = std::span<const int64_t>;

/// A shape, or the reason there is none. Cheap to move; test with ok().
class ShapeOr {
public:
  ShapeOr(Shape shape) : shape_(std::move(shape)) {}
  static ShapeOr error(std::string message) {
    ShapeOr r{Shape{}};
    r.error_ = std::move(message);
    r.failed_ = true;
    return r;
  }
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Shape &value() const { return shape_; }
  const Shape &operator*() const { return shape_; }
  const std::string &message() const { return error_; }

private:
  Shape shape_;
  std::string error_;
  bool failed_ = false;
};

/// "[2, 3, 4]", for diagnostics.
std::string toString(Dims shape);

/// Number of elements; nullopt when the product overflows int64.
std::optional<int64_t> numElements(Dims shape);

/// Maps an axis in [-rank, rank) to [0, rank); nullopt when out of range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// numpy broadcasting of two or more shapes.
ShapeOr broadcast(Dims a, Dims b);
ShapeOr broadcast(const std::vector<Shape> &shapes);
/// True when `from` broadcasts to exactly `to` (broadcast_to's rule).
bool broadcastsTo(Dims from, Dims to);

/// Reduction over `axes` (empty: every axis). Axes may be negative; repeated
/// axes are an error.
ShapeOr reduce(Dims input, Dims axes, bool keepDims);
/// The normalized, sorted axes of a reduction (empty `axes`: all of them).
std::optional<std::vector<int64_t>> reductionAxes(Dims axes, int64_t rank);

/// Batched matmul: operands of rank >= 2, batch dims broadcast, the last two
/// dims optionally transposed.
ShapeOr matmul(Dims lhs, Dims rhs, bool transposeLhs, bool transposeRhs);

/// Sliding-window geometry of a 2-D convolution or pooling, NCHW.
struct Window2D {
  std::vector<int64_t> kernel;    // {kH, kW}
  std::vector<int64_t> strides;   // {sH, sW}, each >= 1
  std::vector<int64_t> pads;      // {top, left, bottom, right}, each >= 0
  std::vector<int64_t> dilations; // {dH, dW}, each >= 1
  bool ceilMode = false;
};
/// Checks the window attributes themselves (sizes 2/2/4/2, positive values).
std::optional<std::string> checkWindow(const Window2D &w);
/// Output spatial size {oH, oW} of a window over {H, W}.
ShapeOr windowOutput(int64_t h, int64_t w, const Window2D &win);

/// conv2d: input [N, C, H, W], weight [F, C/groups, kH, kW] -> [N, F, oH, oW].
ShapeOr conv2d(Dims input, Dims weight, const Window2D &win, int64_t groups);
/// conv_transpose2d: input [N, C, H, W], weight [C, F/groups, kH, kW].
ShapeOr convTranspose2d(Dims input, Dims weight, const Window2D &win,
                        int64_t groups, Dims outputPadding);
/// max/avg pooling: input [N, C, H, W] -> [N, C, oH, oW].
ShapeOr pool2d(Dims input, const Window2D &win);

/// Where the channels of conv2d's and max_pool2d's activations are: NCHW
/// (the default, ONNX's) or NHWC (channels last, which kiln-conv-layout
/// gives CPU convolution chains so that the channel dim is the contiguous,
/// vectorized one and no call reorders its activations). Weights stay OIHW.
enum class Layout2D { NCHW, NHWC };
/// "nchw" or "nhwc"; nullopt for anything else.
std::optional<Layout2D> parseLayout2D(std::string_view name);
/// [N, H, W, C] -> [N, C, H, W], and back; other ranks are returned as is.
Shape nhwcToNchw(Dims shape);
Shape nchwToNhwc(Dims shape);
/// The rules above with input and result in `layout`.
ShapeOr conv2d(Dims input, Dims weight, const Window2D &win, int64_t groups,
               Layout2D layout);
ShapeOr pool2d(Dims input, const Window2D &win, Layout2D layout);

ShapeOr transpose(Dims input, Dims permutation);
ShapeOr concat(const std::vector<Shape> &inputs, int64_t axis);
/// Python slicing per axis (one start/end/step per dimension), clamped.
ShapeOr slice(Dims input, Dims starts, Dims ends, Dims steps);
/// One dim of a slice with a positive step, resolved against the dim's
/// size n: Python's negative indices and clamping applied, start <= end.
struct SliceRange {
  int64_t start, end, step;
};
SliceRange resolveSlice(int64_t start, int64_t end, int64_t step, int64_t n);
/// slice(slice(x)) along one dim as one slice of x: `inner` resolved
/// against x's dim, `outer` against the inner slice's result. The outer's
/// element i is the inner's, x's inner.start + i * inner.step.
SliceRange composeSlices(SliceRange inner, SliceRange outer);
/// Constant padding: pads = {low_0, ..., low_{r-1}, high_0, ..., high_{r-1}}.
ShapeOr pad(Dims input, Dims pads);
/// Split along `axis` into pieces of the given sizes (which must sum to it).
std::optional<std::string> checkSplit(Dims input, int64_t axis, Dims sizes);
ShapeOr squeeze(Dims input, Dims axes);
ShapeOr expandDims(Dims input, Dims axes);
/// gather: data[:axis] + indices + data[axis+1:].
ShapeOr gather(Dims data, Dims indices, int64_t axis);
/// one_hot: indices with `depth` inserted at `axis` (in the result's rank).
ShapeOr oneHot(Dims indices, int64_t depth, int64_t axis);
/// Same element count (reshape's rule).
std::optional<std::string> checkReshape(Dims from, Dims to);

} // namespace kiln::shapes

#endif // KILN_SUPPORT_SHAPES_H
