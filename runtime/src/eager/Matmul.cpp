//===- Matmul.cpp - Eager batched matmul over OpenBLAS / oneDNN ------------===//
//
// Each 2-D product goes to a GEMM library: DESIGN.md measured OpenBLAS far
// ahead for medium and large shapes and oneDNN ~4x ahead for M <= 8, so
// chooseMatmulBackend picks by M (re-measured by the benchmark). Operands
// whose matrices already have one unit stride (contiguous or a transposed
// view) go to the library as they are, with a transpose flag; others are
// copied once. f16/bf16 compute in f32; f64 uses dgemm (oneDNN has none).
//
//===----------------------------------------------------------------------===//
#include "kiln/Ops.h"

#include "../autograd/Derivatives.h"
#include "../autograd/Record.h"
#include "EagerUtil.h"
#include "../cpu/Gemv.h"
#include "../cpu/PackedGemm.h"
#include "kiln/ThreadPool.h"
#include "kiln/Support/Shapes.h"

#include <atomic>
#include <climits>
#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string_view>
#include <cstring>
#include <vector>

#if KILN_HAVE_OPENBLAS
#include <cblas.h>
#endif
#if KILN_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

namespace kiln {

namespace {
std::atomic<MatmulBackend> forcedBackend{MatmulBackend::Auto};

/// M at or below which oneDNN beats OpenBLAS on DESIGN.md's machine (4x at
/// M=1, ~2x at M=8; OpenBLAS wins from M=32 up there). The static rule for
/// tiny GEMMs and when tuning is off; everything else is measured.
constexpr int64_t kOneDnnMaxM = 16;

/// The per-shape table built by measurement: each (log2 M, log2 N, log2 K)
/// bucket is timed once on both libraries, the first time a GEMM of that
/// bucket runs, and the faster one is kept for the process. Machines differ
/// (AVX2 Zen vs AVX-512 Xeon flip the winner of large GEMMs), so a fixed
/// table would be wrong somewhere.
struct TuneTable {
  std::mutex mutex;
  std::map<std::array<int, 3>, MatmulBackend> best;
};
TuneTable &tuneTable() {
  static TuneTable *t = new TuneTable; // Leaked: used from any thread, any time.
  return *t;
}
std::array<int, 3> bucketOf(int64_t m, int64_t n, int64_t k) {
  return {int(std::bit_width(uint64_t(m))), int(std::bit_width(uint64_t(n))),
          int(std::bit_width(uint64_t(k)))};
}
bool tuningEnabled() {
  static const bool on = [] {
    const char *e = std::getenv("KILN_MATMUL_TUNE");
    return !(e && std::string_view(e) == "0");
  }();
  return on;
}
/// Products below this many multiply-adds run on the calling thread: waking
/// the pool costs more than it saves.
constexpr int64_t kParallelGemmWork = int64_t(1) << 20;

/// f32 products of at most this many multiply-adds a matrix run on Kiln's
/// panel kernel (PackedGemm.h) instead of a library.
constexpr int64_t kPanelGemmMaxWork = int64_t(1) << 22;

/// GEMMs below this many multiply-adds are too short to time reliably.
constexpr int64_t kMinTunedWork = 1 << 18;

/// One matrix operand as a GEMM library wants it: row-major with leading
/// dimension `ld`, possibly transposed.
struct GemmOperand {
  const void *data;
  bool trans;
  int64_t ld;
};

/// Describes the logical [rows, cols] matrix with element strides (rs, cs)
/// for BLAS, or nullopt when neither stride is 1.
std::optional<GemmOperand> asGemm(const void *data, int64_t rows, int64_t cols,
                                  int64_t rs, int64_t cs) {
  if (cs == 1 && rs >= std::max<int64_t>(1, cols))
    return GemmOperand{data, false, rs};
  if (rs == 1 && cs >= std::max<int64_t>(1, rows))
    return GemmOperand{data, true, cs};
  if (rows <= 1 && cs == 1) // A single row: any leading dim works.
    return GemmOperand{data, false, std::max<int64_t>(1, cols)};
  if (cols <= 1 && rs == 1)
    return GemmOperand{data, true, std::max<int64_t>(1, rows)};
  return std::nullopt;
}

/// The fallback, and the kernel for integers (no BLAS has them): i-k-j
/// order so the inner loop streams rows of B and C. Integers accumulate in
/// 64 bits and wrap, as the dialect's integer arithmetic does.
template <typename T>
void naiveGemm(int64_t m, int64_t n, int64_t k, const T *a, int64_t ars,
               int64_t acs, const T *b, int64_t brs, int64_t bcs, T *c,
               int64_t ldc) {
  using Acc = std::conditional_t<std::is_integral_v<T>, uint64_t, double>;
  ThreadPool::global().parallelFor(0, m, std::max<int64_t>(1, 4096 / std::max<int64_t>(n * k, 1)),
                                   [&](int64_t i0, int64_t i1) {
    std::vector<Acc> row(static_cast<size_t>(n));
    for (int64_t i = i0; i < i1; ++i) {
      std::fill(row.begin(), row.end(), Acc(0));
      for (int64_t p = 0; p < k; ++p) {
        Acc av = Acc(a[i * ars + p * acs]);
        const T *brow = b + p * brs;
        for (int64_t j = 0; j < n; ++j)
          row[size_t(j)] += av * Acc(brow[j * bcs]);
      }
      for (int64_t j = 0; j < n; ++j)
        c[i * ldc + j] = T(row[size_t(j)]);
    }
  });
}

/// C[m, n] = A[m, k] * B[k, n], rows of C `ldc` elements apart.
template <typename T>
Status gemm(MatmulBackend backend, int64_t m, int64_t n, int64_t k,
            const T *a, int64_t ars, int64_t acs, const T *b, int64_t brs,
            int64_t bcs, T *c, int64_t ldc) {
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i)
      std::memset(c + i * ldc, 0, size_t(n) * sizeof(T));
    return Status();
  }
  auto ga = asGemm(a, m, k, ars, acs);
  auto gb = asGemm(b, k, n, brs, bcs);
  if (backend == MatmulBackend::Naive || !ga || !gb || std::is_integral_v<T>) {
    naiveGemm(m, n, k, a, ars, acs, b, brs, bcs, c, ldc);
    return Status();
  }
#if KILN_HAVE_DNNL
  if constexpr (std::is_same_v<T, float>) {
    if (backend == MatmulBackend::OneDnn) {
      dnnl_status_t st = dnnl_sgemm(
          ga->trans ? 'T' : 'N', gb->trans ? 'T' : 'N', m, n, k, 1.0f,
          static_cast<const float *>(ga->data), ga->ld,
          static_cast<const float *>(gb->data), gb->ld, 0.0f, c, ldc);
      if (st != dnnl_success)
        return internalError("oneDNN sgemm failed with status ", int(st));
      return Status();
    }
  }
#endif
#if KILN_HAVE_OPENBLAS
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX || ga->ld > INT_MAX ||
      gb->ld > INT_MAX || ldc > INT_MAX)
    return invalidArgument("op 'matmul': dimensions exceed the BLAS int range");
  auto ta = ga->trans ? CblasTrans : CblasNoTrans;
  auto tb = gb->trans ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_integral_v<T>)
    return internalError("integer GEMM reached BLAS");
  else if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0f,
                static_cast<const float *>(ga->data), int(ga->ld),
                static_cast<const float *>(gb->data), int(gb->ld), 0.0f, c,
                int(ldc));
  else
    cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0,
                static_cast<const double *>(ga->data), int(ga->ld),
                static_cast<const double *>(gb->data), int(gb->ld), 0.0, c,
                int(ldc));
  return Status();
#else
  naiveGemm(m, n, k, a, ars, acs, b, brs, bcs, c, ldc);
  return Status();
#endif
}

template <typename T>
Status batchedMatmul(const Tensor &a, const Tensor &b, bool ta, bool tb,
                     Tensor &out) {
  int64_t r = out.rank();
  int64_t m = out.shape()[size_t(r - 2)], n = out.shape()[size_t(r - 1)];
  int64_t k = a.shape()[size_t(a.rank() - (ta ? 2 : 1))];
  // Strides of the logical A [m, k] and B [k, n].
  int64_t as0 = a.strides()[size_t(a.rank() - 2)], as1 = a.strides().back();
  int64_t bs0 = b.strides()[size_t(b.rank() - 2)], bs1 = b.strides().back();
  int64_t ars = ta ? as1 : as0, acs = ta ? as0 : as1;
  int64_t brs = tb ? bs1 : bs0, bcs = tb ? bs0 : bs1;
  MatmulBackend backend = forcedBackend.load();
  if (backend == MatmulBackend::Auto)
    backend = std::is_same_v<T, float> ? chooseMatmulBackend(m, n, k)
                                       : MatmulBackend::OpenBlas;
  // Walk the broadcast batch dims.
  int64_t batchRank = r - 2, numBatch = 1;
  for (int64_t d = 0; d < batchRank; ++d)
    numBatch *= out.shape()[size_t(d)];
  auto batchOffset = [&](const Tensor &t, int64_t bi) {
    int64_t off = 0, pad = batchRank - (t.rank() - 2);
    for (int64_t d = batchRank - 1; d >= 0; --d) {
      int64_t n = out.shape()[size_t(d)], i = bi % n;
      bi /= n;
      int64_t td = d - pad;
      if (td >= 0 && t.shape()[size_t(td)] != 1)
        off += i * t.strides()[size_t(td)];
    }
    return off;
  };
  const T *pa = static_cast<const T *>(a.rawData());
  const T *pb = static_cast<const T *>(b.rawData());
  T *pc = static_cast<T *>(out.rawData());
  if constexpr (std::is_same_v<T, float>) {
    // A few rows against an output-major B (nn.Linear's weight, [n, k]):
    // one stream over B beats the libraries' packing (Gemv.h; MLP b1 in
    // eager mode spent 79 us in oneDNN where the GEMV takes ~16).
    if (forcedBackend.load() == MatmulBackend::Auto && numBatch == 1 &&
        m <= cpu::kGemvMaxRows && k > 0 && acs == 1 && (m == 1 || ars == k) &&
        brs == 1 && (n == 1 || bcs == k)) {
      cpu::gemvF32(m, k, pa, pb, pc, n);
      return Status();
    }
  }
  if constexpr (std::is_same_v<T, float>) {
    // Small products (attention's per-head Q K^T and P V) on Kiln's own
    // kernel, read where they lie: a library call per matrix costs more
    // than the arithmetic there (the test transformer block's 8 products
    // of 16x16x16 took ~1-2 us each through oneDNN's sgemm).
    if (forcedBackend.load() == MatmulBackend::Auto && cpu::haveGemmPanelF32() &&
        m * n * k <= kPanelGemmMaxWork && acs == 1 &&
        (bcs == 1 || brs == 1)) {
      const int64_t lda = ars, panels = cpu::gemmPanelsF32(n);
      auto body = [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          int64_t bi = t / panels;
          cpu::gemmPanelF32(m, n, k, pa + batchOffset(a, bi), lda,
                            pb + batchOffset(b, bi), brs, bcs, pc + bi * m * n,
                            n, t % panels);
        }
      };
      const int64_t tasks = numBatch * panels;
      if (ThreadPool::global().numThreads() > 1 &&
          numBatch * m * n * k >= kParallelGemmWork && tasks > 1)
        ThreadPool::global().parallelFor(0, tasks, 1, body);
      else
        body(0, tasks);
      return Status();
    }
  }
#if KILN_HAVE_OPENBLAS && KILN_HAVE_DNNL
  if constexpr (std::is_same_v<T, float>) {
    if (forcedBackend.load() == MatmulBackend::Auto && tuningEnabled() &&
        m * n * k >= kMinTunedWork) {
      auto key = bucketOf(m, n, k);
      TuneTable &table = tuneTable();
      std::lock_guard<std::mutex> lock(table.mutex);
      auto it = table.best.find(key);
      if (it == table.best.end()) {
        // Time both on the first product (warm-up, then best of two); its
        // output is recomputed below anyway.
        double best = 1e300;
        MatmulBackend winner = backend;
        for (MatmulBackend be : {MatmulBackend::OpenBlas, MatmulBackend::OneDnn}) {
          KILN_RETURN_IF_ERROR(gemm<T>(be, m, n, k, pa, ars, acs, pb, brs, bcs, pc, n));
          for (int rep = 0; rep < 2; ++rep) {
            auto start = std::chrono::steady_clock::now();
            KILN_RETURN_IF_ERROR(gemm<T>(be, m, n, k, pa, ars, acs, pb, brs, bcs, pc, n));
            double t = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
            if (t < best) {
              best = t;
              winner = be;
            }
          }
        }
        it = table.best.emplace(key, winner).first;
      }
      backend = it->second;
    }
  }
#endif
  // The libraries run single-threaded (ThreadPool.cpp); split the products
  // over the pool: whole batches when there are enough, else row blocks of
  // C, else column blocks. Each element of C comes from one library call
  // over the whole K, so splitting changes no sum's length.
  ThreadPool &pool = ThreadPool::global();
  int64_t threads = pool.numThreads();
  bool split = threads > 1 && !std::is_integral_v<T> &&
               numBatch * m * n * k >= kParallelGemmWork;
  if (!split) {
    for (int64_t bi = 0; bi < numBatch; ++bi)
      KILN_RETURN_IF_ERROR(gemm<T>(backend, m, n, k, pa + batchOffset(a, bi), ars,
                                   acs, pb + batchOffset(b, bi), brs, bcs,
                                   pc + bi * m * n, n));
    return Status();
  }
  enum class Split { Batch, Rows, Cols } how =
      numBatch >= threads ? Split::Batch
      : m >= 8 * threads  ? Split::Rows
      : n >= 64 * threads ? Split::Cols
                          : Split::Batch;
  int64_t items = how == Split::Batch ? numBatch : how == Split::Rows ? m : n;
  int64_t parts = std::min(threads, items);
  std::vector<Status> status(static_cast<size_t>(parts));
  pool.parallelFor(0, parts, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t part = p0; part < p1; ++part) {
      int64_t lo = items * part / parts, hi = items * (part + 1) / parts;
      Status &st = status[size_t(part)];
      if (how == Split::Batch) {
        for (int64_t bi = lo; bi < hi && st.isOk(); ++bi)
          st = gemm<T>(backend, m, n, k, pa + batchOffset(a, bi), ars, acs,
                       pb + batchOffset(b, bi), brs, bcs, pc + bi * m * n, n);
        continue;
      }
      for (int64_t bi = 0; bi < numBatch && st.isOk(); ++bi) {
        const T *ab = pa + batchOffset(a, bi), *bb = pb + batchOffset(b, bi);
        T *cb = pc + bi * m * n;
        st = how == Split::Rows
                 ? gemm<T>(backend, hi - lo, n, k, ab + lo * ars, ars, acs, bb,
                           brs, bcs, cb + lo * n, n)
                 : gemm<T>(backend, m, hi - lo, k, ab, ars, acs, bb + lo * bcs,
                           brs, bcs, cb + lo, n);
      }
    }
  });
  for (Status &st : status)
    if (!st.isOk())
      return st;
  return Status();
}

/// A BLAS-compatible version of t: itself when its matrices have a unit
/// stride, else a contiguous copy.
Expected<Tensor> blasReady(const Tensor &t) {
  int64_t r = t.rank();
  int64_t rows = t.shape()[size_t(r - 2)], cols = t.shape()[size_t(r - 1)];
  if (asGemm(nullptr, rows, cols, t.strides()[size_t(r - 2)], t.strides().back()))
    return t;
  return t.contiguous();
}
} // namespace

MatmulBackend chooseMatmulBackend(int64_t m, int64_t n, int64_t k) {
  {
    TuneTable &table = tuneTable();
    std::lock_guard<std::mutex> lock(table.mutex);
    auto it = table.best.find(bucketOf(m, n, k));
    if (it != table.best.end())
      return it->second;
  }
#if KILN_HAVE_DNNL
  if (m <= kOneDnnMaxM)
    return MatmulBackend::OneDnn;
#endif
#if KILN_HAVE_OPENBLAS
  return MatmulBackend::OpenBlas;
#elif KILN_HAVE_DNNL
  return MatmulBackend::OneDnn;
#else
  return MatmulBackend::Naive;
#endif
}

Status setMatmulBackend(MatmulBackend backend) {
#if !KILN_HAVE_OPENBLAS
  if (backend == MatmulBackend::OpenBlas)
    return unavailable("OpenBLAS is not linked into this runtime");
#endif
#if !KILN_HAVE_DNNL
  if (backend == MatmulBackend::OneDnn)
    return unavailable("oneDNN is not linked into this runtime");
#endif
  forcedBackend.store(backend);
  return Status();
}

namespace {
Expected<Tensor> matmulKernel(const Tensor &a, const Tensor &b,
                              bool transposeA, bool transposeB) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("matmul", {&a, &b}));
  if (a.dtype() != b.dtype())
    return invalidArgument("op 'matmul': operand dtypes differ (",
                           dtypeName(a.dtype()), " vs ", dtypeName(b.dtype()),
                           ")");
  if (a.dtype() == DType::Bool)
    return invalidArgument("op 'matmul': operands have dtype i1, expected a "
                           "numeric dtype");
  auto shape = shapes::matmul(a.shape(), b.shape(), transposeA, transposeB);
  if (!shape)
    return invalidArgument("op 'matmul': ", shape.message());
  if (a.dtype() == DType::F16 || a.dtype() == DType::BF16) {
    KILN_ASSIGN_OR_RETURN(Tensor a32, a.to(DType::F32));
    KILN_ASSIGN_OR_RETURN(Tensor b32, b.to(DType::F32));
    KILN_ASSIGN_OR_RETURN(Tensor c32, matmulKernel(a32, b32, transposeA, transposeB));
    return c32.to(a.dtype());
  }
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(*shape, a.dtype(), a.device()));
  if (out.numel() == 0)
    return out;
  KILN_ASSIGN_OR_RETURN(Tensor ra, blasReady(a));
  KILN_ASSIGN_OR_RETURN(Tensor rb, blasReady(b));
  switch (a.dtype()) {
  case DType::F32:
    KILN_RETURN_IF_ERROR(batchedMatmul<float>(ra, rb, transposeA, transposeB, out));
    break;
  case DType::F64:
    KILN_RETURN_IF_ERROR(batchedMatmul<double>(ra, rb, transposeA, transposeB, out));
    break;
  case DType::I64:
    KILN_RETURN_IF_ERROR(batchedMatmul<int64_t>(ra, rb, transposeA, transposeB, out));
    break;
  case DType::I32:
    KILN_RETURN_IF_ERROR(batchedMatmul<int32_t>(ra, rb, transposeA, transposeB, out));
    break;
  case DType::I8:
    KILN_RETURN_IF_ERROR(batchedMatmul<int8_t>(ra, rb, transposeA, transposeB, out));
    break;
  default:
    return internalError("matmul: unexpected dtype");
  }
  return out;
}
} // namespace

Expected<Tensor> matmul(const Tensor &a, const Tensor &b, bool transposeA,
                        bool transposeB) {
  return autograd::differentiable(
      "matmul", {a, b}, [&] { return matmulKernel(a, b, transposeA, transposeB); },
      [&] { return autograd::matmulBackward(a, b, transposeA, transposeB); });
}

} // namespace kiln
