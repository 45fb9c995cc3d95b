//===- PreparedCall.cpp - oneDNN calls prepared once for constant weights -===//
//
// See PreparedCall.h. oneDNN's C++ API throws; every error becomes a Status
// (a failure to prepare becomes "not prepared": the op then runs as eager
// mode runs it, which reports its own errors).
//
//===----------------------------------------------------------------------===//
#include "PreparedCall.h"

#include "DepthwiseConv.h"
#include "DirectConv.h"
#include "Gemv.h"
#include "PackedGemm.h"
#include "PointwiseConv.h"
#include "kiln/ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <cmath>
#include <cstring>
#include <array>
#include <cstdlib>
#include <optional>
#include <unordered_map>
#include <vector>

#if KILN_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace kiln::cpu {

namespace {

/// Products of at most this many rows run on Kiln's packed kernel.
constexpr int64_t kPackedGemmMaxRows = 256;

/// The index of the fastest candidate: each one's best of three runs after
/// a warm-up (a failed run rules it out). The candidates take turns, run by
/// run, so that a burst of load from another process (this machine is
/// shared) slows all of them alike instead of the one timed during it.
/// (Timed one after the other on a loaded machine, MobileNetV2's 16 -> 96
/// 1x1 layer kept a kernel that then ran at ~1.2 ms where the others had
/// measured ~0.6-0.8 ms.)
size_t fastestCandidate(const std::vector<std::unique_ptr<PreparedCall>> &calls,
                        const float *x, float *y) {
  std::vector<double> best(calls.size(), std::numeric_limits<double>::infinity());
  std::vector<bool> failed(calls.size(), false);
  for (int round = 0; round < 4; ++round)
    for (size_t i = 0; i < calls.size(); ++i) {
      if (failed[i])
        continue;
      auto t0 = std::chrono::steady_clock::now();
      failed[i] = !calls[i]->run(x, y).isOk();
      std::chrono::duration<double> t = std::chrono::steady_clock::now() - t0;
      if (failed[i])
        best[i] = std::numeric_limits<double>::infinity();
      else if (round > 0)
        best[i] = std::min(best[i], t.count());
    }
  return size_t(std::min_element(best.begin(), best.end()) - best.begin());
}

} // namespace

#if KILN_HAVE_DNNL

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine &engine() {
  static auto *e = new dnnl::engine(dnnl::engine::kind::cpu, 0); // Leaked.
  return *e;
}

/// A 64-byte aligned buffer that only grows.
class ScratchBuffer {
public:
  void *get(size_t bytes) {
    if (bytes > size_) {
      size_t rounded = (bytes + 63) / 64 * 64;
      data_.reset(static_cast<std::byte *>(std::aligned_alloc(64, rounded)));
      size_ = data_ ? rounded : 0;
    }
    return data_.get();
  }

private:
  struct Free {
    void operator()(std::byte *p) const { std::free(p); }
  };
  std::unique_ptr<std::byte, Free> data_;
  size_t size_ = 0;
};

/// This thread's stream and buffers: a run never shares them with another
/// thread's run.
struct ThreadState {
  dnnl::stream stream{engine()};
  ScratchBuffer scratchpad, src, dst;
};
ThreadState &threadState() {
  thread_local ThreadState s;
  return s;
}

/// A oneDNN memory over `buffer`'s bytes for `md` (nothing when empty).
memory scratchMemory(const memory::desc &md, ScratchBuffer &buffer) {
  return memory(md, engine(), buffer.get(std::max<size_t>(md.get_size(), 1)));
}

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

/// The oneDNN eltwise post-op for a kiln.gemm activation; nullopt for an
/// unknown name, an empty post-op list for "none".
std::optional<dnnl::post_ops> activationPostOps(std::string_view activation) {
  dnnl::post_ops ops;
  using alg = dnnl::algorithm;
  if (activation == "none")
    return ops;
  std::optional<alg> a;
  float alpha = 0.f, beta = 0.f;
  if (activation == "relu")
    a = alg::eltwise_relu;
  else if (activation == "relu6")
    a = alg::eltwise_clip, alpha = 0.f, beta = 6.f; // clamp to [alpha, beta]
  else if (activation == "gelu")
    a = alg::eltwise_gelu_erf;
  else if (activation == "gelu_tanh")
    a = alg::eltwise_gelu_tanh;
  else if (activation == "silu")
    a = alg::eltwise_swish, alpha = 1.f; // x * sigmoid(alpha x)
  else if (activation == "sigmoid")
    a = alg::eltwise_logistic;
  else if (activation == "tanh")
    a = alg::eltwise_tanh;
  if (!a)
    return std::nullopt;
  ops.append_eltwise(1.f, *a, alpha, beta);
  return ops;
}

/// Runs `body(part)` for every part, on the pool when there are several,
/// and returns the first error.
template <typename Body>
Status forEachPart(size_t parts, Body &&body) {
  if (parts == 1)
    return body(size_t(0));
  std::vector<Status> status(parts);
  ThreadPool::global().parallelFor(0, int64_t(parts), 1,
                                   [&](int64_t b, int64_t e) {
                                     for (int64_t p = b; p < e; ++p)
                                       status[size_t(p)] = body(size_t(p));
                                   });
  for (Status &st : status)
    if (!st.isOk())
      return st;
  return Status();
}

Status dnnlError(const char *what, const dnnl::error &e) {
  return internalError(what, ": oneDNN failed: ", e.what(), " (status ",
                       int(e.status), ")");
}

/// Weights reordered into a primitive's layout once, shared by the parts
/// that want the same layout of the same slice.
class PackedWeights {
public:
  /// The packed copy of the user-layout slice `user` for `want`.
  std::shared_ptr<memory> get(int64_t key, const memory::desc &want,
                              memory user) {
    for (const Entry &e : entries_)
      if (e.key == key && e.desc == want)
        return e.packed;
    auto packed = std::make_shared<memory>(want, engine());
    dnnl::stream &s = threadState().stream;
    dnnl::reorder(user, *packed).execute(s, user, *packed);
    s.wait();
    entries_.push_back({key, want, packed});
    return packed;
  }

private:
  struct Entry {
    int64_t key;
    memory::desc desc;
    std::shared_ptr<memory> packed;
  };
  std::vector<Entry> entries_;
};

/// How many parts to split `items` into on the pool, each at least
/// `minItems`; 1 for work too small to be worth waking the pool (~5 us):
/// below 2^18 multiply-adds, about 3 us of one core at this machine's peak.
/// A matrix-vector product of that size is memory-bound, and splitting it
/// also splits its weights over two cores' caches.
size_t partsFor(int64_t items, int64_t minItems, int64_t macs) {
  int64_t threads = ThreadPool::global().numThreads();
  if (threads <= 1 || macs < (int64_t(1) << 18))
    return 1;
  return size_t(std::clamp<int64_t>(items / std::max<int64_t>(minItems, 1), 1,
                                    threads));
}

//===----------------------------------------------------------------------===//
// GEMM
//===----------------------------------------------------------------------===//

class PreparedGemm final : public PreparedCall {
public:
  struct Part {
    int64_t m0, m1, n0, n1;
    dnnl::matmul::primitive_desc pd;
    dnnl::matmul prim;
    std::shared_ptr<memory> weights;
  };

  PreparedGemm(int64_t m, int64_t k, int64_t n, Tensor bias)
      : m_(m), k_(k), n_(n), bias_(std::move(bias)) {}

  Status run(const float *x, float *y) const override {
    return forEachPart(parts_.size(), [&](size_t i) -> Status {
      const Part &p = parts_[i];
      try {
        ThreadState &ts = threadState();
        std::unordered_map<int, memory> args = {
            {DNNL_ARG_SRC, memory(p.pd.src_desc(), engine(),
                                  const_cast<float *>(x + p.m0 * k_))},
            {DNNL_ARG_WEIGHTS, *p.weights},
            {DNNL_ARG_DST,
             memory(p.pd.dst_desc(), engine(),
                    p.n1 - p.n0 == n_ ? y + p.m0 * n_
                                      : ts.dst.get(p.pd.dst_desc().get_size()))},
            {DNNL_ARG_SCRATCHPAD,
             scratchMemory(p.pd.scratchpad_desc(), ts.scratchpad)}};
        if (bias_.defined())
          args.emplace(DNNL_ARG_BIAS,
                       memory(p.pd.bias_desc(), engine(),
                              const_cast<float *>(bias_.data<float>() + p.n0)));
        p.prim.execute(ts.stream, args);
        ts.stream.wait();
        if (p.n1 - p.n0 != n_) { // a column slice: computed dense, copied out
          const float *dense =
              static_cast<const float *>(args[DNNL_ARG_DST].get_data_handle());
          int64_t cols = p.n1 - p.n0;
          for (int64_t r = p.m0; r < p.m1; ++r)
            std::memcpy(y + r * n_ + p.n0, dense + (r - p.m0) * cols,
                        size_t(cols) * sizeof(float));
        }
        return Status();
      } catch (const dnnl::error &e) {
        return dnnlError("op 'gemm'", e);
      }
    });
  }

  std::string implementation() const override {
    return parts_.empty() ? "" : parts_[0].pd.impl_info_str();
  }

  int64_t m_, k_, n_;
  Tensor bias_; // [n] f32, contiguous; keeps the constant alive
  std::vector<Part> parts_;
};

/// Splits a GEMM over the pool: by rows when there are enough (the parts
/// share one packed copy of the weights), else by output columns (each
/// thread packs and streams only its slice, which the pool's home chunks
/// keep on one core). A column slice is computed
/// into a dense buffer and copied out: oneDNN 2.6's brgemm has no strided
/// destination and falls back to its sgemm path, which ran a 64x784x512
/// layer 3x slower here.
std::vector<std::array<int64_t, 4>> gemmParts(int64_t m, int64_t k, int64_t n) {
  int64_t macs = m * n * k;
  // At least 64 rows a part: below that, each thread streaming all of the
  // weights costs more than the copy-out of a column slice (MLP 64x784x512
  // + 64x512x512: 290-313 us by rows, 256-285 us by columns, whose halves
  // of the weights stay in each core's L2; BERT's 128- and 1024-row
  // products are faster by rows).
  size_t byRows = partsFor(m, 64, macs);
  if (byRows > 1) {
    std::vector<std::array<int64_t, 4>> parts;
    for (size_t p = 0; p < byRows; ++p)
      parts.push_back({m * int64_t(p) / int64_t(byRows),
                       m * int64_t(p + 1) / int64_t(byRows), 0, n});
    return parts;
  }
  // Column slices of at least 64 (oneDNN's blocked weights are 16 or 64
  // columns wide), rounded to 16.
  size_t byCols = partsFor(n, 64, macs);
  if (byCols > 1) {
    std::vector<std::array<int64_t, 4>> parts;
    int64_t prev = 0;
    for (size_t p = 1; p <= byCols; ++p) {
      int64_t end = p == byCols ? n : (n * int64_t(p) / int64_t(byCols) + 8) / 16 * 16;
      parts.push_back({0, m, prev, end});
      prev = end;
    }
    return parts;
  }
  return {{0, m, 0, n}};
}

Expected<std::unique_ptr<PreparedCall>>
prepareDnnlGemm(int64_t m, int64_t k, int64_t n, const Tensor &wc,
                bool transposeW, const Tensor &bc, std::string_view activation) {
  std::optional<dnnl::post_ops> postOps = activationPostOps(activation);
  if (!postOps)
    return std::unique_ptr<PreparedCall>();
  auto call = std::make_unique<PreparedGemm>(m, k, n, bc);
  try {
    dnnl::primitive_attr attr = userScratchpad();
    attr.set_post_ops(*postOps);
    PackedWeights packed;
    for (auto [m0, m1, n0, n1] : gemmParts(m, k, n)) {
      int64_t rows = m1 - m0, cols = n1 - n0;
      memory::desc src({rows, k}, dt::f32, tag::ab);
      // The user's slice: columns [n0, n1) of W[k, n], or rows of W[n, k].
      memory::desc userMd = transposeW
                                ? memory::desc({k, cols}, dt::f32, memory::dims{1, k})
                                : memory::desc({k, cols}, dt::f32, memory::dims{n, 1});
      memory::desc weiAny({k, cols}, dt::f32, tag::any);
      memory::desc dst({rows, cols}, dt::f32, tag::ab);
      memory::desc biasMd =
          bc.defined() ? memory::desc({1, cols}, dt::f32, tag::ab) : memory::desc();
      dnnl::matmul::primitive_desc pd(
          dnnl::matmul::desc(src, weiAny, biasMd, dst), attr, engine());
      const float *userData = wc.data<float>() + (transposeW ? n0 * k : n0);
      memory user(userMd, engine(), const_cast<float *>(userData));
      std::shared_ptr<memory> weights = packed.get(n0 * n + n1, pd.weights_desc(), user);
      call->parts_.push_back({m0, m1, n0, n1, pd, dnnl::matmul(pd), weights});
    }
  } catch (const dnnl::error &) {
    return std::unique_ptr<PreparedCall>(); // no kernel for it: run it eagerly
  }
  return std::unique_ptr<PreparedCall>(std::move(call));
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

class PreparedConv final : public PreparedCall {
public:
  struct Part {
    int64_t xOffset, yOffset, biasOffset; // elements
    memory::desc userSrc, userDst;
    dnnl::convolution_forward::primitive_desc pd;
    dnnl::convolution_forward prim;
    std::optional<dnnl::reorder> srcReorder, dstReorder;
    std::shared_ptr<memory> weights;
  };

  explicit PreparedConv(Tensor bias) : bias_(std::move(bias)) {}

  Status run(const float *x, float *y) const override {
    return forEachPart(parts_.size(), [&](size_t i) -> Status {
      const Part &p = parts_[i];
      try {
        ThreadState &ts = threadState();
        memory userSrc(p.userSrc, engine(), const_cast<float *>(x + p.xOffset));
        memory userDst(p.userDst, engine(), y + p.yOffset);
        memory src = userSrc, dst = userDst;
        if (p.srcReorder) {
          src = scratchMemory(p.pd.src_desc(), ts.src);
          p.srcReorder->execute(ts.stream, userSrc, src);
        }
        if (p.dstReorder)
          dst = scratchMemory(p.pd.dst_desc(), ts.dst);
        std::unordered_map<int, memory> args = {
            {DNNL_ARG_SRC, src},
            {DNNL_ARG_WEIGHTS, *p.weights},
            {DNNL_ARG_DST, dst},
            {DNNL_ARG_SCRATCHPAD,
             scratchMemory(p.pd.scratchpad_desc(), ts.scratchpad)}};
        if (bias_.defined())
          args.emplace(DNNL_ARG_BIAS,
                       memory(p.pd.bias_desc(), engine(),
                              const_cast<float *>(bias_.data<float>() + p.biasOffset)));
        p.prim.execute(ts.stream, args);
        if (p.dstReorder)
          p.dstReorder->execute(ts.stream, dst, userDst);
        ts.stream.wait();
        return Status();
      } catch (const dnnl::error &e) {
        return dnnlError("op 'conv2d'", e);
      }
    });
  }

  std::string implementation() const override {
    return parts_.empty() ? ""
                          : std::string(parts_[0].pd.impl_info_str()) + layout_;
  }

  Tensor bias_;
  std::vector<Part> parts_;
  const char *layout_ = " (reordered)"; // how it meets the activations
};

} // namespace

namespace {

/// Filters [f0, f0 + fb) of the constant OIHW weight `wc` as oneDNN user
/// memory (GOIHW when grouped, oneDNN's grouped form).
memory filterSlice(const Tensor &wc, int64_t f0, int64_t fb, int64_t groups) {
  const Shape &s = wc.shape();
  memory::dims dims = groups == 1
                          ? memory::dims{fb, s[1], s[2], s[3]}
                          : memory::dims{groups, fb / groups, s[1], s[2], s[3]};
  return memory(memory::desc(dims, dt::f32, groups == 1 ? tag::oihw : tag::goihw),
                engine(),
                const_cast<float *>(wc.data<float>() + f0 * (wc.numel() / s[0])));
}

/// A forward-inference convolution of `src` into `dst` by `filters` (which
/// oneDNN may want in another layout: see pd.weights_desc()), with the
/// window's strides and dilations, the given pads and `postOps`.
dnnl::convolution_forward::primitive_desc
convPrimitive(const memory::desc &src, const memory &filters,
              const memory::desc &bias, const memory::desc &dst,
              const Window2D &win, const memory::dims &padL,
              const memory::dims &padR, const dnnl::post_ops &postOps) {
  dnnl::primitive_attr attr = userScratchpad();
  attr.set_post_ops(postOps);
  // oneDNN counts dilation from 0 (0 = dense); Kiln from 1.
  dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
      src, memory::desc(filters.get_desc().dims(), dt::f32, tag::any), bias,
      dst, {win.strides[0], win.strides[1]},
      {win.dilations[0] - 1, win.dilations[1] - 1}, padL, padR);
  return dnnl::convolution_forward::primitive_desc(desc, attr, engine());
}

/// The convolution split into parts, in oneDNN's layouts of choice for the
/// activations (`plain` false: reordered from and to NCHW around each call)
/// or in NCHW itself (`plain` true: no reorders, maybe a slower kernel);
/// nullptr when oneDNN has no kernel for it.
std::unique_ptr<PreparedConv>
buildConv(bool plain, const Shape &xs, const Tensor &wc, const Tensor &bc,
          const Window2D &win, int64_t groups, const Shape &ys,
          const dnnl::post_ops &postOps) {
  const int64_t n = xs[0], c = xs[1], f = wc.shape()[0];
  const int64_t xImage = c * xs[2] * xs[3], yPlane = ys[2] * ys[3];
  const int64_t kPerOut = wc.numel() / f;
  // By batch, or for one image by output channels (plain convolutions).
  const bool byChannel = n == 1 && groups == 1;
  const int64_t items = byChannel ? f : n;
  const size_t parts =
      partsFor(items, byChannel ? 16 : 1, n * f * yPlane * kPerOut);
  auto call = std::make_unique<PreparedConv>(bc);
  if (plain)
    call->layout_ = " (NCHW)";
  try {
    PackedWeights packed;
    memory::dims padL = {win.pads[0], win.pads[1]}, padR = {win.pads[2], win.pads[3]};
    const tag act = plain ? tag::nchw : tag::any;
    for (size_t p = 0; p < parts; ++p) {
      int64_t lo = items * int64_t(p) / int64_t(parts);
      int64_t hi = items * int64_t(p + 1) / int64_t(parts);
      int64_t nb = byChannel ? n : hi - lo, fb = byChannel ? hi - lo : f;
      memory::dims src = {nb, c, xs[2], xs[3]}, dst = {nb, fb, ys[2], ys[3]};
      memory user = filterSlice(wc, byChannel ? lo : 0, fb, groups);
      memory::desc biasMd =
          bc.defined() ? memory::desc({fb}, dt::f32, tag::x) : memory::desc();
      dnnl::convolution_forward::primitive_desc pd =
          convPrimitive(memory::desc(src, dt::f32, act), user, biasMd,
                        memory::desc(dst, dt::f32, act), win, padL, padR, postOps);
      PreparedConv::Part part{byChannel ? 0 : lo * xImage,
                              byChannel ? lo * yPlane : lo * fb * yPlane,
                              byChannel ? lo : 0,
                              memory::desc(src, dt::f32, tag::nchw),
                              memory::desc(dst, dt::f32, tag::nchw),
                              pd,
                              dnnl::convolution_forward(pd),
                              std::nullopt,
                              std::nullopt,
                              nullptr};
      if (pd.src_desc() != part.userSrc)
        part.srcReorder = dnnl::reorder(dnnl::reorder::primitive_desc(
            engine(), part.userSrc, engine(), pd.src_desc()));
      if (pd.dst_desc() != part.userDst)
        part.dstReorder = dnnl::reorder(dnnl::reorder::primitive_desc(
            engine(), pd.dst_desc(), engine(), part.userDst));
      part.weights = packed.get(byChannel ? lo : 0, pd.weights_desc(), user);
      call->parts_.push_back(std::move(part));
    }
  } catch (const dnnl::error &) {
    return nullptr;
  }
  return call;
}

/// The convolution on NHWC activations (kiln-conv-layout's), which
/// oneDNN's brgemm kernels take as they are: no reorders either way. Split
/// by images; for one image by output channels when the weights outweigh
/// the activations (ResNet's 512-channel 7x7 layers: each core then reads
/// half of the 9.4 MB, and writes its channels of each pixel with the
/// pixel stride), else by output rows (each part reads the input rows its
/// windows cover, with its own top and bottom padding). nullptr when
/// oneDNN has no kernel.
std::unique_ptr<PreparedConv>
buildConvNhwc(const Shape &xs, const Tensor &wc, const Tensor &bc,
              const Window2D &win, int64_t groups, const Shape &ys,
              const dnnl::post_ops &postOps) {
  const int64_t n = xs[0], h = xs[1], w = xs[2], c = xs[3];
  const int64_t oh = ys[1], ow = ys[2], f = ys[3];
  const int64_t kPerOut = wc.numel() / f;
  const bool byChannels =
      n == 1 && groups == 1 && f >= 32 && wc.numel() > h * w * c + oh * ow * f;
  const bool byRows = n == 1 && !byChannels;
  // Channel slices in multiples of 16 (oneDNN's weight blocks).
  const int64_t items = byChannels ? f / 16 : byRows ? oh : n;
  const size_t parts = partsFor(items, 1, n * f * oh * ow * kPerOut);
  const int64_t sh = win.strides[0], kh = wc.shape()[2], dh = win.dilations[0];
  auto call = std::make_unique<PreparedConv>(bc);
  call->layout_ = " (NHWC)";
  try {
    PackedWeights packed;
    for (size_t p = 0; p < parts; ++p) {
      int64_t lo = items * int64_t(p) / int64_t(parts);
      int64_t hi = items * int64_t(p + 1) / int64_t(parts);
      // Output channels [f0, f1) (the last slice takes the remainder).
      int64_t f0 = byChannels ? lo * 16 : 0;
      int64_t f1 = !byChannels ? f : p + 1 == parts ? f : hi * 16;
      int64_t nb = byRows || byChannels ? 1 : hi - lo, r0 = byRows ? lo : 0,
              r1 = byRows ? hi : oh;
      memory user = filterSlice(wc, f0, f1 - f0, groups);
      memory::desc biasMd =
          bc.defined() ? memory::desc({f1 - f0}, dt::f32, tag::x) : memory::desc();
      // Input rows [a, b) of the windows of output rows [r0, r1).
      int64_t padTop = win.pads[0], padBottom = win.pads[2], a = 0, b = h;
      if (byRows && parts > 1) {
        int64_t in0 = r0 * sh - win.pads[0];
        int64_t in1 = (r1 - 1) * sh - win.pads[0] + (kh - 1) * dh + 1;
        a = std::max<int64_t>(in0, 0), b = std::min(in1, h);
        if (b <= a)
          return nullptr; // a part of padding only: not worth a split
        padTop = a - in0, padBottom = in1 - b;
      }
      memory::dims src = {nb, c, b - a, w}, dst = {nb, f1 - f0, r1 - r0, ow};
      memory::desc srcMd(src, dt::f32, tag::nhwc), dstMd(dst, dt::f32, tag::nhwc);
      dnnl::convolution_forward::primitive_desc pd =
          convPrimitive(srcMd, user, biasMd, dstMd, win, {padTop, win.pads[1]},
                        {padBottom, win.pads[3]}, postOps);
      if (std::string_view(pd.impl_info_str()).starts_with("ref"))
        return nullptr; // oneDNN's reference loops: the op table is faster
      // A channel slice is computed plain and then reordered into its
      // place, each pixel's slice at the pixel stride (given the strided
      // result itself, oneDNN falls back on its reference loops).
      memory::desc userDst =
          byChannels
              ? memory::desc(dst, dt::f32, memory::dims{oh * ow * f, 1, ow * f, f})
              : dstMd;
      PreparedConv::Part part{byRows ? a * w * c : byChannels ? 0 : lo * h * w * c,
                              byRows ? r0 * ow * f : byChannels ? f0 : lo * oh * ow * f,
                              f0,
                              srcMd,
                              userDst,
                              pd,
                              dnnl::convolution_forward(pd),
                              std::nullopt,
                              std::nullopt,
                              nullptr};
      if (byChannels)
        part.dstReorder = dnnl::reorder(dnnl::reorder::primitive_desc(
            engine(), pd.dst_desc(), engine(), userDst));
      part.weights = packed.get(f0, pd.weights_desc(), user);
      call->parts_.push_back(std::move(part));
    }
  } catch (const dnnl::error &) {
    return nullptr;
  }
  return call;
}

} // namespace

Expected<std::unique_ptr<PreparedCall>>
prepareConv2d(const Shape &xs, const Tensor &w, const Tensor &bias,
              const Window2D &win, int64_t groups, const Shape &ys,
              std::string_view activation, shapes::Layout2D layout) {
  std::optional<dnnl::post_ops> postOps = activationPostOps(activation);
  if (!postOps || xs.size() != 4 || ys.size() != 4 || w.rank() != 4 ||
      w.dtype() != DType::F32 || groups < 1 ||
      (bias.defined() && bias.dtype() != DType::F32))
    return std::unique_ptr<PreparedCall>();
  for (int64_t d : ys)
    if (d <= 0)
      return std::unique_ptr<PreparedCall>();
  KILN_ASSIGN_OR_RETURN(Tensor wc, w.contiguous());
  Tensor bc;
  if (bias.defined()) {
    KILN_ASSIGN_OR_RETURN(bc, bias.contiguous());
  }
  if (layout == shapes::Layout2D::NHWC) {
    // The shapes must be the ones the window gives (a file that says
    // otherwise is left to the eager kernel's checks).
    shapes::ShapeOr expect = shapes::conv2d(xs, wc.shape(), win, groups, layout);
    if (!expect || *expect != ys)
      return std::unique_ptr<PreparedCall>();
    return std::unique_ptr<PreparedCall>(
        buildConvNhwc(xs, wc, bc, win, groups, ys, *postOps));
  }
  // oneDNN's own layouts win for wide layers, but cost two reorders per
  // call, and for few channels they lose badly (LeNet's 1->6 5x5 on 32
  // images: 0.38 ms in brgconv NHWC plus 0.29 ms reordering the result
  // back to NCHW). So both are built, with Kiln's direct NCHW kernel where
  // it applies (DirectConv.h), and timed here on zeros, and the fastest
  // kept: a measured choice per layer. (On LeNet the blocked one beat the
  // plain one, 539 vs 883 us for the first layer, and 283 vs 1011 us.)
  std::vector<std::unique_ptr<PreparedCall>> candidates;
  candidates.push_back(buildConv(false, xs, wc, bc, win, groups, ys, *postOps));
  candidates.push_back(buildConv(true, xs, wc, bc, win, groups, ys, *postOps));
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<PreparedCall> direct,
                        prepareDirectConv2d(xs, wc, bc, win, groups, ys, activation));
  candidates.push_back(std::move(direct));
  KILN_ASSIGN_OR_RETURN(
      std::unique_ptr<PreparedCall> depthwise,
      prepareDepthwiseConv2d(xs, wc, bc, win, groups, ys, activation));
  candidates.push_back(std::move(depthwise));
  KILN_ASSIGN_OR_RETURN(
      std::unique_ptr<PreparedCall> pointwise,
      preparePointwiseConv2d(xs, wc, bc, win, groups, ys, activation));
  candidates.push_back(std::move(pointwise));
  std::erase(candidates, nullptr);
  if (candidates.size() <= 1)
    return candidates.empty() ? std::unique_ptr<PreparedCall>()
                              : std::move(candidates[0]);
  int64_t xn = 1, yn = 1;
  for (int64_t d : xs)
    xn *= d;
  for (int64_t d : ys)
    yn *= d;
  std::vector<float> x(static_cast<size_t>(xn)), y(static_cast<size_t>(yn));
  return std::move(candidates[fastestCandidate(candidates, x.data(), y.data())]);
}

#else // !KILN_HAVE_DNNL

namespace {
Expected<std::unique_ptr<PreparedCall>>
prepareDnnlGemm(int64_t, int64_t, int64_t, const Tensor &, bool,
                const Tensor &, std::string_view) {
  return std::unique_ptr<PreparedCall>();
}
} // namespace

Expected<std::unique_ptr<PreparedCall>>
prepareConv2d(const Shape &xs, const Tensor &w, const Tensor &bias,
              const Window2D &win, int64_t groups, const Shape &ys,
              std::string_view activation, shapes::Layout2D layout) {
  if (layout != shapes::Layout2D::NCHW)
    return std::unique_ptr<PreparedCall>(); // the op table's transposes
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<PreparedCall> direct,
                        prepareDirectConv2d(xs, w, bias, win, groups, ys, activation));
  if (direct)
    return direct;
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<PreparedCall> depthwise,
                        prepareDepthwiseConv2d(xs, w, bias, win, groups, ys, activation));
  if (depthwise)
    return depthwise;
  return preparePointwiseConv2d(xs, w, bias, win, groups, ys, activation);
}

#endif

//===----------------------------------------------------------------------===//
// Few-row GEMMs
//===----------------------------------------------------------------------===//

namespace {

/// The activation of a kiln.gemm as a function on one element (same
/// formulas as the eager kernels); nullptr for an unknown name.
using ActivationFn = float (*)(float);
std::optional<ActivationFn> activationFn(std::string_view a) {
  if (a == "none")
    return ActivationFn(nullptr);
  if (a == "relu")
    return +[](float x) { return x > 0.f ? x : (x == x ? 0.f : x); };
  if (a == "relu6") // the eager clip: NaN stays NaN
    return +[](float x) { return x < 0.f ? 0.f : x > 6.f ? 6.f : x; };
  if (a == "gelu")
    return +[](float x) {
      return float(0.5 * x * (1.0 + std::erf(double(x) * M_SQRT1_2)));
    };
  if (a == "gelu_tanh")
    return +[](float x) {
      double d = x;
      return float(0.5 * d *
                   (1.0 + std::tanh(0.7978845608028654 * (d + 0.044715 * d * d * d))));
    };
  if (a == "silu")
    return +[](float x) { return float(double(x) / (1.0 + std::exp(-double(x)))); };
  if (a == "sigmoid")
    return +[](float x) { return float(1.0 / (1.0 + std::exp(-double(x)))); };
  if (a == "tanh")
    return +[](float x) { return std::tanh(x); };
  return std::nullopt;
}

class PreparedGemv final : public PreparedCall {
public:
  Status run(const float *x, float *y) const override {
    const float *b = bias_.defined() ? bias_.data<float>() : nullptr;
    auto body = [&](int64_t n0, int64_t n1) {
      gemvRowsF32(m_, k_, x, w_.data<float>(), b, y, n_, n0, n1);
      if (relu_) // inline, so the compiler vectorizes it (MLP b1: ~1 us a layer)
        for (int64_t r = 0; r < m_; ++r)
          for (int64_t j = n0; j < n1; ++j) {
            float v = y[r * n_ + j];
            y[r * n_ + j] = v > 0.f ? v : (v == v ? 0.f : v);
          }
      else if (act_)
        for (int64_t r = 0; r < m_; ++r)
          for (int64_t j = n0; j < n1; ++j)
            y[r * n_ + j] = act_(y[r * n_ + j]);
    };
    ThreadPool &pool = ThreadPool::global();
    if (parts_ <= 1) {
      body(0, n_);
      return Status();
    }
    pool.parallelFor(0, parts_, 1, [&](int64_t b0, int64_t e0) {
      for (int64_t p = b0; p < e0; ++p)
        body(n_ * p / parts_ / 4 * 4, p + 1 == parts_ ? n_ : n_ * (p + 1) / parts_ / 4 * 4);
    });
    return Status();
  }
  std::string implementation() const override { return "kiln:gemv"; }

  int64_t m_, k_, n_, parts_;
  Tensor w_;    // [n, k] f32, contiguous
  Tensor bias_; // [n] f32 or undefined
  ActivationFn act_;
  bool relu_ = false;
};


} // namespace

Expected<std::unique_ptr<PreparedCall>>
prepareGemm(int64_t m, int64_t k, int64_t n, const Tensor &w, bool transposeW,
            const Tensor &bias, std::string_view activation) {
  if (m <= 0 || k <= 0 || n <= 0 || w.dtype() != DType::F32 ||
      (bias.defined() && (bias.dtype() != DType::F32 || bias.numel() != n)))
    return std::unique_ptr<PreparedCall>();
  Tensor bc;
  if (bias.defined()) {
    KILN_ASSIGN_OR_RETURN(bc, bias.contiguous());
  }
  if (m > kGemvMaxRows) {
    // Kiln's packed kernel up to kPackedGemmMaxRows rows, oneDNN above. A
    // fixed rule, not a timing at load: the two sum in different orders,
    // and a timed choice (which load noise flips) made the same file give
    // different last bits in different processes. Single-threaded they
    // run alike (175-190 GFLOP/s from 32 to 192 rows here); the packed one
    // has no per-call setup, and oneDNN's blocking wins on large products
    // (1024x256x256: 333 vs 224 GFLOP/s on two threads).
    KILN_ASSIGN_OR_RETURN(Tensor wc, w.contiguous());
    if (m <= kPackedGemmMaxRows) {
      KILN_ASSIGN_OR_RETURN(std::unique_ptr<PreparedCall> packed,
                            preparePackedGemm(m, k, n, wc, transposeW, bc, activation));
      if (packed)
        return packed;
    }
    return prepareDnnlGemm(m, k, n, wc, transposeW, bc, activation);
  }
  std::optional<ActivationFn> act = activationFn(activation);
  if (!act)
    return std::unique_ptr<PreparedCall>();
  auto call = std::make_unique<PreparedGemv>();
  call->m_ = m, call->k_ = k, call->n_ = n, call->bias_ = bc, call->act_ = *act;
  call->relu_ = activation == "relu";
  // The weights output-major ([n, k]): as given when transposed, else once
  // transposed here.
  if (transposeW) {
    KILN_ASSIGN_OR_RETURN(call->w_, w.contiguous());
  } else {
    KILN_ASSIGN_OR_RETURN(Tensor wt, w.transpose(0, 1));
    KILN_ASSIGN_OR_RETURN(call->w_, wt.contiguous());
  }
  // Split the outputs over the pool (and the weights over its cores'
  // caches), as gemvF32 does.
  call->parts_ = gemvParts(m, k, n, ThreadPool::global().numThreads());
  return std::unique_ptr<PreparedCall>(std::move(call));
}

} // namespace kiln::cpu
