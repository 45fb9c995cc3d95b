//===- KilnHeaderTest.cpp - The usage example of kiln/Kiln.h runs ----------===//
#include "kiln/Kiln.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <unistd.h>

namespace {

// The example at the top of Kiln.h, with file names made unique.
kiln::Status run(const std::string &in, const std::string &out) {
  KILN_ASSIGN_OR_RETURN(kiln::Tensor x, kiln::readNpy(in));
  KILN_ASSIGN_OR_RETURN(kiln::Tensor w,
                        kiln::Tensor::full({x.dim(-1), 4}, 0.5, x.dtype()));
  KILN_ASSIGN_OR_RETURN(kiln::Tensor y, kiln::matmul(x, w));
  KILN_ASSIGN_OR_RETURN(kiln::Tensor z, kiln::relu(y) + 1.0);
  return kiln::writeNpy(out, z);
}

TEST(KilnHeader, UsageExampleRuns) {
  std::string base = testing::TempDir() + "/kiln_example_" + std::to_string(getpid());
  auto x = kiln::Tensor::fromVector<float>({1, -2, 3, -4, 5, -6}, {2, 3});
  ASSERT_TRUE(kiln::writeNpy(base + "_in.npy", *x).isOk());
  ASSERT_TRUE(run(base + "_in.npy", base + "_out.npy").isOk());
  auto z = kiln::readNpy(base + "_out.npy");
  ASSERT_TRUE(z.ok());
  // Row sums are 2 and -5: relu(0.5 * sum) + 1.
  EXPECT_EQ(z->toDoubles(), (std::vector<double>{2, 2, 2, 2, 1, 1, 1, 1}));
  // A missing input is a Status naming the file.
  kiln::Status missing = run(base + "_nope.npy", base + "_out.npy");
  EXPECT_EQ(missing.code(), kiln::StatusCode::IoError);
  EXPECT_NE(missing.message().find("_nope.npy"), std::string::npos);
  std::remove((base + "_in.npy").c_str());
  std::remove((base + "_out.npy").c_str());
}

} // namespace
