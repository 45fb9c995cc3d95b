//===- DirectConv.cpp - Direct NCHW f32 convolution for few channels ------===//
//
// See DirectConv.h. The kernels are instantiated per (vectors a row, filters
// a block), so that the accumulators are named registers: one vector a row
// holds up to 16 filters (16 of AVX-512's 32 registers), two vectors up to
// 12 (24). They are compiled for AVX-512F alone and chosen at run time.
//
//===----------------------------------------------------------------------===//
#include "DirectConv.h"
#include "Avx512.h"
#include "ClampActivation.h"

#include "kiln/ThreadPool.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln::cpu {

#if defined(__x86_64__)

namespace {

struct ConvGeometry {
  int64_t c, h, w;              // one input image
  int64_t f, kh, kw;            // filters
  int64_t sh, dh, dw;           // vertical stride; dilations
  int64_t padT, padL, hp, wp;   // the zero-bordered copy: hp rows of wp
  int64_t oh, ow;
  int64_t slack;                // floats after the copy that lanes past ow read
};

/// Computes filters [f0, f0 + FB) of one image: y points at filter f0's
/// plane; wb at the block's packed weights [c][ky][kx][FB]; bias at the
/// block's FB values or null.
using BlockKernel = void (*)(const float *xpad, const ConvGeometry &g,
                             const float *wb, const float *bias, float *y,
                             ClampActivation act);

template <int VN, int FB, int SW>
__attribute__((target("avx512f"))) void
convBlock(const float *xpad, const ConvGeometry &g, const float *wb,
          const float *bias, float *y, ClampActivation act) {
  const int64_t plane = g.oh * g.ow;
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t oy = 0; oy < g.oh; ++oy)
    for (int64_t ox0 = 0; ox0 < g.ow; ox0 += 16 * VN) {
      __m512 acc[FB][VN];
      for (int f = 0; f < FB; ++f)
        for (int v = 0; v < VN; ++v)
          acc[f][v] = bias ? _mm512_set1_ps(bias[f]) : zero;
      const float *wp = wb;
      for (int64_t c = 0; c < g.c; ++c)
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          const float *row =
              xpad + (c * g.hp + oy * g.sh + ky * g.dh) * g.wp + ox0 * SW;
          for (int64_t kx = 0; kx < g.kw; ++kx, wp += FB) {
            __m512 xv[VN];
            for (int v = 0; v < VN; ++v)
              xv[v] = loadStrided<SW>(row + kx * g.dw + 16 * SW * v);
            for (int f = 0; f < FB; ++f) {
              __m512 wv = _mm512_set1_ps(wp[f]);
              for (int v = 0; v < VN; ++v)
                acc[f][v] = _mm512_fmadd_ps(wv, xv[v], acc[f][v]);
            }
          }
        }
      // Lanes past ow computed on the next row's (or the slack's) floats;
      // they are not stored.
      for (int v = 0; v < VN; ++v) {
        int64_t n = g.ow - ox0 - 16 * v;
        if (n <= 0)
          break;
        __mmask16 lanes = n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1u);
        for (int f = 0; f < FB; ++f) {
          __m512 a = acc[f][v];
          a = applyClamp(a, act);
          _mm512_mask_storeu_ps(y + f * plane + oy * g.ow + ox0 + 16 * v, lanes, a);
        }
      }
    }
}

template <int VN, int SW, int... FB>
constexpr std::array<BlockKernel, sizeof...(FB)>
blockKernels(std::integer_sequence<int, FB...>) {
  return {&convBlock<VN, FB + 1, SW>...};
}
constexpr int kMaxBlock1 = 16, kMaxBlock2 = 12; // filters a block, by VN
constexpr int64_t kMaxInputChannels = 16;
// By horizontal stride (1, 2).
const std::array<BlockKernel, kMaxBlock1> kOneVector[2] = {
    blockKernels<1, 1>(std::make_integer_sequence<int, kMaxBlock1>{}),
    blockKernels<1, 2>(std::make_integer_sequence<int, kMaxBlock1>{})};
const std::array<BlockKernel, kMaxBlock2> kTwoVectors[2] = {
    blockKernels<2, 1>(std::make_integer_sequence<int, kMaxBlock2>{}),
    blockKernels<2, 2>(std::make_integer_sequence<int, kMaxBlock2>{})};

class DirectConv final : public PreparedCall {
public:
  struct Block {
    int64_t f0, size;
    BlockKernel kernel;
  };

  Status run(const float *x, float *y) const override {
    const ConvGeometry &g = g_;
    const int64_t blocks = int64_t(blocks_.size());
    const int64_t tasks = n_ * blocks;
    auto body = [&](int64_t t0, int64_t t1) {
      thread_local std::vector<float> pad;
      pad.assign(size_t(g.c * g.hp * g.wp + g.slack), 0.f);
      int64_t padded = -1; // the image now in `pad`
      for (int64_t t = t0; t < t1; ++t) {
        int64_t img = t / blocks;
        const Block &b = blocks_[size_t(t % blocks)];
        if (img != padded) { // copy its rows inside the zero border
          const float *src = x + img * g.c * g.h * g.w;
          for (int64_t c = 0; c < g.c; ++c)
            for (int64_t r = 0; r < g.h; ++r)
              std::memcpy(pad.data() + (c * g.hp + r + g.padT) * g.wp + g.padL,
                          src + (c * g.h + r) * g.w, size_t(g.w) * sizeof(float));
          padded = img;
        }
        b.kernel(pad.data(), g, weights_.data() + b.f0 * g.c * g.kh * g.kw,
                 bias_.defined() ? bias_.data<float>() + b.f0 : nullptr,
                 y + (img * g.f + b.f0) * g.oh * g.ow, act_);
      }
    };
    // Waking the pool costs ~5 us: worth it from a few images on.
    if (tasks == 1)
      body(0, 1);
    else
      ThreadPool::global().parallelFor(0, tasks, 1, body);
    return Status();
  }

  std::string implementation() const override {
    return strCat("kiln:direct_conv:avx512 (", blocks_.size(), " filter block",
                  blocks_.size() == 1 ? "" : "s",
                  strideW_ == 2 ? ", stride 2" : "", ")");
  }

  ConvGeometry g_;
  int64_t n_ = 0;
  ClampActivation act_ = ClampActivation::None;
  int64_t strideW_ = 1;
  std::vector<Block> blocks_;
  std::vector<float> weights_; // per block: [c][ky][kx][block filters]
  Tensor bias_;                // [f] f32 or undefined
};


} // namespace

Expected<std::unique_ptr<PreparedCall>>
prepareDirectConv2d(const Shape &xs, const Tensor &w, const Tensor &bias,
                    const Window2D &win, int64_t groups, const Shape &ys,
                    std::string_view activation) {
  using None = std::unique_ptr<PreparedCall>;
  if (!haveAvx512() || groups != 1 || xs.size() != 4 || ys.size() != 4 ||
      w.rank() != 4 || w.dtype() != DType::F32 ||
      (bias.defined() && (bias.dtype() != DType::F32 || bias.numel() != w.shape()[0])) ||
      !clampActivation(activation) ||
      (win.strides[1] != 1 && win.strides[1] != 2) ||
      xs[1] != w.shape()[1] || ys[0] != xs[0] || ys[1] != w.shape()[0])
    return None();
  // Only where oneDNN's blocks of 16 channels are mostly padding: wider
  // layers are its strength, and timing this kernel on them at load would
  // only add to the load time.
  if (xs[1] > kMaxInputChannels)
    return None();
  for (int64_t d : ys)
    if (d <= 0)
      return None();
  shapes::ShapeOr expect = shapes::conv2d(xs, w.shape(), win, groups);
  if (!expect || *expect != ys)
    return None(); // the eager kernel reports what is wrong
  auto call = std::make_unique<DirectConv>();
  ConvGeometry &g = call->g_;
  g.c = xs[1], g.h = xs[2], g.w = xs[3];
  g.f = w.shape()[0], g.kh = w.shape()[2], g.kw = w.shape()[3];
  g.sh = win.strides[0], g.dh = win.dilations[0], g.dw = win.dilations[1];
  g.padT = win.pads[0], g.padL = win.pads[1];
  g.hp = g.h + win.pads[0] + win.pads[2];
  g.wp = g.w + win.pads[1] + win.pads[3];
  g.oh = ys[2], g.ow = ys[3];
  // The window must stay inside the bordered copy (ceil-mode shapes that
  // hang over are left to oneDNN).
  const int64_t sw = win.strides[1];
  if ((g.oh - 1) * g.sh + (g.kh - 1) * g.dh >= g.hp ||
      (g.ow - 1) * sw + (g.kw - 1) * g.dw >= g.wp)
    return None();
  const int vn = g.ow > 16 ? 2 : 1;
  const int64_t maxBlock = vn == 1 ? kMaxBlock1 : kMaxBlock2;
  // A row's last vector reads up to 16 * vn * sw - 1 floats past its last
  // output's first tap.
  g.slack = 16 * vn * sw + (g.kw - 1) * g.dw;
  call->n_ = xs[0];
  call->act_ = *clampActivation(activation);
  call->strideW_ = sw;
  KILN_ASSIGN_OR_RETURN(Tensor wc, w.contiguous());
  if (bias.defined()) {
    KILN_ASSIGN_OR_RETURN(call->bias_, bias.contiguous());
  }
  // Blocks as even as possible: 20 filters are 10 + 10, not 16 + 4.
  const int64_t nBlocks = (g.f + maxBlock - 1) / maxBlock;
  const int64_t taps = g.c * g.kh * g.kw;
  call->weights_.resize(size_t(g.f * taps));
  const float *src = wc.data<float>();
  for (int64_t b = 0; b < nBlocks; ++b) {
    int64_t f0 = g.f * b / nBlocks, f1 = g.f * (b + 1) / nBlocks;
    int64_t size = f1 - f0;
    float *dst = call->weights_.data() + f0 * taps;
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t f = 0; f < size; ++f)
        dst[t * size + f] = src[(f0 + f) * taps + t];
    call->blocks_.push_back(
        {f0, size, vn == 1 ? kOneVector[sw - 1][size_t(size - 1)]
                           : kTwoVectors[sw - 1][size_t(size - 1)]});
  }
  return std::unique_ptr<PreparedCall>(std::move(call));
}

#else // !__x86_64__

Expected<std::unique_ptr<PreparedCall>>
prepareDirectConv2d(const Shape &, const Tensor &, const Tensor &,
                    const Window2D &, int64_t, const Shape &, std::string_view) {
  return std::unique_ptr<PreparedCall>();
}

#endif

} // namespace kiln::cpu
