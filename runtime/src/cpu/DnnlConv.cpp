//===- DnnlConv.cpp - oneDNN convolution for f32 conv2d --------------------===//
//
// Lets oneDNN choose its layouts (format_tag::any), reordering the NCHW
// input and OIHW weight in and the result out. oneDNN caches primitives by
// descriptor, so a repeated shape skips the JIT. Its C++ API throws; every
// error becomes a Status here.
//
// oneDNN runs single-threaded (its OpenMP team is 1, see ThreadPool.cpp);
// the work is split over Kiln's pool instead: by batch, or for a single
// image by output channels. One pool means no OpenMP threads spinning
// beside Kiln's kernels after each call.
//
//===----------------------------------------------------------------------===//
#include "DnnlConv.h"

#include "kiln/ThreadPool.h"

#include <algorithm>
#include <vector>

#if KILN_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace kiln::cpu {

#if KILN_HAVE_DNNL

bool haveDnnlConv() { return true; }

namespace {
struct DnnlContext {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};
DnnlContext &context() {
  static DnnlContext *c = new DnnlContext; // Leaked: used at any time.
  return *c;
}
} // namespace

namespace {
/// One oneDNN convolution over contiguous NCHW slices.
Status dnnlConvSlice(const Tensor &x, const Tensor &w, const Tensor &bias,
                     const Window2D &win, int64_t groups, Tensor &out) {
  using dnnl::memory;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  try {
    DnnlContext &ctx = context();
    memory::dims src = {x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]};
    memory::dims dst = {out.shape()[0], out.shape()[1], out.shape()[2],
                        out.shape()[3]};
    int64_t f = w.shape()[0];
    memory::dims wei =
        groups == 1 ? memory::dims{f, w.shape()[1], w.shape()[2], w.shape()[3]}
                    : memory::dims{groups, f / groups, w.shape()[1],
                                   w.shape()[2], w.shape()[3]};
    tag weiTag = groups == 1 ? tag::oihw : tag::goihw;
    memory::dims strides = {win.strides[0], win.strides[1]};
    // oneDNN counts dilation from 0 (0 = dense); Kiln from 1.
    memory::dims dilates = {win.dilations[0] - 1, win.dilations[1] - 1};
    memory::dims padL = {win.pads[0], win.pads[1]};
    memory::dims padR = {win.pads[2], win.pads[3]};
    memory::desc srcAny(src, dt::f32, tag::any), weiAny(wei, dt::f32, tag::any),
        dstAny(dst, dt::f32, tag::any);
    memory::desc biasMd = bias.defined() ? memory::desc({f}, dt::f32, tag::x)
                                         : memory::desc();
    dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
        srcAny, weiAny, biasMd, dstAny, strides, dilates, padL, padR);
    dnnl::convolution_forward::primitive_desc pd(desc, ctx.engine);

    memory userSrc({src, dt::f32, tag::nchw}, ctx.engine, x.rawData());
    memory userWei({wei, dt::f32, weiTag}, ctx.engine, w.rawData());
    memory userDst({dst, dt::f32, tag::nchw}, ctx.engine, out.rawData());
    memory srcMem = userSrc, weiMem = userWei, dstMem = userDst;
    if (pd.src_desc() != userSrc.get_desc()) {
      srcMem = memory(pd.src_desc(), ctx.engine);
      dnnl::reorder(userSrc, srcMem).execute(ctx.stream, userSrc, srcMem);
    }
    if (pd.weights_desc() != userWei.get_desc()) {
      weiMem = memory(pd.weights_desc(), ctx.engine);
      dnnl::reorder(userWei, weiMem).execute(ctx.stream, userWei, weiMem);
    }
    if (pd.dst_desc() != userDst.get_desc())
      dstMem = memory(pd.dst_desc(), ctx.engine);
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, srcMem},
                                            {DNNL_ARG_WEIGHTS, weiMem},
                                            {DNNL_ARG_DST, dstMem}};
    if (bias.defined())
      args.emplace(DNNL_ARG_BIAS,
                   memory(biasMd, ctx.engine, bias.rawData()));
    dnnl::convolution_forward(pd).execute(ctx.stream, args);
    if (dstMem != userDst)
      dnnl::reorder(dstMem, userDst).execute(ctx.stream, dstMem, userDst);
    ctx.stream.wait();
    return Status();
  } catch (const dnnl::error &e) {
    return internalError("op 'conv2d': oneDNN failed: ", e.what(), " (status ",
                         int(e.status), ")");
  } catch (const std::exception &e) {
    return internalError("op 'conv2d': oneDNN failed: ", e.what());
  }
}
} // namespace

Status dnnlConv2d(const Tensor &x, const Tensor &w, const Tensor &bias,
                  const Window2D &win, int64_t groups, Tensor &out) {
  ThreadPool &pool = ThreadPool::global();
  int64_t n = x.shape()[0], f = w.shape()[0];
  int64_t parts = pool.numThreads();
  // Too little work to be worth splitting: one call on this thread.
  int64_t macs = out.numel() * w.numel() / std::max<int64_t>(f, 1);
  if (parts == 1 || macs < (int64_t(1) << 20))
    return dnnlConvSlice(x, w, bias, win, groups, out);
  bool byChannel = n < parts && n == 1 && groups == 1 && f >= 2 * parts;
  int64_t items = byChannel ? f : n;
  parts = std::min(parts, items);
  std::vector<Status> status(static_cast<size_t>(parts));
  pool.parallelFor(0, parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t part = b; part < e; ++part) {
      int64_t lo = items * part / parts, hi = items * (part + 1) / parts;
      Status &st = status[size_t(part)];
      auto run = [&]() -> Status {
        if (!byChannel) {
          KILN_ASSIGN_OR_RETURN(Tensor xs, x.slice(0, lo, hi));
          KILN_ASSIGN_OR_RETURN(Tensor os, out.slice(0, lo, hi));
          return dnnlConvSlice(xs, w, bias, win, groups, os);
        }
        KILN_ASSIGN_OR_RETURN(Tensor ws, w.slice(0, lo, hi));
        KILN_ASSIGN_OR_RETURN(Tensor os, out.slice(1, lo, hi));
        Tensor bs;
        if (bias.defined()) {
          KILN_ASSIGN_OR_RETURN(bs, bias.slice(0, lo, hi));
        }
        return dnnlConvSlice(x, ws, bs, win, groups, os);
      };
      st = run();
    }
  });
  for (Status &st : status)
    if (!st.isOk())
      return st;
  return Status();
}

#else

bool haveDnnlConv() { return false; }
Status dnnlConv2d(const Tensor &, const Tensor &, const Tensor &,
                  const Window2D &, int64_t, Tensor &) {
  return unavailable("oneDNN is not linked into this runtime");
}

#endif

} // namespace kiln::cpu
