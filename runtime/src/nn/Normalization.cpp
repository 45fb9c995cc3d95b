//===- Normalization.cpp - BatchNorm1d/2d, LayerNorm, Dropout --------------===//
//
// Training-mode batch norm and layer norm are written with elementwise ops
// and reductions, so they differentiate with respect to the input and the
// affine parameters whatever NN ops have a backward; the fused kernels run
// where no gradient is needed (or once they record one).
//
//===----------------------------------------------------------------------===//
#include "kiln/nn/Layers.h"

#include "NNUtil.h"
#include "kiln/Autograd.h"
#include "kiln/NNOps.h"

#include <algorithm>

namespace kiln::nn {

using detail::describe;

//===----------------------------------------------------------------------===//
// BatchNorm
//===----------------------------------------------------------------------===//

Status BatchNorm::init() {
  const BatchNormOptions &o = options_;
  if (o.numFeatures < 1)
    return invalidArgument(typeName(), ": numFeatures must be >= 1, got ",
                           o.numFeatures);
  if (!(o.eps > 0) || !(o.momentum >= 0 && o.momentum <= 1))
    return invalidArgument(typeName(), ": need eps > 0 and momentum in [0, 1], "
                           "got eps ",
                           o.eps, ", momentum ", o.momentum);
  if (!isFloat(o.dtype))
    return invalidArgument(typeName(), ": dtype ", dtypeName(o.dtype),
                           " is not a float dtype");
  Shape c = {o.numFeatures};
  if (o.affine) {
    KILN_ASSIGN_OR_RETURN(Tensor w, Tensor::full(c, 1.0, o.dtype));
    KILN_ASSIGN_OR_RETURN(Tensor b, Tensor::zeros(c, o.dtype));
    KILN_ASSIGN_OR_RETURN(weight_, registerParameter("weight", w));
    KILN_ASSIGN_OR_RETURN(bias_, registerParameter("bias", b));
  }
  if (o.trackRunningStats) {
    KILN_ASSIGN_OR_RETURN(Tensor mean, Tensor::zeros(c, o.dtype));
    KILN_ASSIGN_OR_RETURN(Tensor var, Tensor::full(c, 1.0, o.dtype));
    KILN_ASSIGN_OR_RETURN(Tensor count, Tensor::zeros({}, DType::I64));
    mean_ = registerBuffer("running_mean", mean);
    var_ = registerBuffer("running_var", var);
    count_ = registerBuffer("num_batches_tracked", count);
  }
  return Status::ok();
}

Expected<std::shared_ptr<BatchNorm1d>>
BatchNorm1d::create(const BatchNormOptions &options) {
  std::shared_ptr<BatchNorm1d> m(new BatchNorm1d(options));
  KILN_RETURN_IF_ERROR(m->init());
  return m;
}

Expected<std::shared_ptr<BatchNorm2d>>
BatchNorm2d::create(const BatchNormOptions &options) {
  std::shared_ptr<BatchNorm2d> m(new BatchNorm2d(options));
  KILN_RETURN_IF_ERROR(m->init());
  return m;
}

Expected<Tensor> BatchNorm::forward(const Tensor &x) {
  const BatchNormOptions &o = options_;
  KILN_RETURN_IF_ERROR(detail::checkFloatInput(typeName(), x, o.dtype));
  if (std::find(ranks_.begin(), ranks_.end(), x.rank()) == ranks_.end() ||
      x.dim(1) != o.numFeatures)
    return invalidArgument(typeName(), ": expected input ",
                           ranks_[0] == 4 ? "[N, C, H, W]" : "[N, C] or [N, C, L]",
                           " with C = ", o.numFeatures, ", got ", describe(x));
  int64_t rank = x.rank();
  Tensor w, b;
  if (weight_) {
    KILN_ASSIGN_OR_RETURN(w, detail::channelView(*weight_, rank));
    KILN_ASSIGN_OR_RETURN(b, detail::channelView(*bias_, rank));
  }
  Tensor y;
  if (isTraining() || !o.trackRunningStats) {
    std::vector<int64_t> axes = {0};
    for (int64_t i = 2; i < rank; ++i)
      axes.push_back(i);
    int64_t n = o.numFeatures ? x.numel() / o.numFeatures : 0;
    if (n <= 1 && isTraining())
      return invalidArgument(typeName(), ": training needs more than one value "
                             "per channel, got input ",
                             describe(x));
    KILN_ASSIGN_OR_RETURN(Tensor mean, kiln::mean(x, axes, true));
    KILN_ASSIGN_OR_RETURN(Tensor centered, x - mean);
    KILN_ASSIGN_OR_RETURN(Tensor squared, centered * centered);
    KILN_ASSIGN_OR_RETURN(Tensor var, kiln::mean(squared, axes, true));
    KILN_ASSIGN_OR_RETURN(y, centered * rsqrt(var + o.eps));
    if (isTraining() && o.trackRunningStats) {
      autograd::NoGradGuard noGrad;
      double m = o.momentum;
      double unbias = double(n) / double(n - 1);
      KILN_ASSIGN_OR_RETURN(Tensor batchMean, mean.detach().reshape({-1}));
      KILN_ASSIGN_OR_RETURN(Tensor batchVar, var.detach().reshape({-1}));
      KILN_ASSIGN_OR_RETURN(Tensor newMean,
                            *mean_ * (1.0 - m) + batchMean * m);
      KILN_ASSIGN_OR_RETURN(Tensor newVar,
                            *var_ * (1.0 - m) + batchVar * (m * unbias));
      KILN_RETURN_IF_ERROR(mean_->copyFrom(newMean));
      KILN_RETURN_IF_ERROR(var_->copyFrom(newVar));
      KILN_ASSIGN_OR_RETURN(double count, count_->item());
      KILN_RETURN_IF_ERROR(count_->set({}, count + 1));
    }
  } else {
    bool fused = detail::canUseFused("batch_norm", {x, w, b});
    if (fused) {
      Tensor scale = weight_ ? *weight_ : Tensor();
      Tensor shift = bias_ ? *bias_ : Tensor();
      if (!weight_) {
        KILN_ASSIGN_OR_RETURN(scale, Tensor::full({o.numFeatures}, 1.0, o.dtype));
        KILN_ASSIGN_OR_RETURN(shift, Tensor::zeros({o.numFeatures}, o.dtype));
      }
      return batchNorm(x, scale, shift, *mean_, *var_, o.eps);
    }
    KILN_ASSIGN_OR_RETURN(Tensor mean, detail::channelView(*mean_, rank));
    KILN_ASSIGN_OR_RETURN(Tensor var, detail::channelView(*var_, rank));
    KILN_ASSIGN_OR_RETURN(y, (x - mean) * rsqrt(var + o.eps));
  }
  if (!weight_)
    return y;
  return y * w + b;
}

//===----------------------------------------------------------------------===//
// LayerNorm
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<LayerNorm>>
LayerNorm::create(const LayerNormOptions &o) {
  if (o.normalizedShape.empty())
    return invalidArgument("LayerNorm: normalizedShape is empty");
  for (int64_t d : o.normalizedShape)
    if (d < 1)
      return invalidArgument("LayerNorm: normalizedShape ",
                             detail::shapeString(o.normalizedShape),
                             " has a dim < 1");
  if (!(o.eps > 0))
    return invalidArgument("LayerNorm: eps must be > 0, got ", o.eps);
  if (!isFloat(o.dtype))
    return invalidArgument("LayerNorm: dtype ", dtypeName(o.dtype),
                           " is not a float dtype");
  std::shared_ptr<LayerNorm> m(new LayerNorm(o));
  if (o.elementwiseAffine) {
    KILN_ASSIGN_OR_RETURN(Tensor w, Tensor::full(o.normalizedShape, 1.0, o.dtype));
    KILN_ASSIGN_OR_RETURN(m->weight_, m->registerParameter("weight", w));
    if (o.bias) {
      KILN_ASSIGN_OR_RETURN(Tensor b, Tensor::zeros(o.normalizedShape, o.dtype));
      KILN_ASSIGN_OR_RETURN(m->bias_, m->registerParameter("bias", b));
    }
  }
  return m;
}

Expected<Tensor> LayerNorm::forward(const Tensor &x) {
  const LayerNormOptions &o = options_;
  KILN_RETURN_IF_ERROR(detail::checkFloatInput("LayerNorm", x, o.dtype));
  int64_t k = int64_t(o.normalizedShape.size());
  bool fits = x.rank() >= k &&
              std::equal(o.normalizedShape.begin(), o.normalizedShape.end(),
                         x.shape().end() - k);
  if (!fits)
    return invalidArgument("LayerNorm: expected input [..., ",
                           detail::shapeString(o.normalizedShape).substr(1),
                           ", got ", describe(x));
  int64_t axis = x.rank() - k;
  Tensor w = weight(), b = bias();
  if (detail::canUseFused("layer_norm", {x, w, b})) {
    if (!w.defined()) {
      KILN_ASSIGN_OR_RETURN(w, Tensor::full(o.normalizedShape, 1.0, o.dtype));
    }
    return layerNorm(x, w, b, axis, o.eps);
  }
  std::vector<int64_t> axes;
  for (int64_t i = axis; i < x.rank(); ++i)
    axes.push_back(i);
  KILN_ASSIGN_OR_RETURN(Tensor centered, x - mean(x, axes, true));
  KILN_ASSIGN_OR_RETURN(Tensor squared, centered * centered);
  KILN_ASSIGN_OR_RETURN(Tensor var, mean(squared, axes, true));
  KILN_ASSIGN_OR_RETURN(Tensor y, centered * rsqrt(var + o.eps));
  if (w.defined()) {
    KILN_ASSIGN_OR_RETURN(y, y * w);
  }
  if (b.defined()) {
    KILN_ASSIGN_OR_RETURN(y, y + b);
  }
  return y;
}

//===----------------------------------------------------------------------===//
// Dropout
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<Dropout>> Dropout::create(const DropoutOptions &o) {
  if (!(o.p >= 0 && o.p <= 1))
    return invalidArgument("Dropout: p must be in [0, 1], got ", o.p);
  return std::shared_ptr<Dropout>(new Dropout(o));
}

Expected<Tensor> Dropout::forward(const Tensor &x) {
  if (!x.defined())
    return invalidArgument("Dropout: input is undefined");
  if (!isFloat(x.dtype()))
    return invalidArgument("Dropout: input has dtype ", dtypeName(x.dtype()),
                           ", expected a float dtype");
  if (!isTraining() || options_.p == 0)
    return x;
  return detail::dropout(x, options_.p, detail::nextSeed(gen_));
}

} // namespace kiln::nn
