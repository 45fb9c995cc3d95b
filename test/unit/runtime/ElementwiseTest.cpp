//===- ElementwiseTest.cpp - Eager elementwise ops against the reference ---===//
//
// Every unary and binary op of OpTables.def, every dtype in its domain, on
// shapes that cover size-0 and size-1 dims, odd lengths that miss the vector
// width, broadcasting, non-contiguous views and the multi-threaded path.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

using namespace kiln;
using kiln::test::closeTo;
using kiln::test::nonContiguous;
using kiln::test::randomTensor;

namespace {

const UnaryOp kUnaryOps[] = {
#define KILN_UNARY_OP(E, fn, name, domain) UnaryOp::E,
#include "kiln/OpTables.def"
};
const BinaryOp kBinaryOps[] = {
#define KILN_BINARY_OP(E, fn, name, domain) BinaryOp::E,
#include "kiln/OpTables.def"
};

/// An input range on which the op is defined and well conditioned.
std::pair<double, double> unaryRange(UnaryOp op, DType dt) {
  if (isInteger(dt))
    return {-50, 50};
  switch (op) {
  case UnaryOp::Log:
  case UnaryOp::Sqrt:
  case UnaryOp::Rsqrt:
  case UnaryOp::Reciprocal:
    return {0.25, 8};
  default:
    return {-4, 4};
  }
}

UnaryParams paramsFor(UnaryOp op) {
  UnaryParams p = defaultParams(op);
  if (op == UnaryOp::Clip) {
    p.lo = -1.5;
    p.hi = 2.25;
  }
  if (op == UnaryOp::LeakyRelu)
    p.alpha = 0.2;
  return p;
}

const Shape kShapes[] = {{}, {0}, {1}, {7}, {3, 5}, {2, 0, 3}, {4, 1, 67}, {33, 17}};

TEST(Elementwise, UnaryMatchesReference) {
  uint64_t seed = 1;
  for (UnaryOp op : kUnaryOps)
    for (DType dt : kAllDTypes) {
      if (!inDomain(opDomain(op), dt))
        continue;
      auto [lo, hi] = unaryRange(op, dt);
      for (const Shape &shape : kShapes)
        for (bool strided : {false, true}) {
          Tensor x = randomTensor(shape, dt, lo, hi, seed++);
          if (strided)
            x = nonContiguous(x);
          UnaryParams p = paramsFor(op);
          auto got = unary(op, x, p);
          ASSERT_TRUE(got.ok()) << opName(op) << ": " << got.status();
          EXPECT_EQ(got->dtype(), dt);
          auto want = ref::unary(op, x, p);
          ASSERT_TRUE(want.ok()) << want.status();
          EXPECT_TRUE(closeTo(*got, *want, ref::toleranceFor(dt)))
              << opName(op) << " " << dtypeName(dt) << " shape "
              << x.toString(0) << (strided ? " strided" : "");
        }
    }
}

TEST(Elementwise, UnaryLargeUsesThePool) {
  Tensor x = randomTensor({300, 501}, DType::F32, -4, 4, 99);
  for (UnaryOp op : {UnaryOp::Exp, UnaryOp::Gelu, UnaryOp::Relu}) {
    auto got = unary(op, x);
    auto want = ref::unary(op, x, defaultParams(op));
    EXPECT_TRUE(closeTo(*got, *want, ref::toleranceFor(DType::F32))) << opName(op);
  }
}

std::pair<double, double> binaryRange(BinaryOp op, DType dt, bool rhs) {
  if (dt == DType::Bool)
    return {0, 1};
  if (isInteger(dt)) {
    if (op == BinaryOp::Pow)
      return rhs ? std::pair{-1.0, 5.0} : std::pair{-3.0, 4.0};
    if (op == BinaryOp::Div && rhs)
      return {-4, 5}; // Includes 0: x / 0 is 0.
    // Products of i8 must not wrap (the reference does not wrap).
    return dt == DType::I8 ? std::pair{-11.0, 12.0} : std::pair{-60.0, 60.0};
  }
  if (op == BinaryOp::Pow)
    return rhs ? std::pair{-2.0, 2.0} : std::pair{0.5, 2.0};
  if (op == BinaryOp::Div && rhs)
    return {0.5, 4};
  // Few distinct values so that comparisons see ties.
  if (isComparison(op))
    return {-2, 2};
  return {-4, 4};
}

struct ShapePair {
  Shape a, b;
};
const ShapePair kBroadcasts[] = {
    {{}, {}},        {{7}, {7}},           {{3, 4}, {4}},
    {{3, 1}, {1, 4}}, {{}, {5}},           {{2, 0, 3}, {3}},
    {{1}, {1}},      {{5, 1, 7}, {1, 6, 1}}, {{67}, {1}},
    {{2, 3, 9}, {2, 3, 9}}};

TEST(Elementwise, BinaryMatchesReferenceWithBroadcasting) {
  uint64_t seed = 1000;
  for (BinaryOp op : kBinaryOps)
    for (DType dt : kAllDTypes) {
      if (!inDomain(opDomain(op), dt))
        continue;
      for (const ShapePair &sp : kBroadcasts)
        for (int variant = 0; variant < 3; ++variant) {
          auto [alo, ahi] = binaryRange(op, dt, false);
          auto [blo, bhi] = binaryRange(op, dt, true);
          Tensor a = randomTensor(sp.a, dt, alo, ahi, seed++);
          Tensor b = randomTensor(sp.b, dt, blo, bhi, seed++);
          if (isComparison(op) && isFloat(dt)) { // Round to force ties.
            a = *cast(*cast(a, DType::I32), dt);
            b = *cast(*cast(b, DType::I32), dt);
          }
          if (variant == 1)
            a = nonContiguous(a);
          if (variant == 2) { // Swap sides: broadcasting on the left.
            std::swap(a, b);
            if (op == BinaryOp::Pow || op == BinaryOp::Div)
              continue;
          }
          auto got = binary(op, a, b);
          ASSERT_TRUE(got.ok()) << opName(op) << ": " << got.status();
          EXPECT_EQ(got->dtype(), isComparison(op) ? DType::Bool : dt);
          auto want = ref::binary(op, a, b);
          ASSERT_TRUE(want.ok()) << want.status();
          EXPECT_TRUE(closeTo(*got, *want, ref::toleranceFor(dt)))
              << opName(op) << " " << dtypeName(dt) << " " << a.toString(0)
              << " with " << b.toString(0) << " variant " << variant;
        }
    }
}

TEST(Elementwise, BinaryLargeBroadcastUsesThePool) {
  Tensor a = randomTensor({400, 300}, DType::F32, -1, 1, 5);
  Tensor b = randomTensor({300}, DType::F32, -1, 1, 6);
  auto got = add(nonContiguous(a), b);
  auto want = ref::binary(BinaryOp::Add, a, b);
  EXPECT_TRUE(closeTo(*got, *want, ref::toleranceFor(DType::F32)));
}

TEST(Elementwise, Select) {
  for (DType dt : {DType::F32, DType::F16, DType::I64, DType::Bool}) {
    Tensor c = randomTensor({4, 1, 5}, DType::Bool, 0, 1, 7);
    Tensor a = randomTensor({3, 5}, dt, -5, 5, 8);
    Tensor b = randomTensor({4, 3, 1}, dt, -5, 5, 9);
    auto got = select(c, nonContiguous(a), b);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->shape(), (Shape{4, 3, 5}));
    EXPECT_TRUE(closeTo(*got, *ref::select(c, a, b), ref::toleranceFor(dt)));
  }
  Tensor f = *Tensor::zeros({2}, DType::F32);
  EXPECT_EQ(select(f, f, f).status().code(), StatusCode::InvalidArgument);
}

// The contiguous loops of select: both branches full, either one a
// broadcast scalar (relu's backward selects against 0), or both; every
// dtype's width, lengths of 1, odd and past the vector width, and large
// enough to split over the pool. Select copies values, so exactly.
TEST(Elementwise, SelectContiguousAndScalarBranches) {
  for (DType dt : {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                   DType::I32, DType::I8, DType::Bool}) {
    for (int64_t n : {int64_t(1), int64_t(37), int64_t(100003)}) {
      SCOPED_TRACE(::testing::Message() << dtypeName(dt) << " n=" << n);
      Tensor c = randomTensor({n}, DType::Bool, 0, 1, 11);
      Tensor a = randomTensor({n}, dt, -5, 5, 12);
      Tensor b = randomTensor({n}, dt, -5, 5, 13);
      Tensor sa = randomTensor({}, dt, -5, 5, 14);
      Tensor sb = randomTensor({}, dt, -5, 5, 15);
      for (auto [x, y] : {std::pair{a, b}, {a, sb}, {sa, b}, {sa, sb}}) {
        auto got = select(c, x, y);
        ASSERT_TRUE(got.ok()) << got.status();
        EXPECT_EQ(got->shape(), (Shape{n}));
        EXPECT_EQ(got->toDoubles(), ref::select(c, x, y)->toDoubles());
      }
    }
  }
}

TEST(Elementwise, IntegerEdgeCasesDoNotTrap) {
  auto a = *Tensor::fromVector<int32_t>({INT32_MIN, 7, -7, INT32_MAX}, {4});
  auto b = *Tensor::fromVector<int32_t>({-1, 0, 2, 1}, {4});
  EXPECT_EQ(div(a, b)->toDoubles(),
            (std::vector<double>{double(INT32_MIN), 0, -3, double(INT32_MAX)}));
  EXPECT_EQ(add(a, b)->toDoubles()[3], double(INT32_MIN)); // Wraps.
  EXPECT_EQ(neg(a)->toDoubles()[0], double(INT32_MIN));
}

TEST(Elementwise, NanPropagation) {
  auto a = *Tensor::fromVector<float>({NAN, 1, 2}, {3});
  auto b = *Tensor::fromVector<float>({0, NAN, 1}, {3});
  auto mx = *max(a, b);
  EXPECT_TRUE(std::isnan(*mx.at({0})));
  EXPECT_TRUE(std::isnan(*mx.at({1})));
  EXPECT_EQ(*mx.at({2}), 2);
  EXPECT_TRUE(std::isnan(*relu(a)->at({0})));
}

TEST(Elementwise, BadInputsAreStatuses) {
  Tensor f = *Tensor::zeros({2, 3}, DType::F32);
  Tensor g = *Tensor::zeros({4}, DType::F32);
  Tensor i = *Tensor::zeros({2, 3}, DType::I32);
  Tensor bl = *Tensor::zeros({2, 3}, DType::Bool);
  auto mismatch = add(f, g);
  EXPECT_EQ(mismatch.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(mismatch.status().message().find("op 'add'"), std::string::npos);
  EXPECT_EQ(add(f, i).status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(add(f, i).status().message().find("f32 vs i32"), std::string::npos);
  EXPECT_EQ(exp(i).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(neg(bl).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(logicalAnd(f, f).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(add(bl, bl).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(exp(Tensor()).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(clip(f, 2, 1).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(gelu(f, "fast").status().code(), StatusCode::InvalidArgument);
  EXPECT_TRUE(gelu(f, "tanh").ok());
}

TEST(Elementwise, OperatorsChainAndPropagateErrors) {
  Tensor a = *Tensor::fromVector<float>({1, 2, 3}, {3});
  Tensor b = *Tensor::fromVector<float>({10, 20, 30}, {3});
  Expected<Tensor> y = a * b + 1.0;
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(y->toDoubles(), (std::vector<double>{11, 41, 91}));
  EXPECT_EQ((2.0 - a)->toDoubles(), (std::vector<double>{1, 0, -1}));
  EXPECT_EQ((-a)->toDoubles(), (std::vector<double>{-1, -2, -3}));
  EXPECT_EQ((b / a)->toDoubles(), (std::vector<double>{10, 10, 10}));
  Tensor bad = *Tensor::zeros({2}, DType::F32);
  Expected<Tensor> z = (a + bad) * b - 1.0;
  EXPECT_EQ(z.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(z.status().message().find("op 'add'"), std::string::npos);
}

TEST(Elementwise, CastFollowsDialect) {
  auto x = *Tensor::fromVector<float>({-2.7f, 2.7f, 0.0f, 1e20f}, {4});
  EXPECT_EQ(cast(x, DType::I32)->toDoubles(),
            (std::vector<double>{-2, 2, 0, double(INT32_MAX)}));
  EXPECT_EQ(cast(x, DType::Bool)->toDoubles(), (std::vector<double>{1, 1, 0, 1}));
}

} // namespace
