//===- Nvrtc.cpp - CUDA C to PTX or cubin, with an on-disk cache ----------===//
#include "kiln/cuda/Nvrtc.h"

#include <cuda.h>
#include <nvrtc.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#ifndef KILN_CUDA_INCLUDE_DIR
#define KILN_CUDA_INCLUDE_DIR "/usr/local/cuda/include"
#endif

namespace kiln::cuda {

struct NvrtcCompiler::Table {
#define KILN_NVRTC_SYMBOL(name) decltype(&::name) name = nullptr;
#include "NvrtcSymbols.def"
};

namespace {
const char *resultName(const NvrtcCompiler::Table &t, nvrtcResult r) {
  return t.nvrtcGetErrorString ? t.nvrtcGetErrorString(r) : "NVRTC error";
}

/// The status of a failed NVRTC call; compile errors get the log.
Status nvrtcError(const NvrtcCompiler::Table &t, nvrtcResult r,
                  const char *call, std::string_view program,
                  const std::string &log = {}) {
  StatusCode code = r == NVRTC_ERROR_OUT_OF_MEMORY ? StatusCode::OutOfMemory
                    : r == NVRTC_ERROR_COMPILATION ||
                            r == NVRTC_ERROR_INVALID_OPTION ||
                            r == NVRTC_ERROR_INVALID_INPUT
                        ? StatusCode::InvalidArgument
                        : StatusCode::Internal;
  std::string message =
      strCat(call, " on '", program, "': ", resultName(t, r), " (", int(r), ")");
  if (!log.empty())
    message += strCat("\n--- NVRTC log ---\n", log);
  return Status(code, std::move(message));
}
} // namespace

/// Calls NVRTC entry point `fn`; the status names the call as written.
#define KILN_NVRTC_CALL(table, program, fn, ...)                               \
  [&]() -> ::kiln::Status {                                                    \
    nvrtcResult kiln_r_ = (table).fn(__VA_ARGS__);                             \
    if (kiln_r_ == NVRTC_SUCCESS)                                              \
      return ::kiln::Status();                                                 \
    return nvrtcError((table), kiln_r_, #fn "(" #__VA_ARGS__ ")", (program));  \
  }()

NvrtcCompiler::~NvrtcCompiler() {
  if (handle_)
    dlclose(handle_);
}

Expected<std::unique_ptr<NvrtcCompiler>>
NvrtcCompiler::load(const std::string &library) {
  std::unique_ptr<NvrtcCompiler> c(new NvrtcCompiler());
  c->table_ = std::make_unique<Table>();
  dlerror();
  c->handle_ = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!c->handle_) {
    const char *why = dlerror();
    return unavailable("no NVRTC: dlopen(\"", library, "\") failed: ",
                       why ? why : "unknown error",
                       " (install the CUDA toolkit's NVRTC or set "
                       "KILN_NVRTC_LIBRARY)");
  }
  std::string missing;
#define KILN_NVRTC_SYMBOL(name)                                                \
  c->table_->name = reinterpret_cast<decltype(c->table_->name)>(               \
      dlsym(c->handle_, #name));                                               \
  if (!c->table_->name)                                                        \
    missing += (missing.empty() ? "" : ", ") + std::string(#name);
#include "NvrtcSymbols.def"
  if (!missing.empty())
    return unavailable("no usable NVRTC: ", library, " lacks ", missing);
  const Table &t = *c->table_;
  KILN_RETURN_IF_ERROR(KILN_NVRTC_CALL(t, library, nvrtcVersion,
                                       &c->version_.first, &c->version_.second));
  int n = 0;
  KILN_RETURN_IF_ERROR(
      KILN_NVRTC_CALL(t, library, nvrtcGetNumSupportedArchs, &n));
  c->archs_.resize(size_t(std::max(n, 0)));
  if (n > 0)
    KILN_RETURN_IF_ERROR(KILN_NVRTC_CALL(t, library, nvrtcGetSupportedArchs,
                                         c->archs_.data()));
  return c;
}

Expected<NvrtcCompiler *> NvrtcCompiler::get() {
  static std::once_flag once;
  static NvrtcCompiler *compiler = nullptr; // leaked, like the devices
  static Status *error = nullptr;
  std::call_once(once, [] {
    std::vector<std::string> candidates;
    if (const char *env = std::getenv("KILN_NVRTC_LIBRARY"); env && *env)
      candidates.push_back(env);
    candidates.push_back("libnvrtc.so." + std::to_string(CUDA_VERSION / 1000));
#ifdef KILN_CUDA_LIBRARY_DIR
    candidates.push_back(std::string(KILN_CUDA_LIBRARY_DIR) + "/libnvrtc.so." +
                         std::to_string(CUDA_VERSION / 1000));
#endif
    candidates.push_back("libnvrtc.so");
    Status first;
    for (const std::string &library : candidates) {
      auto loaded = load(library);
      if (loaded) {
        compiler = loaded->release();
        return;
      }
      if (first.isOk())
        first = loaded.takeStatus();
    }
    error = new Status(std::move(first));
  });
  if (!compiler)
    return *error;
  return compiler;
}

std::vector<std::string>
NvrtcCompiler::commandLine(const CompileOptions &options) const {
  std::string include = options.includeDir;
  if (include.empty())
    if (const char *env = std::getenv("KILN_CUDA_INCLUDE"); env && *env)
      include = env;
  if (include.empty())
    include = KILN_CUDA_INCLUDE_DIR;
  std::vector<std::string> args = {
      strCat("--gpu-architecture=", options.cubin ? "sm_" : "compute_",
             options.arch),
      "--std=c++17", "-default-device", "--include-path=" + include};
  args.insert(args.end(), options.flags.begin(), options.flags.end());
  return args;
}

Expected<CompiledKernel> NvrtcCompiler::compile(std::string_view source,
                                                std::string_view programName,
                                                const CompileOptions &options) const {
  const Table &t = *table_;
  if (!std::binary_search(archs_.begin(), archs_.end(), options.arch) &&
      !archs_.empty())
    return invalidArgument("NVRTC ", version_.first, ".", version_.second,
                           " cannot target sm_", options.arch);
  std::string src(source), name(programName);
  nvrtcProgram program = nullptr;
  KILN_RETURN_IF_ERROR(KILN_NVRTC_CALL(t, name, nvrtcCreateProgram, &program,
                                       src.c_str(), name.c_str(), 0, nullptr,
                                       nullptr));
  struct Destroy {
    const Table &t;
    nvrtcProgram &p;
    ~Destroy() { t.nvrtcDestroyProgram(&p); }
  } destroy{t, program};

  std::vector<std::string> args = commandLine(options);
  std::vector<const char *> argv;
  for (const std::string &a : args)
    argv.push_back(a.c_str());
  nvrtcResult compiled =
      t.nvrtcCompileProgram(program, int(argv.size()), argv.data());
  CompiledKernel out;
  size_t logSize = 0;
  if (t.nvrtcGetProgramLogSize(program, &logSize) == NVRTC_SUCCESS &&
      logSize > 1) {
    out.log.resize(logSize);
    if (t.nvrtcGetProgramLog(program, out.log.data()) != NVRTC_SUCCESS)
      out.log.clear();
    while (!out.log.empty() && (out.log.back() == '\0' || out.log.back() == '\n'))
      out.log.pop_back();
  }
  if (compiled != NVRTC_SUCCESS)
    return nvrtcError(t, compiled, "nvrtcCompileProgram", name, out.log);

  size_t size = 0;
  out.isCubin = options.cubin;
  if (options.cubin) {
    KILN_RETURN_IF_ERROR(
        KILN_NVRTC_CALL(t, name, nvrtcGetCUBINSize, program, &size));
    out.image.resize(size);
    KILN_RETURN_IF_ERROR(
        KILN_NVRTC_CALL(t, name, nvrtcGetCUBIN, program, out.image.data()));
  } else {
    KILN_RETURN_IF_ERROR(KILN_NVRTC_CALL(t, name, nvrtcGetPTXSize, program, &size));
    out.image.resize(size);
    KILN_RETURN_IF_ERROR(
        KILN_NVRTC_CALL(t, name, nvrtcGetPTX, program, out.image.data()));
    while (!out.image.empty() && out.image.back() == '\0')
      out.image.pop_back(); // PTX is text; the size counts the NUL
  }
  return out;
}

//===----------------------------------------------------------------------===//
// KernelCache
//===----------------------------------------------------------------------===//

uint64_t hash64(std::string_view bytes, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

namespace {
constexpr std::string_view kMagic = "KILNCUDA1";

std::string hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

Status makeDirectories(const std::string &dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/')
      continue;
    std::string prefix = dir.substr(0, i);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      return ioError("cannot create the kernel cache directory '", prefix,
                     "': ", std::strerror(errno));
  }
  return Status();
}

bool readFile(const std::string &path, std::string &out) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return false;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    out.append(buf, n);
  bool ok = !std::ferror(f);
  std::fclose(f);
  return ok;
}
} // namespace

Expected<KernelCache> KernelCache::open(std::string dir) {
  if (dir.empty()) {
    if (const char *env = std::getenv("KILN_CACHE_DIR"); env && *env)
      dir = std::string(env) + "/cuda";
    else if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
      dir = std::string(xdg) + "/kiln/cuda";
    else if (const char *home = std::getenv("HOME"); home && *home)
      dir = std::string(home) + "/.cache/kiln/cuda";
    else
      return failedPrecondition("no kernel cache directory: set KILN_CACHE_DIR");
  }
  KILN_RETURN_IF_ERROR(makeDirectories(dir));
  return KernelCache(std::move(dir));
}

std::string KernelCache::key(std::string_view source, const NvrtcCompiler &nvrtc,
                             const CompileOptions &options) const {
  std::string k = strCat("source ", hex(hash64(source)), "-",
                         hex(hash64(source, 0x84222325cbf29ce4ull)), " bytes ",
                         source.size(), "\nnvrtc ", nvrtc.version().first, ".",
                         nvrtc.version().second, "\n");
  for (const std::string &arg : nvrtc.commandLine(options))
    k += "option " + arg + "\n";
  return k;
}

std::string KernelCache::pathFor(const std::string &key) const {
  return strCat(dir_, "/", hex(hash64(key)), hex(hash64(key, 0x9e3779b97f4a7c15ull)),
                ".kernel");
}

void KernelCache::count(int64_t Stats::*counter) {
  std::lock_guard<std::mutex> lock(*mutex_);
  ++(stats_.*counter);
}

KernelCache::Stats KernelCache::stats() const {
  std::lock_guard<std::mutex> lock(*mutex_);
  return stats_;
}

// File: "KILNCUDA1 <image bytes> <image hash>\n" <key> <image>.
std::optional<std::string> KernelCache::lookup(const std::string &key) {
  std::string data;
  if (!readFile(pathFor(key), data)) {
    count(&Stats::misses);
    return std::nullopt;
  }
  size_t eol = data.find('\n');
  unsigned long long size = 0, sum = 0;
  char magic[16] = {};
  bool ok = eol != std::string::npos && eol < 80 &&
            std::sscanf(data.substr(0, eol).c_str(), "%15s %llu %llx", magic,
                        &size, &sum) == 3 &&
            kMagic == magic && data.size() == eol + 1 + key.size() + size &&
            data.compare(eol + 1, key.size(), key) == 0;
  std::string image;
  if (ok) {
    image = data.substr(eol + 1 + key.size());
    ok = hash64(image) == sum;
  }
  if (!ok) {
    count(&Stats::corruptEntries);
    count(&Stats::misses);
    return std::nullopt;
  }
  count(&Stats::hits);
  return image;
}

Status KernelCache::store(const std::string &key, std::string_view image) {
  std::string path = pathFor(key);
  std::string tmp = strCat(path, ".tmp.", getpid(), ".",
                           std::hash<std::thread::id>()(std::this_thread::get_id()));
  std::string data = strCat(kMagic, " ", image.size(), " ", hex(hash64(image)),
                            "\n", key, image);
  auto fail = [&](const char *what) {
    count(&Stats::writeErrors);
    Status s = ioError("kernel cache: cannot ", what, " '", tmp,
                       "': ", std::strerror(errno));
    unlink(tmp.c_str());
    return s;
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail("create");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      ::close(fd);
      return fail("write");
    }
    done += size_t(n);
  }
  if (::close(fd) != 0)
    return fail("close");
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return fail("rename");
  return Status();
}

Expected<CompiledKernel> KernelCache::compile(const NvrtcCompiler &nvrtc,
                                              std::string_view source,
                                              std::string_view programName,
                                              const CompileOptions &options) {
  std::string k = key(source, nvrtc, options);
  if (std::optional<std::string> image = lookup(k)) {
    CompiledKernel hit;
    hit.image = std::move(*image);
    hit.isCubin = options.cubin;
    hit.fromCache = true;
    return hit;
  }
  KILN_ASSIGN_OR_RETURN(CompiledKernel compiled,
                        nvrtc.compile(source, programName, options));
  // A cache that cannot be written costs time, not correctness.
  store(k, compiled.image).ignore();
  return compiled;
}

std::vector<Expected<CompiledKernel>>
compileAll(const NvrtcCompiler &nvrtc, const std::vector<CompileRequest> &requests,
           KernelCache *cache, unsigned threads) {
  std::vector<std::optional<Expected<CompiledKernel>>> slots(requests.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < requests.size();) {
      const CompileRequest &r = requests[i];
      slots[i].emplace(cache ? cache->compile(nvrtc, r.source, r.programName,
                                              r.options)
                             : nvrtc.compile(r.source, r.programName, r.options));
    }
  };
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  threads = unsigned(std::min<size_t>(threads, requests.size()));
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i)
    pool.emplace_back(work);
  work();
  for (std::thread &t : pool)
    t.join();
  std::vector<Expected<CompiledKernel>> out;
  out.reserve(requests.size());
  for (auto &slot : slots)
    out.push_back(std::move(*slot));
  return out;
}

} // namespace kiln::cuda
