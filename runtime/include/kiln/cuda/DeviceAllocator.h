//===- DeviceAllocator.h - Stream-ordered caching allocator for GPUs ------===//
//
// cuMemAlloc/cuMemFree are slow and synchronize the device, so CUDA memory
// goes through a cache: freed blocks wait in size-class bins and are handed
// out again. GPU work is asynchronous, so a block freed by the host may
// still be read by kernels queued on a stream. Reuse follows stream order:
//
//  * A block freed on stream S goes back to S's pool; a later allocation on
//    S may take it at once, since S runs its work in order.
//  * A block also used on other streams (recordStream) gets an event on
//    each of them when freed; no one reuses it before those complete.
//  * Another stream never takes it while cached; when memory runs short,
//    the allocator synchronizes, returns the whole cache and retries.
//
// Limit: never more than `limit` bytes reserved (in use plus cached),
// given as bytes or a fraction of device memory. A request that does not
// fit frees the cache and retries; if it still fails the status is
// OutOfMemory and lists the largest live allocations (size, stream, tag),
// and the allocator keeps working.
//
// The memory and events come from a StreamOrderedMemorySource: CUDA's on a
// device (CudaDevice.cpp), a fake in the unit tests of the pool logic.
//
//   auto a = DeviceCachingAllocator::create(std::move(source), {.limitFraction = 0.9});
//   KILN_ASSIGN_OR_RETURN(void *p, (*a)->allocate(1 << 20, stream, "activations"));
//   ... launch kernels on `stream` that use p ...
//   (*a)->deallocate(p, 1 << 20);   // p may be reused by the next allocation on stream
//
// Thread safety: every method may be called from any thread.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_CUDA_DEVICEALLOCATOR_H
#define KILN_CUDA_DEVICEALLOCATOR_H

#include "kiln/Allocator.h"

#include <string_view>
#include <unordered_map>

namespace kiln::cuda {

/// A CUstream as an opaque handle; nullptr is the device's default stream.
using StreamHandle = void *;
/// A CUevent as an opaque handle.
using EventHandle = void *;

/// Device memory plus what stream ordering needs from the device.
class StreamOrderedMemorySource : public MemorySource {
public:
  /// An event recorded now on `stream`, or nullptr when that failed (the
  /// allocator then treats the block as in use until synchronizeAll()).
  virtual EventHandle recordEvent(StreamHandle stream) = 0;
  /// Whether the work before `event` has finished.
  virtual bool eventDone(EventHandle event) = 0;
  virtual void destroyEvent(EventHandle event) = 0;
  /// Waits for all work on the device.
  virtual void synchronizeAll() = 0;
};

/// Statistics beyond AllocatorStats.
struct DeviceAllocatorStats {
  AllocatorStats base;
  int64_t cachedBlocks = 0;        ///< Blocks in bins.
  int64_t blocksAwaitingEvents = 0; ///< Cached but not yet reusable.
  int64_t cacheFlushes = 0;        ///< Cache returned to free memory.
  int64_t liveAllocations = 0;
};

/// One allocation in use, for OOM reports.
struct LiveAllocation {
  void *ptr = nullptr;
  size_t requestedBytes = 0;
  size_t blockBytes = 0;
  StreamHandle stream = nullptr;
  std::string tag;
};

class DeviceCachingAllocator final : public Allocator {
public:
  struct Options {
    size_t limitBytes = 0;      ///< 0: none.
    double limitFraction = 0.0; ///< Of the source's capacity; used when > 0.
  };
  static Expected<std::unique_ptr<DeviceCachingAllocator>>
  create(std::unique_ptr<StreamOrderedMemorySource> source, Options options);
  ~DeviceCachingAllocator() override;

  /// Block sizes: multiples of 512 bytes up to 1 MiB, then four classes per
  /// power of two (waste <= 25%), each a multiple of 512.
  static size_t roundToSizeClass(size_t bytes);

  /// An allocation used on `stream` (named `tag` in OOM reports).
  Expected<void *> allocate(size_t bytes, StreamHandle stream,
                            std::string_view tag = {});
  /// Also used on `stream`: the block is not reused until the work queued
  /// there before its free is done.
  Status recordStream(void *ptr, StreamHandle stream);

  /// The stream allocate(bytes) (the Allocator interface) uses: the stream
  /// the device queues its own work on. nullptr (CUDA's default) at first.
  void setDefaultStream(StreamHandle stream);

  // Allocator: allocations on the default stream.
  Expected<void *> allocate(size_t bytes) override;
  void deallocate(void *ptr, size_t bytes) override;
  AllocatorStats stats() const override;
  void resetPeak() override;
  void resetStats() override;
  void emptyCache() override;
  Status setMemoryLimit(size_t bytes) override;
  Status setMemoryLimitFraction(double fraction) override;

  DeviceAllocatorStats deviceStats() const;
  /// The `n` largest live allocations, largest first.
  std::vector<LiveAllocation> largestLiveAllocations(size_t n) const;
  /// A multi-line summary (stats and the largest allocations).
  std::string summary() const;

private:
  struct Block {
    void *ptr;
    StreamHandle stream;
    std::vector<EventHandle> events; // must complete before reuse
  };
  struct Live {
    size_t requested, size;
    StreamHandle stream;
    std::vector<StreamHandle> otherStreams;
    std::string tag;
  };
  explicit DeviceCachingAllocator(std::unique_ptr<StreamOrderedMemorySource> s)
      : source_(std::move(s)) {}
  void *takeCachedLocked(size_t size, StreamHandle stream);
  bool eventsDoneLocked(Block &block);
  void emptyCacheLocked();
  std::string describeLocked() const;
  std::vector<LiveAllocation> largestLocked(size_t n) const;

  std::unique_ptr<StreamOrderedMemorySource> source_;
  mutable std::mutex mutex_;
  std::map<size_t, std::vector<Block>> bins_;
  std::unordered_map<void *, Live> live_;
  AllocatorStats stats_;
  int64_t cacheFlushes_ = 0;
  size_t limit_ = 0;
  StreamHandle defaultStream_ = nullptr;
};

} // namespace kiln::cuda

#endif // KILN_CUDA_DEVICEALLOCATOR_H
