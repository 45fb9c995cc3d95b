//===- Recurrent.cpp - LSTM and GRU ----------------------------------------===//
//
// Each layer projects the whole input sequence at once (one GEMM of
// N*T rows), then runs the fused sequence op (RecurrentOps.h), which steps
// through time with one [N, H] x [H, G*H] GEMM and one pointwise pass per
// step and records one autograd node. The LSTM op adds b_ih + b_hh to the
// projection itself; the GRU adds b_ih and keeps b_hh apart (r multiplies
// its n part). Outputs
// and final states are views of the op's result.
//
//===----------------------------------------------------------------------===//
#include "kiln/nn/Recurrent.h"

#include "NNUtil.h"
#include "kiln/NNOps.h"
#include "kiln/RecurrentOps.h"
#include "kiln/nn/Init.h"

#include <cmath>

namespace kiln::nn {

using detail::describe;

Status RecurrentBase::init(Generator &gen) {
  const RecurrentOptions &o = options_;
  if (o.inputSize < 1 || o.hiddenSize < 1 || o.numLayers < 1)
    return invalidArgument(typeName(), ": inputSize, hiddenSize and numLayers "
                           "must be >= 1, got ",
                           o.inputSize, ", ", o.hiddenSize, ", ", o.numLayers);
  if (!(o.dropout >= 0 && o.dropout <= 1))
    return invalidArgument(typeName(), ": dropout must be in [0, 1], got ",
                           o.dropout);
  if (!isFloat(o.dtype))
    return invalidArgument(typeName(), ": dtype ", dtypeName(o.dtype),
                           " is not a float dtype");
  double bound = 1.0 / std::sqrt(double(o.hiddenSize));
  int64_t gh = gates_ * o.hiddenSize;
  auto add = [&](const std::string &name, Shape shape,
                 std::vector<Tensor *> &list) -> Status {
    KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::zeros(shape, o.dtype));
    KILN_RETURN_IF_ERROR(init::uniform(t, -bound, bound, gen));
    KILN_ASSIGN_OR_RETURN(Tensor * slot, registerParameter(name, t));
    list.push_back(slot);
    return Status::ok();
  };
  for (int64_t l = 0; l < o.numLayers; ++l) {
    std::string suffix = "_l" + std::to_string(l);
    int64_t in = l == 0 ? o.inputSize : o.hiddenSize;
    KILN_RETURN_IF_ERROR(add("weight_ih" + suffix, {gh, in}, weightIH_));
    KILN_RETURN_IF_ERROR(add("weight_hh" + suffix, {gh, o.hiddenSize}, weightHH_));
    if (o.bias) {
      KILN_RETURN_IF_ERROR(add("bias_ih" + suffix, {gh}, biasIH_));
      KILN_RETURN_IF_ERROR(add("bias_hh" + suffix, {gh}, biasHH_));
    }
  }
  return Status::ok();
}

Expected<Tensor> RecurrentBase::forward(const Tensor &input) {
  KILN_ASSIGN_OR_RETURN(RecurrentOutput out, forward(input, RecurrentState{}));
  return out.output;
}

Expected<RecurrentOutput> RecurrentBase::forward(const Tensor &input,
                                                 const RecurrentState &state) {
  const RecurrentOptions &o = options_;
  KILN_RETURN_IF_ERROR(detail::checkFloatInput(typeName(), input, o.dtype));
  if ((input.rank() != 3 && input.rank() != 2) ||
      input.dim(-1) != o.inputSize)
    return invalidArgument(typeName(), ": expected input ",
                           o.batchFirst ? "[N, T, " : "[T, N, ", o.inputSize,
                           "] or [T, ", o.inputSize, "], got ",
                           describe(input));
  bool unbatched = input.rank() == 2;
  // Work batch-first: x [N, T, in].
  Tensor x = input;
  int64_t zero[] = {0}, one[] = {1};
  if (unbatched) {
    KILN_ASSIGN_OR_RETURN(x, input.expandDims(zero));
  } else if (!o.batchFirst) {
    KILN_ASSIGN_OR_RETURN(x, input.transpose(0, 1));
  }
  int64_t n = x.dim(0), t = x.dim(1), hid = o.hiddenSize, layers = o.numLayers;
  if (t < 1)
    return invalidArgument(typeName(), ": the input sequence is empty (",
                           describe(input), ")");
  // Initial states as [L, N, H].
  auto initial = [&](const Tensor &s, const char *what) -> Expected<Tensor> {
    if (!s.defined())
      return Tensor::zeros({layers, n, hid}, o.dtype);
    Shape want = unbatched ? Shape{layers, hid} : Shape{layers, n, hid};
    if (s.shape() != want || s.dtype() != o.dtype)
      return invalidArgument(typeName(), ": initial ", what, " must be ",
                             dtypeName(o.dtype), detail::shapeString(want),
                             ", got ", describe(s));
    return unbatched ? s.expandDims(one) : Expected<Tensor>(s);
  };
  KILN_ASSIGN_OR_RETURN(Tensor h0, initial(state.h, "h"));
  Tensor c0;
  if (isLSTM()) {
    KILN_ASSIGN_OR_RETURN(c0, initial(state.c, "c"));
  }

  Tensor layerInput = x;
  std::vector<Tensor> lastH, lastC;
  for (int64_t l = 0; l < layers; ++l) {
    int64_t in = layerInput.dim(2);
    KILN_ASSIGN_OR_RETURN(Tensor rows, layerInput.reshape({n * t, in}));
    KILN_ASSIGN_OR_RETURN(Tensor xProj,
                          matmul(rows, *weightIH_[size_t(l)], false, true));
    KILN_ASSIGN_OR_RETURN(xProj, xProj.reshape({n, t, gates_ * hid}));
    KILN_ASSIGN_OR_RETURN(Tensor h, h0.select(0, l));
    Tensor c;
    if (isLSTM()) {
      KILN_ASSIGN_OR_RETURN(c, c0.select(0, l));
    }
    KILN_ASSIGN_OR_RETURN(LayerOutput lo, runLayer(l, xProj, h, c));
    layerInput = lo.output;
    if (o.dropout > 0 && isTraining() && l + 1 < layers) {
      KILN_ASSIGN_OR_RETURN(layerInput,
                            detail::dropout(layerInput, o.dropout,
                                            detail::nextSeed(dropoutGen_)));
    }
    lastH.push_back(lo.h);
    lastC.push_back(lo.c);
  }

  RecurrentOutput out;
  out.output = layerInput;
  KILN_ASSIGN_OR_RETURN(out.h, detail::stack(lastH, 0));
  if (isLSTM()) {
    KILN_ASSIGN_OR_RETURN(out.c, detail::stack(lastC, 0));
  }
  if (unbatched) {
    KILN_ASSIGN_OR_RETURN(out.output, out.output.squeeze(zero));
    KILN_ASSIGN_OR_RETURN(out.h, out.h.squeeze(one));
    if (isLSTM()) {
      KILN_ASSIGN_OR_RETURN(out.c, out.c.squeeze(one));
    }
  } else if (!o.batchFirst) {
    KILN_ASSIGN_OR_RETURN(out.output, out.output.transpose(0, 1));
  }
  return out;
}

Expected<std::shared_ptr<LSTM>> LSTM::create(const RecurrentOptions &options,
                                             Generator &gen) {
  std::shared_ptr<LSTM> m(new LSTM(options));
  KILN_RETURN_IF_ERROR(m->init(gen));
  return m;
}

Expected<RecurrentBase::LayerOutput>
LSTM::runLayer(int64_t layer, const Tensor &xProj, const Tensor &h0,
               const Tensor &c0) {
  int64_t last = xProj.dim(1) - 1;
  Tensor bias;
  if (Tensor b = biasHH(layer); b.defined()) {
    KILN_ASSIGN_OR_RETURN(bias, biasIH(layer) + b);
  }
  KILN_ASSIGN_OR_RETURN(Tensor hc,
                        lstmSequence(xProj, h0, c0, weightHH(layer), bias));
  LayerOutput out;
  KILN_ASSIGN_OR_RETURN(out.output, hc.select(0, 0));
  KILN_ASSIGN_OR_RETURN(Tensor final, hc.select(2, last));
  KILN_ASSIGN_OR_RETURN(out.h, final.select(0, 0));
  KILN_ASSIGN_OR_RETURN(out.c, final.select(0, 1));
  return out;
}

Expected<std::shared_ptr<GRU>> GRU::create(const RecurrentOptions &options,
                                           Generator &gen) {
  std::shared_ptr<GRU> m(new GRU(options));
  KILN_RETURN_IF_ERROR(m->init(gen));
  return m;
}

Expected<RecurrentBase::LayerOutput>
GRU::runLayer(int64_t layer, const Tensor &xProj, const Tensor &h0,
              const Tensor &) {
  Tensor x = xProj;
  if (Tensor b = biasIH(layer); b.defined()) {
    KILN_ASSIGN_OR_RETURN(x, x + b);
  }
  LayerOutput out;
  KILN_ASSIGN_OR_RETURN(out.output,
                        gruSequence(x, h0, weightHH(layer), biasHH(layer)));
  KILN_ASSIGN_OR_RETURN(out.h, out.output.select(1, xProj.dim(1) - 1));
  return out;
}

} // namespace kiln::nn
