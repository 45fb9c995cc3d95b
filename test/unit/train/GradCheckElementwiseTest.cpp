//===- GradCheckElementwiseTest.cpp - Elementwise ops by finite differences ===//
//
// Every unary and binary op with a derivative (OpTables.def), select and
// cast, on several shapes; binary ops also on broadcasting shapes, where the
// gradient must be summed back to each operand's shape. Inputs keep away
// from kinks (relu, abs at 0; clip at its bounds) and from domain edges
// (log, sqrt near 0).
//
//===----------------------------------------------------------------------===//
#include "GradCheck.h"

#include "kiln/NNOps.h"

using namespace kiln;
using namespace kiln::gradcheck;

namespace {

class GradCheckElementwise : public GradCheckTest {};

const std::vector<Shape> kShapes = {{}, {5}, {2, 3, 4}};

struct UnaryCase {
  const char *op;
  std::function<Expected<Tensor>(const Tensor &)> fn;
  double lo = -2, hi = 2;
  std::optional<double> kink = std::nullopt; // keep inputs 0.05 away from it
  std::optional<double> kink2 = std::nullopt;
};

std::vector<UnaryCase> unaryCases() {
  return {
      {"neg", [](const Tensor &x) { return neg(x); }},
      {"abs", [](const Tensor &x) { return abs(x); }, -2, 2, 0.0},
      {"exp", [](const Tensor &x) { return exp(x); }},
      {"log", [](const Tensor &x) { return log(x); }, 0.2, 3},
      {"sqrt", [](const Tensor &x) { return sqrt(x); }, 0.2, 3},
      {"rsqrt", [](const Tensor &x) { return rsqrt(x); }, 0.2, 3},
      {"reciprocal", [](const Tensor &x) { return reciprocal(x); }, 0.3, 3},
      {"tanh", [](const Tensor &x) { return tanh(x); }},
      {"sigmoid", [](const Tensor &x) { return sigmoid(x); }},
      {"relu", [](const Tensor &x) { return relu(x); }, -2, 2, 0.0},
      {"leaky_relu", [](const Tensor &x) { return leakyRelu(x, 0.1); }, -2, 2, 0.0},
      {"elu", [](const Tensor &x) { return elu(x, 0.7); }, -2, 2, 0.0},
      {"gelu", [](const Tensor &x) { return gelu(x, "none"); }},
      {"gelu(tanh)", [](const Tensor &x) { return gelu(x, "tanh"); }},
      {"silu", [](const Tensor &x) { return silu(x); }},
      {"softplus", [](const Tensor &x) { return softplus(x); }, -4, 4},
      {"sin", [](const Tensor &x) { return sin(x); }},
      {"cos", [](const Tensor &x) { return cos(x); }},
      {"erf", [](const Tensor &x) { return erf(x); }},
      {"clip", [](const Tensor &x) { return clip(x, -0.5, 0.7); }, -2, 2, -0.5, 0.7},
  };
}

Tensor unaryInput(const UnaryCase &c, const Shape &shape, uint64_t seed) {
  Tensor x = uniform(shape, seed, c.lo, c.hi);
  double *p = x.data<double>();
  for (std::optional<double> k : {c.kink, c.kink2})
    if (k)
      for (int64_t i = 0; i < x.numel(); ++i)
        if (std::fabs(p[i] - *k) < 0.05)
          p[i] = *k + (p[i] >= *k ? 0.05 : -0.05);
  return x;
}

} // namespace

KILN_GRADCHECK_TEST(GradCheckElementwise, UnaryOps, "neg", "abs", "exp", "log",
                    "sqrt", "rsqrt", "reciprocal", "tanh", "sigmoid", "relu",
                    "leaky_relu", "elu", "gelu", "gelu(tanh)", "silu",
                    "softplus", "sin", "cos", "erf", "clip") {
  uint64_t seed = 1;
  for (const UnaryCase &c : unaryCases())
    for (const Shape &shape : kShapes) {
      SCOPED_TRACE(std::string(c.op) + " on " + shapes::toString(shape));
      auto fn = c.fn;
      EXPECT_TRUE(checkGradients(
          c.op, [fn](const Inputs &in) { return fn(in[0]); },
          {unaryInput(c, shape, seed++)}));
    }
}

KILN_GRADCHECK_TEST(GradCheckElementwise, UnaryOnNonContiguousInput, "exp") {
  // A transposed view feeds the op: its gradient must flow back through the
  // view's node to the leaf.
  EXPECT_TRUE(checkGradients(
      "exp", [](const Inputs &in) { return exp(in[0].transpose(0, 1)); },
      {uniform({3, 4}, 7)}));
}

namespace {

struct BinaryCase {
  const char *op;
  std::function<Expected<Tensor>(const Tensor &, const Tensor &)> fn;
  double alo = -2, ahi = 2, blo = -2, bhi = 2;
};

std::vector<BinaryCase> binaryCases() {
  return {
      {"add", [](const Tensor &a, const Tensor &b) { return add(a, b); }},
      {"sub", [](const Tensor &a, const Tensor &b) { return sub(a, b); }},
      {"mul", [](const Tensor &a, const Tensor &b) { return mul(a, b); }},
      {"div", [](const Tensor &a, const Tensor &b) { return div(a, b); },
       -2, 2, 0.5, 2},
      {"pow", [](const Tensor &a, const Tensor &b) { return pow(a, b); },
       0.3, 2, -2, 2},
      {"max", [](const Tensor &a, const Tensor &b) { return max(a, b); }},
      {"min", [](const Tensor &a, const Tensor &b) { return min(a, b); }},
  };
}

/// Same shapes, broadcasting on either side, a scalar operand.
const std::vector<std::pair<Shape, Shape>> kBinaryShapes = {
    {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{4, 1, 3}, {2, 1}}, {{}, {2, 2}}, {{3, 1}, {1, 4}}};

} // namespace

KILN_GRADCHECK_TEST(GradCheckElementwise, BinaryOpsWithBroadcasting, "add",
                    "sub", "mul", "div", "pow", "max", "min") {
  uint64_t seed = 100;
  for (const BinaryCase &c : binaryCases())
    for (const auto &[sa, sb] : kBinaryShapes) {
      SCOPED_TRACE(std::string(c.op) + " on " + shapes::toString(sa) + " and " +
                   shapes::toString(sb));
      auto fn = c.fn;
      EXPECT_TRUE(checkGradients(
          c.op, [fn](const Inputs &in) { return fn(in[0], in[1]); },
          {uniform(sa, seed, c.alo, c.ahi), uniform(sb, seed + 1, c.blo, c.bhi)}));
      seed += 2;
    }
}

KILN_GRADCHECK_TEST(GradCheckElementwise, BinaryOpWithOneConstantOperand, "mul") {
  Options o;
  o.wrt = {false, true};
  EXPECT_TRUE(checkGradients(
      "mul", [](const Inputs &in) { return mul(in[0], in[1]); },
      {uniform({2, 3}, 1), uniform({3}, 2)}, o));
}

KILN_GRADCHECK_TEST(GradCheckElementwise, Select, "select") {
  Tensor cond = Tensor::fromVector<bool>({true, false, false, true, true, false},
                                         {2, 3})
                    .value();
  EXPECT_TRUE(checkGradients(
      "select",
      [](const Inputs &in) { return kiln::select(in[0], in[1], in[2]); },
      {cond, uniform({2, 3}, 1), uniform({3}, 2)}));
  EXPECT_TRUE(checkGradients(
      "select",
      [](const Inputs &in) { return kiln::select(in[0], in[1], in[2]); },
      {cond, uniform({}, 3), uniform({2, 1}, 4)}));
}

KILN_GRADCHECK_TEST(GradCheckElementwise, Cast, "cast") {
  // f64 -> f32 -> f64: the f32 rounding (~6e-8) over 2 eps must stay under
  // atol, so this linear op takes eps 1e-2 (exact for a linear map).
  Options o;
  o.eps = 1e-2;
  EXPECT_TRUE(checkGradients(
      "cast",
      [](const Inputs &in) -> Expected<Tensor> {
        KILN_ASSIGN_OR_RETURN(Tensor f, cast(in[0], DType::F32));
        return f * f;
      },
      {uniform({2, 3}, 5)}, o));
}
