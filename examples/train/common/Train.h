//===- Train.h - Training and evaluation loops shared by the examples ------===//
//
// One epoch of mini-batch training of a classifier (forward, cross entropy,
// backward, optimizer step, progress bar) and its evaluation (eval mode, no
// graph), so that each example only says what its model and schedule are.
//
//   for (int64_t e = 1; e <= epochs; ++e) {
//     KILN_ASSIGN_OR_RETURN(EpochStats tr, trainClassifierEpoch(*model, *opt, loader, e));
//     KILN_ASSIGN_OR_RETURN(EpochStats va, evaluateClassifier(*model, split.val));
//   }
//
//===----------------------------------------------------------------------===//
#ifndef KILN_EXAMPLES_TRAIN_TRAIN_H
#define KILN_EXAMPLES_TRAIN_TRAIN_H

#include "Data.h"

#include "kiln/NN.h"
#include "kiln/Optim.h"

namespace kiln::examples {

/// Mean loss and accuracy (fraction correct) over a pass.
struct EpochStats {
  double loss = 0;
  double accuracy = 0;
};

/// Trains `model` (logits [B, C] from batch.x) for one pass over `loader`
/// (which the call reshuffles) with cross entropy; the bar is labelled
/// "epoch <epoch>". Leaves the model in training mode. Loss and accuracy
/// are those of the batches as they were trained (dropout on).
Expected<EpochStats> trainClassifierEpoch(nn::Module &model,
                                          optim::Optimizer &optimizer,
                                          DataLoader &loader, int64_t epoch);

/// Loss and accuracy of `model` on `data` in eval mode without recording a
/// graph; the model's mode is restored afterwards.
Expected<EpochStats> evaluateClassifier(nn::Module &model, const Dataset &data,
                                        int64_t batchSize = 512);

/// Fraction of rows of logits [N, C] whose argmax equals labels [N].
Expected<double> accuracy(const Tensor &logits, const Tensor &labels);

/// Copies of every parameter and buffer (for keeping the best model).
Expected<nn::NamedTensors> snapshot(const nn::Module &model);

/// Prints the error and returns 1: `return fail(status);` in main.
int fail(const Status &status);

} // namespace kiln::examples

#endif // KILN_EXAMPLES_TRAIN_TRAIN_H
