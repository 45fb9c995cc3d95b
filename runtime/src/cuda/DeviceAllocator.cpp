//===- DeviceAllocator.cpp - Stream-ordered caching allocator for GPUs ----===//
//
// The pool logic only; it never touches CUDA itself (the source does), so it
// builds and is tested without the toolkit or a GPU.
//
//===----------------------------------------------------------------------===//
#include "kiln/cuda/DeviceAllocator.h"

#include <algorithm>
#include <bit>
#include <cstdio>

namespace kiln::cuda {

namespace {
constexpr size_t kGranule = 512;
constexpr size_t kSmallLimit = size_t(1) << 20;
/// Requests above this cannot be real; rounding them would overflow.
constexpr size_t kLargestRequest = size_t(1) << 60;

std::string streamName(StreamHandle s) {
  if (!s)
    return "default stream";
  char buf[40];
  std::snprintf(buf, sizeof buf, "stream %p", s);
  return buf;
}
} // namespace

size_t DeviceCachingAllocator::roundToSizeClass(size_t bytes) {
  if (bytes <= kSmallLimit)
    return std::max(kGranule, (bytes + kGranule - 1) / kGranule * kGranule);
  unsigned k = std::bit_width(bytes - 1) - 1; // 2^k < bytes <= 2^(k+1)
  size_t step = size_t(1) << (k - 2);
  size_t rounded = (bytes + step - 1) / step * step;
  return (rounded + kGranule - 1) / kGranule * kGranule;
}

Expected<std::unique_ptr<DeviceCachingAllocator>>
DeviceCachingAllocator::create(std::unique_ptr<StreamOrderedMemorySource> source,
                               Options options) {
  if (!source)
    return invalidArgument("DeviceCachingAllocator needs a memory source");
  std::unique_ptr<DeviceCachingAllocator> a(
      new DeviceCachingAllocator(std::move(source)));
  if (options.limitBytes)
    KILN_RETURN_IF_ERROR(a->setMemoryLimit(options.limitBytes));
  else if (options.limitFraction != 0.0)
    KILN_RETURN_IF_ERROR(a->setMemoryLimitFraction(options.limitFraction));
  return a;
}

DeviceCachingAllocator::~DeviceCachingAllocator() {
  std::lock_guard<std::mutex> lock(mutex_);
  emptyCacheLocked();
  // Live blocks belong to tensors that outlive the device (a host bug):
  // they are left to the driver, which frees them with the context.
}

bool DeviceCachingAllocator::eventsDoneLocked(Block &block) {
  while (!block.events.empty()) {
    EventHandle e = block.events.back();
    if (e && !source_->eventDone(e))
      return false;
    if (e)
      source_->destroyEvent(e);
    block.events.pop_back();
  }
  return true;
}

void *DeviceCachingAllocator::takeCachedLocked(size_t size, StreamHandle stream) {
  auto it = bins_.find(size);
  if (it == bins_.end())
    return nullptr;
  std::vector<Block> &blocks = it->second;
  // Latest freed first: its memory is the most likely to be in L2.
  for (size_t i = blocks.size(); i-- > 0;) {
    Block &b = blocks[i];
    if (b.stream != stream || !eventsDoneLocked(b))
      continue;
    void *p = b.ptr;
    blocks.erase(blocks.begin() + std::ptrdiff_t(i));
    return p;
  }
  return nullptr;
}

std::vector<LiveAllocation> DeviceCachingAllocator::largestLocked(size_t n) const {
  std::vector<LiveAllocation> all;
  all.reserve(live_.size());
  for (const auto &[ptr, l] : live_)
    all.push_back({ptr, l.requested, l.size, l.stream, l.tag});
  size_t k = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + std::ptrdiff_t(k), all.end(),
                    [](const LiveAllocation &a, const LiveAllocation &b) {
                      return a.blockBytes != b.blockBytes
                                 ? a.blockBytes > b.blockBytes
                                 : a.ptr < b.ptr;
                    });
  all.resize(k);
  return all;
}

std::string DeviceCachingAllocator::describeLocked() const {
  std::string s = strCat(formatBytes(stats_.bytesInUse), " in use by ",
                         live_.size(), " allocation(s), ",
                         formatBytes(stats_.bytesReserved - stats_.bytesInUse),
                         " cached");
  if (limit_)
    s += strCat(", limit ", formatBytes(int64_t(limit_)));
  s += strCat(", device capacity ", formatBytes(int64_t(source_->capacity())));
  std::vector<LiveAllocation> largest = largestLocked(5);
  if (!largest.empty()) {
    s += "; largest live allocations:";
    for (const LiveAllocation &a : largest)
      s += strCat("\n  ", formatBytes(int64_t(a.blockBytes)), " on ",
                  streamName(a.stream),
                  a.tag.empty() ? std::string() : strCat(" (", a.tag, ")"));
  }
  return s;
}

void DeviceCachingAllocator::setDefaultStream(StreamHandle stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  defaultStream_ = stream;
}

Expected<void *> DeviceCachingAllocator::allocate(size_t bytes) {
  StreamHandle stream;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stream = defaultStream_;
  }
  return allocate(bytes, stream);
}

Expected<void *> DeviceCachingAllocator::allocate(size_t bytes,
                                                  StreamHandle stream,
                                                  std::string_view tag) {
  if (bytes == 0)
    return static_cast<void *>(nullptr);
  std::lock_guard<std::mutex> lock(mutex_);
  auto oom = [&](size_t requested) -> Status {
    ++stats_.numOomErrors;
    return outOfMemory("out of memory on ", source_->name(), ": requested ",
                       formatBytes(int64_t(std::min<size_t>(requested, INT64_MAX))),
                       tag.empty() ? std::string() : strCat(" for ", tag),
                       " on ", streamName(stream), "; ", describeLocked());
  };
  if (bytes > kLargestRequest)
    return oom(bytes);
  size_t size = roundToSizeClass(bytes);
  void *p = takeCachedLocked(size, stream);
  if (p) {
    ++stats_.cacheHits;
  } else {
    ++stats_.cacheMisses;
    auto fits = [&] {
      return !limit_ || size_t(stats_.bytesReserved) + size <= limit_;
    };
    if (fits())
      p = source_->map(size);
    if (!p && stats_.bytesReserved > stats_.bytesInUse) {
      // Cached blocks (of other sizes or streams) may be in the way: wait
      // for the device, give them all back and try once more.
      emptyCacheLocked();
      if (fits())
        p = source_->map(size);
    }
    if (!p)
      return oom(bytes);
    stats_.bytesReserved += int64_t(size);
    stats_.peakBytesReserved =
        std::max(stats_.peakBytesReserved, stats_.bytesReserved);
  }
  ++stats_.numAllocations;
  stats_.bytesInUse += int64_t(size);
  stats_.peakBytesInUse = std::max(stats_.peakBytesInUse, stats_.bytesInUse);
  live_[p] = Live{bytes, size, stream, {}, std::string(tag)};
  return p;
}

Status DeviceCachingAllocator::recordStream(void *ptr, StreamHandle stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(ptr);
  if (it == live_.end())
    return invalidArgument("recordStream: ", ptr,
                           " is not a live allocation of ", source_->name());
  Live &l = it->second;
  if (stream != l.stream &&
      std::find(l.otherStreams.begin(), l.otherStreams.end(), stream) ==
          l.otherStreams.end())
    l.otherStreams.push_back(stream);
  return Status();
}

void DeviceCachingAllocator::deallocate(void *ptr, size_t) {
  if (!ptr)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(ptr);
  if (it == live_.end())
    return; // not ours (or freed twice): a host bug we must not turn into UB
  Live l = std::move(it->second);
  live_.erase(it);
  ++stats_.numDeallocations;
  stats_.bytesInUse -= int64_t(l.size);
  Block block{ptr, l.stream, {}};
  for (StreamHandle other : l.otherStreams)
    block.events.push_back(source_->recordEvent(other));
  // An event that could not be recorded leaves no way to tell when the
  // other stream is done with the block: wait for the device instead.
  if (std::find(block.events.begin(), block.events.end(), nullptr) !=
      block.events.end()) {
    source_->synchronizeAll();
    for (EventHandle e : block.events)
      if (e)
        source_->destroyEvent(e);
    block.events.clear();
  }
  bins_[l.size].push_back(std::move(block));
}

void DeviceCachingAllocator::emptyCacheLocked() {
  if (bins_.empty())
    return;
  // Cached blocks may still be read by queued work (stream-ordered reuse
  // never waited for it); freeing them needs the device idle.
  source_->synchronizeAll();
  for (auto &[size, blocks] : bins_)
    for (Block &b : blocks) {
      for (EventHandle e : b.events)
        if (e)
          source_->destroyEvent(e);
      source_->unmap(b.ptr, size);
      stats_.bytesReserved -= int64_t(size);
    }
  bins_.clear();
  ++cacheFlushes_;
}

void DeviceCachingAllocator::emptyCache() {
  std::lock_guard<std::mutex> lock(mutex_);
  emptyCacheLocked();
}

AllocatorStats DeviceCachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  AllocatorStats s = stats_;
  s.limitBytes = int64_t(limit_);
  return s;
}

DeviceAllocatorStats DeviceCachingAllocator::deviceStats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceAllocatorStats s;
  s.base = stats_;
  s.base.limitBytes = int64_t(limit_);
  for (const auto &[size, blocks] : bins_)
    for (const Block &b : blocks) {
      ++s.cachedBlocks;
      s.blocksAwaitingEvents += !b.events.empty();
    }
  s.cacheFlushes = cacheFlushes_;
  s.liveAllocations = int64_t(live_.size());
  return s;
}

std::vector<LiveAllocation>
DeviceCachingAllocator::largestLiveAllocations(size_t n) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return largestLocked(n);
}

std::string DeviceCachingAllocator::summary() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return strCat(source_->name(), ": ", describeLocked(), "\n  peak in use ",
                formatBytes(stats_.peakBytesInUse), ", peak reserved ",
                formatBytes(stats_.peakBytesReserved), ", ",
                stats_.numAllocations, " allocations (", stats_.cacheHits,
                " from the cache), ", stats_.numOomErrors, " OOM");
}

void DeviceCachingAllocator::resetPeak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peakBytesInUse = stats_.bytesInUse;
  stats_.peakBytesReserved = stats_.bytesReserved;
}

void DeviceCachingAllocator::resetStats() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.numAllocations = stats_.numDeallocations = 0;
  stats_.cacheHits = stats_.cacheMisses = stats_.numOomErrors = 0;
  stats_.peakBytesInUse = stats_.bytesInUse;
  stats_.peakBytesReserved = stats_.bytesReserved;
  cacheFlushes_ = 0;
}

Status DeviceCachingAllocator::setMemoryLimit(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  limit_ = bytes;
  if (limit_ && size_t(stats_.bytesReserved) > limit_)
    emptyCacheLocked();
  return Status();
}

Status DeviceCachingAllocator::setMemoryLimitFraction(double fraction) {
  if (!(fraction > 0.0 && fraction <= 1.0))
    return invalidArgument("memory limit fraction must be in (0, 1], got ",
                           fraction);
  return setMemoryLimit(size_t(double(source_->capacity()) * fraction));
}

} // namespace kiln::cuda
