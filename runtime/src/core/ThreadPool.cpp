//===- ThreadPool.cpp - The one thread pool of the runtime -----------------===//
#include "kiln/ThreadPool.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>

#if KILN_HAVE_OPENBLAS
extern "C" void openblas_set_num_threads(int numThreads);
extern "C" int openblas_get_num_threads(void);
#endif

namespace kiln {

namespace {
// Set in pool workers so that nested parallelFor runs inline.
thread_local bool tlsInsideWorker = false;
} // namespace

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
  static ThreadPool *pool = [] {
    int n = configuredNumThreads();
    setLibraryThreads(n);
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

ThreadPool::ThreadPool(int numThreads) {
  workers_.reserve(size_t(numThreads - 1));
  for (int i = 1; i < numThreads; ++i)
    workers_.emplace_back([this] { workerLoop(); });
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

void ThreadPool::runChunks() {
  int64_t done = 0;
  for (;;) {
    int64_t c = nextChunk_.fetch_add(1, std::memory_order_relaxed);
    if (c >= numChunks_)
      break;
    int64_t b = begin_ + c * chunk_;
    (*fn_)(b, std::min(end_, b + chunk_));
    ++done;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  chunksDone_ += done;
  done_.notify_all();
}

void ThreadPool::workerLoop() {
  tlsInsideWorker = true;
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_)
        return;
      seen = generation_;
      ++busyWorkers_;
    }
    runChunks();
    std::lock_guard<std::mutex> lock(mutex_);
    --busyWorkers_;
    done_.notify_all();
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
  // A few chunks per thread balance uneven chunks without much overhead.
  int64_t maxChunks = int64_t(numThreads()) * 4;
  int64_t chunk = std::max(grain, (n + maxChunks - 1) / maxChunks);
  {
    // A worker that woke up late for the previous job may still be looking
    // at its fields; wait for it before overwriting them.
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busyWorkers_ == 0; });
    fn_ = &fn;
    begin_ = begin;
    end_ = end;
    chunk_ = chunk;
    numChunks_ = (n + chunk - 1) / chunk;
    nextChunk_.store(0, std::memory_order_relaxed);
    chunksDone_ = 0;
    ++generation_;
  }
  wake_.notify_all();
  bool wasInside = tlsInsideWorker;
  tlsInsideWorker = true; // fn calling parallelFor again runs inline.
  runChunks();
  tlsInsideWorker = wasInside;
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return chunksDone_ == numChunks_; });
}

} // namespace kiln
