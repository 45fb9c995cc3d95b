//===- Allocator.h - Caching device memory allocator -----------------------===//
//
// Tensors get their memory from a device's Allocator. The caching allocator
// keeps freed blocks in size-class bins and hands them out again, so a model
// that runs the same shapes every step stops calling the OS after its first
// step. It is layered over a MemorySource (the OS heap on CPU; cuMemAlloc
// later on CUDA), so every device gets the same caching, statistics and
// limit logic.
//
// Limit: the allocator never holds more than `limit` bytes (in use plus
// cached). A request that would pass it first returns the cache to the
// source and retries; if it still does not fit, it fails with an OutOfMemory
// Status naming the requested size and what is in use. Nothing is left
// half-done, so the caller can free tensors and carry on.
//
// Thread safety: every method may be called from any thread.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_ALLOCATOR_H
#define KILN_ALLOCATOR_H

#include "kiln/Status.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kiln {

/// Every block is aligned to this many bytes (a cache line; AVX-512 width).
inline constexpr size_t kAllocationAlignment = 64;

/// Counters of an allocator. Bytes are block sizes after rounding to the
/// size class.
struct AllocatorStats {
  int64_t bytesInUse = 0;        ///< Held by live allocations.
  int64_t peakBytesInUse = 0;    ///< Max of bytesInUse since resetPeak().
  int64_t bytesReserved = 0;     ///< In use plus cached (taken from source).
  int64_t peakBytesReserved = 0; ///< Max of bytesReserved since resetPeak().
  int64_t numAllocations = 0;    ///< Successful allocate() calls.
  int64_t numDeallocations = 0;
  int64_t cacheHits = 0;   ///< Served from a bin.
  int64_t cacheMisses = 0; ///< Had to ask the memory source.
  int64_t numOomErrors = 0;
  int64_t limitBytes = 0; ///< The current limit (0: none).
};

/// Where raw memory comes from (OS heap, device memory). Not cached.
class MemorySource {
public:
  virtual ~MemorySource() = default;
  /// `bytes` > 0 and a multiple of kAllocationAlignment. Returns nullptr when
  /// the memory is not there (never throws).
  virtual void *map(size_t bytes) = 0;
  virtual void unmap(void *ptr, size_t bytes) = 0;
  /// Bytes the source could hold at most (physical RAM, device memory).
  virtual size_t capacity() const = 0;
  virtual std::string name() const = 0;
};

/// Aligned host memory from the C heap.
std::unique_ptr<MemorySource> createHostMemorySource();

/// The interface tensors allocate through.
class Allocator {
public:
  virtual ~Allocator() = default;
  /// A block of at least `bytes`, 64-byte aligned. `bytes` == 0 gives nullptr
  /// (a valid empty block). Fails with OutOfMemory.
  virtual Expected<void *> allocate(size_t bytes) = 0;
  /// Returns a block; `bytes` is the size passed to allocate().
  virtual void deallocate(void *ptr, size_t bytes) = 0;
  virtual AllocatorStats stats() const = 0;
  /// Peaks restart from the current values.
  virtual void resetPeak() = 0;
  /// Counters (allocations, hits, misses, OOMs) restart from 0; the byte
  /// gauges (in use, reserved) are facts and stay.
  virtual void resetStats() = 0;
  /// Returns every cached block to the memory source.
  virtual void emptyCache() = 0;
  /// 0: no limit beyond what the source gives.
  virtual Status setMemoryLimit(size_t bytes) = 0;
  /// A fraction (0, 1] of the source's capacity (e.g. of physical RAM).
  virtual Status setMemoryLimitFraction(double fraction) = 0;
};

/// The size-class binned caching allocator.
class CachingAllocator final : public Allocator {
public:
  struct Options {
    size_t limitBytes = 0;      ///< 0: none.
    double limitFraction = 0.0; ///< Used when limitBytes == 0 and > 0.
  };
  static Expected<std::unique_ptr<CachingAllocator>>
  create(std::unique_ptr<MemorySource> source, Options options);
  static Expected<std::unique_ptr<CachingAllocator>>
  create(std::unique_ptr<MemorySource> source) {
    return create(std::move(source), Options{});
  }
  ~CachingAllocator() override;

  /// The block size a request of `bytes` is rounded to: multiples of 64 up
  /// to 512 bytes, then four classes per power of two (waste <= 25%).
  static size_t roundToSizeClass(size_t bytes);

  Expected<void *> allocate(size_t bytes) override;
  void deallocate(void *ptr, size_t bytes) override;
  AllocatorStats stats() const override;
  void resetPeak() override;
  void resetStats() override;
  void emptyCache() override;
  Status setMemoryLimit(size_t bytes) override;
  Status setMemoryLimitFraction(double fraction) override;

private:
  explicit CachingAllocator(std::unique_ptr<MemorySource> source);
  void emptyCacheLocked();
  std::string describeLocked() const;

  std::unique_ptr<MemorySource> source_;
  mutable std::mutex mutex_;
  std::map<size_t, std::vector<void *>> bins_; // size class -> free blocks
  AllocatorStats stats_;
  size_t limit_ = 0;
};

/// Formats a byte count for messages: "1.50 MiB (1572864 bytes)".
std::string formatBytes(int64_t bytes);

} // namespace kiln

#endif // KILN_ALLOCATOR_H
