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

#include "EagerUtil.h"
#include "kiln/Support/Shapes.h"

#include <atomic>
#include <climits>
#include <cstring>

#if KILN_HAVE_OPENBLAS
#include <cblas.h>
#endif
#if KILN_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

namespace kiln {

namespace {
std::atomic<MatmulBackend> forcedBackend{MatmulBackend::Auto};

/// M at or below which oneDNN beats OpenBLAS here (DESIGN.md: 4x at M=1,
/// ~2x at M=8; OpenBLAS wins from M=32 up).
constexpr int64_t kOneDnnMaxM = 16;

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

template <typename T>
void naiveGemm(int64_t m, int64_t n, int64_t k, const T *a, int64_t ars,
               int64_t acs, const T *b, int64_t brs, int64_t bcs, T *c) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p)
        acc += double(a[i * ars + p * acs]) * double(b[p * brs + j * bcs]);
      c[i * n + j] = T(acc);
    }
}

/// C[m, n] = A[m, k] * B[k, n], C contiguous.
template <typename T>
Status gemm(MatmulBackend backend, int64_t m, int64_t n, int64_t k,
            const T *a, int64_t ars, int64_t acs, const T *b, int64_t brs,
            int64_t bcs, T *c) {
  if (k == 0) {
    std::memset(c, 0, size_t(m * n) * sizeof(T));
    return Status();
  }
  auto ga = asGemm(a, m, k, ars, acs);
  auto gb = asGemm(b, k, n, brs, bcs);
  if (backend == MatmulBackend::Naive || !ga || !gb) {
    naiveGemm(m, n, k, a, ars, acs, b, brs, bcs, c);
    return Status();
  }
#if KILN_HAVE_DNNL
  if constexpr (std::is_same_v<T, float>) {
    if (backend == MatmulBackend::OneDnn) {
      dnnl_status_t st = dnnl_sgemm(
          ga->trans ? 'T' : 'N', gb->trans ? 'T' : 'N', m, n, k, 1.0f,
          static_cast<const float *>(ga->data), ga->ld,
          static_cast<const float *>(gb->data), gb->ld, 0.0f, c, n);
      if (st != dnnl_success)
        return internalError("oneDNN sgemm failed with status ", int(st));
      return Status();
    }
  }
#endif
#if KILN_HAVE_OPENBLAS
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX || ga->ld > INT_MAX ||
      gb->ld > INT_MAX)
    return invalidArgument("op 'matmul': dimensions exceed the BLAS int range");
  auto ta = ga->trans ? CblasTrans : CblasNoTrans;
  auto tb = gb->trans ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0f,
                static_cast<const float *>(ga->data), int(ga->ld),
                static_cast<const float *>(gb->data), int(gb->ld), 0.0f, c,
                int(n));
  else
    cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0,
                static_cast<const double *>(ga->data), int(ga->ld),
                static_cast<const double *>(gb->data), int(gb->ld), 0.0, c,
                int(n));
  return Status();
#else
  naiveGemm(m, n, k, a, ars, acs, b, brs, bcs, c);
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
    backend = std::is_same_v<T, double> ? MatmulBackend::OpenBlas
                                        : chooseMatmulBackend(m, n, k);
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
  for (int64_t bi = 0; bi < numBatch; ++bi)
    KILN_RETURN_IF_ERROR(gemm<T>(backend, m, n, k, pa + batchOffset(a, bi), ars,
                                 acs, pb + batchOffset(b, bi), brs, bcs,
                                 pc + bi * m * n));
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

Expected<Tensor> matmul(const Tensor &a, const Tensor &b, bool transposeA,
                        bool transposeB) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("matmul", {&a, &b}));
  if (a.dtype() != b.dtype())
    return invalidArgument("op 'matmul': operand dtypes differ (",
                           dtypeName(a.dtype()), " vs ", dtypeName(b.dtype()),
                           ")");
  if (!isFloat(a.dtype()))
    return invalidArgument("op 'matmul': operands have dtype ",
                           dtypeName(a.dtype()), ", expected a float dtype");
  auto shape = shapes::matmul(a.shape(), b.shape(), transposeA, transposeB);
  if (!shape)
    return invalidArgument("op 'matmul': ", shape.message());
  if (a.dtype() == DType::F16 || a.dtype() == DType::BF16) {
    KILN_ASSIGN_OR_RETURN(Tensor a32, a.to(DType::F32));
    KILN_ASSIGN_OR_RETURN(Tensor b32, b.to(DType::F32));
    KILN_ASSIGN_OR_RETURN(Tensor c32, matmul(a32, b32, transposeA, transposeB));
    return c32.to(a.dtype());
  }
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(*shape, a.dtype(), a.device()));
  if (out.numel() == 0)
    return out;
  KILN_ASSIGN_OR_RETURN(Tensor ra, blasReady(a));
  KILN_ASSIGN_OR_RETURN(Tensor rb, blasReady(b));
  if (a.dtype() == DType::F32)
    KILN_RETURN_IF_ERROR(batchedMatmul<float>(ra, rb, transposeA, transposeB, out));
  else
    KILN_RETURN_IF_ERROR(batchedMatmul<double>(ra, rb, transposeA, transposeB, out));
  return out;
}

} // namespace kiln
