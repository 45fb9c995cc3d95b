//===- CpuFeatures.cpp - What this CPU runs, less what the user switched off ===//
//
// See CpuFeatures.h.
//
//===----------------------------------------------------------------------===//
#include "CpuFeatures.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <cstdlib>

namespace kiln::cpu {

std::optional<bool> cpuHas(std::string_view f) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (f == "sse4.2") return __builtin_cpu_supports("sse4.2") != 0;
  if (f == "avx") return __builtin_cpu_supports("avx") != 0;
  if (f == "avx2") return __builtin_cpu_supports("avx2") != 0;
  if (f == "fma") return __builtin_cpu_supports("fma") != 0;
  if (f == "bmi") return __builtin_cpu_supports("bmi") != 0;
  if (f == "bmi2") return __builtin_cpu_supports("bmi2") != 0;
  if (f == "f16c") { // clang 14's __builtin_cpu_supports has no "f16c"
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
  }
  if (f == "avx512f") return __builtin_cpu_supports("avx512f") != 0;
  if (f == "avx512dq") return __builtin_cpu_supports("avx512dq") != 0;
  if (f == "avx512bw") return __builtin_cpu_supports("avx512bw") != 0;
  if (f == "avx512vl") return __builtin_cpu_supports("avx512vl") != 0;
#else
  (void)f;
#endif
  return std::nullopt;
}

bool cpuFeatureDisabled(std::string_view f) {
  const char *env = std::getenv("KILN_DISABLE_CPU_FEATURES");
  if (!env)
    return false;
  std::string_view list(env);
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (list.substr(0, comma) == f)
      return true;
    if (comma == std::string_view::npos)
      break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

} // namespace kiln::cpu
