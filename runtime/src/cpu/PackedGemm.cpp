//===- PackedGemm.cpp - f32 GEMM against weights packed at load -----------===//
//
// See PackedGemm.h. One block kernel for up to 6 rows x 64 columns,
// instantiated per row count. Compiled for AVX-512F alone, chosen at run
// time.
//
//===----------------------------------------------------------------------===//
#include "PackedGemm.h"
#include "Avx512.h"
#include "ClampActivation.h"
#include "VecMath.h"

#include "kiln/ThreadPool.h"

#include <algorithm>
#include <optional>
#include <vector>

#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln::cpu {

#if defined(__x86_64__)

namespace {

constexpr int kVectors = 4;               // 64 columns a panel
constexpr int64_t kPanel = 16 * kVectors;
constexpr int kMaxRows = 6;               // 6 x 4 = 24 accumulators
constexpr int64_t kSlice = 128;           // k per pass: 32 KB of a panel

/// c[r][0 .. 64) for the block's `Rows` (1 to 6) rows of a, over `kc` steps
/// of k: a's rows are `lda` apart, the panel slice `bp` is [kc][64] with
/// rows `ldb` apart (64 when packed; B's own row stride when it is read
/// where it lies, the masks keeping the loads inside its rows).
/// `first`: start from the bias (or zero), else from c; `last`: apply the
/// activation. `lanes` masks the columns past n in the last panel (masked
/// loads do not fault). The accumulators are named variables, not an
/// array, for the reason PointwiseConv.cpp gives (GCC 12 spilled an array).
template <int Rows, bool Full>
__attribute__((target("avx512f"))) void
gemmBlockRows(const float *a, int64_t lda, const float *bp, int64_t ldb,
              int64_t kc, float *c, int64_t ldc, const __mmask16 *lanes,
              const float *bias, bool first, bool last, ClampActivation act) {
  const __mmask16 m0 = lanes[0], m1 = lanes[1], m2 = lanes[2], m3 = lanes[3];
  const __m512 zero = _mm512_setzero_ps();
  __m512 b0 = zero, b1 = zero, b2 = zero, b3 = zero;
  if (first && bias) {
    b0 = _mm512_maskz_loadu_ps(m0, bias);
    b1 = _mm512_maskz_loadu_ps(m1, bias + 16);
    b2 = _mm512_maskz_loadu_ps(m2, bias + 32);
    b3 = _mm512_maskz_loadu_ps(m3, bias + 48);
  }
#define KILN_PG_INIT(r)                                                        \
  const float *a##r = a + std::min(r, Rows - 1) * lda;                         \
  __m512 c##r##0 = b0, c##r##1 = b1, c##r##2 = b2, c##r##3 = b3;               \
  if (!first && r < Rows) {                                                    \
    c##r##0 = _mm512_maskz_loadu_ps(m0, c + r * ldc);                          \
    c##r##1 = _mm512_maskz_loadu_ps(m1, c + r * ldc + 16);                     \
    c##r##2 = _mm512_maskz_loadu_ps(m2, c + r * ldc + 32);                     \
    c##r##3 = _mm512_maskz_loadu_ps(m3, c + r * ldc + 48);                     \
  }
#define KILN_PG_STEP(r)                                                        \
  if constexpr (r < Rows) {                                                    \
    __m512 w = _mm512_set1_ps(a##r[k]);                                        \
    c##r##0 = _mm512_fmadd_ps(w, v0, c##r##0);                                 \
    c##r##1 = _mm512_fmadd_ps(w, v1, c##r##1);                                 \
    c##r##2 = _mm512_fmadd_ps(w, v2, c##r##2);                                 \
    c##r##3 = _mm512_fmadd_ps(w, v3, c##r##3);                                 \
  }
#define KILN_PG_STORE(r)                                                       \
  if constexpr (r < Rows) {                                                    \
    ClampActivation f = last ? act : ClampActivation::None;                    \
    _mm512_mask_storeu_ps(c + r * ldc, m0, applyClamp(c##r##0, f));            \
    _mm512_mask_storeu_ps(c + r * ldc + 16, m1, applyClamp(c##r##1, f));       \
    _mm512_mask_storeu_ps(c + r * ldc + 32, m2, applyClamp(c##r##2, f));       \
    _mm512_mask_storeu_ps(c + r * ldc + 48, m3, applyClamp(c##r##3, f));       \
  }
  KILN_PG_INIT(0) KILN_PG_INIT(1) KILN_PG_INIT(2)
  KILN_PG_INIT(3) KILN_PG_INIT(4) KILN_PG_INIT(5)
  for (int64_t k = 0; k < kc; ++k, bp += ldb) {
    // A full panel's loads take no masks: GCC keeps the four masks on
    // the stack and reloads them every step otherwise.
    const __m512 v0 = Full ? _mm512_loadu_ps(bp) : _mm512_maskz_loadu_ps(m0, bp),
                 v1 = Full ? _mm512_loadu_ps(bp + 16)
                           : _mm512_maskz_loadu_ps(m1, bp + 16),
                 v2 = Full ? _mm512_loadu_ps(bp + 32)
                           : _mm512_maskz_loadu_ps(m2, bp + 32),
                 v3 = Full ? _mm512_loadu_ps(bp + 48)
                           : _mm512_maskz_loadu_ps(m3, bp + 48);
    KILN_PG_STEP(0) KILN_PG_STEP(1) KILN_PG_STEP(2)
    KILN_PG_STEP(3) KILN_PG_STEP(4) KILN_PG_STEP(5)
  }
  KILN_PG_STORE(0) KILN_PG_STORE(1) KILN_PG_STORE(2)
  KILN_PG_STORE(3) KILN_PG_STORE(4) KILN_PG_STORE(5)
#undef KILN_PG_INIT
#undef KILN_PG_STEP
#undef KILN_PG_STORE
}

/// gemmBlockRows for a block of `rows` (1 to 6) rows: a 5-row block does
/// 20 multiply-adds a step of k, not 24 with its last row done twice (32
/// rows are blocks of 5, 5, 6, 5, 5, 6). Each row's sums are the same
/// whatever its block, so the blocking never changes a result's bits.
void gemmBlock(const float *a, int64_t lda, int64_t rows, const float *bp,
               int64_t ldb, int64_t kc, float *c, int64_t ldc,
               const __mmask16 *lanes, const float *bias, bool first, bool last,
               ClampActivation act) {
  const bool full = (lanes[0] & lanes[1] & lanes[2] & lanes[3]) == 0xffff;
  switch (rows) {
#define KILN_PG_ROWS(n)                                                        \
  case n:                                                                      \
    return full ? gemmBlockRows<n, true>(a, lda, bp, ldb, kc, c, ldc, lanes,   \
                                         bias, first, last, act)               \
                : gemmBlockRows<n, false>(a, lda, bp, ldb, kc, c, ldc, lanes,  \
                                          bias, first, last, act);
    KILN_PG_ROWS(1) KILN_PG_ROWS(2) KILN_PG_ROWS(3)
    KILN_PG_ROWS(4) KILN_PG_ROWS(5) KILN_PG_ROWS(6)
#undef KILN_PG_ROWS
  }
}

/// The masks of panel p's four vectors: columns past n are off.
void panelLanes(int64_t n, int64_t p, __mmask16 *lanes) {
  for (int v = 0; v < kVectors; ++v) {
    int64_t left = n - p * kPanel - 16 * v;
    lanes[v] = left >= 16 ? __mmask16(0xffff)
               : left <= 0 ? __mmask16(0)
                           : __mmask16((1u << left) - 1u);
  }
}

/// Row blocks [b0, b1) of `blocks` (as even as possible: 32 rows are
/// 5+5+5+5+6+6) of panel p of C[m, n] = A[m, k] B (+ bias, then `act`), or
/// C += A B when `accumulate`: every slice of k in turn over the blocks, so
/// the panel's slice stays in cache across them. The panel's rows are ldb
/// apart; `bias`, when given, starts at the panel's first column. With
/// k = 0 the blocks get the bias or zeros (accumulating leaves them).
void panelProduct(int64_t m, int64_t k, int64_t n, const float *a,
                  int64_t lda, const float *panel, int64_t ldb, int64_t p,
                  float *c, int64_t ldc, const float *bias, bool accumulate,
                  ClampActivation act, int64_t blocks, int64_t b0, int64_t b1) {
  __mmask16 lanes[kVectors];
  panelLanes(n, p, lanes);
  c += p * kPanel;
  if (k == 0) {
    const int64_t cols = std::min(kPanel, n - p * kPanel);
    for (int64_t r = m * b0 / blocks; r < m * b1 / blocks && !accumulate; ++r)
      for (int64_t j = 0; j < cols; ++j)
        c[r * ldc + j] = bias ? bias[j] : 0.f;
    return;
  }
  for (int64_t k0 = 0; k0 < k; k0 += kSlice) {
    const int64_t kc = std::min(kSlice, k - k0);
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = m * b / blocks, r1 = m * (b + 1) / blocks;
      gemmBlock(a + r0 * lda + k0, lda, r1 - r0, panel + k0 * ldb, ldb, kc,
                c + r0 * ldc, ldc, lanes, bias, k0 == 0 && !accumulate,
                k0 + kc == k, act);
    }
  }
}

/// A non-clamping epilogue activation, run over each finished row segment
/// while it is still in cache: the vectorized functions of VecMath.h.
using ArrayFn = void (*)(const float *, float *, int64_t);
std::optional<ArrayFn> arrayActivation(std::string_view name) {
  using vecmath::Fn;
  using vecmath::applyArray;
  if (name == "gelu")
    return &applyArray<Fn::Gelu>;
  if (name == "gelu_tanh")
    return &applyArray<Fn::GeluTanh>;
  if (name == "silu")
    return &applyArray<Fn::Silu>;
  if (name == "sigmoid")
    return &applyArray<Fn::Sigmoid>;
  if (name == "tanh")
    return &applyArray<Fn::Tanh>;
  return std::nullopt;
}

/// One core's L2 in bytes (sysconf; 1 MiB when it does not say). Weights
/// split by rows are in every core's L2 whole, so only those up to an
/// eighth of it are (an LSTM's 128 x 512 recurrent matrix is 256 KiB, an
/// eighth of this machine's 2 MiB): the other layers of a model share
/// that L2 (an MLP's 784 x 512 and 512 x 512 layers are 2.6 MiB).
int64_t coreCacheBytes() {
  static const int64_t bytes = [] {
    long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return l2 > 0 ? int64_t(l2) : int64_t(1) << 20;
  }();
  return bytes;
}

/// 64-byte aligned floats that free themselves (the panels' vector loads
/// are aligned ones).
struct AlignedFloats {
  explicit AlignedFloats(size_t n)
      : data(static_cast<float *>(
            ::operator new[](n * sizeof(float), std::align_val_t(64)))) {
    std::fill(data, data + n, 0.f);
  }
  ~AlignedFloats() { ::operator delete[](data, std::align_val_t(64)); }
  AlignedFloats(const AlignedFloats &) = delete;
  AlignedFloats &operator=(const AlignedFloats &) = delete;
  float *data;
};

/// Packs B ([k, n], or [n, k] when transposed) into [panel][k][64] at
/// dst (zeros past n already there).
void packPanels(const float *b, int64_t k, int64_t n, bool transposed,
                float *dst) {
  for (int64_t p = 0; p * kPanel < n; ++p) {
    float *panel = dst + p * k * kPanel;
    int64_t cols = std::min<int64_t>(kPanel, n - p * kPanel);
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < cols; ++j)
        panel[kk * kPanel + j] = transposed ? b[(p * kPanel + j) * k + kk]
                                            : b[kk * n + p * kPanel + j];
  }
}

class PackedGemm final : public PreparedCall {
public:
  PackedGemm(int64_t m, int64_t k, int64_t n)
      : m_(m), k_(k), n_(n), panels_((n + kPanel - 1) / kPanel),
        rowBlocks_((m + kMaxRows - 1) / kMaxRows),
        rowMajor_(panels_ * k * kPanel * int64_t(sizeof(float)) <=
                  coreCacheBytes() / 8),
        packed_(size_t(panels_ * k * kPanel)) {}

  Status run(const float *x, float *y) const override {
    const int64_t threads = ThreadPool::global().numThreads();
    // Weights small beside one core's cache: one group of rows a thread, every
    // thread over all the panels (task t is panel t % panels of group
    // t / panels, so the pool deals each thread its own rows). The
    // elementwise kernels around the product split the same rows the same
    // way, so its operand and result rows stay in the core that wrote or
    // reads them: a batch-32 LSTM (each step 32x128 by 128x512, then the
    // gate kernel over the 32 rows) ran 1.64-1.68 ms against 1.96-2.05 ms
    // split by panels (interleaved runs, 2 threads), though the product
    // alone times the same either way. Larger weights: tasks are panels
    // (each thread streams its own), each cut into row groups when there
    // are too few panels to keep every thread busy (n = 10 is one panel).
    const int64_t groups =
        rowMajor_ ? std::min<int64_t>(threads, rowBlocks_)
                  : std::clamp<int64_t>((2 * threads + panels_ - 1) / panels_, 1,
                                        rowBlocks_);
    const int64_t tasks = panels_ * groups;
    auto body = [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t)
        if (rowMajor_)
          runTask(t % panels_, t / panels_, groups, x, y);
        else
          runTask(t / groups, t % groups, groups, x, y);
    };
    // Below ~2^18 multiply-adds waking the pool costs more than it saves.
    if (threads <= 1 || tasks == 1 || m_ * k_ * n_ < (int64_t(1) << 18))
      body(0, tasks);
    else
      ThreadPool::global().parallelFor(0, tasks, 1, body);
    return Status();
  }

  std::string implementation() const override {
    return "kiln:packed_gemm:avx512";
  }

  /// Packs W ([k, n], or [n, k] when transposed) into the panels.
  void pack(const float *w, bool transposed) {
    packPanels(w, k_, n_, transposed, packed_.data);
  }

  Tensor bias_; // [n] f32 or undefined
  ClampActivation act_ = ClampActivation::None;
  ArrayFn arrayAct_ = nullptr; // applied after the clamp (None then)

private:
  /// Panel `p`, row blocks of group `g` of `groups`: every slice of k in
  /// turn over all the group's row blocks, the panel's slice staying in
  /// cache across them.
  void runTask(int64_t p, int64_t g, int64_t groups, const float *x,
               float *y) const {
    const float *bias = bias_.defined() ? bias_.data<float>() + p * kPanel : nullptr;
    const int64_t b0 = rowBlocks_ * g / groups, b1 = rowBlocks_ * (g + 1) / groups;
    panelProduct(m_, k_, n_, x, k_, packed_.data + p * k_ * kPanel, kPanel, p,
                 y, n_, bias, false, act_, rowBlocks_, b0, b1);
    if (arrayAct_) {
      const int64_t r0 = m_ * b0 / rowBlocks_, r1 = m_ * b1 / rowBlocks_;
      const int64_t c0 = p * kPanel, cols = std::min(kPanel, n_ - c0);
      for (int64_t r = r0; r < r1; ++r)
        arrayAct_(y + r * n_ + c0, y + r * n_ + c0, cols);
    }
  }

  int64_t m_, k_, n_, panels_, rowBlocks_;
  bool rowMajor_; // tasks by rows first (see run)
  AlignedFloats packed_; // [panel][k][64], zeros past n
};

} // namespace

bool haveGemmPanelF32() { return haveAvx512(); }

int64_t gemmPanelsF32(int64_t n) { return (n + kPanel - 1) / kPanel; }

void gemmPanelF32(int64_t m, int64_t n, int64_t k, const float *a,
                  int64_t lda, const float *b, int64_t brs, int64_t bcs,
                  float *c, int64_t ldc, int64_t p) {
  const float *panel = b + p * kPanel * bcs;
  int64_t ldb = brs;
  if (bcs != 1 && k > 0) {
    // B transposed (k contiguous per column): the panel's columns copied
    // into rows of 64 first, the packed layout the kernel streams.
    thread_local std::vector<float> packed;
    const int64_t cols = std::min<int64_t>(kPanel, n - p * kPanel);
    packed.assign(size_t(k * kPanel), 0.f);
    for (int64_t j = 0; j < cols; ++j)
      for (int64_t q = 0; q < k; ++q)
        packed[size_t(q * kPanel + j)] = panel[j * bcs + q * brs];
    panel = packed.data();
    ldb = kPanel;
  }
  const int64_t blocks = (m + kMaxRows - 1) / kMaxRows;
  panelProduct(m, k, n, a, lda, panel, ldb, p, c, ldc, nullptr, false,
               ClampActivation::None, blocks, 0, blocks);
}

namespace {

class ActivationMatmul final : public PreparedCall {
public:
  Status run(const float *, float *) const override {
    return internalError("op 'matmul': a product of two operands run with one");
  }

  Status runOperands(std::span<const float *const> in, float *y) const override {
    if (in.size() < 2)
      return internalError("op 'matmul': ", in.size(), " operands, expected 2");
    const float *a = in[0], *b = in[1];
    const int64_t panels = gemmPanelsF32(n_), tasks = batches_ * panels;
    auto body = [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t bi = t / panels;
        gemmPanelF32(m_, n_, k_, a + bi * aStride_, k_, b + bi * bStride_,
                     transB_ ? 1 : n_, transB_ ? k_ : 1, y + bi * m_ * n_, n_,
                     t % panels);
      }
    };
    ThreadPool &pool = ThreadPool::global();
    // Below ~2^20 multiply-adds in all, waking the pool costs more than
    // it saves (eager matmul's threshold).
    if (pool.numThreads() > 1 && tasks > 1 &&
        batches_ * m_ * n_ * k_ >= (int64_t(1) << 20))
      pool.parallelFor(0, tasks, 1, body);
    else
      body(0, tasks);
    return Status();
  }

  std::string implementation() const override {
    return "kiln:panel_gemm:avx512 (two operands)";
  }

  int64_t batches_ = 1, m_ = 0, k_ = 0, n_ = 0, aStride_ = 0, bStride_ = 0;
  bool transB_ = false;
};

} // namespace

struct PackedPanelsF32::Data {
  explicit Data(size_t n) : floats(n) {}
  AlignedFloats floats;
};

PackedPanelsF32::PackedPanelsF32(const float *b, int64_t k, int64_t n,
                                 bool transposed)
    : k_(k), n_(n), data_(std::make_unique<Data>(size_t(gemmPanelsF32(n) * k * kPanel))) {
  packPanels(b, k, n, transposed, data_->floats.data);
}

PackedPanelsF32::~PackedPanelsF32() = default;

void PackedPanelsF32::multiply(int64_t m, const float *a, int64_t lda,
                               int64_t p, float *c, int64_t ldc,
                               bool accumulate) const {
  const int64_t blocks = (m + kMaxRows - 1) / kMaxRows;
  panelProduct(m, k_, n_, a, lda, data_->floats.data + p * k_ * kPanel, kPanel,
               p, c, ldc, nullptr, accumulate, ClampActivation::None, blocks, 0,
               blocks);
}

Expected<std::unique_ptr<PreparedCall>>
prepareActivationMatmul(const Shape &a, const Shape &b, bool transposeB,
                        const Shape &y) {
  using None = std::unique_ptr<PreparedCall>;
  if (!haveAvx512() || a.size() < 2 || b.size() < 2 || y.size() < 2 ||
      a.size() > y.size() || b.size() > y.size())
    return None();
  const size_t r = y.size();
  const int64_t m = y[r - 2], n = y[r - 1], k = a.back();
  if (a[a.size() - 2] != m || (transposeB ? b[b.size() - 1] : b[b.size() - 2]) != k ||
      (transposeB ? b[b.size() - 2] : b[b.size() - 1]) != n || m <= 0 || n <= 0)
    return None();
  // Each operand's batch dims: all of y's, or none (one shared matrix).
  int64_t batches = 1;
  for (size_t d = 0; d + 2 < r; ++d)
    batches *= y[d];
  auto batched = [&](const Shape &s) -> std::optional<bool> {
    if (s.size() == 2)
      return false;
    if (s.size() != r || !std::equal(s.begin(), s.end() - 2, y.begin()))
      return std::nullopt;
    return true;
  };
  std::optional<bool> aBatched = batched(a), bBatched = batched(b);
  if (!aBatched || !bBatched)
    return None();
  auto call = std::make_unique<ActivationMatmul>();
  call->batches_ = batches, call->m_ = m, call->k_ = k, call->n_ = n;
  call->aStride_ = *aBatched ? m * k : 0;
  call->bStride_ = *bBatched ? k * n : 0;
  call->transB_ = transposeB;
  return std::unique_ptr<PreparedCall>(std::move(call));
}

Expected<std::unique_ptr<PreparedCall>>
preparePackedGemm(int64_t m, int64_t k, int64_t n, const Tensor &w,
                  bool transposeW, const Tensor &bias,
                  std::string_view activation) {
  using None = std::unique_ptr<PreparedCall>;
  std::optional<ClampActivation> act = clampActivation(activation);
  std::optional<ArrayFn> arrayAct = arrayActivation(activation);
  if (!haveAvx512() || (!act && !arrayAct) || m <= 0 || k <= 0 || n <= 0 || w.rank() != 2 ||
      w.dtype() != DType::F32 ||
      w.shape()[0] != (transposeW ? n : k) || w.shape()[1] != (transposeW ? k : n) ||
      (bias.defined() && (bias.dtype() != DType::F32 || bias.numel() != n)))
    return None();
  auto call = std::make_unique<PackedGemm>(m, k, n);
  call->act_ = act.value_or(ClampActivation::None);
  call->arrayAct_ = arrayAct.value_or(nullptr);
  KILN_ASSIGN_OR_RETURN(Tensor wc, w.contiguous());
  call->pack(wc.data<float>(), transposeW);
  if (bias.defined()) {
    KILN_ASSIGN_OR_RETURN(call->bias_, bias.contiguous());
  }
  return std::unique_ptr<PreparedCall>(std::move(call));
}

#else // !__x86_64__

struct PackedPanelsF32::Data {};
PackedPanelsF32::PackedPanelsF32(const float *, int64_t k, int64_t n, bool)
    : k_(k), n_(n) {}
PackedPanelsF32::~PackedPanelsF32() = default;
void PackedPanelsF32::multiply(int64_t, const float *, int64_t, int64_t,
                               float *, int64_t, bool) const {}

Expected<std::unique_ptr<PreparedCall>>
prepareActivationMatmul(const Shape &, const Shape &, bool, const Shape &) {
  return std::unique_ptr<PreparedCall>();
}

bool haveGemmPanelF32() { return false; }
int64_t gemmPanelsF32(int64_t) { return 0; }
void gemmPanelF32(int64_t, int64_t, int64_t, const float *, int64_t,
                  const float *, int64_t, int64_t, float *, int64_t, int64_t) {}

Expected<std::unique_ptr<PreparedCall>>
preparePackedGemm(int64_t, int64_t, int64_t, const Tensor &, bool,
                  const Tensor &, std::string_view) {
  return std::unique_ptr<PreparedCall>();
}

#endif

} // namespace kiln::cpu
