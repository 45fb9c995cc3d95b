//===- GradCheckRegistryTest.cpp - Coverage, bad inputs, f32 gradients -----===//
//
// The registry test fails naming every op in autograd::differentiableOps()
// that no KILN_GRADCHECK_TEST declares (and every declared name that is not
// registered). Then the misuses of backward() the issue lists, and f32
// gradients of the ops whose f32 path differs from f64 (oneDNN convolution
// forward, f32 kernels) against the f64 gradients.
//
//===----------------------------------------------------------------------===//
#include "GradCheck.h"

#include "kiln/NNOps.h"
#include "kiln/TrainingOps.h"

using namespace kiln;
using namespace kiln::gradcheck;

TEST(GradCheckRegistry, EveryDifferentiableOpHasACheck) {
  std::set<std::string> declared;
  for (const auto &[test, ops] : declaredChecks())
    declared.insert(ops.begin(), ops.end());
  for (const std::string &op : autograd::differentiableOps())
    if (!declared.count(op))
      ADD_FAILURE() << "differentiable op '" << op
                    << "' has no finite-difference check; add a "
                       "KILN_GRADCHECK_TEST in test/unit/train/GradCheck*Test.cpp";
}

TEST(GradCheckRegistry, EveryCheckedOpIsRegistered) {
  const auto &registered = autograd::differentiableOps();
  std::set<std::string> known(registered.begin(), registered.end());
  for (const auto &[test, ops] : declaredChecks())
    for (const std::string &op : ops)
      if (!known.count(op))
        ADD_FAILURE() << test << " checks '" << op
                      << "', which is not in DifferentiableOps.def";
}

TEST(GradCheckSelf, CatchesAWrongDerivative) {
  // neg recorded with the derivative of the identity: the check must fail
  // and name the worst element.
  auto wrongNeg = [](const Inputs &in) -> Expected<Tensor> {
    Expected<Tensor> out = [&] {
      autograd::NoGradGuard noGrad;
      return neg(in[0]);
    }();
    return autograd::record(std::move(out), "neg", {in[0]},
                            [](const Tensor &gy, const Tensor &) {
                              return Expected<std::vector<Tensor>>(
                                  std::vector<Tensor>{gy});
                            });
  };
  ::testing::AssertionResult r = checkGradients("neg", wrongNeg, {uniform({3}, 1)});
  EXPECT_FALSE(r);
  EXPECT_NE(std::string(r.message()).find("3 mismatching elements"),
            std::string::npos)
      << r.message();
  // And one that records under another name is caught too.
  ::testing::AssertionResult other = checkGradients(
      "exp", [](const Inputs &in) { return neg(in[0]); }, {uniform({3}, 1)});
  EXPECT_FALSE(other);
  EXPECT_NE(std::string(other.message()).find("no node named 'exp'"),
            std::string::npos)
      << other.message();
}

//===----------------------------------------------------------------------===//
// backward() misuse: clear errors, no crash.
//===----------------------------------------------------------------------===//

namespace {
Tensor leaf(const Shape &shape, uint64_t seed) {
  Tensor t = uniform(shape, seed);
  EXPECT_TRUE(t.setRequiresGrad().isOk());
  return t;
}

void expectError(const Status &s, StatusCode code, const std::string &text) {
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), code) << s.message();
  EXPECT_NE(s.message().find(text), std::string::npos) << s.message();
}
} // namespace

TEST(BackwardErrors, NonScalarWithoutSeed) {
  Tensor y = softmax(leaf({2, 3}, 1), 1).value();
  expectError(y.backward(), StatusCode::InvalidArgument, "seed");
  expectError(y.backward(), StatusCode::InvalidArgument, "[2, 3]");
}

TEST(BackwardErrors, SeedOfTheWrongShape) {
  Tensor y = softmax(leaf({2, 3}, 1), 1).value();
  Tensor seed = Tensor::zeros({3, 2}, DType::F64).value();
  expectError(y.backward(seed), StatusCode::InvalidArgument, "seed");
}

TEST(BackwardErrors, TensorThatDoesNotRequireGrad) {
  Tensor x = uniform({2, 3}, 1); // never setRequiresGrad
  Tensor loss = crossEntropy(x, indices({0, 2}, {2})).value();
  EXPECT_FALSE(loss.requiresGrad());
  expectError(loss.backward(), StatusCode::InvalidArgument,
              "does not require grad");
  // Grad mode off: the result of ops on a leaf that requires grad has none.
  Tensor w = leaf({2, 3}, 2);
  autograd::NoGradGuard noGrad;
  Tensor y = mse(w, x).value();
  expectError(y.backward(), StatusCode::InvalidArgument, "does not require grad");
}

TEST(BackwardErrors, TwiceWithoutRetainingTheGraph) {
  Tensor w = leaf({1, 2, 4, 4}, 1);
  Tensor k = leaf({2, 2, 3, 3}, 2);
  Window2D win = makeWindow(3, 3);
  Tensor loss = mean(conv2d(w, k, Tensor(), win).value()).value();
  ASSERT_TRUE(loss.backward().isOk());
  Status again = loss.backward();
  expectError(again, StatusCode::FailedPrecondition, "retainGraph");
  expectError(again, StatusCode::FailedPrecondition, "mean");
}

TEST(BackwardErrors, TwiceWithRetainedGraphAccumulates) {
  Tensor w = leaf({3, 4}, 1);
  Tensor loss = crossEntropy(w, indices({0, 1, 3}, {3})).value();
  ASSERT_TRUE(loss.backward(Tensor(), /*retainGraph=*/true).isOk());
  std::vector<double> once = w.grad().toDoubles();
  ASSERT_TRUE(loss.backward().isOk());
  std::vector<double> twice = w.grad().toDoubles();
  for (size_t i = 0; i < once.size(); ++i)
    EXPECT_NEAR(twice[i], 2 * once[i], 1e-12);
}

TEST(BackwardErrors, OpErrorsStillReportedWhileRecording) {
  Tensor w = leaf({5, 3}, 1);
  Expected<Tensor> e = embedding(w, indices({0, 5}, {2}));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::OutOfRange);
  Expected<Tensor> ce = crossEntropy(w, indices({0, 1, 7, 1, 1}, {5}));
  ASSERT_FALSE(ce.ok());
  EXPECT_NE(ce.status().message().find("label 7"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// f32 gradients against f64 ones (same inputs).
//===----------------------------------------------------------------------===//

namespace {
/// Gradients of <fn(inputs), v> w.r.t. every float input, computed in
/// `dtype`, returned as f64 values.
std::vector<std::vector<double>> gradsIn(DType dtype, const OpFn &fn,
                                         const Inputs &inputs, uint64_t seed) {
  Inputs leaves;
  Inputs wrt;
  for (const Tensor &t : inputs) {
    if (!t.defined() || !isFloat(t.dtype())) {
      leaves.push_back(t);
      continue;
    }
    Tensor c = t.to(dtype).value();
    EXPECT_TRUE(c.setRequiresGrad().isOk());
    leaves.push_back(c);
    wrt.push_back(c);
  }
  Tensor out = fn(leaves).value();
  Tensor v = uniform(out.shape(), seed).to(dtype).value();
  auto g = autograd::grad({out}, wrt, {v}).value();
  std::vector<std::vector<double>> values;
  for (const Tensor &t : g)
    values.push_back(t.toDoubles());
  return values;
}

::testing::AssertionResult matchesF64(DType dtype, const OpFn &fn,
                                      const Inputs &inputs, double tol) {
  auto g64 = gradsIn(DType::F64, fn, inputs, 3);
  auto g32 = gradsIn(dtype, fn, inputs, 3);
  for (size_t k = 0; k < g64.size(); ++k)
    for (size_t i = 0; i < g64[k].size(); ++i)
      if (!(std::fabs(g64[k][i] - g32[k][i]) <= tol * (1 + std::fabs(g64[k][i]))))
        return ::testing::AssertionFailure()
               << "input " << k << " element " << i << ": " << dtypeName(dtype)
               << " " << g32[k][i] << ", f64 " << g64[k][i];
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult f32MatchesF64(const OpFn &fn, const Inputs &inputs,
                                         double tol) {
  return matchesF64(DType::F32, fn, inputs, tol);
}
} // namespace

TEST(GradF32, ConvolutionsAndPooling) {
  Window2D win = makeWindow(3, 3);
  win.strides = {2, 1};
  win.pads = {1, 1, 1, 1};
  for (ConvBackend backend : {ConvBackend::Auto, ConvBackend::Im2colGemm}) {
    ASSERT_TRUE(setConvBackend(backend).isOk());
    EXPECT_TRUE(f32MatchesF64(
        [win](const Inputs &in) { return conv2d(in[0], in[1], in[2], win, 2); },
        {uniform({3, 4, 9, 7}, 1), uniform({6, 2, 3, 3}, 2), uniform({6}, 3)},
        1e-4));
  }
  ASSERT_TRUE(setConvBackend(ConvBackend::Auto).isOk());
  // Ceil mode through oneDNN (which has none: the padding grows instead).
  Window2D ceil = makeWindow(3, 3);
  ceil.strides = {2, 2};
  ceil.ceilMode = true;
  EXPECT_TRUE(f32MatchesF64(
      [ceil](const Inputs &in) { return conv2d(in[0], in[1], in[2], ceil); },
      {uniform({2, 2, 6, 7}, 11), uniform({3, 2, 3, 3}, 12), uniform({3}, 13)},
      1e-4));
  std::vector<int64_t> outPad = {1, 0};
  EXPECT_TRUE(f32MatchesF64(
      [win, outPad](const Inputs &in) {
        return convTranspose2d(in[0], in[1], in[2], win, outPad, 1);
      },
      {uniform({2, 3, 4, 4}, 4), uniform({3, 2, 3, 3}, 5), uniform({2}, 6)}, 1e-4));
  Window2D pool = makeWindow(2, 2);
  pool.strides = {2, 2};
  EXPECT_TRUE(f32MatchesF64(
      [pool](const Inputs &in) { return maxPool2d(in[0], pool); },
      {uniform({2, 3, 6, 6}, 7)}, 1e-5));
  EXPECT_TRUE(f32MatchesF64(
      [pool](const Inputs &in) { return avgPool2d(in[0], pool, false); },
      {uniform({2, 3, 6, 6}, 8)}, 1e-5));
}

TEST(GradF32, NormalizationAndLosses) {
  EXPECT_TRUE(f32MatchesF64(
      [](const Inputs &in) { return layerNorm(in[0], in[1], in[2], -1); },
      {uniform({5, 16}, 1), uniform({16}, 2, 0.5, 1.5), uniform({16}, 3)}, 1e-4));
  EXPECT_TRUE(f32MatchesF64(
      [](const Inputs &in) -> Expected<Tensor> {
        KILN_ASSIGN_OR_RETURN(auto r, batchNormTraining(in[0], in[1], in[2]));
        return r.output;
      },
      {uniform({4, 3, 3, 3}, 4), uniform({3}, 5, 0.5, 1.5), uniform({3}, 6)}, 1e-4));
  EXPECT_TRUE(f32MatchesF64(
      [](const Inputs &in) { return crossEntropy(in[0], in[1]); },
      {uniform({6, 10}, 7, -3, 3), indices({1, 9, 0, 3, 3, 5}, {6})}, 1e-5));
  EXPECT_TRUE(f32MatchesF64(
      [](const Inputs &in) { return softmax(in[0], 1); },
      {uniform({3, 7}, 8, -3, 3)}, 1e-5));
}

TEST(GradF16, GradientsKeepTheInputDType) {
  // f16/bf16 ops compute in f32; their gradients come back in the input's
  // dtype, within 16-bit rounding of the f64 ones.
  Window2D win = makeWindow(3, 3);
  win.pads = {1, 1, 1, 1};
  Window2D pool = makeWindow(2, 2);
  pool.strides = {2, 2};
  for (DType dt : {DType::F16, DType::BF16}) {
    double tol = dt == DType::F16 ? 2e-2 : 1e-1;
    SCOPED_TRACE(dtypeName(dt));
    EXPECT_TRUE(matchesF64(
        dt, [win](const Inputs &in) { return conv2d(in[0], in[1], in[2], win); },
        {uniform({2, 2, 4, 4}, 1), uniform({3, 2, 3, 3}, 2), uniform({3}, 3)}, tol));
    EXPECT_TRUE(matchesF64(
        dt, [pool](const Inputs &in) { return maxPool2d(in[0], pool); },
        {uniform({2, 2, 4, 4}, 4)}, tol));
    EXPECT_TRUE(matchesF64(
        dt, [](const Inputs &in) { return layerNorm(in[0], in[1], in[2]); },
        {uniform({3, 8}, 5), uniform({8}, 6, 0.5, 1.5), uniform({8}, 7)}, tol));
    EXPECT_TRUE(matchesF64(
        dt, [](const Inputs &in) { return logSoftmax(in[0], 1); },
        {uniform({3, 5}, 8)}, tol));
    EXPECT_TRUE(matchesF64(
        dt, [](const Inputs &in) { return crossEntropy(in[0], in[1]); },
        {uniform({3, 5}, 9), indices({0, 4, 2}, {3})}, tol));
    EXPECT_TRUE(matchesF64(
        dt, [](const Inputs &in) { return embedding(in[0], in[1]); },
        {uniform({4, 3}, 10), indices({3, 3, 0}, {3})}, tol));
    EXPECT_TRUE(matchesF64(
        dt,
        [](const Inputs &in) -> Expected<Tensor> {
          KILN_ASSIGN_OR_RETURN(auto r, batchNormTraining(in[0], in[1], in[2]));
          return r.output;
        },
        {uniform({4, 2, 3}, 11), uniform({2}, 12, 0.5, 1.5), uniform({2}, 13)},
        tol));
    Tensor x = uniform({2, 3}, 14).to(dt).value();
    ASSERT_TRUE(x.setRequiresGrad().isOk());
    Tensor loss = mse(softmax(x, 1).value(), Tensor::zeros({2, 3}, dt).value())
                      .value();
    ASSERT_TRUE(loss.backward().isOk());
    EXPECT_EQ(x.grad().dtype(), dt);
  }
}

TEST(GradEmpty, ZeroSizedBatches) {
  // A batch of 0: gradients are empty tensors of the right shapes, and
  // parameters get zeros.
  Window2D win = makeWindow(3, 3);
  Tensor x = Tensor::zeros({0, 2, 5, 5}, DType::F32).value();
  Tensor w = uniform({3, 2, 3, 3}, 1).to(DType::F32).value();
  Tensor b = Tensor::zeros({3}, DType::F32).value();
  ASSERT_TRUE(x.setRequiresGrad().isOk());
  ASSERT_TRUE(w.setRequiresGrad().isOk());
  ASSERT_TRUE(b.setRequiresGrad().isOk());
  Tensor y = conv2d(x, w, b, win).value();
  Tensor seed = Tensor::zeros(y.shape(), DType::F32).value();
  auto g = autograd::grad({y}, {x, w, b}, {seed}).value();
  EXPECT_EQ(g[0].shape(), x.shape());
  EXPECT_EQ(g[1].toDoubles(), std::vector<double>(54, 0.0));
  EXPECT_EQ(g[2].toDoubles(), std::vector<double>(3, 0.0));
}

//===----------------------------------------------------------------------===//
// Values of the training ops that the checks above do not pin down.
//===----------------------------------------------------------------------===//

TEST(TrainingOps, BatchNormTrainingStatistics) {
  Tensor x = Tensor::fromDoubles(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2}, DType::F32)
                 .value();
  Tensor one = Tensor::full({2}, 1.0, DType::F32).value();
  Tensor zero = Tensor::zeros({2}, DType::F32).value();
  auto r = batchNormTraining(x, one, zero, 0.0).value();
  // Channel 0: {1, 2, 5, 6}; channel 1: {3, 4, 7, 8}.
  EXPECT_EQ(r.mean.toDoubles(), (std::vector<double>{3.5, 5.5}));
  EXPECT_EQ(r.variance.toDoubles(), (std::vector<double>{4.25, 4.25}));
  std::vector<double> unbiased = r.unbiasedVariance.toDoubles();
  EXPECT_NEAR(unbiased[0], 4.25 * 4 / 3, 1e-6);
  std::vector<double> y = r.output.toDoubles();
  EXPECT_NEAR(y[0], (1 - 3.5) / std::sqrt(4.25), 1e-6);
  EXPECT_FALSE(batchNormTraining(uniform({1, 2}, 1), one.to(DType::F64).value(),
                                 zero.to(DType::F64).value())
                   .ok()); // one value per channel
}

TEST(TrainingOps, CrossEntropyMatchesNllOfLogSoftmax) {
  Tensor logits = uniform({4, 6}, 1, -3, 3);
  Tensor labels = indices({5, 0, -1, 2}, {4});
  CrossEntropyOptions o;
  o.ignoreIndex = -1;
  double ce = crossEntropy(logits, labels, o).value().item().value();
  double nll = nllLoss(logSoftmax(logits, 1).value(), labels, "mean", -1)
                   .value()
                   .item()
                   .value();
  EXPECT_NEAR(ce, nll, 1e-12);
  // Smoothing: (1 - s) nll + s * mean over classes of -log p.
  o.ignoreIndex.reset();
  o.labelSmoothing = 0.2;
  o.reduction = "none";
  Tensor row = crossEntropy(logits.slice(0, 0, 1).value(),
                            indices({5}, {1}), o)
                   .value();
  std::vector<double> logp = logSoftmax(logits, 1).value().toDoubles();
  double uniformPart = 0;
  for (int j = 0; j < 6; ++j)
    uniformPart -= logp[size_t(j)];
  EXPECT_NEAR(row.toDoubles()[0], 0.8 * -logp[5] + 0.2 * uniformPart / 6, 1e-12);
}

TEST(TrainingOps, EmbeddingRows) {
  Tensor w = Tensor::fromDoubles(std::vector<double>{0, 1, 10, 11, 20, 21}, {3, 2}, DType::F32).value();
  Tensor e = embedding(w, indices({2, 0, 2}, {3})).value();
  EXPECT_EQ(e.shape(), (Shape{3, 2}));
  EXPECT_EQ(e.toDoubles(), (std::vector<double>{20, 21, 0, 1, 20, 21}));
}
