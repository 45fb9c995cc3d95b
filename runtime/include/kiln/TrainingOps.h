//===- TrainingOps.h - Eager ops that training needs beyond the dialect ----===//
//
// Forms of the NN ops that only training uses: batch norm over the batch's
// own statistics, cross entropy with label smoothing and ignored labels,
// negative log-likelihood, L1 loss and embedding lookup. Like NNOps.h they
// run now, return new contiguous tensors (or a Status), compute f16/bf16 in
// f32, and record autograd nodes (Autograd.h) when an input requires grad.
//
//   KILN_ASSIGN_OR_RETURN(auto bn, kiln::batchNormTraining(x, gamma, beta));
//   // bn.output feeds the next layer; the layer folds bn.mean and
//   // bn.unbiasedVariance into its running statistics under NoGradGuard.
//   KILN_ASSIGN_OR_RETURN(Tensor loss,
//       kiln::crossEntropy(logits, labels, {.labelSmoothing = 0.1}));
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TRAININGOPS_H
#define KILN_TRAININGOPS_H

#include "kiln/NNOps.h"

#include <optional>
#include <string_view>

namespace kiln {

/// The result of batch normalization in training mode.
struct BatchNormTrainingResult {
  Tensor output;           ///< (x - mean) / sqrt(variance + eps) * scale + bias.
  Tensor mean;             ///< [C], the batch mean per channel (no gradient).
  Tensor variance;         ///< [C], the biased batch variance used above.
  Tensor unbiasedVariance; ///< [C], times n / (n - 1): what PyTorch folds
                           ///< into running_var.
};

/// x [N, C, d...] normalized per channel (dim 1) over every other dim with
/// the batch's own statistics; scale and bias have shape [C]. Differentiable
/// w.r.t. x, scale and bias (through the statistics, as in PyTorch).
Expected<BatchNormTrainingResult> batchNormTraining(const Tensor &x,
                                                    const Tensor &scale,
                                                    const Tensor &bias,
                                                    double epsilon = 1e-5);

struct CrossEntropyOptions {
  std::string_view reduction = "mean"; ///< "mean", "sum" or "none".
  /// Mixes the one-hot target with the uniform distribution:
  /// (1 - s) * onehot + s / C (PyTorch's label_smoothing), s in [0, 1].
  double labelSmoothing = 0.0;
  /// Samples with this label contribute 0 and are left out of the mean
  /// (PyTorch's ignore_index); none when empty.
  std::optional<int64_t> ignoreIndex;
};

/// logits [N, C], labels [N] (i64 or i32) in [0, C) or the ignore index.
/// "mean" divides by the number of samples not ignored.
Expected<Tensor> crossEntropy(const Tensor &logits, const Tensor &labels,
                              const CrossEntropyOptions &options);

/// Negative log-likelihood of log-probabilities logProbs [N, C] at labels
/// [N] (i64 or i32): -logProbs[i, labels[i]], reduced; ignored labels as in
/// CrossEntropyOptions.
Expected<Tensor> nllLoss(const Tensor &logProbs, const Tensor &labels,
                         std::string_view reduction = "mean",
                         std::optional<int64_t> ignoreIndex = std::nullopt);

/// |input - target| elementwise (same shape and float dtype), reduced.
/// The gradient at input == target is 0 (PyTorch's choice).
Expected<Tensor> l1Loss(const Tensor &input, const Tensor &target,
                        std::string_view reduction = "mean");

/// Rows of weight [V, D] picked by indices (i64 or i32, any shape, each in
/// [0, V)): indices.shape + [D]. The gradient scatter-adds into the rows.
Expected<Tensor> embedding(const Tensor &weight, const Tensor &indices);

} // namespace kiln

#endif // KILN_TRAININGOPS_H
