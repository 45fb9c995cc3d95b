//===- digits_mlp.cpp - An MLP on scikit-learn's 8x8 handwritten digits ----===//
//
// 64 pixels -> 128 -> ReLU -> 64 -> ReLU -> 10 logits, trained with Adam and
// cross entropy on a stratified 65/15/20 train/validation/test split of the
// 1797 digits. Keeps the weights of the epoch with the best validation
// accuracy and reports their test accuracy; exits 2 when that is below
// --target (the test's goal).
//
//   digits_mlp                 # full run
//   digits_mlp --quick         # the short run the test uses
//
//===----------------------------------------------------------------------===//
#include "common/Data.h"
#include "common/Report.h"
#include "common/Train.h"

#include <cstdio>

using namespace kiln;
using namespace kiln::examples;

namespace {

struct Config {
  int64_t epochs = 60;
  bool quick = false;
  double lr = 2e-3;
  int64_t batch = 32;
  int64_t seed = 1;
  double target = 0.95;
  std::string dataDir;
  std::string curve = "digits_mlp_curve.csv";
  bool progress = true;
};

Expected<std::shared_ptr<nn::Sequential>> buildModel(Generator &gen) {
  KILN_ASSIGN_OR_RETURN(auto fc1, nn::Linear::create({.inFeatures = 64, .outFeatures = 128}, gen));
  KILN_ASSIGN_OR_RETURN(auto act1, nn::Activation::create("relu"));
  KILN_ASSIGN_OR_RETURN(auto fc2, nn::Linear::create({.inFeatures = 128, .outFeatures = 64}, gen));
  KILN_ASSIGN_OR_RETURN(auto act2, nn::Activation::create("relu"));
  KILN_ASSIGN_OR_RETURN(auto fc3, nn::Linear::create({.inFeatures = 64, .outFeatures = 10}, gen));
  return nn::Sequential::create({fc1, act1, fc2, act2, fc3});
}

/// True when the goal is met.
Expected<bool> run(const Config &cfg) {
  KILN_ASSIGN_OR_RETURN(Dataset all, loadDigits(dataDirectory(cfg.dataDir)));
  Split split = splitDataset(all, {.val = 0.15, .test = 0.2, .seed = 2024});
  std::printf("digits: %lld train, %lld validation, %lld test samples\n",
              (long long)split.train.size(), (long long)split.val.size(),
              (long long)split.test.size());

  Generator gen(uint64_t(cfg.seed));
  KILN_ASSIGN_OR_RETURN(auto model, buildModel(gen));
  std::printf("model: 64-128-64-10 MLP, %lld parameters; Adam lr %g, batch %lld, %lld epochs\n",
              (long long)model->numParameters(), cfg.lr, (long long)cfg.batch,
              (long long)cfg.epochs);
  KILN_ASSIGN_OR_RETURN(auto opt, optim::Adam::create(model->parameters(), {.lr = cfg.lr}));
  KILN_ASSIGN_OR_RETURN(auto sched, optim::CosineAnnealingLR::create(*opt, cfg.epochs));
  DataLoader loader(split.train, {.batchSize = cfg.batch, .shuffle = true,
                                  .seed = uint64_t(cfg.seed) + 100});
  KILN_ASSIGN_OR_RETURN(CurveWriter curve,
                        CurveWriter::open(cfg.curve, {"epoch", "train_loss", "train_acc",
                                                      "val_loss", "val_acc", "lr"}));
  double bestVal = -1;
  int64_t bestEpoch = 0;
  nn::NamedTensors best;
  Timer total;
  for (int64_t epoch = 1; epoch <= cfg.epochs; ++epoch) {
    Timer t;
    KILN_ASSIGN_OR_RETURN(double lr, opt->lr());
    KILN_ASSIGN_OR_RETURN(EpochStats tr, trainClassifierEpoch(*model, *opt, loader, epoch));
    KILN_ASSIGN_OR_RETURN(EpochStats va, evaluateClassifier(*model, split.val));
    KILN_RETURN_IF_ERROR(sched->step());
    printMetrics(epoch, cfg.epochs,
                 {{"train_loss", tr.loss}, {"train_acc", tr.accuracy},
                  {"val_loss", va.loss}, {"val_acc", va.accuracy}},
                 t.seconds());
    KILN_RETURN_IF_ERROR(curve.row({double(epoch), tr.loss, tr.accuracy, va.loss, va.accuracy, lr}));
    if (va.accuracy > bestVal) {
      bestVal = va.accuracy;
      bestEpoch = epoch;
      KILN_ASSIGN_OR_RETURN(best, snapshot(*model));
    }
  }
  KILN_RETURN_IF_ERROR(model->loadStateDict(best));
  KILN_ASSIGN_OR_RETURN(EpochStats te, evaluateClassifier(*model, split.test));
  std::printf("best validation accuracy %.4f at epoch %lld; test accuracy %.4f "
              "(%lld/%lld), test loss %.4f; %.1f s\n",
              bestVal, (long long)bestEpoch, te.accuracy,
              (long long)(te.accuracy * double(split.test.size()) + 0.5),
              (long long)split.test.size(), te.loss, total.seconds());
  if (!cfg.curve.empty())
    std::printf("loss curve: %s\n", cfg.curve.c_str());
  const bool met = te.accuracy >= cfg.target;
  std::printf("goal: test accuracy >= %.4f: %s\n", cfg.target, met ? "MET" : "NOT MET");
  return met;
}

} // namespace

int main(int argc, char **argv) {
  Config cfg;
  Flags flags("digits_mlp", "an MLP on the 8x8 handwritten digits");
  flags.add("epochs", cfg.epochs, "passes over the training set");
  flags.add("quick", cfg.quick, "the short run the test uses (20 epochs)");
  flags.add("lr", cfg.lr, "Adam learning rate (cosine-annealed to 0)");
  flags.add("batch", cfg.batch, "mini-batch size");
  flags.add("seed", cfg.seed, "seed of the weights and the batch order");
  flags.add("target", cfg.target, "test accuracy the run must reach (exit 2 otherwise)");
  flags.add("data-dir", cfg.dataDir, "directory holding digits.csv (default: $KILN_DATA_DIR or the build's)");
  flags.add("curve", cfg.curve, "where to write the loss curve CSV (empty: nowhere)");
  flags.add("progress", cfg.progress, "draw progress bars (--no-progress)");
  if (Status s = flags.parse(argc, argv); !s.isOk())
    return fail(s);
  if (flags.helpRequested()) {
    std::printf("%s", flags.usage().c_str());
    return 0;
  }
  if (cfg.quick && !flags.given("epochs"))
    cfg.epochs = 20;
  setProgressEnabled(cfg.progress);
  Expected<bool> met = run(cfg);
  if (!met)
    return fail(met.status());
  return *met ? 0 : 2;
}
