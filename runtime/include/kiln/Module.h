//===- Module.h - Loading and running compiled .kiln models ---------------===//
//
//   KILN_ASSIGN_OR_RETURN(std::shared_ptr<kiln::Module> model,
//                         kiln::Module::load("mlp.kiln"));
//   KILN_ASSIGN_OR_RETURN(kiln::Session session, model->newSession("main"));
//   KILN_ASSIGN_OR_RETURN(std::vector<kiln::Tensor> out, session.run({x}));
//
// load() verifies the whole file before anything runs: the FlatBuffers
// structure and the alignment of its 8-byte vectors, the format version,
// the payload checksum, and every index, offset, size, dtype and shape,
// including each op's result shapes re-inferred from its operands and
// attributes (a bad file is a DataLoss or InvalidArgument status naming
// what is wrong, never a crash). newSession() bounds the memory one run may
// take (SessionOptions::memoryLimit).
//
// Ownership and threads
//  - A Module is immutable after load and shared (std::shared_ptr); its
//    constants (weights) are read-only views into the loaded file, which
//    load() maps read-only (LoadOptions::mapFile) and keeps mapped for as
//    long as the module or a session of it lives.
//  - A Session owns one arena for one function, allocated once at
//    newSession() and reused by every run(). It runs from one thread at a
//    time; for concurrency give each thread its own Session (of the same
//    Module). Sessions keep their Module alive.
//  - run() returns tensors that own their memory, so they stay valid
//    across later runs: the results kiln-compile keeps out of the arena
//    are allocated for each run and handed over without a copy; anything
//    else (an input or constant returned as is, a view, a value returned
//    twice, an arena value from another compiler) is copied.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_MODULE_H
#define KILN_MODULE_H

#include "kiln/Status.h"
#include "kiln/Tensor.h"

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// Name, dtype and shape of a function argument or result.
struct TensorSpec {
  std::string name;
  DType dtype;
  Shape shape;
};

class Module;
struct ModuleData;

/// The default SessionOptions::memoryLimit: 4 GiB.
inline constexpr size_t kDefaultSessionMemoryLimit = size_t(4) << 30;

struct SessionOptions {
  /// Run the oracle instead: every float value in f64, through the naive
  /// reference kernels (kiln/Reference.h); outputs are f64; no arena.
  bool reference = false;
  /// The most memory, in bytes, that one run of the function may hold at
  /// once: the arena, the executor's temporaries, a kernel's result before
  /// it is stored, and the outputs (the reference run: every value in
  /// f64). newSession() computes this bound from the file's declared value
  /// types (which load() checked against every op's shape rule, so no
  /// kernel returns more than its file declared) and refuses, with an
  /// OutOfMemory status naming the function, a function over the limit, so
  /// that a hostile file cannot make a run allocate without bound. Not
  /// counted: the caller's inputs and the kernels' own scratch (a small
  /// multiple of their operands). 0 means no limit; raise it for models
  /// whose activations need more than the default.
  size_t memoryLimit = kDefaultSessionMemoryLimit;
  /// Time every op of every run (Session::profile()); costs two clock
  /// reads per op.
  bool profile = false;
};

/// Where one op of the dispatch list spent its time (SessionOptions::profile).
struct OpProfile {
  std::string op;   ///< the kiln op, e.g. "conv2d", or "cpu_kernel"
  std::string how;  ///< "native <symbol>", "prepared <library kernel>", "op table"
  double seconds = 0; ///< summed over runs
  int64_t runs = 0;
};

namespace detail {
/// Internal to the executor: a slice or transpose into the arena as
/// copies of contiguous runs, gathered over up to four outer dims.
struct ViewCopy {
  static constexpr int kMaxDims = 4;
  int64_t from = -1, to = 0; // byte offsets; from < 0: not learned
  int input = -1; // from is in this (contiguous) function input; -1: arena
  int64_t runBytes = 0;
  int dims = 0;
  int64_t counts[kMaxDims] = {}, strides[kMaxDims] = {}; // outermost first; bytes
};
} // namespace detail

/// One function of a module with its arena. See the header comment.
class Session {
public:
  /// Runs the function. Inputs must match inputs() in count, dtype and shape.
  Expected<std::vector<Tensor>> run(std::span<const Tensor> inputs);
  Expected<std::vector<Tensor>> run(std::initializer_list<Tensor> inputs) {
    return run(std::span<const Tensor>(inputs.begin(), inputs.size()));
  }
  const std::vector<TensorSpec> &inputs() const;
  const std::vector<TensorSpec> &outputs() const;
  /// Bytes of the arena this session allocated.
  size_t arenaBytes() const;
  /// Per op of the dispatch list, in order, when SessionOptions::profile
  /// is set (else empty); summed over every run so far.
  const std::vector<OpProfile> &profile() const { return profile_; }

private:
  friend class Module;
  Session(std::shared_ptr<const ModuleData> data, size_t function,
          std::shared_ptr<Storage> arena, SessionOptions options)
      : data_(std::move(data)), function_(function), arena_(std::move(arena)),
        options_(options) {}
  Expected<std::vector<Tensor>> runReference(std::span<const Tensor> inputs);
  std::shared_ptr<const ModuleData> data_;
  size_t function_;
  std::shared_ptr<Storage> arena_; // arena_size bytes, from the allocator
  SessionOptions options_;
  std::vector<OpProfile> profile_;
  /// Per op: a slice or transpose of an arena value or an input into the
  /// arena, learned on the first run, replayed as copies of contiguous
  /// runs (Executor.cpp).
  std::vector<detail::ViewCopy> viewCopies_;
};

struct LoadOptions {
  /// Map the file (read-only, private) instead of reading it into memory,
  /// when it is a regular file: the weights are then used in place, shared
  /// with the page cache, and pages are read as they are touched. The file
  /// must not be modified in place (truncated or rewritten) while the
  /// module lives, or the verified bytes change under it (a truncation is
  /// a SIGBUS): replace it by writing a new file and renaming it over the
  /// old one (the mapping keeps the old file). Turn this off for files that
  /// may change under the process.
  bool mapFile = true;
  /// Prepare the GEMMs and convolutions whose weights are constants once,
  /// here: library primitives created, weights packed into the library's
  /// layout (one more copy of those weights in memory), a gemm's bias and
  /// activation applied in the same call. Off: they run as eager mode runs
  /// them, op by op (slower; for comparisons and debugging).
  bool prepareLibraryCalls = true;
};

class Module {
public:
  /// Maps (see LoadOptions) or reads a .kiln file and verifies all of it
  /// before returning.
  static Expected<std::shared_ptr<Module>> load(const std::string &path,
                                                LoadOptions options = {});
  /// Verifies and adopts the bytes of a .kiln file (copied once more when
  /// they are not 64-byte aligned); `name` appears in errors.
  static Expected<std::shared_ptr<Module>>
  loadBytes(std::vector<uint8_t> bytes, std::string name = "<memory>",
            LoadOptions options = {});

  std::vector<std::string> functionNames() const;
  /// A session for `function`, with its arena allocated. OutOfMemory when
  /// a run would need more than `options.memoryLimit`.
  Expected<Session> newSession(std::string_view function,
                               SessionOptions options = {}) const;

private:
  explicit Module(std::shared_ptr<const ModuleData> data)
      : data_(std::move(data)) {}
  std::shared_ptr<const ModuleData> data_;
};

} // namespace kiln

#endif // KILN_MODULE_H
