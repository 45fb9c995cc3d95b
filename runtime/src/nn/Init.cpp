//===- Init.cpp - Weight initialisation (torch.nn.init) --------------------===//
#include "kiln/nn/Init.h"

#include "kiln/Autograd.h"

#include <cmath>

namespace kiln::nn::init {

namespace {
/// Writes `values` into `t` without recording (t may be a parameter).
Status overwrite(Tensor &t, const Expected<Tensor> &values) {
  if (!values)
    return values.status();
  autograd::NoGradGuard noGrad;
  return t.copyFrom(*values);
}

Status checkFloat(const char *fn, const Tensor &t) {
  if (!t.defined())
    return invalidArgument("nn::init::", fn, ": tensor is undefined");
  if (!isFloat(t.dtype()))
    return invalidArgument("nn::init::", fn, ": tensor has dtype ",
                           dtypeName(t.dtype()), ", expected a float dtype");
  return Status::ok();
}
} // namespace

Expected<std::pair<int64_t, int64_t>> fans(const Tensor &weight) {
  if (weight.rank() < 2)
    return invalidArgument("nn::init: fan in and fan out need a tensor of "
                           "rank >= 2, got rank ",
                           weight.rank());
  int64_t receptive = 1;
  for (int64_t i = 2; i < weight.rank(); ++i)
    receptive *= weight.dim(i);
  return std::make_pair(weight.dim(1) * receptive, weight.dim(0) * receptive);
}

Expected<double> gain(std::string_view nonlinearity, double param) {
  if (nonlinearity == "linear" || nonlinearity == "conv2d" ||
      nonlinearity == "conv_transpose2d" || nonlinearity == "sigmoid" ||
      nonlinearity == "identity")
    return 1.0;
  if (nonlinearity == "tanh")
    return 5.0 / 3.0;
  if (nonlinearity == "relu")
    return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu")
    return std::sqrt(2.0 / (1.0 + param * param));
  if (nonlinearity == "selu")
    return 0.75;
  return invalidArgument("nn::init::gain: unknown nonlinearity '",
                         nonlinearity, "'");
}

Status uniform(Tensor &t, double lo, double hi, Generator &gen) {
  KILN_RETURN_IF_ERROR(checkFloat("uniform", t));
  return overwrite(t, gen.uniform(t.shape(), lo, hi, t.dtype()));
}

Status normal(Tensor &t, double mean, double std, Generator &gen) {
  KILN_RETURN_IF_ERROR(checkFloat("normal", t));
  return overwrite(t, gen.normal(t.shape(), mean, std, t.dtype()));
}

Status constant(Tensor &t, double value) {
  KILN_RETURN_IF_ERROR(checkFloat("constant", t));
  return overwrite(t, Tensor::full(t.shape(), value, t.dtype()));
}

Status zeros(Tensor &t) { return constant(t, 0.0); }
Status ones(Tensor &t) { return constant(t, 1.0); }

Status xavierUniform(Tensor &t, Generator &gen, double g) {
  KILN_ASSIGN_OR_RETURN(auto f, fans(t));
  double bound = g * std::sqrt(6.0 / double(f.first + f.second));
  return uniform(t, -bound, bound, gen);
}

Status xavierNormal(Tensor &t, Generator &gen, double g) {
  KILN_ASSIGN_OR_RETURN(auto f, fans(t));
  return normal(t, 0.0, g * std::sqrt(2.0 / double(f.first + f.second)), gen);
}

namespace {
Expected<double> kaimingStd(const Tensor &t, double a, FanMode mode,
                            std::string_view nonlinearity) {
  KILN_ASSIGN_OR_RETURN(auto f, fans(t));
  int64_t fan = mode == FanMode::FanIn ? f.first : f.second;
  if (fan == 0)
    return invalidArgument("nn::init::kaiming: tensor of shape with a zero fan");
  KILN_ASSIGN_OR_RETURN(double g, gain(nonlinearity, a));
  return g / std::sqrt(double(fan));
}
} // namespace

Status kaimingUniform(Tensor &t, Generator &gen, double a, FanMode mode,
                      std::string_view nonlinearity) {
  KILN_ASSIGN_OR_RETURN(double std, kaimingStd(t, a, mode, nonlinearity));
  double bound = std::sqrt(3.0) * std;
  return uniform(t, -bound, bound, gen);
}

Status kaimingNormal(Tensor &t, Generator &gen, double a, FanMode mode,
                     std::string_view nonlinearity) {
  KILN_ASSIGN_OR_RETURN(double std, kaimingStd(t, a, mode, nonlinearity));
  return normal(t, 0.0, std, gen);
}

} // namespace kiln::nn::init
