//===- Losses.h - Differentiable loss functions ----------------------------===//
//
// torch.nn.functional's losses, built from differentiable eager ops, so
// `loss.backward()` reaches the model. `reduction` is "mean" (default),
// "sum" or "none" (per-sample losses).
//
//   KILN_ASSIGN_OR_RETURN(Tensor loss, nn::crossEntropyLoss(logits, labels,
//                                          {.labelSmoothing = 0.1}));
//   KILN_RETURN_IF_ERROR(loss.backward());
//
//===----------------------------------------------------------------------===//
#ifndef KILN_NN_LOSSES_H
#define KILN_NN_LOSSES_H

#include "kiln/Tensor.h"

#include <string_view>

namespace kiln::nn {

struct CrossEntropyOptions {
  std::string_view reduction = "mean";
  /// Mixes the one-hot target with the uniform distribution:
  /// (1 - s) * onehot + s / C (PyTorch's label_smoothing), s in [0, 1].
  double labelSmoothing = 0.0;
};

/// logits [N, C] (float), labels [N] (i64 or i32) in [0, C) -> mean/sum
/// over N, or [N].
Expected<Tensor> crossEntropyLoss(const Tensor &logits, const Tensor &labels,
                                  const CrossEntropyOptions &options = {});
/// -logProbs[i, labels[i]]: logProbs [N, C], labels [N].
Expected<Tensor> nllLoss(const Tensor &logProbs, const Tensor &labels,
                         std::string_view reduction = "mean");
/// (input - target)^2, same shapes.
Expected<Tensor> mseLoss(const Tensor &input, const Tensor &target,
                         std::string_view reduction = "mean");
/// |input - target|, same shapes.
Expected<Tensor> l1Loss(const Tensor &input, const Tensor &target,
                        std::string_view reduction = "mean");
/// -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))), computed stably as
/// max(x, 0) - x t + log(1 + exp(-|x|)); same shapes.
Expected<Tensor> bceWithLogitsLoss(const Tensor &logits, const Tensor &target,
                                   std::string_view reduction = "mean");

} // namespace kiln::nn

#endif // KILN_NN_LOSSES_H
