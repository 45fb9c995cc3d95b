//===- StatusTest.cpp - kiln::Status and kiln::Expected --------------------===//
#include "kiln/DType.h"
#include "kiln/Status.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace kiln;

namespace {

Expected<int> parsePositive(int v) {
  if (v <= 0)
    return invalidArgument("expected a positive value, got ", v);
  return v;
}

Status doubleIt(int v, int &out) {
  KILN_ASSIGN_OR_RETURN(int x, parsePositive(v));
  out = 2 * x;
  return Status();
}

Status chain(int v) {
  int out = 0;
  KILN_RETURN_IF_ERROR(doubleIt(v, out));
  KILN_RETURN_IF_ERROR(parsePositive(out - 100));
  return Status();
}

TEST(Status, OkIsCheapAndEmpty) {
  Status s;
  EXPECT_TRUE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::Ok);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.toString(), "OK");
  // The OK path holds one null pointer.
  EXPECT_EQ(sizeof(Status), sizeof(void *));
}

TEST(Status, ErrorCarriesCodeAndMessage) {
  Status s = outOfMemory("requested ", 42, " bytes");
  EXPECT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::OutOfMemory);
  EXPECT_EQ(s.message(), "requested 42 bytes");
  EXPECT_EQ(s.toString(), "OutOfMemory: requested 42 bytes");
  Status copy = s;
  EXPECT_EQ(copy, s);
  Status ctx = std::move(copy).withContext("in op 'add'");
  EXPECT_EQ(ctx.message(), "in op 'add': requested 42 bytes");
  EXPECT_TRUE(Status().withContext("x").isOk());
}

TEST(Status, MacrosPropagate) {
  int out = 0;
  EXPECT_TRUE(doubleIt(5, out).isOk());
  EXPECT_EQ(out, 10);
  Status bad = doubleIt(-1, out);
  EXPECT_EQ(bad.code(), StatusCode::InvalidArgument);
  EXPECT_NE(bad.message().find("got -1"), std::string::npos);
  EXPECT_TRUE(chain(60).isOk());
  EXPECT_EQ(chain(10).code(), StatusCode::InvalidArgument); // 20 - 100 < 0
}

TEST(Expected, ValueAndError) {
  Expected<std::string> e = std::string("hi");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, "hi");
  EXPECT_EQ(e->size(), 2u);
  EXPECT_TRUE(e.status().isOk());
  Expected<std::string> err = notFound("no file 'x'");
  EXPECT_FALSE(err);
  EXPECT_EQ(err.status().code(), StatusCode::NotFound);
  EXPECT_EQ(err.valueOr("fallback"), "fallback");
  // An OK status is not a value: it becomes an Internal error.
  Expected<int> misuse = Status();
  EXPECT_EQ(misuse.status().code(), StatusCode::Internal);
}

TEST(DType, NamesAndSizes) {
  EXPECT_EQ(dtypeName(DType::Bool), "i1");
  EXPECT_EQ(sizeOf(DType::BF16), 2u);
  EXPECT_EQ(*parseDType("bf16"), DType::BF16);
  EXPECT_EQ(*parseDType("bool"), DType::Bool);
  EXPECT_EQ(parseDType("f128").status().code(), StatusCode::InvalidArgument);
}

TEST(DType, HalfConversionRoundsToNearestEven) {
  for (float v : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f,
                  5.9604644775390625e-08f, 0.333251953125f})
    EXPECT_EQ(halfToFloat(floatToHalf(v)), v) << v;
  EXPECT_EQ(floatToHalf(1.0f).bits, 0x3c00);
  EXPECT_EQ(floatToHalf(65520.0f).bits, 0x7c00); // Rounds up to Inf.
  EXPECT_EQ(floatToHalf(1.0f + 1.0f / 2048).bits, 0x3c00); // Tie -> even.
  EXPECT_EQ(floatToHalf(1.0f + 3.0f / 2048).bits, 0x3c02); // Tie -> even.
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(NAN))));
  EXPECT_TRUE(std::isinf(halfToFloat(floatToHalf(INFINITY))));
  // Every half converts to float and back to itself (except NaN payloads).
  for (uint32_t b = 0; b < 0x10000; ++b) {
    Half h{uint16_t(b)};
    float f = halfToFloat(h);
    if (!std::isnan(f))
      ASSERT_EQ(floatToHalf(f).bits, h.bits) << b;
  }
}

TEST(DType, BFloat16Conversion) {
  EXPECT_EQ(floatToBf16(1.0f).bits, 0x3f80);
  EXPECT_EQ(bf16ToFloat(floatToBf16(3.140625f)), 3.140625f);
  EXPECT_EQ(floatToBf16(1.0f + 1.0f / 256).bits, 0x3f80); // Tie -> even.
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(NAN))));
}

TEST(DType, SaturatingStores) {
  int8_t i8 = 0;
  storeFromDouble(DType::I8, &i8, 1000.0);
  EXPECT_EQ(i8, 127);
  storeFromDouble(DType::I8, &i8, NAN);
  EXPECT_EQ(i8, 0);
  int64_t i64 = 0;
  storeFromDouble(DType::I64, &i64, 1e300);
  EXPECT_EQ(i64, INT64_MAX);
}

} // namespace
