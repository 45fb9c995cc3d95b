//===- NNLayersTest.cpp - kiln::nn layers against PyTorch ------------------===//
//
// Every layer runs with the weights and inputs of gen/nn_reference.py (one
// fill formula on both sides) and its output, and the gradients of
// sum(output * c) for a fixed c, are compared with PyTorch's, computed in
// f64 and pasted into NNReference.inc. The layers run in f32, so the
// tolerance is DESIGN.md's f32 one widened for the chains of reductions a
// layer runs (softmax over keys, two LayerNorms, ten recurrent steps):
// rtol 5e-5, atol 2e-5.
//
//===----------------------------------------------------------------------===//
#include "NNTestUtil.h"

#include <cstring>
#include <functional>

using namespace kiln;
using namespace kiln::nn;
using kiln::nn::test::closeTo;
using kiln::nn::test::fill;
using kiln::nn::test::fillParameters;
using kiln::nn::test::must;

namespace {

struct RefTensor {
  const char *key;
  std::vector<int64_t> shape;
  std::vector<double> values;
};
struct RefParamNames {
  const char *name;
  std::vector<const char *> params;
};
#include "NNReference.inc"

const ref::Tolerance kTol = {5e-5, 2e-5};

Tensor reference(const std::string &key) {
  for (const RefTensor &r : kRefTensors)
    if (key == r.key)
      return must(Tensor::fromDoubles(r.values, r.shape, DType::F64));
  ADD_FAILURE() << "no reference tensor '" << key << "'";
  return Tensor();
}

/// namedParameters() names equal PyTorch's named_parameters().
void expectPyTorchNames(const std::string &name, const Module &m) {
  for (const RefParamNames &r : kRefNames) {
    if (name != r.name)
      continue;
    std::vector<std::string> want(r.params.begin(), r.params.end()), got;
    for (auto &[n, p] : m.namedParameters())
      got.push_back(n);
    EXPECT_EQ(got, want) << name;
    return;
  }
  ADD_FAILURE() << "no reference names for '" << name << "'";
}

/// loss = sum(y * c), c = fill(y.shape, k): the cotangent the generator used.
Tensor cotangentLoss(const Tensor &y, int64_t k = 7) {
  return must(sum(y * fill(y.shape(), k, 0.5, y.dtype())));
}

void expectGrads(const std::string &name, const Module &m, const Tensor &x) {
  for (auto &[n, p] : m.namedParameters())
    EXPECT_TRUE(closeTo(p.grad(), reference(name + ".grad." + n), kTol))
        << name << " grad of " << n;
  if (x.defined()) {
    EXPECT_TRUE(closeTo(x.grad(), reference(name + ".grad.input"), kTol))
        << name << " grad of the input";
  }
}

/// Fills `m`, runs it on `x` and checks the output and, with `grads`, the
/// gradients of every parameter and of x.
void checkLayer(const std::string &name, Module &m, Tensor x, bool grads = true,
                double scale = 0.5) {
  expectPyTorchNames(name, m);
  fillParameters(m, scale);
  if (grads)
    must(x.setRequiresGrad());
  Tensor y = must(m.forward(x));
  EXPECT_TRUE(closeTo(y, reference(name + ".out"), kTol)) << name;
  if (!grads)
    return;
  ASSERT_TRUE(y.requiresGrad()) << name << ": output records no gradient";
  must(cotangentLoss(y).backward());
  expectGrads(name, m, x);
}

TEST(NNLayers, Linear) {
  Generator gen(1);
  auto m = must(Linear::create({.inFeatures = 5, .outFeatures = 3}, gen));
  checkLayer("linear", *m, fill({2, 4, 5}, 11));
}

TEST(NNLayers, Conv2d) {
  Generator gen(1);
  auto m = must(Conv2d::create({.inChannels = 3, .outChannels = 4,
                                .kernelSize = {3, 3}, .stride = {2, 2},
                                .padding = {1, 1}},
                               gen));
  checkLayer("conv2d", *m, fill({2, 3, 7, 6}, 12));
}

TEST(NNLayers, Conv2dGroupsDilationNoBias) {
  Generator gen(1);
  auto m = must(Conv2d::create({.inChannels = 4, .outChannels = 6,
                                .kernelSize = {3, 2}, .stride = {1, 2},
                                .padding = {1, 0}, .dilation = {2, 1},
                                .groups = 2, .bias = false},
                               gen));
  checkLayer("conv2d_groups", *m, fill({1, 4, 7, 6}, 13));
}

TEST(NNLayers, ConvTranspose2d) {
  Generator gen(1);
  auto m = must(ConvTranspose2d::create(
      {.inChannels = 4, .outChannels = 2, .kernelSize = {3, 3},
       .stride = {2, 2}, .padding = {1, 1}, .outputPadding = {1, 1}},
      gen));
  checkLayer("conv_transpose2d", *m, fill({1, 4, 3, 3}, 14));
}

TEST(NNLayers, Pooling) {
  auto maxPool = must(MaxPool2d::create(
      {.kernelSize = {3, 3}, .stride = Pair{2, 2}, .padding = {1, 1}}));
  checkLayer("maxpool2d", *maxPool, fill({1, 2, 6, 6}, 15), false);
  auto avgPool = must(AvgPool2d::create(
      {.kernelSize = {2, 2}, .stride = Pair{2, 2}, .padding = {1, 1}}));
  checkLayer("avgpool2d", *avgPool, fill({1, 2, 5, 5}, 16), false);
  // Unbatched [C, H, W] input: the batched result without its batch dim.
  Tensor x = fill({2, 6, 6}, 15);
  Tensor y = must(maxPool->forward(x));
  Tensor batched = must(must(maxPool->forward(must(x.reshape({1, 2, 6, 6}))))
                            .reshape({2, 3, 3}));
  EXPECT_TRUE(closeTo(y, batched, {0, 0}));
}

TEST(NNLayers, LayerNorm) {
  auto m = must(LayerNorm::create({.normalizedShape = {3, 4}}));
  checkLayer("layernorm", *m, fill({2, 3, 4}, 17, 2.0));
}

TEST(NNLayers, Embedding) {
  Generator gen(1);
  auto m = must(Embedding::create({.numEmbeddings = 10, .embeddingDim = 4}, gen));
  Tensor idx = must(Tensor::fromVector<int64_t>({1, 3, 5, 9, 0, 2}, {2, 3}));
  checkLayer("embedding", *m, idx, false);
  EXPECT_EQ(must(m->forward(must(idx.to(DType::I32)))).shape(), (Shape{2, 3, 4}));
}

/// A training step (output, gradients, running statistics), then eval with
/// the updated running statistics.
void checkBatchNorm(const std::string &name, std::shared_ptr<BatchNorm> bn,
                    const Shape &shape) {
  checkLayer(name, *bn, fill(shape, 18, 2.0));
  EXPECT_TRUE(closeTo(bn->runningMean(), reference(name + ".running_mean"), kTol));
  EXPECT_TRUE(closeTo(bn->runningVar(), reference(name + ".running_var"), kTol));
  EXPECT_EQ(must(bn->buffer("num_batches_tracked").item()), 1.0);
  bn->eval();
  Tensor y = must(bn->forward(fill(shape, 19, 2.0)));
  EXPECT_TRUE(closeTo(y, reference(name + ".eval_out"), kTol)) << name;
  // Eval leaves the running statistics alone.
  EXPECT_TRUE(closeTo(bn->runningMean(), reference(name + ".running_mean"), kTol));
  EXPECT_EQ(must(bn->buffer("num_batches_tracked").item()), 1.0);
}

TEST(NNLayers, BatchNorm) {
  checkBatchNorm("batchnorm1d_r2", must(BatchNorm1d::create({.numFeatures = 3})),
                 {4, 3});
  checkBatchNorm("batchnorm1d_r3", must(BatchNorm1d::create({.numFeatures = 3})),
                 {4, 3, 2});
  checkBatchNorm("batchnorm2d_r4", must(BatchNorm2d::create({.numFeatures = 3})),
                 {4, 3, 2, 2});
}

void checkRecurrent(const std::string &name, RecurrentBase &rnn) {
  expectPyTorchNames(name, rnn);
  fillParameters(rnn);
  Tensor x = fill({2, 5, 3}, 20);
  must(x.setRequiresGrad());
  RecurrentOutput r = must(rnn.forward(x, {}));
  EXPECT_TRUE(closeTo(r.output, reference(name + ".out"), kTol));
  EXPECT_TRUE(closeTo(r.h, reference(name + ".h"), kTol));
  Tensor loss = must(cotangentLoss(r.output) + cotangentLoss(r.h, 8));
  if (r.c.defined()) {
    EXPECT_TRUE(closeTo(r.c, reference(name + ".c"), kTol));
    loss = must(loss + cotangentLoss(r.c, 9));
  }
  must(loss.backward());
  expectGrads(name, rnn, x);
}

TEST(NNLayers, LSTM) {
  Generator gen(1);
  auto m = must(LSTM::create({.inputSize = 3, .hiddenSize = 4, .numLayers = 2}, gen));
  checkRecurrent("lstm", *m);
}

TEST(NNLayers, GRU) {
  Generator gen(1);
  auto m = must(GRU::create({.inputSize = 3, .hiddenSize = 4, .numLayers = 2}, gen));
  checkRecurrent("gru", *m);
}

TEST(NNLayers, RecurrentLayoutsAndStates) {
  Generator gen(2);
  auto lstm = must(LSTM::create({.inputSize = 3, .hiddenSize = 4, .numLayers = 2}, gen));
  Tensor x = fill({2, 5, 3}, 20);
  RecurrentOutput full = must(lstm->forward(x, {}));
  // Time-major input gives the same numbers, time-major.
  auto tm = must(LSTM::create({.inputSize = 3, .hiddenSize = 4, .numLayers = 2,
                               .batchFirst = false},
                              gen));
  must(tm->loadStateDict(lstm->stateDict()));
  RecurrentOutput t = must(tm->forward(must(must(x.transpose(0, 1)).contiguous()), {}));
  EXPECT_TRUE(closeTo(t.output, must(full.output.transpose(0, 1)), {0, 0}));
  // Running the sequence in two halves, carrying the state, is the same.
  RecurrentOutput a = must(lstm->forward(must(x.slice(1, 0, 2)), {}));
  RecurrentOutput b = must(lstm->forward(must(x.slice(1, 2, 5)), {a.h, a.c}));
  EXPECT_TRUE(closeTo(b.output, must(full.output.slice(1, 2, 5)), kTol));
  EXPECT_TRUE(closeTo(b.h, full.h, kTol));
  // Unbatched [T, in] input: unbatched output and [L, H] states.
  RecurrentOutput u = must(lstm->forward(must(x.select(0, 1)), {}));
  EXPECT_EQ(u.output.shape(), (Shape{5, 4}));
  EXPECT_EQ(u.h.shape(), (Shape{2, 4}));
  EXPECT_TRUE(closeTo(u.output, must(full.output.select(0, 1)), kTol));
}

TEST(NNLayers, MultiheadAttention) {
  Generator gen(1);
  auto mha = must(MultiheadAttention::create({.embedDim = 8, .numHeads = 2}, gen));
  expectPyTorchNames("mha", *mha);
  fillParameters(*mha);
  Tensor q = fill({2, 3, 8}, 21), kv = fill({2, 4, 8}, 22);
  must(q.setRequiresGrad());
  Tensor pad = must(Tensor::fromVector<bool>(
      {false, false, false, true, false, true, false, false}, {2, 4}));
  AttentionOutput out = must(mha->forward(q, kv, kv, {.keyPaddingMask = pad}));
  EXPECT_TRUE(closeTo(out.output, reference("mha.out"), kTol));
  EXPECT_TRUE(closeTo(out.weights, reference("mha.weights"), kTol));
  must(cotangentLoss(out.output).backward());
  expectGrads("mha", *mha, q);

  // Causal self-attention, per-head weights; a bool [L, S] mask and
  // isCausal give the same result.
  Tensor x = fill({2, 4, 8}, 23);
  std::vector<bool> upper;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      upper.push_back(j > i);
  Tensor causal = must(Tensor::fromVector<bool>(upper, {4, 4}));
  AttentionOutput c = must(mha->forward(x, x, x, {.attnMask = causal}, true, false));
  EXPECT_TRUE(closeTo(c.output, reference("mha_causal.out"), kTol));
  EXPECT_TRUE(closeTo(c.weights, reference("mha_causal.weights"), kTol));
  AttentionOutput c2 = must(mha->forward(x, x, x, {.isCausal = true}, false));
  EXPECT_TRUE(closeTo(c2.output, reference("mha_causal.out"), kTol));
  EXPECT_FALSE(c2.weights.defined());
  // A float mask of 0 / -inf is the same as the bool one.
  Tensor additive = must(select(causal, must(Tensor::scalar(-INFINITY, DType::F32)),
                                must(Tensor::scalar(0.0, DType::F32))));
  AttentionOutput c3 = must(mha->forward(x, x, x, {.attnMask = additive}, false));
  EXPECT_TRUE(closeTo(c3.output, reference("mha_causal.out"), kTol));
}

TEST(NNLayers, TransformerEncoderLayer) {
  for (bool normFirst : {false, true}) {
    std::string name = normFirst ? "encoder_pre" : "encoder_post";
    Generator gen(1);
    auto m = must(TransformerEncoderLayer::create(
        {.dModel = 8, .nHead = 2, .dimFeedforward = 16, .dropout = 0.0,
         .activation = normFirst ? "gelu" : "relu", .normFirst = normFirst},
        gen));
    checkLayer(name, *m, fill({2, 3, 8}, 24), true, 0.3);
  }
}

TEST(NNLayers, Losses) {
  Tensor logits = fill({4, 5}, 25, 2.0);
  Tensor labels = must(Tensor::fromVector<int64_t>({1, 0, 4, 2}, {4}));
  Tensor ignored = must(Tensor::fromVector<int64_t>({1, -100, 4, 2}, {4}));
  Tensor target = fill({4, 5}, 26);
  Tensor probs = must(sigmoid(fill({4, 5}, 27, 3.0)));
  struct Case {
    const char *name;
    std::function<Expected<Tensor>(const Tensor &)> fn;
  };
  std::vector<Case> cases = {
      {"ce", [&](const Tensor &x) { return crossEntropyLoss(x, labels); }},
      {"ce_smooth",
       [&](const Tensor &x) {
         return crossEntropyLoss(x, labels, {.labelSmoothing = 0.1});
       }},
      {"ce_sum",
       [&](const Tensor &x) {
         return crossEntropyLoss(x, labels, {.reduction = "sum"});
       }},
      {"ce_none",
       [&](const Tensor &x) {
         return crossEntropyLoss(x, labels,
                                 {.reduction = "none", .labelSmoothing = 0.2});
       }},
      {"nll",
       [&](const Tensor &x) { return nllLoss(must(logSoftmax(x, -1)), labels); }},
      {"mse", [&](const Tensor &x) { return mseLoss(x, target); }},
      {"l1", [&](const Tensor &x) { return l1Loss(x, target, "sum"); }},
      {"bce", [&](const Tensor &x) { return bceWithLogitsLoss(x, probs); }},
      {"ce_ignore",
       [&](const Tensor &x) {
         return crossEntropyLoss(x, ignored,
                                 {.labelSmoothing = 0.1, .ignoreIndex = -100});
       }},
  };
  for (const Case &c : cases) {
    Tensor x = must(logits.clone());
    must(x.setRequiresGrad());
    Tensor loss = must(c.fn(x));
    std::string key = std::string("loss_") + c.name;
    EXPECT_TRUE(closeTo(loss, reference(key + ".out"), kTol)) << c.name;
    must(must(sum(loss)).backward());
    EXPECT_TRUE(closeTo(x.grad(), reference(key + ".grad"), kTol)) << c.name;
  }
}

} // namespace
