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

/// One epoch of a fit.
struct EpochRecord {
  int64_t epoch = 0;
  double lr = 0;
  EpochStats train;      ///< As trained (dropout on, weights moving).
  EpochStats trainEval;  ///< Eval mode after the epoch (FitOptions::evalTrain).
  EpochStats val;
};

struct FitOptions {
  int64_t epochs = 10;
  int64_t batchSize = 32;
  uint64_t seed = 0; ///< The batch order.
  /// Loss-curve CSV (empty: none). Columns: epoch, lr, train_loss,
  /// train_acc, [train_eval_loss, train_eval_acc,] val_loss, val_acc.
  std::string curve = "";
  /// Also measure the training set in eval mode after each epoch (the
  /// honest train/validation gap when the model has dropout).
  bool evalTrain = false;
  /// Early stopping: stop after this many epochs without a better
  /// validation loss (0: never stop early).
  int64_t patience = 0;
  /// Pick the best epoch by validation accuracy (ties: lower loss) instead
  /// of validation loss.
  bool selectByAccuracy = true;
  /// Load the best epoch's weights at the end.
  bool restoreBest = true;
  /// Prefix of the printed lines ("plain: ", ...).
  std::string tag = "";
};

struct FitResult {
  std::vector<EpochRecord> history;
  int64_t bestEpoch = 0;    ///< By FitOptions::selectByAccuracy.
  int64_t stoppedEpoch = 0; ///< The last epoch run.
  bool stoppedEarly = false;
  const EpochRecord &best() const { return history[size_t(bestEpoch - 1)]; }
};

/// Trains for up to `epochs` epochs, evaluating on `val` after each, with an
/// optional schedule stepped once per epoch; prints a progress bar and a
/// metrics line per epoch and writes the curve.
Expected<FitResult> fitClassifier(nn::Module &model, optim::Optimizer &optimizer,
                                  optim::LRScheduler *schedule,
                                  const Dataset &train, const Dataset &val,
                                  const FitOptions &options);

/// Fraction of rows of logits [N, C] whose argmax equals labels [N].
Expected<double> accuracy(const Tensor &logits, const Tensor &labels);

/// Copies of every parameter and buffer (for keeping the best model).
Expected<nn::NamedTensors> snapshot(const nn::Module &model);

/// Prints the error and returns 1: `return fail(status);` in main.
int fail(const Status &status);

} // namespace kiln::examples

#endif // KILN_EXAMPLES_TRAIN_TRAIN_H
