//===- ThreadPool.h - The one thread pool of the runtime -------------------===//
//
// One pool runs every parallel kernel. Its size comes from KILN_NUM_THREADS
// (default: the hardware threads); the GEMM libraries are told the same
// count, because two pools spinning on the same cores make both slow
// (DESIGN.md, "Performance method").
//
// parallelFor splits [begin, end) into chunks of at least `grain` items; the
// calling thread works too, so a pool of N threads has N - 1 workers. A
// parallelFor issued from inside a worker, or while another thread holds the
// pool, runs inline on the caller: nested parallelism never deadlocks.
//
// Chunks have a home thread: chunk blocks are dealt to threads in order, so
// the same part of an operand lands on the same core call after call and
// stays in its L2 (a GEMV's weights, a layer's activations). A thread that
// runs out of its own chunks takes the rest of a late thread's block, so
// nobody waits for a descheduled worker. Between jobs a worker spins for a
// short window (KILN_SPIN_US, default 50 us; 0 sleeps at once) before it
// sleeps on a condition variable: a futex wake costs tens of microseconds
// here, longer than many whole kernels of a small model.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_THREADPOOL_H
#define KILN_THREADPOOL_H

#include "kiln/Status.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln {

class ThreadPool {
public:
  /// fn(chunkBegin, chunkEnd).
  using RangeFn = std::function<void(int64_t, int64_t)>;

  /// The process-wide pool, created on first use with
  /// configuredNumThreads() threads.
  static ThreadPool &global();
  /// A separate pool (tests, benchmarks). numThreads >= 1.
  static Expected<std::unique_ptr<ThreadPool>> create(int numThreads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// Threads that run chunks, the caller included.
  int numThreads() const { return int(workers_.size()) + 1; }

  /// Runs fn over [begin, end) in chunks of >= grain items (grain >= 1).
  /// Returns when every chunk is done. fn must not throw.
  void parallelFor(int64_t begin, int64_t end, int64_t grain,
                   const RangeFn &fn);

  /// The chunk size parallelFor uses for `n` items of `grain` on `threads`
  /// threads: at least the grain (or n), and where the grain allows, a
  /// whole number of equal chunks per thread (at most four each).
  static int64_t balancedChunk(int64_t n, int64_t grain, int threads);

private:
  explicit ThreadPool(int numThreads);
  struct Job;
  void workerLoop(int index);
  /// Runs chunks of `job`, its own block first, until none is left; true
  /// when this thread finished the job's last chunk.
  static bool runChunks(Job &job, int index);

  std::vector<std::thread> workers_;
  std::mutex submitMutex_; // One parallelFor at a time.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  // The newest job. A worker that wakes late keeps its own reference and
  // finds no chunk left, so the caller never waits for a descheduled
  // worker that has claimed nothing (that wait made a 2-thread pool 13x
  // slower than 1 thread when the other core was busy).
  std::shared_ptr<Job> job_; // Guarded by mutex_.
  // Written under mutex_, read without it by spinning workers.
  std::atomic<uint64_t> generation_{0};
  bool stop_ = false; // Guarded by mutex_.
  int64_t spinNs_;    // How long a worker or the caller spins before sleeping.
};

/// KILN_NUM_THREADS when it is a positive integer, else the hardware thread
/// count (at least 1).
int configuredNumThreads();

/// KILN_SPIN_US when it is a non-negative integer (at most 10^6), else 50:
/// how long the pool's threads spin waiting for work or for a job's end
/// before they sleep.
int64_t configuredSpinMicroseconds();

/// Sets the thread count of the linked GEMM/convolution libraries (OpenBLAS,
/// and oneDNN's OpenMP for the calling thread).
void setLibraryThreads(int numThreads);

/// What the libraries report back (-1: library absent), to check that they
/// obey setLibraryThreads.
struct LibraryThreads {
  int openblas = -1;
  int openmp = -1;
};
LibraryThreads libraryThreads();

} // namespace kiln

#endif // KILN_THREADPOOL_H
