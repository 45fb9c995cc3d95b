//===- CudaDevice.cpp - An NVIDIA GPU as a kiln::Device -------------------===//
//
// Every driver call goes through KILN_CU_CALL (Driver.h) and runs with the
// device's primary context current on the calling thread (bind()), so any
// host thread may use any device.
//
//===----------------------------------------------------------------------===//
#include "kiln/cuda/CudaDevice.h"

#include "Driver.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <mutex>
#include <vector>

namespace kiln::cuda {

namespace {

CUstream asStream(StreamHandle s) { return static_cast<CUstream>(s); }
CUdeviceptr asDevicePtr(const void *p) {
  return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(p));
}

/// cuMemAlloc/cuMemFree and events, for the caching allocator.
class CudaMemorySource final : public StreamOrderedMemorySource {
public:
  CudaMemorySource(const Driver &d, CUcontext ctx, int ordinal, size_t total)
      : d_(d), ctx_(ctx), ordinal_(ordinal), total_(total) {}

  void *map(size_t bytes) override {
    CUdeviceptr p = 0;
    if (!bind() || d_.cuMemAlloc(&p, bytes) != CUDA_SUCCESS)
      return nullptr;
    return reinterpret_cast<void *>(uintptr_t(p));
  }
  void unmap(void *ptr, size_t) override {
    if (bind())
      d_.cuMemFree(asDevicePtr(ptr));
  }
  size_t capacity() const override { return total_; }
  std::string name() const override { return strCat("cuda:", ordinal_); }

  EventHandle recordEvent(StreamHandle stream) override {
    CUevent e = nullptr;
    if (!bind() || d_.cuEventCreate(&e, CU_EVENT_DISABLE_TIMING) != CUDA_SUCCESS)
      return nullptr;
    if (d_.cuEventRecord(e, asStream(stream)) != CUDA_SUCCESS) {
      d_.cuEventDestroy(e);
      return nullptr;
    }
    return e;
  }
  bool eventDone(EventHandle event) override {
    // Anything but "not ready" (done, or an error that will not clear)
    // releases the block; an error also shows up at the next sync.
    return bind() && d_.cuEventQuery(static_cast<CUevent>(event)) !=
                         CUDA_ERROR_NOT_READY;
  }
  void destroyEvent(EventHandle event) override {
    if (bind())
      d_.cuEventDestroy(static_cast<CUevent>(event));
  }
  void synchronizeAll() override {
    if (bind())
      d_.cuCtxSynchronize();
  }

private:
  bool bind() { return d_.cuCtxSetCurrent(ctx_) == CUDA_SUCCESS; }
  const Driver &d_;
  CUcontext ctx_;
  int ordinal_;
  size_t total_;
};

class CudaDeviceImpl final : public CudaDevice {
public:
  static Expected<std::unique_ptr<CudaDeviceImpl>> create(const Driver &d,
                                                          int ordinal);

  int index() const override { return ordinal_; }
  std::string name() const override { return strCat("cuda:", ordinal_); }
  std::string deviceName() const override { return deviceName_; }
  int computeCapability() const override { return cc_; }
  size_t totalMemory() const override { return total_; }
  Allocator &allocator() override { return *allocator_; }
  DeviceCachingAllocator &deviceAllocator() override { return *allocator_; }

  Status copyToHost(void *dst, const void *src, size_t bytes) override {
    KILN_RETURN_IF_ERROR(copyToHostAsync(dst, src, bytes, stream_));
    return synchronizeStream(stream_);
  }
  Status copyFromHost(void *dst, const void *src, size_t bytes) override {
    KILN_RETURN_IF_ERROR(copyFromHostAsync(dst, src, bytes, stream_));
    // The host buffer may be pageable and reused by the caller at once.
    return synchronizeStream(stream_);
  }
  Status synchronize() override {
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuCtxSynchronize);
  }

  StreamHandle stream() const override { return stream_; }
  Expected<StreamHandle> createStream() override {
    KILN_RETURN_IF_ERROR(bind());
    CUstream s = nullptr;
    KILN_RETURN_IF_ERROR(
        KILN_CU_CALL(d_, cuStreamCreate, &s, CU_STREAM_NON_BLOCKING));
    return StreamHandle(s);
  }
  Status destroyStream(StreamHandle s) override {
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuStreamDestroy, asStream(s));
  }
  Status synchronizeStream(StreamHandle s) override {
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuStreamSynchronize, asStream(s));
  }
  Expected<EventHandle> recordEvent(StreamHandle s) override {
    KILN_RETURN_IF_ERROR(bind());
    CUevent e = nullptr;
    KILN_RETURN_IF_ERROR(
        KILN_CU_CALL(d_, cuEventCreate, &e, CU_EVENT_DISABLE_TIMING));
    Status recorded = KILN_CU_CALL(d_, cuEventRecord, e, asStream(s));
    if (!recorded.isOk()) {
      d_.cuEventDestroy(e);
      return recorded;
    }
    return EventHandle(e);
  }
  Status waitEvent(StreamHandle s, EventHandle e) override {
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuStreamWaitEvent, asStream(s),
                        static_cast<CUevent>(e), 0);
  }
  Status destroyEvent(EventHandle e) override {
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuEventDestroy, static_cast<CUevent>(e));
  }
  Status copyToHostAsync(void *dst, const void *src, size_t bytes,
                         StreamHandle s) override {
    if (!bytes)
      return Status();
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuMemcpyDtoHAsync, dst, asDevicePtr(src), bytes,
                        asStream(s));
  }
  Status copyFromHostAsync(void *dst, const void *src, size_t bytes,
                           StreamHandle s) override {
    if (!bytes)
      return Status();
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuMemcpyHtoDAsync, asDevicePtr(dst), src, bytes,
                        asStream(s));
  }
  Status copyDeviceToDevice(void *dst, const void *src, size_t bytes,
                            StreamHandle s) override {
    if (!bytes)
      return Status();
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuMemcpyDtoDAsync, asDevicePtr(dst),
                        asDevicePtr(src), bytes, asStream(s));
  }

  Expected<void *> allocatePinned(size_t bytes) override {
    KILN_RETURN_IF_ERROR(bind());
    void *p = nullptr;
    KILN_RETURN_IF_ERROR(KILN_CU_CALL(d_, cuMemHostAlloc, &p, bytes, 0));
    return p;
  }
  Status freePinned(void *p) override {
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuMemFreeHost, p);
  }

  Expected<ModuleHandle> compileModule(std::string_view source,
                                       std::string_view programName) override {
    KILN_ASSIGN_OR_RETURN(NvrtcCompiler * nvrtc, NvrtcCompiler::get());
    CompileOptions options;
    // A cubin for this exact GPU when NVRTC knows it; else PTX for the
    // newest architecture NVRTC has below it, which the driver JITs
    // forward (a GPU newer than this NVRTC).
    options.arch = cc_;
    options.cubin = true;
    const std::vector<int> &archs = nvrtc->supportedArchs();
    if (!archs.empty() && !std::binary_search(archs.begin(), archs.end(), cc_)) {
      auto below = std::upper_bound(archs.begin(), archs.end(), cc_);
      if (below == archs.begin())
        return unavailable("NVRTC ", nvrtc->version().first, ".",
                           nvrtc->version().second, " cannot target ", name(),
                           " (sm_", cc_, "): it starts at sm_", archs.front());
      options.cubin = false;
      options.arch = *std::prev(below);
    }
    Expected<CompiledKernel> compiled = [&]() -> Expected<CompiledKernel> {
      if (cache_)
        return cache_->compile(*nvrtc, source, programName, options);
      return nvrtc->compile(source, programName, options);
    }();
    if (!compiled)
      return compiled.takeStatus();
    return loadModule(compiled->image);
  }
  Expected<ModuleHandle> loadModule(std::string_view image) override {
    KILN_RETURN_IF_ERROR(bind());
    // PTX must be NUL-terminated for the driver.
    std::string copy(image);
    CUmodule m = nullptr;
    KILN_RETURN_IF_ERROR(KILN_CU_CALL(d_, cuModuleLoadData, &m, copy.c_str()));
    return ModuleHandle(m);
  }
  Status unloadModule(ModuleHandle m) override {
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuModuleUnload, static_cast<CUmodule>(m));
  }
  Expected<FunctionHandle> function(ModuleHandle m,
                                    std::string_view name) override {
    KILN_RETURN_IF_ERROR(bind());
    std::string n(name);
    CUfunction f = nullptr;
    Status s = KILN_CU_CALL(d_, cuModuleGetFunction, &f,
                            static_cast<CUmodule>(m), n.c_str());
    if (!s.isOk())
      return std::move(s).withContext(strCat("kernel '", name, "'"));
    return FunctionHandle(f);
  }
  Status launch(FunctionHandle fn, std::array<unsigned, 3> grid,
                std::array<unsigned, 3> block, unsigned sharedBytes,
                StreamHandle s, void **args) override {
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuLaunchKernel, static_cast<CUfunction>(fn),
                        grid[0], grid[1], grid[2], block[0], block[1], block[2],
                        sharedBytes, asStream(s), args, nullptr);
  }

  Status beginCapture(StreamHandle s) override {
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuStreamBeginCapture, asStream(s),
                        CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
  }
  Expected<GraphHandle> endCapture(StreamHandle s) override {
    KILN_RETURN_IF_ERROR(bind());
    CUgraph graph = nullptr;
    KILN_RETURN_IF_ERROR(KILN_CU_CALL(d_, cuStreamEndCapture, asStream(s), &graph));
    CUgraphExec exec = nullptr;
    Status made = KILN_CU_CALL(d_, cuGraphInstantiateWithFlags, &exec, graph, 0);
    KILN_CU_CALL(d_, cuGraphDestroy, graph).ignore(); // exec keeps its copy
    KILN_RETURN_IF_ERROR(std::move(made));
    return GraphHandle(exec);
  }
  Status launchGraph(GraphHandle g, StreamHandle s) override {
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuGraphLaunch, static_cast<CUgraphExec>(g),
                        asStream(s));
  }
  Status destroyGraph(GraphHandle g) override {
    KILN_RETURN_IF_ERROR(bind());
    return KILN_CU_CALL(d_, cuGraphExecDestroy, static_cast<CUgraphExec>(g));
  }

private:
  explicit CudaDeviceImpl(const Driver &d) : d_(d) {}
  Status bind() const { return KILN_CU_CALL(d_, cuCtxSetCurrent, ctx_); }

  const Driver &d_;
  int ordinal_ = 0;
  CUdevice device_ = 0;
  CUcontext ctx_ = nullptr;
  CUstream stream_ = nullptr;
  std::string deviceName_;
  int cc_ = 0;
  size_t total_ = 0;
  std::unique_ptr<DeviceCachingAllocator> allocator_;
  std::unique_ptr<KernelCache> cache_; // null when no cache directory
};

Expected<std::unique_ptr<CudaDeviceImpl>>
CudaDeviceImpl::create(const Driver &d, int ordinal) {
  std::unique_ptr<CudaDeviceImpl> dev(new CudaDeviceImpl(d));
  dev->ordinal_ = ordinal;
  KILN_RETURN_IF_ERROR(KILN_CU_CALL(d, cuDeviceGet, &dev->device_, ordinal));
  char name[256] = {};
  KILN_RETURN_IF_ERROR(
      KILN_CU_CALL(d, cuDeviceGetName, name, int(sizeof name - 1), dev->device_));
  dev->deviceName_ = name;
  int major = 0, minor = 0;
  KILN_RETURN_IF_ERROR(KILN_CU_CALL(
      d, cuDeviceGetAttribute, &major,
      CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev->device_));
  KILN_RETURN_IF_ERROR(KILN_CU_CALL(
      d, cuDeviceGetAttribute, &minor,
      CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev->device_));
  dev->cc_ = major * 10 + minor;
  KILN_RETURN_IF_ERROR(
      KILN_CU_CALL(d, cuDeviceTotalMem, &dev->total_, dev->device_));
  KILN_RETURN_IF_ERROR(
      KILN_CU_CALL(d, cuDevicePrimaryCtxRetain, &dev->ctx_, dev->device_));
  KILN_RETURN_IF_ERROR(dev->bind());
  KILN_RETURN_IF_ERROR(
      KILN_CU_CALL(d, cuStreamCreate, &dev->stream_, CU_STREAM_NON_BLOCKING));
  auto source = std::make_unique<CudaMemorySource>(d, dev->ctx_, ordinal,
                                                   dev->total_);
  KILN_ASSIGN_OR_RETURN(dev->allocator_,
                        DeviceCachingAllocator::create(std::move(source), {}));
  dev->allocator_->setDefaultStream(dev->stream_);
  if (auto cache = KernelCache::open())
    dev->cache_ = std::make_unique<KernelCache>(std::move(*cache));
  return dev;
}

} // namespace

Expected<int> deviceCount() {
  KILN_ASSIGN_OR_RETURN(const Driver *d, loadedDriver());
  int n = 0;
  KILN_RETURN_IF_ERROR(KILN_CU_CALL(*d, cuDeviceGetCount, &n));
  return n;
}

Expected<CudaDevice *> cudaDevice(int ordinal) {
  KILN_ASSIGN_OR_RETURN(const Driver *d, loadedDriver());
  KILN_ASSIGN_OR_RETURN(int count, deviceCount());
  if (count == 0)
    return unavailable("no CUDA device: the driver (", d->library,
                       ") sees none");
  if (ordinal < 0 || ordinal >= count)
    return notFound("no CUDA device ", ordinal, ": there are ", count);
  // Devices live for the whole process (Device.h); made once each.
  static std::mutex mutex;
  static std::vector<CudaDeviceImpl *> devices;
  std::lock_guard<std::mutex> lock(mutex);
  if (devices.size() < size_t(count))
    devices.resize(size_t(count), nullptr);
  if (!devices[size_t(ordinal)]) {
    auto made = CudaDeviceImpl::create(*d, ordinal);
    if (!made)
      return std::move(made).takeStatus().withContext(strCat("cuda:", ordinal));
    devices[size_t(ordinal)] = made->release();
  }
  return static_cast<CudaDevice *>(devices[size_t(ordinal)]);
}

Expected<Device *> cudaDeviceByName(std::string_view name) {
  int ordinal = 0;
  if (name != "cuda") {
    std::string_view digits = name.substr(5); // after "cuda:"
    auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), ordinal);
    if (digits.empty() || ec != std::errc() ||
        end != digits.data() + digits.size() || ordinal < 0)
      return invalidArgument("device '", name,
                             "': expected cuda or cuda:<index>");
  }
  KILN_ASSIGN_OR_RETURN(CudaDevice * dev, cudaDevice(ordinal));
  return static_cast<Device *>(dev);
}

} // namespace kiln::cuda
