//===- DeviceAllocatorTest.cpp - Pool logic of the CUDA caching allocator -===//
//
// The allocator's binning, stream-ordered reuse, limits and OOM recovery,
// exercised over a fake StreamOrderedMemorySource (host addresses that are
// never dereferenced, events completed by the test), so it runs without a
// GPU. The CUDA source itself is checked by tools/gpu-check.sh on a GPU.
//
//===----------------------------------------------------------------------===//
#include "kiln/cuda/DeviceAllocator.h"

#include <gtest/gtest.h>

#include <set>

using namespace kiln;
using namespace kiln::cuda;

namespace {

struct FakeState {
  size_t capacity = size_t(1) << 30;
  size_t mapped = 0;
  int maps = 0, unmaps = 0, syncs = 0;
  bool refuseMaps = false;   // the device says out of memory
  bool failEvents = false;   // cuEventRecord fails
  std::set<uintptr_t> pendingEvents; // recorded, not complete
  std::set<uintptr_t> liveEvents;
  uintptr_t nextEvent = 1;
  uintptr_t nextAddress = 0x100000;
};

class FakeSource final : public StreamOrderedMemorySource {
public:
  explicit FakeSource(FakeState &s) : s_(s) {}
  void *map(size_t bytes) override {
    if (s_.refuseMaps || s_.mapped + bytes > s_.capacity)
      return nullptr;
    ++s_.maps;
    s_.mapped += bytes;
    uintptr_t p = s_.nextAddress;
    s_.nextAddress += bytes;
    return reinterpret_cast<void *>(p);
  }
  void unmap(void *, size_t bytes) override {
    ++s_.unmaps;
    s_.mapped -= bytes;
  }
  size_t capacity() const override { return s_.capacity; }
  std::string name() const override { return "fake:0"; }
  EventHandle recordEvent(StreamHandle) override {
    if (s_.failEvents)
      return nullptr;
    uintptr_t e = s_.nextEvent++;
    s_.pendingEvents.insert(e);
    s_.liveEvents.insert(e);
    return reinterpret_cast<EventHandle>(e);
  }
  bool eventDone(EventHandle e) override {
    return !s_.pendingEvents.count(reinterpret_cast<uintptr_t>(e));
  }
  void destroyEvent(EventHandle e) override {
    s_.liveEvents.erase(reinterpret_cast<uintptr_t>(e));
  }
  void synchronizeAll() override {
    ++s_.syncs;
    s_.pendingEvents.clear();
  }

private:
  FakeState &s_;
};

std::unique_ptr<DeviceCachingAllocator>
makeAllocator(FakeState &s, DeviceCachingAllocator::Options o = {}) {
  auto a = DeviceCachingAllocator::create(std::make_unique<FakeSource>(s), o);
  EXPECT_TRUE(a.ok()) << a.status();
  return std::move(*a);
}

StreamHandle streamA = reinterpret_cast<StreamHandle>(0xa);
StreamHandle streamB = reinterpret_cast<StreamHandle>(0xb);
constexpr size_t MiB = size_t(1) << 20;

} // namespace

TEST(DeviceAllocator, SizeClasses) {
  EXPECT_EQ(DeviceCachingAllocator::roundToSizeClass(1), 512u);
  EXPECT_EQ(DeviceCachingAllocator::roundToSizeClass(513), 1024u);
  EXPECT_EQ(DeviceCachingAllocator::roundToSizeClass(MiB), MiB);
  // Above 1 MiB: four classes per power of two.
  EXPECT_EQ(DeviceCachingAllocator::roundToSizeClass(MiB + 1), MiB + MiB / 4);
  EXPECT_EQ(DeviceCachingAllocator::roundToSizeClass(3 * MiB + 1),
            3 * MiB + MiB / 2);
  for (size_t n : {size_t(1), size_t(777), MiB - 3, 5 * MiB + 17, 1000 * MiB}) {
    size_t r = DeviceCachingAllocator::roundToSizeClass(n);
    EXPECT_GE(r, n);
    EXPECT_EQ(r % 512, 0u);
    if (n > MiB) {
      EXPECT_LE(double(r), 1.25 * double(n)) << n;
    }
  }
}

TEST(DeviceAllocator, ReusesOnTheSameStreamWithoutWaiting) {
  FakeState s;
  auto a = makeAllocator(s);
  auto p = a->allocate(1000, streamA);
  ASSERT_TRUE(p.ok());
  a->deallocate(*p, 1000);
  auto q = a->allocate(900, streamA); // same size class
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, *p);
  EXPECT_EQ(s.maps, 1);
  EXPECT_EQ(s.syncs, 0);
  AllocatorStats st = a->stats();
  EXPECT_EQ(st.cacheHits, 1);
  EXPECT_EQ(st.cacheMisses, 1);
  EXPECT_EQ(st.bytesInUse, 1024);
  EXPECT_EQ(st.bytesReserved, 1024);
  a->deallocate(*q, 900);
  EXPECT_EQ(a->stats().bytesInUse, 0);
}

TEST(DeviceAllocator, OtherStreamsDoNotTakeACachedBlock) {
  FakeState s;
  auto a = makeAllocator(s);
  auto p = a->allocate(4096, streamA);
  ASSERT_TRUE(p.ok());
  a->deallocate(*p, 4096);
  // Work queued on A may still read the block: B gets fresh memory.
  auto q = a->allocate(4096, streamB);
  ASSERT_TRUE(q.ok());
  EXPECT_NE(*q, *p);
  EXPECT_EQ(s.maps, 2);
  EXPECT_EQ(a->deviceStats().cachedBlocks, 1);
}

TEST(DeviceAllocator, RecordStreamDelaysReuseUntilTheEventCompletes) {
  FakeState s;
  auto a = makeAllocator(s);
  auto p = a->allocate(4096, streamA);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(a->recordStream(*p, streamB).isOk());
  a->deallocate(*p, 4096);
  ASSERT_EQ(s.pendingEvents.size(), 1u);
  EXPECT_EQ(a->deviceStats().blocksAwaitingEvents, 1);
  auto q = a->allocate(4096, streamA);
  ASSERT_TRUE(q.ok());
  EXPECT_NE(*q, *p) << "reused while stream B may still read it";
  a->deallocate(*q, 4096);
  s.pendingEvents.clear(); // B's work is done
  auto r = a->allocate(4096, streamA);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r == *p || *r == *q);
  a->deallocate(*r, 4096);
  a->emptyCache();
  EXPECT_TRUE(s.liveEvents.empty()) << "every event is destroyed";
  EXPECT_EQ(s.mapped, 0u);
}

TEST(DeviceAllocator, FailedEventRecordSynchronizesInsteadOfRacing) {
  FakeState s;
  auto a = makeAllocator(s);
  auto p = a->allocate(4096, streamA);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(a->recordStream(*p, streamB).isOk());
  s.failEvents = true;
  a->deallocate(*p, 4096);
  EXPECT_EQ(s.syncs, 1);
  EXPECT_EQ(a->deviceStats().blocksAwaitingEvents, 0);
}

TEST(DeviceAllocator, RecordStreamOnUnknownPointerIsAnError) {
  FakeState s;
  auto a = makeAllocator(s);
  int x;
  Status st = a->recordStream(&x, streamA);
  EXPECT_EQ(st.code(), StatusCode::InvalidArgument);
  EXPECT_NE(st.message().find("not a live allocation"), std::string::npos);
  a->deallocate(&x, 4); // not ours: ignored, no crash
  EXPECT_EQ(a->stats().numDeallocations, 0);
}

TEST(DeviceAllocator, LimitFreesTheCacheAndRetries) {
  FakeState s;
  auto a = makeAllocator(s, {.limitBytes = 8 * MiB});
  auto p = a->allocate(6 * MiB, streamA);
  ASSERT_TRUE(p.ok());
  a->deallocate(*p, 6 * MiB); // cached: 6 MiB reserved
  auto q = a->allocate(4 * MiB, streamA); // 6 + 4 > 8: flush, then fits
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(s.unmaps, 1);
  EXPECT_EQ(s.syncs, 1) << "cached blocks are freed only with the device idle";
  EXPECT_EQ(a->stats().bytesReserved, int64_t(4 * MiB));
  EXPECT_EQ(a->deviceStats().cacheFlushes, 1);
}

TEST(DeviceAllocator, DeviceRefusalFreesTheCacheAndRetries) {
  FakeState s;
  s.capacity = 10 * MiB;
  auto a = makeAllocator(s);
  auto p = a->allocate(6 * MiB, streamB);
  ASSERT_TRUE(p.ok());
  a->deallocate(*p, 6 * MiB);
  auto q = a->allocate(6 * MiB, streamA); // device full until B's block goes
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(s.unmaps, 1);
}

TEST(DeviceAllocator, OutOfMemoryListsTheLargestLiveAllocations) {
  FakeState s;
  auto a = makeAllocator(s, {.limitBytes = 64 * MiB});
  auto w = a->allocate(40 * MiB, streamA, "weights");
  auto x = a->allocate(16 * MiB, streamB, "activations");
  auto y = a->allocate(1000, streamA);
  ASSERT_TRUE(w.ok() && x.ok() && y.ok());
  auto big = a->allocate(32 * MiB, streamA, "workspace");
  ASSERT_FALSE(big.ok());
  const Status &st = big.status();
  EXPECT_EQ(st.code(), StatusCode::OutOfMemory);
  const std::string &m = st.message();
  EXPECT_NE(m.find("out of memory on fake:0: requested 32.00 MiB"),
            std::string::npos) << m;
  EXPECT_NE(m.find("for workspace"), std::string::npos) << m;
  EXPECT_NE(m.find("limit 64.00 MiB"), std::string::npos) << m;
  size_t wAt = m.find("40.00 MiB"), xAt = m.find("16.00 MiB");
  ASSERT_NE(wAt, std::string::npos) << m;
  ASSERT_NE(xAt, std::string::npos) << m;
  EXPECT_LT(wAt, xAt) << "largest first: " << m;
  EXPECT_NE(m.find("(weights)"), std::string::npos) << m;
  EXPECT_EQ(a->stats().numOomErrors, 1);

  auto largest = a->largestLiveAllocations(2);
  ASSERT_EQ(largest.size(), 2u);
  EXPECT_EQ(largest[0].tag, "weights");
  EXPECT_EQ(largest[1].tag, "activations");

  // Still usable: free the weights and the same request succeeds.
  a->deallocate(*w, 40 * MiB);
  auto again = a->allocate(32 * MiB, streamA, "workspace");
  ASSERT_TRUE(again.ok()) << again.status();
  a->deallocate(*again, 32 * MiB);
  a->deallocate(*x, 16 * MiB);
  a->deallocate(*y, 1000);
  a->emptyCache();
  EXPECT_EQ(s.mapped, 0u);
  EXPECT_EQ(a->stats().bytesReserved, 0);
}

TEST(DeviceAllocator, AbsurdRequestsAreOutOfMemoryNotOverflow) {
  FakeState s;
  auto a = makeAllocator(s);
  auto p = a->allocate(SIZE_MAX - 3, streamA);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::OutOfMemory);
  auto q = a->allocate(size_t(1) << 40, streamA); // > the fake's capacity
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::OutOfMemory);
  EXPECT_NE(q.status().message().find("device capacity 1.00 GiB"),
            std::string::npos) << q.status();
}

TEST(DeviceAllocator, LimitAsAFraction) {
  FakeState s;
  s.capacity = 100 * MiB;
  auto a = makeAllocator(s, {.limitFraction = 0.5});
  EXPECT_EQ(a->stats().limitBytes, int64_t(50 * MiB));
  EXPECT_EQ(a->setMemoryLimitFraction(0.0).code(), StatusCode::InvalidArgument);
  EXPECT_EQ(a->setMemoryLimitFraction(1.5).code(), StatusCode::InvalidArgument);
  auto bad = DeviceCachingAllocator::create(std::make_unique<FakeSource>(s),
                                            {.limitFraction = -1});
  EXPECT_FALSE(bad.ok());
  EXPECT_FALSE(DeviceCachingAllocator::create(nullptr, {}).ok());
  // Lowering the limit below what is cached returns the cache.
  auto p = a->allocate(30 * MiB, streamA);
  ASSERT_TRUE(p.ok());
  a->deallocate(*p, 30 * MiB);
  ASSERT_TRUE(a->setMemoryLimit(10 * MiB).isOk());
  EXPECT_EQ(a->stats().bytesReserved, 0);
}

TEST(DeviceAllocator, StatsPeaksAndReset) {
  FakeState s;
  auto a = makeAllocator(s);
  auto p = a->allocate(2 * MiB, streamA);
  auto q = a->allocate(2 * MiB, streamA);
  ASSERT_TRUE(p.ok() && q.ok());
  a->deallocate(*p, 2 * MiB);
  AllocatorStats st = a->stats();
  EXPECT_EQ(st.peakBytesInUse, int64_t(4 * MiB));
  EXPECT_EQ(st.bytesInUse, int64_t(2 * MiB));
  EXPECT_EQ(st.numAllocations, 2);
  EXPECT_EQ(st.numDeallocations, 1);
  a->resetPeak();
  EXPECT_EQ(a->stats().peakBytesInUse, int64_t(2 * MiB));
  a->resetStats();
  EXPECT_EQ(a->stats().numAllocations, 0);
  EXPECT_EQ(a->stats().bytesReserved, int64_t(4 * MiB)) << "gauges stay";
  EXPECT_NE(a->summary().find("fake:0"), std::string::npos);
  a->deallocate(*q, 2 * MiB);
}

TEST(DeviceAllocator, TheAllocatorInterfaceUsesTheDefaultStream) {
  FakeState s;
  auto a = makeAllocator(s);
  a->setDefaultStream(streamA);
  auto p = a->allocate(4096); // Allocator interface
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(a->largestLiveAllocations(1)[0].stream, streamA);
  a->deallocate(*p, 4096);
  auto q = a->allocate(4096, streamA);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, *p) << "freed on A, reused on A";
  a->deallocate(*q, 4096);
}

TEST(DeviceAllocator, ZeroBytesIsANullBlock) {
  FakeState s;
  auto a = makeAllocator(s);
  auto p = a->allocate(0);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, nullptr);
  a->deallocate(nullptr, 0);
  EXPECT_EQ(s.maps, 0);
}
