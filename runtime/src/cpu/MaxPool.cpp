//===- MaxPool.cpp - Vectorized f32 max pooling without padding -----------===//
//
// See MaxPool.h. The AVX-512 kernel is compiled for that target alone and
// chosen at run time (as Gemv.cpp does for AVX2); other CPUs keep the eager
// kernel's portable loops.
//
//===----------------------------------------------------------------------===//
#include "MaxPool.h"
#include "Avx512.h"

#include "PreparedCall.h"

#include "kiln/ThreadPool.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln::cpu {

namespace {

#if defined(__x86_64__)
/// acc, or v where v beats it: v > acc or v is NaN, unless acc is NaN
/// already (the eager kernel's rule, so the first NaN sticks).
__attribute__((target("avx512f"))) inline __m512 combine(__m512 acc, __m512 v) {
  __mmask16 ordered = _mm512_cmp_ps_mask(acc, acc, _CMP_ORD_Q);
  __mmask16 take = _mm512_mask_cmp_ps_mask(ordered, v, acc, _CMP_NLE_UQ);
  return _mm512_mask_mov_ps(acc, take, v);
}

/// The low `count` lanes set (count <= 16).
inline __mmask16 lowLanes(int64_t count) {
  return count <= 0 ? __mmask16(0) : __mmask16((1u << count) - 1u);
}

/// p[i * SW] for the first n <= 16 lanes (the rest are 0). Masked loads
/// never touch memory outside their lanes, so a short last row is safe.
template <int SW>
__attribute__((target("avx512f"))) inline __m512 loadTaps(const float *p,
                                                          int64_t n) {
  if constexpr (SW == 1) {
    return _mm512_maskz_loadu_ps(lowLanes(n), p);
  } else {
    // Lanes 0, 2, ..., 2n - 2 of the 2n - 1 floats from p.
    __m512 lo = _mm512_maskz_loadu_ps(lowLanes(std::min<int64_t>(2 * n - 1, 16)), p);
    __m512 hi = _mm512_maskz_loadu_ps(lowLanes(2 * n - 1 - 16), p + 16);
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
                                            20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(lo, evens, hi);
  }
}

/// One output row at a time, up to 16 outputs per vector: LeNet's rows
/// (14 and 5 outputs) take one vector each.
template <int SW>
__attribute__((target("avx512f"))) void
maxPoolAvx512(const float *x, float *y, const PoolPlanes g, int64_t kH,
              int64_t kW, int64_t sH, int64_t p0, int64_t p1) {
  for (int64_t p = p0; p < p1; ++p) {
    const float *src = x + p * g.h * g.w;
    float *dst = y + p * g.oh * g.ow;
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox0 = 0; ox0 < g.ow; ox0 += 16) {
        const int64_t n = std::min<int64_t>(16, g.ow - ox0);
        __m512 acc = _mm512_setzero_ps();
        for (int64_t ky = 0; ky < kH; ++ky) {
          const float *row = src + (oy * sH + ky) * g.w + ox0 * SW;
          __m512 rowMax = loadTaps<SW>(row, n);
          for (int64_t kx = 1; kx < kW; ++kx)
            rowMax = combine(rowMax, loadTaps<SW>(row + kx, n));
          acc = ky == 0 ? rowMax : combine(acc, rowMax);
        }
        _mm512_mask_storeu_ps(dst + oy * g.ow + ox0, lowLanes(n), acc);
      }
  }
}

/// maxPoolAvx512 with winners: taps one at a time in row-major window
/// order (the first maximum wins), each lane's plane offset carried as
/// int32 beside its value and widened when stored.
KILN_AVX512_NARROWING_BEGIN
template <int SW>
__attribute__((target("avx512f"))) void
maxPoolWinnersAvx512(const float *x, float *y, int64_t *winners,
                     const PoolPlanes g, int64_t kH, int64_t kW, int64_t sH,
                     int64_t p0, int64_t p1) {
  const __m512i laneOffsets = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(SW));
  for (int64_t p = p0; p < p1; ++p) {
    const float *src = x + p * g.h * g.w;
    float *dst = y + p * g.oh * g.ow;
    int64_t *won = winners + p * g.oh * g.ow;
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox0 = 0; ox0 < g.ow; ox0 += 16) {
        const int64_t n = std::min<int64_t>(16, g.ow - ox0);
        __m512 acc = _mm512_setzero_ps();
        __m512i at = _mm512_setzero_si512();
        for (int64_t ky = 0; ky < kH; ++ky)
          for (int64_t kx = 0; kx < kW; ++kx) {
            const int64_t base = (oy * sH + ky) * g.w + ox0 * SW + kx;
            __m512 v = loadTaps<SW>(src + base, n);
            __m512i offsets = _mm512_add_epi32(_mm512_set1_epi32(int32_t(base)),
                                               laneOffsets);
            __mmask16 take = __mmask16(0xffff);
            if (ky > 0 || kx > 0) {
              __mmask16 ordered = _mm512_cmp_ps_mask(acc, acc, _CMP_ORD_Q);
              take = _mm512_mask_cmp_ps_mask(ordered, v, acc, _CMP_NLE_UQ);
            }
            acc = _mm512_mask_mov_ps(acc, take, v);
            at = _mm512_mask_mov_epi32(at, take, offsets);
          }
        const __mmask16 lanes = lowLanes(n);
        _mm512_mask_storeu_ps(dst + oy * g.ow + ox0, lanes, acc);
        int64_t *w = won + oy * g.ow + ox0;
        _mm512_mask_storeu_epi64(w, __mmask8(lanes & 0xff),
                                 _mm512_cvtepi32_epi64(_mm512_castsi512_si256(at)));
        _mm512_mask_storeu_epi64(w + 8, __mmask8(lanes >> 8),
                                 _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(at, 1)));
      }
  }
}
KILN_AVX512_NARROWING_END
#endif

} // namespace

bool canMaxPoolFast(const PoolPlanes &g, const shapes::Window2D &win) {
#if defined(__x86_64__)
  if (!haveAvx512() || g.oh < 1 || g.ow < 1)
    return false;
  for (int64_t pad : win.pads)
    if (pad != 0)
      return false;
  if (win.dilations[0] != 1 || win.dilations[1] != 1 ||
      (win.strides[1] != 1 && win.strides[1] != 2))
    return false;
  // Ceil mode may add a last window that hangs over the edge.
  return (g.oh - 1) * win.strides[0] + win.kernel[0] <= g.h &&
         (g.ow - 1) * win.strides[1] + win.kernel[1] <= g.w;
#else
  (void)g;
  (void)win;
  return false;
#endif
}

void maxPoolPlanesF32(const float *x, float *y, const PoolPlanes &g,
                      const shapes::Window2D &win, int64_t p0, int64_t p1) {
#if defined(__x86_64__)
  if (win.strides[1] == 1)
    maxPoolAvx512<1>(x, y, g, win.kernel[0], win.kernel[1], win.strides[0], p0, p1);
  else
    maxPoolAvx512<2>(x, y, g, win.kernel[0], win.kernel[1], win.strides[0], p0, p1);
#else
  (void)x, (void)y, (void)g, (void)win, (void)p0, (void)p1;
#endif
}

namespace {
/// run(p0, p1) over all planes, split over Kiln's pool in chunks of >= 16K
/// input floats: below that, waking a thread (~5 us) costs more than the
/// chunk (a few us at L2 speed).
template <typename Run> void forEachPlaneChunk(const PoolPlanes &g, Run &&run) {
  const int64_t plane = std::max<int64_t>(g.h * g.w, 1);
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 14) / plane);
  if (g.planes <= grain)
    run(int64_t(0), g.planes);
  else
    ThreadPool::global().parallelFor(0, g.planes, grain, run);
}
} // namespace

void maxPoolF32(const float *x, float *y, const PoolPlanes &g,
                const shapes::Window2D &win) {
  forEachPlaneChunk(g, [&](int64_t b, int64_t e) {
    maxPoolPlanesF32(x, y, g, win, b, e);
  });
}

void maxPoolWinnersF32(const float *x, float *y, int64_t *winners,
                       const PoolPlanes &g, const shapes::Window2D &win) {
#if defined(__x86_64__)
  forEachPlaneChunk(g, [&](int64_t b, int64_t e) {
    if (win.strides[1] == 1)
      maxPoolWinnersAvx512<1>(x, y, winners, g, win.kernel[0], win.kernel[1],
                              win.strides[0], b, e);
    else
      maxPoolWinnersAvx512<2>(x, y, winners, g, win.kernel[0], win.kernel[1],
                              win.strides[0], b, e);
  });
#else
  (void)x, (void)y, (void)winners, (void)g, (void)win;
#endif
}

namespace {

/// A max_pool2d of a compiled module: the kernel above, straight into the
/// arena (the op table would allocate the result and copy it there).
class PreparedMaxPool final : public PreparedCall {
public:
  PreparedMaxPool(PoolPlanes g, shapes::Window2D win) : g_(g), win_(std::move(win)) {}
  Status run(const float *x, float *y) const override {
    maxPoolF32(x, y, g_, win_);
    return Status();
  }
  std::string implementation() const override { return "kiln:max_pool:avx512"; }

private:
  PoolPlanes g_;
  shapes::Window2D win_;
};

/// A padded max pooling (ResNet's 3x3 stride 2 pad 1, which the op table's
/// scalar loops ran in ~0.9 ms at batch 1): each plane is copied inside a
/// border of -inf and pooled without padding. Same values as the eager
/// rule, which skips padded taps: -inf never replaces a number or a NaN
/// (combine takes a tap only when it is not <= the maximum so far), and a
/// window holding -inf only gives -inf either way.
class PreparedPaddedMaxPool final : public PreparedCall {
public:
  PreparedPaddedMaxPool(PoolPlanes g, int64_t padT, int64_t padL,
                        PoolPlanes bordered, shapes::Window2D win)
      : g_(g), padT_(padT), padL_(padL), bordered_(bordered), win_(std::move(win)) {}

  Status run(const float *x, float *y) const override {
    const PoolPlanes &b = bordered_;
    auto body = [&](int64_t p0, int64_t p1) {
      // The border is written once a chunk; each plane then rewrites only
      // the interior.
      thread_local std::vector<float> buf;
      buf.assign(size_t(b.h * b.w), -std::numeric_limits<float>::infinity());
      for (int64_t p = p0; p < p1; ++p) {
        for (int64_t r = 0; r < g_.h; ++r)
          std::memcpy(buf.data() + (r + padT_) * b.w + padL_,
                      x + (p * g_.h + r) * g_.w, size_t(g_.w) * sizeof(float));
        maxPoolPlanesF32(buf.data(), y + p * g_.oh * g_.ow, b, win_, 0, 1);
      }
    };
    // As maxPoolF32: chunks of >= 16K input floats.
    const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 14) / (b.h * b.w));
    if (g_.planes <= grain)
      body(0, g_.planes);
    else
      ThreadPool::global().parallelFor(0, g_.planes, grain, body);
    return Status();
  }
  std::string implementation() const override {
    return "kiln:max_pool:avx512 (-inf border)";
  }

private:
  PoolPlanes g_;
  int64_t padT_, padL_;
  PoolPlanes bordered_; // one plane: its copy inside the border
  shapes::Window2D win_; // without padding
};

#if defined(__x86_64__)
/// Max pooling of NHWC activations (kiln-conv-layout's): channels are the
/// contiguous dim, so each output pixel is a few 16-channel vectors, each
/// combined over the window's taps in row-major order (the eager order, so
/// the same element wins) and padded taps skipped, as the eager rule does.
class PreparedNhwcMaxPool final : public PreparedCall {
public:
  PreparedNhwcMaxPool(Shape xs, Shape ys, shapes::Window2D win)
      : xs_(std::move(xs)), ys_(std::move(ys)), win_(std::move(win)) {}

  Status run(const float *x, float *y) const override {
    const int64_t h = xs_[1], w = xs_[2], c = xs_[3], oh = ys_[1], ow = ys_[2];
    const int64_t rows = ys_[0] * oh; // (image, output row) pairs
    // Chunks of >= 16K output floats.
    const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 14) / (ow * c));
    auto body = [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        poolRow(x + (r / oh) * h * w * c, y + r * ow * c, r % oh);
    };
    if (rows <= grain)
      body(0, rows);
    else
      ThreadPool::global().parallelFor(0, rows, grain, body);
    return Status();
  }

  std::string implementation() const override {
    return "kiln:max_pool:avx512 (NHWC)";
  }

private:
  __attribute__((target("avx512f"))) void poolRow(const float *image, float *out,
                                                  int64_t row) const {
    const int64_t h = xs_[1], w = xs_[2], c = xs_[3], ow = ys_[2];
    const int64_t kh = win_.kernel[0], kw = win_.kernel[1];
    const int64_t top = row * win_.strides[0] - win_.pads[0];
    for (int64_t j = 0; j < ow; ++j, out += c) {
      const int64_t left = j * win_.strides[1] - win_.pads[1];
      for (int64_t c0 = 0; c0 < c; c0 += 16) {
        __mmask16 lanes = lowLanes(std::min<int64_t>(c - c0, 16));
        __m512 acc = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
        for (int64_t a = 0; a < kh; ++a) {
          int64_t ih = top + a * win_.dilations[0];
          if (ih < 0 || ih >= h)
            continue;
          for (int64_t b = 0; b < kw; ++b) {
            int64_t iw = left + b * win_.dilations[1];
            if (iw < 0 || iw >= w)
              continue;
            acc = combine(acc, _mm512_maskz_loadu_ps(
                                   lanes, image + (ih * w + iw) * c + c0));
          }
        }
        _mm512_mask_storeu_ps(out + c0, lanes, acc);
      }
    }
  }

  Shape xs_, ys_;
  shapes::Window2D win_;
};
#endif

} // namespace

Expected<std::unique_ptr<PreparedCall>>
prepareMaxPool2d(const Shape &xs, const shapes::Window2D &win, const Shape &ys,
                 shapes::Layout2D layout) {
  if (layout == shapes::Layout2D::NHWC) {
    shapes::ShapeOr expect = shapes::pool2d(xs, win, layout);
    if (!expect || *expect != ys || !haveAvx512())
      return std::unique_ptr<PreparedCall>();
    for (int64_t d : ys)
      if (d == 0)
        return std::unique_ptr<PreparedCall>();
#if defined(__x86_64__)
    return std::unique_ptr<PreparedCall>(
        std::make_unique<PreparedNhwcMaxPool>(xs, ys, win));
#else
    return std::unique_ptr<PreparedCall>();
#endif
  }
  if (xs.size() != 4 || ys.size() != 4 || xs[0] != ys[0] || xs[1] != ys[1] ||
      shapes::checkWindow(win))
    return std::unique_ptr<PreparedCall>();
  // The output shape must be the one the window gives (a file that says
  // otherwise is left to the eager kernel's checks).
  shapes::ShapeOr expect = shapes::pool2d(xs, win);
  if (!expect || *expect != ys)
    return std::unique_ptr<PreparedCall>();
  PoolPlanes g{xs[0] * xs[1], xs[2], xs[3], ys[2], ys[3]};
  if (g.planes == 0)
    return std::unique_ptr<PreparedCall>();
  if (std::any_of(win.pads.begin(), win.pads.end(), [](int64_t p) { return p != 0; })) {
    // Bordered so that every window, ceil mode's last ones included, lies
    // inside the copy.
    shapes::Window2D inner = win;
    inner.pads = {0, 0, 0, 0};
    inner.ceilMode = false;
    PoolPlanes b{1,
                 std::max(g.h + win.pads[0] + win.pads[2],
                          (g.oh - 1) * win.strides[0] + win.kernel[0]),
                 std::max(g.w + win.pads[1] + win.pads[3],
                          (g.ow - 1) * win.strides[1] + win.kernel[1]),
                 g.oh, g.ow};
    if (!canMaxPoolFast(b, inner))
      return std::unique_ptr<PreparedCall>();
    return std::unique_ptr<PreparedCall>(std::make_unique<PreparedPaddedMaxPool>(
        g, win.pads[0], win.pads[1], b, inner));
  }
  if (!canMaxPoolFast(g, win))
    return std::unique_ptr<PreparedCall>();
  return std::unique_ptr<PreparedCall>(std::make_unique<PreparedMaxPool>(g, win));
}

} // namespace kiln::cpu
