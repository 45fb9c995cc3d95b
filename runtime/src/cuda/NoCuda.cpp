//===- NoCuda.cpp - The CUDA entry points of a build without CUDA ---------===//
//
// Compiled instead of the CUDA device when the toolkit was not found at
// configure time, so hosts and tools link the same API either way.
//
//===----------------------------------------------------------------------===//
#include "kiln/cuda/CudaDevice.h"

namespace kiln::cuda {

namespace {
Status builtWithoutCuda() {
  return unavailable("this Kiln runtime was built without CUDA "
                     "(KILN_ENABLE_CUDA=OFF or no toolkit at configure time)");
}
} // namespace

Expected<int> deviceCount() { return builtWithoutCuda(); }
Expected<CudaDevice *> cudaDevice(int) { return builtWithoutCuda(); }
Expected<Device *> cudaDeviceByName(std::string_view) {
  return builtWithoutCuda();
}

} // namespace kiln::cuda
