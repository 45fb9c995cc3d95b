//===- Train.cpp - Training and evaluation loops shared by the examples ----===//
#include "Train.h"

#include "Report.h"

#include "kiln/Autograd.h"
#include "kiln/NNOps.h"

#include <cstdio>

namespace kiln::examples {

Expected<double> accuracy(const Tensor &logits, const Tensor &labels) {
  KILN_ASSIGN_OR_RETURN(Tensor pred, argmax(logits, 1));
  std::vector<double> p = pred.toDoubles(), l = labels.toDoubles();
  if (p.size() != l.size())
    return invalidArgument("accuracy: ", p.size(), " predictions for ",
                           l.size(), " labels");
  int64_t correct = 0;
  for (size_t i = 0; i < p.size(); ++i)
    correct += p[i] == l[i];
  return p.empty() ? 0.0 : double(correct) / double(p.size());
}

Expected<EpochStats> trainClassifierEpoch(nn::Module &model,
                                          optim::Optimizer &optimizer,
                                          DataLoader &loader, int64_t epoch) {
  model.train();
  loader.startEpoch();
  ProgressBar bar(strCat("epoch ", epoch), loader.numBatches());
  double lossSum = 0, correct = 0;
  int64_t seen = 0;
  char suffix[64] = "";
  for (int64_t b = 0; b < loader.numBatches(); ++b) {
    KILN_ASSIGN_OR_RETURN(Batch batch, loader.batch(b));
    optimizer.zeroGrad();
    KILN_ASSIGN_OR_RETURN(Tensor logits, model.forward(batch.x));
    KILN_ASSIGN_OR_RETURN(Tensor loss, nn::crossEntropyLoss(logits, batch.labels));
    KILN_RETURN_IF_ERROR(loss.backward());
    KILN_RETURN_IF_ERROR(optimizer.step());
    KILN_ASSIGN_OR_RETURN(double l, loss.item());
    KILN_ASSIGN_OR_RETURN(double acc, accuracy(logits.detach(), batch.labels));
    lossSum += l * double(batch.size);
    correct += acc * double(batch.size);
    seen += batch.size;
    std::snprintf(suffix, sizeof suffix, "loss %.4f", lossSum / double(seen));
    bar.update(b + 1, suffix);
  }
  bar.finish(suffix);
  if (seen == 0)
    return failedPrecondition("training set is empty");
  return EpochStats{lossSum / double(seen), correct / double(seen)};
}

Expected<EpochStats> evaluateClassifier(nn::Module &model, const Dataset &data,
                                        int64_t batchSize) {
  const bool wasTraining = model.isTraining();
  model.eval();
  autograd::NoGradGuard noGrad;
  DataLoader loader(data, {.batchSize = batchSize, .shuffle = false});
  double lossSum = 0, correct = 0;
  int64_t seen = 0;
  Status status;
  for (int64_t b = 0; b < loader.numBatches() && status.isOk(); ++b) {
    Expected<EpochStats> part = [&]() -> Expected<EpochStats> {
      KILN_ASSIGN_OR_RETURN(Batch batch, loader.batch(b));
      KILN_ASSIGN_OR_RETURN(Tensor logits, model.forward(batch.x));
      KILN_ASSIGN_OR_RETURN(Tensor loss,
                            nn::crossEntropyLoss(logits, batch.labels));
      KILN_ASSIGN_OR_RETURN(double l, loss.item());
      KILN_ASSIGN_OR_RETURN(double acc, accuracy(logits, batch.labels));
      lossSum += l * double(batch.size);
      correct += acc * double(batch.size);
      seen += batch.size;
      return EpochStats{};
    }();
    if (!part)
      status = part.status();
  }
  model.train(wasTraining);
  KILN_RETURN_IF_ERROR(status);
  if (seen == 0)
    return failedPrecondition("evaluation set is empty");
  return EpochStats{lossSum / double(seen), correct / double(seen)};
}

Expected<FitResult> fitClassifier(nn::Module &model, optim::Optimizer &optimizer,
                                  optim::LRScheduler *schedule,
                                  const Dataset &train, const Dataset &val,
                                  const FitOptions &options) {
  DataLoader loader(train, {.batchSize = options.batchSize, .shuffle = true,
                            .seed = options.seed});
  std::vector<std::string> columns = {"epoch", "lr", "train_loss", "train_acc"};
  if (options.evalTrain) {
    columns.push_back("train_eval_loss");
    columns.push_back("train_eval_acc");
  }
  columns.push_back("val_loss");
  columns.push_back("val_acc");
  KILN_ASSIGN_OR_RETURN(CurveWriter curve, CurveWriter::open(options.curve, columns));

  FitResult result;
  nn::NamedTensors best;
  double bestLoss = 0; // Of the epoch early stopping measures against.
  int64_t sinceBetter = 0;
  for (int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    Timer timer;
    EpochRecord rec;
    rec.epoch = epoch;
    KILN_ASSIGN_OR_RETURN(rec.lr, optimizer.lr());
    KILN_ASSIGN_OR_RETURN(rec.train, trainClassifierEpoch(model, optimizer, loader, epoch));
    if (options.evalTrain) {
      KILN_ASSIGN_OR_RETURN(rec.trainEval, evaluateClassifier(model, train));
    }
    KILN_ASSIGN_OR_RETURN(rec.val, evaluateClassifier(model, val));
    if (schedule) {
      KILN_RETURN_IF_ERROR(schedule->step());
    }
    std::vector<std::pair<std::string, double>> metrics = {
        {"train_loss", rec.train.loss}, {"train_acc", rec.train.accuracy}};
    std::vector<double> row = {double(epoch), rec.lr, rec.train.loss, rec.train.accuracy};
    if (options.evalTrain) {
      metrics.push_back({"train_eval_loss", rec.trainEval.loss});
      metrics.push_back({"train_eval_acc", rec.trainEval.accuracy});
      row.push_back(rec.trainEval.loss);
      row.push_back(rec.trainEval.accuracy);
    }
    metrics.push_back({"val_loss", rec.val.loss});
    metrics.push_back({"val_acc", rec.val.accuracy});
    row.push_back(rec.val.loss);
    row.push_back(rec.val.accuracy);
    if (!options.tag.empty())
      std::printf("%s", options.tag.c_str());
    printMetrics(epoch, options.epochs, metrics, timer.seconds());
    KILN_RETURN_IF_ERROR(curve.row(row));
    result.history.push_back(rec);
    result.stoppedEpoch = epoch;

    bool better = result.bestEpoch == 0;
    if (!better) {
      const EpochRecord &b = result.best();
      better = options.selectByAccuracy
                   ? rec.val.accuracy > b.val.accuracy ||
                         (rec.val.accuracy == b.val.accuracy && rec.val.loss < b.val.loss)
                   : rec.val.loss < b.val.loss;
    }
    if (better) {
      result.bestEpoch = epoch;
      if (options.restoreBest) {
        KILN_ASSIGN_OR_RETURN(best, snapshot(model));
      }
    }
    // Early stopping watches the validation loss whatever selects the best.
    if (epoch == 1 || rec.val.loss < bestLoss) {
      bestLoss = rec.val.loss;
      sinceBetter = 0;
    } else if (options.patience > 0 && ++sinceBetter >= options.patience) {
      result.stoppedEarly = true;
      std::printf("%searly stop at epoch %lld: validation loss has not improved "
                  "for %lld epochs (best %.4f)\n",
                  options.tag.c_str(), (long long)epoch, (long long)options.patience,
                  bestLoss);
      break;
    }
  }
  if (result.history.empty())
    return invalidArgument("fitClassifier: no epochs to run");
  if (options.restoreBest) {
    KILN_RETURN_IF_ERROR(model.loadStateDict(best));
  }
  return result;
}

Expected<nn::NamedTensors> snapshot(const nn::Module &model) {
  nn::NamedTensors out;
  for (const auto &[name, t] : model.stateDict()) {
    KILN_ASSIGN_OR_RETURN(Tensor copy, t.detach().clone());
    out.emplace_back(name, std::move(copy));
  }
  return out;
}

int fail(const Status &status) {
  std::fprintf(stderr, "error: %s\n", status.toString().c_str());
  return 1;
}

} // namespace kiln::examples
