//===- Device.h - Where tensors live and kernels run -----------------------===//
//
// A Device is a composition of a few parts (tinygrad's Compiled(allocator,
// renderer, compiler, runtime)): an Allocator for its memory, a way to move
// bytes to and from the host, and a way to run kernels (the thread pool on
// CPU; a stream, NVRTC and cuBLASLt on CUDA when that device is added). The
// eager ops ask a tensor's device for these parts instead of assuming host
// memory, so a CUDA device slots in by implementing this interface.
//
// Lifetime: devices are created once per process and never destroyed, so a
// tensor can always return its memory, whatever order statics die in.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_DEVICE_H
#define KILN_DEVICE_H

#include "kiln/Allocator.h"
#include "kiln/Status.h"

#include <string>
#include <string_view>

namespace kiln {

class ThreadPool;

enum class DeviceKind : unsigned char { CPU, CUDA };

class Device {
public:
  virtual ~Device() = default;
  virtual DeviceKind kind() const = 0;
  /// Ordinal among devices of the same kind.
  virtual int index() const { return 0; }
  /// "cpu", "cuda:0".
  virtual std::string name() const = 0;
  /// True when its memory is directly addressable by the host.
  virtual bool isHostAccessible() const = 0;

  /// The allocator of this device's memory.
  virtual Allocator &allocator() = 0;

  /// Copies between host memory and this device's memory; both directions
  /// are plain memcpy on CPU.
  virtual Status copyToHost(void *hostDst, const void *deviceSrc,
                            size_t bytes) = 0;
  virtual Status copyFromHost(void *deviceDst, const void *hostSrc,
                              size_t bytes) = 0;
  /// Waits until the work queued on this device is done (no-op on CPU).
  virtual Status synchronize() = 0;

  /// The pool that runs CPU kernels; nullptr for devices that run elsewhere.
  virtual ThreadPool *threadPool() { return nullptr; }
};

/// The CPU device (its allocator is a CachingAllocator over the C heap and
/// its kernels run on ThreadPool::global()).
Device &cpuDevice();

/// Looks a device up by name: "cpu" (or "cpu:0"). "cuda[:N]" answers
/// Unavailable until the CUDA device exists; anything else is NotFound.
Expected<Device *> getDevice(std::string_view name);

} // namespace kiln

#endif // KILN_DEVICE_H
