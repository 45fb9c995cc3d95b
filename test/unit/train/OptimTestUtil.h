//===- OptimTestUtil.h - Helpers shared by the optimizer tests -------------===//
#ifndef KILN_TEST_UNIT_TRAIN_OPTIMTESTUTIL_H
#define KILN_TEST_UNIT_TRAIN_OPTIMTESTUTIL_H

#include "kiln/Optim.h"
#include "kiln/Reference.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::test {

/// A parameter (requires grad) holding `values`.
inline Tensor param(const std::vector<double> &values, const Shape &shape,
                    DType dtype = DType::F64) {
  Tensor p = *Tensor::fromDoubles(values, shape, dtype);
  EXPECT_TRUE(p.setRequiresGrad().isOk());
  return p;
}

/// Gives `p` the gradient `values` (in p's dtype and shape).
inline void giveGrad(Tensor &p, const std::vector<double> &values) {
  Tensor g = *Tensor::fromDoubles(values, p.shape(), p.dtype());
  Status s = p.setGrad(g);
  ASSERT_TRUE(s.isOk()) << s;
}

/// `actual`'s elements against `expected` within `tol`, naming the worst.
inline ::testing::AssertionResult
closeTo(const Tensor &actual, const std::vector<double> &expected,
        ref::Tolerance tol) {
  Tensor e = *Tensor::fromDoubles(expected, actual.shape(), DType::F64);
  ref::Comparison c = ref::compare(*actual.to(DType::F64), e, tol);
  if (c.ok)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << c.message;
}

/// Success when `result` (a Status or Expected) is an error whose message
/// contains `needle`.
template <typename T>
::testing::AssertionResult failsMentioning(T &&result, std::string_view needle) {
  Status s = ::kiln::detail::toStatus(std::forward<T>(result));
  if (s.isOk())
    return ::testing::AssertionFailure() << "succeeded; expected an error about '"
                                         << needle << "'";
  if (s.message().find(needle) == std::string::npos)
    return ::testing::AssertionFailure() << "message: " << s.message()
                                         << "\nexpected to mention: " << needle;
  return ::testing::AssertionSuccess();
}

/// EXPECT_ERROR_MENTIONS(expr, "needle"); variadic so that braces with
/// commas in `expr` need no extra parentheses.
#define EXPECT_ERROR_MENTIONS(...)                                             \
  EXPECT_TRUE(::kiln::test::failsMentioning(__VA_ARGS__))

} // namespace kiln::test

#endif // KILN_TEST_UNIT_TRAIN_OPTIMTESTUTIL_H
