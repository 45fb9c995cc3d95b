//===- ShapeOps.cpp - Eager indexing and shape ops -------------------------===//
//
// Most shape ops are a Tensor view plus one strided copy (Tensor::copyFrom
// runs the collapsed, parallel copy loop); gather, one_hot, pad and concat
// write into slices of a preallocated result. Each differentiable op records
// one node under its dialect name; the gradients are the inverse view
// (reshape, transpose, squeeze), a sum (broadcast_to), a copy into a zero
// tensor (slice, split), a slice (pad, concat), or a scatter-add (gather,
// embedding).
//
//===----------------------------------------------------------------------===//
#include "kiln/NNOps.h"
#include "kiln/TrainingOps.h"

#include "../autograd/Record.h"
#include "EagerUtil.h"
#include "kiln/ThreadPool.h"

#include <algorithm>
#include <cstring>

namespace kiln {

namespace {
Expected<Tensor> materialize(const Expected<Tensor> &view) {
  if (!view)
    return view.status();
  return view->clone();
}

Expected<int64_t> loadIndex(const Tensor &indices, int64_t flat) {
  if (indices.dtype() == DType::I64)
    return indices.data<int64_t>()[flat];
  return int64_t(indices.data<int32_t>()[flat]);
}

Status checkIndexTensor(const char *op, const Tensor &indices) {
  if (indices.dtype() != DType::I64 && indices.dtype() != DType::I32)
    return invalidArgument("op '", op, "': indices have dtype ",
                           dtypeName(indices.dtype()), ", expected i64 or i32");
  return Status();
}
} // namespace

namespace {
/// A backward that reshapes the gradient to the input's shape (reshape,
/// squeeze, expand_dims: same elements in the same order).
autograd::BackwardFn reshapeBack(const Shape &inputShape) {
  return [inputShape](const Tensor &gy, const Tensor &) {
    return autograd::grads(gy.reshape(inputShape));
  };
}

/// A gradient of `shape` that is zero except for `gy` written through the
/// view that `viewOf` takes of it (the backward of slicing ops).
template <typename ViewOf>
Expected<Tensor> scatterIntoZeros(const Shape &shape, const Tensor &gy,
                                  ViewOf &&viewOf) {
  KILN_ASSIGN_OR_RETURN(Tensor g, Tensor::zeros(shape, gy.dtype(), gy.device()));
  KILN_ASSIGN_OR_RETURN(Tensor dst, viewOf(g));
  KILN_RETURN_IF_ERROR(dst.copyFrom(gy));
  return g;
}
} // namespace

Expected<Tensor> reshape(const Tensor &x, const Shape &shape) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("reshape", {&x}));
  return autograd::differentiable(
      "reshape", {x}, [&] { return materialize(x.reshape(shape)); },
      [&] { return reshapeBack(x.shape()); });
}

Expected<Tensor> transpose(const Tensor &x, std::span<const int64_t> perm) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("transpose", {&x}));
  return autograd::differentiable(
      "transpose", {x}, [&] { return materialize(x.permute(perm)); }, [&] {
        std::vector<int64_t> inverse(perm.size());
        for (size_t i = 0; i < perm.size(); ++i)
          inverse[size_t(*shapes::normalizeAxis(perm[i], x.rank()))] = int64_t(i);
        return autograd::BackwardFn([inverse](const Tensor &gy, const Tensor &) {
          return autograd::grads(gy.permute(inverse));
        });
      });
}

Expected<Tensor> broadcastTo(const Tensor &x, const Shape &shape) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("broadcast_to", {&x}));
  return autograd::differentiable(
      "broadcast_to", {x}, [&] { return materialize(x.broadcastTo(shape)); },
      [&] {
        return autograd::BackwardFn([from = x.shape()](const Tensor &gy,
                                                       const Tensor &) {
          return autograd::grads(autograd::unbroadcast(gy, from));
        });
      });
}

Expected<Tensor> slice(const Tensor &x, std::span<const int64_t> starts,
                       std::span<const int64_t> ends,
                       std::span<const int64_t> steps) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("slice", {&x}));
  std::vector<int64_t> st(starts.begin(), starts.end()), en(ends.begin(), ends.end()),
      sp(steps.begin(), steps.end());
  if (sp.empty())
    sp.assign(size_t(x.rank()), 1);
  return autograd::differentiable(
      "slice", {x}, [&] { return materialize(x.slice(st, en, sp)); }, [&] {
        return autograd::BackwardFn(
            [shape = x.shape(), st, en, sp](const Tensor &gy, const Tensor &) {
              return autograd::grads(scatterIntoZeros(
                  shape, gy, [&](const Tensor &g) { return g.slice(st, en, sp); }));
            });
      });
}

Expected<Tensor> expandDims(const Tensor &x, std::span<const int64_t> axes) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("expand_dims", {&x}));
  return autograd::differentiable(
      "expand_dims", {x}, [&] { return materialize(x.expandDims(axes)); },
      [&] { return reshapeBack(x.shape()); });
}

Expected<Tensor> squeeze(const Tensor &x, std::span<const int64_t> axes) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("squeeze", {&x}));
  return autograd::differentiable(
      "squeeze", {x}, [&] { return materialize(x.squeeze(axes)); },
      [&] { return reshapeBack(x.shape()); });
}

namespace {
Expected<Tensor> concatForward(const std::vector<Tensor> &inputs, int64_t axis) {
  if (inputs.empty())
    return invalidArgument("op 'concat': no inputs");
  std::vector<shapes::Shape> shapesIn;
  for (size_t i = 0; i < inputs.size(); ++i) {
    KILN_RETURN_IF_ERROR(eager::checkInputs("concat", {&inputs[0], &inputs[i]}));
    if (inputs[i].dtype() != inputs[0].dtype())
      return invalidArgument("op 'concat': input ", i, " has dtype ",
                             dtypeName(inputs[i].dtype()), ", input 0 has ",
                             dtypeName(inputs[0].dtype()));
    shapesIn.push_back(inputs[i].shape());
  }
  auto shape = shapes::concat(shapesIn, axis);
  if (!shape)
    return invalidArgument("op 'concat': ", shape.message());
  int64_t a = *shapes::normalizeAxis(axis, inputs[0].rank());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(*shape, inputs[0].dtype(),
                                                  inputs[0].device()));
  int64_t at = 0;
  for (const Tensor &t : inputs) {
    int64_t n = t.shape()[size_t(a)];
    KILN_ASSIGN_OR_RETURN(Tensor dst, out.slice(a, at, at + n));
    KILN_RETURN_IF_ERROR(dst.copyFrom(t));
    at += n;
  }
  return out;
}
} // namespace

Expected<Tensor> concat(const std::vector<Tensor> &inputs, int64_t axis) {
  if (!autograd::needsGrad(inputs))
    return concatForward(inputs, axis);
  Expected<Tensor> out = [&] {
    autograd::NoGradGuard noGrad;
    return concatForward(inputs, axis);
  }();
  if (!out)
    return out;
  int64_t a = *shapes::normalizeAxis(axis, inputs[0].rank());
  std::vector<int64_t> sizes;
  for (const Tensor &t : inputs)
    sizes.push_back(t.shape()[size_t(a)]);
  return autograd::record(
      std::move(out), "concat", inputs,
      [a, sizes](const Tensor &gy, const Tensor &) -> Expected<std::vector<Tensor>> {
        std::vector<Tensor> grads;
        int64_t at = 0;
        for (int64_t n : sizes) {
          KILN_ASSIGN_OR_RETURN(Tensor g, gy.slice(a, at, at + n));
          grads.push_back(std::move(g));
          at += n;
        }
        return grads;
      });
}

Expected<std::vector<Tensor>> split(const Tensor &x, int64_t axis,
                                    std::span<const int64_t> sizes) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("split", {&x}));
  if (auto err = shapes::checkSplit(x.shape(), axis, sizes))
    return invalidArgument("op 'split': ", *err);
  int64_t a = *shapes::normalizeAxis(axis, x.rank());
  std::vector<Tensor> out;
  int64_t at = 0;
  for (int64_t n : sizes) {
    // One node per piece: each piece's gradient lands in its rows.
    KILN_ASSIGN_OR_RETURN(
        Tensor piece,
        autograd::differentiable(
            "split", {x}, [&] { return materialize(x.slice(a, at, at + n)); },
            [&] {
              return autograd::BackwardFn(
                  [shape = x.shape(), a, at, n](const Tensor &gy, const Tensor &) {
                    return autograd::grads(scatterIntoZeros(
                        shape, gy,
                        [&](const Tensor &g) { return g.slice(a, at, at + n); }));
                  });
            }));
    out.push_back(std::move(piece));
    at += n;
  }
  return out;
}

namespace {
Expected<Tensor> padForward(const Tensor &x, std::span<const int64_t> pads,
                            double value) {
  auto shape = shapes::pad(x.shape(), pads);
  if (!shape)
    return invalidArgument("op 'pad': ", shape.message());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::full(*shape, value, x.dtype(), x.device()));
  std::vector<int64_t> starts(size_t(x.rank())), ends(size_t(x.rank())),
      steps(size_t(x.rank()), 1);
  for (size_t d = 0; d < starts.size(); ++d) {
    starts[d] = pads[d];
    ends[d] = pads[d] + x.shape()[d];
  }
  KILN_ASSIGN_OR_RETURN(Tensor inner, out.slice(starts, ends, steps));
  KILN_RETURN_IF_ERROR(inner.copyFrom(x));
  return out;
}

} // namespace

Expected<Tensor> pad(const Tensor &x, std::span<const int64_t> pads,
                     double value) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("pad", {&x}));
  return autograd::differentiable(
      "pad", {x}, [&] { return padForward(x, pads, value); }, [&] {
        // The gradient is the interior: starts at the low pads.
        std::vector<int64_t> starts(size_t(x.rank())), ends(size_t(x.rank())),
            steps(size_t(x.rank()), 1);
        for (size_t d = 0; d < starts.size(); ++d) {
          starts[d] = pads[d];
          ends[d] = pads[d] + x.shape()[d];
        }
        return autograd::BackwardFn([starts, ends, steps](const Tensor &gy,
                                                          const Tensor &) {
          return autograd::grads(gy.slice(starts, ends, steps));
        });
      });
}

namespace {

/// Rows of `src` ([outer, numIdx, inner]) added into `dst` ([outer, n,
/// inner]) at the indexed positions: the adjoint of gather. Parallel over
/// `outer` when there is one, else over column blocks of `inner`, so no two
/// tasks add into one element.
template <typename C>
void scatterAddRows(const C *src, C *dst, const std::vector<int64_t> &idx,
                    int64_t outer, int64_t n, int64_t inner) {
  int64_t numIdx = int64_t(idx.size());
  if (outer > 1) {
    ThreadPool::global().parallelFor(0, outer, 1, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o)
        for (int64_t i = 0; i < numIdx; ++i) {
          const C *s = src + (o * numIdx + i) * inner;
          C *d = dst + (o * n + idx[size_t(i)]) * inner;
          for (int64_t j = 0; j < inner; ++j)
            d[j] += s[j];
        }
    });
    return;
  }
  constexpr int64_t kBlock = 256;
  ThreadPool::global().parallelFor(
      0, (inner + kBlock - 1) / kBlock, 1, [&](int64_t b, int64_t e) {
        for (int64_t blk = b; blk < e; ++blk) {
          int64_t j0 = blk * kBlock, j1 = std::min(inner, j0 + kBlock);
          for (int64_t i = 0; i < numIdx; ++i) {
            const C *s = src + i * inner;
            C *d = dst + idx[size_t(i)] * inner;
            for (int64_t j = j0; j < j1; ++j)
              d[j] += s[j];
          }
        }
      });
}

/// Indices as i64 in [0, n) (negative ones wrapped), or OutOfRange.
Expected<std::vector<int64_t>> indexValues(const char *op, const Tensor &indicesIn,
                                           int64_t n, int64_t axis,
                                           bool allowNegative) {
  KILN_ASSIGN_OR_RETURN(Tensor indices, indicesIn.contiguous());
  std::vector<int64_t> out(static_cast<size_t>(indices.numel()));
  for (int64_t i = 0; i < indices.numel(); ++i) {
    KILN_ASSIGN_OR_RETURN(int64_t idx, loadIndex(indices, i));
    if (idx < (allowNegative ? -n : 0) || idx >= n)
      return outOfRange("op '", op, "': index ", idx, " at position ", i,
                        " is out of range for axis ", axis, " of size ", n);
    out[size_t(i)] = idx < 0 ? idx + n : idx;
  }
  return out;
}

/// d gather / d data: gy [data[:a], numIdx..., data[a+1:]] scatter-added
/// into zeros of the data's shape.
Expected<Tensor> gatherBackward(const Tensor &gyIn, const Shape &dataShape,
                                int64_t a, const std::vector<int64_t> &idx) {
  DType ct = gyIn.dtype() == DType::F64 ? DType::F64 : DType::F32;
  KILN_ASSIGN_OR_RETURN(Tensor gy, gyIn.dtype() == ct ? gyIn.contiguous()
                                                      : gyIn.to(ct));
  KILN_ASSIGN_OR_RETURN(Tensor g, Tensor::zeros(dataShape, ct));
  int64_t outer = 1, inner = 1, n = dataShape[size_t(a)];
  for (int64_t d = 0; d < a; ++d)
    outer *= dataShape[size_t(d)];
  for (size_t d = size_t(a) + 1; d < dataShape.size(); ++d)
    inner *= dataShape[d];
  if (g.numel() > 0 && gy.numel() > 0) {
    if (ct == DType::F64)
      scatterAddRows(gy.data<double>(), g.data<double>(), idx, outer, n, inner);
    else
      scatterAddRows(gy.data<float>(), g.data<float>(), idx, outer, n, inner);
  }
  return g.dtype() == gyIn.dtype() ? Expected<Tensor>(g) : g.to(gyIn.dtype());
}

Expected<Tensor> gatherForward(const Tensor &data, const Tensor &indicesIn,
                               int64_t axis) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("gather", {&data, &indicesIn}));
  KILN_RETURN_IF_ERROR(checkIndexTensor("gather", indicesIn));
  auto shape = shapes::gather(data.shape(), indicesIn.shape(), axis);
  if (!shape)
    return invalidArgument("op 'gather': ", shape.message());
  int64_t a = *shapes::normalizeAxis(axis, data.rank());
  KILN_ASSIGN_OR_RETURN(Tensor indices, indicesIn.contiguous());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(*shape, data.dtype(), data.device()));
  int64_t n = data.shape()[size_t(a)];
  if (data.device().isHostAccessible()) {
    // data as [outer, n, inner] rows of `inner` elements, out as [outer,
    // numIdx, inner]: one memcpy per (outer, index) row. (A tensor view per
    // index cost ~1 us each: BERT's 128-token embedding lookup took ~100 us.)
    KILN_ASSIGN_OR_RETURN(Tensor src, data.contiguous());
    const int64_t numIdx = indices.numel();
    std::vector<int64_t> idx(static_cast<size_t>(numIdx));
    for (int64_t i = 0; i < numIdx; ++i) {
      KILN_ASSIGN_OR_RETURN(int64_t v, loadIndex(indices, i));
      if (v < -n || v >= n)
        return outOfRange("op 'gather': index ", v, " at position ", i,
                          " is out of range for axis ", a, " of size ", n);
      idx[size_t(i)] = v < 0 ? v + n : v;
    }
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < a; ++d)
      outer *= data.shape()[size_t(d)];
    for (size_t d = size_t(a) + 1; d < data.shape().size(); ++d)
      inner *= data.shape()[d];
    const size_t rowBytes = size_t(inner) * data.elementSize();
    const char *from = static_cast<const char *>(src.rawData());
    char *to = static_cast<char *>(out.rawData());
    if (rowBytes > 0 && numIdx > 0)
      ThreadPool::global().parallelFor(
          0, outer * numIdx,
          std::max<int64_t>(1, int64_t((size_t(1) << 16) / rowBytes)),
          [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; ++r)
              std::memcpy(to + size_t(r) * rowBytes,
                          from + size_t((r / numIdx) * n + idx[size_t(r % numIdx)]) *
                                     rowBytes,
                          rowBytes);
          });
    return out;
  }
  // Elsewhere: out viewed as [outer, numIdx, inner]; each index copies one
  // slice.
  Shape viewShape = data.shape();
  viewShape.erase(viewShape.begin() + a);
  viewShape.insert(viewShape.begin() + a, indices.numel());
  KILN_ASSIGN_OR_RETURN(Tensor outView, out.reshape(viewShape));
  for (int64_t i = 0; i < indices.numel(); ++i) {
    KILN_ASSIGN_OR_RETURN(int64_t idx, loadIndex(indices, i));
    if (idx < -n || idx >= n)
      return outOfRange("op 'gather': index ", idx, " at position ", i,
                        " is out of range for axis ", a, " of size ", n);
    if (idx < 0)
      idx += n;
    KILN_ASSIGN_OR_RETURN(Tensor src, data.select(a, idx));
    KILN_ASSIGN_OR_RETURN(Tensor dst, outView.select(a, i));
    KILN_RETURN_IF_ERROR(dst.copyFrom(src));
  }
  return out;
}

} // namespace

Expected<Tensor> gather(const Tensor &data, const Tensor &indices, int64_t axis) {
  return autograd::differentiable(
      "gather", {data, indices}, [&] { return gatherForward(data, indices, axis); },
      [&]() -> autograd::BackwardFn {
        // The forward succeeded, so the axis and the indices are valid.
        int64_t a = *shapes::normalizeAxis(axis, data.rank());
        auto idx = indexValues("gather", indices, data.shape()[size_t(a)], a, true);
        return [shape = data.shape(), a, idx = idx ? *idx : std::vector<int64_t>()](
                   const Tensor &gy, const Tensor &) -> Expected<std::vector<Tensor>> {
          KILN_ASSIGN_OR_RETURN(Tensor g, gatherBackward(gy, shape, a, idx));
          return std::vector<Tensor>{g, Tensor()};
        };
      });
}

Expected<Tensor> embedding(const Tensor &weight, const Tensor &indices) {
  const char *op = "embedding";
  KILN_RETURN_IF_ERROR(eager::checkInputs(op, {&weight, &indices}));
  KILN_RETURN_IF_ERROR(checkIndexTensor(op, indices));
  if (weight.rank() != 2)
    return invalidArgument("op 'embedding': weight has shape ",
                           shapes::toString(weight.shape()), ", expected [V, D]");
  int64_t v = weight.shape()[0], d = weight.shape()[1];
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> idx,
                        indexValues(op, indices, v, 0, /*allowNegative=*/false));
  auto forward = [&]() -> Expected<Tensor> {
    Shape shape = indices.shape();
    shape.push_back(d);
    KILN_ASSIGN_OR_RETURN(Tensor w, weight.contiguous());
    KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(shape, weight.dtype(),
                                                    weight.device()));
    const char *src = static_cast<const char *>(w.rawData());
    char *dst = static_cast<char *>(out.rawData());
    size_t rowBytes = size_t(d) * w.elementSize();
    if (rowBytes > 0)
      ThreadPool::global().parallelFor(
          0, int64_t(idx.size()), 64, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i)
              std::memcpy(dst + size_t(i) * rowBytes,
                          src + size_t(idx[size_t(i)]) * rowBytes, rowBytes);
          });
    return out;
  };
  return autograd::differentiable(op, {weight, indices}, forward, [&] {
    return autograd::BackwardFn(
        [shape = weight.shape(), idx](const Tensor &gy,
                                      const Tensor &) -> Expected<std::vector<Tensor>> {
          KILN_ASSIGN_OR_RETURN(Tensor g, gatherBackward(gy, shape, 0, idx));
          return std::vector<Tensor>{g, Tensor()};
        });
  });
}

Expected<Tensor> oneHot(const Tensor &indicesIn, int64_t depth, int64_t axis,
                        double onValue, double offValue, DType dtype) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("one_hot", {&indicesIn}));
  KILN_RETURN_IF_ERROR(checkIndexTensor("one_hot", indicesIn));
  auto shape = shapes::oneHot(indicesIn.shape(), depth, axis);
  if (!shape)
    return invalidArgument("op 'one_hot': ", shape.message());
  int64_t a = *shapes::normalizeAxis(axis, indicesIn.rank() + 1);
  KILN_ASSIGN_OR_RETURN(Tensor indices, indicesIn.contiguous());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::full(*shape, offValue, dtype,
                                                 indicesIn.device()));
  // Index position i = (outer, inner) maps to out[outer, idx, inner].
  int64_t inner = 1;
  for (int64_t d = a; d < indicesIn.rank(); ++d)
    inner *= indicesIn.shape()[size_t(d)];
  char *base = static_cast<char *>(out.rawData());
  size_t es = sizeOf(dtype);
  for (int64_t i = 0; i < indices.numel(); ++i) {
    KILN_ASSIGN_OR_RETURN(int64_t idx, loadIndex(indices, i));
    if (idx < 0 || idx >= depth)
      continue; // All-off, as the dialect says.
    int64_t outer = i / inner, in = i % inner;
    int64_t flat = (outer * depth + idx) * inner + in;
    storeFromDouble(dtype, base + size_t(flat) * es, onValue);
  }
  return out;
}

Expected<Tensor> iota(const Shape &shape, DType dtype, int64_t axis,
                      double start, double step) {
  auto a = shapes::normalizeAxis(axis, int64_t(shape.size()));
  if (!a)
    return invalidArgument("op 'iota': axis ", axis, " out of range for rank ",
                           shape.size());
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(shape, dtype));
  int64_t inner = 1;
  for (size_t d = size_t(*a) + 1; d < shape.size(); ++d)
    inner *= shape[d];
  int64_t n = shape[size_t(*a)];
  char *base = static_cast<char *>(out.rawData());
  for (int64_t i = 0; i < out.numel(); ++i)
    storeFromDouble(dtype, base + size_t(i) * sizeOf(dtype),
                    start + step * double((i / inner) % n));
  return out;
}

} // namespace kiln
