//===- Report.h - Progress bar, metric lines, loss curves, flags -----------===//
//
// What a training example shows and writes: a text progress bar per epoch
// (redrawn in place on a terminal, one line per epoch otherwise), one
// metrics line per epoch, the loss curve as CSV, and a small flag parser.
//
//   Flags flags("digits_mlp", "An MLP on the 8x8 digits");
//   int64_t epochs = 30; bool quick = false;
//   flags.add("epochs", epochs, "passes over the training set");
//   flags.add("quick", quick, "the short run the test uses");
//   if (Status s = flags.parse(argc, argv); !s.isOk()) ...
//
//   KILN_ASSIGN_OR_RETURN(CurveWriter curve,
//       CurveWriter::open(path, {"epoch", "train_loss", "val_loss"}));
//   for (epoch ...) {
//     ProgressBar bar(strCat("epoch ", epoch), loader.numBatches());
//     for (b ...) { ...; bar.update(b + 1, strCat("loss ", loss)); }
//     bar.finish();
//     printMetrics(epoch, epochs, {{"train_loss", l}, {"val_acc", a}});
//     KILN_RETURN_IF_ERROR(curve.row({double(epoch), l, vl}));
//   }
//
//===----------------------------------------------------------------------===//
#ifndef KILN_EXAMPLES_TRAIN_REPORT_H
#define KILN_EXAMPLES_TRAIN_REPORT_H

#include "kiln/Status.h"

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace kiln::examples {

/// Seconds since construction.
class Timer {
public:
  Timer() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start_)
        .count();
  }

private:
  std::chrono::steady_clock::time_point start_;
};

/// Turns progress bars off (--no-progress) or on for every bar that follows.
void setProgressEnabled(bool on);

/// "label [##########..........]  12/40  suffix" on stderr. On a terminal
/// it is redrawn in place (at most ~20 times a second); when stderr is not a
/// terminal only the finished bar is printed.
class ProgressBar {
public:
  ProgressBar(std::string label, int64_t total);
  void update(int64_t done, const std::string &suffix = "");
  /// Draws the full bar and ends the line.
  void finish(const std::string &suffix = "");

private:
  void draw(int64_t done, const std::string &suffix, bool final);
  std::string label_;
  int64_t total_;
  bool tty_;
  Timer timer_;
  double lastDraw_ = -1;
};

/// "epoch  3/20  train_loss 0.1234  val_acc 0.9612  (1.3 s)" on stdout.
void printMetrics(int64_t epoch, int64_t epochs,
                  const std::vector<std::pair<std::string, double>> &metrics,
                  double seconds);

/// A CSV file with a header and one row per call, flushed as it goes (so
/// an interrupted run still leaves its curve).
class CurveWriter {
public:
  /// An empty path gives a writer that writes nothing.
  static Expected<CurveWriter> open(const std::string &path,
                                    std::vector<std::string> columns);
  Status row(const std::vector<double> &values);
  const std::string &path() const { return path_; }

private:
  CurveWriter() = default;
  std::string path_;
  size_t columns_ = 0;
  std::unique_ptr<std::ofstream> out_;
};

/// --name value, --name=value, and bare --name for booleans. --help prints
/// the flags. Unknown flags are errors.
class Flags {
public:
  Flags(std::string program, std::string about);
  void add(const std::string &name, int64_t &value, std::string help);
  void add(const std::string &name, double &value, std::string help);
  void add(const std::string &name, std::string &value, std::string help);
  void add(const std::string &name, bool &value, std::string help);
  /// True when --help was given (the caller should exit 0).
  bool helpRequested() const { return help_; }
  /// Which flags were given explicitly.
  bool given(const std::string &name) const;
  Status parse(int argc, char **argv);
  std::string usage() const;

private:
  struct Flag {
    std::string name;
    std::variant<int64_t *, double *, std::string *, bool *> target;
    std::string help;
    bool given = false;
  };
  std::string program_, about_;
  std::vector<Flag> flags_;
  bool help_ = false;
};

} // namespace kiln::examples

#endif // KILN_EXAMPLES_TRAIN_REPORT_H
