//===- KilnTrainBench.cpp - One eager training step, timed -----------------===//
//
// The four training steps of issue 4 (forward, backward, Adam) with
// kiln::nn and kiln::optim. Prints one line per workload:
//   step <name> <median ms> <min ms> <max ms> <loss after the last step>
//   phases <name> <forward ms> <backward ms> <optimizer ms> (medians; the
//   zeroGrad and the loss's item() are in none of them)
// which bench/train/compare.py puts beside PyTorch's (torch_train_bench.py
// builds the same models). Inputs are seeded; both sides time the same
// shapes, not the same numbers (weights are initialised by each library).
//
//===----------------------------------------------------------------------===//
#include "kiln/Allocator.h"
#include "kiln/Autograd.h"
#include "kiln/NN.h"
#include "kiln/Optim.h"
#include "kiln/ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

using namespace kiln;

namespace {

template <typename T> T orDie(Expected<T> e, const char *what) {
  if (!e) {
    std::fprintf(stderr, "error: %s: %s\n", what, e.status().toString().c_str());
    std::exit(1);
  }
  return std::move(*e);
}
void orDie(Status s, const char *what) {
  if (!s.isOk()) {
    std::fprintf(stderr, "error: %s: %s\n", what, s.toString().c_str());
    std::exit(1);
  }
}

struct Workload {
  std::string name;
  std::shared_ptr<nn::Module> model;
  /// Forward + loss.
  std::function<Expected<Tensor>()> loss;
};

void timeStep(const Workload &w, int warmup, int reps) {
  auto opt = orDie(optim::Adam::create(w.model->parameters(), {.lr = 1e-3}),
                   "Adam");
  using Clock = std::chrono::steady_clock;
  auto msSince = [](Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };
  std::vector<double> ms, fwd, bwd, upd;
  auto step = [&]() -> double {
    auto t0 = Clock::now();
    opt->zeroGrad();
    auto t1 = Clock::now();
    Tensor loss = orDie(w.loss(), w.name.c_str());
    fwd.push_back(msSince(t1));
    auto t2 = Clock::now();
    orDie(loss.backward(), "backward");
    bwd.push_back(msSince(t2));
    auto t3 = Clock::now();
    orDie(opt->step(), "step");
    upd.push_back(msSince(t3));
    double value = orDie(loss.item(), "item");
    ms.push_back(msSince(t0));
    return value;
  };
  for (int i = 0; i < warmup; ++i)
    step();
  ms.clear(), fwd.clear(), bwd.clear(), upd.clear();
  double last = 0;
  for (int i = 0; i < reps; ++i)
    last = step();
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::sort(ms.begin(), ms.end());
  std::printf("step %s %.3f %.3f %.3f %.5f\n", w.name.c_str(), ms[ms.size() / 2],
              ms.front(), ms.back(), last);
  std::printf("phases %s %.3f %.3f %.3f\n", w.name.c_str(), median(fwd),
              median(bwd), median(upd));
  std::fflush(stdout);
}

Tensor labels(Generator &gen, int64_t n, int64_t classes) {
  Tensor u = orDie(gen.uniform({n}, 0, double(classes), DType::F32), "labels");
  Tensor f = orDie(floor(u), "labels");
  return orDie(cast(f, DType::I64), "labels");
}

} // namespace

int main(int argc, char **argv) {
  bool quick = false;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick"))
      quick = true;
    else if (!std::strncmp(argv[i], "--only=", 7))
      only = argv[i] + 7;
  }
  int warmup = quick ? 2 : 5, reps = quick ? 5 : 20;
  std::printf("threads %d\n", ThreadPool::global().numThreads());
  Generator gen(7);
  std::vector<Workload> ws;

  { // MLP 784-512-512-10, batch 64.
    auto seq = orDie(nn::Sequential::create({
        orDie(nn::Linear::create({.inFeatures = 784, .outFeatures = 512}, gen), "fc1"),
        orDie(nn::Activation::create("relu"), "relu"),
        orDie(nn::Linear::create({.inFeatures = 512, .outFeatures = 512}, gen), "fc2"),
        orDie(nn::Activation::create("relu"), "relu"),
        orDie(nn::Linear::create({.inFeatures = 512, .outFeatures = 10}, gen), "fc3"),
    }), "mlp");
    Tensor x = orDie(gen.normal({64, 784}, 0, 1, DType::F32), "x");
    Tensor y = labels(gen, 64, 10);
    ws.push_back({"mlp_784_512_512_10_b64", seq, [seq, x, y]() -> Expected<Tensor> {
                    KILN_ASSIGN_OR_RETURN(Tensor out, seq->forward(x));
                    return nn::crossEntropyLoss(out, y);
                  }});
  }
  { // LeNet-5 on 1x28x28, batch 64.
    auto seq = orDie(nn::Sequential::create({
        orDie(nn::Conv2d::create({.inChannels = 1, .outChannels = 6, .kernelSize = {5, 5}, .padding = {2, 2}}, gen), "c1"),
        orDie(nn::Activation::create("relu"), "relu"),
        orDie(nn::MaxPool2d::create({.kernelSize = {2, 2}}), "p1"),
        orDie(nn::Conv2d::create({.inChannels = 6, .outChannels = 16, .kernelSize = {5, 5}}, gen), "c2"),
        orDie(nn::Activation::create("relu"), "relu"),
        orDie(nn::MaxPool2d::create({.kernelSize = {2, 2}}), "p2"),
        orDie(nn::Flatten::create(1), "flatten"),
        orDie(nn::Linear::create({.inFeatures = 16 * 5 * 5, .outFeatures = 120}, gen), "f1"),
        orDie(nn::Activation::create("relu"), "relu"),
        orDie(nn::Linear::create({.inFeatures = 120, .outFeatures = 84}, gen), "f2"),
        orDie(nn::Activation::create("relu"), "relu"),
        orDie(nn::Linear::create({.inFeatures = 84, .outFeatures = 10}, gen), "f3"),
    }), "lenet");
    Tensor x = orDie(gen.normal({64, 1, 28, 28}, 0, 1, DType::F32), "x");
    Tensor y = labels(gen, 64, 10);
    ws.push_back({"lenet_b64", seq, [seq, x, y]() -> Expected<Tensor> {
                    KILN_ASSIGN_OR_RETURN(Tensor out, seq->forward(x));
                    return nn::crossEntropyLoss(out, y);
                  }});
  }
  { // TransformerEncoderLayer d=256 h=4 ff=1024, seq 128, batch 8.
    auto enc = orDie(nn::TransformerEncoderLayer::create(
                         {.dModel = 256, .nHead = 4, .dimFeedforward = 1024,
                          .dropout = 0.1},
                         gen),
                     "encoder");
    Tensor x = orDie(gen.normal({8, 128, 256}, 0, 1, DType::F32), "x");
    ws.push_back({"transformer_d256_h4_ff1024_s128_b8", enc,
                  [enc, x]() -> Expected<Tensor> {
                    KILN_ASSIGN_OR_RETURN(Tensor out, enc->forward(x));
                    return mean(out * out);
                  }});
  }
  { // LSTM in=32 hidden=128, seq 50, batch 32 (batch-first), regression.
    auto lstm = orDie(nn::LSTM::create({.inputSize = 32, .hiddenSize = 128}, gen),
                      "lstm");
    Tensor x = orDie(gen.normal({32, 50, 32}, 0, 1, DType::F32), "x");
    ws.push_back({"lstm_in32_h128_s50_b32", lstm,
                  [lstm, x]() -> Expected<Tensor> {
                    KILN_ASSIGN_OR_RETURN(Tensor out, lstm->forward(x));
                    return mean(out * out);
                  }});
  }
  for (const Workload &w : ws)
    if (only.empty() || w.name.find(only) != std::string::npos)
      timeStep(w, warmup, reps);
  AllocatorStats s = cpuDevice().allocator().stats();
  std::printf("allocator peak_bytes %lld\n", (long long)s.peakBytesInUse);
  return 0;
}
