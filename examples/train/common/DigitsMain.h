//===- DigitsMain.h - The driver the digits classifiers share --------------===//
//
// digits_mlp and digits_cnn differ only in their model and defaults: both
// split the 1797 digits 65/15/20 (stratified, fixed seed), train with Adam
// and a cosine schedule, keep the epoch with the best validation accuracy,
// and report its test accuracy. The process exits 0 when the test accuracy
// reaches --target, 2 when it does not, 1 on an error.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_EXAMPLES_TRAIN_DIGITSMAIN_H
#define KILN_EXAMPLES_TRAIN_DIGITSMAIN_H

#include "Train.h"

#include <functional>
#include <memory>
#include <string>

namespace kiln::examples {

struct DigitsExample {
  std::string name;        ///< Program name, also the curve file's stem.
  std::string description; ///< One line on the model.
  Shape sampleShape;       ///< {64} or {1, 8, 8}.
  int64_t epochs = 30;
  int64_t quickEpochs = 10;
  double lr = 1e-3;
  int64_t batchSize = 32;
  double target = 0.97;
  std::function<Expected<std::shared_ptr<nn::Module>>(Generator &)> build;
};

int digitsMain(int argc, char **argv, DigitsExample example);

} // namespace kiln::examples

#endif // KILN_EXAMPLES_TRAIN_DIGITSMAIN_H
