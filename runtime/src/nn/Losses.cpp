//===- Losses.cpp - Differentiable loss functions --------------------------===//
#include "kiln/nn/Losses.h"

#include "kiln/NNOps.h"
#include "kiln/TrainingOps.h"

namespace kiln::nn {

namespace {
Expected<Tensor> named(Expected<Tensor> result, std::string_view loss) {
  if (!result)
    return result.takeStatus().withContext(loss);
  return result;
}
} // namespace

Expected<Tensor> crossEntropyLoss(const Tensor &logits, const Tensor &labels,
                                  const CrossEntropyOptions &options) {
  kiln::CrossEntropyOptions o;
  o.reduction = options.reduction;
  o.labelSmoothing = options.labelSmoothing;
  o.ignoreIndex = options.ignoreIndex;
  return named(crossEntropy(logits, labels, o), "crossEntropyLoss");
}

Expected<Tensor> mseLoss(const Tensor &input, const Tensor &target,
                         std::string_view reduction) {
  return named(mse(input, target, reduction), "mseLoss");
}

Expected<Tensor> bceWithLogitsLoss(const Tensor &logits, const Tensor &target,
                                   std::string_view reduction) {
  return named(bceWithLogits(logits, target, reduction), "bceWithLogitsLoss");
}

} // namespace kiln::nn
