//===- ThreadPool.cpp - The one thread pool of the runtime -----------------===//
#include "kiln/ThreadPool.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if KILN_HAVE_OPENBLAS
extern "C" void openblas_set_num_threads(int numThreads);
extern "C" int openblas_get_num_threads(void);
#endif

namespace kiln {

namespace {
// Set in pool workers so that nested parallelFor runs inline.
thread_local bool tlsInsideWorker = false;

inline void cpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Spins until ready() or spinNs have passed; true when ready() held.
template <typename Ready> bool spinUntil(int64_t spinNs, Ready ready) {
  if (spinNs <= 0)
    return ready();
  int64_t deadline = nowNs() + spinNs;
  for (;;) {
    for (int i = 0; i < 16; ++i) {
      if (ready())
        return true;
      cpuRelax();
    }
    if (nowNs() >= deadline)
      return ready();
  }
}
} // namespace

int64_t ThreadPool::balancedChunk(int64_t n, int64_t grain, int threads) {
  grain = std::max<int64_t>(grain, 1);
  // A few chunks per thread balance uneven chunks without much overhead;
  // but never fewer items than the grain, and, where the grain leaves
  // room, a whole number of chunks per thread of equal size. (Rounding
  // the grain up instead cut an LSTM step's 32 gate rows, grain 12, into
  // 12 + 12 + 8: one thread did 24 rows, or 20 after stealing, while the
  // other waited.)
  int64_t chunks = std::clamp<int64_t>(n / grain, 1, int64_t(threads) * 4);
  if (chunks > threads)
    chunks -= chunks % threads;
  return (n + chunks - 1) / chunks;
}

int configuredNumThreads() {
  int hw = int(std::max(1u, std::thread::hardware_concurrency()));
  const char *env = std::getenv("KILN_NUM_THREADS");
  if (!env || !*env)
    return hw;
  int n = 0;
  auto [ptr, ec] = std::from_chars(env, env + std::strlen(env), n);
  if (ec != std::errc() || *ptr != '\0' || n < 1 || n > 4096)
    return hw; // A bad value must not stop the runtime; keep the default.
  return n;
}

void setLibraryThreads(int numThreads) {
#if KILN_HAVE_OPENBLAS
  openblas_set_num_threads(numThreads);
#endif
  // oneDNN in Debian uses OpenMP; set its team size if libgomp is loaded
  // (it is whenever oneDNN is). Looked up dynamically so that the runtime
  // does not link an OpenMP runtime itself.
  using SetFn = void (*)(int);
  if (auto set = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "omp_set_num_threads")))
    set(numThreads);
}

int64_t configuredSpinMicroseconds() {
  const char *env = std::getenv("KILN_SPIN_US");
  if (!env || !*env)
    return 50;
  int64_t us = 0;
  auto [ptr, ec] = std::from_chars(env, env + std::strlen(env), us);
  if (ec != std::errc() || *ptr != '\0' || us < 0 || us > 1000000)
    return 50; // Like KILN_NUM_THREADS: a bad value keeps the default.
  return us;
}

LibraryThreads libraryThreads() {
  LibraryThreads t;
#if KILN_HAVE_OPENBLAS
  t.openblas = openblas_get_num_threads();
#endif
  using GetFn = int (*)();
  if (auto get = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "omp_get_max_threads")))
    t.openmp = get();
  return t;
}

ThreadPool &ThreadPool::global() {
  // Leaked on purpose: kernels may run from static destructors of a host.
  // The GEMM/convolution libraries run single-threaded inside this pool's
  // chunks (Matmul.cpp, DnnlConv.cpp split the work): their own thread
  // teams would spin or sched_yield after every call, beside this pool, and
  // on 2 cores that made a transformer training step 10x slower under load.
  static ThreadPool *pool = [] {
    int n = configuredNumThreads();
    setLibraryThreads(1);
    return new ThreadPool(n);
  }();
  return *pool;
}

Expected<std::unique_ptr<ThreadPool>> ThreadPool::create(int numThreads) {
  if (numThreads < 1 || numThreads > 4096)
    return invalidArgument("thread pool size must be in [1, 4096], got ",
                           numThreads);
  return std::unique_ptr<ThreadPool>(new ThreadPool(numThreads));
}

ThreadPool::ThreadPool(int numThreads)
    : spinNs_(configuredSpinMicroseconds() * 1000) {
  workers_.reserve(size_t(numThreads - 1));
  for (int i = 1; i < numThreads; ++i)
    workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto &t : workers_)
    t.join();
}

struct ThreadPool::Job {
  const RangeFn *fn = nullptr;
  int64_t begin = 0, end = 0, chunk = 1, numChunks = 0;
  // Thread t's home block is chunks [t * perThread, (t + 1) * perThread);
  // cursor[t] is the next unclaimed chunk of that block.
  int numThreads = 1;
  int64_t perThread = 1;
  std::unique_ptr<std::atomic<int64_t>[]> cursor;
  std::atomic<int64_t> done{0}; // Chunks finished.
};

bool ThreadPool::runChunks(Job &job, int index) {
  bool finishedLast = false;
  // Own block first, then the others in order: a late thread's chunks are
  // taken by whoever is free, so the caller never waits for it.
  for (int k = 0; k < job.numThreads; ++k) {
    int t = (index + k) % job.numThreads;
    int64_t blockEnd = std::min(job.numChunks, (t + 1) * job.perThread);
    for (;;) {
      // fn is only touched after a successful claim, and the caller
      // returns only once every claimed chunk is done: a late worker never
      // calls a dead fn.
      int64_t c = job.cursor[t].fetch_add(1, std::memory_order_relaxed);
      if (c >= blockEnd)
        break;
      int64_t b = job.begin + c * job.chunk;
      (*job.fn)(b, std::min(job.end, b + job.chunk));
      if (job.done.fetch_add(1, std::memory_order_acq_rel) + 1 ==
          job.numChunks)
        finishedLast = true;
    }
  }
  return finishedLast;
}

void ThreadPool::workerLoop(int index) {
  tlsInsideWorker = true;
  // OpenMP's team size is per thread: oneDNN called from this worker must
  // stay single-threaded too.
  setLibraryThreads(1);
  uint64_t seen = 0;
  for (;;) {
    // Work usually comes again within microseconds (the next op of a
    // model): spin a little before paying for a sleep and a futex wake.
    spinUntil(spinNs_, [&] {
      return generation_.load(std::memory_order_acquire) != seen;
    });
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] {
        return stop_ || generation_.load(std::memory_order_relaxed) != seen;
      });
      if (stop_)
        return;
      seen = generation_.load(std::memory_order_relaxed);
      job = job_;
    }
    if (job && runChunks(*job, index)) {
      std::lock_guard<std::mutex> lock(mutex_); // No lost wake-up.
      done_.notify_all();
    }
  }
}

void ThreadPool::parallelFor(int64_t begin, int64_t end, int64_t grain,
                             const RangeFn &fn) {
  if (end <= begin)
    return;
  grain = std::max<int64_t>(grain, 1);
  int64_t n = end - begin;
  if (workers_.empty() || n <= grain || tlsInsideWorker) {
    fn(begin, end);
    return;
  }
  std::unique_lock<std::mutex> submit(submitMutex_, std::try_to_lock);
  if (!submit.owns_lock()) { // Another host thread is using the pool.
    fn(begin, end);
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->begin = begin;
  job->end = end;
  job->chunk = balancedChunk(n, grain, numThreads());
  job->numChunks = (n + job->chunk - 1) / job->chunk;
  job->numThreads = numThreads();
  job->perThread = (job->numChunks + job->numThreads - 1) / job->numThreads;
  job->cursor.reset(new std::atomic<int64_t>[size_t(job->numThreads)]);
  for (int t = 0; t < job->numThreads; ++t)
    job->cursor[t].store(t * job->perThread, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = job;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  bool wasInside = tlsInsideWorker;
  tlsInsideWorker = true; // fn calling parallelFor again runs inline.
  runChunks(*job, 0);
  tlsInsideWorker = wasInside;
  auto allDone = [&] {
    return job->done.load(std::memory_order_acquire) == job->numChunks;
  };
  spinUntil(spinNs_, allDone);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, allDone);
  job_.reset(); // Late workers keep their own reference.
}

} // namespace kiln
