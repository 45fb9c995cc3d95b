//===- PointwiseConv.cpp - 1x1 f32 convolution as a GEMM in NCHW ----------===//
//
// See PointwiseConv.h. One panel kernel for blocks of up to 6 filters (a
// smaller block multiplies zero weights into rows it does not store).
// Compiled for AVX-512F alone, chosen at run time.
//
//===----------------------------------------------------------------------===//
#include "PointwiseConv.h"
#include "Avx512.h"
#include "ClampActivation.h"

#include "kiln/ThreadPool.h"

#include <algorithm>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln::cpu {

#if defined(__x86_64__)

namespace {

constexpr int kVectors = 4;               // 64 pixels a panel
constexpr int64_t kPanel = 16 * kVectors;
constexpr int kMaxBlock = 6;              // 6 x 4 = 24 accumulators

__attribute__((target("avx512f"))) inline void
storeVector(float *p, __mmask16 lanes, __m512 a, ClampActivation act) {
  _mm512_mask_storeu_ps(p, lanes, applyClamp(a, act));
}

/// y[f0 + f][p0 .. p0 + 64) for the block's `rows` filters (<= 6), from
/// x[.][p0 ..): `lanes` masks the panel's vectors past the image's last
/// pixel (masked loads do not fault, so the last panel reads nothing past
/// the image). The block's weights are packed 6 a row, zeros past `rows`.
/// The 24 accumulators are named variables, not an array: GCC 12 kept an
/// array of them in registers but also stored all 24 to the stack on
/// every step of the loop (a 2x slowdown, measured).
__attribute__((target("avx512f"))) void
pwPanel(const float *x, int64_t hw, int64_t c, const float *wb,
        const float *bias, int64_t rows, float *y, const __mmask16 *lanes,
        ClampActivation act, bool prefetch) {
#define KILN_PW_INIT(f)                                                        \
  __m512 a##f##0 = bias && f < rows ? _mm512_set1_ps(bias[f]) : zero;          \
  __m512 a##f##1 = a##f##0, a##f##2 = a##f##0, a##f##3 = a##f##0;
#define KILN_PW_STEP(f)                                                        \
  {                                                                            \
    __m512 w = _mm512_set1_ps(wb[f]);                                          \
    a##f##0 = _mm512_fmadd_ps(w, x0, a##f##0);                                 \
    a##f##1 = _mm512_fmadd_ps(w, x1, a##f##1);                                 \
    a##f##2 = _mm512_fmadd_ps(w, x2, a##f##2);                                 \
    a##f##3 = _mm512_fmadd_ps(w, x3, a##f##3);                                 \
  }
#define KILN_PW_STORE(f)                                                       \
  if (f < rows) {                                                              \
    storeVector(y + f * hw, m0, a##f##0, act);                                \
    storeVector(y + f * hw + 16, m1, a##f##1, act);                           \
    storeVector(y + f * hw + 32, m2, a##f##2, act);                           \
    storeVector(y + f * hw + 48, m3, a##f##3, act);                           \
  }
  const __m512 zero = _mm512_setzero_ps();
  KILN_PW_INIT(0) KILN_PW_INIT(1) KILN_PW_INIT(2)
  KILN_PW_INIT(3) KILN_PW_INIT(4) KILN_PW_INIT(5)
  const __mmask16 m0 = lanes[0], m1 = lanes[1], m2 = lanes[2], m3 = lanes[3];
  for (int64_t k = 0; k < c; ++k, x += hw, wb += kMaxBlock) {
    __m512 x0 = _mm512_maskz_loadu_ps(m0, x), x1 = _mm512_maskz_loadu_ps(m1, x + 16),
           x2 = _mm512_maskz_loadu_ps(m2, x + 32), x3 = _mm512_maskz_loadu_ps(m3, x + 48);
    KILN_PW_STEP(0) KILN_PW_STEP(1) KILN_PW_STEP(2)
    if (prefetch) { // the next panel's row: C strided rows defeat the
                    // hardware prefetcher on the first pass over a panel
      _mm_prefetch(reinterpret_cast<const char *>(x + kPanel), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char *>(x + kPanel + 16), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char *>(x + kPanel + 32), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char *>(x + kPanel + 48), _MM_HINT_T0);
    }
    KILN_PW_STEP(3) KILN_PW_STEP(4) KILN_PW_STEP(5)
  }
  KILN_PW_STORE(0) KILN_PW_STORE(1) KILN_PW_STORE(2)
  KILN_PW_STORE(3) KILN_PW_STORE(4) KILN_PW_STORE(5)
#undef KILN_PW_INIT
#undef KILN_PW_STEP
#undef KILN_PW_STORE
}

class PointwiseConv final : public PreparedCall {
public:
  struct Block {
    int64_t f0, size;
  };

  Status run(const float *x, float *y) const override {
    const int64_t panels = (hw_ + kPanel - 1) / kPanel;
    const int64_t nBlocks = int64_t(blocks_.size());
    const int64_t threads = ThreadPool::global().numThreads();
    // Few panels (7x7 and 14x14 layers are one to four of them at batch
    // 1) would leave threads idle: then each panel's filter blocks are
    // split into groups, tasks of their own.
    const int64_t groups =
        std::clamp<int64_t>((4 * threads + n_ * panels - 1) / (n_ * panels), 1, nBlocks);
    const int64_t tasks = n_ * panels * groups;
    auto body = [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        int64_t g = t % groups, panel = t / groups;
        int64_t img = panel / panels, p0 = (panel % panels) * kPanel;
        __mmask16 lanes[kVectors];
        for (int v = 0; v < kVectors; ++v) {
          int64_t left = hw_ - p0 - 16 * v;
          lanes[v] = left >= 16 ? __mmask16(0xffff)
                     : left <= 0 ? __mmask16(0)
                                 : __mmask16((1u << left) - 1u);
        }
        const float *xi = x + img * c_ * hw_ + p0;
        float *yi = y + img * f_ * hw_ + p0;
        const int64_t b0 = nBlocks * g / groups, b1 = nBlocks * (g + 1) / groups;
        for (int64_t b = b0; b < b1; ++b) {
          const Block &blk = blocks_[size_t(b)];
          pwPanel(xi, hw_, c_, weights_.data() + b * kMaxBlock * c_,
                  bias_.defined() ? bias_.data<float>() + blk.f0 : nullptr,
                  blk.size, yi + blk.f0 * hw_, lanes, act_,
                  b == b0 && p0 + kPanel < hw_);
        }
      }
    };
    // Below ~2^18 multiply-adds waking the pool costs more than it saves.
    if (threads <= 1 || tasks == 1 || n_ * hw_ * c_ * f_ < (int64_t(1) << 18))
      body(0, tasks);
    else
      ThreadPool::global().parallelFor(
          0, tasks, std::max<int64_t>(1, tasks / (4 * threads)), body);
    return Status();
  }

  std::string implementation() const override {
    return "kiln:pointwise_conv:avx512 (1x1 as GEMM, NCHW)";
  }

  int64_t n_ = 0, c_ = 0, f_ = 0, hw_ = 0;
  ClampActivation act_ = ClampActivation::None;
  std::vector<Block> blocks_;
  std::vector<float> weights_; // per block: [c][6], zeros past its filters
  Tensor bias_;                // [f] f32 or undefined
};


} // namespace

Expected<std::unique_ptr<PreparedCall>>
preparePointwiseConv2d(const Shape &xs, const Tensor &w, const Tensor &bias,
                       const Window2D &win, int64_t groups, const Shape &ys,
                       std::string_view activation) {
  using None = std::unique_ptr<PreparedCall>;
  if (!haveAvx512() || groups != 1 || xs.size() != 4 || ys.size() != 4 ||
      w.rank() != 4 || w.dtype() != DType::F32 || w.shape()[1] != xs[1] ||
      w.shape()[2] != 1 || w.shape()[3] != 1 || win.strides[0] != 1 ||
      win.strides[1] != 1 ||
      std::any_of(win.pads.begin(), win.pads.end(), [](int64_t p) { return p != 0; }) ||
      ys[0] != xs[0] || ys[1] != w.shape()[0] || ys[2] != xs[2] || ys[3] != xs[3] ||
      (bias.defined() && (bias.dtype() != DType::F32 || bias.numel() != w.shape()[0])) ||
      !clampActivation(activation))
    return None();
  for (int64_t d : ys)
    if (d <= 0)
      return None();
  auto call = std::make_unique<PointwiseConv>();
  call->n_ = xs[0], call->c_ = xs[1], call->f_ = w.shape()[0];
  call->hw_ = xs[2] * xs[3];
  call->act_ = *clampActivation(activation);
  KILN_ASSIGN_OR_RETURN(Tensor wc, w.contiguous());
  if (bias.defined()) {
    KILN_ASSIGN_OR_RETURN(call->bias_, bias.contiguous());
  }
  // Blocks as even as possible: 20 filters are 5 + 5 + 5 + 5, not 6+6+6+2.
  const int64_t f = call->f_, c = call->c_;
  const int64_t nBlocks = (f + kMaxBlock - 1) / kMaxBlock;
  call->weights_.assign(size_t(nBlocks * kMaxBlock * c), 0.f);
  const float *src = wc.data<float>();
  for (int64_t b = 0; b < nBlocks; ++b) {
    int64_t f0 = f * b / nBlocks, f1 = f * (b + 1) / nBlocks, size = f1 - f0;
    float *dst = call->weights_.data() + b * kMaxBlock * c;
    for (int64_t k = 0; k < c; ++k)
      for (int64_t j = 0; j < size; ++j)
        dst[k * kMaxBlock + j] = src[(f0 + j) * c + k];
    call->blocks_.push_back({f0, size});
  }
  return std::unique_ptr<PreparedCall>(std::move(call));
}

#else // !__x86_64__

Expected<std::unique_ptr<PreparedCall>>
preparePointwiseConv2d(const Shape &, const Tensor &, const Tensor &,
                       const Window2D &, int64_t, const Shape &, std::string_view) {
  return std::unique_ptr<PreparedCall>();
}

#endif

} // namespace kiln::cpu
