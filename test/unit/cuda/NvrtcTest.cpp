//===- NvrtcTest.cpp - NVRTC through dlopen, and the kernel cache ---------===//
//
// NVRTC needs no driver or GPU, so these run everywhere the toolkit is.
//
//===----------------------------------------------------------------------===//
#include "kiln/cuda/Nvrtc.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace kiln;
using namespace kiln::cuda;

namespace {

const char *kSaxpy = R"(
#include <cuda_fp16.h>
extern "C" __global__ void saxpy(float a, const __half *x, float *y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * __half2float(x[i]) + y[i];
}
)";

NvrtcCompiler &nvrtc() {
  auto c = NvrtcCompiler::get();
  EXPECT_TRUE(c.ok()) << c.status();
  return **c;
}

class TempDir {
public:
  TempDir() {
    char tmpl[] = "/tmp/kiln-nvrtc-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string &path() const { return path_; }

private:
  std::string path_;
};

} // namespace

TEST(Nvrtc, LoadsAndTargetsAmpereAndHopper) {
  NvrtcCompiler &c = nvrtc();
  EXPECT_GE(c.version().first, 12);
  const auto &archs = c.supportedArchs();
  EXPECT_NE(std::find(archs.begin(), archs.end(), 80), archs.end());
  EXPECT_NE(std::find(archs.begin(), archs.end(), 90), archs.end());
}

TEST(Nvrtc, MissingLibraryIsUnavailable) {
  auto c = NvrtcCompiler::load("libkiln-no-such-nvrtc.so");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::Unavailable);
  EXPECT_NE(c.status().message().find("no NVRTC"), std::string::npos);
}

TEST(Nvrtc, CompilesToPtxAndCubin) {
  CompileOptions o;
  o.arch = 80;
  auto ptx = nvrtc().compile(kSaxpy, "saxpy.cu", o);
  ASSERT_TRUE(ptx.ok()) << ptx.status();
  EXPECT_FALSE(ptx->isCubin);
  EXPECT_NE(ptx->image.find(".target sm_80"), std::string::npos);
  EXPECT_NE(ptx->image.find(".visible .entry saxpy("), std::string::npos);
  EXPECT_NE(ptx->image.back(), '\0');
  o.arch = 90;
  o.cubin = true;
  auto cubin = nvrtc().compile(kSaxpy, "saxpy.cu", o);
  ASSERT_TRUE(cubin.ok()) << cubin.status();
  EXPECT_TRUE(cubin->isCubin);
  ASSERT_GT(cubin->image.size(), 4u);
  EXPECT_EQ(cubin->image.substr(0, 4), "\x7f" "ELF");
}

TEST(Nvrtc, CompileErrorsCarryTheLog) {
  auto r = nvrtc().compile("extern \"C\" __global__ void k() { undeclared = 1; }",
                           "broken.cu", {});
  ASSERT_FALSE(r.ok());
  const Status &s = r.status();
  EXPECT_EQ(s.code(), StatusCode::InvalidArgument);
  EXPECT_NE(s.message().find("nvrtcCompileProgram on 'broken.cu'"),
            std::string::npos) << s;
  EXPECT_NE(s.message().find("NVRTC_ERROR_COMPILATION"), std::string::npos) << s;
  EXPECT_NE(s.message().find("undeclared"), std::string::npos) << s;
  EXPECT_NE(s.message().find("NVRTC log"), std::string::npos) << s;
}

TEST(Nvrtc, BadOptionsAndArchitectures) {
  CompileOptions o;
  o.flags = {"--no-such-option"};
  auto r = nvrtc().compile(kSaxpy, "saxpy.cu", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::InvalidArgument);
  CompileOptions old;
  old.arch = 20;
  auto fermi = nvrtc().compile(kSaxpy, "saxpy.cu", old);
  ASSERT_FALSE(fermi.ok());
  EXPECT_NE(fermi.status().message().find("cannot target sm_20"),
            std::string::npos) << fermi.status();
}

TEST(KernelCache, HitsAfterTheFirstCompile) {
  TempDir dir;
  auto cache = KernelCache::open(dir.path() + "/nested/cuda");
  ASSERT_TRUE(cache.ok()) << cache.status();
  CompileOptions o;
  o.arch = 80;
  auto first = cache->compile(nvrtc(), kSaxpy, "saxpy.cu", o);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->fromCache);
  auto second = cache->compile(nvrtc(), kSaxpy, "saxpy.cu", o);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->fromCache);
  EXPECT_EQ(second->image, first->image);
  EXPECT_EQ(cache->stats().hits, 1);
  EXPECT_EQ(cache->stats().misses, 1);
}

TEST(KernelCache, KeyCoversSourceArchKindFlagsAndVersion) {
  TempDir dir;
  auto cache = KernelCache::open(dir.path());
  ASSERT_TRUE(cache.ok());
  CompileOptions base;
  std::string k = cache->key(kSaxpy, nvrtc(), base);
  EXPECT_NE(k.find(strCat("nvrtc ", nvrtc().version().first, ".")),
            std::string::npos) << k;
  CompileOptions arch = base, cubin = base, flags = base;
  arch.arch = 80;
  cubin.cubin = true;
  flags.flags = {"-lineinfo"};
  std::set<std::string> paths = {
      cache->pathFor(k), cache->pathFor(cache->key(kSaxpy, nvrtc(), arch)),
      cache->pathFor(cache->key(kSaxpy, nvrtc(), cubin)),
      cache->pathFor(cache->key(kSaxpy, nvrtc(), flags)),
      cache->pathFor(cache->key(std::string(kSaxpy) + " ", nvrtc(), base))};
  EXPECT_EQ(paths.size(), 5u);
}

TEST(KernelCache, CorruptEntriesAreMissesAndGetRewritten) {
  TempDir dir;
  auto cache = KernelCache::open(dir.path());
  ASSERT_TRUE(cache.ok());
  CompileOptions o;
  ASSERT_TRUE(cache->compile(nvrtc(), kSaxpy, "saxpy.cu", o).ok());
  std::string path = cache->pathFor(cache->key(kSaxpy, nvrtc(), o));
  // Flip one byte of the image, then truncate: both are misses.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-10, std::ios::end);
    f.put('#');
  }
  auto afterFlip = cache->compile(nvrtc(), kSaxpy, "saxpy.cu", o);
  ASSERT_TRUE(afterFlip.ok());
  EXPECT_FALSE(afterFlip->fromCache);
  EXPECT_EQ(cache->stats().corruptEntries, 1);
  std::filesystem::resize_file(path, 20);
  auto afterTruncate = cache->compile(nvrtc(), kSaxpy, "saxpy.cu", o);
  ASSERT_TRUE(afterTruncate.ok());
  EXPECT_FALSE(afterTruncate->fromCache);
  EXPECT_EQ(cache->stats().corruptEntries, 2);
  auto fixed = cache->compile(nvrtc(), kSaxpy, "saxpy.cu", o);
  ASSERT_TRUE(fixed.ok());
  EXPECT_TRUE(fixed->fromCache);
}

TEST(KernelCache, UnwritableDirectoryStillCompiles) {
  TempDir dir;
  auto cache = KernelCache::open(dir.path());
  ASSERT_TRUE(cache.ok());
  std::filesystem::remove_all(dir.path()); // the directory vanished
  auto r = cache->compile(nvrtc(), kSaxpy, "saxpy.cu", {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(cache->stats().writeErrors, 1);
}

TEST(KernelCache, CompileAllInParallel) {
  TempDir dir;
  auto cache = KernelCache::open(dir.path());
  ASSERT_TRUE(cache.ok());
  std::vector<CompileRequest> requests;
  for (int i = 0; i < 4; ++i) {
    CompileRequest r;
    r.source = strCat("extern \"C\" __global__ void k", i,
                      "(float *x) { x[threadIdx.x] += ", i, ".0f; }");
    r.programName = strCat("k", i, ".cu");
    r.options.arch = i % 2 ? 80 : 90;
    requests.push_back(r);
  }
  requests.push_back({"this is not CUDA", "bad.cu", {}});
  auto results = compileAll(nvrtc(), requests, &*cache, 2);
  ASSERT_EQ(results.size(), 5u);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].status();
    EXPECT_NE(results[i]->image.find(strCat(".entry k", i, "(")),
              std::string::npos);
  }
  EXPECT_FALSE(results[4].ok());
  EXPECT_EQ(cache->stats().misses, 5);
}
