//===- Driver.h - The CUDA driver API, loaded at run time -----------------===//
//
// The runtime never links libcuda (DESIGN.md): a binary linked to the
// toolkit's stub does not even start where there is no driver. Instead the
// driver is dlopen'ed on first use and every entry point Kiln calls is
// resolved once into a Driver table (rows in DriverSymbols.def). Every call
// goes through KILN_CU_CALL, which turns a CUresult into a kiln::Status that
// names the call and the error:
//
//   const Driver &d = ...;
//   CUdeviceptr p;
//   KILN_RETURN_IF_ERROR(KILN_CU_CALL(d, cuMemAlloc, &p, bytes));
//   // -> "OutOfMemory: cuMemAlloc(&p, bytes): CUDA_ERROR_OUT_OF_MEMORY
//   //     (out of memory)"
//
// Lifetime: the process-wide driver (loadedDriver()) is loaded once and
// never unloaded; Driver::load gives a separately owned copy (tests).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CUDA_DRIVER_H
#define KILN_RUNTIME_CUDA_DRIVER_H

#include "kiln/Status.h"

#include <cuda.h>

#include <memory>
#include <string>

namespace kiln::cuda {

struct Driver {
  // One member per row, named as the API (cuMemAlloc), typed as the ABI
  // version the headers map it to (cuMemAlloc_v2).
#define KILN_CU_REQUIRED(name) decltype(&::name) name = nullptr;
#define KILN_CU_OPTIONAL(name) decltype(&::name) name = nullptr;
#include "DriverSymbols.def"

  /// cuDriverGetVersion: 13000 for CUDA 13.0.
  int version = 0;
  /// The library that was opened.
  std::string library;

  Driver() = default;
  Driver(const Driver &) = delete;
  Driver &operator=(const Driver &) = delete;
  ~Driver();

  /// dlopen's `library` ("libcuda.so.1"), resolves the table and calls
  /// cuInit(0). Unavailable with "no CUDA driver" when the library is not
  /// there or lacks entry points; the cuInit error (e.g. "no CUDA device")
  /// otherwise. Never crashes, whatever the library is.
  static Expected<std::unique_ptr<Driver>> load(const std::string &library);

  /// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)", also without a driver.
  std::string describe(CUresult result) const;

private:
  void *handle_ = nullptr;
};

/// The process-wide driver: libcuda.so.1, or $KILN_CUDA_DRIVER when set.
/// Loaded on the first call; the outcome (driver or error) is kept.
Expected<const Driver *> loadedDriver();

/// The status for a failed driver call `call` (e.g. "cuMemAlloc(&p, n)").
Status driverError(const Driver &driver, CUresult result, const char *call);

namespace detail {
inline Status checkDriver(const Driver &driver, CUresult result,
                          const char *call) {
  if (result == CUDA_SUCCESS)
    return Status();
  return driverError(driver, result, call);
}
} // namespace detail

/// Calls driver entry point `fn` with the remaining arguments; the Status
/// names the call as written. A null (optional, missing) entry point is an
/// Unavailable status, not a crash.
#define KILN_CU_CALL(drv, fn, ...)                                             \
  ((drv).fn ? ::kiln::cuda::detail::checkDriver(                               \
                  (drv), (drv).fn(__VA_ARGS__), #fn "(" #__VA_ARGS__ ")")      \
            : ::kiln::unavailable("the CUDA driver (", (drv).library,          \
                                  ") has no entry point " #fn))

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_DRIVER_H
