//===- GradCheck.h - Finite-difference gradient checks ---------------------===//
//
// DESIGN.md: every differentiable op passes a finite-difference check in
// f64 (central differences, eps 1e-6, atol 1e-5, rtol 1e-3). checkGradients
// runs `fn` on leaf copies of the inputs, back-propagates a random seed v
// through autograd::grad, and compares d<fn(x), v>/dx with
// (<fn(x + eps e_i), v> - <fn(x - eps e_i), v>) / 2 eps for every element of
// every float input. It also fails unless the graph contains a node named
// after the op, so a check cannot pass through some other op's derivative.
//
// Tests declare the ops they check with KILN_GRADCHECK_TEST, so the registry
// test (GradCheckRegistryTest.cpp) knows every op's coverage without
// running the checks (ctest runs each TEST in its own process), and the
// fixture fails a test that declares an op it did not check.
//
//   KILN_GRADCHECK_TEST(GradCheckNN, Softmax, "softmax") {
//     EXPECT_TRUE(checkGradients("softmax",
//         [](const Inputs &in) { return softmax(in[0], 1); },
//         {uniform({3, 4}, 1)}));
//   }
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TEST_UNIT_TRAIN_GRADCHECK_H
#define KILN_TEST_UNIT_TRAIN_GRADCHECK_H

#include "kiln/Autograd.h"
#include "kiln/Ops.h"
#include "kiln/Random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

namespace kiln::gradcheck {

using Inputs = std::vector<Tensor>;
using OpFn = std::function<Expected<Tensor>(const Inputs &)>;

struct Options {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  /// Which inputs to differentiate; empty: every float input.
  std::vector<bool> wrt;
  /// Seed of the random cotangent.
  uint64_t seed = 1234;
};

/// Op names each test (by "Suite.Name") declares; filled at static init.
inline std::map<std::string, std::set<std::string>> &declaredChecks() {
  static std::map<std::string, std::set<std::string>> declared;
  return declared;
}
inline bool declare(const char *test, std::initializer_list<const char *> ops) {
  for (const char *op : ops)
    declaredChecks()[test].insert(op);
  return true;
}
/// Op names checked so far in this process, and in the running test.
inline std::set<std::string> &checkedOps() {
  static std::set<std::string> checked;
  return checked;
}
inline std::set<std::string> &checkedInThisTest() {
  static std::set<std::string> checked;
  return checked;
}

/// checkGradients calls and input elements compared in this process.
struct CheckCounts {
  int64_t checks = 0, elements = 0;
};
inline CheckCounts &checkCounts() {
  static CheckCounts counts;
  return counts;
}

/// Prints the counts when the test program ends.
class CountsReporter : public ::testing::Environment {
public:
  void TearDown() override {
    if (checkCounts().checks)
      std::printf("[gradcheck] %lld checks of %zu ops, %lld input elements "
                  "compared\n",
                  (long long)checkCounts().checks, checkedOps().size(),
                  (long long)checkCounts().elements);
  }
};
inline const bool kCountsReporterRegistered =
    (::testing::AddGlobalTestEnvironment(new CountsReporter), true);

/// f64 values uniform in [lo, hi).
inline Tensor uniform(const Shape &shape, uint64_t seed, double lo = -1.0,
                      double hi = 1.0) {
  Generator gen(seed);
  return gen.uniform(shape, lo, hi, DType::F64).value();
}

/// f64 values in [lo, hi) whose magnitudes stay >= `gap` away from `kink`
/// (ops with a kink there: relu, abs, l1, ...).
inline Tensor awayFrom(const Shape &shape, uint64_t seed, double kink = 0.0,
                       double gap = 0.05, double lo = -1.0, double hi = 1.0) {
  Tensor t = uniform(shape, seed, lo, hi);
  double *p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (std::fabs(p[i] - kink) < gap)
      p[i] = kink + (p[i] >= kink ? gap : -gap);
  return t;
}

/// Integer tensor (i64) from values.
inline Tensor indices(const std::vector<int64_t> &values, const Shape &shape) {
  return Tensor::fromVector(values, shape).value();
}

namespace detail {

inline bool graphHasOp(const Tensor &out, std::string_view op) {
  std::vector<std::shared_ptr<autograd::Node>> stack;
  std::unordered_set<autograd::Node *> seen;
  if (auto fn = out.gradFn())
    stack.push_back(fn);
  while (!stack.empty()) {
    auto node = stack.back();
    stack.pop_back();
    if (!seen.insert(node.get()).second)
      continue;
    if (node->name() == op)
      return true;
    for (const auto &edge : node->inputs())
      if (edge.node)
        stack.push_back(edge.node);
  }
  return false;
}

/// <fn(inputs), v> in f64, with grad mode off.
inline Expected<double> project(const OpFn &fn, const Inputs &inputs,
                                const std::vector<double> &v) {
  autograd::NoGradGuard noGrad;
  KILN_ASSIGN_OR_RETURN(Tensor out, fn(inputs));
  std::vector<double> values = out.toDoubles();
  if (values.size() != v.size())
    return internalError("gradcheck: output size changed from ", v.size(),
                         " to ", values.size());
  double s = 0;
  for (size_t i = 0; i < values.size(); ++i)
    s += values[i] * v[i];
  return s;
}

} // namespace detail

/// See the file comment. `inputs` are copied; the caller's stay untouched.
inline ::testing::AssertionResult
checkGradients(const std::string &op, const OpFn &fn, const Inputs &inputs,
               const Options &options = {}) {
  checkedOps().insert(op);
  checkedInThisTest().insert(op);
  ++checkCounts().checks;
  auto fail = [&] {
    return ::testing::AssertionFailure() << "gradcheck of '" << op << "': ";
  };
  // Leaves: fresh copies, the differentiated ones requiring grad.
  Inputs leaves;
  std::vector<size_t> wrt;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) {
      leaves.push_back(Tensor());
      continue;
    }
    Tensor copy = inputs[i].detach().clone().value();
    bool differentiate = options.wrt.empty() ? isFloat(copy.dtype())
                                             : (i < options.wrt.size() && options.wrt[i]);
    if (differentiate) {
      if (!copy.setRequiresGrad().isOk())
        return fail() << "input " << i << " cannot require grad";
      wrt.push_back(i);
    }
    leaves.push_back(copy);
  }
  if (wrt.empty())
    return fail() << "no input to differentiate";

  Expected<Tensor> out = fn(leaves);
  if (!out)
    return fail() << "the op failed: " << out.status().message();
  if (!out->requiresGrad())
    return fail() << "the result does not require grad (nothing recorded)";
  if (!detail::graphHasOp(*out, op))
    return fail() << "no node named '" << op << "' in the graph (the result's "
                  << "node is '" << out->gradFn()->name() << "')";

  Tensor v = uniform(out->shape(), options.seed);
  Tensor seed = out->dtype() == DType::F64 ? v : v.to(out->dtype()).value();
  std::vector<double> vValues = seed.toDoubles();
  Inputs wrtLeaves;
  for (size_t i : wrt)
    wrtLeaves.push_back(leaves[i]);
  auto analytic = autograd::grad({*out}, wrtLeaves, {seed});
  if (!analytic)
    return fail() << "backward failed: " << analytic.status().message();

  std::ostringstream errors;
  int bad = 0;
  for (size_t k = 0; k < wrt.size(); ++k) {
    size_t i = wrt[k];
    const Tensor &g = (*analytic)[k];
    if (g.shape() != leaves[i].shape())
      return fail() << "gradient of input " << i << " has the wrong shape";
    std::vector<double> a = g.toDoubles();
    std::vector<double> x = leaves[i].toDoubles();
    checkCounts().elements += int64_t(x.size());
    double worst = 0;
    std::string worstText;
    for (size_t e = 0; e < x.size(); ++e) {
      auto at = [&](double value) -> Expected<double> {
        std::vector<double> moved = x;
        moved[e] = value;
        Inputs probe = leaves;
        KILN_ASSIGN_OR_RETURN(probe[i], Tensor::fromDoubles(moved, leaves[i].shape(),
                                                            leaves[i].dtype()));
        return detail::project(fn, probe, vValues);
      };
      Expected<double> plus = at(x[e] + options.eps);
      Expected<double> minus = at(x[e] - options.eps);
      if (!plus || !minus)
        return fail() << "the op failed on a perturbed input: "
                      << (plus ? minus : plus).status().message();
      double numeric = (*plus - *minus) / (2 * options.eps);
      double err = std::fabs(a[e] - numeric);
      double allowed = options.atol + options.rtol * std::fabs(numeric);
      if (!(err <= allowed)) {
        ++bad;
        if (!(err / allowed <= worst)) {
          worst = err / allowed;
          std::ostringstream os;
          os << "input " << i << " element " << e << ": analytic " << a[e]
             << ", numeric " << numeric << " (|diff| " << err << ", allowed "
             << allowed << ")";
          worstText = os.str();
        }
      }
    }
    if (!worstText.empty())
      errors << "\n  worst of input " << i << ": " << worstText;
  }
  if (bad)
    return fail() << bad << " mismatching elements" << errors.str();
  return ::testing::AssertionSuccess();
}

/// Fixture of the gradcheck tests: fails a test whose declared ops were not
/// all checked.
class GradCheckTest : public ::testing::Test {
protected:
  void SetUp() override { checkedInThisTest().clear(); }
  void TearDown() override {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "." + info->name();
    auto it = declaredChecks().find(name);
    if (it == declaredChecks().end())
      return;
    for (const std::string &op : it->second)
      if (!checkedInThisTest().count(op))
        ADD_FAILURE() << name << " declares op '" << op
                      << "' but never called checkGradients on it";
  }
};

} // namespace kiln::gradcheck

/// TEST_F(Suite, Name) that declares the op names it checks (string
/// literals). Suite must derive from kiln::gradcheck::GradCheckTest.
#define KILN_GRADCHECK_TEST(Suite, Name, ...)                                  \
  [[maybe_unused]] static const bool kilnGradCheckDeclared_##Suite##_##Name =  \
      ::kiln::gradcheck::declare(#Suite "." #Name, {__VA_ARGS__});             \
  TEST_F(Suite, Name)

#endif // KILN_TEST_UNIT_TRAIN_GRADCHECK_H
