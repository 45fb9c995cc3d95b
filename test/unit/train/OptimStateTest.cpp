//===- OptimStateTest.cpp - Optimizer state dicts --------------------------===//
//
// stateDict/loadStateDict are what checkpoints store: a resumed run must
// continue bit for bit, and a dict that does not fit the optimizer must be
// refused with the offending entry named, before anything changes.
//
//===----------------------------------------------------------------------===//
#include "OptimTestUtil.h"

#include <algorithm>

namespace kiln::test {
namespace {

using optim::ParamGroup;
using optim::StateDict;

const Tensor *find(const StateDict &dict, const std::string &name) {
  for (const auto &[k, t] : dict)
    if (k == name)
      return &t;
  return nullptr;
}

StateDict without(StateDict dict, const std::string &name) {
  std::erase_if(dict, [&](const auto &e) { return e.first == name; });
  return dict;
}

StateDict replaced(StateDict dict, const std::string &name, Tensor t) {
  for (auto &[k, v] : dict)
    if (k == name)
      v = std::move(t);
  return dict;
}

/// Two groups, amsgrad Adam, two steps taken (parameter 1 frozen in step 2).
struct Trained {
  Tensor a = param({0.5, -1.0, 2.0, 0.25}, {2, 2});
  Tensor b = param({1.0, 3.0}, {2});
  std::unique_ptr<optim::Adam> opt;
  Trained() {
    auto made = optim::Adam::create(
        std::vector<ParamGroup>{{{a}, {}}, {{b}, {{"lr", 0.01}, {"amsgrad", 1}}}},
        {.lr = 0.1, .weightDecay = 0.01});
    EXPECT_TRUE(made.ok()) << made.status();
    opt = std::move(*made);
    giveGrad(a, {1.0, -2.0, 0.5, 0.25});
    giveGrad(b, {0.5, -0.5});
    EXPECT_TRUE(opt->step().isOk());
    giveGrad(a, {-1.0, 1.0, 0.0, 2.0});
    b.zeroGrad();
    EXPECT_TRUE(opt->step().isOk());
  }
};

TEST(OptimStateTest, NamesAndValues) {
  Trained t;
  StateDict dict = t.opt->stateDict();
  std::vector<std::string> names;
  for (const auto &[k, v] : dict)
    names.push_back(k);
  for (const char *n :
       {"group.0.params", "group.0.lr", "group.0.beta1", "group.0.beta2",
        "group.0.eps", "group.0.weight_decay", "group.0.amsgrad",
        "group.1.params", "group.1.lr", "state.0.step", "state.0.exp_avg",
        "state.0.exp_avg_sq", "state.1.step", "state.1.exp_avg",
        "state.1.exp_avg_sq", "state.1.max_exp_avg_sq"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_EQ(find(dict, "state.0.max_exp_avg_sq"), nullptr);
  EXPECT_EQ(*find(dict, "state.0.step")->item(), 2.0);
  EXPECT_EQ(*find(dict, "state.1.step")->item(), 1.0); // Frozen for step 2.
  EXPECT_EQ(find(dict, "state.0.step")->dtype(), DType::F64);
  EXPECT_EQ(find(dict, "state.0.step")->rank(), 0);
  EXPECT_EQ(*find(dict, "group.1.lr")->item(), 0.01);
  EXPECT_EQ(*find(dict, "group.1.amsgrad")->item(), 1.0);
  EXPECT_EQ(find(dict, "group.1.params")->toDoubles(), std::vector<double>{1});
  EXPECT_EQ(find(dict, "state.0.exp_avg")->shape(), (Shape{2, 2}));
  // exp_avg after grads g1, g2 (+ weight decay): 0.1 * 0.9 * g1' + 0.1 * g2'.
  double g1 = 1.0 + 0.01 * 0.5;
  double p1 = find(dict, "state.0.exp_avg")->toDoubles()[0];
  EXPECT_GT(p1, 0.9 * 0.1 * g1 - 0.1 * 1.1);
  EXPECT_LT(p1, 0.9 * 0.1 * g1 - 0.1 * 0.9);
}

TEST(OptimStateTest, ResumeContinuesExactly) {
  Trained t;
  StateDict dict = t.opt->stateDict();
  // A second model with the same weights and a fresh optimizer.
  Tensor a2 = param(t.a.toDoubles(), {2, 2});
  Tensor b2 = param(t.b.toDoubles(), {2});
  auto fresh = optim::Adam::create(
      std::vector<ParamGroup>{{{a2}, {}}, {{b2}, {{"amsgrad", 1}}}});
  ASSERT_TRUE(fresh.ok());
  Status s = (*fresh)->loadStateDict(dict);
  ASSERT_TRUE(s.isOk()) << s;
  EXPECT_EQ(*(*fresh)->lr(0), 0.1); // Options come from the dict.
  EXPECT_EQ(*(*fresh)->lr(1), 0.01);
  EXPECT_EQ(*(*fresh)->option(0, "weight_decay"), 0.01);
  for (int k = 0; k < 3; ++k) {
    std::vector<double> ga = {0.3 * k, -0.2, 1.0, -1.5}, gb = {k * 1.0, 0.25};
    giveGrad(t.a, ga);
    giveGrad(t.b, gb);
    giveGrad(a2, ga);
    giveGrad(b2, gb);
    ASSERT_TRUE(t.opt->step().isOk());
    ASSERT_TRUE((*fresh)->step().isOk());
  }
  EXPECT_EQ(t.a.toDoubles(), a2.toDoubles());
  EXPECT_EQ(t.b.toDoubles(), b2.toDoubles());
  // The loaded state was copied, not shared with the dict.
  EXPECT_EQ(*find(dict, "state.0.step")->item(), 2.0);
}

TEST(OptimStateTest, SGDMomentumRoundTrip) {
  Tensor a = param({1.0, 2.0}, {2});
  auto opt = optim::SGD::create({a}, {.lr = 0.1, .momentum = 0.9});
  ASSERT_TRUE(opt.ok());
  EXPECT_EQ((*opt)->stateDict().size(), 6u); // params + 5 options, no state.
  giveGrad(a, {1.0, 1.0});
  ASSERT_TRUE((*opt)->step().isOk());
  StateDict dict = (*opt)->stateDict();
  ASSERT_NE(find(dict, "state.0.momentum_buffer"), nullptr);
  EXPECT_EQ(find(dict, "state.0.step"), nullptr); // SGD counts no steps.
  Tensor a2 = param(a.toDoubles(), {2});
  auto opt2 = optim::SGD::create({a2});
  ASSERT_TRUE(opt2.ok());
  ASSERT_TRUE((*opt2)->loadStateDict(dict).isOk());
  giveGrad(a, {0.5, -0.5});
  giveGrad(a2, {0.5, -0.5});
  ASSERT_TRUE((*opt)->step().isOk());
  ASSERT_TRUE((*opt2)->step().isOk());
  EXPECT_EQ(a.toDoubles(), a2.toDoubles());
}

TEST(OptimStateTest, MismatchesAreNamed) {
  Trained t;
  const StateDict good = t.opt->stateDict();
  auto check = [&](const StateDict &bad, const std::string &needle) {
    Trained u;
    StateDict before = u.opt->stateDict();
    EXPECT_ERROR_MENTIONS(u.opt->loadStateDict(bad), needle);
    // Nothing changed.
    StateDict after = u.opt->stateDict();
    ASSERT_EQ(before.size(), after.size());
    for (size_t i = 0; i < before.size(); ++i) {
      EXPECT_EQ(before[i].first, after[i].first);
      EXPECT_EQ(before[i].second.toDoubles(), after[i].second.toDoubles())
          << before[i].first;
    }
  };
  Tensor f64x3 = *Tensor::zeros({3}, DType::F64);
  check(replaced(good, "state.0.exp_avg", f64x3),
        "'state.0.exp_avg' is f64[3] but parameter 0 is f64[2, 2]");
  check(replaced(good, "state.1.exp_avg_sq", *Tensor::zeros({2}, DType::F32)),
        "'state.1.exp_avg_sq' is f32[2]");
  check(replaced(good, "state.0.step", f64x3),
        "'state.0.step' must be a rank-0 float tensor");
  check(replaced(good, "state.0.step", *Tensor::scalar(1.5, DType::F64)),
        "'state.0.step' must be a non-negative whole number");
  check(replaced(good, "group.0.lr", *Tensor::scalar(-1, DType::F64)),
        "group 0: option 'lr' must be >= 0");
  check(replaced(good, "group.1.params", *Tensor::fromVector<int64_t>({1, 2}, {2})),
        "'group.1.params' lists 2 parameters but group 1 has 1");
  check(without(good, "group.0.eps"), "missing 'group.0.eps'");
  check(without(good, "group.1.params"), "missing 'group.1.params'");
  check(without(good, "state.1.step"), "missing 'state.1.step'");
  StateDict extra = good;
  extra.emplace_back("state.0.momentum_buffer", *Tensor::zeros({2, 2}, DType::F64));
  check(extra, "unexpected entry 'state.0.momentum_buffer'");
  extra = good;
  extra.emplace_back("state.7.exp_avg", f64x3);
  check(extra, "'state.7.exp_avg' names parameter 7 but the optimizer has 2");
  extra = good;
  extra.emplace_back("group.2.lr", *Tensor::scalar(1, DType::F64));
  check(extra, "'group.2.lr' names group 2 but the optimizer has 2");
  extra = good;
  extra.emplace_back("group.0.momentum", *Tensor::scalar(1, DType::F64));
  check(extra, "Adam has no option 'momentum'");
  extra = good;
  extra.emplace_back("optimizer", f64x3);
  check(extra, "unexpected entry 'optimizer'");
  extra = good;
  extra.push_back(good.front());
  check(extra, "'group.0.params' appears twice");
  // A dict without amsgrad for group 1 has no use for max_exp_avg_sq.
  check(replaced(good, "group.1.amsgrad", *Tensor::scalar(0, DType::F64)),
        "unexpected entry 'state.1.max_exp_avg_sq'");
}

TEST(OptimStateTest, DictFromAnotherOptimizerKindIsRefused) {
  Trained t;
  Tensor a = param({1, 2, 3, 4}, {2, 2});
  Tensor b = param({1, 2}, {2});
  auto sgd = optim::SGD::create(
      std::vector<ParamGroup>{{{a}, {}}, {{b}, {}}});
  ASSERT_TRUE(sgd.ok());
  EXPECT_ERROR_MENTIONS((*sgd)->loadStateDict(t.opt->stateDict()),
                        "SGD has no option");
}

} // namespace
} // namespace kiln::test
