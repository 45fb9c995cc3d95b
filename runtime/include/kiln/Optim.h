//===- Optim.h - Optimizers, learning-rate schedules, gradient clipping ---===//
//
// The training-step half of eager training: the update rules of PyTorch's
// torch.optim (same formulas, same defaults, same option names), its
// learning-rate schedules, and gradient clipping.
//
//   KILN_ASSIGN_OR_RETURN(auto opt, optim::AdamW::create(model.parameters(),
//                                                        {.lr = 3e-4}));
//   KILN_ASSIGN_OR_RETURN(auto sched, optim::CosineAnnealingLR::create(
//                                         *opt, /*tMax=*/epochs));
//   for (int epoch = 0; epoch < epochs; ++epoch) {
//     for (auto &batch : data) {
//       opt->zeroGrad();
//       KILN_ASSIGN_OR_RETURN(Tensor loss, lossOf(model, batch));
//       KILN_RETURN_IF_ERROR(loss.backward());
//       KILN_RETURN_IF_ERROR(optim::clipGradNorm(model.parameters(), 1.0));
//       KILN_RETURN_IF_ERROR(opt->step());
//     }
//     KILN_RETURN_IF_ERROR(sched->step());
//   }
//
// Ownership and lifetimes
//  - An optimizer holds Tensor handles to its parameters. Handles share
//    storage and autograd state with the model's tensors, so step() reads the
//    model's p.grad() and writes the model's weights in place; the model may
//    be destroyed first (the optimizer then keeps the storage alive).
//  - A schedule holds a reference to its optimizer: the optimizer must
//    outlive it. Optimizers are returned in a unique_ptr so that their
//    address never changes.
//  - stateDict() returns handles to the live state, not copies: write them
//    out (or clone them) before the next step().
//
// Semantics
//  - A parameter whose requiresGrad() is false or whose grad() is undefined
//    is skipped by step() and keeps its state (freezing layers, unused
//    heads). Its step counter does not advance, as in PyTorch.
//  - Per-element state (momentum, Adam's moments, ...) has the parameter's
//    shape and dtype. f32/f64 parameters are updated in one parallel pass
//    over contiguous memory; f16/bf16 (and non-contiguous) parameters are
//    updated through an f32 working copy, rounded once per step. As in
//    PyTorch the state stays in the parameter's dtype, so Adam's second
//    moment of small f16 gradients underflows: train f16 models with f32
//    master weights (mixed precision) rather than f16 parameters.
//  - step() checks every parameter before it changes any, so an error leaves
//    weights and state untouched.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_OPTIM_H
#define KILN_OPTIM_H

#include "kiln/Tensor.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::optim {

/// Hyper-parameters by PyTorch's names: "lr", "momentum", "dampening",
/// "weight_decay", "nesterov", "beta1", "beta2" (PyTorch's `betas`), "eps",
/// "amsgrad", "alpha", "centered", "lr_decay", "initial_accumulator_value".
/// Booleans are 0 or 1.
using Options = std::map<std::string, double, std::less<>>;

/// A set of parameters sharing hyper-parameters; `options` overrides the
/// optimizer's defaults for this group only, e.g. {{"lr", 1e-4}}.
struct ParamGroup {
  std::vector<Tensor> params;
  Options options;
};

/// Flat (name, tensor) pairs, the form checkpoints store.
using StateDict = std::vector<std::pair<std::string, Tensor>>;

/// The base of every optimizer: parameter groups, per-parameter state, the
/// step driver, and state dicts. Subclasses supply the update rule.
class Optimizer {
public:
  virtual ~Optimizer();
  Optimizer(const Optimizer &) = delete;
  Optimizer &operator=(const Optimizer &) = delete;

  /// "SGD", "Adam", ... (used in error messages).
  virtual std::string_view name() const = 0;

  /// Applies one update to every parameter that has a gradient.
  Status step();
  /// Drops every parameter's gradient (PyTorch's set_to_none=True).
  void zeroGrad();

  /// Appends a group; its parameters are numbered after the existing ones.
  /// Fails on undefined or non-float tensors, a parameter already in some
  /// group, an unknown option name or a bad option value.
  Status addParamGroup(ParamGroup group);

  size_t numGroups() const { return groups_.size(); }
  /// Parameters of all groups, numbered as in stateDict().
  size_t numParams() const { return paramGroupOf_.size(); }
  /// The group's parameters; empty when `group` is out of range.
  const std::vector<Tensor> &params(size_t group) const;
  /// Every option of the group (defaults merged with its overrides); empty
  /// when `group` is out of range.
  const Options &options(size_t group) const;
  Expected<double> option(size_t group, std::string_view name) const;
  /// Validated like addParamGroup's options.
  Status setOption(size_t group, std::string_view name, double value);

  /// The learning rate of a group (schedules read and write this).
  Expected<double> lr(size_t group = 0) const { return option(group, "lr"); }
  Status setLr(size_t group, double lr) { return setOption(group, "lr", lr); }

  /// The state as flat names, PyTorch's layout flattened:
  ///   "group.G.params"      i64[n], the indices of group G's parameters
  ///   "group.G.<option>"    f64 rank 0, every option of group G
  ///   "state.I.step"        f64 rank 0, updates applied to parameter I
  ///   "state.I.<buffer>"    parameter I's shape and dtype (exp_avg, ...)
  /// Parameters are numbered across groups in order; a parameter that was
  /// never updated has no "state.I.*" entries.
  StateDict stateDict() const;
  /// Restores a stateDict() of an optimizer of the same kind over the same
  /// parameter groups (options come from the dict). Every entry is checked
  /// before anything changes; a mismatch (unknown or missing name, wrong
  /// shape or dtype, different group sizes, bad option value) is an error
  /// naming the entry. Tensors are copied.
  Status loadStateDict(const StateDict &dict);

protected:
  explicit Optimizer(Options defaults);

  /// Contiguous working arrays of one parameter, all in `dtype` (F32 or
  /// F64): the parameter, its gradient, and the buffers in bufferNames()
  /// order. `fresh[i]` is true when buffer i was just created.
  struct Arrays {
    DType dtype = DType::F32;
    int64_t numel = 0;
    void *param = nullptr;
    const void *grad = nullptr;
    std::vector<void *> buffers;
    std::vector<bool> fresh;
  };

  /// Checks a complete option set; the message names the bad option.
  virtual Status validate(const Options &options) const = 0;
  /// Names of the per-element state buffers under these options.
  virtual std::vector<std::string>
  bufferNames(const Options &options) const = 0;
  /// Value a new buffer starts with.
  virtual double initialValue(const Options &options, size_t buffer) const;
  /// True when the state has a "step" counter.
  virtual bool countsSteps() const { return true; }
  /// Runs the update over [begin, end) of the arrays; `step` is the step
  /// number of this update (1 for the first). Called from pool threads.
  virtual void update(const Options &options, double step, const Arrays &a,
                      int64_t begin, int64_t end) const = 0;

  /// For subclasses' factories: validates the defaults and adds the groups.
  Status init(std::vector<ParamGroup> groups);

private:
  struct Group {
    std::vector<Tensor> params;
    Options options;
    size_t first = 0; // Global index of params[0].
  };
  struct ParamState {
    double step = 0;
    std::map<std::string, Tensor> buffers;
    bool empty() const { return step == 0 && buffers.empty(); }
  };

  Status checkParam(size_t index, const Tensor &p, const Tensor &grad) const;
  Status updateParam(const Options &options, Tensor &p, const Tensor &grad,
                     ParamState &state);
  Expected<Options> resolve(const Options &overrides,
                            std::string_view where) const;
  std::string where(size_t index) const;

  Options defaults_;
  std::vector<Group> groups_;
  std::vector<size_t> paramGroupOf_;
  std::vector<ParamState> state_;
};

//===----------------------------------------------------------------------===//
// Optimizers. Defaults are PyTorch's; every factory takes either one list of
// parameters or a list of groups.
//===----------------------------------------------------------------------===//

/// p -= lr * d, where g' = g + weight_decay * p, b = momentum * b +
/// (1 - dampening) * g' (b = g' on the first step), d = g' + momentum * b
/// (Nesterov) or b (momentum != 0) or g'.
struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weightDecay = 0.0;
  bool nesterov = false; ///< Needs momentum > 0 and dampening == 0.
};
class SGD final : public Optimizer {
public:
  static Expected<std::unique_ptr<SGD>> create(std::vector<Tensor> params,
                                               const SGDOptions &options = {});
  static Expected<std::unique_ptr<SGD>> create(std::vector<ParamGroup> groups,
                                               const SGDOptions &options = {});
  std::string_view name() const override { return "SGD"; }

private:
  explicit SGD(const SGDOptions &o);
  Status validate(const Options &o) const override;
  std::vector<std::string> bufferNames(const Options &o) const override;
  bool countsSteps() const override { return false; }
  void update(const Options &o, double step, const Arrays &a, int64_t begin,
              int64_t end) const override;
};

/// Adam (Kingma & Ba) with L2 weight decay added to the gradient; amsgrad
/// keeps the running maximum of the second moment.
struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weightDecay = 0.0;
  bool amsgrad = false;
};
/// AdamW (Loshchilov & Hutter): p *= 1 - lr * weight_decay, then Adam
/// without weight decay.
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weightDecay = 1e-2;
  bool amsgrad = false;
};
class Adam : public Optimizer {
public:
  static Expected<std::unique_ptr<Adam>>
  create(std::vector<Tensor> params, const AdamOptions &options = {});
  static Expected<std::unique_ptr<Adam>>
  create(std::vector<ParamGroup> groups, const AdamOptions &options = {});
  std::string_view name() const override {
    return decoupled_ ? "AdamW" : "Adam";
  }

protected:
  Adam(Options defaults, bool decoupled);

private:
  Status validate(const Options &o) const override;
  std::vector<std::string> bufferNames(const Options &o) const override;
  void update(const Options &o, double step, const Arrays &a, int64_t begin,
              int64_t end) const override;
  bool decoupled_;
};
class AdamW final : public Adam {
public:
  static Expected<std::unique_ptr<AdamW>>
  create(std::vector<Tensor> params, const AdamWOptions &options = {});
  static Expected<std::unique_ptr<AdamW>>
  create(std::vector<ParamGroup> groups, const AdamWOptions &options = {});

private:
  explicit AdamW(const AdamWOptions &o);
};

/// RMSprop (Hinton): divides by a running RMS of the gradient, optionally
/// centered (minus the running mean squared) and with momentum.
struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weightDecay = 0.0;
  double momentum = 0.0;
  bool centered = false;
};
class RMSprop final : public Optimizer {
public:
  static Expected<std::unique_ptr<RMSprop>>
  create(std::vector<Tensor> params, const RMSpropOptions &options = {});
  static Expected<std::unique_ptr<RMSprop>>
  create(std::vector<ParamGroup> groups, const RMSpropOptions &options = {});
  std::string_view name() const override { return "RMSprop"; }

private:
  explicit RMSprop(const RMSpropOptions &o);
  Status validate(const Options &o) const override;
  std::vector<std::string> bufferNames(const Options &o) const override;
  void update(const Options &o, double step, const Arrays &a, int64_t begin,
              int64_t end) const override;
};

/// Adagrad (Duchi et al.): sum += g^2; p -= lr / (1 + (step - 1) *
/// lr_decay) * g / (sqrt(sum) + eps).
struct AdagradOptions {
  double lr = 1e-2;
  double lrDecay = 0.0;
  double weightDecay = 0.0;
  double initialAccumulatorValue = 0.0;
  double eps = 1e-10;
};
class Adagrad final : public Optimizer {
public:
  static Expected<std::unique_ptr<Adagrad>>
  create(std::vector<Tensor> params, const AdagradOptions &options = {});
  static Expected<std::unique_ptr<Adagrad>>
  create(std::vector<ParamGroup> groups, const AdagradOptions &options = {});
  std::string_view name() const override { return "Adagrad"; }

private:
  explicit Adagrad(const AdagradOptions &o);
  Status validate(const Options &o) const override;
  std::vector<std::string> bufferNames(const Options &o) const override;
  double initialValue(const Options &o, size_t buffer) const override;
  void update(const Options &o, double step, const Arrays &a, int64_t begin,
              int64_t end) const override;
};

//===----------------------------------------------------------------------===//
// Learning-rate schedules
//
// A schedule sets every group's lr as a closed form of the group's base lr
// (its lr when the schedule was created) and the epoch, so schedules compose
// (LinearWarmup runs another one after the warm-up) and resume from the
// epoch alone. create() applies epoch 0, as PyTorch's constructors do;
// each step() then advances one epoch. The values equal PyTorch's recursive
// forms up to rounding.
//===----------------------------------------------------------------------===//

class LRScheduler {
public:
  virtual ~LRScheduler();
  LRScheduler(const LRScheduler &) = delete;
  LRScheduler &operator=(const LRScheduler &) = delete;

  /// Advances one epoch and writes the new learning rates.
  Status step();
  /// Jumps to `epoch` (>= 0) and writes its learning rates (resuming).
  Status setEpoch(int64_t epoch);
  int64_t epoch() const { return epoch_; }
  /// The learning rates last written, one per group.
  const std::vector<double> &lastLr() const { return lastLr_; }
  const std::vector<double> &baseLrs() const { return baseLrs_; }
  Optimizer &optimizer() const { return optimizer_; }

  /// The lr of a group whose base lr is `baseLr`, at `epoch` (>= 0).
  virtual double lrAt(double baseLr, int64_t epoch) const = 0;

  /// For checkpoints: "last_epoch" (f64 rank 0) and "base_lrs" (f64[groups]).
  /// Prefix the names when storing several objects in one file.
  StateDict stateDict() const;
  /// Restores base lrs and epoch (and writes that epoch's lrs); the number
  /// of base lrs must match the optimizer's groups.
  Status loadStateDict(const StateDict &dict);

protected:
  explicit LRScheduler(Optimizer &optimizer);
  /// Records the base lrs (the optimizer's lrs, or `baseLrs` when given)
  /// and applies epoch 0; factories call it.
  Status start(std::vector<double> baseLrs = {});

private:
  Status apply(int64_t epoch);

  Optimizer &optimizer_;
  std::vector<double> baseLrs_;
  std::vector<double> lastLr_;
  int64_t epoch_ = 0;
};

/// lr = base * gamma ^ floor(epoch / stepSize).
class StepLR final : public LRScheduler {
public:
  static Expected<std::unique_ptr<StepLR>>
  create(Optimizer &optimizer, int64_t stepSize, double gamma = 0.1);
  double lrAt(double baseLr, int64_t epoch) const override;

private:
  StepLR(Optimizer &o, int64_t stepSize, double gamma)
      : LRScheduler(o), stepSize_(stepSize), gamma_(gamma) {}
  int64_t stepSize_;
  double gamma_;
};

/// lr = base * gamma ^ epoch.
class ExponentialLR final : public LRScheduler {
public:
  static Expected<std::unique_ptr<ExponentialLR>> create(Optimizer &optimizer,
                                                         double gamma);
  double lrAt(double baseLr, int64_t epoch) const override;

private:
  ExponentialLR(Optimizer &o, double gamma) : LRScheduler(o), gamma_(gamma) {}
  double gamma_;
};

/// lr = etaMin + (base - etaMin) * (1 + cos(pi * epoch / tMax)) / 2; past
/// tMax it rises again (PyTorch's behaviour, no restarts).
class CosineAnnealingLR final : public LRScheduler {
public:
  static Expected<std::unique_ptr<CosineAnnealingLR>>
  create(Optimizer &optimizer, int64_t tMax, double etaMin = 0.0);
  double lrAt(double baseLr, int64_t epoch) const override;

private:
  CosineAnnealingLR(Optimizer &o, int64_t tMax, double etaMin)
      : LRScheduler(o), tMax_(tMax), etaMin_(etaMin) {}
  int64_t tMax_;
  double etaMin_;
};

/// Linear warm-up over `warmupEpochs` epochs from base * startFactor to
/// base (PyTorch's LinearLR with end_factor 1), then `after` (another
/// schedule's lrAt, counted from the end of the warm-up) or, when `after` is
/// null, the base lr. Equals PyTorch's SequentialLR([LinearLR(start_factor,
/// total_iters=warmupEpochs), after], milestones=[warmupEpochs]).
/// The warm-up owns `after`, which must be a schedule of the same optimizer
/// and is never stepped on its own.
class LinearWarmup final : public LRScheduler {
public:
  static Expected<std::unique_ptr<LinearWarmup>>
  create(Optimizer &optimizer, int64_t warmupEpochs,
         double startFactor = 1.0 / 3,
         std::unique_ptr<LRScheduler> after = nullptr);
  double lrAt(double baseLr, int64_t epoch) const override;

private:
  LinearWarmup(Optimizer &o, int64_t warmup, double startFactor,
               std::unique_ptr<LRScheduler> after)
      : LRScheduler(o), warmup_(warmup), startFactor_(startFactor),
        after_(std::move(after)) {}
  int64_t warmup_;
  double startFactor_;
  std::unique_ptr<LRScheduler> after_;
};

/// Multiplies every group's lr by `factor` (down to its minLr) once the
/// metric has not improved for more than `patience` epochs, then waits
/// `cooldown` epochs before counting again. Improvement is relative
/// (threshold mode "rel", PyTorch's default) or absolute ("abs").
struct ReduceLROnPlateauOptions {
  enum class Mode : unsigned char { Min, Max };
  enum class ThresholdMode : unsigned char { Rel, Abs };
  Mode mode = Mode::Min;
  double factor = 0.1;
  int64_t patience = 10;
  double threshold = 1e-4;
  ThresholdMode thresholdMode = ThresholdMode::Rel;
  int64_t cooldown = 0;
  /// One value for every group, or one per group.
  std::vector<double> minLr = {0.0};
  /// Changes smaller than this are not applied.
  double eps = 1e-8;
};
class ReduceLROnPlateau final {
public:
  static Expected<std::unique_ptr<ReduceLROnPlateau>>
  create(Optimizer &optimizer, const ReduceLROnPlateauOptions &options = {});
  /// Records one epoch's metric (a NaN metric counts as no improvement).
  Status step(double metric);
  double best() const { return best_; }
  int64_t numBadEpochs() const { return numBadEpochs_; }
  int64_t cooldownCounter() const { return cooldownCounter_; }
  int64_t epoch() const { return epoch_; }

  /// For checkpoints: "best", "num_bad_epochs", "cooldown_counter",
  /// "last_epoch" (f64 rank 0). The lrs themselves live in the optimizer's
  /// state dict.
  StateDict stateDict() const;
  Status loadStateDict(const StateDict &dict);

private:
  ReduceLROnPlateau(Optimizer &o, ReduceLROnPlateauOptions options);
  bool isBetter(double metric) const;
  Optimizer &optimizer_;
  ReduceLROnPlateauOptions options_;
  double best_;
  int64_t numBadEpochs_ = 0;
  int64_t cooldownCounter_ = 0;
  int64_t epoch_ = 0;
};

//===----------------------------------------------------------------------===//
// Gradient clipping (parameters without a gradient are skipped)
//===----------------------------------------------------------------------===//

/// Scales all gradients together so that their total `normType`-norm (the
/// norm of the per-tensor norms; normType > 0 or +infinity) is at most
/// `maxNorm`: g *= min(1, maxNorm / (total + 1e-6)), as PyTorch's
/// clip_grad_norm_. Returns the total norm before clipping (NaN/inf when a
/// gradient is not finite; the gradients are then scaled by NaN, as in
/// PyTorch).
/// `params` is const because handles share autograd state: the gradients
/// are replaced (setGrad) on the variables the handles refer to, so
/// `clipGradNorm(opt->params(0), 1.0)` works too.
Expected<double> clipGradNorm(const std::vector<Tensor> &params, double maxNorm,
                              double normType = 2.0);
/// Clamps every gradient element to [-clip, clip] (clip >= 0).
Status clipGradValue(const std::vector<Tensor> &params, double clip);

} // namespace kiln::optim

#endif // KILN_OPTIM_H
