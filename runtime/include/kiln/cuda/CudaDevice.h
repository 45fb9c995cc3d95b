//===- CudaDevice.h - An NVIDIA GPU as a kiln::Device ---------------------===//
//
// The CUDA device composes the parts Device.h names: a stream-ordered
// caching allocator over cuMemAlloc (DeviceAllocator.h), copies, streams
// and events, NVRTC with its on-disk cache for kernels (Nvrtc.h), module
// loading, launches and CUDA Graphs. The driver is dlopen'ed
// (libcuda.so.1, or $KILN_CUDA_DRIVER): a binary built with CUDA runs on
// machines without one, where cudaDevice() answers Unavailable ("no CUDA
// driver: ..." / "no CUDA device ...") and the CPU device works as always.
//
//   auto gpu = kiln::cuda::cudaDevice(0);      // or kiln::getDevice("cuda:0")
//   if (!gpu) { log(gpu.status()); use kiln::cpuDevice(); }
//   KILN_ASSIGN_OR_RETURN(auto module, (*gpu)->compileModule(source, "k.cu"));
//   KILN_ASSIGN_OR_RETURN(auto fn, (*gpu)->function(module, "kiln_kernel_0"));
//   void *args[] = {&in, &out, &n};
//   KILN_RETURN_IF_ERROR((*gpu)->launch(fn, {blocks, 1, 1}, {256, 1, 1}, 0,
//                                       (*gpu)->stream(), args));
//
// Lifetime: devices are created on first use and never destroyed (as the
// CPU device); modules, streams, events and graphs are owned by the caller
// and released with the matching call. Handles are opaque (CUmodule,
// CUfunction, CUstream, CUgraphExec) so hosts need no CUDA headers.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_CUDA_CUDADEVICE_H
#define KILN_CUDA_CUDADEVICE_H

#include "kiln/Device.h"
#include "kiln/cuda/DeviceAllocator.h"
#include "kiln/cuda/Nvrtc.h"

#include <array>

namespace kiln::cuda {

class CudaDevice;

/// How many CUDA devices there are; the status says why none can be used
/// (no driver, no device).
Expected<int> deviceCount();

/// The CUDA device `ordinal`, created on first use.
Expected<CudaDevice *> cudaDevice(int ordinal = 0);

/// "cuda" or "cuda:N" (what kiln::getDevice forwards); InvalidArgument for
/// a malformed name.
Expected<Device *> cudaDeviceByName(std::string_view name);

using ModuleHandle = void *;   ///< CUmodule
using FunctionHandle = void *; ///< CUfunction
using GraphHandle = void *;    ///< CUgraphExec

class CudaDevice : public Device {
public:
  DeviceKind kind() const override { return DeviceKind::CUDA; }
  bool isHostAccessible() const override { return false; }

  /// "NVIDIA H200", compute capability 90, bytes of device memory.
  virtual std::string deviceName() const = 0;
  virtual int computeCapability() const = 0;
  virtual size_t totalMemory() const = 0;

  virtual DeviceCachingAllocator &deviceAllocator() = 0;

  // --- Streams, events, copies ---------------------------------------------
  /// The stream Device's calls use (non-blocking, created with the device).
  virtual StreamHandle stream() const = 0;
  virtual Expected<StreamHandle> createStream() = 0;
  virtual Status destroyStream(StreamHandle stream) = 0;
  virtual Status synchronizeStream(StreamHandle stream) = 0;
  virtual Expected<EventHandle> recordEvent(StreamHandle stream) = 0;
  virtual Status waitEvent(StreamHandle stream, EventHandle event) = 0;
  virtual Status destroyEvent(EventHandle event) = 0;
  virtual Status copyToHostAsync(void *hostDst, const void *deviceSrc,
                                 size_t bytes, StreamHandle stream) = 0;
  virtual Status copyFromHostAsync(void *deviceDst, const void *hostSrc,
                                   size_t bytes, StreamHandle stream) = 0;
  virtual Status copyDeviceToDevice(void *dst, const void *src, size_t bytes,
                                    StreamHandle stream) = 0;

  /// Page-locked host memory (fast, truly asynchronous copies).
  virtual Expected<void *> allocatePinned(size_t bytes) = 0;
  virtual Status freePinned(void *ptr) = 0;

  // --- Kernels --------------------------------------------------------------
  /// Compiles CUDA C with NVRTC for this device (through the kernel cache)
  /// and loads it. Compile errors carry the NVRTC log.
  virtual Expected<ModuleHandle> compileModule(std::string_view source,
                                               std::string_view programName) = 0;
  /// Loads PTX or a cubin.
  virtual Expected<ModuleHandle> loadModule(std::string_view image) = 0;
  virtual Status unloadModule(ModuleHandle module) = 0;
  virtual Expected<FunctionHandle> function(ModuleHandle module,
                                            std::string_view name) = 0;
  virtual Status launch(FunctionHandle fn, std::array<unsigned, 3> grid,
                        std::array<unsigned, 3> block, unsigned sharedBytes,
                        StreamHandle stream, void **args) = 0;

  // --- CUDA Graphs ----------------------------------------------------------
  /// Starts capturing the work queued on `stream` (not executed while
  /// capturing); endCapture instantiates it for replay.
  virtual Status beginCapture(StreamHandle stream) = 0;
  virtual Expected<GraphHandle> endCapture(StreamHandle stream) = 0;
  virtual Status launchGraph(GraphHandle graph, StreamHandle stream) = 0;
  virtual Status destroyGraph(GraphHandle graph) = 0;
};

} // namespace kiln::cuda

#endif // KILN_CUDA_CUDADEVICE_H
