//===- ShapeOps.cpp - Eager indexing and shape ops -------------------------===//
//
// Most shape ops are a Tensor view plus one strided copy (Tensor::copyFrom
// runs the collapsed, parallel copy loop); gather, one_hot, pad and concat
// write into slices of a preallocated result.
//
//===----------------------------------------------------------------------===//
#include "kiln/NNOps.h"

#include "EagerUtil.h"

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

Expected<Tensor> reshape(const Tensor &x, const Shape &shape) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("reshape", {&x}));
  return materialize(x.reshape(shape));
}

Expected<Tensor> transpose(const Tensor &x, std::span<const int64_t> perm) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("transpose", {&x}));
  return materialize(x.permute(perm));
}

Expected<Tensor> broadcastTo(const Tensor &x, const Shape &shape) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("broadcast_to", {&x}));
  return materialize(x.broadcastTo(shape));
}

Expected<Tensor> slice(const Tensor &x, std::span<const int64_t> starts,
                       std::span<const int64_t> ends,
                       std::span<const int64_t> steps) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("slice", {&x}));
  std::vector<int64_t> ones(size_t(x.rank()), 1);
  return materialize(x.slice(starts, ends, steps.empty() ? ones : steps));
}

Expected<Tensor> expandDims(const Tensor &x, std::span<const int64_t> axes) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("expand_dims", {&x}));
  return materialize(x.expandDims(axes));
}

Expected<Tensor> squeeze(const Tensor &x, std::span<const int64_t> axes) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("squeeze", {&x}));
  return materialize(x.squeeze(axes));
}

Expected<Tensor> concat(const std::vector<Tensor> &inputs, int64_t axis) {
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

Expected<std::vector<Tensor>> split(const Tensor &x, int64_t axis,
                                    std::span<const int64_t> sizes) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("split", {&x}));
  if (auto err = shapes::checkSplit(x.shape(), axis, sizes))
    return invalidArgument("op 'split': ", *err);
  int64_t a = *shapes::normalizeAxis(axis, x.rank());
  std::vector<Tensor> out;
  int64_t at = 0;
  for (int64_t n : sizes) {
    KILN_ASSIGN_OR_RETURN(Tensor view, x.slice(a, at, at + n));
    KILN_ASSIGN_OR_RETURN(Tensor piece, view.clone());
    out.push_back(std::move(piece));
    at += n;
  }
  return out;
}

Expected<Tensor> pad(const Tensor &x, std::span<const int64_t> pads,
                     double value) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("pad", {&x}));
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

Expected<Tensor> gather(const Tensor &data, const Tensor &indicesIn,
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
  // out viewed as [outer, numIdx, inner]; each index copies one slice.
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
