//===- NativeCode.h - Generated kernels shipped in a .kiln file -----------===//
//
// A .kiln file may carry native code: one shared object that kiln-compile
// generated for the fused kernels (compiler/Target/CPU). The runtime loads
// it from memory (memfd_create, write, dlopen of /proc/self/fd/N) without
// any LLVM, after checking its checksum and that the CPU has every feature
// the code was compiled for, and resolves every symbol up front.
//
// SECURITY: loading runs code from the file (the shared object's
// constructors run at dlopen, its kernels at every call). A .kiln file is
// code: load only files you trust as you would trust a program.
//
// Ownership: the library stays loaded (and its memfd open, which keeps the
// /proc/self/fd/N name unique) until the last ModuleData holding it is gone.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_MODULE_NATIVECODE_H
#define KILN_RUNTIME_MODULE_NATIVECODE_H

#include "kiln/Status.h"
#include "kiln/format/kiln_generated.h"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kiln {

/// The ABI of a generated kernel: buffers = operands then results,
/// [begin, end) a range of its outer dimension.
using NativeKernelFn = void (*)(void **buffers, int64_t begin, int64_t end);

class NativeLibrary {
public:
  /// Verifies and loads `code`; `where` names the file in errors.
  static Expected<std::shared_ptr<NativeLibrary>>
  load(const format::NativeCode &code, const std::string &where);
  ~NativeLibrary();
  NativeLibrary(const NativeLibrary &) = delete;
  NativeLibrary &operator=(const NativeLibrary &) = delete;

  /// A symbol listed in the file (all were resolved at load), or nullptr.
  NativeKernelFn find(std::string_view symbol) const;
  /// What the kernel was compiled for (`<symbol>_signature`): buffer
  /// count, outer range, bytes per buffer; empty when not found.
  std::vector<int64_t> signature(std::string_view symbol) const;

private:
  NativeLibrary() = default;
  void *handle_ = nullptr;
  int fd_ = -1;
  std::unordered_map<std::string, NativeKernelFn> symbols_;
  std::unordered_map<std::string, std::vector<int64_t>> signatures_;
};

/// Fails with Unavailable naming the first feature (LLVM spelling: "avx2",
/// "fma", ...) this CPU lacks.
Status checkCpuFeatures(const flatbuffers::Vector<
                            flatbuffers::Offset<flatbuffers::String>> *features,
                        std::string_view cpu, const std::string &where);

} // namespace kiln

#endif // KILN_RUNTIME_MODULE_NATIVECODE_H
