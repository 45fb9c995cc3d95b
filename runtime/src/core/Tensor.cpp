//===- Tensor.cpp - N-d arrays with reference-counted storage --------------===//
#include "kiln/Tensor.h"

#include "../autograd/Record.h"
#include "../cpu/Loops.h"
#include "kiln/Support/Shapes.h"

#include <algorithm>
#include <ostream>

namespace kiln {

//===----------------------------------------------------------------------===//
// Storage
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<Storage>> Storage::allocate(Device &device,
                                                     size_t bytes) {
  KILN_ASSIGN_OR_RETURN(void *p, device.allocator().allocate(bytes));
  std::shared_ptr<Storage> s(new Storage(device, p, bytes));
  s->fromAllocator_ = true;
  return s;
}

std::shared_ptr<Storage> Storage::wrap(Device &device, void *data, size_t bytes,
                                       std::function<void(void *)> release) {
  std::shared_ptr<Storage> s(new Storage(device, data, bytes));
  s->release_ = std::move(release);
  return s;
}

Storage::~Storage() {
  if (fromAllocator_)
    device_->allocator().deallocate(data_, bytes_);
  else if (release_)
    release_(data_);
}

//===----------------------------------------------------------------------===//
// Factories
//===----------------------------------------------------------------------===//

Strides contiguousStrides(std::span<const int64_t> shape) {
  Strides s(shape.size());
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[i] = acc;
    acc *= std::max<int64_t>(shape[i], 1);
  }
  return s;
}

namespace {
Status checkShape(const Shape &shape, const char *what) {
  if (int64_t(shape.size()) > kMaxRank)
    return invalidArgument(what, ": rank ", shape.size(),
                           " exceeds the maximum rank ", kMaxRank);
  // Strides multiply every dim (a 0 counts as 1), so they can overflow
  // even when the tensor holds no elements ([0, 2^62, 4]).
  int64_t strideSpan = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return invalidArgument(what, ": negative dimension in shape ",
                             shapes::toString(shape));
    if (__builtin_mul_overflow(strideSpan, std::max<int64_t>(d, 1), &strideSpan))
      return outOfMemory(what, ": shape ", shapes::toString(shape),
                         " is too large to index (its strides overflow)");
  }
  return Status();
}

/// Byte size of `numel` elements, or an error when it overflows.
Expected<size_t> byteSize(const Shape &shape, DType dtype, const char *what) {
  auto n = shapes::numElements(shape);
  if (!n || *n > int64_t(SIZE_MAX / 8))
    return outOfMemory(what, ": shape ", shapes::toString(shape), " of ",
                       dtypeName(dtype), " has too many elements");
  return size_t(*n) * sizeOf(dtype);
}
} // namespace

Expected<Tensor> Tensor::empty(const Shape &shape, DType dtype, Device &device) {
  KILN_RETURN_IF_ERROR(checkShape(shape, "Tensor::empty"));
  KILN_ASSIGN_OR_RETURN(size_t bytes, byteSize(shape, dtype, "Tensor::empty"));
  KILN_ASSIGN_OR_RETURN(auto storage, Storage::allocate(device, bytes));
  Tensor t;
  t.storage_ = std::move(storage);
  t.shape_ = shape;
  t.strides_ = contiguousStrides(shape);
  t.numel_ = int64_t(bytes / sizeOf(dtype));
  t.dtype_ = dtype;
  return t;
}

Expected<Tensor> Tensor::zeros(const Shape &shape, DType dtype, Device &device) {
  KILN_ASSIGN_OR_RETURN(Tensor t, empty(shape, dtype, device));
  if (!device.isHostAccessible())
    return unavailable("zeros on ", device.name(), " needs a device fill");
  if (t.numel())
    std::memset(t.rawData(), 0, size_t(t.numel()) * sizeOf(dtype));
  return t;
}

Expected<Tensor> Tensor::full(const Shape &shape, double value, DType dtype,
                              Device &device) {
  KILN_ASSIGN_OR_RETURN(Tensor t, empty(shape, dtype, device));
  if (!device.isHostAccessible())
    return unavailable("full on ", device.name(), " needs a device fill");
  char elem[8];
  storeFromDouble(dtype, elem, value);
  char *p = static_cast<char *>(t.rawData());
  size_t es = sizeOf(dtype);
  for (int64_t i = 0; i < t.numel(); ++i)
    std::memcpy(p + size_t(i) * es, elem, es);
  return t;
}

Expected<Tensor> Tensor::scalar(double value, DType dtype) {
  return full({}, value, dtype);
}

Expected<Tensor> Tensor::fromDoubles(std::span<const double> values,
                                     const Shape &shape, DType dtype) {
  KILN_ASSIGN_OR_RETURN(Tensor t, empty(shape, dtype));
  if (size_t(t.numel()) != values.size())
    return invalidArgument("fromDoubles: ", values.size(),
                           " values for shape ", shapes::toString(shape),
                           " of ", t.numel(), " elements");
  char *p = static_cast<char *>(t.rawData());
  for (size_t i = 0; i < values.size(); ++i)
    storeFromDouble(dtype, p + i * sizeOf(dtype), values[i]);
  return t;
}

Expected<Tensor> Tensor::arange(int64_t n, DType dtype) {
  if (n < 0)
    return invalidArgument("arange: negative length ", n);
  KILN_ASSIGN_OR_RETURN(Tensor t, empty({n}, dtype));
  char *p = static_cast<char *>(t.rawData());
  for (int64_t i = 0; i < n; ++i)
    storeFromDouble(dtype, p + size_t(i) * sizeOf(dtype), double(i));
  return t;
}

Expected<Tensor> Tensor::fromStorage(std::shared_ptr<Storage> storage,
                                     DType dtype, const Shape &shape,
                                     const Strides &strides, int64_t offset) {
  if (!storage)
    return invalidArgument("fromStorage: null storage");
  KILN_RETURN_IF_ERROR(checkShape(shape, "fromStorage"));
  if (strides.size() != shape.size())
    return invalidArgument("fromStorage: ", strides.size(),
                           " strides for rank ", shape.size());
  auto n = shapes::numElements(shape);
  if (!n)
    return invalidArgument("fromStorage: shape overflows");
  if (*n > 0) {
    // The lowest and highest element offsets must lie inside the storage.
    int64_t lo = offset, hi = offset;
    for (size_t d = 0; d < shape.size(); ++d) {
      int64_t span = (shape[d] - 1) * strides[d];
      (span < 0 ? lo : hi) += span;
    }
    int64_t capacity = int64_t(storage->bytes() / sizeOf(dtype));
    if (lo < 0 || hi >= capacity)
      return outOfRange("fromStorage: view reaches element ",
                        lo < 0 ? lo : hi, " of a storage of ", capacity);
  }
  Tensor t;
  t.storage_ = std::move(storage);
  t.shape_ = shape;
  t.strides_ = strides;
  t.offset_ = offset;
  t.numel_ = *n;
  t.dtype_ = dtype;
  return t;
}

//===----------------------------------------------------------------------===//
// Accessors
//===----------------------------------------------------------------------===//

int64_t Tensor::dim(int64_t i) const {
  auto a = shapes::normalizeAxis(i, rank());
  return a ? shape_[size_t(*a)] : 0;
}

Device &Tensor::device() const {
  return storage_ ? storage_->device() : cpuDevice();
}

bool Tensor::isContiguous() const {
  int64_t expected = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] != 1 && strides_[i] != expected)
      return numel_ == 0;
    expected *= shape_[i];
  }
  return true;
}

void *Tensor::rawData() const {
  if (!storage_ || !storage_->data())
    return nullptr;
  return static_cast<char *>(storage_->data()) +
         offset_ * int64_t(sizeOf(dtype_));
}

Tensor Tensor::withView(Shape shape, Strides strides, int64_t offset) const {
  Tensor t;
  t.storage_ = storage_;
  t.numel_ = 1;
  for (int64_t d : shape)
    t.numel_ *= d;
  t.shape_ = std::move(shape);
  t.strides_ = std::move(strides);
  t.offset_ = offset;
  t.dtype_ = dtype_;
  return t;
}

namespace {
/// Records a view/copy method's node when `self` needs a gradient.
/// `makeBackward` builds the BackwardFn only then.
template <typename MakeBackward>
Expected<Tensor> recordView(const Tensor &self, Expected<Tensor> out,
                            std::string_view name, MakeBackward &&makeBackward) {
  if (!out || !autograd::needsGrad({&self}))
    return out;
  return autograd::record(std::move(out), name, {self}, makeBackward());
}

/// Backward of a view that only changes the shape.
autograd::BackwardFn reshapeBack(const Shape &inputShape) {
  return [inputShape](const Tensor &g, const Tensor &) {
    return autograd::grads(g.reshape(inputShape));
  };
}

/// Backward of a view that picks a subset of the elements: the gradient
/// scattered into zeros through the same view. The node also gets the view
/// itself, so the engine can add into a shared buffer instead.
template <typename ViewOf>
autograd::BackwardFn scatterBack(const Tensor &input, ViewOf viewOf);

template <typename ViewOf>
Expected<Tensor> recordScatterView(const Tensor &self, Expected<Tensor> out,
                                   std::string_view name, ViewOf viewOf) {
  out = recordView(self, std::move(out), name,
                   [&] { return scatterBack(self, viewOf); });
  if (out && out->gradFn())
    out->gradFn()->setViewOf(viewOf);
  return out;
}

template <typename ViewOf>
autograd::BackwardFn scatterBack(const Tensor &input, ViewOf viewOf) {
  Shape shape = input.shape();
  DType dtype = input.dtype();
  return [shape, dtype, viewOf](const Tensor &g, const Tensor &)
             -> Expected<std::vector<Tensor>> {
    KILN_ASSIGN_OR_RETURN(Tensor z, Tensor::zeros(shape, dtype));
    KILN_ASSIGN_OR_RETURN(Tensor part, viewOf(z));
    KILN_RETURN_IF_ERROR(part.copyFrom(g));
    return std::vector<Tensor>{std::move(z)};
  };
}
} // namespace

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

namespace {
Status checkDefined(const Tensor &t, const char *what) {
  if (!t.defined())
    return invalidArgument(what, ": undefined tensor");
  return Status();
}

/// Strides for viewing (shape, strides) as `newShape` without copying, or
/// nullopt (PyTorch's computeStride: split the old dims into chunks that are
/// contiguous in memory and map new dims onto whole chunks).
std::optional<Strides> viewStrides(const Shape &oldShape,
                                   const Strides &oldStrides,
                                   const Shape &newShape, int64_t numel) {
  if (numel == 0 || oldShape.empty())
    return contiguousStrides(newShape);
  Strides newStrides(newShape.size());
  int64_t viewD = int64_t(newShape.size()) - 1;
  int64_t chunkBaseStride = oldStrides.back();
  int64_t tensorNumel = 1, viewNumel = 1;
  for (int64_t d = int64_t(oldShape.size()) - 1; d >= 0; --d) {
    tensorNumel *= oldShape[size_t(d)];
    if (d == 0 || (oldShape[size_t(d - 1)] != 1 &&
                   oldStrides[size_t(d - 1)] != tensorNumel * chunkBaseStride)) {
      while (viewD >= 0 &&
             (viewNumel < tensorNumel || newShape[size_t(viewD)] == 1)) {
        newStrides[size_t(viewD)] = viewNumel * chunkBaseStride;
        viewNumel *= newShape[size_t(viewD)];
        --viewD;
      }
      if (viewNumel != tensorNumel)
        return std::nullopt;
      if (d > 0) {
        chunkBaseStride = oldStrides[size_t(d - 1)];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD != -1)
    return std::nullopt;
  return newStrides;
}

/// Resolves one -1 in a reshape target.
Expected<Shape> inferShape(const Shape &from, Shape to, int64_t numel) {
  int64_t known = 1, inferAt = -1;
  for (size_t i = 0; i < to.size(); ++i) {
    if (to[i] == -1) {
      if (inferAt >= 0)
        return invalidArgument("reshape: more than one -1 in ",
                               shapes::toString(to));
      inferAt = int64_t(i);
    } else if (to[i] < 0) {
      return invalidArgument("reshape: negative dimension in ",
                             shapes::toString(to));
    } else {
      known *= to[i];
    }
  }
  if (inferAt >= 0) {
    if (known == 0 || numel % known != 0)
      return invalidArgument("reshape: cannot infer -1 reshaping ",
                             shapes::toString(from), " to ",
                             shapes::toString(to));
    to[size_t(inferAt)] = numel / known;
  }
  if (auto err = shapes::checkReshape(from, to))
    return invalidArgument("reshape: ", *err);
  return to;
}
} // namespace

Expected<Tensor> Tensor::view(const Shape &shapeIn) const {
  KILN_RETURN_IF_ERROR(checkDefined(*this, "view"));
  KILN_ASSIGN_OR_RETURN(Shape shape, inferShape(shape_, shapeIn, numel_));
  KILN_RETURN_IF_ERROR(checkShape(shape, "view"));
  auto strides = viewStrides(shape_, strides_, shape, numel_);
  if (!strides)
    return invalidArgument("view: a tensor of shape ", shapes::toString(shape_),
                           " with strides ", shapes::toString(strides_),
                           " cannot be viewed as ", shapes::toString(shape),
                           " without a copy; use reshape");
  return recordView(*this, withView(std::move(shape), std::move(*strides), offset_),
                    "view", [&] { return reshapeBack(shape_); });
}

Expected<Tensor> Tensor::reshape(const Shape &shapeIn) const {
  KILN_RETURN_IF_ERROR(checkDefined(*this, "reshape"));
  KILN_ASSIGN_OR_RETURN(Shape shape, inferShape(shape_, shapeIn, numel_));
  KILN_RETURN_IF_ERROR(checkShape(shape, "reshape"));
  auto back = [&] { return reshapeBack(shape_); };
  if (auto strides = viewStrides(shape_, strides_, shape, numel_))
    return recordView(*this,
                      withView(std::move(shape), std::move(*strides), offset_),
                      "reshape", back);
  Expected<Tensor> c = detach().clone();
  if (!c)
    return c.status();
  Strides strides = contiguousStrides(shape);
  return recordView(*this, c->withView(std::move(shape), std::move(strides), 0),
                    "reshape", back);
}

Expected<Tensor> Tensor::permute(std::span<const int64_t> perm) const {
  KILN_RETURN_IF_ERROR(checkDefined(*this, "permute"));
  auto r = shapes::transpose(shape_, perm);
  if (!r)
    return invalidArgument("permute: ", r.message());
  Strides s(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    s[i] = strides_[size_t(*shapes::normalizeAxis(perm[i], rank()))];
  return recordView(*this, withView(*r, std::move(s), offset_), "permute", [&] {
    std::vector<int64_t> inverse(perm.size());
    for (size_t i = 0; i < perm.size(); ++i)
      inverse[size_t(*shapes::normalizeAxis(perm[i], rank()))] = int64_t(i);
    return autograd::BackwardFn([inverse](const Tensor &g, const Tensor &) {
      return autograd::grads(g.permute(inverse));
    });
  });
}

Expected<Tensor> Tensor::transpose(int64_t dim0, int64_t dim1) const {
  auto a = shapes::normalizeAxis(dim0, rank());
  auto b = shapes::normalizeAxis(dim1, rank());
  if (!a || !b)
    return invalidArgument("transpose: axes (", dim0, ", ", dim1,
                           ") out of range for rank ", rank());
  std::vector<int64_t> perm(static_cast<size_t>(rank()));
  for (size_t i = 0; i < perm.size(); ++i)
    perm[i] = int64_t(i);
  std::swap(perm[size_t(*a)], perm[size_t(*b)]);
  return permute(perm);
}

Expected<Tensor> Tensor::slice(std::span<const int64_t> starts,
                               std::span<const int64_t> ends,
                               std::span<const int64_t> steps) const {
  KILN_RETURN_IF_ERROR(checkDefined(*this, "slice"));
  auto r = shapes::slice(shape_, starts, ends, steps);
  if (!r)
    return invalidArgument("slice: ", r.message());
  Strides s(shape_.size());
  int64_t offset = offset_;
  for (size_t d = 0; d < shape_.size(); ++d) {
    // Python's slice.indices(): clamp start into the valid range for the
    // direction of the step.
    int64_t n = shape_[d], step = steps[d];
    int64_t start = starts[d];
    if (start < 0)
      start = std::max<int64_t>(start + n, step > 0 ? 0 : -1);
    else
      start = std::min<int64_t>(start, step > 0 ? n : n - 1);
    if ((*r)[d] > 0)
      offset += start * strides_[d];
    s[d] = strides_[d] * step;
  }
  if (!autograd::needsGrad({this}))
    return withView(*r, std::move(s), offset);
  std::vector<int64_t> b(starts.begin(), starts.end()),
      e(ends.begin(), ends.end()), st(steps.begin(), steps.end());
  return recordScatterView(
      *this, withView(*r, std::move(s), offset), "slice",
      [b, e, st](const Tensor &z) { return z.slice(b, e, st); });
}

Expected<Tensor> Tensor::slice(int64_t axis, int64_t start, int64_t end,
                               int64_t step) const {
  auto a = shapes::normalizeAxis(axis, rank());
  if (!a)
    return invalidArgument("slice: axis ", axis, " out of range for rank ",
                           rank());
  std::vector<int64_t> starts(size_t(rank()), 0), ends(shape_), steps(size_t(rank()), 1);
  starts[size_t(*a)] = start;
  ends[size_t(*a)] = end;
  steps[size_t(*a)] = step;
  return slice(starts, ends, steps);
}

Expected<Tensor> Tensor::select(int64_t axis, int64_t index) const {
  auto a = shapes::normalizeAxis(axis, rank());
  if (!a)
    return invalidArgument("select: axis ", axis, " out of range for rank ",
                           rank());
  int64_t n = shape_[size_t(*a)];
  if (index < -n || index >= n)
    return outOfRange("select: index ", index, " out of range for dim of size ",
                      n);
  if (index < 0)
    index += n;
  Shape shape = shape_;
  Strides strides = strides_;
  int64_t offset = offset_ + index * strides_[size_t(*a)];
  shape.erase(shape.begin() + *a);
  strides.erase(strides.begin() + *a);
  int64_t axisN = *a;
  return recordScatterView(
      *this, withView(std::move(shape), std::move(strides), offset),
      "select_index",
      [axisN, index](const Tensor &z) { return z.select(axisN, index); });
}

Expected<Tensor> Tensor::squeeze(std::span<const int64_t> axes) const {
  KILN_RETURN_IF_ERROR(checkDefined(*this, "squeeze"));
  auto r = shapes::squeeze(shape_, axes);
  if (!r)
    return invalidArgument("squeeze: ", r.message());
  // Keep the strides of the dims that survive; squeezed dims have size 1.
  std::vector<bool> drop(shape_.size(), false);
  if (axes.empty()) {
    for (size_t d = 0; d < shape_.size(); ++d)
      drop[d] = shape_[d] == 1;
  } else {
    for (int64_t a : axes)
      drop[size_t(*shapes::normalizeAxis(a, rank()))] = true;
  }
  Strides s;
  for (size_t d = 0; d < shape_.size(); ++d)
    if (!drop[d])
      s.push_back(strides_[d]);
  if (s.size() != r.value().size())
    return internalError("squeeze: stride bookkeeping disagrees with shapes");
  return recordView(*this, withView(*r, std::move(s), offset_), "squeeze",
                    [&] { return reshapeBack(shape_); });
}

Expected<Tensor> Tensor::expandDims(std::span<const int64_t> axes) const {
  KILN_RETURN_IF_ERROR(checkDefined(*this, "expandDims"));
  auto r = shapes::expandDims(shape_, axes);
  if (!r)
    return invalidArgument("expandDims: ", r.message());
  KILN_RETURN_IF_ERROR(checkShape(*r, "expandDims"));
  std::vector<bool> inserted(r.value().size(), false);
  for (int64_t a : axes)
    inserted[size_t(*shapes::normalizeAxis(a, int64_t(r.value().size())))] = true;
  Strides s(r.value().size());
  size_t src = 0;
  for (size_t d = 0; d < r.value().size(); ++d)
    s[d] = inserted[d] ? 0 : strides_[src++];
  return recordView(*this, withView(*r, std::move(s), offset_), "expand_dims",
                    [&] { return reshapeBack(shape_); });
}

Expected<Tensor> Tensor::broadcastTo(const Shape &shape) const {
  KILN_RETURN_IF_ERROR(checkDefined(*this, "broadcastTo"));
  KILN_RETURN_IF_ERROR(checkShape(shape, "broadcastTo"));
  if (!shapes::broadcastsTo(shape_, shape))
    return invalidArgument("broadcastTo: ", shapes::toString(shape_),
                           " does not broadcast to ", shapes::toString(shape));
  Strides s(shape.size(), 0);
  size_t pad = shape.size() - shape_.size();
  for (size_t d = 0; d < shape_.size(); ++d)
    s[pad + d] = shape_[d] == 1 ? 0 : strides_[d];
  return recordView(*this, withView(shape, std::move(s), offset_), "broadcast_to",
                    [&] {
                      Shape in = shape_;
                      return autograd::BackwardFn(
                          [in](const Tensor &g, const Tensor &) {
                            return autograd::grads(autograd::unbroadcast(g, in));
                          });
                    });
}

//===----------------------------------------------------------------------===//
// Copies
//===----------------------------------------------------------------------===//

Expected<Tensor> Tensor::contiguous() const {
  KILN_RETURN_IF_ERROR(checkDefined(*this, "contiguous"));
  if (isContiguous())
    return *this;
  return clone();
}

Expected<Tensor> Tensor::clone() const { return to(dtype_); }

Expected<Tensor> Tensor::to(DType dtype) const {
  KILN_RETURN_IF_ERROR(checkDefined(*this, "to"));
  KILN_ASSIGN_OR_RETURN(Tensor out, empty(shape_, dtype, device()));
  KILN_RETURN_IF_ERROR(out.copyFrom(*this));
  return recordView(*this, std::move(out), dtype == dtype_ ? "clone" : "cast",
                    [&] {
                      DType from = dtype_;
                      return autograd::BackwardFn(
                          [from](const Tensor &g, const Tensor &) {
                            return autograd::grads(g.to(from));
                          });
                    });
}

Status Tensor::copyFrom(const Tensor &src) {
  KILN_RETURN_IF_ERROR(checkDefined(*this, "copyFrom"));
  KILN_RETURN_IF_ERROR(checkDefined(src, "copyFrom"));
  if (src.shape_ != shape_)
    return invalidArgument("copyFrom: shape ", shapes::toString(src.shape_),
                           " into shape ", shapes::toString(shape_));
  if (&src.device() != &device() || !device().isHostAccessible())
    return unavailable("copyFrom: copies from ", src.device().name(), " to ",
                       device().name(), " are not supported yet");
  cpu::copyCast(*this, src);
  return Status();
}

//===----------------------------------------------------------------------===//
// Element access
//===----------------------------------------------------------------------===//

Expected<int64_t> Tensor::offsetOf(std::span<const int64_t> index) const {
  if (!defined())
    return invalidArgument("element access on an undefined tensor");
  if (int64_t(index.size()) != rank())
    return invalidArgument("index of rank ", index.size(), " into a tensor of rank ",
                           rank());
  int64_t off = 0;
  for (size_t d = 0; d < index.size(); ++d) {
    if (index[d] < 0 || index[d] >= shape_[d])
      return outOfRange("index ", shapes::toString(index),
                        " out of range for shape ", shapes::toString(shape_));
    off += index[d] * strides_[d];
  }
  if (!device().isHostAccessible())
    return unavailable("element access on ", device().name());
  return off;
}

Expected<double> Tensor::at(std::span<const int64_t> index) const {
  KILN_ASSIGN_OR_RETURN(int64_t off, offsetOf(index));
  return loadAsDouble(dtype_, static_cast<char *>(rawData()) +
                                  off * int64_t(sizeOf(dtype_)));
}

Status Tensor::set(std::span<const int64_t> index, double value) {
  KILN_ASSIGN_OR_RETURN(int64_t off, offsetOf(index));
  storeFromDouble(dtype_, static_cast<char *>(rawData()) +
                              off * int64_t(sizeOf(dtype_)),
                  value);
  return Status();
}

Expected<double> Tensor::item() const {
  if (numel_ != 1)
    return invalidArgument("item() of a tensor with ", numel_, " elements");
  std::vector<int64_t> zero(shape_.size(), 0);
  return at(zero);
}

std::vector<double> Tensor::toDoubles() const {
  std::vector<double> out;
  if (!defined() || !device().isHostAccessible())
    return out;
  out.reserve(size_t(numel_));
  std::vector<int64_t> idx(shape_.size(), 0);
  const char *base = static_cast<const char *>(rawData());
  int64_t es = int64_t(sizeOf(dtype_));
  for (int64_t i = 0; i < numel_; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      off += idx[d] * strides_[d];
    out.push_back(loadAsDouble(dtype_, base + off * es));
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < shape_[d])
        break;
      idx[d] = 0;
    }
  }
  return out;
}

std::string Tensor::toString(int64_t maxElements) const {
  if (!defined())
    return "<undefined tensor>";
  std::ostringstream os;
  os << dtypeName(dtype_) << shapes::toString(shape_) << " {";
  std::vector<double> v = toDoubles();
  for (size_t i = 0; i < v.size() && int64_t(i) < maxElements; ++i)
    os << (i ? ", " : "") << v[i];
  if (int64_t(v.size()) > maxElements)
    os << ", ...";
  os << "}";
  return os.str();
}

std::ostream &operator<<(std::ostream &os, const Tensor &t) {
  return os << t.toString();
}

} // namespace kiln
