//===- Transformer.cpp - MultiheadAttention, TransformerEncoder(Layer) -----===//
//
// Attention follows PyTorch's math path (F.multi_head_attention_forward):
// project with the three row blocks of in_proj_weight, split heads
// ([N, len, E] -> [N, h, len, E/h]), scale queries by 1/sqrt(E/h), add the
// masks to the scores, softmax over keys, dropout, weight the values,
// merge heads and apply out_proj.
//
//===----------------------------------------------------------------------===//
#include "kiln/nn/Transformer.h"

#include "NNUtil.h"
#include "kiln/NNOps.h"
#include "kiln/nn/Init.h"

#include <cmath>
#include <limits>

namespace kiln::nn {

using detail::describe;

//===----------------------------------------------------------------------===//
// MultiheadAttention
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<MultiheadAttention>>
MultiheadAttention::create(const MultiheadAttentionOptions &o, Generator &gen) {
  if (o.embedDim < 1 || o.numHeads < 1 || o.embedDim % o.numHeads)
    return invalidArgument("MultiheadAttention: embedDim (", o.embedDim,
                           ") must be >= 1 and divisible by numHeads (",
                           o.numHeads, ")");
  if (!(o.dropout >= 0 && o.dropout <= 1))
    return invalidArgument("MultiheadAttention: dropout must be in [0, 1], got ",
                           o.dropout);
  if (!isFloat(o.dtype))
    return invalidArgument("MultiheadAttention: dtype ", dtypeName(o.dtype),
                           " is not a float dtype");
  std::shared_ptr<MultiheadAttention> m(new MultiheadAttention(o));
  int64_t e = o.embedDim;
  KILN_ASSIGN_OR_RETURN(Tensor w, Tensor::zeros({3 * e, e}, o.dtype));
  KILN_RETURN_IF_ERROR(init::xavierUniform(w, gen));
  KILN_ASSIGN_OR_RETURN(m->inProjWeight_,
                        m->registerParameter("in_proj_weight", w));
  if (o.bias) {
    KILN_ASSIGN_OR_RETURN(Tensor b, Tensor::zeros({3 * e}, o.dtype));
    KILN_ASSIGN_OR_RETURN(m->inProjBias_,
                          m->registerParameter("in_proj_bias", b));
  }
  KILN_ASSIGN_OR_RETURN(
      m->outProj_,
      Linear::create({.inFeatures = e, .outFeatures = e, .bias = o.bias,
                      .dtype = o.dtype},
                     gen));
  if (o.bias) {
    Tensor ob = m->outProj_->bias();
    KILN_RETURN_IF_ERROR(init::zeros(ob));
  }
  m->registerModule("out_proj", m->outProj_);
  return m;
}

namespace {

/// Turns a bool mask (true = masked) into 0 / -inf scores of `dtype`; a
/// float mask is returned as is.
Expected<Tensor> additiveMask(const Tensor &mask, DType dtype,
                              std::string_view what) {
  if (mask.dtype() == DType::Bool) {
    KILN_ASSIGN_OR_RETURN(
        Tensor ninf,
        Tensor::scalar(-std::numeric_limits<double>::infinity(), dtype));
    KILN_ASSIGN_OR_RETURN(Tensor zero, Tensor::scalar(0.0, dtype));
    return select(mask, ninf, zero);
  }
  if (mask.dtype() != dtype)
    return invalidArgument("MultiheadAttention: ", what, " has dtype ",
                           dtypeName(mask.dtype()), ", expected bool or ",
                           dtypeName(dtype));
  return mask;
}

} // namespace

Expected<AttentionOutput>
MultiheadAttention::forward(const Tensor &query, const Tensor &key,
                            const Tensor &value, const AttentionMasks &masks,
                            bool needWeights, bool averageAttnWeights) {
  const MultiheadAttentionOptions &o = options_;
  int64_t e = o.embedDim, heads = o.numHeads, d = e / heads;
  for (const Tensor *t : {&query, &key, &value})
    KILN_RETURN_IF_ERROR(
        detail::checkFloatInput("MultiheadAttention", *t, o.dtype));
  if (query.rank() != 3 || query.dim(2) != e || key.rank() != 3 ||
      key.dim(2) != e || value.shape() != key.shape() ||
      key.dim(0) != query.dim(0))
    return invalidArgument("MultiheadAttention: expected query [N, L, ", e,
                           "] and key, value [N, S, ", e, "], got ",
                           describe(query), ", ", describe(key), ", ",
                           describe(value));
  int64_t n = query.dim(0), l = query.dim(1), s = key.dim(1);

  // [N, len, E] -> [N, heads, len, d] with rows [block*E, (block+1)*E) of
  // the in-projection.
  auto project = [&](const Tensor &x, int64_t block) -> Expected<Tensor> {
    KILN_ASSIGN_OR_RETURN(Tensor w, inProjWeight_->slice(0, block * e,
                                                         (block + 1) * e));
    KILN_ASSIGN_OR_RETURN(Tensor rows, x.reshape({-1, e}));
    KILN_ASSIGN_OR_RETURN(Tensor y, matmul(rows, w, false, true));
    if (inProjBias_) {
      KILN_ASSIGN_OR_RETURN(y, y + inProjBias_->slice(0, block * e,
                                                      (block + 1) * e));
    }
    KILN_ASSIGN_OR_RETURN(y, y.reshape({x.dim(0), x.dim(1), heads, d}));
    return y.permute({0, 2, 1, 3});
  };
  KILN_ASSIGN_OR_RETURN(Tensor q, project(query, 0));
  KILN_ASSIGN_OR_RETURN(Tensor k, project(key, 1));
  KILN_ASSIGN_OR_RETURN(Tensor v, project(value, 2));
  KILN_ASSIGN_OR_RETURN(q, q * (1.0 / std::sqrt(double(d))));
  KILN_ASSIGN_OR_RETURN(Tensor scores, matmul(q, k, false, true)); // [N,h,L,S]

  if (masks.attnMask.defined()) {
    const Tensor &m = masks.attnMask;
    Shape flat = {l, s}, perHead = {n * heads, l, s};
    if (m.shape() != flat && m.shape() != perHead)
      return invalidArgument("MultiheadAttention: attnMask must be ",
                             detail::shapeString(flat), " or ",
                             detail::shapeString(perHead), ", got ",
                             describe(m));
    KILN_ASSIGN_OR_RETURN(Tensor add, additiveMask(m, o.dtype, "attnMask"));
    if (m.rank() == 3) {
      KILN_ASSIGN_OR_RETURN(add, add.reshape({n, heads, l, s}));
    }
    KILN_ASSIGN_OR_RETURN(scores, scores + add);
  }
  if (masks.keyPaddingMask.defined()) {
    const Tensor &m = masks.keyPaddingMask;
    if (m.shape() != Shape{n, s})
      return invalidArgument("MultiheadAttention: keyPaddingMask must be [", n,
                             ", ", s, "], got ", describe(m));
    KILN_ASSIGN_OR_RETURN(Tensor add,
                          additiveMask(m, o.dtype, "keyPaddingMask"));
    KILN_ASSIGN_OR_RETURN(add, add.reshape({n, 1, 1, s}));
    KILN_ASSIGN_OR_RETURN(scores, scores + add);
  }
  if (masks.isCausal) {
    if (l != s)
      return invalidArgument("MultiheadAttention: isCausal needs as many "
                             "queries as keys, got L = ",
                             l, ", S = ", s);
    KILN_ASSIGN_OR_RETURN(Tensor causal, Tensor::zeros({l, s}, o.dtype));
    double *p = nullptr;
    KILN_ASSIGN_OR_RETURN(Tensor c64, Tensor::zeros({l, s}, DType::F64));
    p = c64.data<double>();
    for (int64_t i = 0; i < l; ++i)
      for (int64_t j = i + 1; j < s; ++j)
        p[i * s + j] = -std::numeric_limits<double>::infinity();
    KILN_RETURN_IF_ERROR(causal.copyFrom(c64));
    KILN_ASSIGN_OR_RETURN(scores, scores + causal);
  }

  KILN_ASSIGN_OR_RETURN(Tensor attn, softmax(scores, -1));
  if (o.dropout > 0 && isTraining()) {
    KILN_ASSIGN_OR_RETURN(attn, detail::dropout(attn, o.dropout,
                                                detail::nextSeed(dropoutGen_)));
  }
  KILN_ASSIGN_OR_RETURN(Tensor ctx, matmul(attn, v)); // [N, h, L, d]
  KILN_ASSIGN_OR_RETURN(ctx, ctx.permute({0, 2, 1, 3}));
  KILN_ASSIGN_OR_RETURN(ctx, ctx.reshape({n, l, e}));
  AttentionOutput out;
  KILN_ASSIGN_OR_RETURN(out.output, outProj_->forward(ctx));
  if (needWeights) {
    if (averageAttnWeights) {
      KILN_ASSIGN_OR_RETURN(out.weights, mean(attn, {1}));
    } else {
      out.weights = attn;
    }
  }
  return out;
}

Expected<Tensor> MultiheadAttention::forward(const Tensor &x) {
  KILN_ASSIGN_OR_RETURN(AttentionOutput out, forward(x, x, x, {}, false));
  return out.output;
}

//===----------------------------------------------------------------------===//
// TransformerEncoderLayer
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<TransformerEncoderLayer>>
TransformerEncoderLayer::create(const TransformerEncoderLayerOptions &o,
                                Generator &gen) {
  if (o.activation != "relu" && o.activation != "gelu")
    return invalidArgument("TransformerEncoderLayer: activation must be "
                           "\"relu\" or \"gelu\", got \"",
                           o.activation, "\"");
  if (o.dimFeedforward < 1)
    return invalidArgument("TransformerEncoderLayer: dimFeedforward must be "
                           ">= 1, got ",
                           o.dimFeedforward);
  std::shared_ptr<TransformerEncoderLayer> m(new TransformerEncoderLayer(o));
  KILN_ASSIGN_OR_RETURN(
      m->selfAttn_,
      MultiheadAttention::create({.embedDim = o.dModel, .numHeads = o.nHead,
                                  .dropout = o.dropout,
                                  .dropoutSeed = detail::nextSeed(gen),
                                  .bias = o.bias, .dtype = o.dtype},
                                 gen));
  KILN_ASSIGN_OR_RETURN(m->linear1_,
                        Linear::create({.inFeatures = o.dModel,
                                        .outFeatures = o.dimFeedforward,
                                        .bias = o.bias, .dtype = o.dtype},
                                       gen));
  KILN_ASSIGN_OR_RETURN(m->linear2_,
                        Linear::create({.inFeatures = o.dimFeedforward,
                                        .outFeatures = o.dModel,
                                        .bias = o.bias, .dtype = o.dtype},
                                       gen));
  LayerNormOptions norm{.normalizedShape = {o.dModel},
                        .eps = o.layerNormEps,
                        .bias = o.bias,
                        .dtype = o.dtype};
  KILN_ASSIGN_OR_RETURN(m->norm1_, LayerNorm::create(norm));
  KILN_ASSIGN_OR_RETURN(m->norm2_, LayerNorm::create(norm));
  auto dropout = [&]() {
    return Dropout::create({.p = o.dropout, .seed = detail::nextSeed(gen)});
  };
  KILN_ASSIGN_OR_RETURN(m->dropout_, dropout());
  KILN_ASSIGN_OR_RETURN(m->dropout1_, dropout());
  KILN_ASSIGN_OR_RETURN(m->dropout2_, dropout());
  // PyTorch's attribute order, which is its state_dict order.
  m->registerModule("self_attn", m->selfAttn_);
  m->registerModule("linear1", m->linear1_);
  m->registerModule("dropout", m->dropout_);
  m->registerModule("linear2", m->linear2_);
  m->registerModule("norm1", m->norm1_);
  m->registerModule("norm2", m->norm2_);
  m->registerModule("dropout1", m->dropout1_);
  m->registerModule("dropout2", m->dropout2_);
  return m;
}

Expected<Tensor> TransformerEncoderLayer::feedForward(const Tensor &x) {
  KILN_ASSIGN_OR_RETURN(Tensor h, linear1_->forward(x));
  if (options_.activation == "gelu") {
    KILN_ASSIGN_OR_RETURN(h, gelu(h, "none"));
  } else {
    KILN_ASSIGN_OR_RETURN(h, relu(h));
  }
  KILN_ASSIGN_OR_RETURN(h, dropout_->forward(h));
  KILN_ASSIGN_OR_RETURN(h, linear2_->forward(h));
  return dropout2_->forward(h);
}

Expected<Tensor> TransformerEncoderLayer::forward(const Tensor &src,
                                                  const AttentionMasks &masks) {
  auto attend = [&](const Tensor &x) -> Expected<Tensor> {
    KILN_ASSIGN_OR_RETURN(AttentionOutput a,
                          selfAttn_->forward(x, x, x, masks, false));
    return dropout1_->forward(a.output);
  };
  Tensor x = src;
  if (options_.normFirst) {
    KILN_ASSIGN_OR_RETURN(Tensor n1, norm1_->forward(x));
    KILN_ASSIGN_OR_RETURN(x, x + attend(n1));
    KILN_ASSIGN_OR_RETURN(Tensor n2, norm2_->forward(x));
    return x + feedForward(n2);
  }
  KILN_ASSIGN_OR_RETURN(Tensor a, x + attend(x));
  KILN_ASSIGN_OR_RETURN(x, norm1_->forward(a));
  KILN_ASSIGN_OR_RETURN(Tensor f, x + feedForward(x));
  return norm2_->forward(f);
}

//===----------------------------------------------------------------------===//
// TransformerEncoder
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<TransformerEncoder>>
TransformerEncoder::create(const TransformerEncoderLayerOptions &layer,
                           int64_t numLayers, bool finalNorm, Generator &gen) {
  if (numLayers < 1)
    return invalidArgument("TransformerEncoder: numLayers must be >= 1, got ",
                           numLayers);
  std::shared_ptr<TransformerEncoder> m(new TransformerEncoder());
  KILN_ASSIGN_OR_RETURN(auto list, ModuleList::create({}));
  for (int64_t i = 0; i < numLayers; ++i) {
    KILN_ASSIGN_OR_RETURN(auto l, TransformerEncoderLayer::create(layer, gen));
    // PyTorch deep-copies one layer: every layer starts from its weights.
    if (i > 0)
      KILN_RETURN_IF_ERROR(l->loadStateDict(m->layers_[0]->stateDict()));
    m->layers_.push_back(l);
    KILN_RETURN_IF_ERROR(list->append(l));
  }
  m->registerModule("layers", list);
  if (finalNorm) {
    KILN_ASSIGN_OR_RETURN(m->norm_,
                          LayerNorm::create({.normalizedShape = {layer.dModel},
                                             .eps = layer.layerNormEps,
                                             .bias = layer.bias,
                                             .dtype = layer.dtype}));
    m->registerModule("norm", m->norm_);
  }
  return m;
}

Expected<Tensor> TransformerEncoder::forward(const Tensor &src,
                                             const AttentionMasks &masks) {
  Tensor x = src;
  for (auto &l : layers_) {
    KILN_ASSIGN_OR_RETURN(x, l->forward(x, masks));
  }
  if (norm_)
    return norm_->forward(x);
  return x;
}

} // namespace kiln::nn
