//===- NativeCode.cpp - Generated kernels shipped in a .kiln file ---------===//
#include "NativeCode.h"

#include "ModuleData.h"
#include "../cpu/CpuFeatures.h"

#include "kiln/Support/Checksum.h"
#include "kiln/ThreadPool.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

namespace kiln {
namespace {

/// Bound on a kernel's operands + results, against garbage signatures.
constexpr int64_t kMaxKernelBuffers = 4096;

} // namespace

Status checkCpuFeatures(
    const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>> *features,
    std::string_view cpu, const std::string &where) {
  if (!features)
    return Status::ok();
  for (const flatbuffers::String *f : *features) {
    std::optional<bool> has = cpu::cpuHas(f->string_view());
    if (!has)
      return unavailable(where, ": the native code needs CPU feature '",
                         f->string_view(),
                         "', which this runtime cannot check; recompile "
                         "with kiln-compile --cpu=x86-64-v3 or --cpu=none");
    if (!*has || cpu::cpuFeatureDisabled(f->string_view()))
      return unavailable(where, ": the native code was compiled for ", cpu,
                         " and needs '", f->string_view(),
                         "', which this CPU lacks; recompile with "
                         "kiln-compile --cpu=native (or --cpu=none)");
  }
  return Status::ok();
}

Expected<std::shared_ptr<NativeLibrary>>
NativeLibrary::load(const format::NativeCode &code, const std::string &where) {
  std::string triple = code.triple() ? code.triple()->str() : "";
  std::string cpu = code.cpu() ? code.cpu()->str() : "?";
#if !defined(__x86_64__) || !defined(__linux__)
  return unavailable(where, ": native code for ", triple,
                     " cannot run on this platform");
#endif
  if (triple.rfind("x86_64-", 0) != 0 || triple.find("linux") == std::string::npos)
    return unavailable(where, ": native code for '", triple,
                       "'; this runtime runs x86_64 Linux code");
  const auto *so = code.shared_object();
  if (!so || so->size() == 0)
    return dataLoss(where, ": native code without a shared object");
  if (fnv1a64(so->data(), so->size()) != code.checksum())
    return dataLoss(where, ": native code checksum mismatch (corrupt file)");
  KILN_RETURN_IF_ERROR(checkCpuFeatures(code.features(), cpu, where));

  std::shared_ptr<NativeLibrary> lib(new NativeLibrary());
  lib->fd_ = memfd_create("kiln-kernels", MFD_CLOEXEC);
  if (lib->fd_ < 0)
    return unavailable(where, ": memfd_create failed: ", std::strerror(errno));
  for (size_t done = 0; done < so->size();) {
    ssize_t n = write(lib->fd_, so->data() + done, so->size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return ioError(where, ": writing the native code to a memfd failed: ",
                     std::strerror(errno));
    done += size_t(n);
  }
  std::string path = "/proc/self/fd/" + std::to_string(lib->fd_);
  lib->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib->handle_) {
    const char *error = dlerror();
    return unavailable(where, ": cannot load the native code: ",
                       error ? error : "dlopen failed");
  }
  if (!code.symbols())
    return dataLoss(where, ": native code lists no symbols");
  for (const flatbuffers::String *s : *code.symbols()) {
    void *fn = dlsym(lib->handle_, s->c_str());
    if (!fn)
      return dataLoss(where, ": native code lacks symbol '", s->string_view(),
                      "'");
    lib->symbols_[s->str()] = reinterpret_cast<NativeKernelFn>(fn);
    std::string sigName = s->str() + "_signature";
    const auto *sig = static_cast<const int64_t *>(dlsym(lib->handle_, sigName.c_str()));
    if (!sig || sig[0] < 0 || sig[0] > kMaxKernelBuffers)
      return dataLoss(where, ": native code lacks a valid '", sigName, "'");
    lib->signatures_[s->str()].assign(sig, sig + 2 + sig[0]);
  }
  return lib;
}

NativeLibrary::~NativeLibrary() {
  if (handle_)
    dlclose(handle_);
  if (fd_ >= 0)
    close(fd_);
}

std::vector<int64_t> NativeLibrary::signature(std::string_view symbol) const {
  auto it = signatures_.find(std::string(symbol));
  return it == signatures_.end() ? std::vector<int64_t>() : it->second;
}

NativeKernelFn NativeLibrary::find(std::string_view symbol) const {
  auto it = symbols_.find(std::string(symbol));
  return it == symbols_.end() ? nullptr : it->second;
}

Status runNativeKernel(const OpData &op, const FunctionData &fn,
                       std::vector<void *> &buffers,
                       const std::shared_ptr<Storage> &arena,
                       std::vector<Tensor> &temps) {
  for (uint32_t id : op.results) {
    const ValueData &v = fn.values[id];
    if (v.storage == format::Storage::Arena) {
      buffers.push_back(static_cast<uint8_t *>(arena->data()) + v.index);
      continue;
    }
    KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::empty(v.spec.shape, v.spec.dtype));
    buffers.push_back(t.rawData());
    temps[id] = std::move(t);
  }
  NativeKernelFn kernel = op.native;
  void **args = buffers.data();
  if (op.outer <= op.grain) {
    kernel(args, 0, op.outer); // too small to be worth a handoff
    return Status::ok();
  }
  ThreadPool::global().parallelFor(
      0, op.outer, op.grain,
      [kernel, args](int64_t begin, int64_t end) { kernel(args, begin, end); });
  return Status::ok();
}

} // namespace kiln
