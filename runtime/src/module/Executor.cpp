//===- Executor.cpp - Running a function's dispatch list ------------------===//
//
// Each op of the dispatch list runs through the eager kernel of the same
// name (one table, below), reading its operands from the caller's inputs,
// the module's constants, the arena or the executor's temporaries, and
// writing its results where the compiler's memory plan put them.
//
// Ops the compiler fused (same non-zero `kernel`) still run one by one here:
// generated code for fused kernels replaces them when CPU code generation
// lands. Their intermediates are Temporary values, never in the arena.
//
//===----------------------------------------------------------------------===//
#include "KernelAdapters.h"
#include "ModuleData.h"

#include "../cpu/PreparedCall.h"
#include "kiln/NNOps.h"
#include "kiln/Ops.h"
#include "kiln/ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace kiln {

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const format::Attr *OpAttrs::find(std::string_view name) const {
  if (!op_->attrs())
    return nullptr;
  for (const format::Attr *a : *op_->attrs())
    if (a->name()->string_view() == name)
      return a;
  return nullptr;
}
int64_t OpAttrs::getInt(std::string_view name, int64_t dflt) const {
  const format::Attr *a = find(name);
  return a && (a->kind() == format::AttrKind::Int ||
               a->kind() == format::AttrKind::Bool)
             ? a->int_value()
             : dflt;
}
double OpAttrs::getFloat(std::string_view name, double dflt) const {
  const format::Attr *a = find(name);
  return a && a->kind() == format::AttrKind::Float ? a->float_value() : dflt;
}
bool OpAttrs::getBool(std::string_view name, bool dflt) const {
  return getInt(name, dflt) != 0;
}
std::string_view OpAttrs::getString(std::string_view name,
                                    std::string_view dflt) const {
  const format::Attr *a = find(name);
  return a && a->kind() == format::AttrKind::String && a->string_value()
             ? a->string_value()->string_view()
             : dflt;
}
std::vector<int64_t> OpAttrs::getInts(std::string_view name,
                                      std::vector<int64_t> dflt) const {
  const format::Attr *a = find(name);
  if (!a || a->kind() != format::AttrKind::Ints || !a->ints())
    return dflt;
  return std::vector<int64_t>(a->ints()->begin(), a->ints()->end());
}

//===----------------------------------------------------------------------===//
// The op table
//===----------------------------------------------------------------------===//

namespace {

using namespace adapters;

/// Applies a gemm or conv2d epilogue activation by name.
Expected<Tensor> activate(Expected<Tensor> x, std::string_view activation) {
  if (!x || activation == "none")
    return x;
  if (activation == "relu")
    return relu(*x);
  if (activation == "relu6")
    return clip(*x, 0.0, 6.0);
  if (activation == "gelu")
    return gelu(*x, "none");
  if (activation == "gelu_tanh")
    return gelu(*x, "tanh");
  if (activation == "silu")
    return silu(*x);
  if (activation == "sigmoid")
    return sigmoid(*x);
  if (activation == "tanh")
    return tanh(*x);
  return invalidArgument("unknown activation '", activation, "'");
}

std::unordered_map<std::string_view, OpHandler> buildTable() {
  std::unordered_map<std::string_view, OpHandler> t;
  auto fixed = [&](std::string_view name, int operands, OpKernel fn) {
    t[name] = OpHandler{operands, operands, 1, 1, std::move(fn)};
  };
  // Elementwise, from the runtime's op tables (one row per op).
#define KILN_UNARY_OP(E, fn, name, domain)                                     \
  fixed(name, 1, [](const OpAttrs &, Operands in, Specs) {                     \
    return one(unary(UnaryOp::E, in[0]));                                      \
  });
#include "kiln/OpTables.def"
#define KILN_BINARY_OP(E, fn, name, domain)                                    \
  fixed(name, 2, [](const OpAttrs &, Operands in, Specs) {                     \
    return one(binary(BinaryOp::E, in[0], in[1]));                             \
  });
#include "kiln/OpTables.def"
#define KILN_REDUCE_OP(E, fn, name, domain)                                    \
  fixed(name, 1, [](const OpAttrs &a, Operands in, Specs) {                    \
    std::vector<int64_t> axes = a.getInts("axes");                             \
    return one(reduce(ReduceOp::E, in[0], axes, a.getBool("keepdims", false))); \
  });
#include "kiln/OpTables.def"
  // Elementwise ops with attributes (replace the attribute-free rows).
  fixed("leaky_relu", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(leakyRelu(in[0], a.getFloat("alpha", 0.01)));
  });
  fixed("elu", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(elu(in[0], a.getFloat("alpha", 1.0)));
  });
  fixed("gelu", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(gelu(in[0], a.getString("approximate", "none")));
  });
  fixed("clip", 1, [](const OpAttrs &a, Operands in, Specs) {
    double inf = std::numeric_limits<double>::infinity();
    return one(clip(in[0], a.getFloat("min", -inf), a.getFloat("max", inf)));
  });
  fixed("cast", 1, [](const OpAttrs &, Operands in, Specs out) {
    return one(cast(in[0], out[0].dtype));
  });
  fixed("select", 3, [](const OpAttrs &, Operands in, Specs) {
    return one(select(in[0], in[1], in[2]));
  });
  fixed("argmax", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(argmax(in[0], a.getInt("axis", 0), a.getBool("keepdims", false)));
  });
  fixed("argmin", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(argmin(in[0], a.getInt("axis", 0), a.getBool("keepdims", false)));
  });
  // Sources computed at run time.
  t["iota"] = OpHandler{0, 0, 1, 1, [](const OpAttrs &a, Operands, Specs out) {
    return one(iota(out[0].shape, out[0].dtype, a.getInt("axis", 0),
                    a.getFloat("start", 0.0), a.getFloat("step", 1.0)));
  }};
  // Linear algebra and NN.
  fixed("matmul", 2, [](const OpAttrs &a, Operands in, Specs) {
    return one(matmul(in[0], in[1], a.getBool("transpose_lhs", false),
                      a.getBool("transpose_rhs", false)));
  });
  t["gemm"] = OpHandler{2, 3, 1, 1, [](const OpAttrs &a, Operands in, Specs) {
    Expected<Tensor> acc = matmul(in[0], in[1], a.getBool("transpose_lhs", false),
                                  a.getBool("transpose_rhs", false));
    if (acc && in.size() == 3)
      acc = add(*acc, in[2]);
    return one(activate(std::move(acc), a.getString("activation", "none")));
  }};
  t["conv2d"] = OpHandler{2, 3, 1, 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(inLayout(layoutOf(a), in[0], "conv2d", [&](const Tensor &x) {
      return activate(conv2d(x, in[1], optional(in, 2), windowOf(a, {1, 1}),
                             a.getInt("groups", 1)),
                      a.getString("activation", "none"));
    }));
  }};
  t["conv_transpose2d"] =
      OpHandler{2, 3, 1, 1, [](const OpAttrs &a, Operands in, Specs) {
        std::vector<int64_t> outputPadding = a.getInts("output_padding", {0, 0});
        return one(convTranspose2d(in[0], in[1], optional(in, 2),
                                   windowOf(a, {1, 1}), outputPadding,
                                   a.getInt("groups", 1)));
      }};
  fixed("max_pool2d", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(inLayout(layoutOf(a), in[0], "max_pool2d", [&](const Tensor &x) {
      return maxPool2d(x, windowOf(a, a.getInts("kernel")));
    }));
  });
  fixed("avg_pool2d", 1, [](const OpAttrs &a, Operands in, Specs) {
    Window2D w = windowOf(a, a.getInts("kernel"));
    w.dilations = {1, 1};
    return one(avgPool2d(in[0], w, a.getBool("count_include_pad", false)));
  });
  fixed("global_avg_pool", 1, [](const OpAttrs &, Operands in, Specs) {
    return one(globalAvgPool(in[0]));
  });
  fixed("batch_norm", 5, [](const OpAttrs &a, Operands in, Specs) {
    return one(batchNorm(in[0], in[1], in[2], in[3], in[4],
                         a.getFloat("epsilon", 1e-5)));
  });
  t["layer_norm"] = OpHandler{2, 3, 1, 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(layerNorm(in[0], in[1], optional(in, 2), a.getInt("axis", -1),
                         a.getFloat("epsilon", 1e-5)));
  }};
  fixed("softmax", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(softmax(in[0], a.getInt("axis", -1)));
  });
  fixed("log_softmax", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(logSoftmax(in[0], a.getInt("axis", -1)));
  });
  fixed("dropout", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(dropout(in[0], a.getFloat("ratio", 0.5),
                       a.getBool("training", false),
                       uint64_t(a.getInt("seed", 0))));
  });
  fixed("gather", 2, [](const OpAttrs &a, Operands in, Specs) {
    return one(gather(in[0], in[1], a.getInt("axis", 0)));
  });
  fixed("cross_entropy", 2, [](const OpAttrs &a, Operands in, Specs) {
    return one(crossEntropy(in[0], in[1], a.getString("reduction", "mean")));
  });
  fixed("mse", 2, [](const OpAttrs &a, Operands in, Specs) {
    return one(mse(in[0], in[1], a.getString("reduction", "mean")));
  });
  fixed("bce_with_logits", 2, [](const OpAttrs &a, Operands in, Specs) {
    return one(bceWithLogits(in[0], in[1], a.getString("reduction", "mean")));
  });
  // Shape ops.
  fixed("reshape", 1, [](const OpAttrs &, Operands in, Specs out) {
    return one(reshape(in[0], out[0].shape));
  });
  fixed("transpose", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(transpose(in[0], a.getInts("permutation")));
  });
  fixed("broadcast_to", 1, [](const OpAttrs &, Operands in, Specs out) {
    return one(broadcastTo(in[0], out[0].shape));
  });
  t["concat"] = OpHandler{1, -1, 1, 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(concat(std::vector<Tensor>(in.begin(), in.end()),
                      a.getInt("axis", 0)));
  }};
  fixed("slice", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(slice(in[0], a.getInts("starts"), a.getInts("ends"),
                     a.getInts("steps")));
  });
  fixed("pad", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(pad(in[0], a.getInts("pads"), a.getFloat("value", 0.0)));
  });
  t["split"] = OpHandler{1, 1, 1, -1, [](const OpAttrs &a, Operands in, Specs) {
    return split(in[0], a.getInt("axis", 0), a.getInts("sizes"));
  }};
  fixed("expand_dims", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(expandDims(in[0], a.getInts("axes")));
  });
  fixed("squeeze", 1, [](const OpAttrs &a, Operands in, Specs) {
    return one(squeeze(in[0], a.getInts("axes")));
  });
  fixed("one_hot", 1, [](const OpAttrs &a, Operands in, Specs out) {
    return one(oneHot(in[0], a.getInt("depth", 1), a.getInt("axis", -1),
                      a.getFloat("on_value", 1.0), a.getFloat("off_value", 0.0),
                      out[0].dtype));
  });
  return t;
}

const std::unordered_map<std::string_view, OpHandler> &handlerTable() {
  static const auto table = buildTable();
  return table;
}

} // namespace

const OpHandler *findOpHandler(std::string_view name) {
  const auto &table = handlerTable();
  auto it = table.find(name);
  return it == table.end() ? nullptr : &it->second;
}

std::vector<std::string_view> opHandlerNames() {
  std::vector<std::string_view> names;
  for (const auto &[name, handler] : handlerTable())
    names.push_back(name);
  return names;
}

//===----------------------------------------------------------------------===//
// Running
//===----------------------------------------------------------------------===//

namespace {

/// A tensor viewing `bytes` of the arena at `offset`.
Expected<Tensor> arenaView(const std::shared_ptr<Storage> &arena,
                           const ValueData &v) {
  return Tensor::fromStorage(arena, v.spec.dtype, v.spec.shape,
                             contiguousStrides(v.spec.shape),
                             int64_t(v.index / sizeOf(v.spec.dtype)));
}

/// Copies `src` (any layout) into the contiguous arena slice of `v`.
Status storeInArena(const std::shared_ptr<Storage> &arena, const ValueData &v,
                    const Tensor &src) {
  if (v.bytes == 0)
    return Status::ok(); // size-0 tensors have no data (and maybe no pointer)
  uint8_t *slot = static_cast<uint8_t *>(arena->data()) + v.index;
  if (src.isContiguous()) {
    if (src.rawData() != slot) // else already there (a view of its slice)
      std::memmove(slot, src.rawData(), v.bytes);
    return Status::ok();
  }
  // A strided view (slice, transpose) is copied into its slot directly,
  // unless it reads the slot itself (then through a contiguous copy).
  bool overlaps = src.storage().get() == arena.get();
  if (overlaps) { // the bytes the view spans, against the slot's
    int64_t last = 0;
    bool forward = true;
    for (size_t d = 0; d < src.shape().size(); ++d) {
      forward = forward && src.strides()[d] >= 0;
      last += (src.shape()[d] - 1) * src.strides()[d];
    }
    const uint8_t *lo = static_cast<const uint8_t *>(src.rawData());
    const uint8_t *hi = lo + (last + 1) * int64_t(sizeOf(src.dtype()));
    overlaps = !forward || (lo < slot + v.bytes && slot < hi);
  }
  if (!overlaps) {
    KILN_ASSIGN_OR_RETURN(Tensor dst, arenaView(arena, v));
    return dst.copyFrom(src);
  }
  KILN_ASSIGN_OR_RETURN(Tensor dense, src.contiguous());
  std::memmove(slot, dense.rawData(), v.bytes);
  return Status::ok();
}

/// The profile rows of `fn`'s ops, before any run.
std::vector<OpProfile> describeOps(const FunctionData &fn) {
  std::vector<OpProfile> rows;
  for (const OpData &op : fn.ops) {
    OpProfile p;
    p.op = std::string(OpAttrs(op.op).opName());
    if (op.native)
      p.how = strCat("native ", OpAttrs(op.op).getString("symbol", "?"));
    else if (op.prepared)
      p.how = strCat("prepared ", op.prepared->implementation());
    else
      p.how = "op table";
    rows.push_back(std::move(p));
  }
  return rows;
}

/// How to copy the view `t` of the arena, or of the contiguous function
/// input `source` (index `input`), into v's slot: runs of its contiguous
/// innermost bytes, gathered over at most ViewCopy::kMaxDims outer dims;
/// from = -1 when it is not that simple (negative strides, too many dims,
/// or a source that overlaps the slot): it then runs as an op each time.
detail::ViewCopy learnViewCopy(const std::shared_ptr<Storage> &arena,
                               const ValueData &v, const Tensor &t,
                               const Tensor *source = nullptr, int input = -1) {
  detail::ViewCopy c;
  const void *base = source ? source->rawData() : arena->data();
  if (t.storage().get() != (source ? source->storage() : arena).get() ||
      v.bytes == 0 || (source && !source->isContiguous()))
    return c;
  const Shape &shape = t.shape();
  const Strides &strides = t.strides();
  // The contiguous suffix of dims (dims of size 1 do not count).
  int64_t run = 1;
  size_t d = shape.size();
  while (d > 0 && (shape[d - 1] == 1 || strides[d - 1] == run)) {
    run *= shape[d - 1];
    --d;
  }
  const int64_t size = int64_t(sizeOf(t.dtype()));
  int64_t span = run * size; // bytes from the first source byte to the last
  // The outer dims, each merged into the one before it where they step as
  // one (NHWC's H and W read back as NCHW's HW).
  std::vector<std::pair<int64_t, int64_t>> outer; // count, byte stride
  for (size_t k = 0; k < d; ++k) {
    if (shape[k] == 1)
      continue;
    if (strides[k] < 0)
      return detail::ViewCopy();
    span += (shape[k] - 1) * strides[k] * size;
    if (!outer.empty() &&
        outer.back().second == strides[k] * size * shape[k]) {
      outer.back() = {outer.back().first * shape[k], strides[k] * size};
      continue;
    }
    outer.push_back({shape[k], strides[k] * size});
  }
  if (outer.size() > size_t(detail::ViewCopy::kMaxDims))
    return detail::ViewCopy();
  for (auto [count, stride] : outer) {
    c.counts[c.dims] = count;
    c.strides[c.dims] = stride;
    ++c.dims;
  }
  int64_t from = static_cast<const uint8_t *>(t.rawData()) -
                 static_cast<const uint8_t *>(base);
  int64_t to = int64_t(v.index);
  if (from < 0 || (!source && from < to + int64_t(v.bytes) && to < from + span))
    return detail::ViewCopy(); // reads its own slot
  c.from = from;
  c.to = to;
  c.input = source ? input : -1;
  c.runBytes = run * size;
  return c;
}

/// A ViewCopy of single 4-byte elements whose second-innermost dim is
/// contiguous in the source: a batch of 2-D transposes (NCHW <-> NHWC
/// around kiln-conv-layout's chains). Tiles of 16 elements along that dim,
/// so that each read is a cache line and a tile's destination rows stay in
/// L1; split over the pool when large. (The element-by-element odometer
/// took ~230 us for MobileNetV2's 3 x 224 x 224 input.)
void replayTranspose4(const uint8_t *source, uint8_t *base,
                      const detail::ViewCopy &c) {
  constexpr int64_t kTile = 16;
  const int outerDims = c.dims - 2;
  const int64_t a = c.counts[c.dims - 2], b = c.counts[c.dims - 1];
  const int64_t strideB = c.strides[c.dims - 1] / 4;
  int64_t batches = 1;
  for (int d = 0; d < outerDims; ++d)
    batches *= c.counts[d];
  const int64_t tiles = (a + kTile - 1) / kTile;
  auto body = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      int64_t batch = i / tiles, a0 = (i % tiles) * kTile;
      int64_t a1 = std::min(a, a0 + kTile);
      int64_t off = c.from, rest = batch;
      for (int d = outerDims - 1; d >= 0; --d) {
        off += (rest % c.counts[d]) * c.strides[d];
        rest /= c.counts[d];
      }
      const float *src = reinterpret_cast<const float *>(source + off);
      float *dst = reinterpret_cast<float *>(base + c.to) + batch * a * b;
      for (int64_t j = 0; j < b; ++j) {
        const float *row = src + j * strideB;
        for (int64_t k = a0; k < a1; ++k)
          dst[k * b + j] = row[k];
      }
    }
  };
  const int64_t items = batches * tiles;
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / (kTile * b));
  if (items <= grain)
    body(0, items);
  else
    ThreadPool::global().parallelFor(0, items, grain, body);
}

/// Replays a learned ViewCopy: the runs in the view's order, an odometer
/// over the outer dims. 4- and 8-byte runs (a transpose that moves the
/// innermost dim) copy as one load and store each.
void replayViewCopy(const uint8_t *source, uint8_t *base,
                    const detail::ViewCopy &c) {
  if (c.runBytes == 4 && c.dims >= 2 && c.strides[c.dims - 2] == 4 &&
      c.strides[c.dims - 1] % 4 == 0 && c.from % 4 == 0 && c.to % 4 == 0) {
    replayTranspose4(source, base, c);
    return;
  }
  int64_t total = 1;
  for (int d = 0; d < c.dims; ++d)
    total *= c.counts[d];
  int64_t idx[detail::ViewCopy::kMaxDims] = {};
  const uint8_t *src = source + c.from;
  uint8_t *dst = base + c.to;
  int64_t off = 0;
  const int64_t run = c.runBytes;
  for (int64_t r = 0; r < total; ++r, dst += run) {
    if (run == 4)
      std::memcpy(dst, src + off, 4);
    else if (run == 8)
      std::memcpy(dst, src + off, 8);
    else
      std::memcpy(dst, src + off, size_t(run));
    for (int d = c.dims - 1; d >= 0; --d) {
      off += c.strides[d];
      if (++idx[d] < c.counts[d])
        break;
      off -= c.strides[d] * c.counts[d];
      idx[d] = 0;
    }
  }
}

} // namespace

Expected<std::vector<Tensor>> Session::run(std::span<const Tensor> inputs) {
  const FunctionData &fn = data_->functions[function_];
  if (inputs.size() != fn.inputs.size())
    return invalidArgument("function '", fn.name, "' takes ", fn.inputs.size(),
                           " inputs, got ", inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec &spec = fn.inputs[i];
    if (!inputs[i].defined() || inputs[i].dtype() != spec.dtype ||
        inputs[i].shape() != spec.shape)
      return invalidArgument("function '", fn.name, "' input #", i,
                             spec.name.empty() ? "" : strCat(" (", spec.name, ")"),
                             " must be ", dtypeName(spec.dtype), " ",
                             shapes::toString(spec.shape), ", got ",
                             inputs[i].defined()
                                 ? strCat(dtypeName(inputs[i].dtype()), " ",
                                          shapes::toString(inputs[i].shape()))
                                 : std::string("an undefined tensor"));
  }

  if (options_.reference)
    return runReference(inputs);

  std::vector<Tensor> temps(fn.values.size());
  auto read = [&](uint32_t id) -> Expected<Tensor> {
    const ValueData &v = fn.values[id];
    switch (v.storage) {
    case format::Storage::Input:
      return inputs[v.index];
    case format::Storage::Constant:
      return data_->constants[v.index];
    case format::Storage::Arena:
      return arenaView(arena_, v);
    default:
      return temps[id];
    }
  };

  if (options_.profile && profile_.empty())
    profile_ = describeOps(fn);
  // The data of a value, contiguous (strided inputs are copied into
  // `dense`, which lives until the next op).
  std::vector<Tensor> dense;
  std::vector<void *> pointers;
  auto pointerTo = [&](uint32_t id) -> Expected<void *> {
    const ValueData &v = fn.values[id];
    if (v.storage == format::Storage::Arena)
      return static_cast<void *>(static_cast<uint8_t *>(arena_->data()) + v.index);
    const Tensor &t = v.storage == format::Storage::Input      ? inputs[v.index]
                      : v.storage == format::Storage::Constant ? data_->constants[v.index]
                                                               : temps[id];
    if (t.isContiguous())
      return t.rawData();
    KILN_ASSIGN_OR_RETURN(Tensor c, t.contiguous());
    dense.push_back(std::move(c));
    return dense.back().rawData();
  };
  static const OpHandler *const reshapeHandler = findOpHandler("reshape");
  static const OpHandler *const sliceHandler = findOpHandler("slice");
  static const OpHandler *const transposeHandler = findOpHandler("transpose");
  if (viewCopies_.size() != fn.ops.size())
    viewCopies_.assign(fn.ops.size(), detail::ViewCopy());
  std::vector<Tensor> operands;
  for (size_t i = 0; i < fn.ops.size(); ++i) {
    const OpData &op = fn.ops[i];
    auto start = options_.profile ? std::chrono::steady_clock::now()
                                  : std::chrono::steady_clock::time_point();
    // Every exit from this iteration (continue included) charges the op.
    struct Charge {
      OpProfile *p;
      std::chrono::steady_clock::time_point start;
      ~Charge() {
        if (p) {
          p->seconds += std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count();
          ++p->runs;
        }
      }
    } charge{options_.profile ? &profile_[i] : nullptr, start};
    // Generated kernels and prepared calls take data pointers: no Tensor
    // is built for their operands (each costs allocations, which were a
    // third of an unrolled LSTM's run time).
    if (op.native || op.prepared) {
      pointers.clear();
      dense.clear();
      for (uint32_t id : op.operands) {
        KILN_ASSIGN_OR_RETURN(void *p, pointerTo(id));
        pointers.push_back(p);
      }
      if (op.native)
        KILN_RETURN_IF_ERROR(runNativeKernel(op, fn, pointers, arena_, temps));
      else
        KILN_RETURN_IF_ERROR(runPreparedCall(op, fn, pointers, arena_, temps));
      continue;
    }
    // A reshape within the arena moves no data when the plan gave the
    // result its operand's bytes, and one copy otherwise.
    if (op.handler == reshapeHandler && op.operands.size() == 1 &&
        fn.values[op.operands[0]].storage == format::Storage::Arena &&
        fn.values[op.results[0]].storage == format::Storage::Arena) {
      const ValueData &from = fn.values[op.operands[0]], &to = fn.values[op.results[0]];
      uint8_t *base = static_cast<uint8_t *>(arena_->data());
      if (from.index != to.index && to.bytes)
        std::memmove(base + to.index, base + from.index, to.bytes);
      continue;
    }
    // A slice or transpose into the arena replays the copies it learned
    // the first time (the eager op builds a view, its attributes and a
    // result tensor each time: ~2 us for a 2K-float attention transpose,
    // 42 us for a batch-first LSTM's [32, 50, 32] input). Its operand is
    // in the arena, or a function input that is contiguous now as it was
    // then (a later run may pass a strided one).
    const bool viewOp = (op.handler == sliceHandler || op.handler == transposeHandler) &&
                        !op.operands.empty() && !op.results.empty();
    const ValueData *from = viewOp ? &fn.values[op.operands[0]] : nullptr;
    const Tensor *input = from && from->storage == format::Storage::Input
                              ? &inputs[from->index]
                              : nullptr;
    const bool arenaView =
        from &&
        (from->storage == format::Storage::Arena || (input && input->isContiguous())) &&
        fn.values[op.results[0]].storage == format::Storage::Arena;
    if (arenaView && viewCopies_[i].from >= 0 &&
        (viewCopies_[i].input >= 0) == (input != nullptr)) {
      uint8_t *base = static_cast<uint8_t *>(arena_->data());
      replayViewCopy(input ? static_cast<const uint8_t *>(input->rawData()) : base,
                     base, viewCopies_[i]);
      continue;
    }
    if (arenaView) { // first run: learn from the view (no copy), then copy
      KILN_ASSIGN_OR_RETURN(Tensor x, read(op.operands[0]));
      OpAttrs attrs(op.op);
      Expected<Tensor> view = Tensor();
      if (op.handler == sliceHandler) {
        std::vector<int64_t> steps = attrs.getInts("steps");
        if (steps.empty())
          steps.assign(x.shape().size(), 1);
        view = x.slice(attrs.getInts("starts"), attrs.getInts("ends"), steps);
      } else {
        view = x.permute(attrs.getInts("permutation"));
      }
      const ValueData &v = fn.values[op.results[0]];
      if (view && view->dtype() == v.spec.dtype && view->shape() == v.spec.shape) {
        viewCopies_[i] = input ? learnViewCopy(arena_, v, *view, input, int(from->index))
                               : learnViewCopy(arena_, v, *view);
        KILN_RETURN_IF_ERROR(storeInArena(arena_, v, *view));
        continue;
      } // else the op table's slice or transpose reports the error
    }
    operands.clear();
    for (uint32_t id : op.operands) {
      KILN_ASSIGN_OR_RETURN(Tensor t, read(id));
      operands.push_back(std::move(t));
    }
    std::vector<TensorSpec> resultSpecs;
    for (uint32_t id : op.results)
      resultSpecs.push_back(fn.values[id].spec);
    OpAttrs attrs(op.op);
    Expected<std::vector<Tensor>> results =
        op.handler->run(attrs, operands, resultSpecs);
    if (!results)
      return results.takeStatus().withContext(
          strCat("function '", fn.name, "', op '", attrs.opName(), "'"));
    if (results->size() != op.results.size())
      return internalError("op '", attrs.opName(), "' returned ",
                           results->size(), " results, expected ",
                           op.results.size());
    for (size_t r = 0; r < op.results.size(); ++r) {
      const ValueData &v = fn.values[op.results[r]];
      const Tensor &t = (*results)[r];
      if (t.dtype() != v.spec.dtype || t.shape() != v.spec.shape)
        return internalError("op '", attrs.opName(), "' produced ",
                             dtypeName(t.dtype()), " ",
                             shapes::toString(t.shape()), ", the plan says ",
                             dtypeName(v.spec.dtype), " ",
                             shapes::toString(v.spec.shape));
      if (v.storage == format::Storage::Arena)
        KILN_RETURN_IF_ERROR(storeInArena(arena_, v, t));
      else
        temps[op.results[r]] = t;
    }
  }

  // A temporary that this run allocated and nothing else holds (the
  // compiler keeps results out of the arena) is handed over as it is;
  // anything else (arena bytes, inputs, constants, views, a value returned
  // twice) is copied, so outputs never alias the session or each other.
  std::vector<Tensor> outputs;
  for (uint32_t id : fn.outputIds) {
    Tensor &temp = temps[id];
    if (fn.values[id].storage == format::Storage::Temporary && temp.defined() &&
        temp.isContiguous() && temp.storageOffset() == 0 &&
        temp.storage().use_count() == 1 && temp.dtype() == fn.values[id].spec.dtype &&
        temp.shape() == fn.values[id].spec.shape) {
      outputs.push_back(std::move(temp));
      temp = Tensor();
      continue;
    }
    Tensor t;
    if (fn.values[id].storage == format::Storage::Temporary && !temp.defined()) {
      // Handed over already: this value is returned more than once.
      for (size_t j = 0; j < outputs.size() && !t.defined(); ++j)
        if (fn.outputIds[j] == id)
          t = outputs[j];
    }
    if (!t.defined()) {
      KILN_ASSIGN_OR_RETURN(t, read(id));
    }
    KILN_ASSIGN_OR_RETURN(Tensor copy, t.clone());
    outputs.push_back(std::move(copy));
  }
  return outputs;
}

/// The oracle: the same dispatch list with every float value in f64 and
/// the reference kernels; no arena (values are f64, twice the planned size).
Expected<std::vector<Tensor>>
Session::runReference(std::span<const Tensor> inputs) {
  const FunctionData &fn = data_->functions[function_];
  auto widen = [](const Tensor &t) -> Expected<Tensor> {
    return isFloat(t.dtype()) && t.dtype() != DType::F64 ? t.to(DType::F64) : t;
  };
  std::vector<Tensor> values(fn.values.size());
  for (size_t v = 0; v < fn.values.size(); ++v) {
    const ValueData &d = fn.values[v];
    if (d.storage == format::Storage::Input) {
      KILN_ASSIGN_OR_RETURN(values[v], widen(inputs[d.index]));
    } else if (d.storage == format::Storage::Constant) {
      KILN_ASSIGN_OR_RETURN(values[v], widen(data_->constants[d.index]));
    }
  }
  std::vector<Tensor> operands;
  for (const OpData &op : fn.ops) {
    operands.clear();
    for (uint32_t id : op.operands)
      operands.push_back(values[id]);
    // Float results are f64 here, whatever precision the plan stores.
    std::vector<TensorSpec> specs;
    for (uint32_t id : op.results) {
      TensorSpec spec = fn.values[id].spec;
      if (isFloat(spec.dtype))
        spec.dtype = DType::F64;
      specs.push_back(spec);
    }
    OpAttrs attrs(op.op);
    const OpKernel *kernel = findReferenceKernel(attrs.opName());
    Expected<std::vector<Tensor>> results =
        kernel ? (*kernel)(attrs, operands, specs)
               : op.handler->run(attrs, operands, specs);
    if (!results)
      return results.takeStatus().withContext(strCat(
          "reference run of function '", fn.name, "', op '", attrs.opName(), "'"));
    if (results->size() != op.results.size())
      return internalError("op '", attrs.opName(), "' returned ",
                           results->size(), " results, expected ",
                           op.results.size());
    for (size_t r = 0; r < op.results.size(); ++r) {
      KILN_ASSIGN_OR_RETURN(Tensor t, widen((*results)[r]));
      // Some reference kernels (matmul, pooling) compute integers in f64;
      // the values are exact, so they convert back without loss.
      if (t.dtype() == DType::F64 && !isFloat(specs[r].dtype)) {
        KILN_ASSIGN_OR_RETURN(t, t.to(specs[r].dtype));
      }
      if (t.dtype() != specs[r].dtype || t.shape() != specs[r].shape)
        return internalError("reference op '", attrs.opName(), "' produced ",
                             dtypeName(t.dtype()), " ",
                             shapes::toString(t.shape()), ", expected ",
                             dtypeName(specs[r].dtype), " ",
                             shapes::toString(specs[r].shape));
      values[op.results[r]] = std::move(t);
    }
  }
  std::vector<Tensor> outputs;
  for (uint32_t id : fn.outputIds) {
    KILN_ASSIGN_OR_RETURN(Tensor copy, values[id].clone());
    outputs.push_back(std::move(copy));
  }
  return outputs;
}

} // namespace kiln
