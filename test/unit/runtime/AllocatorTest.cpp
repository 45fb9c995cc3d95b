//===- AllocatorTest.cpp - The caching allocator ---------------------------===//
#include "kiln/Allocator.h"
#include "kiln/Tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

using namespace kiln;

namespace {

std::unique_ptr<CachingAllocator> makeAllocator(size_t limit = 0) {
  auto a = CachingAllocator::create(createHostMemorySource(), {limit, 0.0});
  EXPECT_TRUE(a.ok()) << a.status();
  return std::move(*a);
}

TEST(Allocator, SizeClasses) {
  EXPECT_EQ(CachingAllocator::roundToSizeClass(1), 64u);
  EXPECT_EQ(CachingAllocator::roundToSizeClass(64), 64u);
  EXPECT_EQ(CachingAllocator::roundToSizeClass(65), 128u);
  EXPECT_EQ(CachingAllocator::roundToSizeClass(512), 512u);
  EXPECT_EQ(CachingAllocator::roundToSizeClass(513), 640u);
  EXPECT_EQ(CachingAllocator::roundToSizeClass(1024), 1024u);
  EXPECT_EQ(CachingAllocator::roundToSizeClass(1025), 1280u);
  EXPECT_EQ(CachingAllocator::roundToSizeClass(1 << 20), size_t(1) << 20);
  // Waste stays under 25% and every class is a multiple of 64.
  for (size_t n = 1; n < (1 << 22); n = n * 3 / 2 + 7) {
    size_t c = CachingAllocator::roundToSizeClass(n);
    EXPECT_GE(c, n);
    EXPECT_EQ(c % 64, 0u);
    if (n > 512)
      EXPECT_LE(double(c), double(n) * 1.25 + 64) << n;
  }
}

TEST(Allocator, AlignmentAndReuse) {
  auto a = makeAllocator();
  auto p = a->allocate(1000);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(*p) % kAllocationAlignment, 0u);
  a->deallocate(*p, 1000);
  // Same size class (1000 and 1020 both round to 1024): served from cache.
  auto q = a->allocate(1020);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, *p);
  AllocatorStats s = a->stats();
  EXPECT_EQ(s.numAllocations, 2);
  EXPECT_EQ(s.cacheMisses, 1);
  EXPECT_EQ(s.cacheHits, 1);
  EXPECT_EQ(s.bytesInUse, 1024);
  EXPECT_EQ(s.bytesReserved, 1024);
  a->deallocate(*q, 1020);
  EXPECT_EQ(a->allocate(0).value(), nullptr); // Empty blocks are free.
}

TEST(Allocator, StatsPeakAndReset) {
  auto a = makeAllocator();
  void *x = *a->allocate(4096);
  void *y = *a->allocate(8192);
  a->deallocate(x, 4096);
  AllocatorStats s = a->stats();
  EXPECT_EQ(s.bytesInUse, 8192);
  EXPECT_EQ(s.peakBytesInUse, 4096 + 8192);
  EXPECT_EQ(s.bytesReserved, 4096 + 8192);
  a->resetPeak();
  EXPECT_EQ(a->stats().peakBytesInUse, 8192);
  a->resetStats();
  s = a->stats();
  EXPECT_EQ(s.numAllocations, 0);
  EXPECT_EQ(s.cacheHits + s.cacheMisses, 0);
  EXPECT_EQ(s.bytesInUse, 8192); // Gauges are facts; they stay.
  a->emptyCache();
  EXPECT_EQ(a->stats().bytesReserved, 8192);
  a->deallocate(y, 8192);
  a->emptyCache();
  EXPECT_EQ(a->stats().bytesReserved, 0);
}

TEST(Allocator, OutOfMemoryThenRecovery) {
  auto a = makeAllocator(1 << 20); // 1 MiB limit.
  void *big = *a->allocate(600 << 10);
  auto tooMuch = a->allocate(600 << 10);
  ASSERT_FALSE(tooMuch.ok());
  EXPECT_EQ(tooMuch.status().code(), StatusCode::OutOfMemory);
  const std::string &msg = tooMuch.status().message();
  EXPECT_NE(msg.find("requested 600.00 KiB (614400 bytes)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("640.00 KiB (655360 bytes) in use"), std::string::npos) << msg;
  EXPECT_NE(msg.find("limit 1.00 MiB"), std::string::npos) << msg;
  EXPECT_EQ(a->stats().numOomErrors, 1);
  // Free and the same request succeeds.
  a->deallocate(big, 600 << 10);
  auto again = a->allocate(600 << 10);
  ASSERT_TRUE(again.ok()) << again.status();
  a->deallocate(*again, 600 << 10);
}

TEST(Allocator, OverLimitRequestEmptiesCacheFirst) {
  auto a = makeAllocator(1 << 20);
  // Fill the cache with blocks of another size class.
  void *p = *a->allocate(700 << 10);
  a->deallocate(p, 700 << 10);
  EXPECT_EQ(a->stats().bytesReserved,
            int64_t(CachingAllocator::roundToSizeClass(700 << 10)));
  auto q = a->allocate(800 << 10); // Fits only once the cache is returned.
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(a->stats().bytesReserved,
            int64_t(CachingAllocator::roundToSizeClass(800 << 10)));
  a->deallocate(*q, 800 << 10);
}

TEST(Allocator, AbsurdRequestsFailCleanly) {
  auto a = makeAllocator();
  auto huge = a->allocate(size_t(1) << 62);
  EXPECT_EQ(huge.status().code(), StatusCode::OutOfMemory);
  auto max = a->allocate(SIZE_MAX);
  EXPECT_EQ(max.status().code(), StatusCode::OutOfMemory);
}

TEST(Allocator, LimitFraction) {
  auto a = makeAllocator();
  EXPECT_TRUE(a->setMemoryLimitFraction(0.5).isOk());
  EXPECT_GT(a->stats().limitBytes, 0);
  EXPECT_EQ(a->setMemoryLimitFraction(1.5).code(), StatusCode::InvalidArgument);
  EXPECT_EQ(a->setMemoryLimitFraction(0.0).code(), StatusCode::InvalidArgument);
  EXPECT_EQ(a->setMemoryLimitFraction(NAN).code(), StatusCode::InvalidArgument);
}

TEST(Allocator, ThreadSafe) {
  auto a = makeAllocator();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        size_t n = size_t(64 + (i % 17) * 100);
        void *p = *a->allocate(n);
        static_cast<char *>(p)[0] = 1;
        a->deallocate(p, n);
      }
    });
  for (auto &t : threads)
    t.join();
  AllocatorStats s = a->stats();
  EXPECT_EQ(s.bytesInUse, 0);
  EXPECT_EQ(s.numAllocations, 8000);
  EXPECT_EQ(s.cacheHits + s.cacheMisses, 8000);
}

// The device allocator: tensors over the limit fail with OutOfMemory and the
// runtime keeps working once they are freed.
TEST(Allocator, TensorOomAndRecoveryOnCpuDevice) {
  Allocator &alloc = cpuDevice().allocator();
  alloc.emptyCache();
  int64_t inUse = alloc.stats().bytesInUse;
  ASSERT_TRUE(alloc.setMemoryLimit(size_t(inUse) + (64 << 20)).isOk());
  {
    auto a = Tensor::empty({8 << 20}, DType::F32); // 32 MiB
    ASSERT_TRUE(a.ok()) << a.status();
    auto b = Tensor::empty({10 << 20}, DType::F32); // 40 MiB: over the limit
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), StatusCode::OutOfMemory);
    EXPECT_NE(b.status().message().find("requested 40.00 MiB"),
              std::string::npos)
        << b.status();
  }
  auto c = Tensor::empty({10 << 20}, DType::F32);
  EXPECT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(alloc.setMemoryLimit(0).isOk());
}

} // namespace
