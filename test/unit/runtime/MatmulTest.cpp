//===- MatmulTest.cpp - Eager matmul against the reference -----------------===//
#include "TestUtil.h"

using namespace kiln;
using kiln::test::closeTo;
using kiln::test::randomTensor;

namespace {

struct Case {
  Shape a, b;
  bool ta, tb;
};
const Case kCases[] = {
    {{1, 1}, {1, 1}, false, false},     {{3, 5}, {5, 7}, false, false},
    {{1, 64}, {64, 33}, false, false},  {{8, 17}, {17, 9}, false, false},
    {{5, 3}, {5, 7}, true, false},      {{3, 5}, {7, 5}, false, true},
    {{5, 3}, {7, 5}, true, true},       {{2, 3, 4}, {4, 5}, false, false},
    {{2, 1, 3, 4}, {3, 4, 6}, false, false}, {{0, 4}, {4, 3}, false, false},
    {{3, 0}, {0, 4}, false, false},     {{67, 130}, {130, 45}, false, false}};

/// DESIGN.md tolerances widened with the reduction length K for f32/f16/bf16
/// (each of K products rounds once): documented here as the one place.
ref::Tolerance matmulTolerance(DType dt, int64_t k) {
  ref::Tolerance t = ref::toleranceFor(dt);
  double widen = std::max(1.0, std::sqrt(double(k)));
  t.rtol *= widen;
  t.atol *= widen;
  return t;
}

TEST(Matmul, MatchesReferenceOnEveryBackend) {
  std::vector<MatmulBackend> backends = {MatmulBackend::Auto, MatmulBackend::Naive};
  if (setMatmulBackend(MatmulBackend::OpenBlas).isOk())
    backends.push_back(MatmulBackend::OpenBlas);
  if (setMatmulBackend(MatmulBackend::OneDnn).isOk())
    backends.push_back(MatmulBackend::OneDnn);
  uint64_t seed = 1;
  for (MatmulBackend backend : backends) {
    ASSERT_TRUE(setMatmulBackend(backend).isOk());
    for (DType dt : {DType::F32, DType::F64, DType::F16, DType::BF16})
      for (const Case &c : kCases)
        for (bool strided : {false, true}) {
          Tensor a = randomTensor(c.a, dt, -1, 1, seed++);
          Tensor b = randomTensor(c.b, dt, -1, 1, seed++);
          if (strided) { // Transposed views, handed to BLAS with a flag.
            int64_t r = a.rank();
            a = *a.transpose(r - 2, r - 1)->contiguous()->transpose(r - 2, r - 1);
            b = *b.slice(b.rank() - 1, 0, INT64_MAX, 1); // Plain view.
          }
          auto got = matmul(a, b, c.ta, c.tb);
          ASSERT_TRUE(got.ok()) << got.status();
          auto want = ref::matmul(a, b, c.ta, c.tb);
          int64_t k = c.a[c.a.size() - (c.ta ? 2 : 1)];
          EXPECT_TRUE(closeTo(*got, *want, matmulTolerance(dt, k)))
              << "backend " << int(backend) << " " << dtypeName(dt) << " "
              << a.toString(0) << " x " << b.toString(0);
        }
  }
  ASSERT_TRUE(setMatmulBackend(MatmulBackend::Auto).isOk());
}

TEST(Matmul, BroadcastBatchView) {
  // A stride-0 batch dim (broadcastTo) and a non-unit inner stride.
  Tensor a = randomTensor({3, 8}, DType::F32, -1, 1, 7);
  Tensor a3 = *a.broadcastTo({4, 3, 8});
  Tensor b = *randomTensor({4, 8, 10}, DType::F32, -1, 1, 8).slice(2, 0, 10, 2);
  auto got = matmul(a3, b);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(closeTo(*got, *ref::matmul(a3, b, false, false),
                      matmulTolerance(DType::F32, 8)));
}

TEST(Matmul, Integers) {
  uint64_t seed = 77;
  for (DType dt : {DType::I64, DType::I32, DType::I8})
    for (const Case &c : kCases) {
      // i8 sums must stay in range: the f64 reference cast back saturates.
      bool small = dt == DType::I8;
      if (small && c.a.back() > 100)
        continue;
      Tensor a = randomTensor(c.a, dt, small ? -1 : -3, small ? 2 : 4, seed++);
      Tensor b = randomTensor(c.b, dt, small ? -1 : -3, small ? 2 : 4, seed++);
      auto got = matmul(a, b, c.ta, c.tb);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(got->dtype(), dt);
      auto want = ref::matmul(a, b, c.ta, c.tb);
      // The reference is f64; i8 results wrap, so compare after casting it.
      EXPECT_TRUE(closeTo(*got, *want->to(dt), {0, 0}))
          << dtypeName(dt) << " " << a.toString(0) << " x " << b.toString(0);
    }
}

TEST(Matmul, BadInputs) {
  Tensor a = *Tensor::zeros({2, 3}, DType::F32);
  Tensor b = *Tensor::zeros({4, 5}, DType::F32);
  auto r = matmul(a, b);
  EXPECT_EQ(r.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(r.status().message().find("op 'matmul'"), std::string::npos);
  Tensor i = *Tensor::zeros({3, 3}, DType::Bool);
  EXPECT_EQ(matmul(i, i).status().code(), StatusCode::InvalidArgument);
  Tensor v = *Tensor::zeros({3}, DType::F32);
  EXPECT_EQ(matmul(v, v).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(matmul(a, *Tensor::zeros({3, 2}, DType::F64)).status().code(),
            StatusCode::InvalidArgument);
}

TEST(Matmul, BackendChoiceBySize) {
  MatmulBackend small = chooseMatmulBackend(1, 768, 768);
  MatmulBackend large = chooseMatmulBackend(512, 512, 512);
  EXPECT_NE(small, MatmulBackend::Auto);
  EXPECT_NE(large, MatmulBackend::Auto);
}

} // namespace
