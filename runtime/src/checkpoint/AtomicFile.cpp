//===- AtomicFile.cpp - Replacing a file so that a crash leaves old or new -===//
#include "AtomicFile.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln::checkpoint {

namespace {

/// Distinguishes temporary files of concurrent writers in one process.
std::atomic<unsigned> temporaryCounter{0};

std::string errnoText() { return std::strerror(errno); }

/// Closes a descriptor on every path out of a scope.
class FdCloser {
public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  FdCloser(const FdCloser &) = delete;
  FdCloser &operator=(const FdCloser &) = delete;
  /// Closes now and reports the result (close can report a delayed write
  /// error on some file systems).
  int closeNow() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

private:
  int fd_;
};

} // namespace

Status FdWriter::write(const void *data, size_t bytes) {
  const char *p = static_cast<const char *>(data);
  while (bytes > 0) {
    ssize_t n = ::write(fd_, p, bytes);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return ioError("error writing '", what_, "': ", errnoText());
    }
    p += n;
    bytes -= size_t(n);
    written_ += size_t(n);
  }
  return Status();
}

Status writeFileAtomically(const std::string &path,
                           const std::function<Status(FdWriter &)> &fill) {
  if (path.empty())
    return invalidArgument("cannot write a file with an empty path");
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "."
                    : slash == 0               ? "/"
                                               : path.substr(0, slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty())
    return invalidArgument("cannot write '", path, "': it names a directory");

  // A hidden name in the same directory (rename(2) is atomic only within one
  // file system), unique per process and call.
  std::string temporary;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    temporary = strCat(dir, "/.", base, ".tmp.", ::getpid(), ".",
                       temporaryCounter.fetch_add(1));
    fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                0666);
    if (fd < 0 && errno != EEXIST)
      return ioError("cannot create a temporary file for '", path,
                     "' in '", dir, "': ", errnoText());
  }
  if (fd < 0)
    return ioError("cannot create a temporary file for '", path,
                   "': every candidate name exists");

  FdCloser closer(fd);
  auto fail = [&](Status s) {
    ::unlink(temporary.c_str());
    return s;
  };
  FdWriter writer(fd, temporary);
  if (Status s = fill(writer); !s.isOk())
    return fail(std::move(s).withContext(strCat("writing '", path, "'")));
  if (::fsync(fd) != 0)
    return fail(ioError("cannot fsync '", temporary, "': ", errnoText()));
  if (closer.closeNow() != 0)
    return fail(ioError("cannot close '", temporary, "': ", errnoText()));
  if (::rename(temporary.c_str(), path.c_str()) != 0)
    return fail(ioError("cannot rename '", temporary, "' to '", path,
                        "': ", errnoText()));

  // Make the rename itself durable. The new contents are already complete
  // under the final name, so a failure here is reported but nothing is
  // undone.
  int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd < 0)
    return ioError("cannot open directory '", dir, "' to fsync it: ",
                   errnoText());
  FdCloser dirCloser(dirFd);
  // EINVAL: a file system that cannot sync directories (nothing to do).
  if (::fsync(dirFd) != 0 && errno != EINVAL)
    return ioError("cannot fsync directory '", dir, "': ", errnoText());
  return Status();
}

} // namespace kiln::checkpoint
