//===- Driver.cpp - The CUDA driver API, loaded at run time ---------------===//
#include "Driver.h"

#include <cudaTypedefs.h>

#include <cstdlib>
#include <type_traits>
#include <dlfcn.h>
#include <mutex>
#include <string_view>

namespace kiln::cuda {

namespace {
// cuGetProcAddress as of CUDA 12 (with the query result) and 11.3.
using GetProcV2 = CUresult (*)(const char *, void **, int, cuuint64_t,
                               CUdriverProcAddressQueryResult *);
using GetProcV1 = CUresult (*)(const char *, void **, int, cuuint64_t);

/// Names of the errors a user is most likely to meet, for messages built
/// when the driver's own cuGetErrorName is not there.
const char *fallbackErrorName(CUresult r) {
  switch (r) {
  case CUDA_ERROR_INVALID_VALUE: return "CUDA_ERROR_INVALID_VALUE";
  case CUDA_ERROR_OUT_OF_MEMORY: return "CUDA_ERROR_OUT_OF_MEMORY";
  case CUDA_ERROR_NOT_INITIALIZED: return "CUDA_ERROR_NOT_INITIALIZED";
  case CUDA_ERROR_NO_DEVICE: return "CUDA_ERROR_NO_DEVICE";
  case CUDA_ERROR_INVALID_DEVICE: return "CUDA_ERROR_INVALID_DEVICE";
  case CUDA_ERROR_INVALID_PTX: return "CUDA_ERROR_INVALID_PTX";
  case CUDA_ERROR_INVALID_IMAGE: return "CUDA_ERROR_INVALID_IMAGE";
  case CUDA_ERROR_NOT_FOUND: return "CUDA_ERROR_NOT_FOUND";
  case CUDA_ERROR_LAUNCH_FAILED: return "CUDA_ERROR_LAUNCH_FAILED";
  case CUDA_ERROR_ILLEGAL_ADDRESS: return "CUDA_ERROR_ILLEGAL_ADDRESS";
  case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
    return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
  case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
    return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH";
  default: return nullptr;
  }
}

/// The CUDA version whose ABI of `name` matches its declaration in cuda.h,
/// which is what the table's pointer types are (decltype(&::name)). For
/// most entry points that is the toolkit's own version. cuGetProcAddress
/// at 13000 returns cuCtxSynchronize's CUDA 13 form, which takes a
/// CUcontext (PFN_cuCtxSynchronize_v13000), while cuda.h still declares
/// the argument-free one: called through our pointer it read a garbage
/// context and failed with CONTEXT_IS_DESTROYED on an H200. List each
/// entry point whose newest typedef in cudaTypedefs.h (PFN_<name>_v13000
/// and later) differs from the cuda.h declaration we call it by.
#if CUDA_VERSION >= 13000
static_assert(std::is_same_v<decltype(&::cuCtxSynchronize),
                             PFN_cuCtxSynchronize_v2000>,
              "cuda.h's cuCtxSynchronize changed: revisit abiVersion()");
#endif
int abiVersion(const char *name) {
  if (std::string_view(name) == "cuCtxSynchronize")
    return 12000;
  return CUDA_VERSION;
}

StatusCode codeFor(CUresult r) {
  switch (r) {
  case CUDA_ERROR_OUT_OF_MEMORY:
    return StatusCode::OutOfMemory;
  case CUDA_ERROR_NO_DEVICE:
  case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
  case CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE:
  case CUDA_ERROR_DEVICE_UNAVAILABLE:
  case CUDA_ERROR_NOT_INITIALIZED:
  case CUDA_ERROR_DEINITIALIZED:
    return StatusCode::Unavailable;
  case CUDA_ERROR_INVALID_VALUE:
  case CUDA_ERROR_INVALID_DEVICE:
  case CUDA_ERROR_INVALID_PTX:
  case CUDA_ERROR_INVALID_IMAGE:
  case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
  case CUDA_ERROR_NO_BINARY_FOR_GPU:
    return StatusCode::InvalidArgument;
  case CUDA_ERROR_NOT_FOUND:
    return StatusCode::NotFound;
  default:
    return StatusCode::Internal;
  }
}
} // namespace

Driver::~Driver() {
  if (handle_)
    dlclose(handle_);
}

std::string Driver::describe(CUresult result) const {
  const char *name = nullptr, *text = nullptr;
  if (cuGetErrorName && cuGetErrorName(result, &name) != CUDA_SUCCESS)
    name = nullptr;
  if (cuGetErrorString && cuGetErrorString(result, &text) != CUDA_SUCCESS)
    text = nullptr;
  if (!name)
    name = fallbackErrorName(result);
  std::string s = name ? std::string(name) : strCat("CUresult ", int(result));
  if (text)
    s += strCat(" (", text, ")");
  return s;
}

Status driverError(const Driver &driver, CUresult result, const char *call) {
  std::string message = strCat(call, ": ", driver.describe(result));
  if (result == CUDA_ERROR_NO_DEVICE)
    message += "; no CUDA device is visible (check CUDA_VISIBLE_DEVICES)";
  else if (result == CUDA_ERROR_SYSTEM_DRIVER_MISMATCH)
    message += "; the kernel module and libcuda are of different versions";
  return Status(codeFor(result), std::move(message));
}

Expected<std::unique_ptr<Driver>> Driver::load(const std::string &library) {
  auto d = std::make_unique<Driver>();
  d->library = library;
  dlerror();
  d->handle_ = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!d->handle_) {
    const char *why = dlerror();
    return unavailable("no CUDA driver: dlopen(\"", library, "\") failed: ",
                       why ? why : "unknown error",
                       " (is the NVIDIA driver installed? the CPU device "
                       "works without it)");
  }
  auto *getProcV2 =
      reinterpret_cast<GetProcV2>(dlsym(d->handle_, "cuGetProcAddress_v2"));
  auto *getProcV1 =
      reinterpret_cast<GetProcV1>(dlsym(d->handle_, "cuGetProcAddress"));
  if (!getProcV2 && !getProcV1)
    return unavailable("no CUDA driver: ", library,
                       " has no cuGetProcAddress (not a CUDA driver, or one "
                       "older than CUDA 11.3)");
  auto resolve = [&](const char *name) -> void * {
    void *fn = nullptr;
    CUresult r;
    const int version = abiVersion(name);
    if (getProcV2) {
      CUdriverProcAddressQueryResult found;
      r = getProcV2(name, &fn, version, CU_GET_PROC_ADDRESS_DEFAULT, &found);
      if (found != CU_GET_PROC_ADDRESS_SUCCESS)
        return nullptr;
    } else {
      r = getProcV1(name, &fn, version, CU_GET_PROC_ADDRESS_DEFAULT);
    }
    return r == CUDA_SUCCESS ? fn : nullptr;
  };
  std::string missing;
#define KILN_CU_REQUIRED(name)                                                 \
  d->name = reinterpret_cast<decltype(d->name)>(resolve(#name));               \
  if (!d->name)                                                                \
    missing += (missing.empty() ? "" : ", ") + std::string(#name);
#define KILN_CU_OPTIONAL(name)                                                 \
  d->name = reinterpret_cast<decltype(d->name)>(resolve(#name));
#include "DriverSymbols.def"
  if (!missing.empty())
    return unavailable("no usable CUDA driver: ", library,
                       " lacks entry points ", missing,
                       " (a driver older than CUDA ", CUDA_VERSION / 1000, "?)");
  KILN_RETURN_IF_ERROR(KILN_CU_CALL(*d, cuDriverGetVersion, &d->version));
  KILN_RETURN_IF_ERROR(KILN_CU_CALL(*d, cuInit, 0));
  return d;
}

Expected<const Driver *> loadedDriver() {
  static std::once_flag once;
  static Driver *driver = nullptr; // leaked: devices outlive statics
  static Status *error = nullptr;
  std::call_once(once, [] {
    const char *env = std::getenv("KILN_CUDA_DRIVER");
    auto loaded = Driver::load(env && *env ? env : "libcuda.so.1");
    if (loaded)
      driver = loaded->release();
    else
      error = new Status(loaded.takeStatus());
  });
  if (!driver)
    return *error;
  return static_cast<const Driver *>(driver);
}

} // namespace kiln::cuda
