//===- VecMathTest.cpp - f32 vector math against f64 libm ------------------===//
//
// runtime/src/cpu/VecMath.h: special values at every lane width, a dense
// sweep of f32 inputs against the f64 functions (worst ULP and worst error
// against DESIGN.md's f32 tolerance, printed for each function), agreement
// between the scalar, 4-lane and dispatched (AVX2 where present) forms, and
// the eager ops that use it on lengths that miss the vector width.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"
#include "VecMath.h"

#include <cstdio>
#include <limits>
#include <vector>

using namespace kiln;
namespace vm = kiln::cpu::vecmath;
using vm::Fn;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct FnCase {
  Fn fn;
  const char *name;
  double (*reference)(double);
  UnaryOp op;
};

double sigmoidRef(double x) { return 1.0 / (1.0 + std::exp(-x)); }
// The f64 references avoid 1 + erf and 1 + tanh, which cancel for x < 0
// (ref::unary's forms lose every digit there even in f64).
double geluRef(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }
double geluTanhRef(double x) {
  double u = std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x);
  return x / (1.0 + std::exp(-2.0 * u));
}
double siluRef(double x) { return x / (1.0 + std::exp(-x)); }
double softplusRef(double x) {
  return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x)));
}

const FnCase kCases[] = {
    {Fn::Exp, "exp", [](double x) { return std::exp(x); }, UnaryOp::Exp},
    {Fn::Log, "log", [](double x) { return std::log(x); }, UnaryOp::Log},
    {Fn::Tanh, "tanh", [](double x) { return std::tanh(x); }, UnaryOp::Tanh},
    {Fn::Sigmoid, "sigmoid", sigmoidRef, UnaryOp::Sigmoid},
    {Fn::Erf, "erf", [](double x) { return std::erf(x); }, UnaryOp::Erf},
    {Fn::Gelu, "gelu", geluRef, UnaryOp::Gelu},
    {Fn::GeluTanh, "gelu_tanh", geluTanhRef, UnaryOp::GeluTanh},
    {Fn::Silu, "silu", siluRef, UnaryOp::Silu},
    {Fn::Softplus, "softplus", softplusRef, UnaryOp::Softplus},
};

/// y = fn(x) through the dispatched array form.
std::vector<float> applyArray(Fn fn, const std::vector<float> &x) {
  std::vector<float> y(x.size());
  auto n = int64_t(x.size());
  switch (fn) {
#define KILN_VM_CASE(F)                                                        \
  case Fn::F:                                                                  \
    vm::applyArray<Fn::F>(x.data(), y.data(), n);                              \
    break;
    KILN_VM_CASE(Exp)
    KILN_VM_CASE(Log)
    KILN_VM_CASE(Tanh)
    KILN_VM_CASE(Sigmoid)
    KILN_VM_CASE(Erf)
    KILN_VM_CASE(Gelu)
    KILN_VM_CASE(GeluTanh)
    KILN_VM_CASE(Silu)
    KILN_VM_CASE(Softplus)
#undef KILN_VM_CASE
  }
  return y;
}

/// fn on one lane (V = float) and on four (V = Float4, the baseline path).
template <typename V> V applyLanes(Fn fn, V x) {
  switch (fn) {
  case Fn::Exp:
    return vm::apply<Fn::Exp>(x);
  case Fn::Log:
    return vm::apply<Fn::Log>(x);
  case Fn::Tanh:
    return vm::apply<Fn::Tanh>(x);
  case Fn::Sigmoid:
    return vm::apply<Fn::Sigmoid>(x);
  case Fn::Erf:
    return vm::apply<Fn::Erf>(x);
  case Fn::Gelu:
    return vm::apply<Fn::Gelu>(x);
  case Fn::GeluTanh:
    return vm::apply<Fn::GeluTanh>(x);
  case Fn::Silu:
    return vm::apply<Fn::Silu>(x);
  case Fn::Softplus:
    return vm::apply<Fn::Softplus>(x);
  }
  return x;
}

/// The spacing of floats at the f32 rounding of `want` (2^-149 at the
/// bottom), so that |got - want| / ulp is the error in units of the last
/// place of the correctly rounded result.
double ulpAt(double want) {
  float w = std::fabs(float(want));
  if (w == kInf)
    return std::ldexp(1.0, 104); // ULP of FLT_MAX
  return double(std::nextafter(w, kInf)) - double(w);
}

/// Errors of got against the f64 reference; special results must match.
struct ErrorStats {
  double maxUlp = 0, ulpAtX = 0;
  double maxTolRatio = 0, tolAtX = 0; ///< |err| / (atol + rtol |want|)
  double maxAbs = 0;
  int64_t mismatches = 0;
  std::string firstMismatch;
  void add(float x, float got, double want) {
    if (std::isnan(want) || std::isinf(want) || std::isnan(got) ||
        std::isinf(got)) {
      bool same = std::isnan(want) ? std::isnan(got) : double(got) == want;
      // A finite f64 result beyond FLT_MAX rounds to inf in f32.
      if (!same && std::isinf(got) && std::fabs(want) > 3.4028234663852886e38 &&
          (got > 0) == (want > 0))
        same = true;
      if (!same && mismatches++ == 0)
        firstMismatch = "x=" + std::to_string(x) + " got " +
                        std::to_string(got) + " want " + std::to_string(want);
      return;
    }
    double err = std::fabs(double(got) - want);
    // ULPs over results above 1e-30: below, an intermediate e^-|x| may be
    // subnormal (silu, x < -87); the tolerance still covers every result.
    double ulp = std::fabs(want) < 1e-30
                     ? 0.0
                     : err / ulpAt(want);
    ref::Tolerance tol = ref::toleranceFor(DType::F32);
    double ratio = err / (tol.atol + tol.rtol * std::fabs(want));
    maxAbs = std::max(maxAbs, err);
    if (ulp > maxUlp) {
      maxUlp = ulp;
      ulpAtX = x;
    }
    if (ratio > maxTolRatio) {
      maxTolRatio = ratio;
      tolAtX = x;
    }
  }
};

/// Every f32 bit pattern with step `stride`, both signs: ~2^32 / stride
/// inputs from the subnormals to inf and NaN.
std::vector<float> sweepInputs(uint32_t stride) {
  std::vector<float> xs;
  xs.reserve(size_t((uint64_t(1) << 32) / stride + 1));
  for (uint64_t b = 0; b < (uint64_t(1) << 32); b += stride)
    xs.push_back(std::bit_cast<float>(uint32_t(b)));
  return xs;
}

TEST(VecMath, SpecialValues) {
  struct Expect {
    Fn fn;
    float x, want;
  };
  const float kMinSub = std::numeric_limits<float>::denorm_min();
  const Expect cases[] = {
      {Fn::Exp, -kInf, 0.0f},       {Fn::Exp, kInf, kInf},
      {Fn::Exp, 0.0f, 1.0f},        {Fn::Exp, -0.0f, 1.0f},
      {Fn::Exp, 89.0f, kInf},       {Fn::Exp, 1000.0f, kInf},
      {Fn::Exp, -104.0f, 0.0f},     {Fn::Exp, -1000.0f, 0.0f},
      {Fn::Exp, -103.2789f, kMinSub}, // 2^-149 after one rounding
      {Fn::Log, 0.0f, -kInf},       {Fn::Log, -0.0f, -kInf},
      {Fn::Log, -1.0f, kNaN},       {Fn::Log, -kInf, kNaN},
      {Fn::Log, kInf, kInf},        {Fn::Log, 1.0f, 0.0f},
      {Fn::Log, kMinSub, -103.27893f},
      {Fn::Tanh, kInf, 1.0f},       {Fn::Tanh, -kInf, -1.0f},
      {Fn::Tanh, 20.0f, 1.0f},      {Fn::Tanh, -20.0f, -1.0f},
      {Fn::Tanh, 0.0f, 0.0f},       {Fn::Tanh, kMinSub, kMinSub},
      {Fn::Sigmoid, kInf, 1.0f},    {Fn::Sigmoid, -kInf, 0.0f},
      {Fn::Sigmoid, 0.0f, 0.5f},    {Fn::Sigmoid, 200.0f, 1.0f},
      {Fn::Erf, kInf, 1.0f},        {Fn::Erf, -kInf, -1.0f},
      {Fn::Erf, 0.0f, 0.0f},        {Fn::Erf, 10.0f, 1.0f},
      {Fn::Gelu, kInf, kInf},       {Fn::Gelu, 0.0f, 0.0f},
      {Fn::GeluTanh, kInf, kInf},   {Fn::GeluTanh, -1e20f, -0.0f},
      {Fn::Silu, kInf, kInf},       {Fn::Silu, 0.0f, 0.0f},
      {Fn::Softplus, kInf, kInf},   {Fn::Softplus, -kInf, 0.0f},
      {Fn::Softplus, 100.0f, 100.0f}, {Fn::Softplus, 0.0f, 0.6931472f},
  };
  for (const Expect &c : cases) {
    const char *name = "";
    for (const FnCase &fc : kCases)
      if (fc.fn == c.fn)
        name = fc.name;
    // Lane 2 of 9 values: the dispatched path's vector body and tail.
    std::vector<float> in(9, 0.5f);
    in[2] = c.x;
    in[8] = c.x;
    std::vector<float> out = applyArray(c.fn, in);
    float scalar = applyLanes(c.fn, c.x);
    vm::Float4 four = applyLanes(c.fn, vm::Float4{1.0f, 2.0f, c.x, 3.0f});
    for (float got : {out[2], out[8], scalar, four[2]}) {
      if (std::isnan(c.want))
        EXPECT_TRUE(std::isnan(got)) << name << "(" << c.x << ") = " << got;
      else if (std::fabs(c.want) > 1e-30f && !std::isinf(c.want))
        EXPECT_NEAR(got, c.want, 2e-7 * std::fabs(c.want))
            << name << "(" << c.x << ")";
      else
        EXPECT_EQ(got, c.want) << name << "(" << c.x << ")";
    }
    // NaN in, NaN out, at every width.
    std::vector<float> nan(9, kNaN);
    for (float got : applyArray(c.fn, nan))
      EXPECT_TRUE(std::isnan(got)) << name << "(NaN)";
    EXPECT_TRUE(std::isnan(applyLanes(c.fn, kNaN))) << name << "(NaN)";
  }
  // tanh keeps the sign of zero; exp gives subnormals down to 2^-149.
  EXPECT_TRUE(std::signbit(applyLanes(Fn::Tanh, -0.0f)));
  float sub = applyLanes(Fn::Exp, -100.0f);
  EXPECT_GT(sub, 0.0f);
  EXPECT_LT(sub, std::numeric_limits<float>::min());
  EXPECT_NEAR(sub, std::exp(-100.0), 2 * kMinSub + 2e-7 * std::exp(-100.0));
}

/// Worst error of every function over ~2^32 / 1021 inputs spread over every
/// binade, both signs: printed, and held to DESIGN.md's f32 tolerance and to
/// the ULP bounds that VecMath.h documents.
TEST(VecMath, DenseSweepAgainstDouble) {
  std::vector<float> xs = sweepInputs(1021);
  // Subnormal-range results and the threshold regions, densely.
  for (float lo : {-104.0f, 87.0f, -10.0f})
    for (int i = 0; i < 200000; ++i)
      xs.push_back(lo + float(i) * (lo == -10.0f ? 1e-4f : 1.7e-4f));
  for (const FnCase &c : kCases) {
    std::vector<float> got = applyArray(c.fn, xs);
    ErrorStats st;
    for (size_t i = 0; i < xs.size(); ++i)
      st.add(xs[i], got[i], c.reference(double(xs[i])));
    std::printf("  %-10s max %8.3g ulp (x=%-12.6g) max abs err %.3g  "
                "max err / f32 tolerance %.3g (x=%.6g)\n",
                c.name, st.maxUlp, st.ulpAtX, st.maxAbs, st.maxTolRatio,
                st.tolAtX);
    EXPECT_EQ(st.mismatches, 0) << c.name << ": " << st.firstMismatch;
    EXPECT_LE(st.maxTolRatio, 1.0) << c.name << " worst at x=" << st.tolAtX;
    double ulpBound = 0;
    switch (c.fn) {
    case Fn::Exp:
    case Fn::Log:
      ulpBound = 2;
      break;
    case Fn::Tanh:
    case Fn::Sigmoid:
    case Fn::Silu:
    case Fn::Softplus:
      ulpBound = 4;
      break;
    default:
      // erf: absolute accuracy. gelu: 1 + erf cancels for x < 0 (1.3e-6
      // near x = -5.5; glibc's erff gives ~2e-7). gelu_tanh: for x < -5 the
      // f32 rounding of the cubic argument alone moves the result by up to
      // ~200 ulp (its condition number), so absolute error there too.
      EXPECT_LE(st.maxAbs, c.fn == Fn::Erf ? 4e-7 : 2e-6)
          << c.name << " worst at x=" << st.tolAtX;
      break;
    }
    if (ulpBound > 0) {
      EXPECT_LE(st.maxUlp, ulpBound) << c.name << " worst at x=" << st.ulpAtX;
    }
  }
}

/// The scalar and 4-lane forms agree with the dispatched one (which may be
/// AVX2 with FMA: at most a rounding apart).
TEST(VecMath, WidthsAgree) {
  std::vector<float> xs = sweepInputs(65537);
  for (const FnCase &c : kCases) {
    std::vector<float> got = applyArray(c.fn, xs);
    double worst = 0;
    bool absolute =
        c.fn == Fn::Erf || c.fn == Fn::Gelu || c.fn == Fn::GeluTanh;
    for (size_t i = 0; i + 4 <= xs.size(); i += 4) {
      vm::Float4 in{xs[i], xs[i + 1], xs[i + 2], xs[i + 3]};
      vm::Float4 four = applyLanes(c.fn, in);
      for (int l = 0; l < 4; ++l) {
        float one = applyLanes(c.fn, xs[i + size_t(l)]);
        ASSERT_TRUE(std::bit_cast<uint32_t>(one) ==
                        std::bit_cast<uint32_t>(four[l]) ||
                    (std::isnan(one) && std::isnan(four[l])))
            << c.name << "(" << xs[i + size_t(l)] << "): scalar " << one
            << " vs 4 lanes " << four[l];
        float d = got[i + size_t(l)];
        if (std::isnan(d) || std::isinf(d) || d == one)
          continue;
        // erf and gelu: FMA moves the absolute error, not the relative one.
        double unit = absolute ? 1e-7 : ulpAt(one);
        worst = std::max(worst, std::fabs(double(d) - double(one)) / unit);
      }
    }
    EXPECT_LE(worst, absolute ? 16.0 : 4.0) << c.name << ": dispatched vs scalar";
  }
}

/// The eager ops on f32 tensors whose lengths miss the vector width, in
/// place of the old libm loops: against the f64 reference kernels, also
/// strided and in f16/bf16.
TEST(VecMath, EagerOpsOnOddLengths) {
  uint64_t seed = 7;
  for (const FnCase &c : kCases)
    for (int64_t n : {1, 7, 9, 17, 1000003})
      for (DType dt : {DType::F32, DType::F16, DType::BF16})
        for (bool strided : {false, true}) {
          if (n > 100 && (dt != DType::F32 || strided))
            continue;
          bool positive = c.op == UnaryOp::Log;
          // 16-bit floats: exp stays below f16's 65504.
          double r = dt == DType::F32 ? 20 : 8;
          Tensor x = test::randomTensor({n}, dt, positive ? 1e-3 : -r,
                                        positive ? 50 : r, seed++);
          if (strided)
            x = test::nonContiguous(x);
          auto got = unary(c.op, x, defaultParams(c.op));
          ASSERT_TRUE(got.ok()) << got.status();
          auto want = ref::unary(c.op, x, defaultParams(c.op));
          ASSERT_TRUE(want.ok()) << want.status();
          EXPECT_TRUE(test::closeTo(*got, *want, ref::toleranceFor(dt)))
              << c.name << " " << dtypeName(dt) << " n=" << n
              << (strided ? " strided" : "");
        }
}

} // namespace
