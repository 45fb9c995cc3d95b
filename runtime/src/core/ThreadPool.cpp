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

struct ThreadPool::Job {
  const RangeFn *fn = nullptr;
  int64_t begin = 0, end = 0, chunk = 1, numChunks = 0;
  std::atomic<int64_t> next{0}; // The next chunk to claim.
  std::atomic<int64_t> done{0}; // Chunks finished.
};

bool ThreadPool::runChunks(Job &job) {
  bool finishedLast = false;
  for (;;) {
    // fn is only touched after a successful claim, and the caller returns
    // only once every claimed chunk is done: a late worker never calls a
    // dead fn.
    int64_t c = job.next.fetch_add(1, std::memory_order_relaxed);
    if (c >= job.numChunks)
      break;
    int64_t b = job.begin + c * job.chunk;
    (*job.fn)(b, std::min(job.end, b + job.chunk));
    if (job.done.fetch_add(1, std::memory_order_acq_rel) + 1 == job.numChunks)
      finishedLast = true;
  }
  return finishedLast;
}

void ThreadPool::workerLoop() {
  tlsInsideWorker = true;
  // OpenMP's team size is per thread: oneDNN called from this worker must
  // stay single-threaded too.
  setLibraryThreads(1);
  uint64_t seen = 0;
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_)
        return;
      seen = generation_;
      job = job_;
    }
    if (job && runChunks(*job)) {
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
  // A few chunks per thread balance uneven chunks without much overhead.
  int64_t maxChunks = int64_t(numThreads()) * 4;
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->begin = begin;
  job->end = end;
  job->chunk = std::max(grain, (n + maxChunks - 1) / maxChunks);
  job->numChunks = (n + job->chunk - 1) / job->chunk;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = job;
    ++generation_;
  }
  wake_.notify_all();
  bool wasInside = tlsInsideWorker;
  tlsInsideWorker = true; // fn calling parallelFor again runs inline.
  runChunks(*job);
  tlsInsideWorker = wasInside;
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] {
    return job->done.load(std::memory_order_acquire) == job->numChunks;
  });
  job_.reset(); // Late workers keep their own reference.
}

} // namespace kiln
