//===- Transformer.h - Multi-head attention and encoder layers -------------===//
//
// Batch-first attention ([N, L, E] queries, [N, S, E] keys and values) with
// PyTorch's parameter layout, so state_dict keys and weights carry over:
//
//   MultiheadAttention: in_proj_weight [3E, E] (xavier uniform),
//     in_proj_bias [3E] (zeros), out_proj.weight [E, E], out_proj.bias [E]
//     (zeros).
//   TransformerEncoderLayer: self_attn.*, linear1, linear2, norm1, norm2
//     (dropout, dropout1, dropout2 have no parameters).
//   TransformerEncoder: layers.0.*, layers.1.*, ..., norm.* (optional).
//
//   KILN_ASSIGN_OR_RETURN(auto enc, nn::TransformerEncoderLayer::create(
//       {.dModel = 64, .nHead = 4, .dimFeedforward = 128}, gen));
//   KILN_ASSIGN_OR_RETURN(Tensor y, enc->forward(x, {.isCausal = true}));
//
// Masks: attnMask is [L, S] or [N * nHead, L, S], either bool (true = may
// not attend, as in PyTorch) or float (added to the scores);
// keyPaddingMask is bool [N, S] (true = padding). A row with every key
// masked gives NaN, as in PyTorch's math path.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_NN_TRANSFORMER_H
#define KILN_NN_TRANSFORMER_H

#include "kiln/nn/Layers.h"

namespace kiln::nn {

struct AttentionMasks {
  Tensor attnMask = {};
  Tensor keyPaddingMask = {};
  /// Adds a causal mask (query i sees keys <= i); L must equal S.
  bool isCausal = false;
};

struct MultiheadAttentionOptions {
  int64_t embedDim = 0;
  int64_t numHeads = 1;
  /// Dropout on the attention weights while training.
  double dropout = 0.0;
  uint64_t dropoutSeed = 0;
  bool bias = true;
  DType dtype = DType::F32;
};

struct AttentionOutput {
  Tensor output;  ///< [N, L, E].
  /// [N, L, S] averaged over heads (or [N, nHead, L, S] when not averaged);
  /// undefined when not asked for.
  Tensor weights;
};

class MultiheadAttention : public Module {
public:
  static Expected<std::shared_ptr<MultiheadAttention>>
  create(const MultiheadAttentionOptions &options, Generator &gen);
  Expected<AttentionOutput> forward(const Tensor &query, const Tensor &key,
                                    const Tensor &value,
                                    const AttentionMasks &masks = {},
                                    bool needWeights = true,
                                    bool averageAttnWeights = true);
  /// Self-attention, output only.
  Expected<Tensor> forward(const Tensor &x) override;
  const MultiheadAttentionOptions &options() const { return options_; }

private:
  MultiheadAttention(const MultiheadAttentionOptions &o)
      : Module("MultiheadAttention"), options_(o), dropoutGen_(o.dropoutSeed) {}
  MultiheadAttentionOptions options_;
  Tensor *inProjWeight_ = nullptr;
  Tensor *inProjBias_ = nullptr;
  std::shared_ptr<Linear> outProj_;
  Generator dropoutGen_;
};

struct TransformerEncoderLayerOptions {
  int64_t dModel = 0;
  int64_t nHead = 1;
  int64_t dimFeedforward = 2048;
  double dropout = 0.1;
  /// "relu" or "gelu".
  std::string activation = "relu";
  double layerNormEps = 1e-5;
  /// Pre-norm (x + f(norm(x))) instead of post-norm (norm(x + f(x))).
  bool normFirst = false;
  bool bias = true;
  DType dtype = DType::F32;
};

class TransformerEncoderLayer : public Module {
public:
  /// The dropout layers are seeded from `gen` too.
  static Expected<std::shared_ptr<TransformerEncoderLayer>>
  create(const TransformerEncoderLayerOptions &options, Generator &gen);
  Expected<Tensor> forward(const Tensor &src, const AttentionMasks &masks);
  Expected<Tensor> forward(const Tensor &src) override {
    return forward(src, AttentionMasks{});
  }
  const TransformerEncoderLayerOptions &options() const { return options_; }

private:
  TransformerEncoderLayer(const TransformerEncoderLayerOptions &o)
      : Module("TransformerEncoderLayer"), options_(o) {}
  Expected<Tensor> feedForward(const Tensor &x);
  TransformerEncoderLayerOptions options_;
  std::shared_ptr<MultiheadAttention> selfAttn_;
  std::shared_ptr<Linear> linear1_, linear2_;
  std::shared_ptr<LayerNorm> norm1_, norm2_;
  std::shared_ptr<Dropout> dropout_, dropout1_, dropout2_;
};

/// `numLayers` encoder layers (children "layers.i") starting from identical
/// weights, as PyTorch's deep copies do, and an optional final LayerNorm
/// ("norm").
class TransformerEncoder : public Module {
public:
  static Expected<std::shared_ptr<TransformerEncoder>>
  create(const TransformerEncoderLayerOptions &layer, int64_t numLayers,
         bool finalNorm, Generator &gen);
  Expected<Tensor> forward(const Tensor &src, const AttentionMasks &masks);
  Expected<Tensor> forward(const Tensor &src) override {
    return forward(src, AttentionMasks{});
  }

private:
  TransformerEncoder() : Module("TransformerEncoder") {}
  std::vector<std::shared_ptr<TransformerEncoderLayer>> layers_;
  std::shared_ptr<LayerNorm> norm_;
};

} // namespace kiln::nn

#endif // KILN_NN_TRANSFORMER_H
