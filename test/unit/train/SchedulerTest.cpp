//===- SchedulerTest.cpp - Learning-rate schedules against PyTorch ---------===//
//
// Each sequence is the lr of an SGD(lr=0.5) optimizer after construction and
// after each step() of the PyTorch schedule named in the comment above it
// (torch 2.15), printed with:
//
//   def lrs(make, n, lr=0.5):
//       p = torch.zeros(1, requires_grad=True)
//       opt = torch.optim.SGD([p], lr=lr)
//       s = make(opt)
//       out = [opt.param_groups[0]['lr']]
//       for _ in range(n):
//           opt.step(); s.step(); out.append(opt.param_groups[0]['lr'])
//       return out
//
// ReduceLROnPlateau sequences are the lr after each s.step(metric), lr=1.0.
//
//===----------------------------------------------------------------------===//
#include "OptimTestUtil.h"

#include <cmath>

namespace kiln::test {
namespace {

using namespace kiln::optim;

// StepLR(opt, step_size=3, gamma=0.5)
constexpr double kStepLR[] = {0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125, 0.0625, 0.0625};
// ExponentialLR(opt, gamma=0.9)
constexpr double kExponentialLR[] = {0.5, 0.45, 0.405, 0.36450000000000005, 0.32805000000000006, 0.2952450000000001, 0.2657205000000001, 0.23914845000000007, 0.21523360500000008, 0.19371024450000007, 0.17433922005000008};
// CosineAnnealingLR(opt, T_max=5, eta_min=0.01): past T_max it rises again.
constexpr double kCosine[] = {0.5, 0.45320916362186214, 0.33070916362186215, 0.1792908363781379, 0.0567908363781379, 0.01, 0.05679083637813787, 0.17929083637813795, 0.33070916362186226, 0.45320916362186237, 0.5000000000000002, 0.4532091636218625, 0.3307091636218623};
// LinearLR(opt, start_factor=0.25, total_iters=4)
constexpr double kWarmup[] = {0.125, 0.21875, 0.3125, 0.40625, 0.5, 0.5, 0.5, 0.5, 0.5};
// SequentialLR(opt, [LinearLR(opt, 0.25, total_iters=3),
//                    CosineAnnealingLR(opt, T_max=5, eta_min=0.01)], milestones=[3])
constexpr double kWarmupCosine[] = {0.125, 0.25, 0.375, 0.5, 0.45320916362186214, 0.33070916362186215, 0.1792908363781379, 0.0567908363781379, 0.01, 0.05679083637813787, 0.17929083637813795, 0.33070916362186226, 0.45320916362186237};
// SequentialLR(opt, [LinearLR(opt, 0.5, total_iters=2), StepLR(opt, 2, 0.1)],
//              milestones=[2])
constexpr double kWarmupStep[] = {0.25, 0.375, 0.5, 0.5, 0.05, 0.05, 0.005000000000000001, 0.005000000000000001, 0.0005000000000000001};
// ReduceLROnPlateau(opt, mode='min', factor=0.5, patience=2, cooldown=1, min_lr=0.1)
constexpr double kMetricsMin[] = {1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9};
constexpr double kPlateauMin[] = {1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125, 0.125};
// ReduceLROnPlateau(opt, mode='max', factor=0.1, patience=1, threshold=0.02,
//                   threshold_mode='abs')
constexpr double kMetricsMax[] = {0.5, 0.6, 0.65, 0.66, 0.7, 0.69, 0.68, 0.72, 0.75, 0.74, 0.7, 0.7};
constexpr double kPlateauMaxAbs[] = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1, 0.010000000000000002, 0.010000000000000002};

std::unique_ptr<SGD> sgd(double lr) {
  auto made = SGD::create({param({0.0}, {1})}, {.lr = lr});
  EXPECT_TRUE(made.ok()) << made.status();
  return std::move(*made);
}

/// Steps `s` and compares the optimizer's lr with `expected` (first entry:
/// right after construction).
template <size_t N>
void expectSequence(Optimizer &opt, LRScheduler &s, const double (&expected)[N]) {
  for (size_t e = 0; e < N; ++e) {
    if (e > 0)
      ASSERT_TRUE(s.step().isOk());
    EXPECT_EQ(s.epoch(), int64_t(e));
    double lr = *opt.lr(0);
    EXPECT_NEAR(lr, expected[e], 1e-14 * expected[e]) << "epoch " << e;
    EXPECT_EQ(s.lastLr().at(0), lr);
  }
}

TEST(SchedulerTest, StepLR) {
  auto opt = sgd(0.5);
  auto s = StepLR::create(*opt, 3, 0.5);
  ASSERT_TRUE(s.ok()) << s.status();
  expectSequence(*opt, **s, kStepLR);
}

TEST(SchedulerTest, ExponentialLR) {
  auto opt = sgd(0.5);
  auto s = ExponentialLR::create(*opt, 0.9);
  ASSERT_TRUE(s.ok()) << s.status();
  expectSequence(*opt, **s, kExponentialLR);
}

TEST(SchedulerTest, CosineAnnealingLR) {
  auto opt = sgd(0.5);
  auto s = CosineAnnealingLR::create(*opt, 5, 0.01);
  ASSERT_TRUE(s.ok()) << s.status();
  expectSequence(*opt, **s, kCosine);
}

TEST(SchedulerTest, LinearWarmupAlone) {
  auto opt = sgd(0.5);
  auto s = LinearWarmup::create(*opt, 4, 0.25);
  ASSERT_TRUE(s.ok()) << s.status();
  expectSequence(*opt, **s, kWarmup);
}

TEST(SchedulerTest, LinearWarmupThenCosine) {
  auto opt = sgd(0.5);
  auto cosine = CosineAnnealingLR::create(*opt, 5, 0.01);
  ASSERT_TRUE(cosine.ok());
  auto s = LinearWarmup::create(*opt, 3, 0.25, std::move(*cosine));
  ASSERT_TRUE(s.ok()) << s.status();
  expectSequence(*opt, **s, kWarmupCosine);
}

TEST(SchedulerTest, LinearWarmupThenStep) {
  auto opt = sgd(0.5);
  auto step = StepLR::create(*opt, 2, 0.1);
  ASSERT_TRUE(step.ok());
  auto s = LinearWarmup::create(*opt, 2, 0.5, std::move(*step));
  ASSERT_TRUE(s.ok()) << s.status();
  expectSequence(*opt, **s, kWarmupStep);
}

TEST(SchedulerTest, EveryGroupFollowsItsOwnBase) {
  Tensor a = param({0.0}, {1}), b = param({0.0}, {1});
  auto opt = SGD::create(std::vector<ParamGroup>{{{a}, {}}, {{b}, {{"lr", 0.1}}}},
                         {.lr = 1.0});
  ASSERT_TRUE(opt.ok());
  auto s = StepLR::create(**opt, 1, 0.5);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->step().isOk());
  ASSERT_TRUE((*s)->step().isOk());
  EXPECT_EQ(*(*opt)->lr(0), 0.25);
  EXPECT_EQ(*(*opt)->lr(1), 0.025);
  EXPECT_EQ((*s)->baseLrs(), (std::vector<double>{1.0, 0.1}));
}

TEST(SchedulerTest, SetEpochResumes) {
  auto opt = sgd(0.5);
  auto s = CosineAnnealingLR::create(*opt, 5, 0.01);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->setEpoch(7).isOk());
  EXPECT_NEAR(*opt->lr(0), kCosine[7], 1e-15);
  ASSERT_TRUE((*s)->step().isOk());
  EXPECT_NEAR(*opt->lr(0), kCosine[8], 1e-15);
  EXPECT_ERROR_MENTIONS((*s)->setEpoch(-1), "epoch must be >= 0");
}

template <size_t N>
void expectPlateau(const ReduceLROnPlateauOptions &o, const double (&metrics)[N],
                   const double (&expected)[N]) {
  auto opt = sgd(1.0);
  auto s = ReduceLROnPlateau::create(*opt, o);
  ASSERT_TRUE(s.ok()) << s.status();
  for (size_t e = 0; e < N; ++e) {
    ASSERT_TRUE((*s)->step(metrics[e]).isOk());
    EXPECT_NEAR(*opt->lr(0), expected[e], 1e-15) << "epoch " << e;
  }
}

TEST(SchedulerTest, ReduceLROnPlateauMinWithCooldownAndFloor) {
  expectPlateau({.mode = ReduceLROnPlateauOptions::Mode::Min,
                 .factor = 0.5,
                 .patience = 2,
                 .cooldown = 1,
                 .minLr = {0.1}},
                kMetricsMin, kPlateauMin);
}

TEST(SchedulerTest, ReduceLROnPlateauMaxAbsolute) {
  expectPlateau({.mode = ReduceLROnPlateauOptions::Mode::Max,
                 .factor = 0.1,
                 .patience = 1,
                 .threshold = 0.02,
                 .thresholdMode = ReduceLROnPlateauOptions::ThresholdMode::Abs},
                kMetricsMax, kPlateauMaxAbs);
}

TEST(SchedulerTest, ReduceLROnPlateauStopsAtMinLr) {
  auto opt = sgd(1.0);
  auto s = ReduceLROnPlateau::create(*opt, {.factor = 0.5, .patience = 0,
                                            .minLr = {0.3}});
  ASSERT_TRUE(s.ok());
  for (double m : {1.0, 1.0, 1.0, 1.0, 1.0})
    ASSERT_TRUE((*s)->step(m).isOk());
  EXPECT_EQ(*opt->lr(0), 0.3); // 1 -> 0.5 -> 0.3, then held.
  ASSERT_TRUE((*s)->step(NAN).isOk()); // NaN: a bad epoch, not a crash.
  EXPECT_EQ(*opt->lr(0), 0.3);
}

TEST(SchedulerTest, StateDictResumesTheSchedule) {
  auto opt = sgd(0.5);
  auto s = CosineAnnealingLR::create(*opt, 5, 0.01);
  ASSERT_TRUE(s.ok());
  for (int e = 0; e < 3; ++e)
    ASSERT_TRUE((*s)->step().isOk());
  StateDict dict = (*s)->stateDict();

  // A resumed run: the optimizer's lr was restored to the epoch-3 value by
  // its own state dict, so the new schedule's base must come from ours.
  auto opt2 = sgd(kCosine[3]);
  auto s2 = CosineAnnealingLR::create(*opt2, 5, 0.01);
  ASSERT_TRUE(s2.ok());
  ASSERT_TRUE((*s2)->loadStateDict(dict).isOk());
  EXPECT_EQ((*s2)->epoch(), 3);
  EXPECT_EQ((*s2)->baseLrs(), std::vector<double>{0.5});
  ASSERT_TRUE((*s2)->step().isOk());
  EXPECT_NEAR(*opt2->lr(0), kCosine[4], 1e-15);

  StateDict bad = dict;
  bad.emplace_back("gamma", *Tensor::scalar(1, DType::F64));
  EXPECT_ERROR_MENTIONS((*s2)->loadStateDict(bad), "unexpected entry 'gamma'");
  bad = {dict[0]};
  EXPECT_ERROR_MENTIONS((*s2)->loadStateDict(bad), "missing 'base_lrs'");
  bad = {dict[0], {"base_lrs", *Tensor::zeros({2}, DType::F64)}};
  EXPECT_ERROR_MENTIONS((*s2)->loadStateDict(bad), "one per group");
  bad = {{"last_epoch", *Tensor::scalar(-2, DType::F64)}, dict[1]};
  EXPECT_ERROR_MENTIONS((*s2)->loadStateDict(bad), "'last_epoch' must be");
  EXPECT_EQ((*s2)->epoch(), 4); // Untouched by the failed loads.
}

TEST(SchedulerTest, ReduceLROnPlateauStateDict) {
  auto opt = sgd(1.0);
  auto s = ReduceLROnPlateau::create(*opt, {.patience = 2, .cooldown = 3});
  ASSERT_TRUE(s.ok());
  for (double m : {1.0, 0.5, 0.6, 0.7})
    ASSERT_TRUE((*s)->step(m).isOk());
  StateDict dict = (*s)->stateDict();
  auto s2 = ReduceLROnPlateau::create(*opt, {.patience = 2, .cooldown = 3});
  ASSERT_TRUE(s2.ok());
  ASSERT_TRUE((*s2)->loadStateDict(dict).isOk());
  EXPECT_EQ((*s2)->best(), 0.5);
  EXPECT_EQ((*s2)->numBadEpochs(), 2);
  EXPECT_EQ((*s2)->epoch(), 4);
  ASSERT_TRUE((*s2)->step(0.8).isOk()); // Third bad epoch: reduce.
  EXPECT_NEAR(*opt->lr(0), 0.1, 1e-16);
  EXPECT_EQ((*s2)->cooldownCounter(), 3);
  StateDict bad = dict;
  bad[1].second = *Tensor::scalar(0.5, DType::F64);
  EXPECT_ERROR_MENTIONS((*s2)->loadStateDict(bad), "'num_bad_epochs' must be");
}

TEST(SchedulerTest, RejectsBadArguments) {
  auto opt = sgd(0.5);
  EXPECT_ERROR_MENTIONS(StepLR::create(*opt, 0), "stepSize must be >= 1");
  EXPECT_ERROR_MENTIONS(StepLR::create(*opt, 2, -0.5), "gamma");
  EXPECT_ERROR_MENTIONS(ExponentialLR::create(*opt, NAN), "gamma");
  EXPECT_ERROR_MENTIONS(CosineAnnealingLR::create(*opt, 0), "tMax must be >= 1");
  EXPECT_ERROR_MENTIONS(LinearWarmup::create(*opt, 0), "warmupEpochs");
  EXPECT_ERROR_MENTIONS(LinearWarmup::create(*opt, 3, 0.0), "startFactor");
  auto other = sgd(0.1);
  auto foreign = StepLR::create(*other, 2);
  ASSERT_TRUE(foreign.ok());
  EXPECT_ERROR_MENTIONS(LinearWarmup::create(*opt, 3, 0.5, std::move(*foreign)),
                        "another optimizer");
  EXPECT_ERROR_MENTIONS(ReduceLROnPlateau::create(*opt, {.factor = 1.0}),
                        "factor must be in [0, 1)");
  EXPECT_ERROR_MENTIONS(ReduceLROnPlateau::create(*opt, {.patience = -1}),
                        "patience");
  EXPECT_ERROR_MENTIONS(ReduceLROnPlateau::create(*opt, {.minLr = {0.1, 0.2}}),
                        "minLr has 2 values");
  EXPECT_EQ(*opt->lr(0), 0.5); // Failed factories left the lr alone.
}

} // namespace
} // namespace kiln::test
