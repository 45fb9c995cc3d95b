//===- RandomTest.cpp - Counter-based random tensors -----------------------===//
#include "kiln/Random.h"
#include "kiln/ThreadPool.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace kiln;

namespace {

TEST(Random, PhiloxKnownAnswers) {
  // Random123's kat_vectors for philox4x32_10.
  auto zero = philox4x32({0, 0, 0, 0}, {0, 0});
  EXPECT_EQ(zero, (std::array<uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c,
                                           0x9b00dbd8}));
  auto ones = philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                         {0xffffffff, 0xffffffff});
  EXPECT_EQ(ones, (std::array<uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6,
                                           0x6d5451fd}));
  auto pi = philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                       {0xa4093822, 0x299f31d0});
  EXPECT_EQ(pi, (std::array<uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420,
                                         0x24126ea1}));
}

TEST(Random, SixteenAtOnceAreSixteenCalls) {
  // The vector paths (AVX-512 or AVX2 on this CPU) against the scalar one,
  // across a carry into the counter's high word.
  for (uint64_t counter : {uint64_t(0), uint64_t(12345), uint64_t(0xfffffff8),
                           ~uint64_t(0) - 3})
    for (uint64_t key : {uint64_t(0), uint64_t(42), ~uint64_t(0)}) {
      uint32_t out[4][16];
      philox4x32x16(counter, key, out);
      for (int i = 0; i < 16; ++i) {
        auto r = philox4x32(counter + uint64_t(i), key);
        for (int w = 0; w < 4; ++w)
          ASSERT_EQ(out[w][i], r[size_t(w)])
              << "counter " << counter << " + " << i << " word " << w;
      }
    }
}

TEST(Random, DeterministicAndAdvancing) {
  Generator g1(42), g2(42);
  Tensor a = *g1.uniform({1000}, -1, 1, DType::F32);
  Tensor b = *g2.uniform({1000}, -1, 1, DType::F32);
  EXPECT_EQ(a.toDoubles(), b.toDoubles());
  EXPECT_EQ(g1.offset(), 1000u);
  Tensor c = *g1.uniform({1000}, -1, 1, DType::F32);
  EXPECT_NE(a.toDoubles(), c.toDoubles());
  // Drawing 2000 at once equals two draws of 1000.
  Generator g3(42);
  std::vector<double> all = g3.uniform({2000}, -1, 1, DType::F32)->toDoubles();
  std::vector<double> ac = a.toDoubles(), cc = c.toDoubles();
  ac.insert(ac.end(), cc.begin(), cc.end());
  EXPECT_EQ(all, ac);
}

TEST(Random, IndependentOfThreadCount) {
  // The global pool splits big draws; the values must not depend on it.
  Generator g(7);
  Tensor big = *g.normal({300000}, 0, 1, DType::F64);
  std::vector<double> v = big.toDoubles();
  Generator g2(7);
  for (int64_t i : {0, 1, 16383, 16384, 299999}) {
    g2.setOffset(uint64_t(i));
    EXPECT_EQ(*g2.normal({1}, 0, 1, DType::F64)->item(), v[size_t(i)]);
  }
  double mean = 0, var = 0;
  for (double x : v)
    mean += x;
  mean /= double(v.size());
  for (double x : v)
    var += (x - mean) * (x - mean);
  var /= double(v.size());
  EXPECT_NEAR(mean, 0, 0.01);
  EXPECT_NEAR(var, 1, 0.01);
}

TEST(Random, RangeAndErrors) {
  Generator g(1);
  Tensor u = *g.uniform({10000}, 2, 3, DType::BF16);
  for (double x : u.toDoubles()) {
    EXPECT_GE(x, 2);
    EXPECT_LE(x, 3); // bf16 rounding may reach the upper bound.
  }
  EXPECT_EQ(g.uniform({2}, 0, 1, DType::I32).status().code(),
            StatusCode::InvalidArgument);
  EXPECT_EQ(g.uniform({2}, 1, 0, DType::F32).status().code(),
            StatusCode::InvalidArgument);
  EXPECT_EQ(g.normal({2}, 0, -1, DType::F32).status().code(),
            StatusCode::InvalidArgument);
}

} // namespace
