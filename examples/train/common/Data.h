//===- Data.h - CSV loading, splits and a seeded DataLoader ----------------===//
//
// The data side of the training examples: read a numeric CSV, hold samples
// in host memory, split them into train/validation/test sets, and cut
// shuffled mini-batches as kiln::Tensor. Everything random takes a seed and
// uses its own generator (splitmix64), so a run is reproducible on any
// machine and independent of the standard library's distributions.
//
//   KILN_ASSIGN_OR_RETURN(Dataset all, loadDigits(dataDir));
//   Split s = splitDataset(all, {.val = 0.15, .test = 0.2, .seed = 1});
//   DataLoader train(s.train, {.batchSize = 32, .shuffle = true, .seed = 7});
//   for (int epoch = 0; epoch < epochs; ++epoch) {
//     train.startEpoch();                       // reshuffles
//     for (int64_t b = 0; b < train.numBatches(); ++b) {
//       KILN_ASSIGN_OR_RETURN(Batch batch, train.batch(b));
//       ... batch.x [B, sampleShape...] f32, batch.labels [B] i64 ...
//     }
//   }
//
//===----------------------------------------------------------------------===//
#ifndef KILN_EXAMPLES_TRAIN_DATA_H
#define KILN_EXAMPLES_TRAIN_DATA_H

#include "kiln/Tensor.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kiln::examples {

/// splitmix64 (Steele et al.): tiny, seedable, the same everywhere.
class Rng {
public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  /// Uniform in [0, 1).
  double uniform();
  /// Uniform integer in [0, n) (n > 0), without modulo bias.
  int64_t below(int64_t n);
  /// Fisher-Yates.
  void shuffle(std::vector<int64_t> &v);

private:
  uint64_t state_;
};

/// A numeric CSV: optional header line (kept when any field of the first
/// line is not a number), then rows of numbers. Quotes around fields are
/// stripped.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
};
/// Fails (naming the file and line) on an unreadable file, a field that is
/// not a number, or rows of different lengths.
Expected<CsvTable> readCsv(const std::string &path);

/// Samples held in host memory. Features are f32 with `sampleShape` per
/// sample; a classification set has one label per sample, a regression set
/// has `targetShape` floats per sample (either may be empty).
struct Dataset {
  Shape sampleShape;
  std::vector<float> x;
  std::vector<int64_t> labels;
  Shape targetShape;
  std::vector<float> targets;

  int64_t size() const;
  int64_t sampleNumel() const;
  int64_t targetNumel() const;
  /// The samples at `indices`, in that order.
  Dataset subset(std::span<const int64_t> indices) const;
  /// All samples as tensors: x [N, sampleShape...], labels [N] i64,
  /// targets [N, targetShape...].
  Expected<Tensor> xTensor() const;
  Expected<Tensor> labelTensor() const;
  Expected<Tensor> targetTensor() const;
};

struct SplitOptions {
  double val = 0.15;  ///< Fraction of samples for validation.
  double test = 0.2;  ///< Fraction for test.
  uint64_t seed = 0;
  /// Keep each label's share equal in the three parts (labelled sets only).
  bool stratified = true;
};
struct Split {
  Dataset train, val, test;
};
/// A seeded random split (the same seed gives the same split).
Split splitDataset(const Dataset &all, const SplitOptions &options);

/// One mini-batch. `x` is [B, sampleShape...] f32; `labels` [B] i64 and
/// `targets` [B, targetShape...] f32 when the set has them.
struct Batch {
  Tensor x;
  Tensor labels;
  Tensor targets;
  int64_t size = 0;
};

struct LoaderOptions {
  int64_t batchSize = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  bool dropLast = false; ///< Drop a final batch smaller than batchSize.
};

/// Cuts a Dataset into batches; with `shuffle`, each startEpoch() draws a
/// new order from the loader's own generator (epoch e of seed s is always
/// the same order). The dataset must outlive the loader.
class DataLoader {
public:
  DataLoader(const Dataset &data, const LoaderOptions &options);
  void startEpoch();
  int64_t numBatches() const;
  Expected<Batch> batch(int64_t index) const;

private:
  const Dataset *data_;
  LoaderOptions options_;
  Rng rng_;
  std::vector<int64_t> order_;
};

//===----------------------------------------------------------------------===//
// The datasets the examples use (extracted from Debian packages at setup;
// see examples/train/CMakeLists.txt).
//===----------------------------------------------------------------------===//

/// The directory holding digits.csv and sunspots.csv: `flagValue` when not
/// empty, else $KILN_DATA_DIR, else the build's data directory.
std::string dataDirectory(const std::string &flagValue);

/// scikit-learn's handwritten digits: 1797 samples of 8x8 pixels in 0..16
/// (scaled here to [0, 1]) and a label 0..9. sampleShape is {64}.
Expected<Dataset> loadDigits(const std::string &dataDir);
/// statsmodels' yearly sunspot numbers, 1700-2008: (years, values).
struct Series {
  std::vector<double> time;
  std::vector<double> value;
};
Expected<Series> loadSunspots(const std::string &dataDir);

} // namespace kiln::examples

#endif // KILN_EXAMPLES_TRAIN_DATA_H
