//===- OptimizerTest.cpp - Optimizer trajectories against PyTorch ----------===//
//
// Each case runs five steps of one optimizer on a 2x3 parameter whose
// gradient is g = 2 p - c + 0.05 k (k the step, c fixed), and compares the
// parameter after every step with PyTorch 2.x in f64. The constants were
// printed by this script (torch 2.15, CPU):
//
//   P0 = [0.5, -1.0, 2.0, 0.25, -0.75, 1.5]
//   C = [0.3 * (i + 1) / 6 for i in range(6)]
//   def grad(p, k):
//       return 2 * p - torch.tensor(C, dtype=p.dtype).reshape(2, 3) + 0.05 * k
//   for cls, name, kw in configs:          # as in the comments below
//       p = torch.tensor(P0, dtype=torch.float64).reshape(2, 3).requires_grad_()
//       opt = getattr(torch.optim, cls)([p], **kw)
//       traj = []
//       for k in range(5):
//           p.grad = grad(p.detach(), k)
//           opt.step()
//           traj += p.detach().flatten().tolist()
//
// f64 runs must match to 1e-12; f32 runs (same reference) to DESIGN.md's f32
// tolerance; f16/bf16 runs round the parameter once per step, so five steps
// may be off by a few of their ulps (tolerances widened below).
//
//===----------------------------------------------------------------------===//
#include "OptimTestUtil.h"

#include "kiln/Autograd.h"

#include <cmath>

namespace kiln::test {
namespace {

using optim::Options;
using optim::ParamGroup;

// SGD_plain: torch.optim.SGD([p], **{'lr': 0.1})
constexpr double kSGD_plain[] = {
    0.405, -0.7899999999999999, 1.615, 0.22, -0.575, 1.23,
    0.324, -0.6269999999999999, 1.302, 0.191, -0.43999999999999995, 1.009,
    0.25420000000000004, -0.5015999999999999, 1.0466, 0.1628, -0.33699999999999997, 0.8271999999999999,
    0.19336000000000003, -0.4062799999999999, 0.8372799999999999, 0.13524, -0.2596, 0.6767599999999999,
    0.139688, -0.33502399999999993, 0.664824, 0.108192, -0.20268, 0.5514079999999999,
};
// SGD_momentum: torch.optim.SGD([p], **{'lr': 0.1, 'momentum': 0.9, 'dampening': 0.1, 'weight_decay': 0.01})
constexpr double kSGD_momentum[] = {
    0.4045, -0.789, 1.613, 0.21975, -0.57425, 1.2285,
    0.24537595, -0.4518699, 0.9819083, 0.166272225, -0.29419317500000003, 0.7844143499999999,
    0.05327579564499997, -0.06670954508999992, 0.24079855852999987, 0.0970635819975, 0.02457751285750001, 0.26083670908499995,
    -0.13825193470668054, 0.2875025310357811, -0.4697606680310772, 0.021717001311902226, 0.3160250598533283, -0.2440685284119766,
    -0.2991171170347545, 0.5452841916846113, -1.0287842670892247, -0.050023526842458886, 0.5256589188221067, -0.6453312453695289,
};
// SGD_nesterov: torch.optim.SGD([p], **{'lr': 0.05, 'momentum': 0.8, 'nesterov': True, 'weight_decay': 0.02})
constexpr double kSGD_nesterov[] = {
    0.4136, -0.8092, 1.6499, 0.22255, -0.59115, 1.2543,
    0.30768752, -0.58974744, 1.23446818, 0.18583041, -0.40919892999999996, 0.9614082599999999,
    0.19593882486399997, -0.374352667408, 0.8115083288759998, 0.143652809462, -0.23151062852599996, 0.6616582863319999,
    0.08877934201092477, -0.18613112755162556, 0.4233532627311429, 0.09930974539940837, -0.07733462862477317, 0.3847506183504423,
    -0.006756471600110325, -0.03896295220420689, 0.09693345962391639, 0.05538792944025223, 0.041859547995291256, 0.14973881108471135,
};
// Adam_plain: torch.optim.Adam([p], **{'lr': 0.1})
constexpr double kAdam_plain[] = {
    0.40000000105263156, -0.9000000004761904, 1.9000000002597401, 0.15000000333333322, -0.6500000005714286, 1.4000000003703703,
    0.3008105947798058, -0.8005289988595228, 1.8001232838170023, 0.05678204273281462, -0.5506944194591369, 1.300189681281108,
    0.2032283006689834, -0.7020602567427416, 1.70045907488917, -0.017800346416920465, -0.45274574821962044, 1.2007120236348379,
    0.10829925876401246, -0.6051821015149075, 1.6011018838459359, -0.06261586128878177, -0.35701670462224067, 1.1017230790272452,
    0.01734814765626279, -0.5106185057339836, 1.5021514603496176, -0.07965710147362959, -0.2646113433684446, 1.0033923561601699,
};
// Adam_wd_amsgrad: torch.optim.Adam([p], **{'lr': 0.05, 'betas': (0.8, 0.9), 'eps': 1e-06, 'weight_decay': 0.1, 'amsgrad': True})
constexpr double kAdam_wd_amsgrad[] = {
    0.45000004999994997, -0.9500000227272624, 1.950000012345676, 0.20000015384568048, -0.7000000273972453, 1.4500000175438534,
    0.400102857139075, -0.9001402786081971, 1.9000211874090347, 0.15048449264302735, -0.6501790988312294, 1.4000309061037242,
    0.3503846880701918, -0.8505301973122251, 1.850077669616642, 0.10194344028632407, -0.6006829329192788, 1.3501135815388856,
    0.3009272053471975, -0.8012927063954778, 1.8001833622076542, 0.05503713692363218, -0.5516811813444121, 1.3002688351230207,
    0.2518170508806047, -0.7525658950019981, 1.7503517253108012, 0.011394191272703184, -0.5033718733272439, 1.2505170442783478,
};
// AdamW_plain: torch.optim.AdamW([p], **{'lr': 0.1})
constexpr double kAdamW_plain[] = {
    0.39950000105263156, -0.8990000004761904, 1.8980000002597404, 0.14975000333333321, -0.6492500005714286, 1.3985000003703703,
    0.2999195776117437, -0.7986361934990963, 1.7962291885009694, 0.05643118697239306, -0.5493015429416336, 1.297295938845039,
    0.20206230756924157, -0.6993870780862973, 1.6947793463702203, -0.018043906884071814, -0.45082267196151127, 1.1965340556789241,
    0.10698222352082153, -0.6018474055090783, 1.5937475765266118, -0.06260115627245397, -0.3546830170671607, 1.0963737989689242,
    0.01601144369719061, -0.5067488472177873, 1.4932362371535532, -0.07938647326277815, -0.2619948115146699, 0.9969881807447275,
};
// AdamW_amsgrad: torch.optim.AdamW([p], **{'lr': 0.05, 'betas': (0.85, 0.95), 'weight_decay': 0.3, 'amsgrad': True})
constexpr double kAdamW_amsgrad[] = {
    0.4425000005263158, -0.9350000002380953, 1.92000000012987, 0.1962500016666666, -0.6887500002857143, 1.4275000001851852,
    0.3859920948876258, -0.8711492673849185, 1.8412454355473256, 0.14387904346508743, -0.6286296366532348, 1.3561451724700992,
    0.33055565075680376, -0.8085697133359917, 1.763747990682447, 0.09343614728857139, -0.569796590833137, 1.2859573792052015,
    0.27627401332738044, -0.7474017406629492, 1.6875189323983488, 0.04562815639928657, -0.5124375341205929, 1.216958213672806,
    0.223233574810571, -0.6878068508828186, 1.6125688777607274, 0.0013876694438106213, -0.4567732188735612, 1.1491686859251375,
};
// RMSprop_plain: torch.optim.RMSprop([p], **{'lr': 0.01})
constexpr double kRMSprop_plain[] = {
    0.40000001052631473, -0.9000000047619046, 1.9000000025974026, 0.15000003333332226, -0.6500000057142854, 1.4000000037037037,
    0.33539717080727904, -0.8337100702399025, 1.8305270314762192, 0.10509870533476734, -0.5847324749522581, 1.3311554728728336,
    0.2849028146564004, -0.7822298255585125, 1.7742144268051645, 0.07363011070633788, -0.5347543359397449, 1.2756018127490605,
    0.2422491006707566, -0.7396987004270285, 1.7256105954896297, 0.046743849931916694, -0.4940818493015659, 1.2277826418281146,
    0.20462422772307073, -0.7034181463930281, 1.6821919856441219, 0.02160440637215916, -0.45997156232952935, 1.1851379311586518,
};
// RMSprop_full: torch.optim.RMSprop([p], **{'lr': 0.01, 'alpha': 0.9, 'eps': 1e-06, 'weight_decay': 0.05, 'momentum': 0.7, 'centered': True})
constexpr double kRMSprop_full[] = {
    0.466666780626391, -0.9666667183461731, 1.966666694796038, 0.21666702221842968, -0.7166667288266129, 1.4666667067066586,
    0.41807366719399025, -0.9185394606248297, 1.917899024341718, 0.1685883701005321, -0.6686888684628322, 1.4179230091405135,
    0.3624510808118062, -0.8638388367820712, 1.8614766217378096, 0.11545652143214936, -0.6144269887098057, 1.3616090151014277,
    0.30415641677168215, -0.8068520907110307, 1.8013257960428635, 0.06322419151853947, -0.5583046266333702, 1.301706323547247,
    0.24558731640035242, -0.7499440023481532, 1.7394741248508996, 0.015718107886058732, -0.5028288896252371, 1.2402870426563366,
};
// Adagrad_plain: torch.optim.Adagrad([p], **{'lr': 0.1})
constexpr double kAdagrad_plain[] = {
    0.4000000000105263, -0.9000000000047619, 1.9000000000025974, 0.15000000003333333, -0.6500000000057142, 1.4000000000037036,
    0.33558642543644296, -0.8338969457000326, 1.830707843929237, 0.10527864048076993, -0.5849208626626551, 1.3313376467090754,
    0.2853714926780272, -0.7827049464078614, 1.7746847924441433, 0.07397360305756187, -0.5352285414801007, 1.2760730013731798,
    0.2430555249939483, -0.7405296128186828, 1.7264522035274232, 0.047248015621693146, -0.49490258612729726, 1.228621971409349,
    0.20581159369304824, -0.7046522902051424, 1.6834720036262918, 0.022280679116212336, -0.4611768733004513, 1.1864098279198698,
};
// Adagrad_full: torch.optim.Adagrad([p], **{'lr': 0.1, 'lr_decay': 0.05, 'weight_decay': 0.02, 'initial_accumulator_value': 0.3, 'eps': 1e-08})
constexpr double kAdagrad_full[] = {
    0.4131426215817801, -0.903179186658961, 1.900976770575637, 0.20134922709215897, -0.6544930344391282, 1.4019538478486209,
    0.35575347287972425, -0.8412445579344379, 1.835307598270857, 0.16525772320926646, -0.5939455374717254, 1.3371970812044982,
    0.31163883127754044, -0.7950746823947732, 1.7844832998113347, 0.1355974293647676, -0.5492994106604466, 1.287191117968047,
    0.2752621645504381, -0.758406608573695, 1.7425178817987632, 0.10966577036557426, -0.5142718813582351, 1.2459421903242123,
    0.24398914234443378, -0.7282586591066273, 1.706582453392839, 0.08608394666960535, -0.4858648412046497, 1.2106246207299838,
};

const std::vector<double> kP0 = {0.5, -1.0, 2.0, 0.25, -0.75, 1.5};

struct Case {
  const char *name;
  const char *kind;
  Options options;
  const double *expected; // 5 steps x 6 values.
};

const Case kCases[] = {
    {"SGD_plain", "SGD", {{"lr", 0.1}}, kSGD_plain},
    {"SGD_momentum",
     "SGD",
     {{"lr", 0.1}, {"momentum", 0.9}, {"dampening", 0.1}, {"weight_decay", 0.01}},
     kSGD_momentum},
    {"SGD_nesterov",
     "SGD",
     {{"lr", 0.05}, {"momentum", 0.8}, {"nesterov", 1}, {"weight_decay", 0.02}},
     kSGD_nesterov},
    {"Adam_plain", "Adam", {{"lr", 0.1}}, kAdam_plain},
    {"Adam_wd_amsgrad",
     "Adam",
     {{"lr", 0.05}, {"beta1", 0.8}, {"beta2", 0.9}, {"eps", 1e-6},
      {"weight_decay", 0.1}, {"amsgrad", 1}},
     kAdam_wd_amsgrad},
    {"AdamW_plain", "AdamW", {{"lr", 0.1}}, kAdamW_plain},
    {"AdamW_amsgrad",
     "AdamW",
     {{"lr", 0.05}, {"beta1", 0.85}, {"beta2", 0.95}, {"weight_decay", 0.3},
      {"amsgrad", 1}},
     kAdamW_amsgrad},
    {"RMSprop_plain", "RMSprop", {{"lr", 0.01}}, kRMSprop_plain},
    {"RMSprop_full",
     "RMSprop",
     {{"lr", 0.01}, {"alpha", 0.9}, {"eps", 1e-6}, {"weight_decay", 0.05},
      {"momentum", 0.7}, {"centered", 1}},
     kRMSprop_full},
    {"Adagrad_plain", "Adagrad", {{"lr", 0.1}}, kAdagrad_plain},
    {"Adagrad_full",
     "Adagrad",
     {{"lr", 0.1}, {"lr_decay", 0.05}, {"weight_decay", 0.02},
      {"initial_accumulator_value", 0.3}, {"eps", 1e-8}},
     kAdagrad_full},
};

template <typename O>
Expected<std::unique_ptr<optim::Optimizer>>
upcast(Expected<std::unique_ptr<O>> made) {
  if (!made)
    return made.status();
  return std::unique_ptr<optim::Optimizer>(std::move(*made));
}

Expected<std::unique_ptr<optim::Optimizer>>
makeOptimizer(std::string_view kind, std::vector<ParamGroup> groups) {
  if (kind == "SGD")
    return upcast(optim::SGD::create(std::move(groups)));
  if (kind == "Adam")
    return upcast(optim::Adam::create(std::move(groups)));
  if (kind == "AdamW")
    return upcast(optim::AdamW::create(std::move(groups)));
  if (kind == "RMSprop")
    return upcast(optim::RMSprop::create(std::move(groups)));
  return upcast(optim::Adagrad::create(std::move(groups)));
}

/// Runs a case on a parameter of `dtype`, built non-contiguous when
/// `strided` (the update then goes through a working copy).
void runCase(const Case &c, DType dtype, bool strided, ref::Tolerance tol) {
  SCOPED_TRACE(strCat(c.name, " ", dtypeName(dtype),
                      strided ? " non-contiguous" : ""));
  Tensor p = *Tensor::fromDoubles(kP0, {2, 3}, dtype);
  if (strided) { // Same values, column-major strides.
    Tensor t = *p.transpose(0, 1)->contiguous();
    p = *t.transpose(0, 1);
    ASSERT_FALSE(p.isContiguous());
  }
  ASSERT_TRUE(p.setRequiresGrad().isOk());
  auto opt = makeOptimizer(c.kind, {ParamGroup{{p}, c.options}});
  ASSERT_TRUE(opt.ok()) << opt.status();
  for (int k = 0; k < 5; ++k) {
    std::vector<double> v = p.toDoubles(), g(6);
    for (int i = 0; i < 6; ++i)
      g[i] = 2 * v[i] - 0.3 * (i + 1) / 6 + 0.05 * k;
    giveGrad(p, g);
    Status s = (*opt)->step();
    ASSERT_TRUE(s.isOk()) << s;
    std::vector<double> expected(c.expected + 6 * k, c.expected + 6 * k + 6);
    EXPECT_TRUE(closeTo(p, expected, tol)) << "after step " << k + 1;
  }
}

TEST(OptimizerTest, TrajectoriesMatchPyTorchF64) {
  for (const Case &c : kCases)
    runCase(c, DType::F64, /*strided=*/false, {1e-12, 1e-12});
}

TEST(OptimizerTest, TrajectoriesMatchPyTorchF32) {
  for (const Case &c : kCases)
    runCase(c, DType::F32, /*strided=*/false, ref::toleranceFor(DType::F32));
}

TEST(OptimizerTest, NonContiguousParametersUpdateInPlace) {
  for (const Case &c : kCases)
    runCase(c, DType::F64, /*strided=*/true, {1e-12, 1e-12});
}

TEST(OptimizerTest, HalfPrecisionParameters) {
  // Five roundings of the parameter (one per step) plus gradients computed
  // from rounded parameters: a few ulps of the 16-bit formats.
  for (const Case &c : kCases) {
    runCase(c, DType::F16, false, {4e-3, 2e-3});
    runCase(c, DType::BF16, false, {3e-2, 1.5e-2});
  }
}

TEST(OptimizerTest, LargeParameterSplitsAcrossThreads) {
  // 100k elements: several pool chunks; every element must see the same
  // update as a lone scalar would.
  const int64_t n = 100000;
  Tensor p = *Tensor::full({n}, 1.5, DType::F32);
  ASSERT_TRUE(p.setRequiresGrad().isOk());
  Tensor q = param({1.5}, {1}, DType::F32);
  auto big = optim::Adam::create({p}, {.lr = 0.1});
  auto one = optim::Adam::create({q}, {.lr = 0.1});
  ASSERT_TRUE(big.ok() && one.ok());
  for (int k = 0; k < 3; ++k) {
    ASSERT_TRUE(p.setGrad(*Tensor::full({n}, 0.5 + k, DType::F32)).isOk());
    giveGrad(q, {0.5 + k});
    ASSERT_TRUE((*big)->step().isOk());
    ASSERT_TRUE((*one)->step().isOk());
  }
  float expected = q.data<float>()[0];
  const float *v = p.data<float>();
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(v[i], expected) << "element " << i;
}

TEST(OptimizerTest, ParamGroupsUseTheirOwnOptions) {
  Tensor a = param({1.0, 2.0}, {2});
  Tensor b = param({1.0, 2.0}, {2});
  auto opt = optim::SGD::create(
      std::vector<ParamGroup>{{{a}, {}}, {{b}, {{"lr", 0.5}, {"momentum", 0.9}}}},
      {.lr = 0.1});
  ASSERT_TRUE(opt.ok()) << opt.status();
  EXPECT_EQ((*opt)->numGroups(), 2u);
  EXPECT_EQ(*(*opt)->lr(0), 0.1);
  EXPECT_EQ(*(*opt)->lr(1), 0.5);
  EXPECT_EQ(*(*opt)->option(1, "momentum"), 0.9);
  EXPECT_EQ(*(*opt)->option(0, "momentum"), 0.0);
  for (int k = 0; k < 2; ++k) {
    giveGrad(a, {1.0, -1.0});
    giveGrad(b, {1.0, -1.0});
    ASSERT_TRUE((*opt)->step().isOk());
  }
  // a: two plain steps of 0.1; b: buf = 1 then 1.9, steps of 0.5.
  EXPECT_TRUE(closeTo(a, {0.8, 2.2}, {1e-15, 1e-15}));
  EXPECT_TRUE(closeTo(b, {1.0 - 0.5 - 0.95, 2.0 + 0.5 + 0.95}, {1e-15, 1e-15}));

  // A group added later, and setLr.
  Tensor c = param({3.0}, {1});
  ASSERT_TRUE((*opt)->addParamGroup({{c}, {{"lr", 1.0}}}).isOk());
  ASSERT_TRUE((*opt)->setLr(2, 2.0).isOk());
  giveGrad(c, {0.25});
  ASSERT_TRUE((*opt)->step().isOk());
  EXPECT_TRUE(closeTo(c, {2.5}, {0, 0}));
  EXPECT_EQ((*opt)->numParams(), 3u);
}

TEST(OptimizerTest, FrozenAndGradlessParametersAreUntouched) {
  // Transfer learning: the backbone is frozen, the head trains; a third
  // parameter requires grad but got no gradient this step (unused branch).
  Tensor backbone = param({1.0, 2.0}, {2});
  Tensor head = param({1.0, 2.0}, {2});
  Tensor unused = param({5.0}, {1});
  giveGrad(backbone, {1.0, 1.0}); // A stale gradient from before freezing.
  ASSERT_TRUE(backbone.setRequiresGrad(false).isOk());
  auto opt = optim::Adam::create({backbone, head, unused}, {.lr = 0.1});
  ASSERT_TRUE(opt.ok()) << opt.status();
  giveGrad(head, {1.0, -1.0});
  ASSERT_TRUE((*opt)->step().isOk());
  EXPECT_TRUE(closeTo(backbone, {1.0, 2.0}, {0, 0}));
  EXPECT_TRUE(closeTo(unused, {5.0}, {0, 0}));
  EXPECT_TRUE(closeTo(head, {0.9, 2.1}, {1e-8, 1e-8}));
  // Only the head has state.
  for (const auto &[name, t] : (*opt)->stateDict()) {
    EXPECT_EQ(name.rfind("state.0.", 0), std::string::npos) << name;
    EXPECT_EQ(name.rfind("state.2.", 0), std::string::npos) << name;
  }
}

TEST(OptimizerTest, ZeroGradDropsGradients) {
  Tensor a = param({1.0}, {1});
  giveGrad(a, {2.0});
  auto opt = optim::SGD::create({a});
  ASSERT_TRUE(opt.ok());
  (*opt)->zeroGrad();
  EXPECT_FALSE(a.grad().defined());
  ASSERT_TRUE((*opt)->step().isOk()); // Nothing to do.
  EXPECT_TRUE(closeTo(a, {1.0}, {0, 0}));
}

TEST(OptimizerTest, StepRecordsNoGraph) {
  Tensor a = param({1.0, 2.0}, {2});
  giveGrad(a, {1.0, 1.0});
  auto opt = optim::SGD::create({a}, {.lr = 0.1, .momentum = 0.5});
  ASSERT_TRUE(opt.ok());
  ASSERT_TRUE((*opt)->step().isOk());
  EXPECT_TRUE(a.isLeaf());
  EXPECT_TRUE(a.requiresGrad());
  EXPECT_TRUE(autograd::gradEnabled());
}

//===----------------------------------------------------------------------===//
// Bad input
//===----------------------------------------------------------------------===//

TEST(OptimizerTest, RejectsBadHyperParameters) {
  Tensor a = param({1.0}, {1});
  EXPECT_ERROR_MENTIONS(optim::SGD::create({a}, {.lr = -0.1}), "'lr' must be >= 0");
  EXPECT_ERROR_MENTIONS(optim::SGD::create({a}, {.lr = NAN}), "'lr'");
  EXPECT_ERROR_MENTIONS(optim::SGD::create({a}, {.momentum = -1}), "momentum");
  EXPECT_ERROR_MENTIONS(
      optim::SGD::create({a}, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}),
      "Nesterov");
  EXPECT_ERROR_MENTIONS(optim::SGD::create({a}, {.nesterov = true}), "Nesterov");
  EXPECT_ERROR_MENTIONS(optim::Adam::create({a}, {.beta1 = 1.0}),
                        "'beta1' must be in [0, 1)");
  EXPECT_ERROR_MENTIONS(optim::AdamW::create({a}, {.beta2 = -0.1}), "'beta2'");
  EXPECT_ERROR_MENTIONS(optim::Adam::create({a}, {.eps = -1}), "'eps'");
  EXPECT_ERROR_MENTIONS(optim::AdamW::create({a}, {.weightDecay = -1}),
                        "'weight_decay'");
  EXPECT_ERROR_MENTIONS(optim::RMSprop::create({a}, {.alpha = -0.5}), "'alpha'");
  EXPECT_ERROR_MENTIONS(optim::Adagrad::create({a}, {.lrDecay = -1}), "'lr_decay'");
  EXPECT_ERROR_MENTIONS(
      optim::Adagrad::create({a}, {.initialAccumulatorValue = -1}),
      "'initial_accumulator_value'");
}

TEST(OptimizerTest, RejectsBadGroups) {
  Tensor a = param({1.0}, {1});
  Tensor b = param({2.0}, {1});
  using Groups = std::vector<ParamGroup>;
  EXPECT_ERROR_MENTIONS(optim::Adam::create(Groups{{{a}, {{"betas", 0.9}}}}),
                        "group 0: Adam has no option 'betas'");
  EXPECT_ERROR_MENTIONS(
      optim::SGD::create(Groups{{{a}, {}}, {{b}, {{"lr", -1.0}}}}),
      "group 1: option 'lr' must be >= 0");
  EXPECT_ERROR_MENTIONS(optim::Adam::create(Groups{{{a}, {{"amsgrad", 0.5}}}}),
                        "'amsgrad' is a boolean");
  EXPECT_ERROR_MENTIONS(optim::SGD::create({a, b, a}), "parameters 0 and 2");
  EXPECT_ERROR_MENTIONS(optim::SGD::create(Groups{{{a}, {}}, {{b, a}, {}}}),
                        "group 1: parameter 1 is already in group 0");
  EXPECT_ERROR_MENTIONS(optim::SGD::create({a, Tensor()}), "parameter 1 is undefined");
  Tensor ints = *Tensor::fromVector<int64_t>({1, 2}, {2});
  EXPECT_ERROR_MENTIONS(optim::SGD::create({a, ints}),
                        "parameter 1 has dtype i64");

  auto opt = optim::SGD::create({a});
  ASSERT_TRUE(opt.ok());
  EXPECT_ERROR_MENTIONS((*opt)->setLr(0, -1.0), "'lr' must be >= 0");
  EXPECT_EQ(*(*opt)->lr(0), 1e-3); // Unchanged by the failed set.
  EXPECT_ERROR_MENTIONS((*opt)->setLr(3, 1.0), "group 3");
  EXPECT_ERROR_MENTIONS((*opt)->lr(1), "group 1");
}

TEST(OptimizerTest, MismatchedGradientFailsBeforeAnyUpdate) {
  Tensor a = param({1.0, 2.0}, {2});
  Tensor b = param({1.0, 2.0}, {2});
  giveGrad(a, {1.0, 1.0});
  // A gradient of the wrong shape, planted past setGrad's own check.
  auto meta = std::make_shared<autograd::Meta>();
  meta->requiresGrad = true;
  meta->grad = *Tensor::zeros({3}, DType::F64);
  b.setAutogradMeta(meta);
  auto opt = optim::SGD::create({a, b}, {.lr = 0.1});
  ASSERT_TRUE(opt.ok());
  EXPECT_ERROR_MENTIONS((*opt)->step(), "SGD: parameter 1 (group 0): gradient f64[3]");
  EXPECT_TRUE(closeTo(a, {1.0, 2.0}, {0, 0})) << "a was updated before the error";
}

} // namespace
} // namespace kiln::test
