//===- SharedObjectLinker.cpp - Object file to shared object with ld.lld --===//
//
// Runs `ld.lld -shared` on a temporary object file. The vector math calls
// (_ZGVdN8v_expf, ...) resolve against glibc's libmvec and the scalar ones
// against libm, both named by path so that no -L search is involved; with
// --as-needed the shared object records only the ones it uses.
//
//===----------------------------------------------------------------------===//
#include "SharedObjectLinker.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

namespace mlir::kiln::cpu {
namespace {

/// The first of `dirs`/`name` that exists, or "".
std::string findFile(llvm::ArrayRef<const char *> dirs, llvm::StringRef name) {
  for (const char *dir : dirs) {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    if (llvm::sys::fs::exists(path))
      return std::string(path);
  }
  return "";
}

bool writeBytes(llvm::StringRef path, const std::vector<uint8_t> &bytes,
                std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write " + path.str() + ": " + ec.message();
    return false;
  }
  os.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  os.close();
  if (os.has_error()) {
    error = "cannot write " + path.str() + ": " + os.error().message();
    os.clear_error();
    return false;
  }
  return true;
}

} // namespace

std::string findLinker(std::string &error) {
  if (const char *env = std::getenv("KILN_LD_LLD"); env && *env) {
    if (llvm::sys::fs::can_execute(env))
      return env;
    error = std::string("KILN_LD_LLD=") + env + " is not an executable";
    return "";
  }
  for (const char *name : {"ld.lld", "ld.lld-19"})
    if (auto path = llvm::sys::findProgramByName(name))
      return *path;
  const char *fallback = "/usr/lib/llvm-19/bin/ld.lld";
  if (llvm::sys::fs::can_execute(fallback))
    return fallback;
  error = "ld.lld not found (looked at $KILN_LD_LLD, ld.lld and ld.lld-19 on "
          "PATH, /usr/lib/llvm-19/bin/ld.lld); install lld (Debian: lld-19) "
          "or compile with --cpu=none to run fused kernels op by op";
  return "";
}

bool linkSharedObject(const std::vector<uint8_t> &object,
                      std::vector<uint8_t> &sharedObject, std::string &error) {
  std::string linker = findLinker(error);
  if (linker.empty())
    return false;
  static const char *libDirs[] = {"/lib/x86_64-linux-gnu",
                                  "/usr/lib/x86_64-linux-gnu", "/lib64",
                                  "/usr/lib64"};
  std::string libm = findFile(libDirs, "libm.so.6");
  std::string libmvec = findFile(libDirs, "libmvec.so.1");
  if (libm.empty() || libmvec.empty()) {
    error = "glibc's libm.so.6 or libmvec.so.1 not found (needed by the "
            "generated vector math)";
    return false;
  }

  llvm::SmallString<128> objPath, soPath, logPath;
  for (auto [suffix, path] : {std::pair{"o", &objPath}, {"so", &soPath},
                              {"log", &logPath}})
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "kiln-kernels", suffix, *path)) {
      error = "cannot create a temporary file: " + ec.message();
      return false;
    }
  auto cleanup = llvm::make_scope_exit([&] {
    for (auto *path : {&objPath, &soPath, &logPath})
      llvm::sys::fs::remove(*path);
  });
  if (!writeBytes(objPath, object, error))
    return false;

  llvm::SmallVector<llvm::StringRef> args = {
      linker, "-shared", "-o", soPath, "-z", "now", "-z", "noexecstack",
      "-z", "relro", "--hash-style=gnu", "--as-needed", objPath, libmvec, libm};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath.str(),
                                                logPath.str()};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(linker, args, std::nullopt, redirects,
                                     /*SecondsToWait=*/120, 0, &execError);
  if (rc != 0) {
    std::string log;
    if (auto buffer = llvm::MemoryBuffer::getFile(logPath))
      log = (*buffer)->getBuffer().str();
    error = "ld.lld failed (" +
            (execError.empty() ? "exit code " + std::to_string(rc) : execError) +
            ")" + (log.empty() ? "" : ":\n" + log);
    return false;
  }
  auto buffer = llvm::MemoryBuffer::getFile(soPath, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    error = "cannot read the linked shared object: " + buffer.getError().message();
    return false;
  }
  llvm::StringRef bytes = (*buffer)->getBuffer();
  sharedObject.assign(bytes.begin(), bytes.end());
  return true;
}

} // namespace mlir::kiln::cpu
