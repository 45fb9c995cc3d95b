//===- CudaDeviceTest.cpp - The CUDA device on a real GPU -----------------===//
//
// Each test skips (saying why) where there is no driver or device, as on
// the CI machines; tools/gpu-check.sh runs them on a GPU. They cover what
// no fake can: copies, the caching allocator over cuMemAlloc including
// OOM-and-recover, NVRTC -> module -> launch with f16 storage, streams and
// events, and CUDA Graph capture and replay.
//
//===----------------------------------------------------------------------===//
#include "kiln/cuda/CudaDevice.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

using namespace kiln;
using namespace kiln::cuda;

namespace {

CudaDevice *gpuOrSkip() {
  auto dev = cudaDevice(0);
  if (!dev.ok())
    return nullptr;
  return *dev;
}

#define KILN_REQUIRE_GPU(dev)                                                  \
  CudaDevice *dev = gpuOrSkip();                                               \
  if (!dev)                                                                    \
    GTEST_SKIP() << cudaDevice(0).status().toString();

const char *kScale = R"(
#include <cuda_fp16.h>
extern "C" __global__ void scale(const __half *x, float *y, float a, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += gridDim.x * blockDim.x)
    y[i] = a * __half2float(x[i]) + 1.0f;
}
)";

} // namespace

TEST(CudaDevice, DescribesItself) {
  KILN_REQUIRE_GPU(dev);
  EXPECT_EQ(dev->name(), "cuda:0");
  EXPECT_EQ(dev->kind(), DeviceKind::CUDA);
  EXPECT_FALSE(dev->isHostAccessible());
  EXPECT_GE(dev->computeCapability(), 50);
  EXPECT_GT(dev->totalMemory(), size_t(1) << 30);
  EXPECT_FALSE(dev->deviceName().empty());
  auto byName = getDevice("cuda:0");
  ASSERT_TRUE(byName.ok()) << byName.status();
  EXPECT_EQ(*byName, static_cast<Device *>(dev));
  EXPECT_EQ(getDevice("cuda:4096").status().code(), StatusCode::NotFound);
}

TEST(CudaDevice, CopiesRoundTrip) {
  KILN_REQUIRE_GPU(dev);
  std::vector<float> host(1 << 20), back(host.size());
  for (size_t i = 0; i < host.size(); ++i)
    host[i] = float(i) * 0.5f;
  size_t bytes = host.size() * sizeof(float);
  auto a = dev->allocator().allocate(bytes);
  auto b = dev->allocator().allocate(bytes);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(dev->copyFromHost(*a, host.data(), bytes).isOk());
  ASSERT_TRUE(dev->copyDeviceToDevice(*b, *a, bytes, dev->stream()).isOk());
  ASSERT_TRUE(dev->copyToHost(back.data(), *b, bytes).isOk());
  EXPECT_EQ(std::memcmp(host.data(), back.data(), bytes), 0);
  // Pinned buffers and asynchronous copies.
  auto pinned = dev->allocatePinned(bytes);
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  ASSERT_TRUE(dev->copyToHostAsync(*pinned, *a, bytes, dev->stream()).isOk());
  ASSERT_TRUE(dev->synchronizeStream(dev->stream()).isOk());
  EXPECT_EQ(std::memcmp(host.data(), *pinned, bytes), 0);
  EXPECT_TRUE(dev->freePinned(*pinned).isOk());
  dev->allocator().deallocate(*a, bytes);
  dev->allocator().deallocate(*b, bytes);
}

TEST(CudaDevice, AllocatorOutOfMemoryAndRecovery) {
  KILN_REQUIRE_GPU(dev);
  DeviceCachingAllocator &alloc = dev->deviceAllocator();
  // Bigger than the device: a clear OutOfMemory, nothing leaked.
  auto huge = alloc.allocate(dev->totalMemory() * 2, dev->stream(), "huge");
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::OutOfMemory);
  // Fill up to a limit with 256 MiB blocks, then fail, then recover.
  ASSERT_TRUE(alloc.setMemoryLimit(size_t(2) << 30).isOk());
  std::vector<void *> blocks;
  size_t block = size_t(256) << 20;
  for (;;) {
    auto p = alloc.allocate(block, dev->stream(), "filler");
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), StatusCode::OutOfMemory);
      EXPECT_NE(p.status().message().find("largest live allocations"),
                std::string::npos) << p.status();
      EXPECT_NE(p.status().message().find("(filler)"), std::string::npos);
      break;
    }
    blocks.push_back(*p);
    ASSERT_LT(blocks.size(), 64u);
  }
  EXPECT_GE(blocks.size(), 7u);
  for (void *p : blocks)
    alloc.deallocate(p, block);
  // The cache serves the same size again without cuMemAlloc.
  auto again = alloc.allocate(block, dev->stream());
  ASSERT_TRUE(again.ok()) << again.status();
  alloc.deallocate(*again, block);
  // A different size needs the cache returned first: still works.
  auto other = alloc.allocate(size_t(1) << 30, dev->stream());
  ASSERT_TRUE(other.ok()) << other.status();
  alloc.deallocate(*other, size_t(1) << 30);
  ASSERT_TRUE(alloc.setMemoryLimit(0).isOk());
  alloc.emptyCache();
  EXPECT_EQ(alloc.stats().bytesInUse, 0);
}

TEST(CudaDevice, CompilesLoadsAndLaunches) {
  KILN_REQUIRE_GPU(dev);
  auto module = dev->compileModule(kScale, "scale.cu");
  ASSERT_TRUE(module.ok()) << module.status();
  auto fn = dev->function(*module, "scale");
  ASSERT_TRUE(fn.ok()) << fn.status();
  EXPECT_EQ(dev->function(*module, "nope").status().code(), StatusCode::NotFound);
  int n = 100000;
  std::vector<uint16_t> half(n);
  for (int i = 0; i < n; ++i)
    half[i] = 0x3c00; // 1.0 in f16
  auto x = dev->allocator().allocate(n * 2);
  auto y = dev->allocator().allocate(n * 4);
  ASSERT_TRUE(x.ok() && y.ok());
  ASSERT_TRUE(dev->copyFromHost(*x, half.data(), n * 2).isOk());
  void *xp = *x, *yp = *y;
  float a = 3.0f;
  void *args[] = {&xp, &yp, &a, &n};
  ASSERT_TRUE(
      dev->launch(*fn, {128, 1, 1}, {256, 1, 1}, 0, dev->stream(), args).isOk());
  std::vector<float> out(n);
  ASSERT_TRUE(dev->copyToHost(out.data(), *y, n * 4).isOk());
  for (int i = 0; i < n; i += 997)
    ASSERT_EQ(out[i], 4.0f) << i;
  Status synced = dev->synchronize();
  EXPECT_TRUE(synced.isOk()) << "after the launch: " << synced;
  // Bad source: the NVRTC log in the status, the device still usable.
  auto bad = dev->compileModule("__global__ void k( {", "bad.cu");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("NVRTC log"), std::string::npos);
  synced = dev->synchronize();
  EXPECT_TRUE(synced.isOk()) << "after a failed NVRTC compile: " << synced;
  auto garbage = dev->loadModule("not a module");
  EXPECT_FALSE(garbage.ok());
  synced = dev->synchronize();
  EXPECT_TRUE(synced.isOk()) << "after a refused module image: " << synced;
  EXPECT_TRUE(dev->unloadModule(*module).isOk());
  dev->allocator().deallocate(*x, n * 2);
  dev->allocator().deallocate(*y, n * 4);
}

TEST(CudaDevice, GraphCaptureAndReplay) {
  KILN_REQUIRE_GPU(dev);
  auto module = dev->compileModule(kScale, "scale.cu");
  ASSERT_TRUE(module.ok()) << module.status();
  auto fn = dev->function(*module, "scale");
  ASSERT_TRUE(fn.ok());
  auto stream = dev->createStream();
  ASSERT_TRUE(stream.ok());
  int n = 4096;
  std::vector<uint16_t> half(n, 0x4000); // 2.0
  auto x = dev->allocator().allocate(n * 2);
  auto y = dev->allocator().allocate(n * 4);
  ASSERT_TRUE(x.ok() && y.ok());
  ASSERT_TRUE(dev->copyFromHost(*x, half.data(), n * 2).isOk());
  void *xp = *x, *yp = *y;
  float a = 0.5f;
  void *args[] = {&xp, &yp, &a, &n};
  ASSERT_TRUE(dev->beginCapture(*stream).isOk());
  ASSERT_TRUE(dev->launch(*fn, {16, 1, 1}, {256, 1, 1}, 0, *stream, args).isOk());
  auto graph = dev->endCapture(*stream);
  ASSERT_TRUE(graph.ok()) << graph.status();
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(dev->launchGraph(*graph, *stream).isOk());
  auto event = dev->recordEvent(*stream);
  ASSERT_TRUE(event.ok());
  ASSERT_TRUE(dev->waitEvent(dev->stream(), *event).isOk());
  std::vector<float> out(n);
  ASSERT_TRUE(dev->copyToHost(out.data(), *y, n * 4).isOk());
  EXPECT_EQ(out[0], 2.0f);
  EXPECT_EQ(out[n - 1], 2.0f);
  EXPECT_TRUE(dev->destroyEvent(*event).isOk());
  EXPECT_TRUE(dev->destroyGraph(*graph).isOk());
  EXPECT_TRUE(dev->destroyStream(*stream).isOk());
  dev->allocator().deallocate(*x, n * 2);
  dev->allocator().deallocate(*y, n * 4);
}
