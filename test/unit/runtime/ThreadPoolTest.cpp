//===- ThreadPoolTest.cpp - The runtime's thread pool ----------------------===//
#include "kiln/ThreadPool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

using namespace kiln;

namespace {

TEST(ThreadPool, CoversRangeExactlyOnce) {
  auto pool = ThreadPool::create(4);
  ASSERT_TRUE(pool.ok());
  for (int64_t n : {0, 1, 7, 100, 1001, 100000}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    (*pool)->parallelFor(0, n, 3, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        hits[size_t(i)]++;
    });
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(hits[size_t(i)].load(), 1) << "n=" << n << " i=" << i;
  }
}

TEST(ThreadPool, RespectsGrain) {
  auto pool = std::move(*ThreadPool::create(3));
  std::atomic<int> chunks{0};
  pool->parallelFor(10, 1010, 250, [&](int64_t b, int64_t e) {
    EXPECT_TRUE(e - b >= 250 || e == 1010);
    chunks++;
  });
  EXPECT_LE(chunks.load(), 4);
}

// Chunks hold at least the grain, and split the range evenly over the
// threads where the grain leaves room: an LSTM step's 32 gate rows with a
// grain of 12 are two chunks of 16 on two threads (not 12 + 12 + 8, which
// gave one thread twice the other's work).
TEST(ThreadPool, BalancedChunks) {
  EXPECT_EQ(ThreadPool::balancedChunk(32, 12, 2), 16);
  EXPECT_EQ(ThreadPool::balancedChunk(32, 1, 2), 4);    // four a thread
  EXPECT_EQ(ThreadPool::balancedChunk(1000, 250, 3), 334);
  EXPECT_EQ(ThreadPool::balancedChunk(5, 7, 4), 5);      // under one grain
  EXPECT_EQ(ThreadPool::balancedChunk(100, 30, 2), 50);  // 3 rounded to 2
  for (int threads : {1, 2, 3, 4, 7})
    for (int64_t n = 1; n <= 300; n += 7)
      for (int64_t grain : {1, 2, 3, 5, 12, 64}) {
        int64_t chunk = ThreadPool::balancedChunk(n, grain, threads);
        int64_t chunks = (n + chunk - 1) / chunk;
        SCOPED_TRACE(::testing::Message() << "n=" << n << " grain=" << grain
                                          << " threads=" << threads);
        EXPECT_GE(chunk, std::min(n, grain));
        EXPECT_LE(chunks, 4 * threads);
        // The most items a thread gets of its home block (parallelFor deals
        // ceil(chunks / threads) chunks a thread), against an even split
        // over as many threads as the grain allows: within one chunk.
        int64_t perThread = (chunks + threads - 1) / threads;
        int64_t most = std::min(n, perThread * chunk);
        int64_t users = std::min<int64_t>(threads, std::max<int64_t>(1, n / grain));
        EXPECT_LE(most, (n + users - 1) / users + chunk - 1);
      }
}

TEST(ThreadPool, NestedCallsRunInline) {
  auto pool = std::move(*ThreadPool::create(2));
  std::atomic<int64_t> sum{0};
  pool->parallelFor(0, 8, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      pool->parallelFor(0, 100, 1, [&](int64_t b2, int64_t e2) {
        for (int64_t j = b2; j < e2; ++j)
          sum += j;
      });
  });
  EXPECT_EQ(sum.load(), 8 * 4950);
}

TEST(ThreadPool, ManyJobsBackToBack) {
  auto pool = std::move(*ThreadPool::create(4));
  for (int iter = 0; iter < 2000; ++iter) {
    std::atomic<int64_t> sum{0};
    pool->parallelFor(0, 64, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        sum += i;
    });
    ASSERT_EQ(sum.load(), 2016);
  }
}

TEST(ThreadPool, LibrariesRunSingleThreadedInsideThePool) {
  ThreadPool::global(); // Creating the pool configures the libraries.
  LibraryThreads t = libraryThreads();
  if (t.openblas >= 0)
    EXPECT_EQ(t.openblas, 1);
  if (t.openmp >= 0)
    EXPECT_EQ(t.openmp, 1);
  // Workers too: OpenMP's team size is a per-thread setting.
  std::atomic<int> wrong{0};
  ThreadPool::global().parallelFor(0, 64, 1, [&](int64_t, int64_t) {
    LibraryThreads w = libraryThreads();
    if (w.openmp > 1)
      ++wrong;
  });
  EXPECT_EQ(wrong.load(), 0);
}

TEST(ThreadPool, BadSizeIsAnError) {
  EXPECT_EQ(ThreadPool::create(0).status().code(), StatusCode::InvalidArgument);
}

TEST(ThreadPool, SizeFromEnvironment) {
  const char *old = std::getenv("KILN_NUM_THREADS");
  std::string saved = old ? old : "";
  setenv("KILN_NUM_THREADS", "3", 1);
  EXPECT_EQ(configuredNumThreads(), 3);
  setenv("KILN_NUM_THREADS", "banana", 1); // Ignored, not fatal.
  EXPECT_GE(configuredNumThreads(), 1);
  setenv("KILN_NUM_THREADS", "0", 1);
  EXPECT_GE(configuredNumThreads(), 1);
  if (old)
    setenv("KILN_NUM_THREADS", saved.c_str(), 1);
  else
    unsetenv("KILN_NUM_THREADS");
  EXPECT_GE(ThreadPool::global().numThreads(), 1);
}

TEST(ThreadPool, SpinWindowFromEnvironment) {
  const char *old = std::getenv("KILN_SPIN_US");
  std::string saved = old ? old : "";
  setenv("KILN_SPIN_US", "0", 1);
  EXPECT_EQ(configuredSpinMicroseconds(), 0);
  setenv("KILN_SPIN_US", "200", 1);
  EXPECT_EQ(configuredSpinMicroseconds(), 200);
  for (const char *bad : {"-1", "fast", "5000000", "12us"}) {
    setenv("KILN_SPIN_US", bad, 1); // Ignored, not fatal.
    EXPECT_EQ(configuredSpinMicroseconds(), 50) << bad;
  }
  if (old)
    setenv("KILN_SPIN_US", saved.c_str(), 1);
  else
    unsetenv("KILN_SPIN_US");
}

// Sleeping and spinning workers must both see every job: back-to-back
// jobs with no spin at all, and with a spin window longer than the gaps.
TEST(ThreadPool, EveryChunkRunsWithAndWithoutSpinning) {
  const char *old = std::getenv("KILN_SPIN_US");
  std::string saved = old ? old : "";
  for (const char *spin : {"0", "1000"}) {
    setenv("KILN_SPIN_US", spin, 1);
    auto pool = std::move(*ThreadPool::create(3));
    for (int iter = 0; iter < 500; ++iter) {
      int64_t n = 1 + iter % 37; // Fewer chunks than threads, and more.
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool->parallelFor(0, n, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i)
          hits[size_t(i)]++;
      });
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(hits[size_t(i)].load(), 1)
            << "spin=" << spin << " n=" << n << " i=" << i;
    }
  }
  if (old)
    setenv("KILN_SPIN_US", saved.c_str(), 1);
  else
    unsetenv("KILN_SPIN_US");
}

} // namespace
