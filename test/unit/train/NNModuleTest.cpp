//===- NNModuleTest.cpp - nn::Module, modes, tying, training, errors -------===//
#include "NNTestUtil.h"

#include "kiln/NNOps.h"

#include <functional>
#include <set>

using namespace kiln;
using namespace kiln::nn;
using kiln::nn::test::closeTo;
using kiln::nn::test::fill;
using kiln::nn::test::must;

namespace {

std::vector<std::string> keys(const NamedTensors &named) {
  std::vector<std::string> out;
  for (auto &[name, t] : named)
    out.push_back(name);
  return out;
}

/// The status of an Expected that must have failed, for message checks.
template <typename T> Status failure(const Expected<T> &e) {
  EXPECT_FALSE(e.ok()) << "expected an error";
  return e.ok() ? Status() : e.status();
}

//===----------------------------------------------------------------------===//
// Names, buffers, state dicts
//===----------------------------------------------------------------------===//

TEST(NNModule, NestedNamesFollowPyTorch) {
  Generator gen(0);
  auto conv = must(Conv2d::create({.inChannels = 1, .outChannels = 2,
                                   .kernelSize = {3, 3}},
                                  gen));
  auto bn = must(BatchNorm2d::create({.numFeatures = 2}));
  auto relu = must(Activation::create("relu"));
  auto flat = must(Flatten::create());
  auto fc = must(Linear::create({.inFeatures = 8, .outFeatures = 3}, gen));
  auto net = must(Sequential::create({conv, bn, relu, flat, fc}));
  EXPECT_EQ(keys(net->namedParameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight",
                                      "1.bias", "4.weight", "4.bias"}));
  EXPECT_EQ(keys(net->namedBuffers()),
            (std::vector<std::string>{"1.running_mean", "1.running_var",
                                      "1.num_batches_tracked"}));
  // PyTorch's state_dict order: each module's parameters, then its buffers.
  EXPECT_EQ(keys(net->stateDict()),
            (std::vector<std::string>{
                "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                "1.running_var", "1.num_batches_tracked", "4.weight", "4.bias"}));
  EXPECT_EQ(net->numParameters(), 2 * 9 + 2 + 2 + 2 + 8 * 3 + 3);
  EXPECT_EQ(relu->typeName(), "ReLU");
  EXPECT_EQ(net->child("4").get(), fc.get());
  EXPECT_TRUE(net->parameter("4.weight").sharesStorageWith(fc->weight()));
  EXPECT_FALSE(net->parameter("4.nope").defined());
  EXPECT_FALSE(net->parameter("9.weight").defined());
  for (const Tensor &p : net->parameters()) {
    EXPECT_TRUE(p.requiresGrad());
    EXPECT_TRUE(p.isLeaf());
  }
  for (const Tensor &b : net->buffers())
    EXPECT_FALSE(b.requiresGrad());

  Tensor x = fill({2, 1, 4, 4}, 3);
  EXPECT_EQ(must(net->forward(x)).shape(), (Shape{2, 3}));

  auto encoder = must(TransformerEncoder::create(
      {.dModel = 8, .nHead = 2, .dimFeedforward = 16}, 2, true, gen));
  std::vector<std::string> names = keys(encoder->namedParameters());
  EXPECT_EQ(names.front(), "layers.0.self_attn.in_proj_weight");
  EXPECT_EQ(names.back(), "norm.bias");
  EXPECT_EQ(names.size(), 2 * 12 + 2u);
  // The layers start from identical weights (PyTorch deep-copies one).
  EXPECT_TRUE(closeTo(encoder->parameter("layers.1.linear1.weight"),
                      encoder->parameter("layers.0.linear1.weight"), {0, 0}));
  EXPECT_FALSE(encoder->parameter("layers.1.linear1.weight")
                   .sharesStorageWith(encoder->parameter("layers.0.linear1.weight")));
}

TEST(NNModule, LoadStateDict) {
  Generator gen(0);
  auto a = must(Linear::create({.inFeatures = 3, .outFeatures = 2}, gen));
  auto b = must(Linear::create({.inFeatures = 3, .outFeatures = 2}, gen));
  EXPECT_FALSE(closeTo(a->weight(), b->weight(), {0, 0}));
  must(b->loadStateDict(a->stateDict()));
  EXPECT_TRUE(closeTo(b->weight(), a->weight(), {0, 0}));
  EXPECT_FALSE(b->weight().sharesStorageWith(a->weight()));

  Status missing = b->loadStateDict({{"weight", a->weight()}});
  EXPECT_EQ(missing.code(), StatusCode::InvalidArgument);
  EXPECT_NE(missing.message().find("missing keys 'bias'"), std::string::npos)
      << missing;
  Status unexpected = b->loadStateDict(
      {{"weight", a->weight()}, {"bias", a->bias()}, {"scale", a->bias()}});
  EXPECT_NE(unexpected.message().find("unexpected keys 'scale'"), std::string::npos)
      << unexpected;
  Status shape = b->loadStateDict({{"weight", a->bias()}}, false);
  EXPECT_NE(shape.message().find("'weight' is f32[2, 3], got f32[2]"),
            std::string::npos)
      << shape;
  must(b->loadStateDict({{"bias", must(Tensor::zeros({2}, DType::F64))}}, false));
  EXPECT_EQ(b->bias().toDoubles(), (std::vector<double>{0, 0}));
}

TEST(NNModule, TrainEvalRecursesAndZeroGrad) {
  Generator gen(0);
  auto drop = must(Dropout::create({.p = 0.5}));
  auto fc = must(Linear::create({.inFeatures = 4, .outFeatures = 4}, gen));
  auto inner = must(Sequential::create({fc, drop}));
  auto net = must(Sequential::create({inner}));
  EXPECT_TRUE(drop->isTraining());
  net->eval();
  EXPECT_FALSE(drop->isTraining());
  EXPECT_FALSE(fc->isTraining());
  net->train();
  EXPECT_TRUE(drop->isTraining());

  Tensor y = must(net->forward(fill({3, 4}, 1)));
  must(must(sum(y)).backward());
  EXPECT_TRUE(fc->weight().grad().defined());
  net->zeroGrad();
  EXPECT_FALSE(fc->weight().grad().defined());
  EXPECT_FALSE(fc->bias().grad().defined());
}

//===----------------------------------------------------------------------===//
// Train and eval behaviour
//===----------------------------------------------------------------------===//

TEST(NNModule, DropoutTrainAndEval) {
  auto drop = must(Dropout::create({.p = 0.25, .seed = 9}));
  Tensor x = must(Tensor::full({64, 64}, 2.0, DType::F32));
  Tensor a = must(drop->forward(x));
  Tensor b = must(drop->forward(x));
  int64_t zeros = 0;
  for (double v : a.toDoubles()) {
    EXPECT_TRUE(v == 0.0 || std::fabs(v - 2.0 / 0.75) < 1e-6) << v;
    zeros += v == 0.0;
  }
  // 4096 draws of p = 0.25: 1024 expected, sd ~28.
  EXPECT_NEAR(double(zeros), 1024.0, 150.0);
  EXPECT_NE(a.toDoubles(), b.toDoubles()) << "a fresh mask per call";
  // The same seed replays the same masks.
  auto again = must(Dropout::create({.p = 0.25, .seed = 9}));
  EXPECT_EQ(must(again->forward(x)).toDoubles(), a.toDoubles());
  EXPECT_EQ(must(again->forward(x)).toDoubles(), b.toDoubles());
  // Eval is the identity.
  drop->eval();
  EXPECT_EQ(must(drop->forward(x)).toDoubles(), x.toDoubles());
  // p = 1 drops everything; p = 0 nothing.
  EXPECT_EQ(must(sum(must(must(Dropout::create({.p = 1.0}))->forward(x)))).item().value(), 0.0);
  EXPECT_EQ(must(must(Dropout::create({.p = 0.0}))->forward(x)).toDoubles(),
            x.toDoubles());
  // Gradients flow through the kept elements only, scaled.
  Tensor w = must(Tensor::full({8, 8}, 1.0, DType::F32));
  must(w.setRequiresGrad());
  drop->train();
  Tensor y = must(drop->forward(w));
  must(must(sum(y)).backward());
  EXPECT_EQ(w.grad().toDoubles(), must(y.detach().clone()).toDoubles());
}

TEST(NNModule, BatchNormTrainUsesBatchEvalUsesRunning) {
  auto bn = must(BatchNorm1d::create({.numFeatures = 2, .momentum = 0.5}));
  Tensor x = must(Tensor::fromVector<float>({1, 10, 3, 20, 5, 30}, {3, 2}));
  Tensor y = must(bn->forward(x));
  // Batch statistics: each column normalized to mean 0, biased var 1.
  std::vector<double> v = y.toDoubles();
  EXPECT_NEAR(v[0] + v[2] + v[4], 0.0, 1e-5);
  EXPECT_NEAR(v[0] * v[0] + v[2] * v[2] + v[4] * v[4], 3.0, 1e-3);
  // running = 0.5 * init + 0.5 * batch (unbiased variance: 4 and 100).
  EXPECT_TRUE(closeTo(bn->runningMean(),
                      must(Tensor::fromVector<double>({1.5, 10}, {2})), {1e-6, 1e-6}));
  EXPECT_TRUE(closeTo(bn->runningVar(),
                      must(Tensor::fromVector<double>({2.5, 50.5}, {2})), {1e-6, 1e-6}));
  bn->eval();
  Tensor z = must(bn->forward(x));
  EXPECT_NEAR(z.toDoubles()[0], (1 - 1.5) / std::sqrt(2.5 + 1e-5), 1e-5);
  // Without running statistics, eval normalizes with the batch too.
  auto noStats = must(BatchNorm1d::create({.numFeatures = 2, .trackRunningStats = false}));
  EXPECT_TRUE(noStats->namedBuffers().empty());
  noStats->eval();
  EXPECT_TRUE(closeTo(must(noStats->forward(x)), y, {1e-6, 1e-6}));
  // Training needs more than one value per channel.
  bn->train();
  Status one = failure(bn->forward(must(x.slice(0, 0, 1))));
  EXPECT_NE(one.message().find("more than one value per channel"), std::string::npos)
      << one;
}

TEST(NNModule, TransformerDropoutOnlyWhileTraining) {
  Generator gen(4);
  auto layer = must(TransformerEncoderLayer::create(
      {.dModel = 8, .nHead = 2, .dimFeedforward = 16, .dropout = 0.3}, gen));
  Generator gen2(4);
  auto noDrop = must(TransformerEncoderLayer::create(
      {.dModel = 8, .nHead = 2, .dimFeedforward = 16, .dropout = 0.0}, gen2));
  must(noDrop->loadStateDict(layer->stateDict()));
  Tensor x = fill({2, 3, 8}, 1);
  Tensor a = must(layer->forward(x)), b = must(layer->forward(x));
  EXPECT_NE(a.toDoubles(), b.toDoubles());
  layer->eval();
  Tensor c = must(layer->forward(x)), d = must(layer->forward(x));
  EXPECT_EQ(c.toDoubles(), d.toDoubles());
  EXPECT_TRUE(closeTo(c, must(noDrop->forward(x)), {1e-6, 1e-6}));
}

/// Central differences of sum(f(x) * c) w.r.t. some elements of a f64
/// parameter, against backward(): DESIGN.md's gradient rule (eps 1e-6,
/// atol 1e-5, rtol 1e-3), at the layer level.
void finiteDifferenceCheck(Module &m, const std::string &param,
                           const std::function<Tensor()> &loss) {
  Tensor p = m.parameter(param);
  ASSERT_TRUE(p.defined()) << param;
  m.zeroGrad();
  must(loss().backward());
  std::vector<double> analytic = p.grad().toDoubles();
  autograd::NoGradGuard noGrad;
  for (int64_t i = 0; i < p.numel(); i += std::max<int64_t>(1, p.numel() / 7)) {
    Tensor flat = must(p.view({-1}));
    double v = must(flat.at({i}));
    must(flat.set(std::vector<int64_t>{i}, v + 1e-6));
    double up = must(loss().item());
    must(flat.set(std::vector<int64_t>{i}, v - 1e-6));
    double down = must(loss().item());
    must(flat.set(std::vector<int64_t>{i}, v));
    double numeric = (up - down) / 2e-6;
    EXPECT_NEAR(analytic[size_t(i)], numeric, 1e-5 + 1e-3 * std::fabs(numeric))
        << param << "[" << i << "]";
  }
}

TEST(NNModule, F64LayersMatchFiniteDifferences) {
  Generator gen(10);
  auto gru = must(GRU::create({.inputSize = 3, .hiddenSize = 4, .numLayers = 2,
                               .dtype = DType::F64},
                              gen));
  Tensor x = fill({2, 4, 3}, 3, 1.0, DType::F64);
  auto gruLoss = [&] {
    Tensor y = must(gru->forward(x));
    return must(sum(y * fill(y.shape(), 5, 0.5, DType::F64)));
  };
  finiteDifferenceCheck(*gru, "weight_hh_l0", gruLoss);
  finiteDifferenceCheck(*gru, "bias_ih_l1", gruLoss);

  auto enc = must(TransformerEncoderLayer::create(
      {.dModel = 4, .nHead = 2, .dimFeedforward = 8, .dropout = 0.0,
       .activation = "gelu", .normFirst = true, .dtype = DType::F64},
      gen));
  Tensor s = fill({2, 3, 4}, 4, 1.0, DType::F64);
  auto encLoss = [&] {
    Tensor y = must(enc->forward(s, {.isCausal = true}));
    return must(sum(y * fill(y.shape(), 6, 0.5, DType::F64)));
  };
  finiteDifferenceCheck(*enc, "self_attn.in_proj_weight", encLoss);
  finiteDifferenceCheck(*enc, "norm2.weight", encLoss);

  auto bn = must(BatchNorm2d::create({.numFeatures = 2, .dtype = DType::F64}));
  auto conv = must(Conv2d::create({.inChannels = 2, .outChannels = 2,
                                   .kernelSize = {2, 2}, .dtype = DType::F64},
                                  gen));
  auto net = must(Sequential::create({conv, bn}));
  Tensor img = fill({3, 2, 3, 3}, 7, 1.0, DType::F64);
  auto netLoss = [&] {
    Tensor y = must(net->forward(img));
    Tensor c = fill(y.shape(), 8, 0.5, DType::F64);
    return must(sum(must(y * y) * c));
  };
  finiteDifferenceCheck(*net, "0.weight", netLoss);
  finiteDifferenceCheck(*net, "1.bias", netLoss);
}

//===----------------------------------------------------------------------===//
// Weight tying
//===----------------------------------------------------------------------===//

TEST(NNModule, TiedEmbeddingAndHeadSumGradients) {
  Generator gen(3);
  auto embed = must(Embedding::create({.numEmbeddings = 6, .embeddingDim = 4}, gen));
  auto head = must(Linear::create({.inFeatures = 4, .outFeatures = 6, .bias = false}, gen));
  must(head->setParameter("weight", embed->weight()));
  auto model = must(ModuleList::create({embed, head}));
  // Listed once (PyTorch's named_parameters), saved under both names.
  EXPECT_EQ(keys(model->namedParameters()), (std::vector<std::string>{"0.weight"}));
  EXPECT_EQ(keys(model->stateDict()),
            (std::vector<std::string>{"0.weight", "1.weight"}));
  EXPECT_EQ(model->numParameters(), 24);

  Tensor idx = must(Tensor::fromVector<int64_t>({1, 4, 4, 0}, {4}));
  Tensor labels = must(Tensor::fromVector<int64_t>({2, 1, 5, 4}, {4}));
  auto lossOf = [&](Embedding &e, Linear &h) {
    Tensor logits = must(h.forward(must(e.forward(idx))));
    return must(crossEntropyLoss(logits, labels));
  };
  must(lossOf(*embed, *head).backward());
  Tensor tied = embed->weight().grad();
  ASSERT_TRUE(tied.defined());
  EXPECT_TRUE(head->weight().grad().sharesStorageWith(tied) ||
              closeTo(head->weight().grad(), tied, {0, 0}));

  // Untied copies with the same values: the tied grad is their sum.
  auto e2 = must(Embedding::create({.numEmbeddings = 6, .embeddingDim = 4}, gen));
  auto h2 = must(Linear::create({.inFeatures = 4, .outFeatures = 6, .bias = false}, gen));
  must(e2->loadStateDict(embed->stateDict()));
  must(h2->loadStateDict({{"weight", embed->weight()}}));
  must(lossOf(*e2, *h2).backward());
  Tensor summed = must(e2->weight().grad() + h2->weight().grad());
  EXPECT_TRUE(closeTo(tied, summed, {1e-6, 1e-7}));
  // Both parts contribute: neither alone is the sum.
  EXPECT_FALSE(closeTo(tied, e2->weight().grad(), {1e-6, 1e-7}));
  EXPECT_FALSE(closeTo(tied, h2->weight().grad(), {1e-6, 1e-7}));

  Status wrong = head->setParameter("weight", must(Tensor::zeros({4, 6}, DType::F32)));
  EXPECT_EQ(wrong.code(), StatusCode::InvalidArgument);
  EXPECT_EQ(head->setParameter("scale", embed->weight()).code(), StatusCode::NotFound);
}

//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

/// p <- p - lr * grad for every parameter, written in place.
void sgdStep(Module &m, double lr) {
  autograd::NoGradGuard noGrad;
  for (Tensor &p : m.parameters()) {
    ASSERT_TRUE(p.grad().defined());
    must(p.copyFrom(must(p - p.grad() * lr)));
  }
}

TEST(NNTraining, XorWithSgd) {
  Generator gen(5);
  auto net = must(Sequential::create(
      {must(Linear::create({.inFeatures = 2, .outFeatures = 8}, gen)),
       must(Activation::create("tanh")),
       must(Linear::create({.inFeatures = 8, .outFeatures = 1}, gen))}));
  Tensor x = must(Tensor::fromVector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}));
  Tensor y = must(Tensor::fromVector<float>({0, 1, 1, 0}, {4, 1}));
  double first = 0, last = 0;
  for (int step = 0; step < 400; ++step) {
    net->zeroGrad();
    Tensor loss = must(bceWithLogitsLoss(must(net->forward(x)), y));
    must(loss.backward());
    sgdStep(*net, 0.5);
    last = must(loss.item());
    if (step == 0)
      first = last;
  }
  EXPECT_LT(last, 0.1 * first) << "first " << first << ", last " << last;
  net->eval();
  std::vector<double> out = must(net->forward(x)).toDoubles();
  EXPECT_LT(out[0], 0);
  EXPECT_GT(out[1], 0);
  EXPECT_GT(out[2], 0);
  EXPECT_LT(out[3], 0);
}

TEST(NNTraining, LinearRegressionRecoversWeights) {
  Generator gen(6);
  auto fc = must(Linear::create({.inFeatures = 3, .outFeatures = 1}, gen));
  Tensor x = must(gen.uniform({32, 3}, -1, 1, DType::F32));
  Tensor trueW = must(Tensor::fromVector<float>({0.5f, -1.0f, 2.0f}, {3, 1}));
  Tensor y = must(matmul(x, trueW) + 0.25);
  for (int step = 0; step < 300; ++step) {
    fc->zeroGrad();
    must(must(mseLoss(must(fc->forward(x)), y)).backward());
    sgdStep(*fc, 0.2);
  }
  EXPECT_TRUE(closeTo(fc->weight(), must(trueW.reshape({1, 3})), {0, 1e-3}));
  EXPECT_TRUE(closeTo(fc->bias(), must(Tensor::full({1}, 0.25, DType::F32)), {0, 1e-3}));
}

TEST(NNTraining, SmallCnnLossDecreases) {
  Generator gen(7);
  auto net = must(Sequential::create(
      {must(Conv2d::create({.inChannels = 1, .outChannels = 4,
                            .kernelSize = {3, 3}, .padding = {1, 1}},
                           gen)),
       must(BatchNorm2d::create({.numFeatures = 4})),
       must(Activation::create("relu")),
       must(MaxPool2d::create({.kernelSize = {2, 2}})),
       must(Flatten::create()),
       must(Linear::create({.inFeatures = 16, .outFeatures = 2}, gen))}));
  // Two classes: a bright top half or a bright bottom half.
  Tensor x = must(Tensor::zeros({8, 1, 4, 4}, DType::F32));
  std::vector<int64_t> labels;
  for (int64_t n = 0; n < 8; ++n) {
    labels.push_back(n % 2);
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 4; ++j)
        must(x.set(std::vector<int64_t>{n, 0, n % 2 ? i + 2 : i, j},
                   1.0 + 0.1 * double(n)));
  }
  Tensor target = must(Tensor::fromVector<int64_t>(labels, {8}));
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    net->zeroGrad();
    Tensor loss = must(crossEntropyLoss(must(net->forward(x)), target,
                                        {.labelSmoothing = 0.05}));
    must(loss.backward());
    sgdStep(*net, 0.1);
    last = must(loss.item());
    if (step == 0)
      first = last;
  }
  EXPECT_LT(last, 0.5 * first) << "first " << first << ", last " << last;
}

TEST(NNTraining, LstmLearnsToEchoTheFirstInput) {
  Generator gen(8);
  auto lstm = must(LSTM::create({.inputSize = 1, .hiddenSize = 8}, gen));
  auto head = must(Linear::create({.inFeatures = 8, .outFeatures = 1}, gen));
  auto model = must(ModuleList::create({lstm, head}));
  Tensor x = fill({8, 4, 1}, 2, 1.0);
  Tensor y = must(must(x.select(1, 0)).contiguous());
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    model->zeroGrad();
    RecurrentOutput r = must(lstm->forward(x, {}));
    Tensor pred = must(head->forward(must(r.h.select(0, 0))));
    Tensor loss = must(mseLoss(pred, y));
    must(loss.backward());
    sgdStep(*model, 0.3);
    last = must(loss.item());
    if (step == 0)
      first = last;
  }
  EXPECT_LT(last, 0.5 * first) << "first " << first << ", last " << last;
}

//===----------------------------------------------------------------------===//
// Initialisation
//===----------------------------------------------------------------------===//

TEST(NNInit, DefaultsFollowPyTorchBounds) {
  Generator gen(11);
  auto fc = must(Linear::create({.inFeatures = 100, .outFeatures = 50}, gen));
  auto maxAbs = [](const Tensor &t) {
    double m = 0;
    for (double v : t.toDoubles())
      m = std::max(m, std::fabs(v));
    return m;
  };
  EXPECT_LE(maxAbs(fc->weight()), 0.1);
  EXPECT_GT(maxAbs(fc->weight()), 0.09);
  EXPECT_LE(maxAbs(fc->bias()), 0.1);
  auto conv = must(Conv2d::create({.inChannels = 4, .outChannels = 8,
                                   .kernelSize = {3, 3}, .groups = 2},
                                  gen));
  EXPECT_LE(maxAbs(conv->weight()), 1.0 / std::sqrt(18.0));
  auto lstm = must(LSTM::create({.inputSize = 3, .hiddenSize = 16}, gen));
  for (const Tensor &p : lstm->parameters())
    EXPECT_LE(maxAbs(p), 0.25);
  auto mha = must(MultiheadAttention::create({.embedDim = 16, .numHeads = 4}, gen));
  EXPECT_LE(maxAbs(mha->parameter("in_proj_weight")), std::sqrt(6.0 / 64));
  EXPECT_EQ(maxAbs(mha->parameter("in_proj_bias")), 0.0);
  EXPECT_EQ(maxAbs(mha->parameter("out_proj.bias")), 0.0);
  auto bn = must(BatchNorm2d::create({.numFeatures = 3}));
  EXPECT_EQ(bn->weight().toDoubles(), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(bn->runningVar().toDoubles(), (std::vector<double>{1, 1, 1}));

  // Same seed, same model; another seed, another.
  Generator g1(42), g2(42), g3(43);
  auto a = must(Linear::create({.inFeatures = 5, .outFeatures = 5}, g1));
  auto b = must(Linear::create({.inFeatures = 5, .outFeatures = 5}, g2));
  auto c = must(Linear::create({.inFeatures = 5, .outFeatures = 5}, g3));
  EXPECT_EQ(a->weight().toDoubles(), b->weight().toDoubles());
  EXPECT_NE(a->weight().toDoubles(), c->weight().toDoubles());
}

TEST(NNInit, Statistics) {
  Generator gen(12);
  Tensor w = must(Tensor::zeros({200, 300}, DType::F64));
  auto stddev = [](const Tensor &t) {
    double s = 0, s2 = 0;
    std::vector<double> v = t.toDoubles();
    for (double x : v) {
      s += x;
      s2 += x * x;
    }
    double m = s / double(v.size());
    return std::sqrt(s2 / double(v.size()) - m * m);
  };
  must(init::xavierNormal(w, gen));
  EXPECT_NEAR(stddev(w), std::sqrt(2.0 / 500), 0.002);
  must(init::xavierUniform(w, gen, 2.0));
  EXPECT_NEAR(stddev(w), 2.0 * std::sqrt(6.0 / 500) / std::sqrt(3.0), 0.002);
  must(init::kaimingNormal(w, gen, 0.0, init::FanMode::FanIn, "relu"));
  EXPECT_NEAR(stddev(w), std::sqrt(2.0 / 300), 0.002);
  must(init::kaimingUniform(w, gen, 0.0, init::FanMode::FanOut, "relu"));
  EXPECT_NEAR(stddev(w), std::sqrt(2.0 / 200), 0.002);
  EXPECT_NEAR(must(init::gain("tanh")), 5.0 / 3.0, 1e-12);
  EXPECT_NEAR(must(init::gain("leaky_relu", std::sqrt(5.0))), std::sqrt(1.0 / 3.0), 1e-12);
  EXPECT_EQ(failure(init::gain("swish")).code(), StatusCode::InvalidArgument);
  Tensor v = must(Tensor::zeros({5}, DType::F32));
  EXPECT_EQ(init::xavierUniform(v, gen).code(), StatusCode::InvalidArgument);
  Tensor ints = must(Tensor::zeros({5, 5}, DType::I32));
  EXPECT_EQ(init::normal(ints, 0, 1, gen).code(), StatusCode::InvalidArgument);
}

//===----------------------------------------------------------------------===//
// Bad input
//===----------------------------------------------------------------------===//

void expectError(const Status &s, StatusCode code, const std::string &text) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_NE(s.message().find(text), std::string::npos)
      << "message \"" << s.message() << "\" lacks \"" << text << "\"";
}

TEST(NNErrors, BadInputsNameTheLayerAndShape) {
  Generator gen(0);
  auto fc = must(Linear::create({.inFeatures = 4, .outFeatures = 2}, gen));
  expectError(failure(fc->forward(fill({3, 5}, 0))), StatusCode::InvalidArgument,
              "Linear: expected input [..., 4], got f32[3, 5]");
  expectError(failure(fc->forward(fill({3, 4}, 0, 0.5, DType::F64))),
              StatusCode::InvalidArgument, "Linear: input has dtype f64");
  expectError(failure(fc->forward(Tensor())), StatusCode::InvalidArgument,
              "Linear: input is undefined");

  auto conv = must(Conv2d::create({.inChannels = 3, .outChannels = 2,
                                   .kernelSize = {3, 3}},
                                  gen));
  expectError(failure(conv->forward(fill({1, 2, 5, 5}, 0))),
              StatusCode::InvalidArgument,
              "Conv2d: expected 3 input channels, got input f32[1, 2, 5, 5]");
  expectError(failure(conv->forward(fill({3, 5}, 0))), StatusCode::InvalidArgument,
              "Conv2d: expected input [N, C, H, W] or [C, H, W] with C = 3");
  EXPECT_EQ(must(conv->forward(fill({3, 5, 5}, 0))).shape(), (Shape{2, 3, 3}));

  auto bn = must(BatchNorm2d::create({.numFeatures = 3}));
  expectError(failure(bn->forward(fill({2, 4, 2, 2}, 0))),
              StatusCode::InvalidArgument,
              "BatchNorm2d: expected input [N, C, H, W] with C = 3, got "
              "f32[2, 4, 2, 2]");
  auto ln = must(LayerNorm::create({.normalizedShape = {4}}));
  expectError(failure(ln->forward(fill({2, 3}, 0))), StatusCode::InvalidArgument,
              "LayerNorm: expected input [..., 4], got f32[2, 3]");

  auto emb = must(Embedding::create({.numEmbeddings = 5, .embeddingDim = 2}, gen));
  expectError(failure(emb->forward(must(Tensor::fromVector<int64_t>({1, 5}, {2})))),
              StatusCode::OutOfRange, "Embedding: op 'embedding': index 5 at position 1 is out of range");
  expectError(failure(emb->forward(fill({2}, 0))), StatusCode::InvalidArgument,
              "Embedding: indices have dtype f32");

  auto lstm = must(LSTM::create({.inputSize = 3, .hiddenSize = 4}, gen));
  expectError(failure(lstm->forward(fill({2, 5, 2}, 0))),
              StatusCode::InvalidArgument,
              "LSTM: expected input [N, T, 3] or [T, 3], got f32[2, 5, 2]");
  expectError(failure(lstm->forward(fill({2, 5, 3}, 0),
                                    {.h = fill({1, 3, 4}, 0)})),
              StatusCode::InvalidArgument,
              "LSTM: initial h must be f32[1, 2, 4], got f32[1, 3, 4]");

  auto mha = must(MultiheadAttention::create({.embedDim = 8, .numHeads = 2}, gen));
  expectError(failure(mha->forward(fill({2, 3, 6}, 0))),
              StatusCode::InvalidArgument,
              "MultiheadAttention: expected query [N, L, 8]");
  Tensor x = fill({2, 3, 8}, 0);
  expectError(failure(mha->forward(x, x, x, {.attnMask = fill({3, 4}, 0)})),
              StatusCode::InvalidArgument,
              "attnMask must be [3, 3] or [4, 3, 3], got f32[3, 4]");

  auto module = must(ModuleList::create({fc}));
  expectError(failure(module->forward(x)), StatusCode::FailedPrecondition,
              "ModuleList: forward(Tensor) is not defined");
  auto net = must(Sequential::create({fc}));
  expectError(failure(net->forward(x)), StatusCode::InvalidArgument,
              "Sequential layer 0 (Linear): Linear: expected input");
  EXPECT_EQ(failure(Sequential::create({nullptr})).code(), StatusCode::InvalidArgument);
}

TEST(NNErrors, BadOptions) {
  Generator gen(0);
  expectError(failure(Conv2d::create({.inChannels = 3, .outChannels = 4,
                                      .kernelSize = {3, 3}, .groups = 2},
                                     gen)),
              StatusCode::InvalidArgument, "divisible by groups (2)");
  expectError(failure(MultiheadAttention::create({.embedDim = 6, .numHeads = 4}, gen)),
              StatusCode::InvalidArgument, "divisible by numHeads (4)");
  expectError(failure(Dropout::create({.p = 1.5})), StatusCode::InvalidArgument,
              "Dropout: p must be in [0, 1], got 1.5");
  expectError(failure(Activation::create("swish")), StatusCode::InvalidArgument,
              "unknown kind 'swish'");
  expectError(failure(TransformerEncoderLayer::create(
                  {.dModel = 8, .nHead = 2, .activation = "tanh"}, gen)),
              StatusCode::InvalidArgument, "activation must be");
  expectError(failure(Linear::create({.inFeatures = 2, .outFeatures = 2,
                                      .dtype = DType::I32},
                                     gen)),
              StatusCode::InvalidArgument, "Linear: dtype i32 is not a float");
  expectError(failure(LSTM::create({.inputSize = 0, .hiddenSize = 4}, gen)),
              StatusCode::InvalidArgument, "LSTM: inputSize, hiddenSize");
}

TEST(NNErrors, LossArguments) {
  Tensor logits = fill({3, 4}, 0);
  Tensor labels = must(Tensor::fromVector<int64_t>({0, 4, 1}, {3}));
  expectError(failure(crossEntropyLoss(logits, labels)), StatusCode::OutOfRange,
              "crossEntropyLoss: op 'cross_entropy': label 4 of sample 1 is outside [0, 4)");
  Tensor good = must(Tensor::fromVector<int64_t>({0, 3, 1}, {3}));
  expectError(failure(crossEntropyLoss(fill({3}, 0), good)),
              StatusCode::InvalidArgument,
              "crossEntropyLoss: op 'cross_entropy': expected inputs [N, C] "
              "and labels [N], got [3] and [3]");
  expectError(failure(crossEntropyLoss(logits, must(good.slice(0, 0, 2)))),
              StatusCode::InvalidArgument, "got [3, 4] and [2]");
  expectError(failure(crossEntropyLoss(logits, good, {.reduction = "avg"})),
              StatusCode::InvalidArgument, "reduction must be");
  expectError(failure(crossEntropyLoss(logits, good, {.labelSmoothing = 2})),
              StatusCode::InvalidArgument, "label smoothing 2 outside [0, 1]");
  expectError(failure(mseLoss(logits, fill({4, 3}, 0))), StatusCode::InvalidArgument,
              "mseLoss: op 'mse': shapes [3, 4] and [4, 3] differ");
}

} // namespace
