//===- DigitsMain.cpp - The driver the digits classifiers share ------------===//
#include "DigitsMain.h"

#include "Report.h"

#include <cstdio>

namespace kiln::examples {

namespace {

struct Config {
  int64_t epochs = 0;
  bool quick = false;
  double lr = 0;
  int64_t batch = 0;
  int64_t seed = 1;
  double target = 0;
  std::string dataDir;
  std::string curve;
  bool progress = true;
};

Expected<bool> run(const DigitsExample &ex, const Config &cfg) {
  Timer total;
  KILN_ASSIGN_OR_RETURN(Dataset all, loadDigits(dataDirectory(cfg.dataDir)));
  all.sampleShape = ex.sampleShape;
  Split split = splitDataset(all, {.val = 0.15, .test = 0.2, .seed = 2024});
  std::printf("digits: %lld train, %lld validation, %lld test samples\n",
              (long long)split.train.size(), (long long)split.val.size(),
              (long long)split.test.size());

  Generator gen(uint64_t(cfg.seed));
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<nn::Module> model, ex.build(gen));
  std::printf("model: %s, %lld parameters; Adam lr %g (cosine to 0), batch %lld, "
              "%lld epochs\n",
              ex.description.c_str(), (long long)model->numParameters(), cfg.lr,
              (long long)cfg.batch, (long long)cfg.epochs);
  KILN_ASSIGN_OR_RETURN(auto opt, optim::Adam::create(model->parameters(), {.lr = cfg.lr}));
  KILN_ASSIGN_OR_RETURN(auto sched, optim::CosineAnnealingLR::create(*opt, cfg.epochs));
  KILN_ASSIGN_OR_RETURN(FitResult fit,
                        fitClassifier(*model, *opt, sched.get(), split.train, split.val,
                                      {.epochs = cfg.epochs,
                                       .batchSize = cfg.batch,
                                       .seed = uint64_t(cfg.seed) + 100,
                                       .curve = cfg.curve}));
  KILN_ASSIGN_OR_RETURN(EpochStats test, evaluateClassifier(*model, split.test));
  const auto correct = int64_t(test.accuracy * double(split.test.size()) + 0.5);
  std::printf("best validation accuracy %.4f at epoch %lld; test accuracy %.4f "
              "(%lld/%lld), test loss %.4f; %.1f s\n",
              fit.best().val.accuracy, (long long)fit.bestEpoch, test.accuracy,
              (long long)correct, (long long)split.test.size(), test.loss,
              total.seconds());
  if (!cfg.curve.empty())
    std::printf("loss curve: %s\n", cfg.curve.c_str());
  const bool met = test.accuracy >= cfg.target;
  std::printf("goal: test accuracy >= %.4f: %s\n", cfg.target, met ? "MET" : "NOT MET");
  return met;
}

} // namespace

int digitsMain(int argc, char **argv, DigitsExample ex) {
  Config cfg;
  cfg.epochs = ex.epochs;
  cfg.lr = ex.lr;
  cfg.batch = ex.batchSize;
  cfg.target = ex.target;
  cfg.curve = ex.name + "_curve.csv";
  Flags flags(ex.name, ex.description + " on the 8x8 handwritten digits");
  flags.add("epochs", cfg.epochs, "passes over the training set");
  flags.add("quick", cfg.quick,
            strCat("the short run the test uses (", ex.quickEpochs, " epochs)"));
  flags.add("lr", cfg.lr, "Adam learning rate (cosine-annealed to 0)");
  flags.add("batch", cfg.batch, "mini-batch size");
  flags.add("seed", cfg.seed, "seed of the weights and the batch order");
  flags.add("target", cfg.target, "test accuracy the run must reach (exit 2 otherwise)");
  flags.add("data-dir", cfg.dataDir,
            "directory holding digits.csv (default: $KILN_DATA_DIR or the build's)");
  flags.add("curve", cfg.curve, "where to write the loss curve CSV (empty: nowhere)");
  flags.add("progress", cfg.progress, "draw progress bars (--no-progress)");
  if (Status s = flags.parse(argc, argv); !s.isOk())
    return fail(s);
  if (flags.helpRequested()) {
    std::printf("%s", flags.usage().c_str());
    return 0;
  }
  if (cfg.quick && !flags.given("epochs"))
    cfg.epochs = ex.quickEpochs;
  setProgressEnabled(cfg.progress);
  Expected<bool> met = run(ex, cfg);
  if (!met)
    return fail(met.status());
  return *met ? 0 : 2;
}

} // namespace kiln::examples
