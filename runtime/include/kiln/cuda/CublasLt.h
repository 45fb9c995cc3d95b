//===- CublasLt.h - GEMMs on the GPU through cuBLASLt ---------------------===//
//
// Row-major C = act(op(A) op(B) + bias), optionally batched (strided), in
// f32 (TF32 only when asked), f16 or bf16 with f32 accumulation, the bias
// and activation applied in cuBLASLt's epilogue (one pass over C). The
// library is dlopen'ed (libcublasLt.so.13, or $KILN_CUBLASLT_LIBRARY), like
// the driver; without a driver cublasLtCreate fails and get() answers
// Unavailable, without crashing.
//
//   KILN_ASSIGN_OR_RETURN(kiln::cuda::CublasLt *blas, kiln::cuda::CublasLt::get());
//   kiln::cuda::GemmDesc g{.m = 128, .n = 3072, .k = 768,
//                          .dtype = kiln::DType::BF16,
//                          .epilogue = kiln::cuda::GemmEpilogue::BiasGeluTanh};
//   KILN_RETURN_IF_ERROR(blas->gemm(g, a, b, bias, c, stream, workspace));
//
// Determinism: the algorithm for a GemmDesc is chosen once (heuristic,
// cached) and the workspace is the caller's (one per stream: two streams
// must not share one), so the same call gives the same bits every time.
//
// Thread safety: gemm() may be called from several threads.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_CUDA_CUBLASLT_H
#define KILN_CUDA_CUBLASLT_H

#include "kiln/DType.h"
#include "kiln/Status.h"
#include "kiln/cuda/DeviceAllocator.h"

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

namespace kiln::cuda {

/// What the epilogue applies to op(A) op(B). cuBLASLt's GELU is the tanh
/// approximation; erf GELU runs as a separate kernel.
enum class GemmEpilogue : unsigned char {
  None, Relu, GeluTanh, Bias, BiasRelu, BiasGeluTanh
};

/// One GEMM: A is [batch, m, k] (or [batch, k, m] when transA), B is
/// [batch, k, n] (or [batch, n, k] when transB), C is [batch, m, n], all
/// row-major and contiguous; bias is [n], shared by the batch.
struct GemmDesc {
  int64_t m = 0, n = 0, k = 0, batch = 1;
  bool transA = false, transB = false;
  DType dtype = DType::F32; ///< F32, F16 or BF16 (A, B, C and bias).
  bool allowTf32 = false;   ///< f32 only: TF32 tensor cores (opt-in).
  GemmEpilogue epilogue = GemmEpilogue::None;
};

/// The workspace cuBLASLt may use per call; callers keep one per stream.
inline constexpr size_t kGemmWorkspaceBytes = size_t(32) << 20;

class CublasLt {
public:
  /// The process-wide instance (library loaded, handle created) for the
  /// current device. Unavailable without cuBLASLt or a driver.
  static Expected<CublasLt *> get();
  /// A separately owned instance from `library` (tests).
  static Expected<std::unique_ptr<CublasLt>> load(const std::string &library);
  ~CublasLt();

  /// cublasLtGetVersion(), e.g. 130000.
  size_t version() const { return version_; }

  /// Queues C = epilogue(op(A) op(B)) on `stream`. `workspace` holds
  /// kGemmWorkspaceBytes (nullptr: none, fewer algorithms). Checks the
  /// descriptor first (InvalidArgument), then runs the cached algorithm.
  Status gemm(const GemmDesc &g, const void *a, const void *b,
              const void *bias, void *c, StreamHandle stream, void *workspace);

  /// InvalidArgument when `g` cannot run (shape, dtype, epilogue), else OK.
  static Status check(const GemmDesc &g);

  struct Table;

private:
  struct Plan;
  CublasLt() = default;
  Expected<Plan *> plan(const GemmDesc &g, bool haveWorkspace);
  std::unique_ptr<Table> t_;
  void *library_ = nullptr;
  void *handle_ = nullptr; // cublasLtHandle_t
  size_t version_ = 0;
  std::mutex mutex_;
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int, int, int, int,
                      int, int>,
           std::unique_ptr<Plan>>
      plans_;
};

} // namespace kiln::cuda

#endif // KILN_CUDA_CUBLASLT_H
