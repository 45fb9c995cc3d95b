//===- KilnCublasLtBench.cpp - Kiln's GEMM path on a GPU, TFLOP/s ---------===//
//
// Issue 7's GEMM figure: C = A B through Kiln's cuBLASLt path
// (kiln::cuda::CublasLt::gemm: descriptors and the chosen algorithm cached,
// a 32 MiB workspace per stream), square products in bf16, f16, f32 with
// TF32 allowed and strict f32, on random data (zeros run faster: the chip
// draws less power). Each size: 3 warm-up products, then 10 timed, each
// timed alone (host clock around the call and a stream synchronize), the
// median printed. Compare with cuBLAS alone in the same session, e.g.
// torch.matmul on the same shapes (tools/gpu-check/gpu-check.sh does).
//
//   kiln-cublaslt-bench [N ...]        (default: 8192 4096)
//
// Needs a CUDA driver and device; says why and exits 1 without one.
//
//===----------------------------------------------------------------------===//
#include "kiln/cuda/CublasLt.h"
#include "kiln/cuda/CudaDevice.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

using namespace kiln;
using namespace kiln::cuda;

namespace {

/// Host bytes of n elements of dtype, random in [-1, 1) (f16/bf16 by
/// rounding the f32 value; a 1M-element pattern repeated to save time).
std::vector<uint8_t> randomBytes(size_t n, DType dtype) {
  const size_t pattern = std::min<size_t>(n, size_t(1) << 20);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> values(pattern);
  for (float &v : values)
    v = dist(rng);
  size_t width = dtype == DType::F32 ? 4 : 2;
  std::vector<uint8_t> out(n * width);
  for (size_t i = 0; i < n; ++i) {
    float v = values[i % pattern];
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    if (dtype == DType::F32) {
      std::memcpy(&out[i * 4], &v, 4);
    } else if (dtype == DType::BF16) {
      uint16_t h = uint16_t((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
      std::memcpy(&out[i * 2], &h, 2);
    } else { // f16: |v| < 1, normal or zero-ish; round to nearest
      uint32_t sign = (bits >> 16) & 0x8000, exp = (bits >> 23) & 0xff;
      uint32_t mant = bits & 0x7fffff;
      uint16_t h = uint16_t(sign);
      if (exp >= 113) // >= 2^-14: normal half
        h = uint16_t(sign | ((exp - 112) << 10) | ((mant + 0x1000) >> 13));
      std::memcpy(&out[i * 2], &h, 2);
    }
  }
  return out;
}

struct Case {
  const char *name;
  DType dtype;
  bool tf32;
};

} // namespace

int main(int argc, char **argv) {
  std::vector<int64_t> sizes;
  for (int i = 1; i < argc; ++i)
    sizes.push_back(std::atoll(argv[i]));
  if (sizes.empty())
    sizes = {8192, 4096};
  Expected<CudaDevice *> dev = cudaDevice(0);
  if (!dev) {
    std::fprintf(stderr, "kiln-cublaslt-bench: %s\n", dev.status().toString().c_str());
    return 1;
  }
  CudaDevice &d = **dev;
  Expected<CublasLt *> blas = CublasLt::get();
  if (!blas) {
    std::fprintf(stderr, "kiln-cublaslt-bench: %s\n", blas.status().toString().c_str());
    return 1;
  }
  std::printf("device: %s (sm_%d), cuBLASLt %zu\n", d.deviceName().c_str(),
              d.computeCapability(), (*blas)->version());
  Expected<void *> workspace = d.allocator().allocate(kGemmWorkspaceBytes);
  if (!workspace) {
    std::fprintf(stderr, "kiln-cublaslt-bench: %s\n", workspace.status().toString().c_str());
    return 1;
  }
  const Case cases[] = {{"bf16", DType::BF16, false},
                        {"f16", DType::F16, false},
                        {"f32 (TF32 allowed)", DType::F32, true},
                        {"f32", DType::F32, false}};
  int failures = 0;
  for (int64_t n : sizes)
    for (const Case &c : cases) {
      size_t elems = size_t(n) * size_t(n), width = c.dtype == DType::F32 ? 4 : 2;
      std::vector<uint8_t> host = randomBytes(elems, c.dtype);
      Expected<void *> a = d.allocator().allocate(elems * width);
      Expected<void *> b = d.allocator().allocate(elems * width);
      Expected<void *> out = d.allocator().allocate(elems * width);
      if (!a || !b || !out) {
        std::printf("%-20s %6lld: allocation failed\n", c.name, (long long)n);
        ++failures;
        continue;
      }
      Status st = d.copyFromHost(*a, host.data(), host.size());
      if (st.isOk())
        st = d.copyFromHost(*b, host.data(), host.size());
      GemmDesc g{.m = n, .n = n, .k = n, .dtype = c.dtype, .allowTf32 = c.tf32};
      std::vector<double> ms;
      for (int rep = 0; rep < 13 && st.isOk(); ++rep) {
        auto t0 = std::chrono::steady_clock::now();
        st = (*blas)->gemm(g, *a, *b, nullptr, *out, d.stream(), *workspace);
        if (st.isOk())
          st = d.synchronizeStream(d.stream());
        double t = std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - t0)
                       .count();
        if (rep >= 3)
          ms.push_back(t);
      }
      if (!st.isOk()) {
        std::printf("%-20s %6lld: %s\n", c.name, (long long)n, st.toString().c_str());
        ++failures;
      } else {
        std::sort(ms.begin(), ms.end());
        double median = ms[ms.size() / 2];
        double tflops = 2.0 * double(n) * double(n) * double(n) / (median * 1e-3) / 1e12;
        std::printf("%-20s %6lld: median %8.3f ms  %7.1f TFLOP/s  (min %.3f ms)\n",
                    c.name, (long long)n, median, tflops, ms.front());
      }
      d.allocator().deallocate(*a, elems * width);
      d.allocator().deallocate(*b, elems * width);
      d.allocator().deallocate(*out, elems * width);
    }
  d.allocator().deallocate(*workspace, kGemmWorkspaceBytes);
  return failures ? 1 : 0;
}
