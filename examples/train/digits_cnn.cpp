//===- digits_cnn.cpp - A LeNet-style CNN on the 8x8 handwritten digits ----===//
//
// [N, 1, 8, 8] -> conv 3x3 (pad 1) 1->16 -> ReLU -> maxpool 2 -> [16, 4, 4]
//              -> conv 3x3 (pad 1) 16->32 -> ReLU -> maxpool 2 -> [32, 2, 2]
//              -> flatten 128 -> linear 64 -> ReLU -> linear 10.
// LeNet's conv-relu-pool pairs, padded so that two 2x2 pools fit an 8x8
// image. Adam + cosine schedule, best-validation weights reported on the
// held-out test set (common/DigitsMain.h); the goal is >= 97 % test
// accuracy, in the full run and in the short one.
//
//   digits_cnn                 # full run (30 epochs)
//   digits_cnn --quick         # the short run the test uses (20 epochs)
//
//===----------------------------------------------------------------------===//
#include "common/DigitsMain.h"

using namespace kiln;
using namespace kiln::examples;

namespace {
Expected<std::shared_ptr<nn::Module>> buildLeNet(Generator &gen) {
  KILN_ASSIGN_OR_RETURN(auto conv1, nn::Conv2d::create({.inChannels = 1, .outChannels = 16,
                                                        .kernelSize = {3, 3},
                                                        .padding = {1, 1}},
                                                       gen));
  KILN_ASSIGN_OR_RETURN(auto relu1, nn::Activation::create("relu"));
  KILN_ASSIGN_OR_RETURN(auto pool1, nn::MaxPool2d::create({.kernelSize = {2, 2}}));
  KILN_ASSIGN_OR_RETURN(auto conv2, nn::Conv2d::create({.inChannels = 16, .outChannels = 32,
                                                        .kernelSize = {3, 3},
                                                        .padding = {1, 1}},
                                                       gen));
  KILN_ASSIGN_OR_RETURN(auto relu2, nn::Activation::create("relu"));
  KILN_ASSIGN_OR_RETURN(auto pool2, nn::MaxPool2d::create({.kernelSize = {2, 2}}));
  KILN_ASSIGN_OR_RETURN(auto flatten, nn::Flatten::create());
  KILN_ASSIGN_OR_RETURN(auto fc1, nn::Linear::create({.inFeatures = 128, .outFeatures = 64}, gen));
  KILN_ASSIGN_OR_RETURN(auto relu3, nn::Activation::create("relu"));
  KILN_ASSIGN_OR_RETURN(auto fc2, nn::Linear::create({.inFeatures = 64, .outFeatures = 10}, gen));
  KILN_ASSIGN_OR_RETURN(auto net, nn::Sequential::create({conv1, relu1, pool1, conv2, relu2,
                                                          pool2, flatten, fc1, relu3, fc2}));
  return std::shared_ptr<nn::Module>(net);
}
} // namespace

int main(int argc, char **argv) {
  return digitsMain(argc, argv,
                    {.name = "digits_cnn",
                     .description = "LeNet-style CNN (conv-relu-pool x2, 128-64-10)",
                     .sampleShape = {1, 8, 8},
                     .epochs = 30,
                     .quickEpochs = 20,
                     .lr = 3e-3,
                     .batchSize = 32,
                     .target = 0.97,
                     .build = buildLeNet});
}
