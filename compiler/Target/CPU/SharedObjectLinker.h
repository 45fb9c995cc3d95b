//===- SharedObjectLinker.h - Object file to shared object with ld.lld ----===//
#ifndef KILN_COMPILER_TARGET_CPU_SHAREDOBJECTLINKER_H
#define KILN_COMPILER_TARGET_CPU_SHAREDOBJECTLINKER_H

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::kiln::cpu {

/// The ld.lld that kiln-compile runs: $KILN_LD_LLD, else ld.lld or
/// ld.lld-19 on PATH, else /usr/lib/llvm-19/bin/ld.lld. Empty (with
/// `error` saying what was tried) when there is none.
std::string findLinker(std::string &error);

/// Links an ELF object into a shared object that needs only glibc (libm,
/// libmvec), using ld.lld. The linker is a compile-time dependency of
/// kiln-compile only; the runtime never runs it.
bool linkSharedObject(const std::vector<uint8_t> &object,
                      std::vector<uint8_t> &sharedObject, std::string &error);

} // namespace mlir::kiln::cpu

#endif // KILN_COMPILER_TARGET_CPU_SHAREDOBJECTLINKER_H
