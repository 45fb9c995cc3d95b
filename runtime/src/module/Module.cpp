//===- Module.cpp - Loading .kiln files and making sessions ---------------===//
#include "ModuleData.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln {

Expected<FileBytes> alignedFileBytes(std::vector<uint8_t> bytes) {
  FileBytes file;
  file.size = bytes.size();
  if (reinterpret_cast<uintptr_t>(bytes.data()) % kFileAlignment == 0) {
    auto owned = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
    file.data = owned->data();
    file.owner = std::move(owned);
    return file;
  }
  // malloc gives 16 bytes at most: copy to where the 64-byte aligned payload
  // is 64-byte aligned in memory too.
  size_t rounded = (std::max<size_t>(bytes.size(), 1) + kFileAlignment - 1) /
                   kFileAlignment * kFileAlignment;
  void *buffer = std::aligned_alloc(kFileAlignment, rounded);
  if (!buffer)
    return outOfMemory("cannot allocate ", rounded, " bytes for a .kiln file");
  if (!bytes.empty())
    std::memcpy(buffer, bytes.data(), bytes.size());
  file.data = static_cast<const uint8_t *>(buffer);
  file.owner = std::shared_ptr<const void>(
      buffer, [](const void *p) { std::free(const_cast<void *>(p)); });
  return file;
}

Expected<FileBytes> mapFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return notFound("cannot open '", path, "'");
    return ioError("cannot open '", path, "': ", std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
    ::close(fd);
    return FileBytes{}; // read it instead (a pipe, a device, an empty file)
  }
  size_t size = size_t(st.st_size);
  void *p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int mapErrno = errno;
  ::close(fd); // the mapping keeps the file open
  if (p == MAP_FAILED)
    return ioError("cannot map '", path, "': ", std::strerror(mapErrno));
  FileBytes file;
  file.data = static_cast<const uint8_t *>(p); // page-aligned
  file.size = size;
  file.mapped = true;
  file.owner = std::shared_ptr<const void>(
      p, [size](const void *q) { ::munmap(const_cast<void *>(q), size); });
  return file;
}

namespace {
/// Reads a whole file that cannot be mapped (a pipe, a device); POSIX
/// reads, no exceptions (an ifstream throws reading a directory).
Expected<std::vector<uint8_t>> readFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return notFound("cannot open '", path, "'");
    return ioError("cannot open '", path, "': ", std::strerror(errno));
  }
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ioError("cannot read '", path, "': ", std::strerror(err));
    }
    if (n == 0)
      break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  ::close(fd);
  return bytes;
}
} // namespace

Expected<std::shared_ptr<Module>> Module::load(const std::string &path,
                                               LoadOptions options) {
  if (options.mapFile) {
    KILN_ASSIGN_OR_RETURN(FileBytes file, mapFile(path));
    if (file.data) {
      KILN_ASSIGN_OR_RETURN(std::shared_ptr<ModuleData> data,
                            parseModule(std::move(file), path));
      if (options.prepareLibraryCalls)
        KILN_RETURN_IF_ERROR(prepareLibraryCalls(*data));
      return std::shared_ptr<Module>(new Module(std::move(data)));
    }
  }
  KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, readFile(path));
  return loadBytes(std::move(bytes), path, options);
}

Expected<std::shared_ptr<Module>> Module::loadBytes(std::vector<uint8_t> bytes,
                                                    std::string name,
                                                    LoadOptions options) {
  KILN_ASSIGN_OR_RETURN(FileBytes file, alignedFileBytes(std::move(bytes)));
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<ModuleData> data,
                        parseModule(std::move(file), std::move(name)));
  if (options.prepareLibraryCalls)
    KILN_RETURN_IF_ERROR(prepareLibraryCalls(*data));
  return std::shared_ptr<Module>(new Module(std::move(data)));
}

std::vector<std::string> Module::functionNames() const {
  std::vector<std::string> names;
  for (const FunctionData &f : data_->functions)
    names.push_back(f.name);
  return names;
}

Expected<Session> Module::newSession(std::string_view function,
                                     SessionOptions options) const {
  auto it =
      std::find_if(data_->functions.begin(), data_->functions.end(),
                   [&](const FunctionData &f) { return f.name == function; });
  if (it == data_->functions.end())
    return notFound(data_->name, " has no function '", function, "'");
  size_t needed = options.reference ? it->referenceRunBytes : it->runBytes;
  if (options.memoryLimit != 0 && needed > options.memoryLimit)
    return outOfMemory(
        data_->name, ": function '", it->name, "' needs up to ", needed,
        " bytes per run", options.reference ? " (reference run)" : "",
        ", over the session memory limit of ", options.memoryLimit,
        " bytes (SessionOptions::memoryLimit)");
  // Arena offsets are 64-byte aligned, so element views stay aligned.
  size_t bytes = options.reference ? 64 : std::max<size_t>(it->arenaSize, 64);
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<Storage> arena,
                        Storage::allocate(cpuDevice(), bytes));
  return Session(data_, size_t(it - data_->functions.begin()), std::move(arena),
                 options);
}

const std::vector<TensorSpec> &Session::inputs() const {
  return data_->functions[function_].inputs;
}
const std::vector<TensorSpec> &Session::outputs() const {
  return data_->functions[function_].outputs;
}
size_t Session::arenaBytes() const { return arena_->bytes(); }

} // namespace kiln
