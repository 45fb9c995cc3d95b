//===- Init.h - Weight initialisation (torch.nn.init) ----------------------===//
//
// Each function overwrites a float tensor in place (under NoGradGuard, so it
// may be a parameter) with values drawn from `gen`, with PyTorch's formulas
// for fan-in/fan-out and gain:
//
//   fan_in  = size(1) * receptive field,  fan_out = size(0) * receptive field
//   (receptive field = product of dims after the second; rank >= 2)
//
//   kiln::Generator gen(7);
//   KILN_RETURN_IF_ERROR(nn::init::xavierUniform(w, gen));
//
// Same seed, same values: a model built twice from Generator(seed) is the
// same model. The values are not PyTorch's (its generator is different);
// tests that compare with PyTorch copy weights across.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_NN_INIT_H
#define KILN_NN_INIT_H

#include "kiln/Random.h"
#include "kiln/Tensor.h"

#include <string_view>
#include <utility>

namespace kiln::nn::init {

/// {fan_in, fan_out} of a weight of rank >= 2 (InvalidArgument otherwise).
Expected<std::pair<int64_t, int64_t>> fans(const Tensor &weight);
/// torch.nn.init.calculate_gain: "linear", "conv2d", "sigmoid" -> 1,
/// "tanh" -> 5/3, "relu" -> sqrt(2), "leaky_relu" -> sqrt(2/(1+param^2)),
/// "selu" -> 3/4.
Expected<double> gain(std::string_view nonlinearity, double param = 0.01);

Status uniform(Tensor &t, double lo, double hi, Generator &gen);
Status normal(Tensor &t, double mean, double std, Generator &gen);
Status constant(Tensor &t, double value);
Status zeros(Tensor &t);
Status ones(Tensor &t);

/// U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)).
Status xavierUniform(Tensor &t, Generator &gen, double gain = 1.0);
/// N(0, s), s = gain * sqrt(2 / (fan_in + fan_out)).
Status xavierNormal(Tensor &t, Generator &gen, double gain = 1.0);

enum class FanMode : unsigned char { FanIn, FanOut };
/// U(-b, b), b = gain(nonlinearity, a) * sqrt(3 / fan). PyTorch's default
/// for Linear and Conv weights is a = sqrt(5), "leaky_relu", FanIn (which
/// gives b = 1 / sqrt(fan_in)).
Status kaimingUniform(Tensor &t, Generator &gen, double a = 0.0,
                      FanMode mode = FanMode::FanIn,
                      std::string_view nonlinearity = "leaky_relu");
/// N(0, s), s = gain(nonlinearity, a) / sqrt(fan).
Status kaimingNormal(Tensor &t, Generator &gen, double a = 0.0,
                     FanMode mode = FanMode::FanIn,
                     std::string_view nonlinearity = "leaky_relu");

} // namespace kiln::nn::init

#endif // KILN_NN_INIT_H
