//===- CheckpointTool.cpp - Crash and interop drivers for checkpoints -----===//
//
// One executable, several modes, for the checkpoint tests that need more
// than one process:
//
//   kiln-checkpoint-tool crash-test <dir> <kills>
//       Starts `write-loop` in a child process, kills it with SIGKILL at a
//       random moment while it saves, and checks that the checkpoint is then
//       absent or loads and equals contents A or B exactly; `kills` times.
//       Prints how the kills landed. Exit status 0 when every check passed.
//   kiln-checkpoint-tool write-loop <path>
//       Saves contents A, B, A, ... to <path> forever (about 4.5 MB each);
//       writes one byte to stdout once the contents are built.
//   kiln-checkpoint-tool write-sample <path>
//       Saves the interop sample (test/tools/safetensors_interop.py).
//   kiln-checkpoint-tool dump <path>
//       Prints the metadata (hex) and every tensor (name, dtype, rank,
//       shape, values).
//   kiln-checkpoint-tool roundtrip <in> <out>
//       Loads <in> and saves what it read to <out>.
//
//===----------------------------------------------------------------------===//
#include "kiln/Checkpoint.h"

#include <chrono>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <random>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace kiln;

namespace {

int fail(const Status &s) {
  std::fprintf(stderr, "error: %s\n", s.toString().c_str());
  return 1;
}

/// Contents A or B: distinct values in every tensor and in the metadata,
/// so that any mix of the two is detected.
struct Contents {
  NamedTensorList tensors;
  std::map<std::string, std::string> metadata;
};

Expected<Contents> makeContents(char which) {
  double salt = which == 'A' ? 1.0 : -3.0;
  Contents c;
  KILN_ASSIGN_OR_RETURN(Tensor w, Tensor::empty({1024, 1024}, DType::F32));
  float *pw = w.data<float>();
  for (int64_t i = 0; i < w.numel(); ++i)
    pw[i] = float(salt * double(i % 9973) + double(i) * 1e-3);
  KILN_ASSIGN_OR_RETURN(Tensor b, Tensor::empty({65536}, DType::BF16));
  auto *pb = static_cast<BFloat16 *>(b.rawData());
  for (int64_t i = 0; i < b.numel(); ++i)
    pb[i] = floatToBf16(float(salt * double(i % 251)));
  KILN_ASSIGN_OR_RETURN(Tensor step,
                        Tensor::scalar(which == 'A' ? 1000 : 2000, DType::I64));
  c.tensors = {{"model.weight", w}, {"model.bias", b}, {"optim.step", step}};
  c.metadata = {{"contents", std::string(1, which)}};
  return c;
}

/// True when `file` holds exactly the tensors and metadata of `c`.
bool sameContents(const SafetensorsFile &file, const Contents &c) {
  if (file.metadata != c.metadata || file.tensors.size() != c.tensors.size())
    return false;
  for (const auto &[name, t] : c.tensors) {
    const Tensor *got = file.find(name);
    if (!got || got->dtype() != t.dtype() || got->shape() != t.shape())
      return false;
    size_t bytes = size_t(t.numel()) * t.elementSize();
    if (bytes && std::memcmp(got->rawData(), t.rawData(), bytes) != 0)
      return false;
  }
  return true;
}

int writeLoop(const std::string &path) {
  auto a = makeContents('A');
  auto b = makeContents('B');
  if (!a || !b)
    return fail(!a ? a.status() : b.status());
  // Tell the driver that saving starts now, so that its random delay falls
  // among the saves and not into the start-up.
  if (::write(STDOUT_FILENO, "R", 1) != 1)
    return 1;
  for (uint64_t i = 0;; ++i) {
    const Contents &c = i % 2 ? *b : *a;
    if (Status s = saveSafetensors(path, c.tensors, c.metadata); !s.isOk())
      return fail(s);
  }
}

/// Names of leftover temporary files of `base` in `dir` (a killed writer
/// leaves its one behind); removes them.
int removeTemporaries(const std::string &dir, const std::string &base) {
  int count = 0;
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    return 0;
  std::string prefix = "." + base + ".tmp.";
  while (dirent *e = ::readdir(d)) {
    if (std::string_view(e->d_name).starts_with(prefix)) {
      ++count;
      ::unlink((dir + "/" + e->d_name).c_str());
    }
  }
  ::closedir(d);
  return count;
}

int crashTest(const std::string &dir, int kills) {
  ::mkdir(dir.c_str(), 0777);
  std::string base = "ckpt.safetensors";
  std::string path = dir + "/" + base;
  ::unlink(path.c_str());
  removeTemporaries(dir, base);
  auto a = makeContents('A');
  auto b = makeContents('B');
  if (!a || !b)
    return fail(!a ? a.status() : b.status());

  // One save here measures how long a save takes on this machine, so the
  // kills can be spread over a few saves whatever the build's speed.
  auto t0 = std::chrono::steady_clock::now();
  if (Status s = saveSafetensors(dir + "/timing.safetensors", a->tensors,
                                 a->metadata);
      !s.isOk())
    return fail(s);
  auto saveUs = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - t0)
                    .count();
  ::unlink((dir + "/timing.safetensors").c_str());

  std::mt19937_64 rng(std::random_device{}());
  int absent = 0, gotA = 0, gotB = 0, midWrite = 0, failures = 0;
  for (int round = 0; round < kills; ++round) {
    // Every fourth round starts with no file, so that a kill during the
    // first save is covered too.
    if (round % 4 == 0)
      ::unlink(path.c_str());
    int ready[2];
    if (::pipe(ready) != 0)
      return fail(ioError("pipe: ", std::strerror(errno)));
    pid_t pid = ::fork();
    if (pid < 0)
      return fail(ioError("fork: ", std::strerror(errno)));
    if (pid == 0) {
      ::dup2(ready[1], STDOUT_FILENO);
      ::close(ready[0]);
      ::close(ready[1]);
      ::execl("/proc/self/exe", "kiln-checkpoint-tool", "write-loop",
              path.c_str(), static_cast<char *>(nullptr));
      ::_exit(127);
    }
    ::close(ready[1]);
    char byte = 0;
    ssize_t got = ::read(ready[0], &byte, 1);
    ::close(ready[0]);
    if (got != 1) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return fail(internalError("the writer did not start"));
    }
    std::uniform_int_distribution<int64_t> delay(0, 4 * saveUs);
    int64_t us = delay(rng);
    ::usleep(useconds_t(us));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
      std::fprintf(stderr, "round %d: the writer exited on its own (%d)\n",
                   round, status);
      ++failures;
      continue;
    }
    int leftovers = removeTemporaries(dir, base);
    midWrite += leftovers > 0;
    auto file = loadSafetensors(path);
    const char *outcome;
    if (!file && file.status().code() == StatusCode::NotFound) {
      outcome = "absent";
      ++absent;
    } else if (!file) {
      outcome = "CORRUPT";
      ++failures;
      std::fprintf(stderr, "round %d: %s\n", round,
                   file.status().toString().c_str());
    } else if (sameContents(*file, *a)) {
      outcome = "A";
      ++gotA;
    } else if (sameContents(*file, *b)) {
      outcome = "B";
      ++gotB;
    } else {
      outcome = "MIXED";
      ++failures;
    }
    std::printf("round %2d: killed after %6" PRId64 " us, %s, %s\n", round,
                us, leftovers ? "mid-write (temporary file left)"
                              : "between saves",
                outcome);
  }
  std::printf("%d kills (one save takes ~%" PRId64 " us): %d mid-write; "
              "file absent %d, A %d, B %d; failures %d\n",
              kills, int64_t(saveUs), midWrite, absent, gotA, gotB, failures);
  ::unlink(path.c_str());
  return failures == 0 ? 0 : 1;
}

/// The interop sample; safetensors_interop.py builds the same values.
Expected<NamedTensorList> makeSample() {
  NamedTensorList out;
  auto add = [&](const std::string &name, std::vector<double> values,
                 const Shape &shape, DType dtype) -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::fromDoubles(values, shape, dtype));
    out.emplace_back(name, t);
    return Status();
  };
  std::vector<double> ramp;
  for (int i = 0; i < 12; ++i)
    ramp.push_back((i - 5) * 0.25);
  double inf = INFINITY;
  KILN_RETURN_IF_ERROR(add("f64", ramp, {3, 4}, DType::F64));
  KILN_RETURN_IF_ERROR(add("f32", ramp, {2, 2, 3}, DType::F32));
  KILN_RETURN_IF_ERROR(add("f16", {0.5, -2, 65504, -0.0, 0x1p-24, inf, 1.0 / 3},
                           {7}, DType::F16));
  KILN_RETURN_IF_ERROR(add("bf16", {0.5, -2, 3e38, -0.0, 1e-30, -inf, 1.0 / 3},
                           {7}, DType::BF16));
  KILN_RETURN_IF_ERROR(add("i64", {0, -1, 1099511627776.0, -9007199254740992.0},
                           {2, 2}, DType::I64));
  KILN_RETURN_IF_ERROR(add("i32", {2147483647, -2147483648.0, 7}, {3},
                           DType::I32));
  KILN_RETURN_IF_ERROR(add("i8", {-128, 127, 0, 5}, {4}, DType::I8));
  KILN_RETURN_IF_ERROR(add("bool", {1, 0, 0, 1}, {2, 2}, DType::Bool));
  KILN_RETURN_IF_ERROR(add("scalar", {42.5}, {}, DType::F32));
  KILN_RETURN_IF_ERROR(add("empty", {}, {0, 3}, DType::F32));
  // A non-contiguous view: saved as its own C-order elements, the
  // transpose of "f32" reshaped to [3, 4].
  KILN_ASSIGN_OR_RETURN(Tensor m, Tensor::fromDoubles(ramp, {3, 4}, DType::F32));
  KILN_ASSIGN_OR_RETURN(Tensor mt, m.transpose(0, 1));
  out.emplace_back("transposed", mt);
  return out;
}

int writeSample(const std::string &path) {
  auto sample = makeSample();
  if (!sample)
    return fail(sample.status());
  std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"note", "caf\xc3\xa9 \"quoted\"\n\\ tab\t"}};
  if (Status s = saveSafetensors(path, *sample, metadata); !s.isOk())
    return fail(s);
  return 0;
}

int dump(const std::string &path) {
  auto file = loadSafetensors(path);
  if (!file)
    return fail(file.status());
  // Metadata as hex: values may hold spaces and newlines.
  auto hex = [](const std::string &s) {
    std::string out;
    char buf[3];
    for (unsigned char c : s) {
      std::snprintf(buf, sizeof buf, "%02x", c);
      out += buf;
    }
    return out.empty() ? std::string("-") : out;
  };
  for (const auto &[key, value] : file->metadata)
    std::printf("meta %s %s\n", hex(key).c_str(), hex(value).c_str());
  for (const auto &[name, t] : file->tensors) {
    std::printf("tensor %s %s %" PRId64, name.c_str(),
                std::string(safetensorsDTypeName(t.dtype())).c_str(), t.rank());
    for (int64_t d : t.shape())
      std::printf(" %" PRId64, d);
    for (double v : t.toDoubles())
      std::printf(" %.17g", v);
    std::printf("\n");
  }
  return 0;
}

int roundtrip(const std::string &in, const std::string &out) {
  auto file = loadSafetensors(in);
  if (!file)
    return fail(file.status());
  if (Status s = saveSafetensors(out, file->tensors, file->metadata); !s.isOk())
    return fail(s);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "crash-test" && argc == 4)
    return crashTest(argv[2], std::atoi(argv[3]));
  if (mode == "write-loop" && argc == 3)
    return writeLoop(argv[2]);
  if (mode == "write-sample" && argc == 3)
    return writeSample(argv[2]);
  if (mode == "dump" && argc == 3)
    return dump(argv[2]);
  if (mode == "roundtrip" && argc == 4)
    return roundtrip(argv[2], argv[3]);
  std::fprintf(stderr,
               "usage: %s crash-test <dir> <kills> | write-loop <path> | "
               "write-sample <path> | dump <path> | roundtrip <in> <out>\n",
               argv[0]);
  return 2;
}
