//===- ShapesTest.cpp - Unit tests for the shared shape rules -------------===//
#include "kiln/Support/Shapes.h"

#include <gtest/gtest.h>

#include <limits>

using namespace kiln::shapes;

namespace {

Shape ok(const ShapeOr &r) {
  EXPECT_TRUE(r.ok()) << r.message();
  return r.value();
}

void expectError(const ShapeOr &r, const std::string &fragment) {
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find(fragment), std::string::npos)
      << "message was: " << r.message();
}

TEST(Broadcast, NumpyRules) {
  EXPECT_EQ(ok(broadcast(Shape{2, 1, 4}, Shape{3, 1})), (Shape{2, 3, 4}));
  EXPECT_EQ(ok(broadcast(Shape{}, Shape{5})), (Shape{5}));
  EXPECT_EQ(ok(broadcast(Shape{0, 1}, Shape{1, 7})), (Shape{0, 7}));
  EXPECT_EQ(ok(broadcast(std::vector<Shape>{{2, 1}, {1, 3}, {3}})),
            (Shape{2, 3}));
  expectError(broadcast(Shape{2, 3}, Shape{4}), "do not broadcast");
  EXPECT_TRUE(broadcastsTo(Shape{3, 1}, Shape{2, 3, 5}));
  EXPECT_FALSE(broadcastsTo(Shape{2, 3}, Shape{3}));
  EXPECT_FALSE(broadcastsTo(Shape{4}, Shape{2, 3}));
}

TEST(Reduce, AxesAndKeepDims) {
  EXPECT_EQ(ok(reduce(Shape{2, 3, 4}, Shape{1}, false)), (Shape{2, 4}));
  EXPECT_EQ(ok(reduce(Shape{2, 3, 4}, Shape{-1, 0}, true)), (Shape{1, 3, 1}));
  EXPECT_EQ(ok(reduce(Shape{2, 3}, Shape{}, false)), (Shape{}));
  expectError(reduce(Shape{2, 3}, Shape{2}, false), "axis 2 is out of range");
  expectError(reduce(Shape{2, 3}, Shape{1, -1}, false), "repeat");
}

TEST(Matmul, BatchAndTranspose) {
  EXPECT_EQ(ok(matmul(Shape{4, 2, 3}, Shape{3, 5}, false, false)),
            (Shape{4, 2, 5}));
  EXPECT_EQ(ok(matmul(Shape{3, 2}, Shape{5, 3}, true, true)), (Shape{2, 5}));
  EXPECT_EQ(ok(matmul(Shape{2, 1, 2, 3}, Shape{7, 3, 4}, false, false)),
            (Shape{2, 7, 2, 4}));
  expectError(matmul(Shape{2, 3}, Shape{4, 5}, false, false),
              "contracts 3 with 4");
  expectError(matmul(Shape{3}, Shape{3, 5}, false, false), "rank >= 2");
}

TEST(Conv, OutputSizes) {
  Window2D w{{0, 0}, {1, 1}, {1, 1, 1, 1}, {1, 1}};
  EXPECT_EQ(ok(conv2d(Shape{1, 3, 32, 32}, Shape{16, 3, 3, 3}, w, 1)),
            (Shape{1, 16, 32, 32}));
  Window2D s2{{0, 0}, {2, 2}, {0, 0, 0, 0}, {1, 1}};
  EXPECT_EQ(ok(conv2d(Shape{2, 4, 7, 7}, Shape{8, 2, 3, 3}, s2, 2)),
            (Shape{2, 8, 3, 3}));
  expectError(conv2d(Shape{1, 3, 8, 8}, Shape{4, 2, 3, 3}, w, 1),
              "expects 2 input channels");
  expectError(conv2d(Shape{1, 3, 8}, Shape{4, 3, 3, 3}, w, 1), "rank 4");
  expectError(conv2d(Shape{1, 3, 2, 2}, Shape{4, 3, 5, 5}, s2, 1),
              "does not fit");
  // conv_transpose2d inverts a stride-2 conv: 3 -> 7 with k=3.
  EXPECT_EQ(ok(convTranspose2d(Shape{1, 8, 3, 3}, Shape{8, 4, 3, 3}, s2, 1,
                               Shape{0, 0})),
            (Shape{1, 4, 7, 7}));
}

TEST(Conv, NhwcLayout) {
  // The same rules with channels last: input [N, H, W, C], result
  // [N, oH, oW, F]; the weight stays OIHW.
  EXPECT_EQ(parseLayout2D("nhwc"), Layout2D::NHWC);
  EXPECT_EQ(parseLayout2D("nchw"), Layout2D::NCHW);
  EXPECT_EQ(parseLayout2D("NHWC"), std::nullopt);
  EXPECT_EQ(parseLayout2D(""), std::nullopt);
  EXPECT_EQ(nchwToNhwc(Shape{1, 3, 8, 9}), (Shape{1, 8, 9, 3}));
  EXPECT_EQ(nhwcToNchw(Shape{1, 8, 9, 3}), (Shape{1, 3, 8, 9}));
  EXPECT_EQ(nhwcToNchw(Shape{2, 3}), (Shape{2, 3}));
  Window2D s2{{0, 0}, {2, 2}, {1, 1, 1, 1}, {1, 1}};
  EXPECT_EQ(ok(conv2d(Shape{2, 32, 30, 3}, Shape{16, 3, 3, 3}, s2, 1,
                      Layout2D::NHWC)),
            (Shape{2, 16, 15, 16}));
  EXPECT_EQ(ok(conv2d(Shape{2, 3, 32, 30}, Shape{16, 3, 3, 3}, s2, 1,
                      Layout2D::NCHW)),
            (Shape{2, 16, 16, 15}));
  // An NCHW tensor read as NHWC has the wrong channel count.
  expectError(conv2d(Shape{1, 3, 8, 8}, Shape{4, 3, 3, 3}, s2, 1,
                     Layout2D::NHWC),
              "expects 3 input channels, input has 8");
  expectError(conv2d(Shape{8, 8, 3}, Shape{4, 3, 3, 3}, s2, 1, Layout2D::NHWC),
              "rank 4 (NHWC)");
  Window2D p{{3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}};
  EXPECT_EQ(ok(pool2d(Shape{1, 112, 112, 64}, p, Layout2D::NHWC)),
            (Shape{1, 56, 56, 64}));
  expectError(pool2d(Shape{112, 112, 64}, p, Layout2D::NHWC), "rank 4 (NHWC)");
}

TEST(Pool, CeilMode) {
  Window2D w{{2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}};
  EXPECT_EQ(ok(pool2d(Shape{1, 1, 5, 5}, w)), (Shape{1, 1, 2, 2}));
  w.ceilMode = true;
  EXPECT_EQ(ok(pool2d(Shape{1, 1, 5, 5}, w)), (Shape{1, 1, 3, 3}));
  Window2D bad{{2, 2}, {0, 1}, {0, 0, 0, 0}, {1, 1}};
  expectError(pool2d(Shape{1, 1, 5, 5}, bad), "strides must be >= 1");
}

TEST(ShapeOps, TransposeConcatSlicePad) {
  EXPECT_EQ(ok(transpose(Shape{2, 3, 4}, Shape{2, 0, 1})), (Shape{4, 2, 3}));
  expectError(transpose(Shape{2, 3}, Shape{0, 0}), "not a permutation");
  EXPECT_EQ(ok(concat({{2, 3}, {2, 5}}, -1)), (Shape{2, 8}));
  expectError(concat({{2, 3}, {3, 3}}, 1), "outside axis 1");
  EXPECT_EQ(ok(slice(Shape{10}, Shape{1}, Shape{8}, Shape{3})), (Shape{3}));
  EXPECT_EQ(ok(slice(Shape{10}, Shape{-1}, Shape{-100}, Shape{-1})),
            (Shape{10}));
  EXPECT_EQ(ok(slice(Shape{4}, Shape{5}, Shape{9}, Shape{1})), (Shape{0}));
  expectError(slice(Shape{4}, Shape{0}, Shape{4}, Shape{0}), "step is 0");
  EXPECT_EQ(ok(pad(Shape{2, 3}, Shape{1, 0, 1, 2})), (Shape{4, 5}));
  expectError(pad(Shape{2, 3}, Shape{1, 2}), "needs 4 values");
}

TEST(ShapeOps, SplitSqueezeExpandGatherOneHot) {
  EXPECT_FALSE(checkSplit(Shape{6, 2}, 0, Shape{2, 4}).has_value());
  EXPECT_TRUE(checkSplit(Shape{6, 2}, 0, Shape{2, 3}).has_value());
  EXPECT_EQ(ok(squeeze(Shape{1, 3, 1}, Shape{0})), (Shape{3, 1}));
  EXPECT_EQ(ok(squeeze(Shape{1, 3, 1}, Shape{})), (Shape{3}));
  expectError(squeeze(Shape{2, 3}, Shape{0}), "cannot squeeze axis 0");
  EXPECT_EQ(ok(expandDims(Shape{3, 4}, Shape{0, -1})), (Shape{1, 3, 4, 1}));
  EXPECT_EQ(ok(gather(Shape{10, 4}, Shape{2, 3}, 0)), (Shape{2, 3, 4}));
  EXPECT_EQ(ok(gather(Shape{5, 6, 7}, Shape{2}, 1)), (Shape{5, 2, 7}));
  EXPECT_EQ(ok(oneHot(Shape{4}, 10, -1)), (Shape{4, 10}));
  EXPECT_EQ(ok(oneHot(Shape{4}, 10, 0)), (Shape{10, 4}));
  EXPECT_TRUE(checkReshape(Shape{2, 3}, Shape{6}) == std::nullopt);
  EXPECT_TRUE(checkReshape(Shape{2, 3}, Shape{5}).has_value());
}

TEST(Elements, OverflowIsDetected) {
  EXPECT_EQ(numElements(Shape{2, 3}), 6);
  EXPECT_EQ(numElements(Shape{}), 1);
  EXPECT_EQ(numElements(Shape{int64_t(1) << 40, int64_t(1) << 40}),
            std::nullopt);
}

// User-provided sizes near INT64_MAX must give an error, never a signed
// overflow (the sanitizer build aborts on one).
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

TEST(Overflow, SliceExtremeSteps) {
  EXPECT_EQ(ok(slice(Shape{10}, Shape{0}, Shape{10}, Shape{kMax})), (Shape{1}));
  EXPECT_EQ(ok(slice(Shape{10}, Shape{5}, Shape{0}, Shape{kMin})), (Shape{1}));
  EXPECT_EQ(ok(slice(Shape{10}, Shape{kMin}, Shape{kMax}, Shape{1})),
            (Shape{10}));
  EXPECT_EQ(ok(slice(Shape{10}, Shape{kMax}, Shape{kMin}, Shape{-3})),
            (Shape{4}));
  // Exact division and remainders still give ceil(len / step).
  EXPECT_EQ(ok(slice(Shape{9}, Shape{0}, Shape{9}, Shape{3})), (Shape{3}));
  EXPECT_EQ(ok(slice(Shape{9}, Shape{8}, Shape{-10}, Shape{-2})), (Shape{5}));
}

TEST(ShapeOps, ComposedSlicesPickTheSameElements) {
  // Every slice of every slice of a dim of 11 (positive steps, negative
  // and out-of-range bounds), composed, against taking the elements twice.
  const int64_t n = 11;
  std::vector<int64_t> bounds = {-13, -4, 0, 2, 5, 11, 14};
  for (int64_t s1 : bounds)
    for (int64_t e1 : bounds)
      for (int64_t k1 : {1, 2, 3})
        for (int64_t s2 : bounds)
          for (int64_t e2 : bounds)
            for (int64_t k2 : {1, 2, 4}) {
              SliceRange inner = resolveSlice(s1, e1, k1, n);
              std::vector<int64_t> mid;
              for (int64_t i = inner.start; i < inner.end; i += k1)
                mid.push_back(i);
              SliceRange outer = resolveSlice(s2, e2, k2, int64_t(mid.size()));
              std::vector<int64_t> want;
              for (int64_t i = outer.start; i < outer.end; i += k2)
                want.push_back(mid[size_t(i)]);
              SliceRange r = composeSlices(inner, outer);
              std::vector<int64_t> got;
              for (int64_t i = r.start; i < r.end; i += r.step)
                got.push_back(i);
              ASSERT_EQ(got, want) << s1 << ":" << e1 << ":" << k1 << " then "
                                   << s2 << ":" << e2 << ":" << k2;
              ASSERT_LE(r.end, n);
            }
}

TEST(Overflow, PadConcatSplit) {
  expectError(pad(Shape{10}, Shape{kMax, 1}), "overflows int64");
  expectError(pad(Shape{10}, Shape{1, kMax}), "overflows int64");
  expectError(concat({{kMax}, {kMax}}, 0), "overflows int64");
  expectError(concat({{kMax}, {1}}, 0), "overflows int64");
  EXPECT_EQ(ok(concat({{kMax - 1}, {1}}, 0)), (Shape{kMax}));
  auto err = checkSplit(Shape{10}, 0, Shape{kMax, kMax});
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("overflows int64"), std::string::npos) << *err;
}

TEST(Overflow, WindowsAndConvolutions) {
  Window2D hugePad{{0, 0}, {1, 1}, {kMax, 0, 1, 0}, {1, 1}};
  expectError(conv2d(Shape{1, 3, 8, 8}, Shape{4, 3, 3, 3}, hugePad, 1),
              "overflows int64");
  Window2D hugeDilation{{0, 0}, {1, 1}, {0, 0, 0, 0}, {kMax, 1}};
  expectError(conv2d(Shape{1, 3, 8, 8}, Shape{4, 3, 3, 3}, hugeDilation, 1),
              "overflows int64");
  Window2D hugeKernel{{kMax, kMax}, {1, 1}, {0, 0, 0, 0}, {2, 2}};
  expectError(pool2d(Shape{1, 3, 8, 8}, hugeKernel), "overflows int64");
  Window2D hugeStride{{0, 0}, {kMax, 1}, {0, 0, 0, 0}, {1, 1}};
  expectError(convTranspose2d(Shape{1, 4, 5, 5}, Shape{4, 2, 3, 3},
                              hugeStride, 1, Shape{0, 0}),
              "overflows int64");
  // A stride near INT64_MAX with ceil mode rounds without overflowing.
  Window2D ceil{{2, 2}, {kMax, kMax}, {0, 0, 0, 0}, {1, 1}, true};
  EXPECT_EQ(ok(pool2d(Shape{1, 1, 5, 5}, ceil)), (Shape{1, 1, 1, 1}));
  // groups times the weight's channels must fit too.
  Window2D w{{0, 0}, {1, 1}, {0, 0, 0, 0}, {1, 1}};
  expectError(conv2d(Shape{1, 0, 8, 8}, Shape{0, kMax, 1, 1}, w, 2),
              "overflows int64");
}

TEST(Messages, WeightLayoutAndZeroKernel) {
  Window2D w{{0, 0}, {1, 1}, {0, 0, 0, 0}, {1, 1}};
  expectError(conv2d(Shape{1, 3, 8, 8}, Shape{4, 3, 3}, w, 1),
              "conv2d weight must have rank 4 (OIHW)");
  expectError(convTranspose2d(Shape{1, 3, 8, 8}, Shape{4, 3, 3}, w, 1,
                              Shape{0, 0}),
              "conv_transpose2d weight must have rank 4 (IOHW)");
  Window2D zero{{0, 2}, {1, 1}, {0, 0, 0, 0}, {1, 1}};
  expectError(pool2d(Shape{1, 3, 8, 8}, zero),
              "kernel sizes must be >= 1, got [0, 2]");
}

} // namespace
