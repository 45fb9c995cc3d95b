//===- DepthwiseConv.cpp - Direct NCHW f32 depthwise convolution ----------===//
//
// See DepthwiseConv.h. The plane kernel is instantiated per (kernel size,
// stride, vectors a row) so that the filter taps and the accumulators are
// named registers: a 3x3 filter is 9 broadcast registers plus 2 rows x up
// to 4 vectors of accumulators. Compiled for AVX-512F alone, chosen at run
// time.
//
//===----------------------------------------------------------------------===//
#include "DepthwiseConv.h"
#include "Avx512.h"
#include "ClampActivation.h"

#include "kiln/ThreadPool.h"

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln::cpu {

#if defined(__x86_64__)

namespace {

/// Output rows computed together: two rows give twice the independent
/// accumulators of one (a 3x3 tap chain is 9 dependent FMAs otherwise).
constexpr int64_t kRows = 2;

struct DwGeometry {
  int64_t h, w;       // one input plane
  int64_t padT, padL; // where the plane sits in its bordered copy
  int64_t hp, wp;     // the bordered copy: hp rows of wp floats
  int64_t oh, ow;
};

using PlaneKernel = void (*)(const float *xpad, const DwGeometry &g,
                             const float *taps, float bias, float *y,
                             ClampActivation act);

/// One output plane from its bordered input copy. Lanes and rows past the
/// output are computed on the copy's zeros and not stored.
template <int K, int S, int VN>
__attribute__((target("avx512f"))) void
dwPlane(const float *xpad, const DwGeometry &g, const float *taps, float bias,
        float *y, ClampActivation act) {
  __m512 tap[K * K];
  for (int i = 0; i < K * K; ++i)
    tap[i] = _mm512_set1_ps(taps[i]);
  const __m512 b = _mm512_set1_ps(bias);
  for (int64_t oy = 0; oy < g.oh; oy += kRows)
    for (int64_t ox0 = 0; ox0 < g.ow; ox0 += 16 * VN) {
      __m512 acc[kRows][VN];
      for (int r = 0; r < kRows; ++r)
        for (int v = 0; v < VN; ++v)
          acc[r][v] = b;
      for (int r = 0; r < kRows; ++r)
        for (int ky = 0; ky < K; ++ky) {
          const float *row = xpad + ((oy + r) * S + ky) * g.wp + ox0 * S;
          for (int kx = 0; kx < K; ++kx)
            for (int v = 0; v < VN; ++v)
              acc[r][v] = _mm512_fmadd_ps(
                  tap[ky * K + kx], loadStrided<S>(row + kx + 16 * v * S),
                  acc[r][v]);
        }
      for (int r = 0; r < kRows && oy + r < g.oh; ++r)
        for (int v = 0; v < VN; ++v) {
          int64_t n = g.ow - ox0 - 16 * v;
          if (n <= 0)
            break;
          __mmask16 lanes = n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1u);
          _mm512_mask_storeu_ps(y + (oy + r) * g.ow + ox0 + 16 * v, lanes,
                                applyClamp(acc[r][v], act));
        }
    }
}

/// The kernel for (k, stride, vectors a row); nullptr for an uncovered k.
PlaneKernel planeKernel(int64_t k, int64_t s, int vn) {
#define KILN_DW(K, S)                                                          \
  if (k == K && s == S)                                                        \
    return vn == 1 ? &dwPlane<K, S, 1> : vn == 2 ? &dwPlane<K, S, 2> : &dwPlane<K, S, 4>;
  KILN_DW(3, 1)
  KILN_DW(3, 2)
  KILN_DW(5, 1)
  KILN_DW(5, 2)
#undef KILN_DW
  return nullptr;
}

class DepthwiseConv final : public PreparedCall {
public:
  Status run(const float *x, float *y) const override {
    const DwGeometry &g = g_;
    const int64_t kk = k_ * k_;
    auto body = [&](int64_t p0, int64_t p1) {
      // Zeroed once a chunk: each plane then rewrites only the interior,
      // so the border stays zero.
      thread_local std::vector<float> pad;
      pad.assign(size_t(g.hp * g.wp), 0.f);
      for (int64_t p = p0; p < p1; ++p) {
        const float *src = x + p * g.h * g.w;
        for (int64_t r = 0; r < g.h; ++r)
          std::memcpy(pad.data() + (r + g.padT) * g.wp + g.padL, src + r * g.w,
                      size_t(g.w) * sizeof(float));
        int64_t c = p % channels_;
        kernel_(pad.data(), g, taps_.data<float>() + c * kk,
                bias_.defined() ? bias_.data<float>()[c] : 0.f,
                y + p * g.oh * g.ow, act_);
      }
    };
    // Below ~2^17 multiply-adds waking the pool costs more than it saves.
    const int64_t threads = ThreadPool::global().numThreads();
    if (threads <= 1 || planes_ * g.oh * g.ow * kk < (int64_t(1) << 17))
      body(0, planes_);
    else
      ThreadPool::global().parallelFor(
          0, planes_, std::max<int64_t>(1, planes_ / (4 * threads)), body);
    return Status();
  }

  std::string implementation() const override {
    return strCat("kiln:depthwise_conv:avx512 (", k_, "x", k_, " stride ", s_, ")");
  }

  DwGeometry g_;
  int64_t k_ = 0, s_ = 0, planes_ = 0, channels_ = 0;
  ClampActivation act_ = ClampActivation::None;
  PlaneKernel kernel_ = nullptr;
  Tensor taps_; // [C, 1, k, k] f32, contiguous
  Tensor bias_; // [C] f32 or undefined
};


int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

} // namespace

Expected<std::unique_ptr<PreparedCall>>
prepareDepthwiseConv2d(const Shape &xs, const Tensor &w, const Tensor &bias,
                       const Window2D &win, int64_t groups, const Shape &ys,
                       std::string_view activation) {
  using None = std::unique_ptr<PreparedCall>;
  if (!haveAvx512() || xs.size() != 4 || ys.size() != 4 || w.rank() != 4 ||
      w.dtype() != DType::F32 || groups != xs[1] || w.shape()[0] != groups ||
      w.shape()[1] != 1 || ys[0] != xs[0] || ys[1] != groups ||
      (bias.defined() && (bias.dtype() != DType::F32 || bias.numel() != groups)) ||
      !clampActivation(activation))
    return None();
  const int64_t k = w.shape()[2], s = win.strides[0];
  if (w.shape()[3] != k || win.strides[1] != s || win.dilations[0] != 1 ||
      win.dilations[1] != 1)
    return None();
  for (int64_t d : ys)
    if (d <= 0)
      return None();
  shapes::ShapeOr expect = shapes::conv2d(xs, w.shape(), win, groups);
  if (!expect || *expect != ys)
    return None(); // the eager kernel reports what is wrong
  auto call = std::make_unique<DepthwiseConv>();
  DwGeometry &g = call->g_;
  g.h = xs[2], g.w = xs[3], g.oh = ys[2], g.ow = ys[3];
  g.padT = win.pads[0], g.padL = win.pads[1];
  // The window must not reach past the bottom/right padding (ceil-mode
  // shapes that hang over are left to oneDNN).
  if ((g.oh - 1) * s + k > g.h + win.pads[0] + win.pads[2] ||
      (g.ow - 1) * s + k > g.w + win.pads[1] + win.pads[3])
    return None();
  const int64_t vectors = (g.ow + 15) / 16;
  const int vn = vectors >= 4 ? 4 : vectors >= 2 ? 2 : 1;
  call->kernel_ = planeKernel(k, s, vn);
  if (!call->kernel_)
    return None();
  // Rows and columns that the kernel reads, all inside the copy: rows up
  // to the last row pair's window, columns up to the last chunk's vectors
  // (at stride 2 each vector loads 32 floats).
  const int64_t rowsRead = (roundUp(g.oh, kRows) - 1) * s + k;
  const int64_t colsRead = (roundUp(g.ow, 16 * vn) - 1) * s + k + (s == 2 ? 1 : 0);
  g.hp = std::max(rowsRead, g.padT + g.h);
  g.wp = roundUp(std::max(colsRead, g.padL + g.w), 16);
  call->k_ = k, call->s_ = s;
  call->planes_ = xs[0] * xs[1], call->channels_ = xs[1];
  call->act_ = *clampActivation(activation);
  KILN_ASSIGN_OR_RETURN(call->taps_, w.contiguous());
  if (bias.defined()) {
    KILN_ASSIGN_OR_RETURN(call->bias_, bias.contiguous());
  }
  return std::unique_ptr<PreparedCall>(std::move(call));
}

#else // !__x86_64__

Expected<std::unique_ptr<PreparedCall>>
prepareDepthwiseConv2d(const Shape &, const Tensor &, const Tensor &,
                       const Window2D &, int64_t, const Shape &, std::string_view) {
  return std::unique_ptr<PreparedCall>();
}

#endif

} // namespace kiln::cpu
