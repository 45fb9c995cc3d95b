//===- RunOnDevice.cpp - Run generated kernels on a GPU, check and time ---===//
//
// Needs a GPU; on a machine without one it reports why and returns 2. It
// is the numerics and bandwidth half of tools/gpu-check.sh.
//
//===----------------------------------------------------------------------===//
#include "RunOnDevice.h"

#include "kiln/Compiler/Target/CPU/CPUCodegen.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/DType.h"
#include "kiln/cuda/CudaDevice.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <map>
#include <random>

using namespace mlir;

namespace mlir::kiln {
namespace {

struct Buffer {
  Type element;
  int64_t elements = 0;
  size_t bytes = 0;
  std::vector<uint8_t> host;
  void *device = nullptr;
};

size_t elementBytes(Type t) {
  unsigned bits = t.getIntOrFloatBitWidth();
  return bits == 1 ? 1 : bits / 8;
}

/// Random values in a range every op of the test graphs accepts (log and
/// sqrt of positive numbers stay finite; pow of |x|).
void fillRandom(Buffer &b, std::mt19937 &rng) {
  std::uniform_real_distribution<double> dist(0.05, 2.0);
  std::bernoulli_distribution sign(0.3);
  for (int64_t i = 0; i < b.elements; ++i) {
    double v = dist(rng) * (sign(rng) ? -1 : 1);
    uint8_t *p = b.host.data() + size_t(i) * elementBytes(b.element);
    if (b.element.isF32()) {
      float f = float(v);
      std::memcpy(p, &f, 4);
    } else if (b.element.isF64()) {
      std::memcpy(p, &v, 8);
    } else if (b.element.isF16()) {
      ::kiln::Half h = ::kiln::floatToHalf(float(v));
      std::memcpy(p, &h.bits, 2);
    } else if (b.element.isBF16()) {
      ::kiln::BFloat16 h = ::kiln::floatToBf16(float(v));
      std::memcpy(p, &h.bits, 2);
    } else if (b.element.isInteger(1)) {
      *p = v > 0;
    } else {
      int64_t x = int64_t(v * 10);
      std::memcpy(p, &x, elementBytes(b.element)); // little endian
    }
  }
}

double valueAt(const Buffer &b, int64_t i) {
  const uint8_t *p = b.host.data() + size_t(i) * elementBytes(b.element);
  if (b.element.isF32()) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  if (b.element.isF64()) {
    double d;
    std::memcpy(&d, p, 8);
    return d;
  }
  if (b.element.isF16() || b.element.isBF16()) {
    uint16_t bits;
    std::memcpy(&bits, p, 2);
    return b.element.isF16() ? ::kiln::halfToFloat(::kiln::Half{bits})
                             : ::kiln::bf16ToFloat(::kiln::BFloat16{bits});
  }
  if (b.element.isInteger(1))
    return *p;
  if (b.element.isInteger(8))
    return double(int8_t(*p));
  if (b.element.isInteger(32)) {
    int32_t x;
    std::memcpy(&x, p, 4);
    return x;
  }
  int64_t x;
  std::memcpy(&x, p, 8);
  return double(x);
}

std::pair<double, double> tolerance(Type t) {
  if (t.isF16())
    return {1e-3, 1e-5};
  if (t.isBF16())
    return {1.6e-2, 1e-5};
  if (t.isF64())
    return {1e-7, 1e-7};
  if (t.isF32())
    return {1.3e-6, 1e-5};
  return {0, 0};
}

double seconds(std::chrono::steady_clock::time_point a,
               std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

} // namespace

int runOnDevice(ModuleOp module, const CUDACodegenResult &result, int repeats) {
  auto gpu = ::kiln::cuda::cudaDevice(0);
  if (!gpu.ok()) {
    llvm::outs() << "run: no GPU: " << gpu.status().toString() << "\n";
    return 2;
  }
  ::kiln::cuda::CudaDevice &dev = **gpu;
  llvm::outs() << "run: " << dev.deviceName() << " (sm_" << dev.computeCapability()
               << ", " << dev.totalMemory() / (1 << 20) << " MiB)\n";
  auto cuModule = dev.compileModule(result.source, "kernels.cu");
  if (!cuModule.ok()) {
    llvm::outs() << "run: " << cuModule.status().toString() << "\n";
    return 1;
  }

  // The CPU backend's kernels for the same fusions: the reference for loop
  // kernels (it tags fusions with kiln.cpu_symbol / kiln.cpu_outer).
  void *cpuLibrary = nullptr;
  CPUCodegenResult native;
  if (succeeded(generateCPUCode(module, CPUCodegenOptions{}, native)) &&
      !native.code.sharedObject.empty()) {
    llvm::SmallString<128> path;
    if (!llvm::sys::fs::createTemporaryFile("kiln-cpu-ref", "so", path)) {
      std::ofstream(path.c_str(), std::ios::binary)
          .write(reinterpret_cast<const char *>(native.code.sharedObject.data()),
                 std::streamsize(native.code.sharedObject.size()));
      cpuLibrary = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      llvm::sys::fs::remove(path);
    }
  }

  // Device copy bandwidth: the yardstick for memory-bound kernels.
  double copyGBs = 0;
  {
    size_t bytes = size_t(1) << 30;
    auto a = dev.allocator().allocate(bytes), b = dev.allocator().allocate(bytes);
    if (a.ok() && b.ok()) {
      (void)dev.copyDeviceToDevice(*b, *a, bytes, dev.stream());
      (void)dev.synchronize();
      auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < repeats; ++r)
        (void)dev.copyDeviceToDevice(*b, *a, bytes, dev.stream());
      (void)dev.synchronize();
      copyGBs = 2.0 * double(bytes) * repeats /
                seconds(t0, std::chrono::steady_clock::now()) / 1e9;
      llvm::outs() << llvm::format("run: device copy %.1f GB/s (read + write)\n",
                                   copyGBs);
    }
    if (a.ok())
      dev.allocator().deallocate(*a, bytes);
    if (b.ok())
      dev.allocator().deallocate(*b, bytes);
  }

  int failures = 0;
  std::mt19937 rng(1234);
  std::map<std::string, bool> done;
  module.walk([&](FusionOp fusion) {
    auto name = fusion->getAttrOfType<StringAttr>("kiln.cuda_kernel");
    if (!name || done[name.str()])
      return;
    done[name.str()] = true;
    const CUDAKernelInfo *info = nullptr;
    for (const CUDAKernelInfo &k : result.kernels)
      if (k.name == name.getValue())
        info = &k;
    std::vector<Buffer> buffers;
    SmallVector<Value> values(fusion.getInputs());
    values.append(fusion->result_begin(), fusion->result_end());
    for (Value v : values) {
      auto t = cast<RankedTensorType>(v.getType());
      Buffer b;
      b.element = t.getElementType();
      b.elements = t.getNumElements();
      b.bytes = size_t(b.elements) * elementBytes(b.element);
      b.host.assign(b.bytes, 0);
      buffers.push_back(std::move(b));
    }
    size_t numInputs = fusion.getInputs().size();
    std::string failure;
    for (size_t j = 0; j < buffers.size(); ++j) {
      Buffer &b = buffers[j];
      if (j < numInputs)
        fillRandom(b, rng);
      auto p = dev.allocator().allocate(std::max<size_t>(b.bytes, 16));
      if (!p.ok()) {
        failure = p.status().toString();
        break;
      }
      b.device = *p;
      if (j < numInputs)
        (void)dev.copyFromHost(b.device, b.host.data(), b.bytes);
    }
    auto launch = [&](const std::string &fn, int64_t grid) -> ::kiln::Status {
      auto f = dev.function(*cuModule, fn);
      if (!f.ok())
        return f.status();
      std::vector<void *> ptrs, args;
      for (Buffer &b : buffers)
        ptrs.push_back(b.device);
      for (void *&p : ptrs)
        args.push_back(&p);
      return dev.launch(*f, {unsigned(grid), 1, 1}, {unsigned(info->block), 1, 1},
                        0, dev.stream(), args.data());
    };
    auto readResults = [&](std::vector<std::vector<uint8_t>> &out) {
      out.clear();
      for (size_t j = numInputs; j < buffers.size(); ++j) {
        out.emplace_back(buffers[j].bytes);
        (void)dev.copyToHost(out.back().data(), buffers[j].device,
                             buffers[j].bytes);
      }
    };
    std::vector<std::vector<uint8_t>> scalarOut, vecOut;
    if (failure.empty()) {
      ::kiln::Status s = launch(info->name, info->grid);
      if (s.isOk())
        s = dev.synchronize();
      if (!s.isOk())
        failure = s.toString();
      readResults(scalarOut);
    }
    if (failure.empty() && info->hasVectorVariant) {
      ::kiln::Status s = launch(info->name + "_vec", info->vectorGrid);
      if (s.isOk())
        s = dev.synchronize();
      readResults(vecOut);
      if (!s.isOk())
        failure = s.toString();
      else if (vecOut != scalarOut)
        failure = "the _vec variant differs from the scalar kernel";
    }
    // Loop kernels: against the CPU backend's kernel, element by element.
    auto cpuSymbol = fusion->getAttrOfType<StringAttr>("kiln.cpu_symbol");
    auto cpuOuter = fusion->getAttrOfType<IntegerAttr>("kiln.cpu_outer");
    if (failure.empty() && cpuLibrary && cpuSymbol && cpuOuter) {
      using Kernel = void (*)(void **, int64_t, int64_t);
      auto fn = reinterpret_cast<Kernel>(dlsym(cpuLibrary, cpuSymbol.str().c_str()));
      if (fn) {
        std::vector<void *> hostPtrs;
        for (Buffer &b : buffers)
          hostPtrs.push_back(b.host.data());
        fn(hostPtrs.data(), 0, cpuOuter.getInt());
        for (size_t k = 0; k < scalarOut.size() && failure.empty(); ++k) {
          Buffer gpuResult = buffers[numInputs + k];
          gpuResult.host = scalarOut[k];
          auto [rtol, atol] = tolerance(gpuResult.element);
          double worst = 0;
          int64_t worstAt = -1;
          for (int64_t i = 0; i < gpuResult.elements; ++i) {
            double want = valueAt(buffers[numInputs + k], i);
            double got = valueAt(gpuResult, i);
            if (std::isnan(want) && std::isnan(got))
              continue;
            double err = std::fabs(got - want) - (atol + rtol * std::fabs(want));
            if (!(err <= worst)) {
              worst = err;
              worstAt = i;
            }
          }
          if (worstAt >= 0)
            failure = llvm::formatv("result {0} element {1}: GPU {2}, CPU {3}", k,
                                    worstAt, valueAt(gpuResult, worstAt),
                                    valueAt(buffers[numInputs + k], worstAt))
                          .str();
        }
      }
    }
    // Time the variant the launcher would pick.
    double gbs = 0;
    if (failure.empty()) {
      bool vec = info->hasVectorVariant;
      std::string fn = vec ? info->name + "_vec" : info->name;
      int64_t grid = vec ? info->vectorGrid : info->grid;
      auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < repeats; ++r)
        (void)launch(fn, grid);
      (void)dev.synchronize();
      double t = seconds(t0, std::chrono::steady_clock::now()) / repeats;
      size_t bytes = 0;
      for (Buffer &b : buffers)
        bytes += b.bytes;
      gbs = double(bytes) / t / 1e9;
      llvm::outs() << llvm::format("  %-24s %-13s %9.1f us %8.1f GB/s (%4.0f%% of copy)",
                                   fn.c_str(), info->kind.c_str(), t * 1e6, gbs,
                                   copyGBs > 0 ? 100 * gbs / copyGBs : 0.0)
                   << (cpuSymbol ? ", matches the CPU kernel" : "")
                   << (info->hasVectorVariant ? ", _vec == scalar" : "") << "\n";
    } else {
      ++failures;
      llvm::outs() << "  " << info->name << ": FAILED: " << failure << "\n";
    }
    for (Buffer &b : buffers)
      if (b.device)
        dev.allocator().deallocate(b.device, std::max<size_t>(b.bytes, 16));
  });
  (void)dev.unloadModule(*cuModule);
  return failures ? 1 : 0;
}

} // namespace mlir::kiln
