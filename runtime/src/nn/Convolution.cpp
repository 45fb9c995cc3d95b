//===- Convolution.cpp - Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d -----===//
#include "kiln/nn/Init.h"
#include "kiln/nn/Layers.h"

#include "NNUtil.h"
#include "kiln/NNOps.h"

#include <cmath>

namespace kiln::nn {

using detail::describe;

namespace {

Window2D window(Pair kernel, Pair stride, Pair padding, Pair dilation,
                bool ceilMode = false) {
  Window2D w;
  w.kernel = {kernel[0], kernel[1]};
  w.strides = {stride[0], stride[1]};
  w.pads = {padding[0], padding[1], padding[0], padding[1]};
  w.dilations = {dilation[0], dilation[1]};
  w.ceilMode = ceilMode;
  return w;
}

Status checkPositive(std::string_view layer, std::string_view what, Pair p) {
  if (p[0] < 1 || p[1] < 1)
    return invalidArgument(layer, ": ", what, " must be >= 1, got {", p[0],
                           ", ", p[1], "}");
  return Status::ok();
}

Status checkNonNegative(std::string_view layer, std::string_view what, Pair p) {
  if (p[0] < 0 || p[1] < 0)
    return invalidArgument(layer, ": ", what, " must be >= 0, got {", p[0],
                           ", ", p[1], "}");
  return Status::ok();
}

/// Runs `op` on a batched [N, C, H, W] view of `input`, which may also be
/// unbatched [C, H, W]; checks the rank and, when `channels` >= 0, C.
template <typename Op>
Expected<Tensor> onBatched(std::string_view layer, const Tensor &input,
                           int64_t channels, Op &&op) {
  if (!input.defined())
    return invalidArgument(layer, ": input is undefined");
  if (input.rank() != 3 && input.rank() != 4)
    return invalidArgument(layer, ": expected input [N, C, H, W] or [C, H, W]",
                           channels >= 0 ? " with C = " : "",
                           channels >= 0 ? std::to_string(channels) : "",
                           ", got ", describe(input));
  bool unbatched = input.rank() == 3;
  if (channels >= 0 && input.dim(unbatched ? 0 : 1) != channels)
    return invalidArgument(layer, ": expected ", channels,
                           " input channels, got input ", describe(input));
  int64_t zero[] = {0};
  Tensor x = input;
  if (unbatched) {
    KILN_ASSIGN_OR_RETURN(x, input.expandDims(zero));
  }
  KILN_ASSIGN_OR_RETURN(Tensor y, op(x));
  if (unbatched)
    return y.squeeze(zero);
  return y;
}

/// Weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's _ConvNd.
Status initConv(Tensor &w, Tensor *b, Generator &gen) {
  KILN_RETURN_IF_ERROR(init::kaimingUniform(w, gen, std::sqrt(5.0)));
  if (!b)
    return Status::ok();
  KILN_ASSIGN_OR_RETURN(auto f, init::fans(w));
  double bound = f.first > 0 ? 1.0 / std::sqrt(double(f.first)) : 0.0;
  return init::uniform(*b, -bound, bound, gen);
}

} // namespace

//===----------------------------------------------------------------------===//
// Conv2d
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<Conv2d>> Conv2d::create(const Conv2dOptions &o,
                                                 Generator &gen) {
  if (o.inChannels < 1 || o.outChannels < 1 || o.groups < 1 ||
      o.inChannels % o.groups || o.outChannels % o.groups)
    return invalidArgument("Conv2d: channels (", o.inChannels, " -> ",
                           o.outChannels, ") must be >= 1 and divisible by "
                           "groups (",
                           o.groups, ")");
  KILN_RETURN_IF_ERROR(checkPositive("Conv2d", "kernelSize", o.kernelSize));
  KILN_RETURN_IF_ERROR(checkPositive("Conv2d", "stride", o.stride));
  KILN_RETURN_IF_ERROR(checkPositive("Conv2d", "dilation", o.dilation));
  KILN_RETURN_IF_ERROR(checkNonNegative("Conv2d", "padding", o.padding));
  if (!isFloat(o.dtype))
    return invalidArgument("Conv2d: dtype ", dtypeName(o.dtype),
                           " is not a float dtype");
  std::shared_ptr<Conv2d> m(new Conv2d(o));
  KILN_ASSIGN_OR_RETURN(Tensor w,
                        Tensor::zeros({o.outChannels, o.inChannels / o.groups,
                                       o.kernelSize[0], o.kernelSize[1]},
                                      o.dtype));
  Tensor b;
  if (o.bias) {
    KILN_ASSIGN_OR_RETURN(b, Tensor::zeros({o.outChannels}, o.dtype));
  }
  KILN_RETURN_IF_ERROR(initConv(w, o.bias ? &b : nullptr, gen));
  KILN_ASSIGN_OR_RETURN(m->weight_, m->registerParameter("weight", w));
  if (o.bias) {
    KILN_ASSIGN_OR_RETURN(m->bias_, m->registerParameter("bias", b));
  }
  return m;
}

Expected<Tensor> Conv2d::forward(const Tensor &input) {
  KILN_RETURN_IF_ERROR(detail::checkFloatInput("Conv2d", input, options_.dtype));
  const Conv2dOptions &o = options_;
  return onBatched("Conv2d", input, o.inChannels, [&](const Tensor &x) {
    return conv2d(x, *weight_, bias(),
                  window(o.kernelSize, o.stride, o.padding, o.dilation),
                  o.groups);
  });
}

//===----------------------------------------------------------------------===//
// ConvTranspose2d
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<ConvTranspose2d>>
ConvTranspose2d::create(const ConvTranspose2dOptions &o, Generator &gen) {
  if (o.inChannels < 1 || o.outChannels < 1 || o.groups < 1 ||
      o.inChannels % o.groups || o.outChannels % o.groups)
    return invalidArgument("ConvTranspose2d: channels (", o.inChannels, " -> ",
                           o.outChannels, ") must be >= 1 and divisible by "
                           "groups (",
                           o.groups, ")");
  KILN_RETURN_IF_ERROR(
      checkPositive("ConvTranspose2d", "kernelSize", o.kernelSize));
  KILN_RETURN_IF_ERROR(checkPositive("ConvTranspose2d", "stride", o.stride));
  KILN_RETURN_IF_ERROR(checkPositive("ConvTranspose2d", "dilation", o.dilation));
  KILN_RETURN_IF_ERROR(checkNonNegative("ConvTranspose2d", "padding", o.padding));
  KILN_RETURN_IF_ERROR(
      checkNonNegative("ConvTranspose2d", "outputPadding", o.outputPadding));
  for (int i = 0; i < 2; ++i)
    if (o.outputPadding[i] >= o.stride[i] && o.outputPadding[i] >= o.dilation[i])
      return invalidArgument("ConvTranspose2d: outputPadding {",
                             o.outputPadding[0], ", ", o.outputPadding[1],
                             "} must be smaller than stride or dilation");
  if (!isFloat(o.dtype))
    return invalidArgument("ConvTranspose2d: dtype ", dtypeName(o.dtype),
                           " is not a float dtype");
  std::shared_ptr<ConvTranspose2d> m(new ConvTranspose2d(o));
  KILN_ASSIGN_OR_RETURN(Tensor w,
                        Tensor::zeros({o.inChannels, o.outChannels / o.groups,
                                       o.kernelSize[0], o.kernelSize[1]},
                                      o.dtype));
  Tensor b;
  if (o.bias) {
    KILN_ASSIGN_OR_RETURN(b, Tensor::zeros({o.outChannels}, o.dtype));
  }
  KILN_RETURN_IF_ERROR(initConv(w, o.bias ? &b : nullptr, gen));
  KILN_ASSIGN_OR_RETURN(m->weight_, m->registerParameter("weight", w));
  if (o.bias) {
    KILN_ASSIGN_OR_RETURN(m->bias_, m->registerParameter("bias", b));
  }
  return m;
}

Expected<Tensor> ConvTranspose2d::forward(const Tensor &input) {
  KILN_RETURN_IF_ERROR(
      detail::checkFloatInput("ConvTranspose2d", input, options_.dtype));
  const ConvTranspose2dOptions &o = options_;
  return onBatched("ConvTranspose2d", input, o.inChannels, [&](const Tensor &x) {
    int64_t outputPadding[] = {o.outputPadding[0], o.outputPadding[1]};
    return convTranspose2d(
        x, *weight_, bias(),
        window(o.kernelSize, o.stride, o.padding, o.dilation), outputPadding,
        o.groups);
  });
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<MaxPool2d>>
MaxPool2d::create(const MaxPool2dOptions &o) {
  KILN_RETURN_IF_ERROR(checkPositive("MaxPool2d", "kernelSize", o.kernelSize));
  KILN_RETURN_IF_ERROR(
      checkPositive("MaxPool2d", "stride", o.stride.value_or(o.kernelSize)));
  KILN_RETURN_IF_ERROR(checkPositive("MaxPool2d", "dilation", o.dilation));
  KILN_RETURN_IF_ERROR(checkNonNegative("MaxPool2d", "padding", o.padding));
  for (int i = 0; i < 2; ++i)
    if (2 * o.padding[i] > o.kernelSize[i])
      return invalidArgument("MaxPool2d: padding {", o.padding[0], ", ",
                             o.padding[1],
                             "} must be at most half the kernel size");
  return std::shared_ptr<MaxPool2d>(new MaxPool2d(o));
}

Expected<Tensor> MaxPool2d::forward(const Tensor &input) {
  const MaxPool2dOptions &o = options_;
  return onBatched("MaxPool2d", input, -1, [&](const Tensor &x) {
    return maxPool2d(x, window(o.kernelSize, o.stride.value_or(o.kernelSize),
                               o.padding, o.dilation, o.ceilMode));
  });
}

Expected<std::shared_ptr<AvgPool2d>>
AvgPool2d::create(const AvgPool2dOptions &o) {
  KILN_RETURN_IF_ERROR(checkPositive("AvgPool2d", "kernelSize", o.kernelSize));
  KILN_RETURN_IF_ERROR(
      checkPositive("AvgPool2d", "stride", o.stride.value_or(o.kernelSize)));
  KILN_RETURN_IF_ERROR(checkNonNegative("AvgPool2d", "padding", o.padding));
  for (int i = 0; i < 2; ++i)
    if (2 * o.padding[i] > o.kernelSize[i])
      return invalidArgument("AvgPool2d: padding {", o.padding[0], ", ",
                             o.padding[1],
                             "} must be at most half the kernel size");
  return std::shared_ptr<AvgPool2d>(new AvgPool2d(o));
}

Expected<Tensor> AvgPool2d::forward(const Tensor &input) {
  const AvgPool2dOptions &o = options_;
  return onBatched("AvgPool2d", input, -1, [&](const Tensor &x) {
    return avgPool2d(x,
                     window(o.kernelSize, o.stride.value_or(o.kernelSize),
                            o.padding, {1, 1}, o.ceilMode),
                     o.countIncludePad);
  });
}

} // namespace kiln::nn
