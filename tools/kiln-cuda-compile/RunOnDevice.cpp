//===- RunOnDevice.cpp - Run generated kernels on a GPU, check and time ---===//
//
// Needs a GPU; on a machine without one it reports why and returns 2. It
// is the numerics and bandwidth half of tools/gpu-check.sh.
//
//===----------------------------------------------------------------------===//
#include "RunOnDevice.h"

#include "kiln/Compiler/Pipelines/Pipeline.h"
#include "kiln/Compiler/Serialize/KilnWriter.h"
#include "kiln/Compiler/Target/CPU/CPUCodegen.h"
#include "kiln/Module.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/DType.h"
#include "kiln/cuda/CudaDevice.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
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
      !native.code.empty()) {
    llvm::SmallString<128> path;
    if (!llvm::sys::fs::createTemporaryFile("kiln-cpu-ref", "so", path)) {
      std::ofstream(path.c_str(), std::ios::binary)
          .write(reinterpret_cast<const char *>(native.code[0].sharedObject.data()),
                 std::streamsize(native.code[0].sharedObject.size()));
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

//===----------------------------------------------------------------------===//
// Host emulation
//===----------------------------------------------------------------------===//

namespace mlir::kiln {
namespace {

const char kHostEmulation[] =
#include "KilnCUDAHostEmulation.inc"
    ;

std::optional<::kiln::DType> dtypeOf(Type t) {
  if (t.isF32()) return ::kiln::DType::F32;
  if (t.isF64()) return ::kiln::DType::F64;
  if (t.isF16()) return ::kiln::DType::F16;
  if (t.isBF16()) return ::kiln::DType::BF16;
  if (t.isInteger(1)) return ::kiln::DType::Bool;
  if (t.isInteger(8)) return ::kiln::DType::I8;
  if (t.isInteger(32)) return ::kiln::DType::I32;
  if (t.isInteger(64)) return ::kiln::DType::I64;
  return std::nullopt;
}

/// The fusion's ops as a function of their own, compiled op by op (no
/// fusion) into .kiln bytes and loaded by the runtime.
::kiln::Expected<std::shared_ptr<::kiln::Module>> referenceModule(FusionOp fusion) {
  MLIRContext *ctx = fusion.getContext();
  OpBuilder b(ctx);
  OwningOpRef<ModuleOp> mini = ModuleOp::create(fusion.getLoc());
  b.setInsertionPointToEnd(mini->getBody());
  auto fn = b.create<func::FuncOp>(
      fusion.getLoc(), "kernel",
      b.getFunctionType(fusion.getInputs().getTypes(), fusion.getResultTypes()));
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  IRMapping map;
  Block &body = fusion.getBodyBlock();
  for (auto [arg, newArg] : llvm::zip(body.getArguments(), entry->getArguments()))
    map.map(arg, newArg);
  SmallVector<Value> results;
  for (Operation &op : body.without_terminator())
    b.clone(op, map);
  for (Value v : body.getTerminator()->getOperands())
    results.push_back(map.lookupOrDefault(v));
  b.create<func::ReturnOp>(fusion.getLoc(), results);
  PassManager pm(ctx);
  PipelineOptions options;
  options.fusion.setValue(false);
  buildPipeline(pm, options);
  if (failed(pm.run(*mini)))
    return ::kiln::internalError("the reference function does not compile");
  std::vector<uint8_t> bytes;
  auto noParameters = [](StringRef, RankedTensorType,
                         llvm::MutableArrayRef<uint8_t>) -> LogicalResult {
    return failure();
  };
  if (failed(writeKilnFile(*mini, noParameters, bytes)))
    return ::kiln::internalError("the reference function does not serialize");
  return ::kiln::Module::loadBytes(std::move(bytes), "reference");
}

} // namespace

int emulateOnHost(ModuleOp module, const CUDACodegenResult &result,
                  const std::string &cxx) {
  llvm::SmallString<128> dir;
  if (llvm::sys::fs::createUniqueDirectory("kiln-cuda-emulate", dir)) {
    llvm::errs() << "emulate: cannot create a temporary directory\n";
    return 1;
  }
  std::string header = (dir + "/HostEmulation.h").str();
  std::string sourcePath = (dir + "/kernels.cpp").str();
  std::string library = (dir + "/kernels.so").str();
  std::ofstream(header) << kHostEmulation;
  {
    std::ofstream src(sourcePath);
    src << "#define KILN_CUDA_HOST_EMULATION 1\n#include \"HostEmulation.h\"\n"
        << result.source << "\n";
    for (const CUDAKernelInfo &k : result.kernels) {
      src << "extern \"C\" void kiln_emu_" << k.name
          << "(void **b, unsigned g, unsigned t) { kiln_emu_launch(" << k.name
          << ", b, g, t); }\n";
      if (k.hasVectorVariant)
        src << "extern \"C\" void kiln_emu_" << k.name
            << "_vec(void **b, unsigned g, unsigned t) { kiln_emu_launch("
            << k.name << "_vec, b, g, t); }\n";
    }
  }
  llvm::SmallVector<llvm::StringRef> args = {cxx, "-std=c++20", "-O1", "-shared",
                                             "-fPIC", "-pthread", "-w", "-o",
                                             library, sourcePath};
  std::string error;
  if (llvm::sys::ExecuteAndWait(cxx, args, std::nullopt, {}, 300, 0, &error) != 0) {
    llvm::errs() << "emulate: " << cxx << " failed on " << sourcePath << " " << error
                 << "\n";
    return 1;
  }
  void *lib = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  llvm::sys::fs::remove_directories(dir);
  if (!lib) {
    llvm::errs() << "emulate: " << dlerror() << "\n";
    return 1;
  }
  using Launch = void (*)(void **, unsigned, unsigned);
  int failures = 0;
  std::mt19937 rng(99);
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
    // Inputs, and the runtime's answer for them.
    std::vector<Buffer> buffers;
    std::vector<::kiln::Tensor> inputs;
    SmallVector<Value> values(fusion.getInputs());
    values.append(fusion->result_begin(), fusion->result_end());
    size_t numInputs = fusion.getInputs().size();
    for (auto [j, v] : llvm::enumerate(values)) {
      auto t = cast<RankedTensorType>(v.getType());
      Buffer b;
      b.element = t.getElementType();
      b.elements = t.getNumElements();
      b.bytes = size_t(b.elements) * elementBytes(b.element);
      b.host.assign(b.bytes, 0);
      if (j < numInputs) {
        fillRandom(b, rng);
        auto tensor = ::kiln::Tensor::empty(
            ::kiln::Shape(t.getShape().begin(), t.getShape().end()),
            *dtypeOf(b.element));
        if (tensor.ok()) {
          std::memcpy(tensor->rawData(), b.host.data(), b.bytes);
          inputs.push_back(*tensor);
        }
      }
      buffers.push_back(std::move(b));
    }
    std::string failure;
    std::vector<::kiln::Tensor> want;
    auto ref = referenceModule(fusion);
    if (!ref.ok()) {
      failure = ref.status().toString();
    } else {
      auto session = (*ref)->newSession("kernel");
      auto out = session.ok() ? session->run(inputs)
                              : ::kiln::Expected<std::vector<::kiln::Tensor>>(
                                    session.status());
      if (!out.ok())
        failure = out.status().toString();
      else
        want = std::move(*out);
    }
    bool reduction = info->kind != "loop";
    int64_t reduceLength = 1;
    if (reduction && failure.empty())
      reduceLength = std::max<int64_t>(
          1, buffers[0].elements / std::max<int64_t>(1, buffers.back().elements));
    if (reduction && (info->kind == "softmax" || info->kind == "layer_norm"))
      reduceLength = buffers.back().elements / std::max<int64_t>(1, info->grid);
    auto runVariant = [&](const std::string &fn, unsigned grid, unsigned block) {
      auto launch = reinterpret_cast<Launch>(dlsym(lib, ("kiln_emu_" + fn).c_str()));
      for (size_t j = numInputs; j < buffers.size(); ++j)
        std::fill(buffers[j].host.begin(), buffers[j].host.end(), 0xAB);
      std::vector<void *> ptrs;
      for (Buffer &b : buffers)
        ptrs.push_back(b.host.data());
      launch(ptrs.data(), grid, block);
      // Against the runtime, element by element.
      for (size_t k = 0; k + numInputs < buffers.size() && failure.empty(); ++k) {
        const Buffer &got = buffers[numInputs + k];
        Buffer expected = got;
        std::memcpy(expected.host.data(), want[k].rawData(), got.bytes);
        auto [rtol, atol] = tolerance(got.element);
        double widen = std::sqrt(double(reduceLength));
        for (int64_t i = 0; i < got.elements; ++i) {
          double w = valueAt(expected, i), g = valueAt(got, i);
          if (std::isnan(w) && std::isnan(g))
            continue;
          if (!(std::fabs(g - w) <= widen * (atol + rtol * std::fabs(w)))) {
            failure = llvm::formatv("{0} result {1} element {2}: emulated {3}, "
                                    "runtime {4}",
                                    fn, k, i, g, w)
                          .str();
            break;
          }
        }
      }
    };
    if (failure.empty()) {
      if (info->kind == "loop" || info->kind == "column_reduce") {
        // Grid-stride kernels: an odd small launch covers every element.
        runVariant(info->name, 2, 3);
        if (info->hasVectorVariant && failure.empty())
          runVariant(info->name + "_vec", 2, 3);
      } else if (info->grid * info->block > 300000) {
        llvm::outs() << "  " << info->name << ": skipped (too big to emulate)\n";
        return;
      } else {
        runVariant(info->name, unsigned(info->grid), unsigned(info->block));
      }
    }
    if (failure.empty()) {
      llvm::outs() << "  " << info->name << " (" << info->kind
                   << "): matches the runtime\n";
    } else {
      ++failures;
      llvm::outs() << "  " << info->name << " (" << info->kind
                   << "): FAILED: " << failure << "\n";
    }
  });
  return failures ? 1 : 0;
}

} // namespace mlir::kiln
