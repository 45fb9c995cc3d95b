//===- Report.cpp - Progress bar, metric lines, loss curves, flags ---------===//
#include "Report.h"

#include <charconv>
#include <cstdio>
#include <sstream>
#include <unistd.h>

namespace kiln::examples {

namespace {
bool gProgress = true;
} // namespace

void setProgressEnabled(bool on) { gProgress = on; }

ProgressBar::ProgressBar(std::string label, int64_t total)
    : label_(std::move(label)), total_(total < 1 ? 1 : total),
      tty_(isatty(fileno(stderr)) != 0) {}

void ProgressBar::update(int64_t done, const std::string &suffix) {
  if (!gProgress || !tty_)
    return;
  const double now = timer_.seconds();
  if (lastDraw_ >= 0 && now - lastDraw_ < 0.05 && done < total_)
    return;
  lastDraw_ = now;
  draw(done, suffix, false);
}

void ProgressBar::finish(const std::string &suffix) {
  if (!gProgress)
    return;
  draw(total_, suffix, true);
}

void ProgressBar::draw(int64_t done, const std::string &suffix, bool final) {
  constexpr int kWidth = 30;
  if (done > total_)
    done = total_;
  const int filled = int(done * kWidth / total_);
  std::string bar(size_t(filled), '#');
  bar.append(size_t(kWidth - filled), '.');
  std::fprintf(stderr, "%s%s [%s] %lld/%lld %5.1fs %s%s", tty_ ? "\r\033[K" : "",
               label_.c_str(), bar.c_str(), (long long)done, (long long)total_,
               timer_.seconds(), suffix.c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

void printMetrics(int64_t epoch, int64_t epochs,
                  const std::vector<std::pair<std::string, double>> &metrics,
                  double seconds) {
  std::printf("epoch %3lld/%lld", (long long)epoch, (long long)epochs);
  for (const auto &[name, value] : metrics)
    std::printf("  %s %.4f", name.c_str(), value);
  std::printf("  (%.1f s)\n", seconds);
  std::fflush(stdout);
}

Expected<CurveWriter> CurveWriter::open(const std::string &path,
                                        std::vector<std::string> columns) {
  CurveWriter w;
  w.path_ = path;
  w.columns_ = columns.size();
  if (path.empty())
    return w;
  w.out_ = std::make_unique<std::ofstream>(path, std::ios::trunc);
  if (!*w.out_)
    return ioError("cannot write the loss curve to '", path, "'");
  for (size_t i = 0; i < columns.size(); ++i)
    *w.out_ << (i ? "," : "") << columns[i];
  *w.out_ << "\n" << std::flush;
  return w;
}

Status CurveWriter::row(const std::vector<double> &values) {
  if (!out_)
    return Status::ok();
  if (values.size() != columns_)
    return invalidArgument("curve '", path_, "': ", values.size(),
                           " values for ", columns_, " columns");
  char buf[64];
  for (size_t i = 0; i < values.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%.9g", values[i]);
    *out_ << (i ? "," : "") << buf;
  }
  *out_ << "\n" << std::flush;
  if (!*out_)
    return ioError("writing the loss curve '", path_, "' failed");
  return Status::ok();
}

Flags::Flags(std::string program, std::string about)
    : program_(std::move(program)), about_(std::move(about)) {}

void Flags::add(const std::string &name, int64_t &value, std::string help) {
  flags_.push_back({name, &value, std::move(help)});
}
void Flags::add(const std::string &name, double &value, std::string help) {
  flags_.push_back({name, &value, std::move(help)});
}
void Flags::add(const std::string &name, std::string &value, std::string help) {
  flags_.push_back({name, &value, std::move(help)});
}
void Flags::add(const std::string &name, bool &value, std::string help) {
  flags_.push_back({name, &value, std::move(help)});
}

bool Flags::given(const std::string &name) const {
  for (const Flag &f : flags_)
    if (f.name == name)
      return f.given;
  return false;
}

std::string Flags::usage() const {
  std::ostringstream os;
  os << program_ << ": " << about_ << "\nflags:\n";
  for (const Flag &f : flags_) {
    os << "  --" << f.name;
    std::visit(
        [&](auto *p) {
          using T = std::remove_pointer_t<decltype(p)>;
          if constexpr (std::is_same_v<T, bool>)
            os << "  (default " << (*p ? "on" : "off") << ")";
          else
            os << " <value>  (default " << (*p) << ")";
        },
        f.target);
    os << "\n      " << f.help << "\n";
  }
  return os.str();
}

Status Flags::parse(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      return Status::ok();
    }
    if (arg.rfind("--", 0) != 0)
      return invalidArgument("unexpected argument '", arg, "'\n", usage());
    std::string name = arg.substr(2), value;
    bool hasValue = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      hasValue = true;
    }
    bool negated = false;
    Flag *flag = nullptr;
    for (Flag &f : flags_)
      if (f.name == name)
        flag = &f;
    if (!flag && name.rfind("no-", 0) == 0)
      for (Flag &f : flags_)
        if (f.name == name.substr(3) && std::holds_alternative<bool *>(f.target)) {
          flag = &f;
          negated = true;
        }
    if (!flag)
      return invalidArgument("unknown flag '--", name, "'\n", usage());
    flag->given = true;
    if (auto *b = std::get_if<bool *>(&flag->target)) {
      if (!hasValue) {
        **b = !negated;
        continue;
      }
      if (value == "1" || value == "true" || value == "on")
        **b = !negated;
      else if (value == "0" || value == "false" || value == "off")
        **b = negated;
      else
        return invalidArgument("--", name, ": expected a boolean, got '",
                               value, "'");
      continue;
    }
    if (!hasValue) {
      if (i + 1 >= argc)
        return invalidArgument("--", name, " needs a value");
      value = argv[++i];
    }
    Status s = std::visit(
        [&](auto *p) -> Status {
          using T = std::remove_pointer_t<decltype(p)>;
          if constexpr (std::is_same_v<T, std::string>) {
            *p = value;
          } else if constexpr (!std::is_same_v<T, bool>) {
            T v{};
            const char *end = value.data() + value.size();
            auto [ptr, ec] = std::from_chars(value.data(), end, v);
            if (ec != std::errc() || ptr != end)
              return invalidArgument("--", name, ": '", value,
                                     "' is not a number");
            *p = v;
          }
          return Status::ok();
        },
        flag->target);
    if (!s.isOk())
      return s;
  }
  return Status::ok();
}

} // namespace kiln::examples
