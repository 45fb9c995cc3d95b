//===- Data.cpp - CSV loading, splits and a seeded DataLoader --------------===//
#include "Data.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#ifndef KILN_EXAMPLES_DATA_DIR
#define KILN_EXAMPLES_DATA_DIR "data"
#endif

namespace kiln::examples {

//===----------------------------------------------------------------------===//
// Rng
//===----------------------------------------------------------------------===//

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Rng::uniform() { return double(next() >> 11) * 0x1.0p-53; }

int64_t Rng::below(int64_t n) {
  const uint64_t un = uint64_t(n);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % un;
  uint64_t r;
  do
    r = next();
  while (r >= limit);
  return int64_t(r % un);
}

void Rng::shuffle(std::vector<int64_t> &v) {
  for (int64_t i = int64_t(v.size()) - 1; i > 0; --i)
    std::swap(v[size_t(i)], v[size_t(below(i + 1))]);
}

//===----------------------------------------------------------------------===//
// CSV
//===----------------------------------------------------------------------===//

namespace {

std::string trimField(std::string_view f) {
  while (!f.empty() && (f.front() == ' ' || f.front() == '\t'))
    f.remove_prefix(1);
  while (!f.empty() &&
         (f.back() == ' ' || f.back() == '\t' || f.back() == '\r'))
    f.remove_suffix(1);
  if (f.size() >= 2 && f.front() == '"' && f.back() == '"')
    f = f.substr(1, f.size() - 2);
  return std::string(f);
}

std::vector<std::string> splitLine(const std::string &line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    out.push_back(trimField(std::string_view(line).substr(
        start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return out;
}

bool parseNumber(const std::string &s, double &v) {
  if (s.empty())
    return false;
  const char *end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  return ec == std::errc() && p == end;
}

} // namespace

Expected<CsvTable> readCsv(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    return notFound("cannot open '", path,
                    "' (run scripts/setup.sh and configure the build, or pass "
                    "--data-dir)");
  CsvTable table;
  std::string line;
  int64_t lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (trimField(line).empty())
      continue;
    std::vector<std::string> fields = splitLine(line);
    std::vector<double> row(fields.size());
    bool numeric = true;
    for (size_t i = 0; i < fields.size() && numeric; ++i)
      numeric = parseNumber(fields[i], row[i]);
    if (!numeric) {
      if (table.rows.empty() && table.header.empty()) {
        table.header = std::move(fields);
        continue;
      }
      return dataLoss(path, ":", lineNo, ": a field is not a number");
    }
    if (!table.rows.empty() && row.size() != table.rows.front().size())
      return dataLoss(path, ":", lineNo, ": ", row.size(),
                      " fields where earlier rows have ",
                      table.rows.front().size());
    table.rows.push_back(std::move(row));
  }
  if (in.bad())
    return ioError("reading '", path, "' failed");
  if (table.rows.empty())
    return dataLoss(path, ": no data rows");
  return table;
}

//===----------------------------------------------------------------------===//
// Dataset
//===----------------------------------------------------------------------===//

namespace {
int64_t product(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}
Shape prepend(int64_t n, const Shape &s) {
  Shape out{n};
  out.insert(out.end(), s.begin(), s.end());
  return out;
}
} // namespace

int64_t Dataset::sampleNumel() const { return product(sampleShape); }
int64_t Dataset::targetNumel() const {
  return targets.empty() ? 0 : product(targetShape);
}
int64_t Dataset::size() const {
  int64_t n = sampleNumel();
  return n == 0 ? 0 : int64_t(x.size()) / n;
}

Dataset Dataset::subset(std::span<const int64_t> indices) const {
  Dataset out;
  out.sampleShape = sampleShape;
  out.targetShape = targetShape;
  const int64_t d = sampleNumel(), t = targetNumel();
  out.x.reserve(indices.size() * size_t(d));
  for (int64_t i : indices) {
    out.x.insert(out.x.end(), x.begin() + i * d, x.begin() + (i + 1) * d);
    if (!labels.empty())
      out.labels.push_back(labels[size_t(i)]);
    if (t > 0)
      out.targets.insert(out.targets.end(), targets.begin() + i * t,
                         targets.begin() + (i + 1) * t);
  }
  return out;
}

Expected<Tensor> Dataset::xTensor() const {
  return Tensor::fromVector(x, prepend(size(), sampleShape));
}
Expected<Tensor> Dataset::labelTensor() const {
  return Tensor::fromVector(labels, Shape{int64_t(labels.size())});
}
Expected<Tensor> Dataset::targetTensor() const {
  return Tensor::fromVector(targets, prepend(size(), targetShape));
}

Split splitDataset(const Dataset &all, const SplitOptions &options) {
  Rng rng(options.seed);
  // Groups of indices (one per label when stratified), each shuffled and
  // cut in the same proportions.
  std::map<int64_t, std::vector<int64_t>> groups;
  for (int64_t i = 0; i < all.size(); ++i)
    groups[options.stratified && !all.labels.empty() ? all.labels[size_t(i)]
                                                     : 0]
        .push_back(i);
  std::vector<int64_t> train, val, test;
  for (auto &[label, idx] : groups) {
    rng.shuffle(idx);
    const auto n = int64_t(idx.size());
    const auto nTest = int64_t(double(n) * options.test + 0.5);
    const auto nVal = int64_t(double(n) * options.val + 0.5);
    for (int64_t i = 0; i < n; ++i)
      (i < nTest ? test : i < nTest + nVal ? val : train).push_back(idx[size_t(i)]);
  }
  // Mix the labels again so that a subset's order carries no information.
  rng.shuffle(train);
  rng.shuffle(val);
  rng.shuffle(test);
  return {all.subset(train), all.subset(val), all.subset(test)};
}

//===----------------------------------------------------------------------===//
// DataLoader
//===----------------------------------------------------------------------===//

DataLoader::DataLoader(const Dataset &data, const LoaderOptions &options)
    : data_(&data), options_(options), rng_(options.seed) {
  options_.batchSize = std::max<int64_t>(1, options_.batchSize);
  order_.resize(size_t(data.size()));
  for (size_t i = 0; i < order_.size(); ++i)
    order_[i] = int64_t(i);
}

void DataLoader::startEpoch() {
  if (options_.shuffle)
    rng_.shuffle(order_);
}

int64_t DataLoader::numBatches() const {
  const int64_t n = int64_t(order_.size()), b = options_.batchSize;
  return options_.dropLast ? n / b : (n + b - 1) / b;
}

Expected<Batch> DataLoader::batch(int64_t index) const {
  if (index < 0 || index >= numBatches())
    return outOfRange("batch ", index, " of ", numBatches());
  const int64_t begin = index * options_.batchSize;
  const int64_t end =
      std::min<int64_t>(begin + options_.batchSize, int64_t(order_.size()));
  Dataset part = data_->subset(
      std::span<const int64_t>(order_.data() + begin, size_t(end - begin)));
  Batch b;
  b.size = end - begin;
  KILN_ASSIGN_OR_RETURN(b.x, part.xTensor());
  if (!part.labels.empty()) {
    KILN_ASSIGN_OR_RETURN(b.labels, part.labelTensor());
  }
  if (!part.targets.empty()) {
    KILN_ASSIGN_OR_RETURN(b.targets, part.targetTensor());
  }
  return b;
}

//===----------------------------------------------------------------------===//
// Datasets
//===----------------------------------------------------------------------===//

std::string dataDirectory(const std::string &flagValue) {
  if (!flagValue.empty())
    return flagValue;
  if (const char *env = std::getenv("KILN_DATA_DIR"); env && *env)
    return env;
  return KILN_EXAMPLES_DATA_DIR;
}

Expected<Dataset> loadDigits(const std::string &dataDir) {
  const std::string path = dataDir + "/digits.csv";
  KILN_ASSIGN_OR_RETURN(CsvTable table, readCsv(path));
  if (table.rows.front().size() != 65)
    return dataLoss(path, ": expected 64 pixels and a label per row, got ",
                    table.rows.front().size(), " fields");
  Dataset d;
  d.sampleShape = {64};
  d.x.reserve(table.rows.size() * 64);
  for (const auto &row : table.rows) {
    for (int i = 0; i < 64; ++i) {
      if (row[size_t(i)] < 0 || row[size_t(i)] > 16)
        return dataLoss(path, ": pixel value ", row[size_t(i)],
                        " outside 0..16");
      d.x.push_back(float(row[size_t(i)] / 16.0));
    }
    const double label = row[64];
    if (label < 0 || label > 9 || label != double(int64_t(label)))
      return dataLoss(path, ": label ", label, " is not a digit");
    d.labels.push_back(int64_t(label));
  }
  return d;
}

Expected<Series> loadSunspots(const std::string &dataDir) {
  const std::string path = dataDir + "/sunspots.csv";
  KILN_ASSIGN_OR_RETURN(CsvTable table, readCsv(path));
  if (table.rows.front().size() != 2)
    return dataLoss(path, ": expected YEAR,SUNACTIVITY columns");
  Series s;
  for (const auto &row : table.rows) {
    s.time.push_back(row[0]);
    s.value.push_back(row[1]);
  }
  return s;
}

} // namespace kiln::examples
