//===- Normalization.cpp - BatchNorm1d/2d, LayerNorm, Dropout --------------===//
//
// Thin layers over the eager ops: batchNormTraining (TrainingOps.h) in
// training mode, batchNorm with the running statistics in eval, layerNorm
// and dropout (NNOps.h); all of them record their own backward.
//
//===----------------------------------------------------------------------===//
#include "kiln/nn/Layers.h"

#include "NNUtil.h"
#include "kiln/Autograd.h"
#include "kiln/NNOps.h"
#include "kiln/TrainingOps.h"

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
  // Without affine parameters: scale 1, shift 0.
  Tensor scale = weight(), shift = bias();
  if (!weight_) {
    KILN_ASSIGN_OR_RETURN(scale, Tensor::full({o.numFeatures}, 1.0, o.dtype));
    KILN_ASSIGN_OR_RETURN(shift, Tensor::zeros({o.numFeatures}, o.dtype));
  }
  if (!isTraining() && o.trackRunningStats)
    return batchNorm(x, scale, shift, *mean_, *var_, o.eps);
  int64_t n = x.numel() / o.numFeatures;
  if (n <= 1 && isTraining())
    return invalidArgument(typeName(), ": training needs more than one value "
                           "per channel, got input ",
                           describe(x));
  KILN_ASSIGN_OR_RETURN(BatchNormTrainingResult r,
                        batchNormTraining(x, scale, shift, o.eps));
  if (isTraining() && o.trackRunningStats) {
    autograd::NoGradGuard noGrad;
    double m = o.momentum;
    KILN_ASSIGN_OR_RETURN(Tensor newMean, *mean_ * (1.0 - m) + r.mean * m);
    KILN_ASSIGN_OR_RETURN(Tensor newVar,
                          *var_ * (1.0 - m) + r.unbiasedVariance * m);
    KILN_RETURN_IF_ERROR(mean_->copyFrom(newMean));
    KILN_RETURN_IF_ERROR(var_->copyFrom(newVar));
    KILN_ASSIGN_OR_RETURN(double count, count_->item());
    KILN_RETURN_IF_ERROR(count_->set({}, count + 1));
  }
  return r.output;
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
  Tensor w = weight();
  if (!w.defined()) {
    KILN_ASSIGN_OR_RETURN(w, Tensor::full(o.normalizedShape, 1.0, o.dtype));
  }
  return layerNorm(x, w, bias(), x.rank() - k, o.eps);
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
