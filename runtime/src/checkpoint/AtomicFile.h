//===- AtomicFile.h - Replacing a file so that a crash leaves old or new ---===//
//
// writeFileAtomically(path, fill) writes through `fill` into a new temporary
// file in path's directory, fsyncs it, renames it over `path` and fsyncs the
// directory. Until the rename, `path` is untouched; rename(2) swaps the name
// atomically; the two fsyncs make the new contents and the new name durable
// in that order, so even a power cut leaves the old file or the complete new
// one. On any error the temporary file is removed and `path` is untouched.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CHECKPOINT_ATOMICFILE_H
#define KILN_RUNTIME_CHECKPOINT_ATOMICFILE_H

#include "kiln/Status.h"

#include <cstddef>
#include <functional>
#include <string>

namespace kiln::checkpoint {

/// Appends bytes to an open file descriptor (retrying short writes and
/// EINTR); `what` names the file in messages.
class FdWriter {
public:
  FdWriter(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}
  Status write(const void *data, size_t bytes);
  size_t written() const { return written_; }

private:
  int fd_;
  std::string what_;
  size_t written_ = 0;
};

/// See the file comment.
Status writeFileAtomically(const std::string &path,
                           const std::function<Status(FdWriter &)> &fill);

} // namespace kiln::checkpoint

#endif // KILN_RUNTIME_CHECKPOINT_ATOMICFILE_H
