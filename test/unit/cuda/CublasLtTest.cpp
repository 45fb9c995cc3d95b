//===- CublasLtTest.cpp - cuBLASLt GEMMs ----------------------------------===//
//
// Without a driver: loading gives a clear status, descriptors are checked.
// With a GPU: results against a host reference (f32, bf16, transposes,
// batches, bias/ReLU/GELU epilogues) and bitwise repeatability.
//
//===----------------------------------------------------------------------===//
#include "kiln/cuda/CublasLt.h"
#include "kiln/cuda/CudaDevice.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace kiln;
using namespace kiln::cuda;

TEST(CublasLt, MissingLibraryIsUnavailable) {
  auto c = CublasLt::load("libkiln-no-such-cublasLt.so");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::Unavailable);
  EXPECT_NE(c.status().message().find("no cuBLASLt"), std::string::npos);
}

TEST(CublasLt, WithoutADriverCreateFailsCleanly) {
  if (cudaDevice(0).ok())
    GTEST_SKIP() << "a GPU is present";
  auto c = CublasLt::get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::Unavailable) << c.status();
  // Either the library is missing, or it loads and says it needs a driver.
  const std::string &m = c.status().message();
  EXPECT_TRUE(m.find("no cuBLASLt") != std::string::npos ||
              m.find("cuBLASLt needs the CUDA driver: no CUDA driver") !=
                  std::string::npos)
      << c.status();
  // Asking again is answered from the remembered failure.
  EXPECT_EQ(CublasLt::get().status(), c.status());
}

TEST(CublasLt, ChecksDescriptors) {
  GemmDesc g{.m = 4, .n = 4, .k = 4};
  EXPECT_TRUE(CublasLt::check(g).isOk());
  GemmDesc zero = g;
  zero.k = 0;
  EXPECT_EQ(CublasLt::check(zero).code(), StatusCode::InvalidArgument);
  GemmDesc ints = g;
  ints.dtype = DType::I32;
  EXPECT_EQ(CublasLt::check(ints).code(), StatusCode::InvalidArgument);
  GemmDesc tf32 = g;
  tf32.dtype = DType::F16;
  tf32.allowTf32 = true;
  EXPECT_EQ(CublasLt::check(tf32).code(), StatusCode::InvalidArgument);
  GemmDesc huge = g;
  huge.n = int64_t(1) << 33;
  EXPECT_EQ(CublasLt::check(huge).code(), StatusCode::InvalidArgument);
}

namespace {
/// C = act(op(A) op(B) + bias) on the host, in double.
std::vector<double> reference(const GemmDesc &g, const std::vector<float> &a,
                              const std::vector<float> &b,
                              const std::vector<float> &bias) {
  std::vector<double> c(size_t(g.batch * g.m * g.n));
  for (int64_t q = 0; q < g.batch; ++q)
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t j = 0; j < g.n; ++j) {
        double s = 0;
        for (int64_t l = 0; l < g.k; ++l) {
          double x = a[size_t(q * g.m * g.k + (g.transA ? l * g.m + i : i * g.k + l))];
          double y = b[size_t(q * g.k * g.n + (g.transB ? j * g.k + l : l * g.n + j))];
          s += x * y;
        }
        if (!bias.empty())
          s += bias[size_t(j)];
        if (g.epilogue == GemmEpilogue::Relu || g.epilogue == GemmEpilogue::BiasRelu)
          s = s < 0 ? 0 : s;
        if (g.epilogue == GemmEpilogue::GeluTanh ||
            g.epilogue == GemmEpilogue::BiasGeluTanh)
          s = 0.5 * s * (1 + std::tanh(0.7978845608028654 * (s + 0.044715 * s * s * s)));
        c[size_t((q * g.m + i) * g.n + j)] = s;
      }
  return c;
}
} // namespace

TEST(CublasLt, MatchesTheHostReferenceOnAGpu) {
  auto dev = cudaDevice(0);
  if (!dev.ok())
    GTEST_SKIP() << dev.status().toString();
  auto blas = CublasLt::get();
  ASSERT_TRUE(blas.ok()) << blas.status();
  CudaDevice &d = **dev;
  auto workspace = d.allocator().allocate(kGemmWorkspaceBytes);
  ASSERT_TRUE(workspace.ok());
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<GemmDesc> cases = {
      {.m = 33, .n = 70, .k = 129},
      {.m = 16, .n = 64, .k = 32, .transB = true, .epilogue = GemmEpilogue::BiasRelu},
      {.m = 8, .n = 24, .k = 40, .batch = 3, .transA = true},
      {.m = 64, .n = 128, .k = 256, .epilogue = GemmEpilogue::BiasGeluTanh},
  };
  for (const GemmDesc &g : cases) {
    std::vector<float> a(size_t(g.batch * g.m * g.k)), b(size_t(g.batch * g.k * g.n)),
        bias;
    for (float &x : a) x = dist(rng);
    for (float &x : b) x = dist(rng);
    bool hasBias = g.epilogue == GemmEpilogue::BiasRelu ||
                   g.epilogue == GemmEpilogue::BiasGeluTanh ||
                   g.epilogue == GemmEpilogue::Bias;
    if (hasBias) {
      bias.resize(size_t(g.n));
      for (float &x : bias) x = dist(rng);
    }
    std::vector<double> want = reference(g, a, b, bias);
    auto da = d.allocator().allocate(a.size() * 4);
    auto db = d.allocator().allocate(b.size() * 4);
    auto dc = d.allocator().allocate(want.size() * 4);
    auto dbias = d.allocator().allocate(std::max<size_t>(bias.size() * 4, 4));
    ASSERT_TRUE(da.ok() && db.ok() && dc.ok() && dbias.ok());
    ASSERT_TRUE(d.copyFromHost(*da, a.data(), a.size() * 4).isOk());
    ASSERT_TRUE(d.copyFromHost(*db, b.data(), b.size() * 4).isOk());
    if (hasBias) {
      ASSERT_TRUE(d.copyFromHost(*dbias, bias.data(), bias.size() * 4).isOk());
    }
    std::vector<float> got(want.size()), again(want.size());
    for (std::vector<float> *out : {&got, &again}) {
      Status s = (*blas)->gemm(g, *da, *db, hasBias ? *dbias : nullptr, *dc,
                               d.stream(), *workspace);
      ASSERT_TRUE(s.isOk()) << s;
      ASSERT_TRUE(d.copyToHost(out->data(), *dc, out->size() * 4).isOk());
    }
    EXPECT_EQ(got, again) << "not deterministic";
    // Reduction length k: widen the f32 tolerance with sqrt(k).
    double rtol = 1.3e-6 * std::sqrt(double(g.k)) * 4, atol = 1e-5 * std::sqrt(double(g.k));
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], atol + rtol * std::fabs(want[i]))
          << "element " << i << " m=" << g.m << " n=" << g.n << " k=" << g.k;
    d.allocator().deallocate(*da, a.size() * 4);
    d.allocator().deallocate(*db, b.size() * 4);
    d.allocator().deallocate(*dc, want.size() * 4);
    d.allocator().deallocate(*dbias, std::max<size_t>(bias.size() * 4, 4));
  }
  // A bias pointer the epilogue does not take is refused.
  GemmDesc plain{.m = 2, .n = 2, .k = 2};
  EXPECT_EQ((*blas)->gemm(plain, *workspace, *workspace, *workspace, *workspace,
                          d.stream(), nullptr)
                .code(),
            StatusCode::InvalidArgument);
  d.allocator().deallocate(*workspace, kGemmWorkspaceBytes);
}
