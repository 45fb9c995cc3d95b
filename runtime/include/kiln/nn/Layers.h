//===- Layers.h - Feed-forward layers of kiln::nn --------------------------===//
//
// torch.nn's layers with PyTorch's parameter names, shapes, default
// initialisation and forward semantics. Each is made by
// `T::create(options, gen)`; `gen` draws the initial weights (see Init.h),
// so the same seed gives the same model.
//
//   kiln::Generator gen(0);
//   KILN_ASSIGN_OR_RETURN(auto conv, nn::Conv2d::create(
//       {.inChannels = 1, .outChannels = 8, .kernelSize = {3, 3},
//        .padding = {1, 1}}, gen));
//   KILN_ASSIGN_OR_RETURN(Tensor y, conv->forward(images));   // [N, 8, H, W]
//
// Inputs of the wrong rank, size or dtype give an InvalidArgument status
// naming the layer and the expected shape.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_NN_LAYERS_H
#define KILN_NN_LAYERS_H

#include "kiln/nn/Module.h"

#include <array>
#include <optional>

namespace kiln::nn {

using Pair = std::array<int64_t, 2>;

//===----------------------------------------------------------------------===//
// Linear and Embedding
//===----------------------------------------------------------------------===//

struct LinearOptions {
  int64_t inFeatures = 0;
  int64_t outFeatures = 0;
  bool bias = true;
  DType dtype = DType::F32;
};

/// y = x W^T + b over the last dim: [..., in] -> [..., out].
/// weight [out, in], bias [out]; both U(-1/sqrt(in), 1/sqrt(in)).
class Linear : public Module {
public:
  static Expected<std::shared_ptr<Linear>> create(const LinearOptions &options,
                                                  Generator &gen);
  Expected<Tensor> forward(const Tensor &input) override;
  const Tensor &weight() const { return *weight_; }
  /// Undefined without bias.
  Tensor bias() const { return bias_ ? *bias_ : Tensor(); }
  const LinearOptions &options() const { return options_; }

private:
  Linear(const LinearOptions &o) : Module("Linear"), options_(o) {}
  LinearOptions options_;
  Tensor *weight_ = nullptr;
  Tensor *bias_ = nullptr;
};

struct EmbeddingOptions {
  int64_t numEmbeddings = 0;
  int64_t embeddingDim = 0;
  DType dtype = DType::F32;
};

/// Rows of weight [numEmbeddings, embeddingDim] (init N(0, 1)) picked by
/// integer indices: [...] -> [..., embeddingDim]. An index outside
/// [0, numEmbeddings) is an OutOfRange status.
///
/// Tied output layer (weight sharing, as in language models):
///   head = Linear::create({.inFeatures = dim, .outFeatures = vocab,
///                          .bias = false}, gen);
///   head->setParameter("weight", embedding->weight());
class Embedding : public Module {
public:
  static Expected<std::shared_ptr<Embedding>>
  create(const EmbeddingOptions &options, Generator &gen);
  Expected<Tensor> forward(const Tensor &indices) override;
  const Tensor &weight() const { return *weight_; }
  const EmbeddingOptions &options() const { return options_; }

private:
  Embedding(const EmbeddingOptions &o) : Module("Embedding"), options_(o) {}
  EmbeddingOptions options_;
  Tensor *weight_ = nullptr;
};

//===----------------------------------------------------------------------===//
// Convolution and pooling (NCHW; an unbatched [C, H, W] input works too)
//===----------------------------------------------------------------------===//

struct Conv2dOptions {
  int64_t inChannels = 0;
  int64_t outChannels = 0;
  Pair kernelSize = {1, 1};
  Pair stride = {1, 1};
  /// Zeros added on both sides: {top/bottom, left/right}.
  Pair padding = {0, 0};
  Pair dilation = {1, 1};
  int64_t groups = 1;
  bool bias = true;
  DType dtype = DType::F32;
};

/// weight [out, in/groups, kH, kW], bias [out]; both
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in/groups * kH * kW.
class Conv2d : public Module {
public:
  static Expected<std::shared_ptr<Conv2d>> create(const Conv2dOptions &options,
                                                  Generator &gen);
  Expected<Tensor> forward(const Tensor &input) override;
  const Tensor &weight() const { return *weight_; }
  Tensor bias() const { return bias_ ? *bias_ : Tensor(); }
  const Conv2dOptions &options() const { return options_; }

private:
  Conv2d(const Conv2dOptions &o) : Module("Conv2d"), options_(o) {}
  Conv2dOptions options_;
  Tensor *weight_ = nullptr;
  Tensor *bias_ = nullptr;
};

struct ConvTranspose2dOptions {
  int64_t inChannels = 0;
  int64_t outChannels = 0;
  Pair kernelSize = {1, 1};
  Pair stride = {1, 1};
  Pair padding = {0, 0};
  Pair outputPadding = {0, 0};
  Pair dilation = {1, 1};
  int64_t groups = 1;
  bool bias = true;
  DType dtype = DType::F32;
};

/// weight [in, out/groups, kH, kW], bias [out]; both
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with PyTorch's fan_in of that weight,
/// out/groups * kH * kW.
class ConvTranspose2d : public Module {
public:
  static Expected<std::shared_ptr<ConvTranspose2d>>
  create(const ConvTranspose2dOptions &options, Generator &gen);
  Expected<Tensor> forward(const Tensor &input) override;
  const Tensor &weight() const { return *weight_; }
  Tensor bias() const { return bias_ ? *bias_ : Tensor(); }
  const ConvTranspose2dOptions &options() const { return options_; }

private:
  ConvTranspose2d(const ConvTranspose2dOptions &o)
      : Module("ConvTranspose2d"), options_(o) {}
  ConvTranspose2dOptions options_;
  Tensor *weight_ = nullptr;
  Tensor *bias_ = nullptr;
};

struct MaxPool2dOptions {
  Pair kernelSize = {1, 1};
  /// Defaults to kernelSize, as in PyTorch.
  std::optional<Pair> stride = {};
  Pair padding = {0, 0};
  Pair dilation = {1, 1};
  bool ceilMode = false;
};

class MaxPool2d : public Module {
public:
  static Expected<std::shared_ptr<MaxPool2d>>
  create(const MaxPool2dOptions &options);
  Expected<Tensor> forward(const Tensor &input) override;

private:
  MaxPool2d(const MaxPool2dOptions &o) : Module("MaxPool2d"), options_(o) {}
  MaxPool2dOptions options_;
};

struct AvgPool2dOptions {
  Pair kernelSize = {1, 1};
  std::optional<Pair> stride = {};
  Pair padding = {0, 0};
  bool ceilMode = false;
  /// PyTorch's default: padding counts in the divisor.
  bool countIncludePad = true;
};

class AvgPool2d : public Module {
public:
  static Expected<std::shared_ptr<AvgPool2d>>
  create(const AvgPool2dOptions &options);
  Expected<Tensor> forward(const Tensor &input) override;

private:
  AvgPool2d(const AvgPool2dOptions &o) : Module("AvgPool2d"), options_(o) {}
  AvgPool2dOptions options_;
};

//===----------------------------------------------------------------------===//
// Normalization and dropout
//===----------------------------------------------------------------------===//

struct BatchNormOptions {
  int64_t numFeatures = 0;
  double eps = 1e-5;
  /// running = (1 - momentum) * running + momentum * batch statistic.
  double momentum = 0.1;
  /// weight (ones) and bias (zeros) parameters.
  bool affine = true;
  /// Buffers running_mean (zeros), running_var (ones) and
  /// num_batches_tracked (i64 scalar). Without them both modes normalize
  /// with batch statistics.
  bool trackRunningStats = true;
  DType dtype = DType::F32;
};

/// Batch normalization over channels (dim 1). Training: normalizes with
/// the batch mean and biased variance, and moves running_mean and
/// running_var (unbiased variance) towards them. Eval: normalizes with the
/// running statistics.
class BatchNorm : public Module {
public:
  Expected<Tensor> forward(const Tensor &input) override;
  /// Undefined without affine / trackRunningStats.
  Tensor weight() const { return weight_ ? *weight_ : Tensor(); }
  Tensor bias() const { return bias_ ? *bias_ : Tensor(); }
  Tensor runningMean() const { return mean_ ? *mean_ : Tensor(); }
  Tensor runningVar() const { return var_ ? *var_ : Tensor(); }
  const BatchNormOptions &options() const { return options_; }

protected:
  BatchNorm(std::string typeName, const BatchNormOptions &o,
            std::vector<int64_t> ranks)
      : Module(std::move(typeName)), options_(o), ranks_(std::move(ranks)) {}
  Status init();

private:
  BatchNormOptions options_;
  std::vector<int64_t> ranks_;
  Tensor *weight_ = nullptr;
  Tensor *bias_ = nullptr;
  Tensor *mean_ = nullptr;
  Tensor *var_ = nullptr;
  Tensor *count_ = nullptr;
};

/// Input [N, C] or [N, C, L].
class BatchNorm1d : public BatchNorm {
public:
  static Expected<std::shared_ptr<BatchNorm1d>>
  create(const BatchNormOptions &options);

private:
  BatchNorm1d(const BatchNormOptions &o) : BatchNorm("BatchNorm1d", o, {2, 3}) {}
};

/// Input [N, C, H, W].
class BatchNorm2d : public BatchNorm {
public:
  static Expected<std::shared_ptr<BatchNorm2d>>
  create(const BatchNormOptions &options);

private:
  BatchNorm2d(const BatchNormOptions &o) : BatchNorm("BatchNorm2d", o, {4}) {}
};

struct LayerNormOptions {
  /// The trailing dims normalized over, e.g. {dModel}.
  Shape normalizedShape = {};
  double eps = 1e-5;
  /// weight (ones) and, with `bias`, bias (zeros) of normalizedShape.
  bool elementwiseAffine = true;
  bool bias = true;
  DType dtype = DType::F32;
};

class LayerNorm : public Module {
public:
  static Expected<std::shared_ptr<LayerNorm>>
  create(const LayerNormOptions &options);
  Expected<Tensor> forward(const Tensor &input) override;
  Tensor weight() const { return weight_ ? *weight_ : Tensor(); }
  Tensor bias() const { return bias_ ? *bias_ : Tensor(); }

private:
  LayerNorm(const LayerNormOptions &o) : Module("LayerNorm"), options_(o) {}
  LayerNormOptions options_;
  Tensor *weight_ = nullptr;
  Tensor *bias_ = nullptr;
};

struct DropoutOptions {
  /// Probability of zeroing an element, in [0, 1].
  double p = 0.5;
  /// Seeds the layer's own Generator.
  uint64_t seed = 0;
};

/// Training: zeroes each element with probability p and scales the rest by
/// 1 / (1 - p); eval: identity. Each call draws a fresh seed from the
/// layer's counter-based Generator, so masks differ between calls and a
/// layer rebuilt with the same seed replays the same masks.
class Dropout : public Module {
public:
  static Expected<std::shared_ptr<Dropout>>
  create(const DropoutOptions &options);
  Expected<Tensor> forward(const Tensor &input) override;
  double p() const { return options_.p; }
  /// The generator the per-call seeds come from (its offset counts calls).
  Generator &generator() { return gen_; }

private:
  Dropout(const DropoutOptions &o)
      : Module("Dropout"), options_(o), gen_(o.seed) {}
  DropoutOptions options_;
  Generator gen_;
};

//===----------------------------------------------------------------------===//
// Parameterless layers, so that Sequential models number their children as
// PyTorch does.
//===----------------------------------------------------------------------===//

/// An elementwise activation: "relu", "gelu" (erf), "gelu_tanh", "tanh",
/// "sigmoid", "silu" or "identity". typeName() is PyTorch's class name
/// (ReLU, GELU, Tanh, Sigmoid, SiLU, Identity).
class Activation : public Module {
public:
  static Expected<std::shared_ptr<Activation>> create(std::string_view kind);
  Expected<Tensor> forward(const Tensor &input) override;

private:
  Activation(std::string typeName, std::string kind)
      : Module(std::move(typeName)), kind_(std::move(kind)) {}
  std::string kind_;
};

/// Flattens dims [startDim, endDim] into one (torch.nn.Flatten; defaults
/// 1 and -1).
class Flatten : public Module {
public:
  static Expected<std::shared_ptr<Flatten>> create(int64_t startDim = 1,
                                                   int64_t endDim = -1);
  Expected<Tensor> forward(const Tensor &input) override;

private:
  Flatten(int64_t s, int64_t e) : Module("Flatten"), start_(s), end_(e) {}
  int64_t start_, end_;
};

} // namespace kiln::nn

#endif // KILN_NN_LAYERS_H
