//===- CheckpointResumeTest.cpp - Resuming training from a checkpoint -----===//
//
// The end-to-end property checkpoints exist for: training N steps, saving,
// and resuming in a fresh process-like setting (new model, new optimizer,
// different initial values and options) gives bit for bit the weights of
// training without the interruption.
//
//===----------------------------------------------------------------------===//
#include "kiln/Checkpoint.h"
#include "kiln/NN.h"
#include "kiln/Optim.h"
#include "kiln/Random.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <unistd.h>

using namespace kiln;

namespace {

/// `steps` AdamW steps of a regression on batches drawn from `data`.
Status train(nn::Module &net, optim::Optimizer &opt, Generator &data,
             int steps) {
  for (int i = 0; i < steps; ++i) {
    KILN_ASSIGN_OR_RETURN(Tensor x, data.normal({8, 4}, 0, 1, DType::F32));
    KILN_ASSIGN_OR_RETURN(Tensor y, data.normal({8, 3}, 0, 1, DType::F32));
    opt.zeroGrad();
    KILN_ASSIGN_OR_RETURN(Tensor out, net.forward(x));
    KILN_ASSIGN_OR_RETURN(Tensor loss, nn::mseLoss(out, y));
    KILN_RETURN_IF_ERROR(loss.backward());
    KILN_RETURN_IF_ERROR(opt.step());
  }
  return Status();
}

TEST(CheckpointResume, ResumedTrainingMatchesUninterruptedTraining) {
  std::string path = ::testing::TempDir() + "kiln-resume-" +
                     std::to_string(::getpid()) + ".safetensors";
  Generator init(1);
  auto net = nn::Linear::create({.inFeatures = 4, .outFeatures = 3}, init);
  ASSERT_TRUE(net.ok()) << net.status();
  auto opt = optim::AdamW::create((*net)->parameters(), {.lr = 1e-2});
  ASSERT_TRUE(opt.ok()) << opt.status();
  Generator data(7);
  ASSERT_TRUE(train(**net, **opt, data, 3).isOk());
  // The data stream's position goes into the metadata, as a training loop
  // would store its epoch and step.
  ASSERT_TRUE(saveCheckpoint(path, (*net)->stateDict(), (*opt)->stateDict(),
                             {{"data_offset", std::to_string(data.offset())}})
                  .isOk());
  ASSERT_TRUE(train(**net, **opt, data, 3).isOk());

  // Resume: other initial weights, another learning rate (the optimizer's
  // options come back from the checkpoint).
  Generator otherInit(99);
  auto net2 =
      nn::Linear::create({.inFeatures = 4, .outFeatures = 3}, otherInit);
  ASSERT_TRUE(net2.ok()) << net2.status();
  auto opt2 = optim::AdamW::create((*net2)->parameters(), {.lr = 0.5});
  ASSERT_TRUE(opt2.ok()) << opt2.status();
  auto ckpt = loadCheckpoint(path);
  ::unlink(path.c_str());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  NamedTensorList params = (*net2)->namedParameters();
  Status loaded = loadInto(ckpt->model, params);
  ASSERT_TRUE(loaded.isOk()) << loaded;
  Status restored = (*opt2)->loadStateDict(ckpt->optimizer);
  ASSERT_TRUE(restored.isOk()) << restored;
  Generator data2(7);
  data2.setOffset(std::stoull(ckpt->metadata.at("data_offset")));
  ASSERT_TRUE(train(**net2, **opt2, data2, 3).isOk());

  EXPECT_EQ((*net2)->weight().toDoubles(), (*net)->weight().toDoubles());
  EXPECT_EQ((*net2)->bias().toDoubles(), (*net)->bias().toDoubles());
  EXPECT_EQ(*(*opt2)->lr(), 1e-2);
}

} // namespace
