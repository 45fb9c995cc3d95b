//===- Linear.cpp - Linear, Embedding and the parameterless layers ---------===//
#include "kiln/nn/Init.h"
#include "kiln/nn/Layers.h"

#include "NNUtil.h"
#include "kiln/NNOps.h"
#include "kiln/TrainingOps.h"

#include <cmath>

namespace kiln::nn {

using detail::describe;

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<Linear>> Linear::create(const LinearOptions &o,
                                                 Generator &gen) {
  if (o.inFeatures < 0 || o.outFeatures < 0)
    return invalidArgument("Linear: feature counts must be >= 0, got in ",
                           o.inFeatures, ", out ", o.outFeatures);
  if (!isFloat(o.dtype))
    return invalidArgument("Linear: dtype ", dtypeName(o.dtype),
                           " is not a float dtype");
  std::shared_ptr<Linear> m(new Linear(o));
  KILN_ASSIGN_OR_RETURN(Tensor w,
                        Tensor::zeros({o.outFeatures, o.inFeatures}, o.dtype));
  if (o.inFeatures > 0)
    KILN_RETURN_IF_ERROR(init::kaimingUniform(w, gen, std::sqrt(5.0)));
  KILN_ASSIGN_OR_RETURN(m->weight_, m->registerParameter("weight", w));
  if (o.bias) {
    KILN_ASSIGN_OR_RETURN(Tensor b, Tensor::zeros({o.outFeatures}, o.dtype));
    if (o.inFeatures > 0) {
      double bound = 1.0 / std::sqrt(double(o.inFeatures));
      KILN_RETURN_IF_ERROR(init::uniform(b, -bound, bound, gen));
    }
    KILN_ASSIGN_OR_RETURN(m->bias_, m->registerParameter("bias", b));
  }
  return m;
}

Expected<Tensor> Linear::forward(const Tensor &input) {
  KILN_RETURN_IF_ERROR(detail::checkFloatInput("Linear", input, options_.dtype));
  if (input.rank() < 1 || input.dim(-1) != options_.inFeatures)
    return invalidArgument("Linear: expected input [..., ",
                           options_.inFeatures, "], got ", describe(input));
  // One GEMM over every leading dim: [prod(lead), in] x [out, in]^T.
  Shape outShape = input.shape();
  outShape.back() = options_.outFeatures;
  KILN_ASSIGN_OR_RETURN(Tensor x2, input.reshape({-1, options_.inFeatures}));
  KILN_ASSIGN_OR_RETURN(Tensor y, matmul(x2, *weight_, false, true));
  if (bias_) {
    KILN_ASSIGN_OR_RETURN(y, y + *bias_);
  }
  return y.reshape(outShape);
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<Embedding>>
Embedding::create(const EmbeddingOptions &o, Generator &gen) {
  if (o.numEmbeddings < 1 || o.embeddingDim < 0)
    return invalidArgument("Embedding: need numEmbeddings >= 1 and "
                           "embeddingDim >= 0, got ",
                           o.numEmbeddings, " and ", o.embeddingDim);
  if (!isFloat(o.dtype))
    return invalidArgument("Embedding: dtype ", dtypeName(o.dtype),
                           " is not a float dtype");
  std::shared_ptr<Embedding> m(new Embedding(o));
  KILN_ASSIGN_OR_RETURN(
      Tensor w, Tensor::zeros({o.numEmbeddings, o.embeddingDim}, o.dtype));
  KILN_RETURN_IF_ERROR(init::normal(w, 0.0, 1.0, gen));
  KILN_ASSIGN_OR_RETURN(m->weight_, m->registerParameter("weight", w));
  return m;
}

Expected<Tensor> Embedding::forward(const Tensor &indices) {
  if (!indices.defined())
    return invalidArgument("Embedding: indices are undefined");
  if (indices.dtype() != DType::I64 && indices.dtype() != DType::I32)
    return invalidArgument("Embedding: indices have dtype ",
                           dtypeName(indices.dtype()), ", expected i64 or i32");
  Expected<Tensor> rows = embedding(*weight_, indices);
  if (!rows)
    return rows.takeStatus().withContext("Embedding");
  return rows;
}

//===----------------------------------------------------------------------===//
// Activation, Flatten
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<Activation>> Activation::create(std::string_view kind) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {"relu", "ReLU"},       {"gelu", "GELU"},       {"gelu_tanh", "GELU"},
      {"tanh", "Tanh"},       {"sigmoid", "Sigmoid"}, {"silu", "SiLU"},
      {"identity", "Identity"}};
  for (const auto &[k, type] : kTypes)
    if (k == kind)
      return std::shared_ptr<Activation>(
          new Activation(std::string(type), std::string(kind)));
  return invalidArgument("Activation: unknown kind '", kind,
                         "' (relu, gelu, gelu_tanh, tanh, sigmoid, silu, "
                         "identity)");
}

Expected<Tensor> Activation::forward(const Tensor &x) {
  if (kind_ == "relu")
    return relu(x);
  if (kind_ == "gelu")
    return gelu(x, "none");
  if (kind_ == "gelu_tanh")
    return gelu(x, "tanh");
  if (kind_ == "tanh")
    return tanh(x);
  if (kind_ == "sigmoid")
    return sigmoid(x);
  if (kind_ == "silu")
    return silu(x);
  if (!x.defined())
    return invalidArgument("Identity: input is undefined");
  return x;
}

Expected<std::shared_ptr<Flatten>> Flatten::create(int64_t startDim,
                                                   int64_t endDim) {
  return std::shared_ptr<Flatten>(new Flatten(startDim, endDim));
}

Expected<Tensor> Flatten::forward(const Tensor &x) {
  if (!x.defined())
    return invalidArgument("Flatten: input is undefined");
  int64_t r = std::max<int64_t>(x.rank(), 1);
  int64_t s = start_ < 0 ? start_ + r : start_;
  int64_t e = end_ < 0 ? end_ + r : end_;
  if (s < 0 || e >= r || s > e)
    return invalidArgument("Flatten: dims [", start_, ", ", end_,
                           "] do not fit an input ", describe(x));
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  int64_t n = 1;
  for (int64_t i = s; i <= e && i < x.rank(); ++i)
    n *= x.dim(i);
  shape.push_back(n);
  for (int64_t i = e + 1; i < x.rank(); ++i)
    shape.push_back(x.dim(i));
  return x.reshape(shape);
}

} // namespace kiln::nn
