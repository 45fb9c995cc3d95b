//===- NpyTest.cpp - .npy round trips and hostile files --------------------===//
#include "kiln/Npy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <unistd.h>

using namespace kiln;

namespace {

/// A .npy v1.0 image with the given header dict and `dataBytes` zero bytes.
std::vector<uint8_t> npyImage(const std::string &dict, size_t dataBytes,
                              uint8_t major = 1) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', major, 0};
  std::string header = dict + "\n";
  if (major == 1) {
    out.push_back(uint8_t(header.size() & 0xff));
    out.push_back(uint8_t(header.size() >> 8));
  } else {
    for (int i = 0; i < 4; ++i)
      out.push_back(uint8_t(header.size() >> (8 * i)));
  }
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + dataBytes, 0);
  return out;
}

StatusCode codeOf(const std::vector<uint8_t> &bytes) {
  return parseNpy(bytes, "test.npy").status().code();
}

std::string messageOf(const std::vector<uint8_t> &bytes) {
  return parseNpy(bytes, "test.npy").status().message();
}

TEST(Npy, RoundTripEveryDType) {
  for (DType dt : kAllDTypes) {
    if (dt == DType::BF16)
      continue;
    auto t = Tensor::fromDoubles(std::vector<double>{1, 0, 3, 1, 5, 0},
                                 {2, 3}, dt);
    ASSERT_TRUE(t.ok());
    auto bytes = encodeNpy(*t);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_EQ((bytes->size() - size_t(t->numel()) * sizeOf(dt)) % 64, 0u);
    auto back = parseNpy(*bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->dtype(), dt);
    EXPECT_EQ(back->shape(), t->shape());
    EXPECT_EQ(back->toDoubles(), t->toDoubles()) << dtypeName(dt);
  }
}

TEST(Npy, RoundTripShapesAndViaFile) {
  for (Shape shape : {Shape{}, Shape{0}, Shape{5}, Shape{2, 0, 3}}) {
    auto t = *Tensor::full(shape, 2.5, DType::F32);
    auto back = parseNpy(*encodeNpy(t));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->shape(), shape);
    EXPECT_EQ(back->toDoubles(), t.toDoubles());
  }
  // A non-contiguous view is written in C order.
  auto base = *Tensor::arange(6, DType::F64);
  auto view = *base.reshape({2, 3})->transpose(0, 1);
  std::string path = testing::TempDir() + "/kiln_npy_" +
                     std::to_string(getpid()) + ".npy";
  ASSERT_TRUE(writeNpy(path, view).isOk());
  auto back = readNpy(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->shape(), (Shape{3, 2}));
  EXPECT_EQ(back->toDoubles(), view.toDoubles());
  std::remove(path.c_str());
}

TEST(Npy, ReadsWhatNumpyWrites) {
  // np.save of np.arange(6, dtype='<i4').reshape(2, 3), header as numpy pads.
  auto img = npyImage("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 24);
  for (int i = 0; i < 6; ++i)
    img[img.size() - 24 + size_t(i) * 4] = uint8_t(i);
  auto t = parseNpy(img);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->toDoubles(), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  // Version 2.0 header, double quotes, no trailing comma.
  auto v2 = npyImage("{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (1,)}", 8, 2);
  EXPECT_TRUE(parseNpy(v2).ok());
}

TEST(Npy, FortranOrderAndBigEndian) {
  // Fortran-order [2, 3] with column-major data 0..5: element (i, j) = i + 2j.
  auto img = npyImage("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24);
  size_t data = img.size() - 24;
  for (int k = 0; k < 6; ++k) {
    float f = float(k);
    std::memcpy(&img[data + size_t(k) * 4], &f, 4);
  }
  auto t = parseNpy(img);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->isContiguous());
  EXPECT_EQ(t->toDoubles(), (std::vector<double>{0, 2, 4, 1, 3, 5}));
  auto be = npyImage("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", 4);
  be.back() = 7; // Big-endian 7.
  EXPECT_EQ(parseNpy(be)->toDoubles(), (std::vector<double>{7}));
}

TEST(Npy, BadMagic) {
  std::vector<uint8_t> junk = {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(codeOf(junk), StatusCode::DataLoss);
  EXPECT_NE(messageOf(junk).find("test.npy: not a .npy file"), std::string::npos);
  EXPECT_EQ(codeOf({}), StatusCode::DataLoss);
}

TEST(Npy, TruncatedAnywhere) {
  auto good = *encodeNpy(*Tensor::full({3, 4}, 1, DType::F32));
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + long(n));
    ASSERT_EQ(codeOf(cut), StatusCode::DataLoss) << "prefix " << n;
  }
  // Extra bytes are as wrong as missing ones.
  good.push_back(0);
  EXPECT_EQ(codeOf(good), StatusCode::DataLoss);
  EXPECT_NE(messageOf(good).find("needs 48 data bytes, file has 49"),
            std::string::npos)
      << messageOf(good);
}

TEST(Npy, MalformedHeaders) {
  const char *bad[] = {
      "",
      "[]",
      "{'descr': '<f4', 'fortran_order': False}",               // no shape
      "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}", // bad bool
      "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}",  // not a tuple
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
      "{'descr: '<f4'}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1)}",
  };
  for (const char *h : bad) {
    auto img = npyImage(h, 4);
    EXPECT_EQ(codeOf(img), StatusCode::DataLoss) << h;
    EXPECT_NE(messageOf(img).find("test.npy"), std::string::npos) << h;
  }
  // A header length beyond the file.
  auto img = npyImage("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4);
  img[8] = 0xff;
  img[9] = 0xff;
  EXPECT_EQ(codeOf(img), StatusCode::DataLoss);
  // Unknown format version.
  auto v9 = npyImage("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4, 9);
  EXPECT_EQ(codeOf(v9), StatusCode::DataLoss);
}

TEST(Npy, HugeDeclaredShapeDoesNotAllocate) {
  auto img = npyImage(
      "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000, 1000000), }", 8);
  EXPECT_EQ(codeOf(img), StatusCode::DataLoss);
  auto img2 = npyImage(
      "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", 8);
  EXPECT_EQ(codeOf(img2), StatusCode::DataLoss);
  auto img3 = npyImage(
      "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }", 8);
  EXPECT_NE(messageOf(img3).find("needs 800000000000 data bytes, file has 8"),
            std::string::npos)
      << messageOf(img3);
}

TEST(Npy, UnsupportedDTypes) {
  for (const char *descr : {"<c8", "<U4", "|O", "<u4", "<f16", "", "x"}) {
    auto img = npyImage(std::string("{'descr': '") + descr +
                            "', 'fortran_order': False, 'shape': (1,), }",
                        4);
    EXPECT_EQ(codeOf(img), StatusCode::InvalidArgument) << descr;
  }
  auto bf = *Tensor::full({2}, 1, DType::BF16);
  EXPECT_EQ(encodeNpy(bf).status().code(), StatusCode::InvalidArgument);
}

TEST(Npy, BoolBytesAreNormalized) {
  auto img = npyImage("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", 2);
  img[img.size() - 2] = 7; // Not a valid bool byte; read as true.
  auto t = parseNpy(img);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->toDoubles(), (std::vector<double>{1, 0}));
}

TEST(Npy, MissingFile) {
  auto t = readNpy("/nonexistent/dir/x.npy");
  EXPECT_EQ(t.status().code(), StatusCode::IoError);
  EXPECT_NE(t.status().message().find("/nonexistent/dir/x.npy"), std::string::npos);
  auto t0 = *Tensor::zeros({1}, DType::F32);
  EXPECT_EQ(writeNpy("/nonexistent/dir/x.npy", t0).code(), StatusCode::IoError);
}

} // namespace
