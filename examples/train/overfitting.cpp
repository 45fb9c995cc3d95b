//===- overfitting.cpp - Early stopping, dropout and weight decay ----------===//
//
// A wide MLP (64-256-256-10) trained on a deliberately small subset of the
// digits (--per-class samples of each digit) overfits: training loss goes
// to zero while validation loss turns back up. Three runs on the same data
// and initial weights show the standard remedies:
//   plain        Adam, no regularization, every epoch; final weights.
//   regularized  dropout (--dropout) after each hidden layer and AdamW's
//                decoupled weight decay (--weight-decay); final weights.
//   early-stop   the plain setup, stopped once the validation loss has not
//                improved for --patience epochs; the best epoch's weights.
// Each run writes its curve (overfitting_<run>_curve.csv: training-set
// metrics in eval mode beside validation metrics, per epoch).
//
// Goal (exit 2 otherwise): the regularized run's final generalization gap
// in loss (val - train) is smaller than the plain run's and its accuracy
// gap (train - val) is no larger (with 100 training samples both runs fit
// the training set exactly, and 270 validation samples move accuracy in
// steps of 0.4 %, so the loss gap is the measure that resolves it), and
// early stopping ends with a lower validation loss than the plain run's
// final one.
//
//   overfitting                # full run
//   overfitting --quick        # the short run the test uses
//
//===----------------------------------------------------------------------===//
#include "common/Data.h"
#include "common/Report.h"
#include "common/Train.h"

#include <cstdio>
#include <map>

using namespace kiln;
using namespace kiln::examples;

namespace {

struct Config {
  int64_t epochs = 300;
  bool quick = false;
  int64_t perClass = 10;
  int64_t hidden = 256;
  double lr = 1e-3;
  int64_t batch = 16;
  double dropout = 0.5;
  double weightDecay = 0.5;
  int64_t patience = 15;
  int64_t seed = 1;
  std::string dataDir;
  std::string curvePrefix = "overfitting";
  bool progress = true;
};

Expected<std::shared_ptr<nn::Module>> buildMlp(int64_t hidden, double dropout, uint64_t seed) {
  Generator gen(seed); // Same seed: every run starts from the same weights.
  std::vector<std::shared_ptr<nn::Module>> layers;
  int64_t in = 64;
  for (int i = 0; i < 2; ++i) {
    KILN_ASSIGN_OR_RETURN(auto fc, nn::Linear::create({.inFeatures = in, .outFeatures = hidden}, gen));
    KILN_ASSIGN_OR_RETURN(auto act, nn::Activation::create("relu"));
    layers.push_back(fc);
    layers.push_back(act);
    if (dropout > 0) {
      KILN_ASSIGN_OR_RETURN(auto drop, nn::Dropout::create({.p = dropout, .seed = seed + 10 + uint64_t(i)}));
      layers.push_back(drop);
    }
    in = hidden;
  }
  KILN_ASSIGN_OR_RETURN(auto head, nn::Linear::create({.inFeatures = in, .outFeatures = 10}, gen));
  layers.push_back(head);
  KILN_ASSIGN_OR_RETURN(auto net, nn::Sequential::create(layers));
  return std::shared_ptr<nn::Module>(net);
}

struct RunResult {
  std::string name;
  int64_t epochs = 0;
  EpochStats train, val, test;
  double lossGap() const { return val.loss - train.loss; }
  double accGap() const { return train.accuracy - val.accuracy; }
};

Expected<RunResult> trainRun(const std::string &name, const Config &cfg, const Split &split,
                             double dropout, double weightDecay, int64_t patience) {
  std::printf("== %s: dropout %g, weight decay %g, %s\n", name.c_str(), dropout, weightDecay,
              patience > 0 ? strCat("early stopping (patience ", patience, ")").c_str()
                           : "all epochs");
  KILN_ASSIGN_OR_RETURN(auto model, buildMlp(cfg.hidden, dropout, uint64_t(cfg.seed)));
  KILN_ASSIGN_OR_RETURN(auto opt, optim::AdamW::create(model->parameters(),
                                                       {.lr = cfg.lr, .weightDecay = weightDecay}));
  const std::string curve =
      cfg.curvePrefix.empty() ? "" : cfg.curvePrefix + "_" + name + "_curve.csv";
  KILN_ASSIGN_OR_RETURN(FitResult fit,
                        fitClassifier(*model, *opt, nullptr, split.train, split.val,
                                      {.epochs = cfg.epochs,
                                       .batchSize = cfg.batch,
                                       .seed = uint64_t(cfg.seed) + 100,
                                       .curve = curve,
                                       .evalTrain = true,
                                       .patience = patience,
                                       .selectByAccuracy = false,
                                       .restoreBest = patience > 0,
                                       .tag = name + ": "}));
  RunResult r;
  r.name = name;
  r.epochs = fit.stoppedEpoch;
  // The weights the run ends with: the last epoch's, or the best one's.
  KILN_ASSIGN_OR_RETURN(r.train, evaluateClassifier(*model, split.train));
  KILN_ASSIGN_OR_RETURN(r.val, evaluateClassifier(*model, split.val));
  KILN_ASSIGN_OR_RETURN(r.test, evaluateClassifier(*model, split.test));
  if (patience > 0)
    std::printf("%s: best validation loss at epoch %lld of %lld run\n", name.c_str(),
                (long long)fit.bestEpoch, (long long)fit.stoppedEpoch);
  if (!curve.empty())
    std::printf("%s: curve %s\n", name.c_str(), curve.c_str());
  return r;
}

Expected<bool> run(const Config &cfg) {
  Timer total;
  KILN_ASSIGN_OR_RETURN(Dataset all, loadDigits(dataDirectory(cfg.dataDir)));
  Split split = splitDataset(all, {.val = 0.15, .test = 0.2, .seed = 2024});
  // The small training subset: the first --per-class samples of each digit
  // in the (shuffled) training part.
  std::map<int64_t, int64_t> taken;
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < split.train.size(); ++i)
    if (taken[split.train.labels[size_t(i)]]++ < cfg.perClass)
      keep.push_back(i);
  split.train = split.train.subset(keep);
  std::printf("digits: %lld training samples (%lld per digit), %lld validation, %lld test; "
              "MLP 64-%lld-%lld-10, AdamW lr %g, batch %lld, up to %lld epochs\n",
              (long long)split.train.size(), (long long)cfg.perClass,
              (long long)split.val.size(), (long long)split.test.size(), (long long)cfg.hidden,
              (long long)cfg.hidden, cfg.lr, (long long)cfg.batch, (long long)cfg.epochs);

  KILN_ASSIGN_OR_RETURN(RunResult plain, trainRun("plain", cfg, split, 0.0, 0.0, 0));
  KILN_ASSIGN_OR_RETURN(RunResult reg,
                        trainRun("regularized", cfg, split, cfg.dropout, cfg.weightDecay, 0));
  KILN_ASSIGN_OR_RETURN(RunResult early, trainRun("early_stop", cfg, split, 0.0, 0.0, cfg.patience));

  std::printf("\n%-12s %6s %10s %10s %9s %9s %9s %9s %9s\n", "run", "epochs", "train_loss",
              "val_loss", "loss_gap", "train_acc", "val_acc", "acc_gap", "test_acc");
  for (const RunResult *r : {&plain, &reg, &early})
    std::printf("%-12s %6lld %10.4f %10.4f %9.4f %9.4f %9.4f %9.4f %9.4f\n", r->name.c_str(),
                (long long)r->epochs, r->train.loss, r->val.loss, r->lossGap(),
                r->train.accuracy, r->val.accuracy, r->accGap(), r->test.accuracy);
  const bool lossGap = reg.lossGap() < plain.lossGap();
  const bool accGap = reg.accGap() <= plain.accGap();
  const bool stopped = early.val.loss < plain.val.loss;
  std::printf("final gap, plain vs regularized: loss %.4f vs %.4f, accuracy %.4f vs %.4f\n",
              plain.lossGap(), reg.lossGap(), plain.accGap(), reg.accGap());
  std::printf("validation loss, plain (all %lld epochs) vs early stopping: %.4f vs %.4f; "
              "%.1f s\n",
              (long long)plain.epochs, plain.val.loss, early.val.loss, total.seconds());
  std::printf("goal: regularization narrows the loss gap: %s; accuracy gap no wider: %s; early "
              "stopping lowers validation loss: %s\n",
              lossGap ? "yes" : "NO", accGap ? "yes" : "NO", stopped ? "yes" : "NO");
  const bool met = lossGap && accGap && stopped;
  std::printf("goal: %s\n", met ? "MET" : "NOT MET");
  return met;
}

} // namespace

int main(int argc, char **argv) {
  Config cfg;
  Flags flags("overfitting", "early stopping, dropout and weight decay on a small digits subset");
  flags.add("epochs", cfg.epochs, "epochs of the plain and regularized runs (early stopping may end sooner)");
  flags.add("quick", cfg.quick, "the short run the test uses (150 epochs)");
  flags.add("per-class", cfg.perClass, "training samples of each digit");
  flags.add("hidden", cfg.hidden, "width of the two hidden layers");
  flags.add("lr", cfg.lr, "AdamW learning rate");
  flags.add("batch", cfg.batch, "mini-batch size");
  flags.add("dropout", cfg.dropout, "dropout probability of the regularized run");
  flags.add("weight-decay", cfg.weightDecay, "AdamW weight decay of the regularized run");
  flags.add("patience", cfg.patience, "early stopping: epochs without a better validation loss");
  flags.add("seed", cfg.seed, "seed of the weights, dropout and batch order");
  flags.add("data-dir", cfg.dataDir,
            "directory holding digits.csv (default: $KILN_DATA_DIR or the build's)");
  flags.add("curve-prefix", cfg.curvePrefix, "curves go to <prefix>_<run>_curve.csv (empty: none)");
  flags.add("progress", cfg.progress, "draw progress bars (--no-progress)");
  if (Status s = flags.parse(argc, argv); !s.isOk())
    return fail(s);
  if (flags.helpRequested()) {
    std::printf("%s", flags.usage().c_str());
    return 0;
  }
  if (cfg.quick && !flags.given("epochs"))
    cfg.epochs = 150;
  setProgressEnabled(cfg.progress);
  Expected<bool> met = run(cfg);
  if (!met)
    return fail(met.status());
  return *met ? 0 : 2;
}
