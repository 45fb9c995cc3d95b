//===- KilnEagerInfer.cpp - The suite's inference models in Kiln eager ----===//
//
// The "Kiln eager" column of the benchmark suite (bench/suite/suite.py):
// each inference model of bench/suite/models.py defined again with kiln::nn
// layers and eager ops, with PyTorch's module structure so that the names of
// its parameters and buffers are PyTorch's state_dict keys. It loads the
// weights models.py wrote (weights.safetensors), reads the inputs (.npy),
// runs under NoGradGuard in eval mode, checks the outputs and times runs,
// printing what `kiln-run --bench` prints, so suite.py parses both alike:
//
//   kiln-eager-infer MODEL WEIGHTS.safetensors --input in0.npy
//       [--compare ref0.npy ...] [--rtol R] [--atol A] [--bench N]
//       [--warmup W]
//   kiln-eager-infer --list          # the models defined here, one a line
//
//   output #0: f32[64, 10] {...}
//   output #0 vs expected: max abs error 1.2e-06 (worst element 3: got ...,
//       want ...) OK (rtol 0.0001, atol 0.0001)
//   latency over N runs: median 812.3 us, min 790.1 us (allocator peak
//       1234567 bytes)
//
// Exit status: 0, 1 when an output mismatches, 2 on an error (printed as
// "error: ..."). A run is one forward pass from the loaded input tensors to
// the output tensors; the inputs are read once, outside the timing. The
// allocator peak is the caching allocator's high-water mark of bytes in use
// from the first run on (weights, input and intermediates; the weights' file
// copy is gone by then), the eager analogue of the compiled arena.
//
//===----------------------------------------------------------------------===//
#include "kiln/Kiln.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace kiln;

namespace {

//===----------------------------------------------------------------------===//
// Layers torch.nn has and kiln::nn does not (no parameters)
//===----------------------------------------------------------------------===//

/// A module whose forward is a function of its input (ReLU6,
/// AdaptiveAvgPool2d(1)); `typeName` is PyTorch's class name.
class Lambda : public nn::Module {
public:
  using Fn = std::function<Expected<Tensor>(const Tensor &)>;
  static std::shared_ptr<Lambda> create(std::string typeName, Fn fn) {
    return std::shared_ptr<Lambda>(new Lambda(std::move(typeName), std::move(fn)));
  }
  Expected<Tensor> forward(const Tensor &x) override { return fn_(x); }

private:
  Lambda(std::string typeName, Fn fn)
      : nn::Module(std::move(typeName)), fn_(std::move(fn)) {}
  Fn fn_;
};

std::shared_ptr<nn::Module> relu6() {
  return Lambda::create("ReLU6", [](const Tensor &x) { return clip(x, 0.0, 6.0); });
}
std::shared_ptr<nn::Module> globalAvgPool2d() {
  return Lambda::create("AdaptiveAvgPool2d",
                        [](const Tensor &x) { return globalAvgPool(x); });
}

/// Building blocks that keep the first error: every factory below returns
/// Expected, and a model is built from dozens of them.
struct Builder {
  Generator gen{0}; // initial values only; loadStateDict overwrites them
  Status status;

  template <typename T> std::shared_ptr<T> take(Expected<std::shared_ptr<T>> e) {
    if (!e) {
      if (status.isOk())
        status = e.status();
      return nullptr;
    }
    return *e;
  }
  std::shared_ptr<nn::Module> linear(int64_t in, int64_t out) {
    return take(nn::Linear::create({.inFeatures = in, .outFeatures = out}, gen));
  }
  std::shared_ptr<nn::Module> conv(int64_t in, int64_t out, int64_t k,
                                   int64_t stride = 1, int64_t pad = 0,
                                   int64_t groups = 1, bool bias = true) {
    return take(nn::Conv2d::create({.inChannels = in,
                                    .outChannels = out,
                                    .kernelSize = {k, k},
                                    .stride = {stride, stride},
                                    .padding = {pad, pad},
                                    .groups = groups,
                                    .bias = bias},
                                   gen));
  }
  std::shared_ptr<nn::Module> bn(int64_t c) {
    return take(nn::BatchNorm2d::create({.numFeatures = c}));
  }
  std::shared_ptr<nn::Module> act(std::string_view kind) {
    return take(nn::Activation::create(kind));
  }
  std::shared_ptr<nn::Module> maxPool(int64_t k, int64_t stride, int64_t pad) {
    return take(nn::MaxPool2d::create({.kernelSize = {k, k},
                                       .stride = nn::Pair{stride, stride},
                                       .padding = {pad, pad}}));
  }
  std::shared_ptr<nn::Module> flatten() { return take(nn::Flatten::create(1)); }
  std::shared_ptr<nn::Sequential>
  seq(std::vector<std::shared_ptr<nn::Module>> mods) {
    if (!status.isOk())
      return nullptr;
    return take(nn::Sequential::create(std::move(mods)));
  }
};

//===----------------------------------------------------------------------===//
// The models of bench/suite/models.py, module for module
//===----------------------------------------------------------------------===//

/// ResNet-18's basic block: conv1 bn1 relu conv2 bn2 (+ down) relu.
class BasicBlock : public nn::Module {
public:
  static std::shared_ptr<BasicBlock> create(Builder &b, int64_t cin,
                                            int64_t cout, int64_t stride) {
    std::shared_ptr<BasicBlock> m(new BasicBlock());
    m->conv1_ = b.conv(cin, cout, 3, stride, 1, 1, false);
    m->bn1_ = b.bn(cout);
    m->conv2_ = b.conv(cout, cout, 3, 1, 1, 1, false);
    m->bn2_ = b.bn(cout);
    if (stride != 1 || cin != cout)
      m->down_ = b.seq({b.conv(cin, cout, 1, stride, 0, 1, false), b.bn(cout)});
    if (!b.status.isOk())
      return nullptr;
    m->registerModule("conv1", m->conv1_);
    m->registerModule("bn1", m->bn1_);
    m->registerModule("conv2", m->conv2_);
    m->registerModule("bn2", m->bn2_);
    if (m->down_)
      m->registerModule("down", m->down_);
    return m;
  }
  Expected<Tensor> forward(const Tensor &x) override {
    Tensor identity = x;
    if (down_) {
      KILN_ASSIGN_OR_RETURN(identity, down_->forward(x));
    }
    KILN_ASSIGN_OR_RETURN(Tensor y, conv1_->forward(x));
    KILN_ASSIGN_OR_RETURN(y, relu(bn1_->forward(y)));
    KILN_ASSIGN_OR_RETURN(y, conv2_->forward(y));
    KILN_ASSIGN_OR_RETURN(y, bn2_->forward(y));
    return relu(y + identity);
  }

private:
  BasicBlock() : nn::Module("Block") {}
  std::shared_ptr<nn::Module> conv1_, bn1_, conv2_, bn2_, down_;
};

/// MobileNetV2's inverted residual: child "conv" is [expand] depthwise
/// project, each conv + BatchNorm (+ ReLU6).
class InvertedResidual : public nn::Module {
public:
  static std::shared_ptr<InvertedResidual>
  create(Builder &b, int64_t cin, int64_t cout, int64_t stride, int64_t expand);
  Expected<Tensor> forward(const Tensor &x) override {
    if (!residual_)
      return conv_->forward(x);
    return x + conv_->forward(x);
  }

private:
  InvertedResidual() : nn::Module("Inverted") {}
  std::shared_ptr<nn::Sequential> conv_;
  bool residual_ = false;
};

std::shared_ptr<nn::Sequential> convBn(Builder &b, int64_t cin, int64_t cout,
                                       int64_t k, int64_t stride,
                                       int64_t groups = 1, bool act = true) {
  std::vector<std::shared_ptr<nn::Module>> mods = {
      b.conv(cin, cout, k, stride, (k - 1) / 2, groups, false), b.bn(cout)};
  if (act)
    mods.push_back(relu6());
  return b.seq(std::move(mods));
}

std::shared_ptr<InvertedResidual>
InvertedResidual::create(Builder &b, int64_t cin, int64_t cout, int64_t stride,
                         int64_t expand) {
  std::shared_ptr<InvertedResidual> m(new InvertedResidual());
  int64_t hidden = cin * expand;
  m->residual_ = stride == 1 && cin == cout;
  std::vector<std::shared_ptr<nn::Module>> mods;
  if (expand != 1)
    mods.push_back(convBn(b, cin, hidden, 1, 1));
  mods.push_back(convBn(b, hidden, hidden, 3, stride, hidden));
  mods.push_back(convBn(b, hidden, cout, 1, 1, 1, false));
  m->conv_ = b.seq(std::move(mods));
  if (!b.status.isOk())
    return nullptr;
  m->registerModule("conv", m->conv_);
  return m;
}

/// The BERT-style encoder: token + position embeddings, LayerNorm, 4
/// post-norm encoder layers (d 256, 4 heads, GELU FFN 1024), a tanh pooler
/// on the first token, a 2-way classifier.
class Bert : public nn::Module {
public:
  static constexpr int64_t kVocab = 1000, kSeq = 128, kDim = 256;
  static Expected<std::shared_ptr<Bert>> create(Builder &b) {
    std::shared_ptr<Bert> m(new Bert());
    KILN_ASSIGN_OR_RETURN(m->tok_, nn::Embedding::create(
                                       {.numEmbeddings = kVocab, .embeddingDim = kDim},
                                       b.gen));
    KILN_ASSIGN_OR_RETURN(Tensor pos, Tensor::zeros({1, kSeq, kDim}, DType::F32));
    KILN_ASSIGN_OR_RETURN(m->pos_, m->registerParameter("pos", pos));
    KILN_ASSIGN_OR_RETURN(m->norm_, nn::LayerNorm::create({.normalizedShape = {kDim}}));
    KILN_ASSIGN_OR_RETURN(
        m->encoder_,
        nn::TransformerEncoder::create({.dModel = kDim, .nHead = 4,
                                        .dimFeedforward = 1024, .dropout = 0.0,
                                        .activation = "gelu"},
                                       4, /*finalNorm=*/false, b.gen));
    KILN_ASSIGN_OR_RETURN(m->pooler_, nn::Linear::create(
                                          {.inFeatures = kDim, .outFeatures = kDim}, b.gen));
    KILN_ASSIGN_OR_RETURN(m->cls_, nn::Linear::create(
                                       {.inFeatures = kDim, .outFeatures = 2}, b.gen));
    m->registerModule("tok", m->tok_);
    m->registerModule("norm", m->norm_);
    m->registerModule("encoder", m->encoder_);
    m->registerModule("pooler", m->pooler_);
    m->registerModule("cls", m->cls_);
    return m;
  }
  Expected<Tensor> forward(const Tensor &ids) override {
    KILN_ASSIGN_OR_RETURN(Tensor h, tok_->forward(ids) + *pos_);
    KILN_ASSIGN_OR_RETURN(h, norm_->forward(h));
    KILN_ASSIGN_OR_RETURN(h, encoder_->forward(h));
    KILN_ASSIGN_OR_RETURN(Tensor first, h.select(1, 0));
    KILN_ASSIGN_OR_RETURN(Tensor pooled, tanh(pooler_->forward(first)));
    return cls_->forward(pooled);
  }

private:
  Bert() : nn::Module("Bert") {}
  std::shared_ptr<nn::Embedding> tok_;
  Tensor *pos_ = nullptr;
  std::shared_ptr<nn::LayerNorm> norm_;
  std::shared_ptr<nn::TransformerEncoder> encoder_;
  std::shared_ptr<nn::Linear> pooler_, cls_;
};

/// LSTM 32 -> 128 over the sequence, a linear classifier on the last step.
class LSTMClassifier : public nn::Module {
public:
  static Expected<std::shared_ptr<LSTMClassifier>> create(Builder &b) {
    std::shared_ptr<LSTMClassifier> m(new LSTMClassifier());
    KILN_ASSIGN_OR_RETURN(m->rnn_,
                          nn::LSTM::create({.inputSize = 32, .hiddenSize = 128}, b.gen));
    KILN_ASSIGN_OR_RETURN(m->fc_, nn::Linear::create(
                                      {.inFeatures = 128, .outFeatures = 10}, b.gen));
    m->registerModule("rnn", m->rnn_);
    m->registerModule("fc", m->fc_);
    return m;
  }
  Expected<Tensor> forward(const Tensor &x) override {
    KILN_ASSIGN_OR_RETURN(Tensor seq, rnn_->forward(x)); // [N, T, H]
    KILN_ASSIGN_OR_RETURN(Tensor last, seq.select(1, seq.dim(1) - 1));
    return fc_->forward(last);
  }

private:
  LSTMClassifier() : nn::Module("LSTMClassifier") {}
  std::shared_ptr<nn::LSTM> rnn_;
  std::shared_ptr<nn::Linear> fc_;
};

Expected<std::shared_ptr<nn::Module>> checked(Builder &b,
                                              std::shared_ptr<nn::Module> m) {
  KILN_RETURN_IF_ERROR(b.status);
  if (!m)
    return internalError("a model factory returned null without an error");
  return m;
}

Expected<std::shared_ptr<nn::Module>> buildMLP(Builder &b) {
  return checked(b, b.seq({b.linear(784, 512), b.act("relu"), b.linear(512, 512),
                           b.act("relu"), b.linear(512, 10)}));
}

Expected<std::shared_ptr<nn::Module>> buildLeNet(Builder &b) {
  return checked(b, b.seq({b.conv(1, 6, 5, 1, 2), b.act("relu"), b.maxPool(2, 2, 0),
                           b.conv(6, 16, 5), b.act("relu"), b.maxPool(2, 2, 0),
                           b.flatten(), b.linear(400, 120), b.act("relu"),
                           b.linear(120, 84), b.act("relu"), b.linear(84, 10)}));
}

Expected<std::shared_ptr<nn::Module>> buildResNet18(Builder &b) {
  std::vector<std::shared_ptr<nn::Module>> mods = {
      b.conv(3, 64, 7, 2, 3, 1, false), b.bn(64), b.act("relu"), b.maxPool(3, 2, 1)};
  int64_t cin = 64;
  for (auto [cout, stride] : {std::pair<int64_t, int64_t>{64, 1}, {128, 2},
                              {256, 2}, {512, 2}}) {
    mods.push_back(BasicBlock::create(b, cin, cout, stride));
    mods.push_back(BasicBlock::create(b, cout, cout, 1));
    cin = cout;
  }
  mods.push_back(globalAvgPool2d());
  mods.push_back(b.flatten());
  mods.push_back(b.linear(512, 1000));
  return checked(b, b.seq(std::move(mods)));
}

Expected<std::shared_ptr<nn::Module>> buildMobileNetV2(Builder &b) {
  // expansion t, channels c, repeats n, first stride s (models.py's cfg).
  const int64_t cfg[][4] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2},
                            {6, 64, 4, 2},  {6, 96, 3, 1},  {6, 160, 3, 2},
                            {6, 320, 1, 1}};
  std::vector<std::shared_ptr<nn::Module>> mods = {convBn(b, 3, 32, 3, 2)};
  int64_t cin = 32;
  for (const auto &[t, c, n, s] : cfg)
    for (int64_t i = 0; i < n; ++i) {
      mods.push_back(InvertedResidual::create(b, cin, c, i == 0 ? s : 1, t));
      cin = c;
    }
  mods.push_back(convBn(b, cin, 1280, 1, 1));
  mods.push_back(globalAvgPool2d());
  mods.push_back(b.flatten());
  mods.push_back(b.linear(1280, 1000));
  return checked(b, b.seq(std::move(mods)));
}

Expected<std::shared_ptr<nn::Module>> buildBert(Builder &b) {
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<Bert> m, Bert::create(b));
  return std::shared_ptr<nn::Module>(m);
}

Expected<std::shared_ptr<nn::Module>> buildLSTM(Builder &b) {
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<LSTMClassifier> m, LSTMClassifier::create(b));
  return std::shared_ptr<nn::Module>(m);
}

using ModelFactory = Expected<std::shared_ptr<nn::Module>> (*)(Builder &);
const std::map<std::string, ModelFactory> &models() {
  static const std::map<std::string, ModelFactory> kModels = {
      {"bert", buildBert},         {"lenet", buildLeNet},
      {"lstm", buildLSTM},         {"mlp", buildMLP},
      {"mobilenetv2", buildMobileNetV2}, {"resnet18", buildResNet18}};
  return kModels;
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

struct Options {
  std::string model, weights;
  std::vector<std::string> inputs, compare;
  double rtol = 1e-4, atol = 1e-4;
  int bench = 0, warmup = 2;
};

/// Prints the worst element like kiln-run; true when every element is
/// within atol + rtol |want| (NaN matches NaN only).
Expected<bool> compare(const Tensor &got, const Tensor &want, const Options &o,
                       size_t index) {
  if (got.shape() != want.shape())
    return invalidArgument("output #", index, " has shape ",
                           shapes::toString(got.shape()), ", the expected file ",
                           shapes::toString(want.shape()));
  std::vector<double> g = got.toDoubles(), w = want.toDoubles();
  double worst = 0, worstExcess = -INFINITY;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    double err = std::fabs(g[i] - w[i]);
    if (std::isnan(g[i]) != std::isnan(w[i]))
      err = INFINITY;
    else if (std::isnan(g[i]))
      err = 0;
    worst = std::max(worst, err);
    double excess = err - (o.atol + o.rtol * std::fabs(w[i]));
    if (excess > worstExcess) {
      worstExcess = excess;
      at = i;
    }
  }
  bool ok = g.empty() || worstExcess <= 0;
  std::printf("output #%zu vs expected: max abs error %.3g (worst element %zu: "
              "got %.9g, want %.9g) %s (rtol %g, atol %g)\n",
              index, worst, at, g.empty() ? 0.0 : g[at], w.empty() ? 0.0 : w[at],
              ok ? "OK" : "MISMATCH", o.rtol, o.atol);
  return ok;
}

Status run(const Options &o, int &exitCode) {
  auto it = models().find(o.model);
  if (it == models().end())
    return notFound("no Kiln eager definition of model '", o.model,
                    "' (kiln-eager-infer --list)");
  Builder b;
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<nn::Module> net, it->second(b));
  net->eval();
  {
    KILN_ASSIGN_OR_RETURN(SafetensorsFile file, loadSafetensors(o.weights));
    Status s = net->loadStateDict(file.tensors);
    if (!s.isOk())
      return std::move(s).withContext(o.weights);
  }
  if (o.inputs.size() != 1)
    return invalidArgument("model '", o.model, "' takes 1 input, got ",
                           o.inputs.size(), " --input");
  KILN_ASSIGN_OR_RETURN(Tensor input, readNpy(o.inputs[0]));
  // From here the peak counts the weights, the input and the intermediates,
  // not the file's copy of the weights (freed above).
  cpuDevice().allocator().resetPeak();

  autograd::NoGradGuard noGrad;
  KILN_ASSIGN_OR_RETURN(Tensor out, net->forward(input));
  std::printf("output #0: %s\n", out.toString().c_str());
  if (o.compare.size() > 1)
    return invalidArgument(o.compare.size(), " expected files for 1 output");
  if (!o.compare.empty()) {
    KILN_ASSIGN_OR_RETURN(Tensor want, readNpy(o.compare[0]));
    KILN_ASSIGN_OR_RETURN(bool ok, compare(out, want, o, 0));
    if (!ok)
      exitCode = 1;
  }
  if (o.bench > 0) {
    for (int i = 0; i < o.warmup; ++i) {
      KILN_ASSIGN_OR_RETURN(Tensor ignored, net->forward(input));
      (void)ignored;
    }
    std::vector<double> us;
    us.reserve(size_t(o.bench));
    for (int i = 0; i < o.bench; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      KILN_ASSIGN_OR_RETURN(Tensor ignored, net->forward(input));
      (void)ignored;
      us.push_back(std::chrono::duration<double, std::micro>(
                       std::chrono::steady_clock::now() - t0)
                       .count());
    }
    std::sort(us.begin(), us.end());
    std::printf("latency over %d runs: median %.1f us, min %.1f us "
                "(allocator peak %lld bytes)\n",
                o.bench, us[us.size() / 2], us.front(),
                (long long)cpuDevice().allocator().stats().peakBytesInUse);
  }
  return Status::ok();
}

int usage(const char *argv0) {
  std::fprintf(stderr,
               "usage: %s MODEL WEIGHTS.safetensors --input X.npy "
               "[--compare REF.npy] [--rtol R] [--atol A] [--bench N] "
               "[--warmup W]\n       %s --list\n",
               argv0, argv0);
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char * {
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    const char *v = nullptr;
    if (a == "--list") {
      for (const auto &[name, f] : models())
        std::printf("%s\n", name.c_str());
      return 0;
    }
    if (a == "--input" && (v = value()))
      o.inputs.push_back(v);
    else if (a == "--compare" && (v = value()))
      o.compare.push_back(v);
    else if (a == "--rtol" && (v = value()))
      o.rtol = std::atof(v);
    else if (a == "--atol" && (v = value()))
      o.atol = std::atof(v);
    else if (a == "--bench" && (v = value()))
      o.bench = std::max(0, std::atoi(v));
    else if (a == "--warmup" && (v = value()))
      o.warmup = std::max(0, std::atoi(v));
    else if (!a.empty() && a[0] != '-')
      positional.push_back(a);
    else
      return usage(argv[0]);
  }
  if (positional.size() != 2)
    return usage(argv[0]);
  o.model = positional[0];
  o.weights = positional[1];
  int exitCode = 0;
  Status s = run(o, exitCode);
  if (!s.isOk()) {
    std::printf("error: %s\n", s.toString().c_str());
    return 2;
  }
  return exitCode;
}
