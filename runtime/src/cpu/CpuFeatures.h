//===- CpuFeatures.h - What this CPU runs, less what the user switched off -===//
//
// Internal. One place that answers "may Kiln use this instruction set
// here?" for the loader (which native-code target of a .kiln file to run)
// and for every hand-written kernel (AVX-512, AVX2 or portable).
// KILN_DISABLE_CPU_FEATURES=avx512f,... makes both treat those features as
// missing: the fallbacks are then tested on any machine, and a host can be
// kept off code that misbehaves on it.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_CPUFEATURES_H
#define KILN_RUNTIME_CPU_CPUFEATURES_H

#include <optional>
#include <string_view>

namespace kiln::cpu {

/// Whether this CPU (and OS, for the ymm/zmm state) has an LLVM-named
/// feature ("avx2", "fma", "avx512f"...); nullopt for a name this runtime
/// cannot check. Ignores KILN_DISABLE_CPU_FEATURES.
std::optional<bool> cpuHas(std::string_view feature);

/// Whether KILN_DISABLE_CPU_FEATURES (comma-separated names) lists it.
bool cpuFeatureDisabled(std::string_view feature);

/// cpuHas and not disabled: what kernels ask before taking a path.
inline bool cpuFeatureUsable(std::string_view feature) {
  return cpuHas(feature).value_or(false) && !cpuFeatureDisabled(feature);
}

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_CPUFEATURES_H
