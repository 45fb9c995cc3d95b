//===- Record.h - The pattern every differentiable eager op follows --------===//
//
//   Expected<Tensor> exp(const Tensor &x) {
//     return autograd::differentiable("exp", {x},
//         [&] { return expKernel(x); },
//         [&] { return BackwardFn(...captures x.detach()...); });
//   }
//
// When no input needs a gradient this is just `compute()`. Otherwise the
// kernel runs with grad mode off (so views and ops it uses internally record
// nothing) and the result gets a node. `makeBackward` runs only when a node
// is recorded, so ops pay for captures only while training.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_AUTOGRAD_RECORD_H
#define KILN_RUNTIME_AUTOGRAD_RECORD_H

#include "kiln/Autograd.h"

#include <optional>

namespace kiln::autograd {

template <typename Compute, typename MakeBackward>
Expected<Tensor> differentiable(std::string_view name,
                                std::initializer_list<Tensor> inputs,
                                Compute &&compute, MakeBackward &&makeBackward) {
  std::vector<Tensor> in(inputs);
  if (!needsGrad(in))
    return compute();
  std::optional<Expected<Tensor>> out;
  {
    NoGradGuard guard;
    out.emplace(compute());
  }
  if (!*out)
    return std::move(*out);
  return record(std::move(*out), name, in, makeBackward());
}

/// A backward result of one gradient.
inline Expected<std::vector<Tensor>> grads(Expected<Tensor> g) {
  if (!g)
    return g.status();
  return std::vector<Tensor>{std::move(*g)};
}

} // namespace kiln::autograd

#endif // KILN_RUNTIME_AUTOGRAD_RECORD_H
