//===- Losses.cpp - cross_entropy, mse, bce_with_logits, dropout -----------===//
//
// Losses compute per-element (or per-sample) values in f64 and reduce them
// with the requested reduction; results have the input's dtype.
//
//===----------------------------------------------------------------------===//
#include "kiln/NNOps.h"
#include "kiln/Random.h"

#include "EagerUtil.h"

#include <cmath>

namespace kiln {

namespace {

enum class Reduction { None, Mean, Sum };

Expected<Reduction> parseReduction(const char *op, std::string_view r) {
  if (r == "mean")
    return Reduction::Mean;
  if (r == "sum")
    return Reduction::Sum;
  if (r == "none")
    return Reduction::None;
  return invalidArgument("op '", op, "': reduction must be \"mean\", \"sum\" "
                         "or \"none\", got \"", r, "\"");
}

/// Applies the reduction to per-element losses of `shape`.
Expected<Tensor> finish(std::vector<double> &&values, const Shape &shape,
                        Reduction r, DType dtype) {
  if (r == Reduction::None)
    return Tensor::fromDoubles(values, shape, dtype);
  double s = 0;
  for (double v : values)
    s += v;
  if (r == Reduction::Mean)
    s /= double(values.size()); // NaN for no elements, like PyTorch.
  return Tensor::scalar(s, dtype);
}

Status checkPair(const char *op, const Tensor &a, const Tensor &b) {
  KILN_RETURN_IF_ERROR(eager::checkInputs(op, {&a, &b}));
  if (!isFloat(a.dtype()) || a.dtype() != b.dtype())
    return invalidArgument("op '", op, "': operands have dtypes ",
                           dtypeName(a.dtype()), " and ", dtypeName(b.dtype()),
                           ", expected one float dtype");
  if (a.shape() != b.shape())
    return invalidArgument("op '", op, "': shapes ", shapes::toString(a.shape()),
                           " and ", shapes::toString(b.shape()), " differ");
  return Status();
}

} // namespace

Expected<Tensor> crossEntropy(const Tensor &logits, const Tensor &labels,
                              std::string_view reduction) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("cross_entropy", {&logits, &labels}));
  KILN_ASSIGN_OR_RETURN(Reduction r, parseReduction("cross_entropy", reduction));
  if (!isFloat(logits.dtype()))
    return invalidArgument("op 'cross_entropy': logits have dtype ",
                           dtypeName(logits.dtype()), ", expected a float dtype");
  if (labels.dtype() != DType::I64 && labels.dtype() != DType::I32)
    return invalidArgument("op 'cross_entropy': labels have dtype ",
                           dtypeName(labels.dtype()), ", expected i64 or i32");
  if (logits.rank() != 2 || labels.rank() != 1 ||
      labels.shape()[0] != logits.shape()[0])
    return invalidArgument("op 'cross_entropy': expected logits [N, C] and "
                           "labels [N], got ", shapes::toString(logits.shape()),
                           " and ", shapes::toString(labels.shape()));
  KILN_ASSIGN_OR_RETURN(Tensor logp, logSoftmax(logits, 1));
  std::vector<double> lp = logp.toDoubles(), lab = labels.toDoubles();
  int64_t n = logits.shape()[0], c = logits.shape()[1];
  std::vector<double> loss(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double l = lab[size_t(i)];
    if (l < 0 || l >= double(c))
      return outOfRange("op 'cross_entropy': label ", int64_t(l), " of sample ",
                        i, " is outside [0, ", c, ")");
    loss[size_t(i)] = -lp[size_t(i * c + int64_t(l))];
  }
  return finish(std::move(loss), {n}, r, logits.dtype());
}

Expected<Tensor> mse(const Tensor &input, const Tensor &target,
                     std::string_view reduction) {
  KILN_RETURN_IF_ERROR(checkPair("mse", input, target));
  KILN_ASSIGN_OR_RETURN(Reduction r, parseReduction("mse", reduction));
  std::vector<double> x = input.toDoubles(), t = target.toDoubles();
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = (x[i] - t[i]) * (x[i] - t[i]);
  return finish(std::move(x), input.shape(), r, input.dtype());
}

Expected<Tensor> bceWithLogits(const Tensor &logits, const Tensor &target,
                               std::string_view reduction) {
  KILN_RETURN_IF_ERROR(checkPair("bce_with_logits", logits, target));
  KILN_ASSIGN_OR_RETURN(Reduction r, parseReduction("bce_with_logits", reduction));
  std::vector<double> x = logits.toDoubles(), t = target.toDoubles();
  // max(x, 0) - x t + log(1 + exp(-|x|)): no overflow for any x.
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = std::max(x[i], 0.0) - x[i] * t[i] + std::log1p(std::exp(-std::fabs(x[i])));
  return finish(std::move(x), logits.shape(), r, logits.dtype());
}

Expected<Tensor> dropout(const Tensor &x, double ratio, bool training,
                         uint64_t seed) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("dropout", {&x}));
  if (!isFloat(x.dtype()))
    return invalidArgument("op 'dropout': input has dtype ", dtypeName(x.dtype()),
                           ", expected a float dtype");
  if (!(ratio >= 0 && ratio < 1))
    return invalidArgument("op 'dropout': ratio ", ratio, " outside [0, 1)");
  if (!training || ratio == 0)
    return x.clone();
  Generator gen(seed);
  KILN_ASSIGN_OR_RETURN(Tensor u, gen.uniform(x.shape(), 0, 1, DType::F64));
  KILN_ASSIGN_OR_RETURN(Tensor xd, x.to(DType::F64));
  double *up = u.data<double>();
  const double *xp = xd.data<double>();
  double scale = 1.0 / (1.0 - ratio);
  for (int64_t i = 0; i < u.numel(); ++i)
    up[i] = up[i] >= ratio ? xp[i] * scale : 0.0;
  return u.to(x.dtype());
}

} // namespace kiln
