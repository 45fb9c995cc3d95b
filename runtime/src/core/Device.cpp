//===- Device.cpp - The CPU device -----------------------------------------===//
#include "kiln/Device.h"
#include "kiln/ThreadPool.h"
#include "kiln/cuda/CudaDevice.h"

#include <cstring>

namespace kiln {

namespace {
class CpuDevice final : public Device {
public:
  explicit CpuDevice(std::unique_ptr<Allocator> allocator)
      : allocator_(std::move(allocator)) {}
  DeviceKind kind() const override { return DeviceKind::CPU; }
  std::string name() const override { return "cpu"; }
  bool isHostAccessible() const override { return true; }
  Allocator &allocator() override { return *allocator_; }
  Status copyToHost(void *dst, const void *src, size_t bytes) override {
    if (bytes)
      std::memcpy(dst, src, bytes);
    return Status();
  }
  Status copyFromHost(void *dst, const void *src, size_t bytes) override {
    if (bytes)
      std::memcpy(dst, src, bytes);
    return Status();
  }
  Status synchronize() override { return Status(); }
  ThreadPool *threadPool() override { return &ThreadPool::global(); }

private:
  std::unique_ptr<Allocator> allocator_;
};
} // namespace

Device &cpuDevice() {
  // Leaked on purpose (see the lifetime note in Device.h).
  static Device *device = [] {
    auto allocator = CachingAllocator::create(createHostMemorySource());
    // Creating a limit-free allocator over the heap cannot fail.
    return new CpuDevice(std::move(*allocator));
  }();
  return *device;
}

Expected<Device *> getDevice(std::string_view name) {
  if (name == "cpu" || name == "cpu:0")
    return &cpuDevice();
  if (name == "cuda" || name.starts_with("cuda:"))
    return cuda::cudaDeviceByName(name);
  return notFound("unknown device '", name, "' (known: cpu, cuda[:N])");
}

} // namespace kiln
