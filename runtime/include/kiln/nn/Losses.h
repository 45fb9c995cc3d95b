//===- Losses.h - Differentiable loss functions ----------------------------===//
//
// torch.nn.functional's losses under PyTorch-like names, over the
// differentiable loss ops of NNOps.h and TrainingOps.h, so
// `loss.backward()` reaches the model. `reduction` is "mean" (default),
// "sum" or "none" (per-sample losses). Errors carry the loss's name.
//
//   KILN_ASSIGN_OR_RETURN(Tensor loss, nn::crossEntropyLoss(logits, labels,
//                                          {.labelSmoothing = 0.1}));
//   KILN_RETURN_IF_ERROR(loss.backward());
//
//===----------------------------------------------------------------------===//
#ifndef KILN_NN_LOSSES_H
#define KILN_NN_LOSSES_H

#include "kiln/TrainingOps.h"

#include <optional>
#include <string_view>

namespace kiln::nn {

/// kiln::CrossEntropyOptions with every field defaulted, so designated
/// initializers may name any subset without -Wmissing-field-initializers.
struct CrossEntropyOptions {
  std::string_view reduction = "mean";
  /// Mixes the one-hot target with the uniform distribution:
  /// (1 - s) * onehot + s / C (PyTorch's label_smoothing), s in [0, 1].
  double labelSmoothing = 0.0;
  /// Samples with this label contribute 0 and are left out of the mean
  /// (PyTorch's ignore_index).
  std::optional<int64_t> ignoreIndex = {};
};

/// logits [N, C] (float), labels [N] (i64 or i32) in [0, C) -> mean/sum
/// over N, or [N].
Expected<Tensor> crossEntropyLoss(const Tensor &logits, const Tensor &labels,
                                  const CrossEntropyOptions &options = {});
/// -logProbs[i, labels[i]]: logProbs [N, C], labels [N] (TrainingOps.h's
/// op itself; nn::nllLoss and kiln::nllLoss are one function).
using kiln::nllLoss;
/// (input - target)^2, same shapes.
Expected<Tensor> mseLoss(const Tensor &input, const Tensor &target,
                         std::string_view reduction = "mean");
/// |input - target|, same shapes (TrainingOps.h's op itself).
using kiln::l1Loss;
/// -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))), computed stably as
/// max(x, 0) - x t + log(1 + exp(-|x|)); same shapes.
Expected<Tensor> bceWithLogitsLoss(const Tensor &logits, const Tensor &target,
                                   std::string_view reduction = "mean");

} // namespace kiln::nn

#endif // KILN_NN_LOSSES_H
