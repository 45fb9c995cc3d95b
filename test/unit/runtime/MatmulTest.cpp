//===- MatmulTest.cpp - Eager matmul against the reference -----------------===//
#include "TestUtil.h"
#include "kiln/Random.h"

#include <cmath>

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
    {{3, 0}, {0, 4}, false, false},     {{67, 130}, {130, 45}, false, false},
    // Few rows against an output-major B: the GEMV (Gemv.h), whole and
    // split over the pool (from 2^17 multiply-adds).
    {{2, 300}, {130, 300}, false, true}, {{1, 700}, {200, 700}, false, true},
    // Attention's per-head products on the panel kernel (PackedGemm.h):
    // B read in place, or transposed and packed a panel at a time; k over
    // one 128-long slice; n over one 64-column panel.
    {{2, 3, 16, 16}, {2, 3, 16, 16}, false, true},
    {{2, 7, 24}, {2, 24, 70}, false, false},
    {{3, 13, 150}, {3, 66, 150}, false, true}};

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

// Products big enough to be split over the pool (Matmul.cpp): by rows, by
// columns (few rows), by batch, with transposes. The expected values come
// from a plain loop in double (the reference kernel is too slow for these
// sizes in a sanitized build).
TEST(Matmul, SplitOverThePoolMatchesAPlainLoop) {
  struct Big {
    int64_t batch, m, n, k;
    bool ta, tb;
  };
  const Big bigs[] = {{1, 200, 80, 96, false, false},
                      {1, 4, 1000, 300, false, true},
                      {6, 40, 90, 70, true, false}};
  std::vector<MatmulBackend> backends = {MatmulBackend::Auto};
  if (setMatmulBackend(MatmulBackend::OpenBlas).isOk())
    backends.push_back(MatmulBackend::OpenBlas);
  if (setMatmulBackend(MatmulBackend::OneDnn).isOk())
    backends.push_back(MatmulBackend::OneDnn);
  Generator gen(3);
  for (const Big &c : bigs) {
    Shape sa = c.ta ? Shape{c.batch, c.k, c.m} : Shape{c.batch, c.m, c.k};
    Shape sb = c.tb ? Shape{c.batch, c.n, c.k} : Shape{c.batch, c.k, c.n};
    Tensor a = gen.uniform(sa, -1, 1, DType::F32).value();
    Tensor b = gen.uniform(sb, -1, 1, DType::F32).value();
    const float *pa = a.data<float>(), *pb = b.data<float>();
    std::vector<double> want(size_t(c.batch * c.m * c.n));
    for (int64_t bi = 0; bi < c.batch; ++bi)
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t j = 0; j < c.n; ++j) {
          double acc = 0;
          for (int64_t p = 0; p < c.k; ++p) {
            double av = pa[bi * c.m * c.k + (c.ta ? p * c.m + i : i * c.k + p)];
            double bv = pb[bi * c.n * c.k + (c.tb ? j * c.k + p : p * c.n + j)];
            acc += av * bv;
          }
          want[size_t((bi * c.m + i) * c.n + j)] = acc;
        }
    for (MatmulBackend be : backends) {
      ASSERT_TRUE(setMatmulBackend(be).isOk());
      Tensor got = matmul(a, b, c.ta, c.tb).value();
      const float *pg = got.data<float>();
      double worst = 0;
      for (size_t i = 0; i < want.size(); ++i)
        worst = std::max(worst, std::abs(double(pg[i]) - want[i]));
      EXPECT_LT(worst, 1e-4) << "backend " << int(be) << " m=" << c.m
                             << " n=" << c.n << " k=" << c.k;
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
