//===- NNTestUtil.h - Helpers for the kiln::nn tests -----------------------===//
#ifndef KILN_TEST_UNIT_TRAIN_NNTESTUTIL_H
#define KILN_TEST_UNIT_TRAIN_NNTESTUTIL_H

#include "kiln/Autograd.h"
#include "kiln/NN.h"
#include "kiln/NNOps.h"
#include "kiln/Ops.h"
#include "kiln/Reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace kiln::nn::test {

/// Unwraps an Expected in a test, failing with its status.
template <typename T> T must(Expected<T> e) {
  EXPECT_TRUE(e.ok()) << e.status();
  if (!e.ok())
    throw std::runtime_error(e.status().toString());
  return std::move(e).value();
}
inline void must(const Status &s) {
  EXPECT_TRUE(s.isOk()) << s;
  if (!s.isOk())
    throw std::runtime_error(s.toString());
}

/// The fill formula shared with gen/nn_reference.py: element i of the k-th
/// tensor is scale * sin(0.7 i + 1.3 k + 0.1), rounded to f32.
inline Tensor fill(const Shape &shape, int64_t k, double scale = 0.5,
                   DType dtype = DType::F32) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[size_t(i)] = double(float(scale * std::sin(0.7 * double(i) +
                                                 1.3 * double(k) + 0.1)));
  return must(Tensor::fromDoubles(v, shape, dtype));
}

/// Overwrites the parameters in namedParameters() order, as the generator
/// does.
inline void fillParameters(Module &m, double scale = 0.5) {
  int64_t k = 0;
  NamedTensors state;
  for (auto &[name, p] : m.namedParameters())
    state.emplace_back(name, fill(p.shape(), k++, scale, DType::F64));
  must(m.loadStateDict(state, /*strict=*/false));
}

inline ::testing::AssertionResult closeTo(const Tensor &actual,
                                          const Tensor &expected,
                                          ref::Tolerance tol) {
  if (!actual.defined())
    return ::testing::AssertionFailure() << "result is undefined";
  ref::Comparison c = ref::compare(actual, expected, tol);
  if (c.ok)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << c.message;
}

} // namespace kiln::nn::test

#endif // KILN_TEST_UNIT_TRAIN_NNTESTUTIL_H
