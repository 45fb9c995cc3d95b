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
