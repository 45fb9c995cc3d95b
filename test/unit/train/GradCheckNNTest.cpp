//===- GradCheckNNTest.cpp - Convolution, pooling, norms, losses -----------===//
//
// NNOps.h and TrainingOps.h by finite differences: convolutions with
// strides, padding, dilation, groups and bias; pooling with padding and
// ceil mode; normalizations w.r.t. every operand; losses w.r.t. their
// inputs (and targets where they are differentiable) under each reduction.
//
//===----------------------------------------------------------------------===//
#include "GradCheck.h"

#include "kiln/NNOps.h"
#include "kiln/TrainingOps.h"

using namespace kiln;
using namespace kiln::gradcheck;

namespace {

class GradCheckNN : public GradCheckTest {};

Window2D window(std::vector<int64_t> strides, std::vector<int64_t> pads,
                std::vector<int64_t> dilations, bool ceilMode = false) {
  Window2D w;
  w.kernel = {1, 1}; // conv takes it from the weight
  w.strides = std::move(strides);
  w.pads = std::move(pads);
  w.dilations = std::move(dilations);
  w.ceilMode = ceilMode;
  return w;
}

Window2D poolWindow(std::vector<int64_t> kernel, std::vector<int64_t> strides,
                    std::vector<int64_t> pads, std::vector<int64_t> dilations,
                    bool ceilMode = false) {
  Window2D w = window(std::move(strides), std::move(pads), std::move(dilations),
                      ceilMode);
  w.kernel = std::move(kernel);
  return w;
}

struct ConvCase {
  Shape x, w;
  Window2D win;
  int64_t groups;
  bool bias;
};

} // namespace

KILN_GRADCHECK_TEST(GradCheckNN, Conv2d, "conv2d") {
  const std::vector<ConvCase> cases = {
      {{1, 1, 4, 4}, {1, 1, 3, 3}, window({1, 1}, {0, 0, 0, 0}, {1, 1}), 1, false},
      {{2, 2, 5, 4}, {3, 2, 3, 3}, window({1, 1}, {1, 1, 1, 1}, {1, 1}), 1, true},
      {{1, 4, 6, 5}, {4, 2, 3, 2}, window({2, 1}, {1, 0, 2, 1}, {1, 2}), 2, true},
      {{1, 3, 5, 5}, {3, 1, 3, 3}, window({2, 2}, {1, 1, 1, 1}, {1, 1}), 3, false},
      {{2, 3, 1, 1}, {2, 3, 1, 1}, window({1, 1}, {0, 0, 0, 0}, {1, 1}), 1, true},
      // Ceil mode: a last window that hangs over the bottom/right edge.
      {{1, 2, 6, 5}, {2, 2, 3, 3}, window({2, 2}, {0, 0, 0, 0}, {1, 1}, true), 1, true},
  };
  uint64_t seed = 1;
  for (const ConvCase &c : cases) {
    SCOPED_TRACE(shapes::toString(c.x) + " * " + shapes::toString(c.w));
    Window2D win = c.win;
    int64_t groups = c.groups;
    Inputs in = {uniform(c.x, seed), uniform(c.w, seed + 1),
                 c.bias ? uniform({c.w[0]}, seed + 2) : Tensor()};
    seed += 3;
    EXPECT_TRUE(checkGradients(
        "conv2d",
        [win, groups](const Inputs &in) {
          return conv2d(in[0], in[1], in[2], win, groups);
        },
        in));
  }
}

KILN_GRADCHECK_TEST(GradCheckNN, ConvTranspose2d, "conv_transpose2d") {
  struct Case {
    Shape x, w;
    Window2D win;
    std::vector<int64_t> outputPadding;
    int64_t groups;
    bool bias;
  };
  const std::vector<Case> cases = {
      {{1, 2, 3, 3}, {2, 3, 3, 3}, window({1, 1}, {0, 0, 0, 0}, {1, 1}), {0, 0}, 1, true},
      {{2, 2, 3, 2}, {2, 2, 3, 3}, window({2, 2}, {1, 1, 1, 1}, {1, 1}), {1, 0}, 1, false},
      {{1, 4, 2, 3}, {4, 1, 2, 3}, window({2, 1}, {0, 1, 1, 0}, {1, 2}), {1, 1}, 2, true},
      // output padding above the stride (allowed below the dilation).
      {{1, 1, 2, 2}, {1, 1, 2, 2}, window({1, 1}, {0, 0, 0, 0}, {3, 3}), {2, 1}, 1, false},
  };
  uint64_t seed = 10;
  for (const Case &c : cases) {
    SCOPED_TRACE(shapes::toString(c.x) + " * " + shapes::toString(c.w));
    Window2D win = c.win;
    int64_t groups = c.groups;
    std::vector<int64_t> op = c.outputPadding;
    Inputs in = {uniform(c.x, seed), uniform(c.w, seed + 1),
                 c.bias ? uniform({c.w[1] * c.groups}, seed + 2) : Tensor()};
    seed += 3;
    EXPECT_TRUE(checkGradients(
        "conv_transpose2d",
        [win, groups, op](const Inputs &in) {
          return convTranspose2d(in[0], in[1], in[2], win, op, groups);
        },
        in));
  }
}

KILN_GRADCHECK_TEST(GradCheckNN, Pooling, "max_pool2d", "avg_pool2d") {
  const std::vector<Window2D> wins = {
      poolWindow({2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}),
      poolWindow({3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}),
      poolWindow({3, 2}, {2, 1}, {1, 0, 1, 1}, {1, 2}),
      poolWindow({2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, /*ceilMode=*/true),
  };
  uint64_t seed = 1;
  for (const Window2D &win : wins) {
    Tensor x = uniform({2, 2, 5, 5}, seed++);
    EXPECT_TRUE(checkGradients(
        "max_pool2d", [win](const Inputs &in) { return maxPool2d(in[0], win); },
        {x}));
    for (bool includePad : {false, true})
      EXPECT_TRUE(checkGradients(
          "avg_pool2d",
          [win, includePad](const Inputs &in) {
            return avgPool2d(in[0], win, includePad);
          },
          {x}));
  }
}

KILN_GRADCHECK_TEST(GradCheckNN, GlobalAvgPool, "global_avg_pool") {
  for (const Shape &shape : std::vector<Shape>{{2, 3, 4, 5}, {2, 3, 4}, {2, 3}})
    EXPECT_TRUE(checkGradients(
        "global_avg_pool", [](const Inputs &in) { return globalAvgPool(in[0]); },
        {uniform(shape, 3)}));
}

KILN_GRADCHECK_TEST(GradCheckNN, SoftmaxAndLogSoftmax, "softmax", "log_softmax") {
  Tensor x = uniform({2, 3, 4}, 1, -3, 3);
  for (int64_t axis : {-1, 0, 1}) {
    EXPECT_TRUE(checkGradients(
        "softmax", [axis](const Inputs &in) { return softmax(in[0], axis); }, {x}));
    EXPECT_TRUE(checkGradients(
        "log_softmax", [axis](const Inputs &in) { return logSoftmax(in[0], axis); },
        {x}));
  }
}

KILN_GRADCHECK_TEST(GradCheckNN, LayerNorm, "layer_norm") {
  Tensor x = uniform({2, 3, 4}, 1, -2, 2);
  EXPECT_TRUE(checkGradients(
      "layer_norm",
      [](const Inputs &in) { return layerNorm(in[0], in[1], in[2], -1, 1e-5); },
      {x, uniform({4}, 2, 0.5, 1.5), uniform({4}, 3)}));
  EXPECT_TRUE(checkGradients(
      "layer_norm",
      [](const Inputs &in) { return layerNorm(in[0], in[1], in[2], 1, 1e-3); },
      {x, uniform({3, 4}, 4, 0.5, 1.5), uniform({3, 4}, 5)}));
  EXPECT_TRUE(checkGradients(
      "layer_norm",
      [](const Inputs &in) { return layerNorm(in[0], in[1], Tensor(), -1); },
      {x, uniform({4}, 6, 0.5, 1.5)}));
  // Only the input differentiated (the scale a constant).
  Options o;
  o.wrt = {true, false};
  EXPECT_TRUE(checkGradients(
      "layer_norm",
      [](const Inputs &in) { return layerNorm(in[0], in[1], Tensor(), -1); },
      {x, uniform({4}, 7, 0.5, 1.5)}, o));
}

KILN_GRADCHECK_TEST(GradCheckNN, BatchNormInference, "batch_norm") {
  for (const Shape &shape : std::vector<Shape>{{2, 3, 2, 2}, {4, 3}}) {
    EXPECT_TRUE(checkGradients(
        "batch_norm",
        [](const Inputs &in) {
          return batchNorm(in[0], in[1], in[2], in[3], in[4], 1e-3);
        },
        {uniform(shape, 1), uniform({3}, 2, 0.5, 1.5), uniform({3}, 3),
         uniform({3}, 4), uniform({3}, 5, 0.5, 1.5)}));
  }
}

KILN_GRADCHECK_TEST(GradCheckNN, BatchNormTraining, "batch_norm_training") {
  for (const Shape &shape : std::vector<Shape>{{2, 3, 2, 2}, {4, 3}, {3, 2, 5}}) {
    EXPECT_TRUE(checkGradients(
        "batch_norm_training",
        [](const Inputs &in) -> Expected<Tensor> {
          KILN_ASSIGN_OR_RETURN(auto r, batchNormTraining(in[0], in[1], in[2], 1e-3));
          return r.output;
        },
        {uniform(shape, 1), uniform({shape[1]}, 2, 0.5, 1.5),
         uniform({shape[1]}, 3)}));
  }
}

KILN_GRADCHECK_TEST(GradCheckNN, Dropout, "dropout") {
  Tensor x = uniform({4, 5}, 1);
  EXPECT_TRUE(checkGradients(
      "dropout", [](const Inputs &in) { return dropout(in[0], 0.3, true, 7); },
      {x}));
  EXPECT_TRUE(checkGradients(
      "dropout", [](const Inputs &in) { return dropout(in[0], 0.3, false, 7); },
      {x}));
  EXPECT_TRUE(checkGradients(
      "dropout", [](const Inputs &in) { return dropout(in[0], 0.0, true, 7); },
      {x}));
}

KILN_GRADCHECK_TEST(GradCheckNN, CrossEntropy, "cross_entropy") {
  Tensor logits = uniform({4, 5}, 1, -3, 3);
  for (DType lt : {DType::I64, DType::I32}) {
    Tensor labels = indices({0, 4, 2, 2}, {4}).to(lt).value();
    for (const char *r : {"mean", "sum", "none"})
      EXPECT_TRUE(checkGradients(
          "cross_entropy",
          [r](const Inputs &in) { return crossEntropy(in[0], in[1], r); },
          {logits, labels}));
  }
  Tensor labels = indices({0, 4, -100, 2}, {4});
  for (const char *r : {"mean", "sum", "none"}) {
    CrossEntropyOptions o;
    o.reduction = r;
    o.labelSmoothing = 0.1;
    o.ignoreIndex = -100;
    EXPECT_TRUE(checkGradients(
        "cross_entropy",
        [o](const Inputs &in) { return crossEntropy(in[0], in[1], o); },
        {logits, labels}));
  }
}

KILN_GRADCHECK_TEST(GradCheckNN, NllLoss, "nll_loss") {
  Tensor logp = uniform({4, 5}, 2, -3, 0);
  for (const char *r : {"mean", "sum", "none"}) {
    EXPECT_TRUE(checkGradients(
        "nll_loss", [r](const Inputs &in) { return nllLoss(in[0], in[1], r); },
        {logp, indices({1, 0, 3, 1}, {4})}));
    EXPECT_TRUE(checkGradients(
        "nll_loss",
        [r](const Inputs &in) { return nllLoss(in[0], in[1], r, 3); },
        {logp, indices({1, 3, 3, 4}, {4})}));
  }
}

KILN_GRADCHECK_TEST(GradCheckNN, ElementwiseLosses, "mse", "l1_loss",
                    "bce_with_logits") {
  Tensor target = uniform({3, 4}, 1);
  Tensor offset = awayFrom({3, 4}, 2, 0.0, 0.05);
  Tensor input = (target + offset).value(); // |input - target| >= 0.05
  Tensor prob = uniform({3, 4}, 3, 0, 1);
  for (const char *r : {"mean", "sum", "none"}) {
    EXPECT_TRUE(checkGradients(
        "mse", [r](const Inputs &in) { return mse(in[0], in[1], r); },
        {input, target}));
    EXPECT_TRUE(checkGradients(
        "l1_loss", [r](const Inputs &in) { return l1Loss(in[0], in[1], r); },
        {input, target}));
    EXPECT_TRUE(checkGradients(
        "bce_with_logits",
        [r](const Inputs &in) { return bceWithLogits(in[0], in[1], r); },
        {uniform({3, 4}, 4, -4, 4), prob}));
  }
}
