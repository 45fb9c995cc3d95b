//===- TestUtil.h - Helpers for runtime numerics tests ---------------------===//
#ifndef KILN_TEST_UNIT_RUNTIME_TESTUTIL_H
#define KILN_TEST_UNIT_RUNTIME_TESTUTIL_H

#include "kiln/Ops.h"
#include "kiln/Random.h"
#include "kiln/Reference.h"

#include <gtest/gtest.h>

#include <cmath>

namespace kiln::test {

/// Values uniform in [lo, hi), then converted to `dtype` (integers floored,
/// i1 as value >= (lo + hi) / 2), so every test sees exactly representable
/// inputs.
inline Tensor randomTensor(const Shape &shape, DType dtype, double lo,
                           double hi, uint64_t seed) {
  Generator gen(seed);
  Tensor u = *gen.uniform(shape, lo, hi, DType::F64);
  double *p = u.data<double>();
  for (int64_t i = 0; i < u.numel(); ++i) {
    if (dtype == DType::Bool)
      p[i] = p[i] >= (lo + hi) / 2 ? 1 : 0;
    else if (isInteger(dtype))
      p[i] = std::floor(p[i]);
  }
  return *u.to(dtype);
}

/// A non-contiguous tensor with the same values: built transposed, copied,
/// and transposed back (rank >= 2), or a stride-2 slice (rank 1).
inline Tensor nonContiguous(const Tensor &t) {
  if (t.rank() >= 2) {
    Tensor tt = *t.transpose(0, t.rank() - 1)->contiguous();
    return *tt.transpose(0, t.rank() - 1);
  }
  if (t.rank() == 1) {
    Shape twice = {t.numel() * 2};
    Tensor big = *Tensor::zeros(twice, t.dtype());
    Tensor view = *big.slice(0, 0, INT64_MAX, 2);
    EXPECT_TRUE(view.copyFrom(t).isOk());
    return view;
  }
  return t;
}

inline ::testing::AssertionResult closeTo(const Tensor &actual,
                                          const Tensor &expected,
                                          ref::Tolerance tol) {
  ref::Comparison c = ref::compare(actual, expected, tol);
  if (c.ok)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << c.message;
}

} // namespace kiln::test

#endif // KILN_TEST_UNIT_RUNTIME_TESTUTIL_H
