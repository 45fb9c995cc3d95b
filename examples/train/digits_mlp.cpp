//===- digits_mlp.cpp - An MLP on scikit-learn's 8x8 handwritten digits ----===//
//
// 64 pixels -> 128 -> ReLU -> 64 -> ReLU -> 10 logits, Adam + cosine
// schedule, best-validation weights reported on the held-out test set
// (common/DigitsMain.h).
//
//   digits_mlp                 # full run (40 epochs)
//   digits_mlp --quick         # the short run the test uses (15 epochs)
//
//===----------------------------------------------------------------------===//
#include "common/DigitsMain.h"

using namespace kiln;
using namespace kiln::examples;

namespace {
Expected<std::shared_ptr<nn::Module>> buildMlp(Generator &gen) {
  KILN_ASSIGN_OR_RETURN(auto fc1, nn::Linear::create({.inFeatures = 64, .outFeatures = 128}, gen));
  KILN_ASSIGN_OR_RETURN(auto act1, nn::Activation::create("relu"));
  KILN_ASSIGN_OR_RETURN(auto fc2, nn::Linear::create({.inFeatures = 128, .outFeatures = 64}, gen));
  KILN_ASSIGN_OR_RETURN(auto act2, nn::Activation::create("relu"));
  KILN_ASSIGN_OR_RETURN(auto fc3, nn::Linear::create({.inFeatures = 64, .outFeatures = 10}, gen));
  KILN_ASSIGN_OR_RETURN(auto net, nn::Sequential::create({fc1, act1, fc2, act2, fc3}));
  return std::shared_ptr<nn::Module>(net);
}
} // namespace

int main(int argc, char **argv) {
  return digitsMain(argc, argv,
                    {.name = "digits_mlp",
                     .description = "MLP 64-128-64-10 (ReLU)",
                     .sampleShape = {64},
                     .epochs = 40,
                     .quickEpochs = 15,
                     .lr = 2e-3,
                     .batchSize = 32,
                     .target = 0.95,
                     .build = buildMlp});
}
