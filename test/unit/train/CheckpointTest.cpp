//===- CheckpointTest.cpp - safetensors round trips, loadInto, checkpoints -===//
#include "kiln/Checkpoint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace kiln;

namespace {

/// A fresh directory for one test, removed (with its files) afterwards.
class TempDir {
public:
  TempDir() {
    const char *tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") +
                          "/kiln-checkpoint-XXXXXX";
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    for (const std::string &f : files())
      ::unlink((path_ + "/" + f).c_str());
    ::rmdir(path_.c_str());
  }
  std::string file(const std::string &name) const { return path_ + "/" + name; }
  /// Every entry but "." and "..".
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    if (DIR *d = ::opendir(path_.c_str())) {
      while (dirent *e = ::readdir(d))
        if (std::string n = e->d_name; n != "." && n != "..")
          out.push_back(n);
      ::closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

private:
  std::string path_;
};

Tensor ramp(const Shape &shape, DType dtype, double start = 0) {
  Tensor t = *Tensor::zeros(shape, dtype);
  std::vector<double> v(size_t(t.numel()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = start + double(i);
  return *Tensor::fromDoubles(v, shape, dtype);
}

std::vector<uint8_t> readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

TEST(Safetensors, RoundTripEveryDTypeAndShape) {
  NamedTensorList tensors;
  for (DType dt : kAllDTypes)
    tensors.emplace_back(std::string(dtypeName(dt)), ramp({2, 3}, dt, -2));
  tensors.emplace_back("scalar", *Tensor::scalar(7.5, DType::F32));
  tensors.emplace_back("empty", *Tensor::zeros({0, 4}, DType::F16));
  auto bytes = encodeSafetensors(tensors, {{"step", "12"}});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto file = parseSafetensors(*bytes);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->tensors.size(), tensors.size());
  EXPECT_EQ(file->metadata, (std::map<std::string, std::string>{{"step", "12"}}));
  for (const auto &[name, t] : tensors) {
    const Tensor *got = file->find(name);
    ASSERT_NE(got, nullptr) << name;
    EXPECT_EQ(got->dtype(), t.dtype()) << name;
    EXPECT_EQ(got->shape(), t.shape()) << name;
    EXPECT_EQ(got->toDoubles(), t.toDoubles()) << name;
  }
  // Sorted by name.
  for (size_t i = 1; i < file->tensors.size(); ++i)
    EXPECT_LT(file->tensors[i - 1].first, file->tensors[i].first);
  EXPECT_EQ(file->find("nope"), nullptr);
}

TEST(Safetensors, FloatSpecialsKeepTheirBits) {
  // NaN payloads, signed zeros, infinities and subnormals are bytes to the
  // format: they come back bit for bit.
  std::vector<uint16_t> bits = {0x7e01, 0xfc00, 0x8000, 0x0001, 0x7fff, 0x3c00};
  Tensor h = *Tensor::empty({6}, DType::F16);
  Tensor b = *Tensor::empty({6}, DType::BF16);
  std::memcpy(h.rawData(), bits.data(), 12);
  std::memcpy(b.rawData(), bits.data(), 12);
  auto file = parseSafetensors(*encodeSafetensors({{"h", h}, {"b", b}}));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(std::memcmp(file->find("h")->rawData(), bits.data(), 12), 0);
  EXPECT_EQ(std::memcmp(file->find("b")->rawData(), bits.data(), 12), 0);
}

TEST(Safetensors, LayoutMatchesTheReferenceWriter) {
  // What safetensors.torch.save_file({"a": torch.zeros(2)}) writes: the
  // compact JSON, padded with spaces to a multiple of 8, then the data.
  auto bytes = encodeSafetensors({{"a", *Tensor::zeros({2}, DType::F32)}});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  std::string json = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  json.append((8 - json.size() % 8) % 8, ' ');
  std::vector<uint8_t> expected(8, 0);
  expected[0] = uint8_t(json.size());
  expected.insert(expected.end(), json.begin(), json.end());
  expected.resize(expected.size() + 8, 0);
  EXPECT_EQ(*bytes, expected);
}

TEST(Safetensors, NonContiguousTensorsAreSavedInCOrder) {
  Tensor m = ramp({3, 4}, DType::F32);
  Tensor mt = *m.transpose(0, 1);
  Tensor stepped = *ramp({10}, DType::I32).slice(0, 9, -100, -3); // 9 6 3 0
  auto file = parseSafetensors(*encodeSafetensors({{"mt", mt}, {"s", stepped}}));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->find("mt")->shape(), (Shape{4, 3}));
  EXPECT_EQ(file->find("mt")->toDoubles(), mt.toDoubles());
  EXPECT_EQ(file->find("s")->toDoubles(), (std::vector<double>{9, 6, 3, 0}));
}

TEST(Safetensors, NamesAndMetadataWithEscapesAndUnicode) {
  std::string odd = "layer \"0\"\\w\n\x01 caf\xc3\xa9 \xf0\x9f\x94\xa5";
  auto bytes = encodeSafetensors({{odd, ramp({2}, DType::F32)}},
                                 {{odd, odd}, {"", ""}});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto file = parseSafetensors(*bytes);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_NE(file->find(odd), nullptr);
  EXPECT_EQ(file->metadata.at(odd), odd);
  EXPECT_EQ(file->metadata.at(""), "");
}

TEST(Safetensors, JsonEscapesOfOtherWritersAreDecoded) {
  // \u escapes (with a surrogate pair), \/ and whitespace between tokens,
  // as other JSON writers may produce them.
  std::string json = "{ \"w\\u00e9\\/\\ud83d\\udd25\" : { \"shape\" : [ 1 ] ,"
                     " \"dtype\" : \"I8\" , \"data_offsets\" : [ 0 , 1 ] } ,"
                     " \"__metadata__\" : { \"k\" : \"\\t\" } }\n";
  std::vector<uint8_t> image(8, 0);
  image[0] = uint8_t(json.size());
  image.insert(image.end(), json.begin(), json.end());
  image.push_back(uint8_t(-5));
  auto file = parseSafetensors(image);
  ASSERT_TRUE(file.ok()) << file.status();
  const Tensor *w = file->find("w\xc3\xa9/\xf0\x9f\x94\xa5");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->toDoubles(), std::vector<double>{-5});
  EXPECT_EQ(file->metadata.at("k"), "\t");
}

TEST(Safetensors, EncodeRejectsBadInput) {
  Tensor t = ramp({2}, DType::F32);
  auto dup = encodeSafetensors({{"a", t}, {"a", t}});
  EXPECT_EQ(dup.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(dup.status().message().find("duplicate tensor name 'a'"),
            std::string::npos)
      << dup.status();
  auto reserved = encodeSafetensors({{"__metadata__", t}});
  EXPECT_NE(reserved.status().message().find("__metadata__"), std::string::npos)
      << reserved.status();
  auto undefined = encodeSafetensors({{"u", Tensor()}});
  EXPECT_NE(undefined.status().message().find("tensor 'u' is undefined"),
            std::string::npos)
      << undefined.status();
  auto badUtf8 = encodeSafetensors({{"\xff", t}});
  EXPECT_NE(badUtf8.status().message().find("not valid UTF-8"),
            std::string::npos)
      << badUtf8.status();
}

TEST(Safetensors, DTypeNames) {
  for (DType dt : kAllDTypes) {
    auto back = parseSafetensorsDType(safetensorsDTypeName(dt));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, dt);
  }
  EXPECT_EQ(safetensorsDTypeName(DType::Bool), "BOOL");
  EXPECT_EQ(safetensorsDTypeName(DType::BF16), "BF16");
  EXPECT_EQ(parseSafetensorsDType("f32").status().code(),
            StatusCode::InvalidArgument);
}

//===----------------------------------------------------------------------===//
// Files and atomic writes
//===----------------------------------------------------------------------===//

TEST(SafetensorsOnDisk, SaveLoadAndOverwrite) {
  TempDir dir;
  std::string path = dir.file("w.safetensors");
  ASSERT_TRUE(saveSafetensors(path, {{"w", ramp({4, 4}, DType::F32)}},
                              {{"v", "1"}})
                  .isOk());
  ASSERT_TRUE(saveSafetensors(path, {{"w", ramp({2}, DType::I64, 5)}},
                              {{"v", "2"}})
                  .isOk());
  auto file = loadSafetensors(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata.at("v"), "2");
  EXPECT_EQ(file->find("w")->toDoubles(), (std::vector<double>{5, 6}));
  // The file on disk is exactly the encoded image, and no temporary file
  // is left beside it.
  EXPECT_EQ(readBytes(path), *encodeSafetensors({{"w", ramp({2}, DType::I64, 5)}},
                                                {{"v", "2"}}));
  EXPECT_EQ(dir.files(), std::vector<std::string>{"w.safetensors"});
}

TEST(SafetensorsOnDisk, FailedSaveLeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  std::string path = dir.file("w.safetensors");
  ASSERT_TRUE(saveSafetensors(path, {{"w", ramp({3}, DType::F32)}}).isOk());
  std::vector<uint8_t> before = readBytes(path);
  Tensor t = ramp({2}, DType::F32);
  Status s = saveSafetensors(path, {{"a", t}, {"a", t}});
  EXPECT_EQ(s.code(), StatusCode::InvalidArgument);
  EXPECT_NE(s.message().find(path), std::string::npos) << s;
  EXPECT_EQ(readBytes(path), before);
  EXPECT_EQ(dir.files(), std::vector<std::string>{"w.safetensors"});
}

TEST(SafetensorsOnDisk, SaveIntoMissingDirectoryIsIoError) {
  TempDir dir;
  std::string path = dir.file("no/such/dir/w.safetensors");
  Status s = saveSafetensors(path, {{"w", ramp({3}, DType::F32)}});
  EXPECT_EQ(s.code(), StatusCode::IoError);
  EXPECT_NE(s.message().find(path), std::string::npos) << s;
}

TEST(SafetensorsOnDisk, SaveOverADirectoryIsIoErrorAndKeepsIt) {
  TempDir dir;
  ASSERT_EQ(::mkdir(dir.file("sub").c_str(), 0777), 0);
  Status s = saveSafetensors(dir.file("sub"), {{"w", ramp({3}, DType::F32)}});
  EXPECT_EQ(s.code(), StatusCode::IoError) << s;
  EXPECT_NE(s.message().find("cannot rename"), std::string::npos) << s;
  struct stat st;
  EXPECT_EQ(::stat(dir.file("sub").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(dir.files(), std::vector<std::string>{"sub"});
  ::rmdir(dir.file("sub").c_str());
}

TEST(SafetensorsOnDisk, RelativePathInTheCurrentDirectory) {
  TempDir dir;
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(::chdir(dir.file("").c_str()), 0);
  Status s = saveSafetensors("rel.safetensors", {{"w", ramp({3}, DType::F32)}});
  auto file = loadSafetensors("rel.safetensors");
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_TRUE(s.isOk()) << s;
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(dir.files(), std::vector<std::string>{"rel.safetensors"});
}

TEST(SafetensorsOnDisk, LoadMissingFileIsNotFound) {
  TempDir dir;
  auto file = loadSafetensors(dir.file("absent.safetensors"));
  EXPECT_EQ(file.status().code(), StatusCode::NotFound);
  EXPECT_NE(file.status().message().find("absent.safetensors"),
            std::string::npos);
}

TEST(SafetensorsOnDisk, LoadDirectoryIsIoError) {
  TempDir dir;
  auto file = loadSafetensors(dir.file(""));
  EXPECT_EQ(file.status().code(), StatusCode::IoError);
  EXPECT_NE(file.status().message().find("not a regular file"),
            std::string::npos)
      << file.status();
}

TEST(SafetensorsOnDisk, TruncatedFileNamesThePath) {
  TempDir dir;
  std::string path = dir.file("t.safetensors");
  ASSERT_TRUE(saveSafetensors(path, {{"w", ramp({64}, DType::F32)}}).isOk());
  ASSERT_EQ(::truncate(path.c_str(), 100), 0);
  auto file = loadSafetensors(path);
  EXPECT_EQ(file.status().code(), StatusCode::DataLoss);
  EXPECT_NE(file.status().message().find(path + ": tensor 'w'"),
            std::string::npos)
      << file.status();
}

//===----------------------------------------------------------------------===//
// loadInto
//===----------------------------------------------------------------------===//

TEST(LoadInto, CopiesIntoExistingTensorsAndViews) {
  Tensor w = *Tensor::zeros({2, 3}, DType::F32);
  Tensor big = *Tensor::zeros({4, 2}, DType::F32);
  Tensor view = *big.transpose(0, 1); // [2, 4], non-contiguous
  NamedTensorList params = {{"w", w}, {"v", view}};
  SafetensorsFile file;
  file.tensors = {{"v", ramp({2, 4}, DType::F32, 1)},
                  {"w", ramp({2, 3}, DType::F32, 10)}};
  ASSERT_TRUE(loadInto(file, params).isOk());
  EXPECT_EQ(w.toDoubles(), ramp({2, 3}, DType::F32, 10).toDoubles());
  // Written through the view into the shared storage.
  EXPECT_EQ(big.toDoubles(), ramp({2, 4}, DType::F32, 1)
                                 .transpose(0, 1)
                                 ->contiguous()
                                 ->toDoubles());
}

TEST(LoadInto, ReportsEveryMismatchByNameAndCopiesNothing) {
  Tensor a = *Tensor::zeros({2}, DType::F32);
  Tensor b = *Tensor::zeros({2, 3}, DType::F32);
  Tensor c = *Tensor::zeros({4}, DType::F32);
  Tensor d = *Tensor::zeros({1}, DType::F32);
  NamedTensorList params = {{"a", a}, {"b", b}, {"c", c}, {"d", d}};
  NamedTensorList source = {{"a", ramp({2}, DType::F32, 1)},
                            {"b", ramp({3, 2}, DType::F32)},
                            {"c", ramp({4}, DType::F16)},
                            {"extra", ramp({1}, DType::F32)}};
  Status s = loadInto(source, params);
  EXPECT_EQ(s.code(), StatusCode::InvalidArgument);
  EXPECT_EQ(s.message(),
            "loadInto: missing: 'd'; unexpected: 'extra'; wrong shape: 'b' "
            "([3, 2] in the source, [2, 3] in the destination); wrong dtype: "
            "'c' (f16 in the source, f32 in the destination) (nothing was "
            "copied)");
  EXPECT_EQ(a.toDoubles(), (std::vector<double>{0, 0})); // untouched
}

TEST(LoadInto, NonStrictSkipsMissingAndUnexpectedButNotMismatches) {
  Tensor a = *Tensor::zeros({2}, DType::F32);
  Tensor d = *Tensor::zeros({1}, DType::F32);
  NamedTensorList params = {{"a", a}, {"d", d}};
  NamedTensorList source = {{"a", ramp({2}, DType::F32, 1)},
                            {"extra", ramp({1}, DType::F32)}};
  ASSERT_TRUE(loadInto(source, params, /*strict=*/false).isOk());
  EXPECT_EQ(a.toDoubles(), (std::vector<double>{1, 2}));
  EXPECT_EQ(d.toDoubles(), (std::vector<double>{0}));
  source[0].second = ramp({3}, DType::F32);
  Status s = loadInto(source, params, /*strict=*/false);
  EXPECT_NE(s.message().find("wrong shape: 'a' ([3] in the source, [2] in "
                             "the destination)"),
            std::string::npos)
      << s;
}

TEST(LoadInto, DuplicatesAndUndefinedAreReported) {
  NamedTensorList params = {{"a", *Tensor::zeros({1}, DType::F32)},
                            {"a", *Tensor::zeros({1}, DType::F32)},
                            {"u", Tensor()}};
  NamedTensorList source = {{"a", ramp({1}, DType::F32)},
                            {"a", ramp({1}, DType::F32)},
                            {"u", ramp({1}, DType::F32)}};
  Status s = loadInto(source, params);
  EXPECT_NE(s.message().find("undefined: 'u' (destination)"), std::string::npos)
      << s;
  EXPECT_NE(s.message().find("duplicate in the source: 'a'"), std::string::npos)
      << s;
  EXPECT_NE(s.message().find("duplicate in the destination: 'a'"),
            std::string::npos)
      << s;
}

//===----------------------------------------------------------------------===//
// Checkpoints: model + optimizer in one file
//===----------------------------------------------------------------------===//

TEST(Checkpoint, SavesModelAndOptimizerUnderPrefixes) {
  TempDir dir;
  std::string path = dir.file("ckpt.safetensors");
  Tensor w = ramp({2, 2}, DType::F32, 3);
  Tensor b = ramp({2}, DType::BF16, -1);
  NamedTensorList model = {{"fc.weight", w}, {"fc.bias", b}};
  NamedTensorList optim = {{"step", *Tensor::scalar(10, DType::I64)},
                           {"fc.weight.exp_avg", ramp({2, 2}, DType::F32, 0.5)}};
  ASSERT_TRUE(saveCheckpoint(path, model, optim, {{"epoch", "3"}}).isOk());

  auto raw = loadSafetensors(path);
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_NE(raw->find("model.fc.weight"), nullptr);
  EXPECT_NE(raw->find("optim.step"), nullptr);

  auto ckpt = loadCheckpoint(path);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ckpt->metadata.at("epoch"), "3");
  ASSERT_EQ(ckpt->model.size(), 2u);
  EXPECT_EQ(ckpt->model[0].first, "fc.bias");
  EXPECT_EQ(ckpt->model[1].first, "fc.weight");
  ASSERT_EQ(ckpt->optimizer.size(), 2u);
  EXPECT_EQ(ckpt->optimizer[1].first, "step");
  EXPECT_EQ(ckpt->optimizer[1].second.toDoubles(), std::vector<double>{10});

  // Restore into fresh parameters.
  Tensor w2 = *Tensor::zeros({2, 2}, DType::F32);
  Tensor b2 = *Tensor::zeros({2}, DType::BF16);
  NamedTensorList fresh = {{"fc.weight", w2}, {"fc.bias", b2}};
  ASSERT_TRUE(loadInto(ckpt->model, fresh).isOk());
  EXPECT_EQ(w2.toDoubles(), w.toDoubles());
  EXPECT_EQ(b2.toDoubles(), b.toDoubles());
}

TEST(Checkpoint, ForeignTensorNameIsDataLoss) {
  TempDir dir;
  std::string path = dir.file("other.safetensors");
  ASSERT_TRUE(saveSafetensors(path, {{"model.w", ramp({1}, DType::F32)},
                                     {"encoder.w", ramp({1}, DType::F32)}})
                  .isOk());
  auto ckpt = loadCheckpoint(path);
  EXPECT_EQ(ckpt.status().code(), StatusCode::DataLoss);
  EXPECT_NE(ckpt.status().message().find("tensor 'encoder.w' is neither"),
            std::string::npos)
      << ckpt.status();
}

/// The example in README.md's "Checkpoints" section, verbatim.
kiln::Status readmeExample(const std::string &path) {
  KILN_ASSIGN_OR_RETURN(kiln::Tensor w,
                        kiln::Tensor::full({2, 3}, 0.5, kiln::DType::F32));
  KILN_ASSIGN_OR_RETURN(kiln::Tensor step,
                        kiln::Tensor::scalar(100, kiln::DType::I64));
  kiln::NamedTensorList model = {{"fc.weight", w}};
  kiln::NamedTensorList optimizerState = {{"step", step}};
  KILN_RETURN_IF_ERROR(kiln::saveCheckpoint(path, model, optimizerState,
                                            {{"epoch", "3"}}));

  KILN_ASSIGN_OR_RETURN(kiln::Checkpoint ckpt, kiln::loadCheckpoint(path));
  KILN_ASSIGN_OR_RETURN(kiln::Tensor fresh,
                        kiln::Tensor::zeros({2, 3}, kiln::DType::F32));
  kiln::NamedTensorList restored = {{"fc.weight", fresh}};
  // Checks every name, shape and dtype before copying anything.
  return kiln::loadInto(ckpt.model, restored);
}

TEST(Checkpoint, ReadmeExample) {
  TempDir dir;
  Status s = readmeExample(dir.file("ckpt.safetensors"));
  ASSERT_TRUE(s.isOk()) << s;
  auto file = loadSafetensors(dir.file("ckpt.safetensors"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_NE(file->find("model.fc.weight"), nullptr);
  EXPECT_NE(file->find("optim.step"), nullptr);
}

} // namespace
