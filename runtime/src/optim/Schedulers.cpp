//===- Schedulers.cpp - Learning-rate schedules ---------------------------===//
//
// PyTorch's schedules, in closed form (their _get_closed_form_lr where they
// have one). PyTorch's step() uses recursive forms that multiply the
// current lr; the two agree to rounding as long as nothing else writes the
// lr, and the closed form is what lets LinearWarmup hand over to another
// schedule and a resumed run jump straight to its epoch.
//
//===----------------------------------------------------------------------===//
#include "kiln/Optim.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace kiln::optim {

LRScheduler::LRScheduler(Optimizer &optimizer) : optimizer_(optimizer) {}
LRScheduler::~LRScheduler() = default;

Status LRScheduler::start(std::vector<double> baseLrs) {
  if (baseLrs.empty())
    for (size_t g = 0; g < optimizer_.numGroups(); ++g) {
      KILN_ASSIGN_OR_RETURN(double lr, optimizer_.lr(g));
      baseLrs.push_back(lr);
    }
  baseLrs_ = std::move(baseLrs);
  return apply(0);
}

Status LRScheduler::apply(int64_t epoch) {
  // Groups added after the schedule was made start from their own lr.
  for (size_t g = baseLrs_.size(); g < optimizer_.numGroups(); ++g) {
    KILN_ASSIGN_OR_RETURN(double lr, optimizer_.lr(g));
    baseLrs_.push_back(lr);
  }
  std::vector<double> lrs(optimizer_.numGroups());
  for (size_t g = 0; g < lrs.size(); ++g) {
    lrs[g] = lrAt(baseLrs_[g], epoch);
    KILN_RETURN_IF_ERROR(optimizer_.setLr(g, lrs[g]));
  }
  lastLr_ = std::move(lrs);
  epoch_ = epoch;
  return Status();
}

Status LRScheduler::step() { return apply(epoch_ + 1); }

Status LRScheduler::setEpoch(int64_t epoch) {
  if (epoch < 0)
    return invalidArgument("LRScheduler::setEpoch: epoch must be >= 0, got ",
                           epoch);
  return apply(epoch);
}

namespace {
/// Rejects entries of a schedule's state dict outside `allowed`, and
/// duplicates.
Status checkNames(const char *where, const StateDict &dict,
                  std::initializer_list<std::string_view> allowed) {
  for (size_t i = 0; i < dict.size(); ++i) {
    if (std::find(allowed.begin(), allowed.end(), dict[i].first) ==
        allowed.end())
      return invalidArgument(where, ": unexpected entry '", dict[i].first, "'");
    for (size_t j = 0; j < i; ++j)
      if (dict[j].first == dict[i].first)
        return invalidArgument(where, ": '", dict[i].first, "' appears twice");
  }
  return Status();
}

Expected<Tensor> entry(const char *where, const StateDict &dict,
                       std::string_view name) {
  for (const auto &[k, t] : dict)
    if (k == name)
      return t;
  return invalidArgument(where, ": missing '", name, "'");
}

/// A rank-0 float entry; `counter` also requires a whole number >= 0.
Expected<double> scalarEntry(const char *where, const StateDict &dict,
                             std::string_view name, bool counter) {
  KILN_ASSIGN_OR_RETURN(Tensor t, entry(where, dict, name));
  if (t.rank() != 0 || !isFloat(t.dtype()))
    return invalidArgument(where, ": '", name,
                           "' must be a rank-0 float tensor");
  KILN_ASSIGN_OR_RETURN(double v, t.item());
  if (counter && !(v >= 0 && v == std::floor(v) && v < 9.0e15))
    return invalidArgument(where, ": '", name,
                           "' must be a non-negative whole number, got ", v);
  return v;
}

Tensor scalarTensor(double v) { return *Tensor::scalar(v, DType::F64); }

Status checkFactor(const char *where, const char *name, double v) {
  if (!(v >= 0.0) || !std::isfinite(v))
    return invalidArgument(where, ": ", name, " must be finite and >= 0, got ",
                           v);
  return Status();
}
} // namespace

StateDict LRScheduler::stateDict() const {
  StateDict dict;
  dict.emplace_back("last_epoch", scalarTensor(double(epoch_)));
  dict.emplace_back("base_lrs",
                    *Tensor::fromVector(baseLrs_, {int64_t(baseLrs_.size())}));
  return dict;
}

Status LRScheduler::loadStateDict(const StateDict &dict) {
  const char *here = "LRScheduler.loadStateDict";
  KILN_RETURN_IF_ERROR(checkNames(here, dict, {"last_epoch", "base_lrs"}));
  KILN_ASSIGN_OR_RETURN(double epoch,
                        scalarEntry(here, dict, "last_epoch", true));
  KILN_ASSIGN_OR_RETURN(Tensor base, entry(here, dict, "base_lrs"));
  if (base.rank() != 1 || !isFloat(base.dtype()) ||
      size_t(base.numel()) != optimizer_.numGroups())
    return invalidArgument(here, ": 'base_lrs' must be a float vector of ",
                           optimizer_.numGroups(), " values (one per group)");
  std::vector<double> lrs = base.toDoubles();
  for (double lr : lrs)
    if (!(lr >= 0.0) || !std::isfinite(lr))
      return invalidArgument(here, ": 'base_lrs' holds ", lr);
  baseLrs_ = std::move(lrs);
  return apply(int64_t(epoch));
}

Expected<std::unique_ptr<StepLR>>
StepLR::create(Optimizer &optimizer, int64_t stepSize, double gamma) {
  if (stepSize < 1)
    return invalidArgument("StepLR: stepSize must be >= 1, got ", stepSize);
  KILN_RETURN_IF_ERROR(checkFactor("StepLR", "gamma", gamma));
  std::unique_ptr<StepLR> s(new StepLR(optimizer, stepSize, gamma));
  KILN_RETURN_IF_ERROR(s->start());
  return s;
}

double StepLR::lrAt(double baseLr, int64_t epoch) const {
  return baseLr * std::pow(gamma_, double(epoch / stepSize_));
}

Expected<std::unique_ptr<ExponentialLR>>
ExponentialLR::create(Optimizer &optimizer, double gamma) {
  KILN_RETURN_IF_ERROR(checkFactor("ExponentialLR", "gamma", gamma));
  std::unique_ptr<ExponentialLR> s(new ExponentialLR(optimizer, gamma));
  KILN_RETURN_IF_ERROR(s->start());
  return s;
}

double ExponentialLR::lrAt(double baseLr, int64_t epoch) const {
  return baseLr * std::pow(gamma_, double(epoch));
}

Expected<std::unique_ptr<CosineAnnealingLR>>
CosineAnnealingLR::create(Optimizer &optimizer, int64_t tMax, double etaMin) {
  if (tMax < 1)
    return invalidArgument("CosineAnnealingLR: tMax must be >= 1, got ", tMax);
  KILN_RETURN_IF_ERROR(checkFactor("CosineAnnealingLR", "etaMin", etaMin));
  std::unique_ptr<CosineAnnealingLR> s(
      new CosineAnnealingLR(optimizer, tMax, etaMin));
  KILN_RETURN_IF_ERROR(s->start());
  return s;
}

double CosineAnnealingLR::lrAt(double baseLr, int64_t epoch) const {
  double c = std::cos(std::numbers::pi * double(epoch) / double(tMax_));
  return etaMin_ + (baseLr - etaMin_) * (1.0 + c) / 2.0;
}

Expected<std::unique_ptr<LinearWarmup>>
LinearWarmup::create(Optimizer &optimizer, int64_t warmupEpochs,
                     double startFactor, std::unique_ptr<LRScheduler> after) {
  if (warmupEpochs < 1)
    return invalidArgument("LinearWarmup: warmupEpochs must be >= 1, got ",
                           warmupEpochs);
  if (!(startFactor > 0.0 && startFactor <= 1.0))
    return invalidArgument("LinearWarmup: startFactor must be in (0, 1], got ",
                           startFactor);
  if (after && &after->optimizer() != &optimizer)
    return invalidArgument(
        "LinearWarmup: the schedule to run after the warm-up belongs to "
        "another optimizer");
  // `after` already applied its epoch 0 to the optimizer; the base lrs are
  // the ones it recorded, not what it wrote.
  std::vector<double> base = after ? after->baseLrs() : std::vector<double>{};
  std::unique_ptr<LinearWarmup> s(
      new LinearWarmup(optimizer, warmupEpochs, startFactor, std::move(after)));
  KILN_RETURN_IF_ERROR(s->start(std::move(base)));
  return s;
}

double LinearWarmup::lrAt(double baseLr, int64_t epoch) const {
  if (epoch < warmup_)
    return baseLr * (startFactor_ +
                     (1.0 - startFactor_) * double(epoch) / double(warmup_));
  return after_ ? after_->lrAt(baseLr, epoch - warmup_) : baseLr;
}

//===----------------------------------------------------------------------===//
// ReduceLROnPlateau
//===----------------------------------------------------------------------===//

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer &o,
                                     ReduceLROnPlateauOptions options)
    : optimizer_(o), options_(std::move(options)) {
  best_ = options_.mode == ReduceLROnPlateauOptions::Mode::Min
              ? std::numeric_limits<double>::infinity()
              : -std::numeric_limits<double>::infinity();
}

Expected<std::unique_ptr<ReduceLROnPlateau>>
ReduceLROnPlateau::create(Optimizer &optimizer,
                          const ReduceLROnPlateauOptions &options) {
  const char *here = "ReduceLROnPlateau";
  if (!(options.factor >= 0.0 && options.factor < 1.0))
    return invalidArgument(here, ": factor must be in [0, 1), got ",
                           options.factor);
  if (options.patience < 0)
    return invalidArgument(here, ": patience must be >= 0, got ",
                           options.patience);
  if (options.cooldown < 0)
    return invalidArgument(here, ": cooldown must be >= 0, got ",
                           options.cooldown);
  KILN_RETURN_IF_ERROR(checkFactor(here, "threshold", options.threshold));
  KILN_RETURN_IF_ERROR(checkFactor(here, "eps", options.eps));
  size_t groups = optimizer.numGroups();
  if (options.minLr.size() != 1 && options.minLr.size() != groups)
    return invalidArgument(here, ": minLr has ", options.minLr.size(),
                           " values; give 1 or one per group (", groups, ")");
  for (double m : options.minLr)
    KILN_RETURN_IF_ERROR(checkFactor(here, "minLr", m));
  return std::unique_ptr<ReduceLROnPlateau>(
      new ReduceLROnPlateau(optimizer, options));
}

bool ReduceLROnPlateau::isBetter(double a) const {
  using O = ReduceLROnPlateauOptions;
  bool rel = options_.thresholdMode == O::ThresholdMode::Rel;
  double t = options_.threshold;
  if (options_.mode == O::Mode::Min)
    return rel ? a < best_ * (1.0 - t) : a < best_ - t;
  return rel ? a > best_ * (t + 1.0) : a > best_ + t;
}

Status ReduceLROnPlateau::step(double metric) {
  ++epoch_;
  if (isBetter(metric)) {
    best_ = metric;
    numBadEpochs_ = 0;
  } else {
    ++numBadEpochs_;
  }
  if (cooldownCounter_ > 0) {
    --cooldownCounter_;
    numBadEpochs_ = 0; // Bad epochs in cooldown do not count.
  }
  if (numBadEpochs_ <= options_.patience)
    return Status();
  for (size_t g = 0; g < optimizer_.numGroups(); ++g) {
    KILN_ASSIGN_OR_RETURN(double old, optimizer_.lr(g));
    double minLr =
        options_.minLr.size() == 1 ? options_.minLr[0] : options_.minLr[g];
    double lr = std::max(old * options_.factor, minLr);
    if (old - lr > options_.eps)
      KILN_RETURN_IF_ERROR(optimizer_.setLr(g, lr));
  }
  cooldownCounter_ = options_.cooldown;
  numBadEpochs_ = 0;
  return Status();
}

StateDict ReduceLROnPlateau::stateDict() const {
  StateDict dict;
  dict.emplace_back("best", scalarTensor(best_));
  dict.emplace_back("num_bad_epochs", scalarTensor(double(numBadEpochs_)));
  dict.emplace_back("cooldown_counter", scalarTensor(double(cooldownCounter_)));
  dict.emplace_back("last_epoch", scalarTensor(double(epoch_)));
  return dict;
}

Status ReduceLROnPlateau::loadStateDict(const StateDict &dict) {
  const char *here = "ReduceLROnPlateau.loadStateDict";
  KILN_RETURN_IF_ERROR(
      checkNames(here, dict,
                 {"best", "num_bad_epochs", "cooldown_counter", "last_epoch"}));
  KILN_ASSIGN_OR_RETURN(double best, scalarEntry(here, dict, "best", false));
  KILN_ASSIGN_OR_RETURN(double bad,
                        scalarEntry(here, dict, "num_bad_epochs", true));
  KILN_ASSIGN_OR_RETURN(double cooldown,
                        scalarEntry(here, dict, "cooldown_counter", true));
  KILN_ASSIGN_OR_RETURN(double epoch,
                        scalarEntry(here, dict, "last_epoch", true));
  best_ = best;
  numBadEpochs_ = int64_t(bad);
  cooldownCounter_ = int64_t(cooldown);
  epoch_ = int64_t(epoch);
  return Status();
}

} // namespace kiln::optim
