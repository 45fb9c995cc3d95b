//===- Losses.cpp - Differentiable loss functions --------------------------===//
//
// Written with elementwise ops, reductions and log-softmax so that they
// differentiate through autograd; class labels become a constant one-hot
// (or label-smoothed) target matrix, which also makes label smoothing free.
//
//===----------------------------------------------------------------------===//
#include "kiln/nn/Losses.h"

#include "NNUtil.h"
#include "kiln/NNOps.h"

namespace kiln::nn {

using detail::describe;

namespace {

Status checkReduction(std::string_view loss, std::string_view reduction) {
  if (reduction == "mean" || reduction == "sum" || reduction == "none")
    return Status::ok();
  return invalidArgument(loss, ": reduction must be \"mean\", \"sum\" or "
                         "\"none\", got \"",
                         reduction, "\"");
}

Expected<Tensor> reduce(const Tensor &perElement, std::string_view reduction) {
  if (reduction == "mean")
    return mean(perElement);
  if (reduction == "sum")
    return sum(perElement);
  return perElement;
}

/// Checks scores [N, C] (float) and labels [N] (i64/i32) in [0, C).
Status checkClassification(std::string_view loss, const Tensor &scores,
                           const Tensor &labels) {
  if (!scores.defined() || !labels.defined())
    return invalidArgument(loss, ": an input is undefined");
  if (scores.rank() != 2 || !isFloat(scores.dtype()))
    return invalidArgument(loss, ": expected float input [N, C], got ",
                           describe(scores));
  if (labels.rank() != 1 || labels.dim(0) != scores.dim(0) ||
      (labels.dtype() != DType::I64 && labels.dtype() != DType::I32))
    return invalidArgument(loss, ": expected i64 or i32 labels [",
                           scores.dim(0), "], got ", describe(labels));
  if (labels.numel() == 0)
    return Status::ok();
  KILN_ASSIGN_OR_RETURN(Tensor lo, reduceMin(labels));
  KILN_ASSIGN_OR_RETURN(Tensor hi, reduceMax(labels));
  KILN_ASSIGN_OR_RETURN(double l, lo.item());
  KILN_ASSIGN_OR_RETURN(double h, hi.item());
  if (l < 0 || h >= double(scores.dim(1)))
    return outOfRange(loss, ": label ", l < 0 ? l : h, " outside [0, ",
                      scores.dim(1), ")");
  return Status::ok();
}

/// -sum_c target[i, c] * logProbs[i, c] with target = onValue at the label,
/// offValue elsewhere.
Expected<Tensor> weightedNll(const Tensor &logProbs, const Tensor &labels,
                             double onValue, double offValue) {
  KILN_ASSIGN_OR_RETURN(Tensor target, oneHot(labels, logProbs.dim(1), -1,
                                              onValue, offValue,
                                              logProbs.dtype()));
  KILN_ASSIGN_OR_RETURN(Tensor picked, target * logProbs);
  return neg(sum(picked, {1}));
}

Status checkPair(std::string_view loss, const Tensor &a, const Tensor &b) {
  if (!a.defined() || !b.defined())
    return invalidArgument(loss, ": an input is undefined");
  if (a.shape() != b.shape() || a.dtype() != b.dtype() || !isFloat(a.dtype()))
    return invalidArgument(loss, ": input and target must be float tensors of "
                           "one shape and dtype, got ",
                           describe(a), " and ", describe(b));
  return Status::ok();
}

} // namespace

Expected<Tensor> crossEntropyLoss(const Tensor &logits, const Tensor &labels,
                                  const CrossEntropyOptions &options) {
  KILN_RETURN_IF_ERROR(checkReduction("crossEntropyLoss", options.reduction));
  KILN_RETURN_IF_ERROR(checkClassification("crossEntropyLoss", logits, labels));
  double s = options.labelSmoothing;
  if (!(s >= 0 && s <= 1))
    return invalidArgument("crossEntropyLoss: labelSmoothing must be in "
                           "[0, 1], got ",
                           s);
  if (s == 0 && detail::canUseFused("cross_entropy", {logits}))
    return crossEntropy(logits, labels, options.reduction);
  KILN_ASSIGN_OR_RETURN(Tensor logProbs, detail::logSoftmaxLastAxis(logits));
  double c = double(logits.dim(1));
  KILN_ASSIGN_OR_RETURN(Tensor perSample,
                        weightedNll(logProbs, labels, 1.0 - s + s / c, s / c));
  return reduce(perSample, options.reduction);
}

Expected<Tensor> nllLoss(const Tensor &logProbs, const Tensor &labels,
                         std::string_view reduction) {
  KILN_RETURN_IF_ERROR(checkReduction("nllLoss", reduction));
  KILN_RETURN_IF_ERROR(checkClassification("nllLoss", logProbs, labels));
  KILN_ASSIGN_OR_RETURN(Tensor perSample,
                        weightedNll(logProbs, labels, 1.0, 0.0));
  return reduce(perSample, reduction);
}

Expected<Tensor> mseLoss(const Tensor &input, const Tensor &target,
                         std::string_view reduction) {
  KILN_RETURN_IF_ERROR(checkReduction("mseLoss", reduction));
  KILN_RETURN_IF_ERROR(checkPair("mseLoss", input, target));
  KILN_ASSIGN_OR_RETURN(Tensor diff, input - target);
  KILN_ASSIGN_OR_RETURN(Tensor sq, diff * diff);
  return reduce(sq, reduction);
}

Expected<Tensor> l1Loss(const Tensor &input, const Tensor &target,
                        std::string_view reduction) {
  KILN_RETURN_IF_ERROR(checkReduction("l1Loss", reduction));
  KILN_RETURN_IF_ERROR(checkPair("l1Loss", input, target));
  KILN_ASSIGN_OR_RETURN(Tensor diff, abs(input - target));
  return reduce(diff, reduction);
}

Expected<Tensor> bceWithLogitsLoss(const Tensor &logits, const Tensor &target,
                                   std::string_view reduction) {
  KILN_RETURN_IF_ERROR(checkReduction("bceWithLogitsLoss", reduction));
  KILN_RETURN_IF_ERROR(checkPair("bceWithLogitsLoss", logits, target));
  KILN_ASSIGN_OR_RETURN(Tensor absX, abs(logits));
  KILN_ASSIGN_OR_RETURN(Tensor perElement,
                        relu(logits) - logits * target + softplus(-absX));
  return reduce(perElement, reduction);
}

} // namespace kiln::nn
