//===- CublasLt.cpp - GEMMs on the GPU through cuBLASLt -------------------===//
//
// Row-major C[m, n] = A[m, k] B[k, n] is column-major C^T = B^T A^T, so the
// call passes B as cuBLASLt's A and A as its B, with m and n swapped; the
// epilogue's bias (one value per row of the column-major result) is then
// one value per column of C, as kiln.gemm's bias [N].
//
//===----------------------------------------------------------------------===//
#include "kiln/cuda/CublasLt.h"

#include "Driver.h"

#include <cublasLt.h>

#include <cstdlib>
#include <dlfcn.h>

namespace kiln::cuda {

struct CublasLt::Table {
#define KILN_CUBLASLT_SYMBOL(name) decltype(&::name) name = nullptr;
#include "CublasLtSymbols.def"
};

struct CublasLt::Plan {
  const Table *t = nullptr;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  size_t workspace = 0;
  ~Plan() {
    if (c)
      t->cublasLtMatrixLayoutDestroy(c);
    if (b)
      t->cublasLtMatrixLayoutDestroy(b);
    if (a)
      t->cublasLtMatrixLayoutDestroy(a);
    if (desc)
      t->cublasLtMatmulDescDestroy(desc);
  }
};

namespace {
Status blasError(const CublasLt::Table &t, cublasStatus_t s, const char *call) {
  const char *name = t.cublasLtGetStatusName ? t.cublasLtGetStatusName(s) : nullptr;
  const char *text =
      t.cublasLtGetStatusString ? t.cublasLtGetStatusString(s) : nullptr;
  std::string message = strCat(call, ": ", name ? name : "cublasStatus_t ",
                               name ? "" : std::to_string(int(s)));
  if (text)
    message += strCat(" (", text, ")");
  StatusCode code = s == CUBLAS_STATUS_ALLOC_FAILED ? StatusCode::OutOfMemory
                    : s == CUBLAS_STATUS_NOT_INITIALIZED ||
                            s == CUBLAS_STATUS_ARCH_MISMATCH ||
                            s == CUBLAS_STATUS_NOT_SUPPORTED
                        ? StatusCode::Unavailable
                    : s == CUBLAS_STATUS_INVALID_VALUE ? StatusCode::InvalidArgument
                                                       : StatusCode::Internal;
  if (s == CUBLAS_STATUS_NOT_INITIALIZED)
    message += "; no usable CUDA driver or device";
  return Status(code, std::move(message));
}
} // namespace

/// Calls cuBLASLt entry point `fn`; the status names the call as written.
#define KILN_CUBLASLT_CALL(table, fn, ...)                                     \
  [&]() -> ::kiln::Status {                                                    \
    cublasStatus_t kiln_s_ = (table).fn(__VA_ARGS__);                          \
    if (kiln_s_ == CUBLAS_STATUS_SUCCESS)                                      \
      return ::kiln::Status();                                                 \
    return blasError((table), kiln_s_, #fn "(" #__VA_ARGS__ ")");              \
  }()

CublasLt::~CublasLt() {
  plans_.clear();
  if (handle_)
    t_->cublasLtDestroy(static_cast<cublasLtHandle_t>(handle_));
  // The library stays loaded: its load-time allocations (72 KiB in 13.0)
  // are reachable only from its own globals and would leak on dlclose.
}

Expected<std::unique_ptr<CublasLt>> CublasLt::load(const std::string &library) {
  std::unique_ptr<CublasLt> c(new CublasLt());
  c->t_ = std::make_unique<Table>();
  dlerror();
  c->library_ = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!c->library_) {
    const char *why = dlerror();
    return unavailable("no cuBLASLt: dlopen(\"", library, "\") failed: ",
                       why ? why : "unknown error");
  }
  std::string missing;
#define KILN_CUBLASLT_SYMBOL(name)                                             \
  c->t_->name =                                                                \
      reinterpret_cast<decltype(c->t_->name)>(dlsym(c->library_, #name));      \
  if (!c->t_->name)                                                            \
    missing += (missing.empty() ? "" : ", ") + std::string(#name);
#include "CublasLtSymbols.def"
  if (!missing.empty())
    return unavailable("no usable cuBLASLt: ", library, " lacks ", missing);
  c->version_ = c->t_->cublasLtGetVersion();
  // cublasLtCreate without a driver fails but leaks (cuBLASLt 13.0): ask
  // the driver first, which also gives the clearer message.
  if (auto driver = loadedDriver(); !driver.ok())
    return Status(driver.status().code(),
                  strCat("cuBLASLt needs the CUDA driver: ",
                         driver.status().message()));
  cublasLtHandle_t handle = nullptr;
  Status created = KILN_CUBLASLT_CALL(*c->t_, cublasLtCreate, &handle);
  if (!created.isOk())
    return created;
  c->handle_ = handle;
  return c;
}

Expected<CublasLt *> CublasLt::get() {
  static std::once_flag once;
  static CublasLt *instance = nullptr; // leaked, like the devices
  static Status *error = nullptr;
  std::call_once(once, [] {
    const char *env = std::getenv("KILN_CUBLASLT_LIBRARY");
    auto loaded = load(env && *env ? env : "libcublasLt.so.13");
    if (loaded)
      instance = loaded->release();
    else
      error = new Status(loaded.takeStatus());
  });
  if (!instance)
    return *error;
  return instance;
}

Status CublasLt::check(const GemmDesc &g) {
  if (g.m <= 0 || g.n <= 0 || g.k <= 0 || g.batch <= 0)
    return invalidArgument("gemm: sizes must be positive, got m=", g.m, " n=",
                           g.n, " k=", g.k, " batch=", g.batch);
  if (g.dtype != DType::F32 && g.dtype != DType::F16 && g.dtype != DType::BF16)
    return invalidArgument("gemm: cuBLASLt path takes f32, f16 or bf16, not ",
                           dtypeName(g.dtype));
  if (g.allowTf32 && g.dtype != DType::F32)
    return invalidArgument("gemm: TF32 applies to f32 only");
  // cuBLASLt takes 32-bit leading dimensions.
  if (g.m > INT32_MAX || g.n > INT32_MAX || g.k > INT32_MAX)
    return invalidArgument("gemm: a dimension does not fit 32 bits");
  return Status();
}

Expected<CublasLt::Plan *> CublasLt::plan(const GemmDesc &g, bool haveWorkspace) {
  auto key = std::make_tuple(g.m, g.n, g.k, g.batch, int(g.transA), int(g.transB),
                             int(g.dtype), int(g.allowTf32), int(g.epilogue),
                             int(haveWorkspace));
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = plans_.find(key); it != plans_.end())
    return it->second.get();
  const Table &t = *t_;
  auto p = std::make_unique<Plan>();
  p->t = &t;
  cudaDataType_t type = g.dtype == DType::F32   ? CUDA_R_32F
                        : g.dtype == DType::F16 ? CUDA_R_16F
                                                : CUDA_R_16BF;
  cublasComputeType_t compute =
      g.allowTf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  KILN_RETURN_IF_ERROR(KILN_CUBLASLT_CALL(t, cublasLtMatmulDescCreate, &p->desc,
                                          compute, CUDA_R_32F));
  // cuBLASLt's A is our B, its B our A (see the file comment).
  cublasOperation_t opA = g.transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t opB = g.transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  KILN_RETURN_IF_ERROR(KILN_CUBLASLT_CALL(t, cublasLtMatmulDescSetAttribute,
                                          p->desc, CUBLASLT_MATMUL_DESC_TRANSA,
                                          &opA, sizeof opA));
  KILN_RETURN_IF_ERROR(KILN_CUBLASLT_CALL(t, cublasLtMatmulDescSetAttribute,
                                          p->desc, CUBLASLT_MATMUL_DESC_TRANSB,
                                          &opB, sizeof opB));
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  switch (g.epilogue) {
  case GemmEpilogue::None: break;
  case GemmEpilogue::Relu: epilogue = CUBLASLT_EPILOGUE_RELU; break;
  case GemmEpilogue::GeluTanh: epilogue = CUBLASLT_EPILOGUE_GELU; break;
  case GemmEpilogue::Bias: epilogue = CUBLASLT_EPILOGUE_BIAS; break;
  case GemmEpilogue::BiasRelu: epilogue = CUBLASLT_EPILOGUE_RELU_BIAS; break;
  case GemmEpilogue::BiasGeluTanh: epilogue = CUBLASLT_EPILOGUE_GELU_BIAS; break;
  }
  KILN_RETURN_IF_ERROR(KILN_CUBLASLT_CALL(t, cublasLtMatmulDescSetAttribute,
                                          p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                          &epilogue, sizeof epilogue));
  // Column-major views of the row-major operands.
  uint64_t bRows = g.transB ? g.k : g.n, bCols = g.transB ? g.n : g.k;
  uint64_t aRows = g.transA ? g.m : g.k, aCols = g.transA ? g.k : g.m;
  KILN_RETURN_IF_ERROR(KILN_CUBLASLT_CALL(t, cublasLtMatrixLayoutCreate, &p->a,
                                          type, bRows, bCols, int64_t(bRows)));
  KILN_RETURN_IF_ERROR(KILN_CUBLASLT_CALL(t, cublasLtMatrixLayoutCreate, &p->b,
                                          type, aRows, aCols, int64_t(aRows)));
  KILN_RETURN_IF_ERROR(KILN_CUBLASLT_CALL(t, cublasLtMatrixLayoutCreate, &p->c,
                                          type, uint64_t(g.n), uint64_t(g.m),
                                          g.n));
  if (g.batch > 1) {
    int32_t count = int32_t(g.batch);
    int64_t strides[3] = {g.k * g.n, g.m * g.k, g.m * g.n};
    cublasLtMatrixLayout_t layouts[3] = {p->a, p->b, p->c};
    for (int i = 0; i < 3; ++i) {
      KILN_RETURN_IF_ERROR(KILN_CUBLASLT_CALL(
          t, cublasLtMatrixLayoutSetAttribute, layouts[i],
          CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count));
      KILN_RETURN_IF_ERROR(KILN_CUBLASLT_CALL(
          t, cublasLtMatrixLayoutSetAttribute, layouts[i],
          CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &strides[i],
          sizeof strides[i]));
    }
  }
  cublasLtMatmulPreference_t pref = nullptr;
  KILN_RETURN_IF_ERROR(
      KILN_CUBLASLT_CALL(t, cublasLtMatmulPreferenceCreate, &pref));
  size_t limit = haveWorkspace ? kGemmWorkspaceBytes : 0;
  Status s = KILN_CUBLASLT_CALL(t, cublasLtMatmulPreferenceSetAttribute, pref,
                                CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &limit,
                                sizeof limit);
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  if (s.isOk())
    s = KILN_CUBLASLT_CALL(t, cublasLtMatmulAlgoGetHeuristic,
                           static_cast<cublasLtHandle_t>(handle_), p->desc, p->a,
                           p->b, p->c, p->c, pref, 1, &result, &found);
  t.cublasLtMatmulPreferenceDestroy(pref);
  KILN_RETURN_IF_ERROR(std::move(s));
  if (found == 0)
    return unavailable("gemm: cuBLASLt has no algorithm for m=", g.m, " n=", g.n,
                       " k=", g.k, " batch=", g.batch, " ", dtypeName(g.dtype));
  p->algo = result.algo;
  p->workspace = result.workspaceSize;
  Plan *raw = p.get();
  plans_.emplace(key, std::move(p));
  return raw;
}

Status CublasLt::gemm(const GemmDesc &g, const void *a, const void *b,
                      const void *bias, void *c, StreamHandle stream,
                      void *workspace) {
  KILN_RETURN_IF_ERROR(check(g));
  bool wantsBias = g.epilogue == GemmEpilogue::Bias ||
                   g.epilogue == GemmEpilogue::BiasRelu ||
                   g.epilogue == GemmEpilogue::BiasGeluTanh;
  if (wantsBias != (bias != nullptr))
    return invalidArgument("gemm: the epilogue ", wantsBias ? "needs" : "takes no",
                           " bias pointer");
  KILN_ASSIGN_OR_RETURN(Plan * p, plan(g, workspace != nullptr));
  const Table &t = *t_;
  if (bias) {
    // Per call (the plan is shared): cuBLASLt reads it at cublasLtMatmul.
    std::lock_guard<std::mutex> lock(mutex_);
    KILN_RETURN_IF_ERROR(KILN_CUBLASLT_CALL(
        t, cublasLtMatmulDescSetAttribute, p->desc,
        CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    float alpha = 1.0f, beta = 0.0f;
    return KILN_CUBLASLT_CALL(
        t, cublasLtMatmul, static_cast<cublasLtHandle_t>(handle_), p->desc,
        &alpha, b, p->a, a, p->b, &beta, c, p->c, c, p->c, &p->algo, workspace,
        workspace ? kGemmWorkspaceBytes : 0, static_cast<cudaStream_t>(stream));
  }
  float alpha = 1.0f, beta = 0.0f;
  return KILN_CUBLASLT_CALL(
      t, cublasLtMatmul, static_cast<cublasLtHandle_t>(handle_), p->desc, &alpha,
      b, p->a, a, p->b, &beta, c, p->c, c, p->c, &p->algo, workspace,
      workspace ? kGemmWorkspaceBytes : 0, static_cast<cudaStream_t>(stream));
}

} // namespace kiln::cuda
