//===- Tensor.h - N-d arrays with reference-counted storage ----------------===//
//
// A Tensor is a view: dtype, shape, strides (in elements, may be 0 for a
// broadcast dim or negative for a reversed slice) and an offset into a
// reference-counted Storage on some Device. Copying a Tensor copies the view
// and shares the storage; the storage returns its memory to the device's
// allocator when the last view goes away. reshape/permute/slice/squeeze/
// expandDims/broadcastTo make views without copying where the strides allow
// (reshape copies otherwise); contiguous() copies only when needed.
//
// Writes through one view are visible through every view of the same
// storage. A Tensor is not synchronized: share it between threads only for
// reading.
//
// Every fallible factory returns Expected<Tensor>; there is no constructor
// that can fail. Shapes are checked with kiln::shapes (support/), the same
// rules the dialect's verifiers use.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TENSOR_H
#define KILN_TENSOR_H

#include "kiln/DType.h"
#include "kiln/Device.h"
#include "kiln/Status.h"

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kiln {

namespace autograd {
struct Meta;
class Node;
} // namespace autograd

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

/// Tensors have at most this many dimensions (kernels keep their loop state
/// on the stack).
inline constexpr int64_t kMaxRank = 16;

/// A block of device memory shared by tensor views.
class Storage {
public:
  /// `bytes` from the device's allocator (OutOfMemory on failure).
  static Expected<std::shared_ptr<Storage>> allocate(Device &device,
                                                     size_t bytes);
  /// Wraps memory the caller owns; `release` (may be empty) runs when the
  /// last view is gone. The memory must stay valid until then.
  static std::shared_ptr<Storage> wrap(Device &device, void *data, size_t bytes,
                                       std::function<void(void *)> release);
  ~Storage();
  Storage(const Storage &) = delete;
  Storage &operator=(const Storage &) = delete;

  void *data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device &device() const { return *device_; }

private:
  Storage(Device &device, void *data, size_t bytes)
      : device_(&device), data_(data), bytes_(bytes) {}
  Device *device_;
  void *data_;
  size_t bytes_;
  bool fromAllocator_ = false;
  std::function<void(void *)> release_;
};

/// Row-major (C order) strides of a shape.
Strides contiguousStrides(std::span<const int64_t> shape);

class Tensor {
public:
  /// An undefined tensor (defined() is false); ops reject it.
  Tensor() = default;

  /// Factories. Shapes must have non-negative dims and rank <= kMaxRank.
  static Expected<Tensor> empty(const Shape &shape, DType dtype,
                                Device &device = cpuDevice());
  static Expected<Tensor> zeros(const Shape &shape, DType dtype,
                                Device &device = cpuDevice());
  static Expected<Tensor> full(const Shape &shape, double value, DType dtype,
                               Device &device = cpuDevice());
  /// A rank-0 tensor.
  static Expected<Tensor> scalar(double value, DType dtype);
  /// Copies `values` (row-major) into a new CPU tensor of the given dtype.
  static Expected<Tensor> fromDoubles(std::span<const double> values,
                                      const Shape &shape, DType dtype);
  template <typename T>
  static Expected<Tensor> fromVector(const std::vector<T> &values,
                                     const Shape &shape);
  /// 0, 1, ..., n-1.
  static Expected<Tensor> arange(int64_t n, DType dtype);
  /// A view of existing storage; checks that every element is inside it.
  static Expected<Tensor> fromStorage(std::shared_ptr<Storage> storage,
                                      DType dtype, const Shape &shape,
                                      const Strides &strides, int64_t offset);

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape &shape() const { return shape_; }
  const Strides &strides() const { return strides_; }
  int64_t rank() const { return int64_t(shape_.size()); }
  /// Size of dim `i` (negative counts from the back); 0 when out of range.
  int64_t dim(int64_t i) const;
  int64_t numel() const { return numel_; }
  size_t elementSize() const { return sizeOf(dtype_); }
  /// Offset of the first element into the storage, in elements.
  int64_t storageOffset() const { return offset_; }
  Device &device() const;
  const std::shared_ptr<Storage> &storage() const { return storage_; }
  bool isContiguous() const;
  bool sharesStorageWith(const Tensor &other) const {
    return storage_ && storage_ == other.storage_;
  }

  /// Address of the first element (host-accessible devices only).
  void *rawData() const;
  /// Typed pointer to the first element; T must match dtype().
  template <typename T> T *data() const {
    if (DTypeOf<T>::value != dtype_)
      return nullptr;
    return static_cast<T *>(rawData());
  }

  /// --- Views (share storage) ---------------------------------------------
  /// Same elements, new shape (one dim may be -1). A view when the strides
  /// allow it, else a contiguous copy.
  Expected<Tensor> reshape(const Shape &shape) const;
  /// Like reshape, but fails instead of copying.
  Expected<Tensor> view(const Shape &shape) const;
  Expected<Tensor> permute(std::span<const int64_t> permutation) const;
  Expected<Tensor> permute(std::initializer_list<int64_t> p) const {
    return permute(std::span<const int64_t>(p.begin(), p.size()));
  }
  /// Swaps two dims.
  Expected<Tensor> transpose(int64_t dim0, int64_t dim1) const;
  /// Python slicing on every axis (start/end clamped, step != 0, may be
  /// negative).
  Expected<Tensor> slice(std::span<const int64_t> starts,
                         std::span<const int64_t> ends,
                         std::span<const int64_t> steps) const;
  /// Python slicing of one axis.
  Expected<Tensor> slice(int64_t axis, int64_t start, int64_t end,
                         int64_t step = 1) const;
  /// Index one position of `axis` away (rank - 1).
  Expected<Tensor> select(int64_t axis, int64_t index) const;
  Expected<Tensor> squeeze(std::span<const int64_t> axes) const;
  Expected<Tensor> expandDims(std::span<const int64_t> axes) const;
  /// numpy broadcast_to: stride-0 view.
  Expected<Tensor> broadcastTo(const Shape &shape) const;

  /// --- Copies ------------------------------------------------------------
  /// This tensor when already contiguous, else a contiguous copy.
  Expected<Tensor> contiguous() const;
  /// Always a new contiguous copy.
  Expected<Tensor> clone() const;
  /// A contiguous copy converted to `dtype` (saturating to integers, NaN to
  /// 0; to bool: x != 0; floats round to nearest even).
  Expected<Tensor> to(DType dtype) const;
  /// Copies src's elements into this view (same shape; converts dtype).
  Status copyFrom(const Tensor &src);

  /// --- Element access (tests and debugging; slow) ------------------------
  Expected<double> item() const;
  Expected<double> at(std::span<const int64_t> index) const;
  Expected<double> at(std::initializer_list<int64_t> index) const {
    return at(std::span<const int64_t>(index.begin(), index.size()));
  }
  Status set(std::span<const int64_t> index, double value);
  /// Every element, row-major.
  std::vector<double> toDoubles() const;
  /// "f32[2, 3] {1, 2, 3, 4, 5, 6}".
  std::string toString(int64_t maxElements = 16) const;

  /// --- Autograd (see Autograd.h) ----------------------------------------
  /// True when ops on this tensor record gradients.
  bool requiresGrad() const;
  /// Marks a leaf as a variable to differentiate (float dtypes only); fails
  /// on non-leaves (results of recorded ops) when turning it off.
  Status setRequiresGrad(bool on = true);
  /// True unless this tensor is the result of a recorded op.
  bool isLeaf() const;
  /// The accumulated gradient of a leaf; undefined before any backward().
  Tensor grad() const;
  /// Replaces the gradient (optimizers, clipping, checkpoints). Shape and
  /// dtype must match, or `g` undefined to clear it.
  Status setGrad(const Tensor &g);
  /// Drops the gradient (the next backward() starts from zero).
  void zeroGrad();
  /// Same storage and view, no autograd history, requiresGrad() false.
  Tensor detach() const;
  /// The op that produced this tensor; null for leaves.
  std::shared_ptr<autograd::Node> gradFn() const;
  /// Back-propagates from this tensor. `seed` is d(target)/d(this); it may
  /// be omitted only for a single-element tensor (then it is 1).
  /// An undefined `seed` means the same as none.
  Status backward(const Tensor &seed, bool retainGraph = false) const;
  Status backward() const;
  /// The shared autograd state (null until needed); for autograd's own use.
  const std::shared_ptr<autograd::Meta> &autogradMeta() const {
    return autograd_;
  }
  void setAutogradMeta(std::shared_ptr<autograd::Meta> meta) {
    autograd_ = std::move(meta);
  }

private:
  Expected<int64_t> offsetOf(std::span<const int64_t> index) const;
  Tensor withView(Shape shape, Strides strides, int64_t offset) const;

  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Strides strides_;
  int64_t offset_ = 0;
  int64_t numel_ = 0;
  DType dtype_ = DType::F32;
  std::shared_ptr<autograd::Meta> autograd_;
};

std::ostream &operator<<(std::ostream &os, const Tensor &t);

template <typename T>
Expected<Tensor> Tensor::fromVector(const std::vector<T> &values,
                                    const Shape &shape) {
  KILN_ASSIGN_OR_RETURN(Tensor t, empty(shape, DTypeOf<T>::value));
  if (size_t(t.numel()) != values.size())
    return invalidArgument("fromVector: ", values.size(),
                           " values for a shape of ", t.numel(), " elements");
  if (!values.empty()) {
    if constexpr (std::is_same_v<T, bool>) {
      auto *p = static_cast<uint8_t *>(t.rawData());
      for (size_t i = 0; i < values.size(); ++i)
        p[i] = values[i] ? 1 : 0;
    } else {
      std::memcpy(t.rawData(), values.data(), values.size() * sizeof(T));
    }
  }
  return t;
}

} // namespace kiln

#endif // KILN_TENSOR_H
