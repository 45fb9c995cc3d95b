//===- SafetensorsHostileTest.cpp - Malformed safetensors files ------------===//
//
// Every way a safetensors file can lie, one test each: each must be a Status
// that names the file and the tensor (where there is one) and says what is
// wrong, never a crash, a hang or a huge allocation (run under ASan+UBSan).
//
//===----------------------------------------------------------------------===//
#include "kiln/Checkpoint.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

using namespace kiln;

namespace {

/// 8-byte length, `json`, then `dataBytes` bytes. `declared` overrides the
/// length field.
std::vector<uint8_t> image(const std::string &json, size_t dataBytes,
                           std::optional<uint64_t> declared = std::nullopt) {
  uint64_t n = declared.value_or(json.size());
  std::vector<uint8_t> out;
  for (int i = 0; i < 8; ++i)
    out.push_back(uint8_t(n >> (8 * i)));
  out.insert(out.end(), json.begin(), json.end());
  out.resize(out.size() + dataBytes, 0);
  return out;
}

/// The JSON of one tensor entry.
std::string entry(const std::string &name, const std::string &dtype,
                  const std::string &shape, const std::string &offsets) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":" + offsets + "}";
}

/// Parses and expects failure with `code` and a message containing each of
/// `pieces` (and always the file's name).
::testing::AssertionResult rejects(const std::vector<uint8_t> &bytes,
                                   StatusCode code,
                                   std::vector<std::string> pieces) {
  auto file = parseSafetensors(bytes, "bad.safetensors");
  if (file.ok())
    return ::testing::AssertionFailure() << "parsed without error";
  const Status &s = file.status();
  pieces.push_back("bad.safetensors");
  if (s.code() != code)
    return ::testing::AssertionFailure()
           << "code " << statusCodeName(s.code()) << ", expected "
           << statusCodeName(code) << ": " << s;
  for (const std::string &p : pieces)
    if (s.message().find(p) == std::string::npos)
      return ::testing::AssertionFailure()
             << "message lacks \"" << p << "\": " << s;
  return ::testing::AssertionSuccess() << s;
}

constexpr StatusCode kDataLoss = StatusCode::DataLoss;

//===----------------------------------------------------------------------===//
// Length prefix and truncation
//===----------------------------------------------------------------------===//

TEST(SafetensorsHostile, EmptyFile) {
  EXPECT_TRUE(rejects({}, kDataLoss, {"truncated", "0 bytes"}));
}

TEST(SafetensorsHostile, TruncatedLengthPrefix) {
  EXPECT_TRUE(rejects({2, 0, 0, 0, 0}, kDataLoss,
                      {"truncated", "less than the 8-byte header length"}));
}

TEST(SafetensorsHostile, HeaderLongerThanFile) {
  EXPECT_TRUE(rejects(image("{}", 0, 1000), kDataLoss,
                      {"truncated", "declares 1000 bytes, only 2 follow"}));
}

TEST(SafetensorsHostile, AbsurdHeaderLength) {
  EXPECT_TRUE(rejects(image("{}", 0, UINT64_MAX), kDataLoss,
                      {"header of 18446744073709551615 bytes exceeds the "
                       "limit of 100000000"}));
}

TEST(SafetensorsHostile, HeaderJustOverTheLimit) {
  EXPECT_TRUE(rejects(image("{}", 0, kMaxSafetensorsHeaderBytes + 1), kDataLoss,
                      {"exceeds the limit"}));
}

TEST(SafetensorsHostile, TruncatedData) {
  std::string json = "{" + entry("w", "F32", "[4]", "[0,16]") + "}";
  EXPECT_TRUE(rejects(image(json, 12), kDataLoss,
                      {"tensor 'w'", "data_offsets [0, 16] run past the end of "
                                     "the data buffer (12 bytes)"}));
}

TEST(SafetensorsHostile, EveryTruncationOfAValidFile) {
  NamedTensorList tensors = {{"a", *Tensor::zeros({3, 5}, DType::F32)},
                             {"b", *Tensor::zeros({7}, DType::BF16)}};
  std::vector<uint8_t> full = *encodeSafetensors(tensors, {{"k", "v"}});
  ASSERT_TRUE(parseSafetensors(full).ok());
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + n);
    auto file = parseSafetensors(cut, "cut");
    ASSERT_FALSE(file.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(file.status().code(), kDataLoss) << file.status();
  }
}

//===----------------------------------------------------------------------===//
// JSON syntax
//===----------------------------------------------------------------------===//

TEST(SafetensorsHostile, HeaderNotAnObject) {
  EXPECT_TRUE(rejects(image("[1, 2]  ", 0), kDataLoss,
                      {"malformed safetensors header at byte 0",
                       "must be a JSON object"}));
}

TEST(SafetensorsHostile, EmptyHeader) {
  EXPECT_TRUE(rejects(image("", 0), kDataLoss, {"must be a JSON object"}));
}

TEST(SafetensorsHostile, MissingColon) {
  EXPECT_TRUE(rejects(image("{\"w\" {}}", 0), kDataLoss,
                      {"expected ':' after \"w\""}));
}

TEST(SafetensorsHostile, TrailingComma) {
  std::string json = "{" + entry("w", "I8", "[1]", "[0,1]") + ",}";
  EXPECT_TRUE(rejects(image(json, 1), kDataLoss, {"expected a string"}));
}

TEST(SafetensorsHostile, TrailingGarbage) {
  std::string json = "{" + entry("w", "I8", "[1]", "[0,1]") + "} x";
  EXPECT_TRUE(rejects(image(json, 1), kDataLoss,
                      {"unexpected characters after the header object"}));
}

TEST(SafetensorsHostile, UnterminatedObject) {
  std::string json = "{" + entry("w", "I8", "[1]", "[0,1]");
  EXPECT_TRUE(rejects(image(json, 1), kDataLoss, {"expected ',' or '}'"}));
}

TEST(SafetensorsHostile, UnterminatedString) {
  EXPECT_TRUE(rejects(image("{\"abc", 0), kDataLoss, {"unterminated string"}));
}

TEST(SafetensorsHostile, UnknownEscape) {
  EXPECT_TRUE(rejects(image("{\"a\\x\":1}", 0), kDataLoss,
                      {"unknown escape '\\x'"}));
}

TEST(SafetensorsHostile, BadUnicodeEscape) {
  EXPECT_TRUE(rejects(image("{\"a\\u12g4\":1}", 0), kDataLoss,
                      {"bad hex digit"}));
  EXPECT_TRUE(rejects(image("{\"a\\ud800\":1}", 0), kDataLoss,
                      {"high surrogate without its low half"}));
  EXPECT_TRUE(rejects(image("{\"a\\udc00\":1}", 0), kDataLoss,
                      {"lone low surrogate"}));
}

TEST(SafetensorsHostile, RawControlCharacterInString) {
  EXPECT_TRUE(rejects(image("{\"a\nb\":1}", 0), kDataLoss,
                      {"unescaped control character"}));
}

TEST(SafetensorsHostile, InvalidUtf8) {
  EXPECT_TRUE(rejects(image("{\"\xc0\xaf\":1}", 0), kDataLoss,
                      {"not valid UTF-8 (byte 2)"}));
  EXPECT_TRUE(rejects(image("{\"\xed\xa0\x80\":1}", 0), kDataLoss,
                      {"not valid UTF-8"}));
}

TEST(SafetensorsHostile, NumberWithLeadingZero) {
  std::string json = "{" + entry("w", "I8", "[01]", "[0,1]") + "}";
  EXPECT_TRUE(rejects(image(json, 1), kDataLoss, {"leading zero"}));
}

//===----------------------------------------------------------------------===//
// Wrong types and keys
//===----------------------------------------------------------------------===//

TEST(SafetensorsHostile, EntryNotAnObject) {
  EXPECT_TRUE(rejects(image("{\"w\":[1,2]}", 0), kDataLoss,
                      {"tensor 'w'", "expected an object with 'dtype'"}));
}

TEST(SafetensorsHostile, DTypeNotAString) {
  EXPECT_TRUE(rejects(image("{\"w\":{\"dtype\":7}}", 0), kDataLoss,
                      {"tensor 'w'", "'dtype' must be a string"}));
}

TEST(SafetensorsHostile, ShapeNotAnArray) {
  std::string json = "{" + entry("w", "I8", "\"2\"", "[0,2]") + "}";
  EXPECT_TRUE(rejects(image(json, 2), kDataLoss,
                      {"tensor 'w'", "'shape' must be an array"}));
}

TEST(SafetensorsHostile, ShapeOfFractions) {
  std::string json = "{" + entry("w", "I8", "[1.5]", "[0,1]") + "}";
  EXPECT_TRUE(rejects(image(json, 1), kDataLoss,
                      {"tensor 'w'", "'shape' must hold integers, not fractions"}));
}

TEST(SafetensorsHostile, ShapeOfStrings) {
  std::string json = "{" + entry("w", "I8", "[\"1\"]", "[0,1]") + "}";
  EXPECT_TRUE(rejects(image(json, 1), kDataLoss,
                      {"tensor 'w'", "'shape' must hold integers"}));
}

TEST(SafetensorsHostile, DataOffsetsNotAPair) {
  std::string json = "{" + entry("w", "I8", "[1]", "[0,1,2]") + "}";
  EXPECT_TRUE(rejects(image(json, 1), kDataLoss,
                      {"tensor 'w'", "'data_offsets' has more than 2 items"}));
  json = "{" + entry("w", "I8", "[1]", "[1]") + "}";
  EXPECT_TRUE(rejects(image(json, 1), kDataLoss,
                      {"tensor 'w'", "'data_offsets' must be [begin, end]"}));
}

TEST(SafetensorsHostile, MissingKey) {
  EXPECT_TRUE(rejects(image("{\"w\":{\"dtype\":\"F32\",\"shape\":[]}}", 0),
                      kDataLoss, {"tensor 'w'", "lacks 'data_offsets'"}));
}

TEST(SafetensorsHostile, UnknownKey) {
  std::string json = "{\"w\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":"
                     "[0,1],\"strides\":[1]}}";
  EXPECT_TRUE(rejects(image(json, 1), kDataLoss,
                      {"tensor 'w'", "unknown key 'strides'"}));
}

TEST(SafetensorsHostile, DuplicateKeyInEntry) {
  std::string json = "{\"w\":{\"dtype\":\"I8\",\"dtype\":\"F32\",\"shape\":[1],"
                     "\"data_offsets\":[0,1]}}";
  EXPECT_TRUE(rejects(image(json, 1), kDataLoss,
                      {"tensor 'w'", "duplicate key 'dtype'"}));
}

TEST(SafetensorsHostile, MetadataNotAnObject) {
  EXPECT_TRUE(rejects(image("{\"__metadata__\":[\"a\"]}", 0), kDataLoss,
                      {"\"__metadata__\" must be an object of strings"}));
}

TEST(SafetensorsHostile, MetadataValueNotAString) {
  EXPECT_TRUE(rejects(image("{\"__metadata__\":{\"step\":10}}", 0), kDataLoss,
                      {"metadata value of 'step' is not a string"}));
}

TEST(SafetensorsHostile, DuplicateMetadataKey) {
  EXPECT_TRUE(rejects(image("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0),
                      kDataLoss, {"duplicate metadata key 'k'"}));
}

TEST(SafetensorsHostile, DuplicateMetadataEntry) {
  EXPECT_TRUE(rejects(image("{\"__metadata__\":{},\"__metadata__\":{}}", 0),
                      kDataLoss, {"duplicate \"__metadata__\" entry"}));
}

TEST(SafetensorsHostile, DuplicateTensorName) {
  std::string json = "{" + entry("w", "I8", "[1]", "[0,1]") + "," +
                     entry("w", "I8", "[1]", "[1,2]") + "}";
  EXPECT_TRUE(rejects(image(json, 2), kDataLoss,
                      {"duplicate tensor name 'w'"}));
}

TEST(SafetensorsHostile, UnknownDType) {
  for (std::string dt : {"U8", "F8_E4M3", "I16", "Q4", ""}) {
    std::string json = "{" + entry("w", dt, "[1]", "[0,1]") + "}";
    EXPECT_TRUE(rejects(image(json, 1), StatusCode::InvalidArgument,
                        {"tensor 'w'", "unsupported dtype '" + dt + "'"}));
  }
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

TEST(SafetensorsHostile, NegativeDimension) {
  std::string json = "{" + entry("w", "F32", "[2,-3]", "[0,24]") + "}";
  EXPECT_TRUE(rejects(image(json, 24), kDataLoss,
                      {"tensor 'w'", "'shape' holds a negative number"}));
}

TEST(SafetensorsHostile, DimensionBeyondInt64) {
  std::string json =
      "{" + entry("w", "F32", "[9223372036854775808]", "[0,4]") + "}";
  EXPECT_TRUE(rejects(image(json, 4), kDataLoss,
                      {"tensor 'w'", "dimension 9223372036854775808 does not "
                                     "fit in int64"}));
}

TEST(SafetensorsHostile, DimensionBeyondUint64) {
  std::string json =
      "{" + entry("w", "F32", "[99999999999999999999]", "[0,4]") + "}";
  EXPECT_TRUE(rejects(image(json, 4), kDataLoss,
                      {"tensor 'w'", "does not fit in 64 bits"}));
}

TEST(SafetensorsHostile, ElementCountOverflows) {
  // 2^32 * 2^32 elements: the product overflows int64.
  std::string json =
      "{" + entry("w", "F32", "[4294967296,4294967296]", "[0,0]") + "}";
  EXPECT_TRUE(rejects(image(json, 0), kDataLoss,
                      {"tensor 'w'", "shape [4294967296, 4294967296] of F32 "
                                     "overflows"}));
}

TEST(SafetensorsHostile, StridesOfAnEmptyShapeOverflow) {
  // No elements, but the C-order strides 2^64 and 4 do not fit int64.
  std::string json =
      "{" + entry("w", "I8", "[0,4611686018427387904,4]", "[0,0]") + "}";
  EXPECT_TRUE(rejects(image(json, 0), kDataLoss,
                      {"tensor 'w'", "shape [0, 4611686018427387904, 4] of I8 "
                                     "overflows"}));
}

TEST(SafetensorsHostile, ByteCountOverflows) {
  // 2^61 elements fit int64, but 2^61 * 8 bytes does not fit 64 bits.
  std::string json =
      "{" + entry("w", "F64", "[2305843009213693952]", "[0,0]") + "}";
  EXPECT_TRUE(rejects(image(json, 0), kDataLoss, {"tensor 'w'", "overflows"}));
}

TEST(SafetensorsHostile, HugeShapeWithMatchingOffsets) {
  // Consistent offsets for a 2^40-byte tensor, but the file has 8 bytes:
  // refused before anything is allocated.
  std::string json =
      "{" + entry("w", "I8", "[1099511627776]", "[0,1099511627776]") + "}";
  EXPECT_TRUE(rejects(image(json, 8), kDataLoss,
                      {"tensor 'w'", "run past the end of the data buffer"}));
}

TEST(SafetensorsHostile, TooManyDimensions) {
  std::string json = "{" +
                     entry("w", "I8", "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]",
                           "[0,1]") +
                     "}";
  EXPECT_TRUE(rejects(image(json, 1), kDataLoss,
                      {"tensor 'w'", "'shape' has more than 16 items"}));
}

//===----------------------------------------------------------------------===//
// data_offsets
//===----------------------------------------------------------------------===//

TEST(SafetensorsHostile, OffsetsEndBeforeBegin) {
  std::string json = "{" + entry("w", "I8", "[0]", "[4,0]") + "}";
  EXPECT_TRUE(rejects(image(json, 4), kDataLoss,
                      {"tensor 'w'", "data_offsets [4, 0] end before they begin"}));
}

TEST(SafetensorsHostile, OffsetsOutOfRange) {
  std::string json = "{" + entry("w", "I8", "[4]", "[100,104]") + "}";
  EXPECT_TRUE(rejects(image(json, 4), kDataLoss,
                      {"tensor 'w'", "data_offsets [100, 104] run past the end "
                                     "of the data buffer (4 bytes)"}));
}

TEST(SafetensorsHostile, OffsetsDisagreeWithShape) {
  std::string json = "{" + entry("w", "F32", "[2,3]", "[0,20]") + "}";
  EXPECT_TRUE(rejects(image(json, 20), kDataLoss,
                      {"tensor 'w'", "data_offsets [0, 20] hold 20 bytes but "
                                     "F32 [2, 3] needs 24"}));
}

TEST(SafetensorsHostile, OffsetsOverlap) {
  std::string json = "{" + entry("a", "F32", "[2]", "[0,8]") + "," +
                     entry("b", "F32", "[2]", "[4,12]") + "}";
  EXPECT_TRUE(rejects(image(json, 12), kDataLoss,
                      {"tensor 'b'", "data_offsets [4, 12] overlap tensor 'a' "
                                     "at [0, 8]"}));
}

TEST(SafetensorsHostile, OffsetsIdentical) {
  // Two tensors sharing one range (aliasing) is an overlap too.
  std::string json = "{" + entry("a", "F32", "[2]", "[0,8]") + "," +
                     entry("b", "F32", "[2]", "[0,8]") + "}";
  EXPECT_TRUE(rejects(image(json, 8), kDataLoss, {"overlap tensor 'a'"}));
}

TEST(SafetensorsHostile, OffsetsLeaveAGap) {
  std::string json = "{" + entry("a", "F32", "[1]", "[0,4]") + "," +
                     entry("b", "F32", "[1]", "[8,12]") + "}";
  EXPECT_TRUE(rejects(image(json, 12), kDataLoss,
                      {"bytes [4, 8) of the data buffer, before tensor 'b', "
                       "belong to no tensor"}));
}

TEST(SafetensorsHostile, OffsetsDoNotStartAtZero) {
  std::string json = "{" + entry("a", "F32", "[1]", "[4,8]") + "}";
  EXPECT_TRUE(rejects(image(json, 8), kDataLoss,
                      {"bytes [0, 4)", "before tensor 'a'"}));
}

TEST(SafetensorsHostile, TrailingBytesAfterTheLastTensor) {
  std::string json = "{" + entry("a", "F32", "[1]", "[0,4]") + "}";
  EXPECT_TRUE(rejects(image(json, 10), kDataLoss,
                      {"bytes [4, 10) at the end of the data buffer belong to "
                       "no tensor"}));
}

TEST(SafetensorsHostile, DataWithoutTensors) {
  EXPECT_TRUE(rejects(image("{}", 3), kDataLoss,
                      {"bytes [0, 3) at the end of the data buffer"}));
}

TEST(SafetensorsHostile, OffsetsOverflow) {
  std::string json =
      "{" + entry("w", "I8", "[1]", "[18446744073709551615,0]") + "}";
  EXPECT_TRUE(rejects(image(json, 1), kDataLoss,
                      {"tensor 'w'", "end before they begin"}));
}

//===----------------------------------------------------------------------===//
// Accepted edge cases and random damage
//===----------------------------------------------------------------------===//

TEST(SafetensorsHostile, BoolBytesAreNormalized) {
  std::string json = "{" + entry("m", "BOOL", "[3]", "[0,3]") + "}";
  std::vector<uint8_t> bytes = image(json, 3);
  bytes[bytes.size() - 3] = 2;
  bytes[bytes.size() - 1] = 255;
  auto file = parseSafetensors(bytes);
  ASSERT_TRUE(file.ok()) << file.status();
  const auto *p = static_cast<const uint8_t *>(file->find("m")->rawData());
  EXPECT_EQ(std::vector<uint8_t>(p, p + 3), (std::vector<uint8_t>{1, 0, 1}));
}

TEST(SafetensorsHostile, EmptyFileWithNullMetadataIsValid) {
  auto file = parseSafetensors(image("{\"__metadata__\":null}", 0));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(file->tensors.empty());
  EXPECT_TRUE(file->metadata.empty());
}

TEST(SafetensorsHostile, RandomByteDamageNeverCrashes) {
  NamedTensorList tensors = {{"a", *Tensor::zeros({3, 5}, DType::F32)},
                             {"b", *Tensor::zeros({7}, DType::BF16)},
                             {"c", *Tensor::zeros({2}, DType::Bool)}};
  std::vector<uint8_t> full = *encodeSafetensors(tensors, {{"k", "v"}});
  std::mt19937 rng(1234);
  int rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> bytes = full;
    int flips = 1 + int(rng() % 4);
    for (int f = 0; f < flips; ++f)
      bytes[rng() % bytes.size()] = uint8_t(rng());
    auto file = parseSafetensors(bytes, "damaged");
    if (!file.ok()) {
      ++rejected;
      EXPECT_NE(file.status().message().find("damaged"), std::string::npos);
    }
  }
  // Damage to the data bytes is undetectable by design (no checksum), so
  // only part of the inputs are rejected.
  EXPECT_GT(rejected, 100);
}

TEST(SafetensorsHostile, StructuredMutationsNeverCrash) {
  // Token-level damage to valid headers (numbers swapped for extremes,
  // tokens inserted, deleted or duplicated, the length field changed),
  // which random bytes rarely produce. KILN_FUZZ_ITERATIONS runs longer.
  const char *env = std::getenv("KILN_FUZZ_ITERATIONS");
  int iterations = env ? std::atoi(env) : 20000;
  NamedTensorList tensors = {{"a", *Tensor::zeros({3, 5}, DType::F32)},
                             {"b\"q", *Tensor::zeros({0, 7}, DType::BF16)},
                             {"c", *Tensor::zeros({}, DType::Bool)},
                             {"d", *Tensor::zeros({2, 1, 2}, DType::I64)}};
  std::vector<uint8_t> seed = *encodeSafetensors(tensors, {{"k", "v"}});
  uint64_t seedHeader = 0;
  for (int i = 7; i >= 0; --i)
    seedHeader = seedHeader << 8 | seed[size_t(i)];
  std::string json(seed.begin() + 8, seed.begin() + 8 + long(seedHeader));
  std::vector<uint8_t> data(seed.begin() + 8 + long(seedHeader), seed.end());
  static const char *kTokens[] = {
      "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "null",
      "0", "-1", "1.5", "1e3", "00", "18446744073709551615",
      "18446744073709551616", "9223372036854775807", "4294967296",
      "\"__metadata__\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"",
      "\"F32\"", "\"BOOL\"", "\"U8\"", "\xff", "\xc3\xa9", " ", "\n"};
  std::mt19937_64 rng(20240607);
  int accepted = 0;
  for (int it = 0; it < iterations; ++it) {
    std::string h = json;
    for (int m = 1 + int(rng() % 3); m > 0; --m) {
      size_t at = h.empty() ? 0 : rng() % h.size();
      switch (rng() % 5) {
      case 0: // Replace a number with an extreme or odd one.
        if (size_t d = h.find_first_of("0123456789", at);
            d != std::string::npos) {
          size_t end = h.find_first_not_of("0123456789", d);
          h.replace(d, end - d, kTokens[11 + rng() % 9]);
        }
        break;
      case 1:
        h.insert(at, kTokens[rng() % std::size(kTokens)]);
        break;
      case 2:
        h.erase(at, 1 + rng() % 8);
        break;
      case 3: // Duplicate a span (duplicate keys, entries, commas).
        h.insert(at, h.substr(rng() % (h.size() + 1), 1 + rng() % 40));
        break;
      default:
        if (!h.empty())
          h[at] = char(rng());
      }
    }
    std::vector<uint8_t> bytes(8);
    uint64_t n = h.size();
    if (rng() % 16 == 0)
      n += rng() % 3 == 0 ? (uint64_t(1) << 63) : rng() % 16;
    for (int i = 0; i < 8; ++i)
      bytes[size_t(i)] = uint8_t(n >> (8 * i));
    bytes.insert(bytes.end(), h.begin(), h.end());
    bytes.insert(bytes.end(), data.begin(),
                 data.begin() + long(rng() % 8 ? data.size()
                                               : rng() % (data.size() + 1)));
    auto file = parseSafetensors(bytes, "mutant");
    if (file.ok())
      ++accepted;
    else
      ASSERT_NE(file.status().message().find("mutant"), std::string::npos)
          << file.status();
  }
  // Most mutants are invalid; some (whitespace, renamed keys) stay valid.
  EXPECT_LT(accepted, iterations / 2);
}

} // namespace
