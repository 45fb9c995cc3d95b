//===- sunspots_lstm.cpp - An LSTM forecaster of yearly sunspot numbers ----===//
//
// statsmodels' yearly sunspot numbers (1700-2008): from the past --window
// years predict the next one. The last 20 % of the years are held out as
// the test set; the 15 % before them are the validation set that picks the
// best epoch; the model trains on the rest. Values are standardized with
// the training years' mean and deviation.
//
// Model: LSTM(1 -> hidden) over the window, the last step's h -> Linear(1).
// The baseline is the naive forecast "next year = this year". The goal,
// checked on the held-out years only: the LSTM's MSE is below the
// baseline's (exit 2 otherwise). Both are printed in sunspot units.
//
//   sunspots_lstm              # full run
//   sunspots_lstm --quick      # the short run the test uses
//
//===----------------------------------------------------------------------===//
#include "common/Data.h"
#include "common/Report.h"
#include "common/Train.h"

#include "kiln/Autograd.h"

#include <cmath>
#include <cstdio>

using namespace kiln;
using namespace kiln::examples;

namespace {

struct Config {
  int64_t epochs = 150;
  bool quick = false;
  int64_t window = 20;
  int64_t hidden = 32;
  double lr = 5e-3;
  int64_t batch = 32;
  int64_t seed = 1;
  std::string dataDir;
  std::string curve = "sunspots_lstm_curve.csv";
  bool progress = true;
};

/// LSTM over the window, a linear head on the last hidden state.
class Forecaster : public nn::Module {
public:
  static Expected<std::shared_ptr<Forecaster>> create(int64_t hidden, Generator &gen) {
    std::shared_ptr<Forecaster> f(new Forecaster());
    KILN_ASSIGN_OR_RETURN(f->lstm_, nn::LSTM::create({.inputSize = 1, .hiddenSize = hidden}, gen));
    KILN_ASSIGN_OR_RETURN(f->head_, nn::Linear::create({.inFeatures = hidden, .outFeatures = 1}, gen));
    f->registerModule("lstm", f->lstm_);
    f->registerModule("head", f->head_);
    return f;
  }
  /// x [N, T, 1] -> [N, 1].
  Expected<Tensor> forward(const Tensor &x) override {
    KILN_ASSIGN_OR_RETURN(Tensor seq, lstm_->forward(x));
    KILN_ASSIGN_OR_RETURN(Tensor last, seq.select(1, seq.dim(1) - 1));
    return head_->forward(last);
  }

private:
  Forecaster() : nn::Module("Forecaster") {}
  std::shared_ptr<nn::LSTM> lstm_;
  std::shared_ptr<nn::Linear> head_;
};

/// Windows of `w` standardized values ending just before each target index
/// in [begin, end): x [n, w, 1], target [n, 1], plus the last input value
/// (the naive forecast).
Dataset windows(const std::vector<double> &z, int64_t w, int64_t begin, int64_t end) {
  Dataset d;
  d.sampleShape = {w, 1};
  d.targetShape = {1};
  for (int64_t t = std::max(begin, w); t < end; ++t) {
    for (int64_t k = t - w; k < t; ++k)
      d.x.push_back(float(z[size_t(k)]));
    d.targets.push_back(float(z[size_t(t)]));
  }
  return d;
}

/// Mean squared error (normalized units) of the model on `data`.
Expected<double> evaluate(nn::Module &model, const Dataset &data) {
  autograd::NoGradGuard noGrad;
  model.eval();
  KILN_ASSIGN_OR_RETURN(Tensor x, data.xTensor());
  KILN_ASSIGN_OR_RETURN(Tensor y, data.targetTensor());
  KILN_ASSIGN_OR_RETURN(Tensor pred, model.forward(x));
  KILN_ASSIGN_OR_RETURN(Tensor loss, nn::mseLoss(pred, y));
  model.train();
  return loss.item();
}

/// MSE of "next = last input" on `data` (normalized units).
double naiveMse(const Dataset &data) {
  const int64_t w = data.sampleShape[0];
  double sum = 0;
  for (int64_t i = 0; i < data.size(); ++i) {
    const double e = double(data.x[size_t((i + 1) * w - 1)]) - double(data.targets[size_t(i)]);
    sum += e * e;
  }
  return sum / double(data.size());
}

Expected<bool> run(const Config &cfg) {
  Timer total;
  KILN_ASSIGN_OR_RETURN(Series s, loadSunspots(dataDirectory(cfg.dataDir)));
  const auto n = int64_t(s.value.size());
  const int64_t testBegin = n - n / 5;                   // last 20 %
  const int64_t valBegin = testBegin - (n * 15) / 100;   // the 15 % before
  if (valBegin <= cfg.window + 10)
    return invalidArgument("--window ", cfg.window, " leaves no training data");

  // Standardize with the training years' statistics only.
  double mean = 0, var = 0;
  for (int64_t i = 0; i < valBegin; ++i)
    mean += s.value[size_t(i)];
  mean /= double(valBegin);
  for (int64_t i = 0; i < valBegin; ++i)
    var += (s.value[size_t(i)] - mean) * (s.value[size_t(i)] - mean);
  const double stdev = std::sqrt(var / double(valBegin));
  std::vector<double> z(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    z[size_t(i)] = (s.value[size_t(i)] - mean) / stdev;

  Dataset train = windows(z, cfg.window, 0, valBegin);
  Dataset val = windows(z, cfg.window, valBegin, testBegin);
  Dataset test = windows(z, cfg.window, testBegin, n);
  std::printf("sunspots %g-%g: train targets %g-%g (%lld windows), validation %g-%g "
              "(%lld), test %g-%g (%lld); window %lld years\n",
              s.time.front(), s.time.back(), s.time[size_t(cfg.window)],
              s.time[size_t(valBegin - 1)], (long long)train.size(), s.time[size_t(valBegin)],
              s.time[size_t(testBegin - 1)], (long long)val.size(), s.time[size_t(testBegin)],
              s.time.back(), (long long)test.size(), (long long)cfg.window);

  Generator gen(uint64_t(cfg.seed));
  KILN_ASSIGN_OR_RETURN(auto model, Forecaster::create(cfg.hidden, gen));
  std::printf("model: LSTM(1 -> %lld) + Linear(%lld -> 1), %lld parameters; Adam lr %g "
              "(cosine), batch %lld, %lld epochs\n",
              (long long)cfg.hidden, (long long)cfg.hidden, (long long)model->numParameters(),
              cfg.lr, (long long)cfg.batch, (long long)cfg.epochs);
  KILN_ASSIGN_OR_RETURN(auto opt, optim::Adam::create(model->parameters(), {.lr = cfg.lr}));
  KILN_ASSIGN_OR_RETURN(auto sched, optim::CosineAnnealingLR::create(*opt, cfg.epochs));
  std::vector<Tensor> params = model->parameters();
  DataLoader loader(train, {.batchSize = cfg.batch, .shuffle = true,
                            .seed = uint64_t(cfg.seed) + 100});
  KILN_ASSIGN_OR_RETURN(CurveWriter curve,
                        CurveWriter::open(cfg.curve, {"epoch", "lr", "train_mse", "val_mse"}));

  const double baselineVal = naiveMse(val);
  double bestVal = INFINITY;
  int64_t bestEpoch = 0;
  nn::NamedTensors best;
  for (int64_t epoch = 1; epoch <= cfg.epochs; ++epoch) {
    Timer t;
    KILN_ASSIGN_OR_RETURN(double lr, opt->lr());
    loader.startEpoch();
    ProgressBar bar(strCat("epoch ", epoch), loader.numBatches());
    double sum = 0;
    int64_t seen = 0;
    char suffix[64] = "";
    for (int64_t b = 0; b < loader.numBatches(); ++b) {
      KILN_ASSIGN_OR_RETURN(Batch batch, loader.batch(b));
      opt->zeroGrad();
      KILN_ASSIGN_OR_RETURN(Tensor pred, model->forward(batch.x));
      KILN_ASSIGN_OR_RETURN(Tensor loss, nn::mseLoss(pred, batch.targets));
      KILN_RETURN_IF_ERROR(loss.backward());
      KILN_RETURN_IF_ERROR(optim::clipGradNorm(params, 1.0).status());
      KILN_RETURN_IF_ERROR(opt->step());
      KILN_ASSIGN_OR_RETURN(double l, loss.item());
      sum += l * double(batch.size);
      seen += batch.size;
      std::snprintf(suffix, sizeof suffix, "mse %.4f", sum / double(seen));
      bar.update(b + 1, suffix);
    }
    bar.finish(suffix);
    KILN_RETURN_IF_ERROR(sched->step());
    KILN_ASSIGN_OR_RETURN(double valMse, evaluate(*model, val));
    const double trainMse = sum / double(seen);
    if (epoch == 1 || epoch % 10 == 0 || epoch == cfg.epochs || !cfg.progress)
      printMetrics(epoch, cfg.epochs,
                   {{"train_mse", trainMse}, {"val_mse", valMse}, {"val_naive_mse", baselineVal}},
                   t.seconds());
    KILN_RETURN_IF_ERROR(curve.row({double(epoch), lr, trainMse, valMse}));
    if (valMse < bestVal) {
      bestVal = valMse;
      bestEpoch = epoch;
      KILN_ASSIGN_OR_RETURN(best, snapshot(*model));
    }
  }
  KILN_RETURN_IF_ERROR(model->loadStateDict(best));

  KILN_ASSIGN_OR_RETURN(double testMse, evaluate(*model, test));
  const double naive = naiveMse(test);
  const double units = stdev * stdev; // normalized MSE -> sunspot number^2
  std::printf("best validation MSE %.4f at epoch %lld (naive %.4f)\n", bestVal,
              (long long)bestEpoch, baselineVal);
  std::printf("held-out %g-%g: LSTM MSE %.1f (RMSE %.1f), naive last-value MSE %.1f "
              "(RMSE %.1f); ratio %.3f; %.1f s\n",
              s.time[size_t(testBegin)], s.time.back(), testMse * units,
              std::sqrt(testMse * units), naive * units, std::sqrt(naive * units),
              testMse / naive, total.seconds());
  if (!cfg.curve.empty())
    std::printf("loss curve: %s\n", cfg.curve.c_str());
  const bool met = testMse < naive;
  std::printf("goal: LSTM test MSE < naive baseline's: %s\n", met ? "MET" : "NOT MET");
  return met;
}

} // namespace

int main(int argc, char **argv) {
  Config cfg;
  Flags flags("sunspots_lstm", "an LSTM forecaster of yearly sunspot numbers");
  flags.add("epochs", cfg.epochs, "passes over the training windows");
  flags.add("quick", cfg.quick, "the short run the test uses (40 epochs)");
  flags.add("window", cfg.window, "past years the model sees");
  flags.add("hidden", cfg.hidden, "LSTM hidden size");
  flags.add("lr", cfg.lr, "Adam learning rate (cosine-annealed to 0)");
  flags.add("batch", cfg.batch, "mini-batch size");
  flags.add("seed", cfg.seed, "seed of the weights and the batch order");
  flags.add("data-dir", cfg.dataDir,
            "directory holding sunspots.csv (default: $KILN_DATA_DIR or the build's)");
  flags.add("curve", cfg.curve, "where to write the loss curve CSV (empty: nowhere)");
  flags.add("progress", cfg.progress, "draw progress bars (--no-progress)");
  if (Status s = flags.parse(argc, argv); !s.isOk())
    return fail(s);
  if (flags.helpRequested()) {
    std::printf("%s", flags.usage().c_str());
    return 0;
  }
  if (cfg.quick && !flags.given("epochs"))
    cfg.epochs = 40;
  setProgressEnabled(cfg.progress);
  Expected<bool> met = run(cfg);
  if (!met)
    return fail(met.status());
  return *met ? 0 : 2;
}
