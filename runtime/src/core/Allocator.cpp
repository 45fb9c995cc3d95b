//===- Allocator.cpp - Caching device memory allocator ---------------------===//
#include "kiln/Allocator.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace kiln {

std::string formatBytes(int64_t bytes) {
  static const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  if (u == 0)
    return strCat(bytes, " bytes");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %s (%lld bytes)", v, units[u],
                static_cast<long long>(bytes));
  return buf;
}

namespace {
class HostMemorySource final : public MemorySource {
public:
  void *map(size_t bytes) override {
    // More than the machine's RAM cannot be a real request; refusing it here
    // gives an OutOfMemory status instead of a swap storm (or an ASan abort).
    if (bytes > capacity())
      return nullptr;
    return std::aligned_alloc(kAllocationAlignment, bytes);
  }
  void unmap(void *ptr, size_t) override { std::free(ptr); }
  size_t capacity() const override {
    long pages = sysconf(_SC_PHYS_PAGES);
    long pageSize = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || pageSize <= 0)
      return SIZE_MAX;
    return size_t(pages) * size_t(pageSize);
  }
  std::string name() const override { return "cpu"; }
};
} // namespace

std::unique_ptr<MemorySource> createHostMemorySource() {
  return std::make_unique<HostMemorySource>();
}

CachingAllocator::CachingAllocator(std::unique_ptr<MemorySource> source)
    : source_(std::move(source)) {}

Expected<std::unique_ptr<CachingAllocator>>
CachingAllocator::create(std::unique_ptr<MemorySource> source, Options options) {
  if (!source)
    return invalidArgument("CachingAllocator needs a memory source");
  std::unique_ptr<CachingAllocator> a(new CachingAllocator(std::move(source)));
  if (options.limitBytes)
    KILN_RETURN_IF_ERROR(a->setMemoryLimit(options.limitBytes));
  else if (options.limitFraction != 0.0)
    KILN_RETURN_IF_ERROR(a->setMemoryLimitFraction(options.limitFraction));
  return a;
}

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lock(mutex_);
  emptyCacheLocked();
  // Blocks still in use are owned by tensors that outlive the allocator; a
  // device's allocator lives for the whole process, so this is a host bug.
}

size_t CachingAllocator::roundToSizeClass(size_t bytes) {
  if (bytes <= 512)
    return std::max<size_t>(64, (bytes + 63) & ~size_t(63));
  // Four classes per power of two: 2^k * {4, 5, 6, 7} / 4.
  unsigned k = std::bit_width(bytes - 1) - 1; // 2^k < bytes <= 2^(k+1)
  size_t step = size_t(1) << (k - 2);
  size_t rounded = (bytes + step - 1) / step * step;
  return (rounded + 63) & ~size_t(63);
}

std::string CachingAllocator::describeLocked() const {
  std::string s = strCat(formatBytes(stats_.bytesInUse), " in use, ",
                         formatBytes(stats_.bytesReserved - stats_.bytesInUse),
                         " cached");
  if (limit_)
    s += strCat(", limit ", formatBytes(int64_t(limit_)));
  return s;
}

Expected<void *> CachingAllocator::allocate(size_t bytes) {
  if (bytes == 0)
    return static_cast<void *>(nullptr);
  // Requests this large cannot be real; rounding them would overflow.
  if (bytes > (size_t(1) << 60)) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.numOomErrors;
    return outOfMemory("out of memory on ", source_->name(), ": requested ",
                       formatBytes(int64_t(std::min<size_t>(bytes, INT64_MAX))),
                       "; ", describeLocked());
  }
  size_t size = roundToSizeClass(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  auto bumpInUse = [&] {
    ++stats_.numAllocations;
    stats_.bytesInUse += int64_t(size);
    stats_.peakBytesInUse = std::max(stats_.peakBytesInUse, stats_.bytesInUse);
  };
  auto it = bins_.find(size);
  if (it != bins_.end() && !it->second.empty()) {
    void *p = it->second.back();
    it->second.pop_back();
    ++stats_.cacheHits;
    bumpInUse();
    return p;
  }
  ++stats_.cacheMisses;
  auto fitsLimit = [&] {
    return !limit_ || size_t(stats_.bytesReserved) + size <= limit_;
  };
  void *p = nullptr;
  if (fitsLimit())
    p = source_->map(size);
  if (!p) {
    // Cached blocks of other sizes may be what stands in the way.
    emptyCacheLocked();
    if (fitsLimit())
      p = source_->map(size);
  }
  if (!p) {
    ++stats_.numOomErrors;
    return outOfMemory("out of memory on ", source_->name(), ": requested ",
                       formatBytes(int64_t(bytes)), "; ", describeLocked());
  }
  stats_.bytesReserved += int64_t(size);
  stats_.peakBytesReserved =
      std::max(stats_.peakBytesReserved, stats_.bytesReserved);
  bumpInUse();
  return p;
}

void CachingAllocator::deallocate(void *ptr, size_t bytes) {
  if (!ptr)
    return;
  size_t size = roundToSizeClass(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.numDeallocations;
  stats_.bytesInUse -= int64_t(size);
  bins_[size].push_back(ptr);
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  AllocatorStats s = stats_;
  s.limitBytes = int64_t(limit_);
  return s;
}

void CachingAllocator::resetPeak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peakBytesInUse = stats_.bytesInUse;
  stats_.peakBytesReserved = stats_.bytesReserved;
}

void CachingAllocator::resetStats() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.numAllocations = stats_.numDeallocations = 0;
  stats_.cacheHits = stats_.cacheMisses = stats_.numOomErrors = 0;
  stats_.peakBytesInUse = stats_.bytesInUse;
  stats_.peakBytesReserved = stats_.bytesReserved;
}

void CachingAllocator::emptyCache() {
  std::lock_guard<std::mutex> lock(mutex_);
  emptyCacheLocked();
}

void CachingAllocator::emptyCacheLocked() {
  for (auto &[size, blocks] : bins_) {
    for (void *p : blocks)
      source_->unmap(p, size);
    stats_.bytesReserved -= int64_t(size * blocks.size());
  }
  bins_.clear();
}

Status CachingAllocator::setMemoryLimit(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  limit_ = bytes;
  // Shrink the cache now so that reserved memory respects the new limit when
  // it can; blocks in use stay (a lower limit than in use just refuses new
  // requests until tensors are freed).
  if (limit_ && size_t(stats_.bytesReserved) > limit_)
    emptyCacheLocked();
  return Status();
}

Status CachingAllocator::setMemoryLimitFraction(double fraction) {
  if (!(fraction > 0.0 && fraction <= 1.0))
    return invalidArgument("memory limit fraction must be in (0, 1], got ",
                           fraction);
  return setMemoryLimit(size_t(double(source_->capacity()) * fraction));
}

} // namespace kiln
