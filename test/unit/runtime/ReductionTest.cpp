//===- ReductionTest.cpp - Eager reductions against the reference ----------===//
#include "TestUtil.h"

using namespace kiln;
using kiln::test::closeTo;
using kiln::test::nonContiguous;
using kiln::test::randomTensor;

namespace {

const ReduceOp kReduceOps[] = {
#define KILN_REDUCE_OP(E, fn, name, domain) ReduceOp::E,
#include "kiln/OpTables.def"
};

struct Case {
  Shape shape;
  std::vector<int64_t> axes;
};
const Case kCases[] = {
    {{7}, {}},          {{7}, {0}},        {{3, 5}, {1}},      {{3, 5}, {0}},
    {{3, 5}, {-1, 0}},  {{4, 1, 67}, {2}}, {{4, 6, 5}, {0, 2}}, {{2, 3, 4, 5}, {1, 3}},
    {{1}, {0}},         {{2, 0, 3}, {0}},  {{}, {}},           {{1000, 3}, {0}},
    {{3, 1000}, {1}},
    // Column sums (leading dims into a contiguous trailing dim), wider than
    // one accumulator strip.
    {{5, 1100}, {0}},   {{3, 2, 600}, {0, 1}}};

TEST(Reduce, MatchesReference) {
  uint64_t seed = 1;
  for (ReduceOp op : kReduceOps)
    for (DType dt : kAllDTypes) {
      if (!inDomain(opDomain(op), dt))
        continue;
      for (const Case &c : kCases)
        for (bool keepDims : {false, true})
          for (bool strided : {false, true}) {
            // Products stay small so that integers do not wrap.
            bool prod = op == ReduceOp::Prod;
            double lo = prod ? 0.5 : -10, hi = prod ? 1.5 : 10;
            if (isInteger(dt) && prod)
              lo = -1, hi = 2;
            Tensor x = randomTensor(c.shape, dt, lo, hi, seed++);
            if (strided)
              x = nonContiguous(x);
            auto got = reduce(op, x, c.axes, keepDims);
            if (!got.ok()) {
              // Only max/min of an empty dim have no identity.
              EXPECT_TRUE(op == ReduceOp::Max || op == ReduceOp::Min) << got.status();
              continue;
            }
            auto want = ref::reduce(op, x, c.axes, keepDims);
            ASSERT_TRUE(want.ok()) << want.status();
            // Sums of n terms: the f64 accumulation keeps f32 within its
            // tolerance; f16/bf16 results round once at the end.
            EXPECT_TRUE(closeTo(*got, *want, ref::toleranceFor(dt)))
                << opName(op) << " " << dtypeName(dt) << " " << x.toString(0)
                << " keepDims " << keepDims << (strided ? " strided" : "");
          }
    }
}

TEST(Reduce, ArgMaxArgMin) {
  uint64_t seed = 500;
  for (DType dt : {DType::F32, DType::F64, DType::BF16, DType::I32, DType::I8})
    for (const Case &c : kCases) {
      if (c.shape.empty() || c.axes.size() != 1)
        continue;
      for (bool keepDims : {false, true})
        for (bool isMax : {true, false}) {
          // Few distinct values: ties must pick the first index.
          Tensor x = nonContiguous(randomTensor(c.shape, dt, -3, 3, seed++));
          if (isFloat(dt))
            x = *cast(*cast(x, DType::I32), dt);
          auto got = isMax ? argmax(x, c.axes[0], keepDims)
                           : argmin(x, c.axes[0], keepDims);
          auto want = ref::argReduce(isMax, x, c.axes[0], keepDims);
          if (!got.ok()) {
            EXPECT_EQ(x.dim(c.axes[0]), 0) << got.status();
            continue;
          }
          EXPECT_EQ(got->dtype(), DType::I64);
          EXPECT_TRUE(closeTo(*got, *want, {0, 0}))
              << (isMax ? "argmax " : "argmin ") << x.toString(0);
        }
    }
}

TEST(Reduce, NanAndBadInputs) {
  auto x = *Tensor::fromVector<float>({1, NAN, 3}, {3});
  EXPECT_TRUE(std::isnan(*reduceMax(x)->item()));
  EXPECT_TRUE(std::isnan(*reduceMin(x)->item()));
  EXPECT_EQ(*argmax(x)->item(), 1);
  EXPECT_EQ(sum(x, {1}).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(sum(x, {0, 0}).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(argmax(x, 2).status().code(), StatusCode::InvalidArgument);
  auto i = *Tensor::fromVector<int32_t>({1, 2}, {2});
  EXPECT_EQ(mean(i).status().code(), StatusCode::InvalidArgument);
  auto b = *Tensor::fromVector<bool>({true}, {1});
  EXPECT_EQ(sum(b).status().code(), StatusCode::InvalidArgument);
  auto empty = *Tensor::zeros({0, 3}, DType::F32);
  EXPECT_EQ(reduceMax(empty, {0}).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(sum(empty, {0})->toDoubles(), (std::vector<double>{0, 0, 0}));
  // Reducing a zero-size dim reads nothing (UBSan caught pointer arithmetic
  // on the empty input's null data).
  Tensor hollow = Tensor::zeros({2, 0, 3}, DType::F32).value();
  EXPECT_EQ(sum(hollow, {1})->toDoubles(), std::vector<double>(6, 0.0));
  EXPECT_EQ(prod(hollow, {1})->toDoubles(), std::vector<double>(6, 1.0));
  EXPECT_TRUE(std::isnan(mean(hollow, {1})->toDoubles()[0]));
  EXPECT_TRUE(std::isnan(*mean(empty)->item()));
}

TEST(Reduce, LongF32SumIsAccurate) {
  Tensor x = randomTensor({1 << 20}, DType::F32, 0, 1, 3);
  auto got = sum(x);
  auto want = ref::reduce(ReduceOp::Sum, x, {}, false);
  EXPECT_TRUE(closeTo(*got, *want, ref::toleranceFor(DType::F32)));
}

} // namespace

namespace {
// Long single-output rows are split into fixed pieces across the pool.
TEST(Reduce, LongRowsSplitAcrossThreads) {
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min}) {
    Tensor x = nonContiguous(randomTensor({200001}, DType::F32, -1, 1, 21));
    auto got = reduce(op, x, {}, false);
    auto want = ref::reduce(op, x, {}, false);
    EXPECT_TRUE(closeTo(*got, *want, ref::toleranceFor(DType::F32))) << opName(op);
  }
  Tensor ints = randomTensor({3, 100000}, DType::I64, -5, 5, 22);
  EXPECT_TRUE(closeTo(*sum(ints, {1}), *ref::reduce(ReduceOp::Sum, ints, std::vector<int64_t>{1}, false),
                      {0, 0}));
  Tensor withNan = randomTensor({100000}, DType::F32, -1, 1, 23);
  ASSERT_TRUE(withNan.set(std::vector<int64_t>{70000}, NAN).isOk());
  EXPECT_TRUE(std::isnan(*reduceMax(withNan)->item()));
  EXPECT_TRUE(std::isnan(*reduceMin(withNan)->item()));
}
} // namespace
