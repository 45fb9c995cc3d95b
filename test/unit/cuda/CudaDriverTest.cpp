//===- CudaDriverTest.cpp - The CUDA device on a machine without a driver -===//
//
// CI machines have the toolkit and no driver: these tests pin down that
// everything there answers with a clear status and nothing crashes. On a
// machine with a GPU the "no driver" expectations are skipped.
//
//===----------------------------------------------------------------------===//
#include "Driver.h"

#include "kiln/Device.h"
#include "kiln/cuda/CudaDevice.h"
#include "kiln/cuda/FusedKernel.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

using namespace kiln;
using namespace kiln::cuda;

namespace {
bool driverInstalled() {
  void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h)
    dlclose(h);
  return h != nullptr;
}
bool contains(const std::string &s, std::string_view part) {
  return s.find(part) != std::string::npos;
}
} // namespace

TEST(CudaDriver, MissingLibraryIsNoCudaDriver) {
  auto d = Driver::load("libkiln-no-such-cuda.so.1");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::Unavailable);
  EXPECT_TRUE(contains(d.status().message(), "no CUDA driver")) << d.status();
  EXPECT_TRUE(contains(d.status().message(), "libkiln-no-such-cuda.so.1"))
      << d.status();
}

TEST(CudaDriver, ALibraryThatIsNotADriverIsRefused) {
  // libm is loadable but has no cuGetProcAddress.
  auto d = Driver::load("libm.so.6");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::Unavailable);
  EXPECT_TRUE(contains(d.status().message(), "has no cuGetProcAddress"))
      << d.status();
}

TEST(CudaDriver, DeviceFactoriesSayWhyThereIsNoDevice) {
  if (driverInstalled())
    GTEST_SKIP() << "a CUDA driver is installed here";
  auto count = deviceCount();
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), StatusCode::Unavailable);
  EXPECT_TRUE(contains(count.status().message(), "no CUDA driver"))
      << count.status();
  auto dev = cudaDevice(0);
  ASSERT_FALSE(dev.ok());
  EXPECT_EQ(dev.status().code(), StatusCode::Unavailable);
  // Asking again gives the same answer (the failed load is remembered).
  EXPECT_EQ(cudaDevice(0).status(), dev.status());
  auto byName = getDevice("cuda:0");
  ASSERT_FALSE(byName.ok());
  EXPECT_EQ(byName.status().code(), StatusCode::Unavailable);
  EXPECT_TRUE(contains(byName.status().message(), "libcuda.so.1"))
      << byName.status();
  EXPECT_EQ(getDevice("cuda").status().code(), StatusCode::Unavailable);
  // The CPU device is unaffected.
  ASSERT_TRUE(getDevice("cpu").ok());
}

TEST(CudaDriver, MalformedDeviceNames) {
  for (const char *name : {"cuda:", "cuda:x", "cuda:-1", "cuda:1x", "cuda:99999999999"}) {
    auto d = getDevice(name);
    ASSERT_FALSE(d.ok()) << name;
    EXPECT_EQ(d.status().code(), StatusCode::InvalidArgument) << name;
  }
}

// The checking macro, driven through a table whose entry points return
// chosen errors (and that has no cuGetErrorName: names come from Kiln's
// fallback table, as when the driver itself is broken).
TEST(CudaDriver, CheckMacroNamesTheCallAndTheError) {
  Driver d;
  d.library = "test";
  d.cuMemAlloc = [](CUdeviceptr *, size_t) { return CUDA_ERROR_OUT_OF_MEMORY; };
  d.cuInit = [](unsigned) { return CUDA_ERROR_NO_DEVICE; };
  d.cuCtxSynchronize = []() { return CUDA_SUCCESS; };
  CUdeviceptr p = 0;
  size_t bytes = 64;
  Status oom = KILN_CU_CALL(d, cuMemAlloc, &p, bytes);
  EXPECT_EQ(oom.code(), StatusCode::OutOfMemory);
  EXPECT_EQ(oom.message(), "cuMemAlloc(&p, bytes): CUDA_ERROR_OUT_OF_MEMORY");
  Status none = KILN_CU_CALL(d, cuInit, 0);
  EXPECT_EQ(none.code(), StatusCode::Unavailable);
  EXPECT_TRUE(contains(none.message(), "cuInit(0): CUDA_ERROR_NO_DEVICE"))
      << none;
  EXPECT_TRUE(contains(none.message(), "no CUDA device")) << none;
  EXPECT_TRUE(KILN_CU_CALL(d, cuCtxSynchronize).isOk());
  // An entry point the driver lacks (optional rows) is a status too.
  Status missing = KILN_CU_CALL(d, cuGraphLaunch, nullptr, nullptr);
  EXPECT_EQ(missing.code(), StatusCode::Unavailable);
  EXPECT_TRUE(contains(missing.message(), "no entry point cuGraphLaunch"))
      << missing;
  EXPECT_EQ(d.describe(CUresult(12345)), "CUresult 12345");
}

TEST(FusedKernel, VectorVariantNeedsFourAlignedElementsPerBuffer) {
  alignas(64) static unsigned char arena[256];
  void *a16 = arena, *a8 = arena + 8, *a32 = arena + 32;
  void *both[] = {a16, a32};
  size_t f32[] = {4, 4};
  EXPECT_TRUE(vectorVariantAllowed(both, f32));
  void *off[] = {a16, a8};
  EXPECT_FALSE(vectorVariantAllowed(off, f32)) << "8 bytes is not 4 floats";
  size_t f16[] = {2, 2};
  EXPECT_TRUE(vectorVariantAllowed(off, f16)) << "8 bytes is 4 halves";
  size_t f64[] = {8, 8};
  void *d[] = {a32, arena + 16};
  EXPECT_FALSE(vectorVariantAllowed(d, f64)) << "doubles need 32 bytes";
  size_t mismatched[] = {4};
  EXPECT_FALSE(vectorVariantAllowed(both, mismatched));
}
