//===- Recurrent.h - LSTM and GRU ------------------------------------------===//
//
// Multi-layer, unidirectional recurrent layers with PyTorch's gate order,
// parameter names and shapes (weight_ih_l0 [G*H, in], weight_hh_l0
// [G*H, H], bias_ih_l0 and bias_hh_l0 [G*H]; G = 4 for LSTM gates
// i, f, g, o and 3 for GRU gates r, z, n), all initialised
// U(-1/sqrt(H), 1/sqrt(H)).
//
//   KILN_ASSIGN_OR_RETURN(auto lstm, nn::LSTM::create(
//       {.inputSize = 8, .hiddenSize = 16, .numLayers = 2}, gen));
//   KILN_ASSIGN_OR_RETURN(nn::RecurrentOutput r, lstm->forward(x, {}));
//   // r.output [N, T, 16]; r.h, r.c [2, N, 16]
//
// Inputs are batch-first [N, T, in] by default (batchFirst = false takes
// [T, N, in] and returns [T, N, H]); an unbatched [T, in] input gives an
// unbatched output and states [L, H]. Each layer is one matmul for the
// input part of every step plus one fused op over the whole sequence
// (kiln::lstmSequence / kiln::gruSequence, RecurrentOps.h): one autograd
// node per layer, analytic backward through time.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_NN_RECURRENT_H
#define KILN_NN_RECURRENT_H

#include "kiln/nn/Module.h"

namespace kiln::nn {

struct RecurrentOptions {
  int64_t inputSize = 0;
  int64_t hiddenSize = 0;
  int64_t numLayers = 1;
  bool bias = true;
  bool batchFirst = true;
  /// Dropout on the outputs of every layer but the last, while training.
  double dropout = 0.0;
  /// Seeds the inter-layer dropout's generator.
  uint64_t dropoutSeed = 0;
  DType dtype = DType::F32;
};

/// Hidden (and, for LSTM, cell) state: [numLayers, N, H].
struct RecurrentState {
  Tensor h = {};
  Tensor c = {}; ///< LSTM only.
};

struct RecurrentOutput {
  Tensor output; ///< The last layer's h at every step.
  Tensor h;      ///< Each layer's h after the last step.
  Tensor c;      ///< LSTM: each layer's c after the last step.
};

/// What LSTM and GRU share: parameters, shape checks, the layer loop.
class RecurrentBase : public Module {
public:
  /// `state` undefined parts start at zero.
  Expected<RecurrentOutput> forward(const Tensor &input,
                                    const RecurrentState &state);
  /// The output sequence only, from a zero state.
  Expected<Tensor> forward(const Tensor &input) override;
  const RecurrentOptions &options() const { return options_; }

protected:
  RecurrentBase(std::string typeName, int64_t gates,
                const RecurrentOptions &o)
      : Module(std::move(typeName)), options_(o), gates_(gates),
        dropoutGen_(o.dropoutSeed) {}
  Status init(Generator &gen);
  /// What one layer gives back: h at every step [N, T, H], and the last
  /// h (and c) [N, H].
  struct LayerOutput {
    Tensor output, h, c;
  };
  /// Layer `l` over the sequence: `xProj` = x W_ih^T [N, T, G*H] (no bias
  /// yet); h0 (and c0) [N, H].
  virtual Expected<LayerOutput> runLayer(int64_t layer, const Tensor &xProj,
                                         const Tensor &h0, const Tensor &c0) = 0;
  /// Undefined without bias.
  Tensor biasIH(int64_t l) const {
    return biasIH_.empty() ? Tensor() : *biasIH_[size_t(l)];
  }
  const Tensor &weightHH(int64_t l) const { return *weightHH_[size_t(l)]; }
  /// Undefined without bias.
  Tensor biasHH(int64_t l) const {
    return biasHH_.empty() ? Tensor() : *biasHH_[size_t(l)];
  }
  bool isLSTM() const { return gates_ == 4; }

  RecurrentOptions options_;
  int64_t gates_;

private:
  std::vector<Tensor *> weightIH_, weightHH_, biasIH_, biasHH_;
  Generator dropoutGen_;
};

class LSTM : public RecurrentBase {
public:
  static Expected<std::shared_ptr<LSTM>> create(const RecurrentOptions &options,
                                                Generator &gen);
  using RecurrentBase::forward;

private:
  LSTM(const RecurrentOptions &o) : RecurrentBase("LSTM", 4, o) {}
  Expected<LayerOutput> runLayer(int64_t layer, const Tensor &xProj,
                                 const Tensor &h0, const Tensor &c0) override;
};

class GRU : public RecurrentBase {
public:
  static Expected<std::shared_ptr<GRU>> create(const RecurrentOptions &options,
                                               Generator &gen);
  using RecurrentBase::forward;

private:
  GRU(const RecurrentOptions &o) : RecurrentBase("GRU", 3, o) {}
  Expected<LayerOutput> runLayer(int64_t layer, const Tensor &xProj,
                                 const Tensor &h0, const Tensor &c0) override;
};

} // namespace kiln::nn

#endif // KILN_NN_RECURRENT_H
