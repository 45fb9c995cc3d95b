//===- EagerUtil.h - Checks shared by the eager ops ------------------------===//
#ifndef KILN_RUNTIME_EAGER_EAGERUTIL_H
#define KILN_RUNTIME_EAGER_EAGERUTIL_H

#include "kiln/Tensor.h"

#include <initializer_list>
#include <string_view>

namespace kiln::eager {

/// Every input defined, on one device, and that device host-accessible
/// (the CPU kernels are the only ones so far).
inline Status checkInputs(std::string_view op,
                          std::initializer_list<const Tensor *> inputs) {
  const Device *device = nullptr;
  size_t i = 0;
  for (const Tensor *t : inputs) {
    if (!t->defined())
      return invalidArgument("op '", op, "': operand ", i, " is undefined");
    if (device && &t->device() != device)
      return invalidArgument("op '", op, "': operands are on different devices (",
                             device->name(), " and ", t->device().name(), ")");
    device = &t->device();
    ++i;
  }
  if (device && !const_cast<Device *>(device)->isHostAccessible())
    return unavailable("op '", op, "': no kernels for device ", device->name());
  return Status();
}

} // namespace kiln::eager

#endif // KILN_RUNTIME_EAGER_EAGERUTIL_H
