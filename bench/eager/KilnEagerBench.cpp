//===- KilnEagerBench.cpp - Eager-mode benchmark beside PyTorch ------------===//
//
// Measures the machine's limits first (fp32 FMA peak, triad bandwidth), then
// Kiln's eager ops against them: per-op dispatch overhead, large elementwise
// add and a three-op chain, GEMM per backend on the shapes of issue 3, and a
// 3x3 convolution. Then runs torch_eager_bench.py (same cases, same thread
// count) when PyTorch is importable, so both tables come from one run.
// Medians of repeated runs; this is a program, never a timed test.
//
//   KILN_NUM_THREADS=2 ./kiln-eager-bench [--quick] [--no-torch] [--limits]
//
// --limits prints the machine limits alone (other benchmarks compare with
// them).
//
//===----------------------------------------------------------------------===//
#include "kiln/Kiln.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <immintrin.h>
#include <string>
#include <vector>

using namespace kiln;

namespace {

bool quick = false;

double nowSeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Median seconds of one call of fn, over `reps` runs after a warm-up.
double medianSeconds(const std::function<void()> &fn, int reps) {
  fn();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    double s = nowSeconds();
    fn();
    t.push_back(nowSeconds() - s);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

template <typename T> T must(Expected<T> e) {
  if (!e) {
    std::fprintf(stderr, "error: %s\n", e.status().toString().c_str());
    std::exit(1);
  }
  return std::move(*e);
}

/// FMA throughput: 12 independent accumulator chains (more than latency x
/// ports), spelled out so that they live in registers.
__attribute__((target("avx2,fma"))) float fmaLoop(int64_t iters) {
  // Distinct starting values: identical chains would be merged by the
  // compiler (GVN) into one, and the count of 12 FMAs per iteration would
  // then overstate the peak (it reported 689 GFLOP/s on 2 cores).
  __m256 a0 = _mm256_set1_ps(1.00f), a1 = _mm256_set1_ps(1.01f),
         a2 = _mm256_set1_ps(1.02f), a3 = _mm256_set1_ps(1.03f),
         a4 = _mm256_set1_ps(1.04f), a5 = _mm256_set1_ps(1.05f),
         a6 = _mm256_set1_ps(1.06f), a7 = _mm256_set1_ps(1.07f),
         a8 = _mm256_set1_ps(1.08f), a9 = _mm256_set1_ps(1.09f),
         a10 = _mm256_set1_ps(1.10f), a11 = _mm256_set1_ps(1.11f);
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i) {
    a0 = _mm256_fmadd_ps(a0, m, c);
    a1 = _mm256_fmadd_ps(a1, m, c);
    a2 = _mm256_fmadd_ps(a2, m, c);
    a3 = _mm256_fmadd_ps(a3, m, c);
    a4 = _mm256_fmadd_ps(a4, m, c);
    a5 = _mm256_fmadd_ps(a5, m, c);
    a6 = _mm256_fmadd_ps(a6, m, c);
    a7 = _mm256_fmadd_ps(a7, m, c);
    a8 = _mm256_fmadd_ps(a8, m, c);
    a9 = _mm256_fmadd_ps(a9, m, c);
    a10 = _mm256_fmadd_ps(a10, m, c);
    a11 = _mm256_fmadd_ps(a11, m, c);
  }
  __m256 s = _mm256_add_ps(
      _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
      _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)),
                    _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11))));
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

/// The same with 512-bit vectors, for machines whose GEMM libraries use
/// AVX-512 (their peak is the one to hold GEMM against).
__attribute__((target("avx512f"))) float fmaLoop512(int64_t iters) {
  __m512 a0 = _mm512_set1_ps(1.00f), a1 = _mm512_set1_ps(1.01f),
         a2 = _mm512_set1_ps(1.02f), a3 = _mm512_set1_ps(1.03f),
         a4 = _mm512_set1_ps(1.04f), a5 = _mm512_set1_ps(1.05f),
         a6 = _mm512_set1_ps(1.06f), a7 = _mm512_set1_ps(1.07f),
         a8 = _mm512_set1_ps(1.08f), a9 = _mm512_set1_ps(1.09f),
         a10 = _mm512_set1_ps(1.10f), a11 = _mm512_set1_ps(1.11f);
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i) {
    a0 = _mm512_fmadd_ps(a0, m, c);
    a1 = _mm512_fmadd_ps(a1, m, c);
    a2 = _mm512_fmadd_ps(a2, m, c);
    a3 = _mm512_fmadd_ps(a3, m, c);
    a4 = _mm512_fmadd_ps(a4, m, c);
    a5 = _mm512_fmadd_ps(a5, m, c);
    a6 = _mm512_fmadd_ps(a6, m, c);
    a7 = _mm512_fmadd_ps(a7, m, c);
    a8 = _mm512_fmadd_ps(a8, m, c);
    a9 = _mm512_fmadd_ps(a9, m, c);
    a10 = _mm512_fmadd_ps(a10, m, c);
    a11 = _mm512_fmadd_ps(a11, m, c);
  }
  __m512 s = _mm512_add_ps(
      _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
      _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)),
                    _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11))));
  return _mm512_reduce_add_ps(s);
}

double measurePeak512Gflops() {
  if (!__builtin_cpu_supports("avx512f"))
    return 0;
  int64_t iters = quick ? 2000000 : 20000000;
  int threads = ThreadPool::global().numThreads();
  volatile double sink = 0;
  double t = medianSeconds(
      [&] {
        ThreadPool::global().parallelFor(0, threads, 1, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i)
            sink = sink + fmaLoop512(iters);
        });
      },
      3);
  return double(threads) * double(iters) * 12 * 16 * 2 / t / 1e9;
}

double measurePeakGflops() {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    return 0;
  int64_t iters = quick ? 2000000 : 20000000;
  int threads = ThreadPool::global().numThreads();
  volatile double sink = 0;
  double t = medianSeconds(
      [&] {
        ThreadPool::global().parallelFor(0, threads, 1, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i)
            sink = sink + fmaLoop(iters);
        });
      },
      3);
  // AVX2 FMA peak (the kernels' ISA); an AVX-512 machine can do more.
  return double(threads) * double(iters) * 12 * 8 * 2 / t / 1e9;
}

double measureTriadGBs() {
  int64_t n = 1 << 24; // 3 x 64 MiB: far beyond the caches.
  std::vector<float> a(size_t(n), 1.0f), b(size_t(n), 2.0f), c(size_t(n), 3.0f);
  double t = medianSeconds(
      [&] {
        ThreadPool::global().parallelFor(0, n, 1 << 16, [&](int64_t s, int64_t e) {
          for (int64_t i = s; i < e; ++i)
            a[size_t(i)] = b[size_t(i)] + 1.5f * c[size_t(i)];
        });
      },
      quick ? 3 : 9);
  return 3.0 * 4 * double(n) / t / 1e9;
}

void row(const char *what, double value, const char *unit, double limit = 0) {
  if (limit > 0)
    std::printf("  %-44s %10.2f %-8s (%5.1f%% of %.1f)\n", what, value, unit,
                100 * value / limit, limit);
  else
    std::printf("  %-44s %10.2f %s\n", what, value, unit);
}

} // namespace

int main(int argc, char **argv) {
  bool torch = true, limitsOnly = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick"))
      quick = true;
    if (!std::strcmp(argv[i], "--no-torch"))
      torch = false;
    if (!std::strcmp(argv[i], "--limits"))
      limitsOnly = true;
  }
  int threads = ThreadPool::global().numThreads();
  int reps = quick ? 5 : 21;
  std::printf("Kiln eager benchmark: %d threads (KILN_NUM_THREADS)\n", threads);

  std::printf("Machine limits\n");
  double peak256 = measurePeakGflops();
  double peak512 = measurePeak512Gflops();
  double peak = std::max(peak256, peak512);
  double triad = measureTriadGBs();
  row("fp32 FMA peak, AVX2", peak256, "GFLOP/s");
  if (peak512 > 0)
    row("fp32 FMA peak, AVX-512 (GEMM held to this)", peak512, "GFLOP/s");
  row("triad bandwidth (a = b + s*c)", triad, "GB/s");
  if (limitsOnly)
    return 0;

  std::printf("Kiln eager\n");
  {
    Tensor a = must(Tensor::full({1}, 1.0, DType::F32));
    Tensor b = must(Tensor::full({1}, 2.0, DType::F32));
    int64_t n = quick ? 20000 : 200000;
    double t = medianSeconds(
        [&] {
          for (int64_t i = 0; i < n; ++i)
            must(add(a, b));
        },
        5);
    row("dispatch overhead: 1-element add", t / double(n) * 1e6, "us/op");
  }
  {
    int64_t n = 1 << 24;
    Generator g(1);
    Tensor a = must(g.uniform({n}, -1, 1, DType::F32));
    Tensor b = must(g.uniform({n}, -1, 1, DType::F32));
    Tensor c = must(g.uniform({n}, -1, 1, DType::F32));
    double t = medianSeconds([&] { must(add(a, b)); }, quick ? 3 : 9);
    row("add f32 [16M] (3 streams)", 12.0 * double(n) / t / 1e9, "GB/s", triad);
    double t3 = medianSeconds([&] { must(relu(a * b + c)); }, quick ? 3 : 9);
    // Three ops, 3 + 3 + 2 streams unfused.
    row("relu(a*b+c) f32 [16M] (8 streams)", 32.0 * double(n) / t3 / 1e9, "GB/s",
        triad);
  }
  struct Gemm {
    int64_t m, k, n;
  };
  std::vector<Gemm> gemms = {{128, 128, 128},  {512, 512, 512},   {1024, 1024, 1024},
                             {1, 768, 768},    {1, 768, 3072},    {32, 768, 768},
                             {32, 768, 3072},  {128, 768, 768},   {128, 768, 3072}};
  std::printf("  GEMM f32 GFLOP/s (%% of peak)      %10s %10s %10s\n", "auto",
              "openblas", "onednn");
  for (const Gemm &s : gemms) {
    Generator g(2);
    Tensor a = must(g.uniform({s.m, s.k}, -1, 1, DType::F32));
    Tensor b = must(g.uniform({s.k, s.n}, -1, 1, DType::F32));
    double flops = 2.0 * double(s.m * s.k * s.n);
    std::printf("    M=%-5lld K=%-5lld N=%-5lld             ", (long long)s.m,
                (long long)s.k, (long long)s.n);
    for (MatmulBackend be : {MatmulBackend::Auto, MatmulBackend::OpenBlas,
                             MatmulBackend::OneDnn}) {
      if (!setMatmulBackend(be).isOk()) {
        std::printf(" %10s", "n/a");
        continue;
      }
      double t = medianSeconds([&] { must(matmul(a, b)); }, reps);
      std::printf(" %6.1f(%2.0f%%)", flops / t / 1e9, peak > 0 ? 100 * flops / t / 1e9 / peak : 0);
    }
    std::printf("\n");
  }
  (void)setMatmulBackend(MatmulBackend::Auto);
  {
    Generator g(3);
    Tensor x = must(g.uniform({1, 64, 56, 56}, -1, 1, DType::F32));
    Tensor w = must(g.uniform({64, 64, 3, 3}, -1, 1, DType::F32));
    Window2D win = makeWindow(3, 3);
    win.pads = {1, 1, 1, 1};
    for (ConvBackend be : {ConvBackend::OneDnn, ConvBackend::Im2colGemm}) {
      if (!setConvBackend(be).isOk())
        continue;
      double t = medianSeconds([&] { must(conv2d(x, w, Tensor(), win)); }, reps);
      row(be == ConvBackend::OneDnn ? "conv2d 3x3 64->64 56x56 (oneDNN, NCHW in/out)"
                                    : "conv2d 3x3 64->64 56x56 (im2col+GEMM)",
          2.0 * 64 * 64 * 9 * 56 * 56 / t / 1e9, "GFLOP/s", peak);
    }
    (void)setConvBackend(ConvBackend::Auto);
  }
  AllocatorStats st = cpuDevice().allocator().stats();
  std::printf("  allocator: %lld allocations, %.1f%% cache hits, peak %s\n",
              (long long)st.numAllocations,
              100.0 * double(st.cacheHits) /
                  double(std::max<int64_t>(1, st.cacheHits + st.cacheMisses)),
              formatBytes(st.peakBytesInUse).c_str());
  std::fflush(stdout);

  if (torch) {
    std::string cmd = std::string("python3 ") + KILN_TORCH_BENCH_SCRIPT +
                      " --threads " + std::to_string(threads) +
                      (quick ? " --quick" : "");
    int rc = std::system(cmd.c_str());
    if (rc != 0)
      std::printf("PyTorch side did not run (exit %d)\n", rc);
  }
  return 0;
}
