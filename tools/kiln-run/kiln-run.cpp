//===- kiln-run.cpp - Run a compiled .kiln model --------------------------===//
//
//   kiln-run model.kiln [--function NAME]
//            [--input NAME=x.npy | --input x.npy]... [--random-inputs SEED]
//            [--output-dir DIR] [--compare expected.npy]... [--compare-dir DIR]
//            [--rtol R --atol A | --widen W] [--reference] [--bench N]
//            [--unprepared] [--profile] [--runs N]
//
// Inputs are matched by name (NAME=) or by position. --random-inputs fills
// the inputs not given: floats uniform in [-1, 1), integers and booleans
// zero. Prints every output, the worst error against --compare files (one
// per output, in order; exit code 1 beyond the tolerance) and, with
// --bench, the median and minimum latency of N runs after a warm-up run.
// Without --rtol/--atol each output is compared with DESIGN.md's tolerance
// for its dtype (integers and i1 exactly), multiplied by --widen (default
// 1) for graph-level comparisons. --reference runs the f64 oracle instead
// of the compiled plan (naive reference kernels; f64 outputs).
// --unprepared loads without preparing the library calls (LoadOptions::
// prepareLibraryCalls): GEMMs and convolutions then run op by op as in
// eager mode, for comparisons. --profile times every op of the dispatch
// list over all runs (the first included) and prints them, slowest first,
// with how each ran: generated native code, a prepared library call, or
// the op table (eager kernels). --runs N runs the function N times before
// printing and comparing (the last run's outputs): the steady state, where
// the arena is reused and the executor replays what it learned on the
// first run.
// .npy has no bf16, so bf16 outputs are written as f32.
// Links the runtime only: no MLIR, no LLVM.
//
//===----------------------------------------------------------------------===//
#include "kiln/Kiln.h"
#include "kiln/Random.h"
#include "kiln/Reference.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Options {
  std::string model, function, outputDir;
  std::vector<std::string> inputs, compare;
  std::string compareDir;
  long long randomSeed = -1;
  int bench = 0;
  double rtol = -1, atol = -1; // < 0: DESIGN.md's tolerance for the dtype
  double widen = 1;
  bool reference = false;
  bool prepare = true;
  bool profile = false;
  int runs = 1;
};

int usage(const char *msg) {
  std::fprintf(stderr,
               "kiln-run: %s\nusage: kiln-run model.kiln [--function NAME] "
               "[--input [NAME=]x.npy]... [--random-inputs SEED] "
               "[--output-dir DIR] [--compare expected.npy]... "
               "[--compare-dir DIR] [--rtol R --atol A | --widen W] "
               "[--reference] [--bench N] [--unprepared] [--profile] [--runs N]\n",
               msg);
  return 2;
}

bool parse(int argc, char **argv, Options &o, std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](const char *what) -> const char * {
      if (i + 1 >= argc) {
        error = std::string(what) + " needs a value";
        return nullptr;
      }
      return argv[++i];
    };
    const char *v = nullptr;
    if (a == "--function" && (v = next("--function")))
      o.function = v;
    else if (a == "--input" && (v = next("--input")))
      o.inputs.push_back(v);
    else if (a == "--compare" && (v = next("--compare")))
      o.compare.push_back(v);
    else if (a == "--compare-dir" && (v = next("--compare-dir")))
      o.compareDir = v;
    else if (a == "--widen" && (v = next("--widen")))
      o.widen = std::atof(v);
    else if (a == "--reference")
      o.reference = true;
    else if (a == "--unprepared")
      o.prepare = false;
    else if (a == "--profile")
      o.profile = true;
    else if (a == "--runs" && (v = next("--runs")))
      o.runs = std::max(1, std::atoi(v));
    else if (a == "--output-dir" && (v = next("--output-dir")))
      o.outputDir = v;
    else if (a == "--random-inputs" && (v = next("--random-inputs")))
      o.randomSeed = std::atoll(v);
    else if (a == "--bench" && (v = next("--bench")))
      o.bench = std::max(0, std::atoi(v));
    else if (a == "--rtol" && (v = next("--rtol")))
      o.rtol = std::atof(v);
    else if (a == "--atol" && (v = next("--atol")))
      o.atol = std::atof(v);
    else if (!a.empty() && a[0] != '-' && o.model.empty())
      o.model = a;
    else {
      if (error.empty())
        error = "unexpected argument '" + a + "'";
      return false;
    }
  }
  if (o.model.empty() && error.empty())
    error = "no model given";
  return error.empty();
}

kiln::Expected<std::vector<kiln::Tensor>> gatherInputs(const Options &o,
                                                       kiln::Session &s) {
  const auto &specs = s.inputs();
  std::vector<kiln::Tensor> in(specs.size());
  size_t positional = 0;
  for (const std::string &arg : o.inputs) {
    size_t eq = arg.find('=');
    size_t slot = positional;
    std::string path = arg;
    if (eq != std::string::npos) {
      std::string name = arg.substr(0, eq);
      path = arg.substr(eq + 1);
      auto it = std::find_if(specs.begin(), specs.end(),
                             [&](const kiln::TensorSpec &t) { return t.name == name; });
      if (it == specs.end())
        return kiln::notFound("the function has no input named '", name, "'");
      slot = size_t(it - specs.begin());
    } else {
      ++positional;
    }
    if (slot >= specs.size())
      return kiln::invalidArgument("too many inputs: the function takes ",
                                   specs.size());
    KILN_ASSIGN_OR_RETURN(in[slot], kiln::readNpy(path));
  }
  kiln::Generator gen(uint64_t(std::max(0LL, o.randomSeed)));
  for (size_t i = 0; i < specs.size(); ++i) {
    if (in[i].defined())
      continue;
    if (o.randomSeed < 0)
      return kiln::invalidArgument("input #", i, " (", specs[i].name,
                                   ") not given; pass --input or --random-inputs");
    if (kiln::isFloat(specs[i].dtype)) {
      KILN_ASSIGN_OR_RETURN(in[i], gen.uniform(specs[i].shape, -1.0, 1.0,
                                               specs[i].dtype));
    } else {
      KILN_ASSIGN_OR_RETURN(in[i], kiln::Tensor::zeros(specs[i].shape, specs[i].dtype));
    }
  }
  return in;
}

/// Worst |a - b| and whether every element is within atol + rtol * |b|.
kiln::Expected<bool> compare(const kiln::Tensor &got, const kiln::Tensor &want,
                             const Options &o, size_t index) {
  kiln::ref::Tolerance dflt = kiln::ref::toleranceFor(got.dtype());
  double rtol = o.rtol >= 0 ? o.rtol : dflt.rtol * o.widen;
  double atol = o.atol >= 0 ? o.atol : dflt.atol * o.widen;
  if (got.shape() != want.shape())
    return kiln::invalidArgument("output #", index, " has shape ",
                                 kiln::shapes::toString(got.shape()),
                                 ", the expected file ",
                                 kiln::shapes::toString(want.shape()));
  std::vector<double> g = got.toDoubles(), w = want.toDoubles();
  double worst = 0, worstExcess = -1;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    double err = std::fabs(g[i] - w[i]);
    double excess;
    if (std::isnan(g[i]) != std::isnan(w[i])) {
      // Set outright: with w NaN, atol + rtol * |w| is NaN too, and a NaN
      // excess would never count as the worst.
      err = excess = INFINITY;
    } else if (std::isnan(g[i])) {
      err = 0;
      excess = -INFINITY;
    } else {
      excess = err - (atol + rtol * std::fabs(w[i]));
    }
    if (err > worst || excess > worstExcess) {
      if (excess > worstExcess) {
        worstExcess = excess;
        at = i;
      }
      worst = std::max(worst, err);
    }
  }
  bool ok = g.empty() || worstExcess <= 0;
  std::printf("output #%zu vs expected: max abs error %.3g (worst element %zu: "
              "got %.9g, want %.9g) %s (rtol %g, atol %g)\n",
              index, worst, at, g.empty() ? 0.0 : g[at], w.empty() ? 0.0 : w[at],
              ok ? "OK" : "MISMATCH", rtol, atol);
  return ok;
}

/// The ops slowest first, with their share of the summed time.
void printProfile(const std::vector<kiln::OpProfile> &ops) {
  double total = 0;
  for (const kiln::OpProfile &p : ops)
    total += p.seconds;
  std::vector<size_t> order(ops.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return ops[a].seconds > ops[b].seconds;
  });
  std::printf("profile: %zu ops, %.1f us per run in ops\n", ops.size(),
              ops.empty() || ops[0].runs == 0 ? 0.0
                                              : total / double(ops[0].runs) * 1e6);
  std::printf("  %6s %10s  %-4s %-16s %s\n", "share", "us/run", "#", "op", "how");
  for (size_t i : order) {
    const kiln::OpProfile &p = ops[i];
    std::printf("  %5.1f%% %10.1f  %-4zu %-16s %s\n",
                total > 0 ? 100 * p.seconds / total : 0.0,
                p.runs ? p.seconds / double(p.runs) * 1e6 : 0.0, i,
                p.op.c_str(), p.how.c_str());
  }
}

kiln::Status run(const Options &o, int &exitCode) {
  kiln::LoadOptions loadOptions;
  loadOptions.prepareLibraryCalls = o.prepare;
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<kiln::Module> module,
                        kiln::Module::load(o.model, loadOptions));
  std::vector<std::string> names = module->functionNames();
  std::string fn = o.function.empty() ? names.front() : o.function;
  kiln::SessionOptions sessionOptions;
  sessionOptions.reference = o.reference;
  sessionOptions.profile = o.profile && !o.reference;
  KILN_ASSIGN_OR_RETURN(kiln::Session session,
                        module->newSession(fn, sessionOptions));
  KILN_ASSIGN_OR_RETURN(std::vector<kiln::Tensor> inputs, gatherInputs(o, session));
  KILN_ASSIGN_OR_RETURN(std::vector<kiln::Tensor> outputs, session.run(inputs));
  for (int r = 1; r < o.runs; ++r) {
    KILN_ASSIGN_OR_RETURN(outputs, session.run(inputs));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::printf("output #%zu: %s\n", i, outputs[i].toString().c_str());
    if (!o.outputDir.empty()) {
      // .npy has no bf16: those outputs are written widened to f32 (exact).
      kiln::Tensor out = outputs[i];
      if (out.dtype() == kiln::DType::BF16) {
        KILN_ASSIGN_OR_RETURN(out, out.to(kiln::DType::F32));
      }
      KILN_RETURN_IF_ERROR(kiln::writeNpy(
          o.outputDir + "/output" + std::to_string(i) + ".npy", out));
    }
  }
  std::vector<std::string> expected = o.compare;
  if (!o.compareDir.empty())
    for (size_t i = 0; i < outputs.size(); ++i)
      expected.push_back(o.compareDir + "/output" + std::to_string(i) + ".npy");
  if (!expected.empty()) {
    if (expected.size() != outputs.size())
      return kiln::invalidArgument(expected.size(), " expected files for ",
                                   outputs.size(), " outputs");
    for (size_t i = 0; i < outputs.size(); ++i) {
      KILN_ASSIGN_OR_RETURN(kiln::Tensor want, kiln::readNpy(expected[i]));
      KILN_ASSIGN_OR_RETURN(bool ok, compare(outputs[i], want, o, i));
      if (!ok)
        exitCode = 1;
    }
  }
  if (o.bench > 0) {
    std::vector<double> us;
    for (int i = 0; i < o.bench; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      KILN_ASSIGN_OR_RETURN(auto ignored, session.run(inputs));
      (void)ignored;
      us.push_back(std::chrono::duration<double, std::micro>(
                       std::chrono::steady_clock::now() - t0)
                       .count());
    }
    std::sort(us.begin(), us.end());
    std::printf("latency over %d runs: median %.1f us, min %.1f us "
                "(arena %zu bytes)\n",
                o.bench, us[us.size() / 2], us.front(), session.arenaBytes());
  }
  if (sessionOptions.profile)
    printProfile(session.profile());
  return kiln::Status::ok();
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  std::string error;
  if (!parse(argc, argv, o, error))
    return usage(error.c_str());
  int exitCode = 0;
  kiln::Status status = run(o, exitCode);
  if (!status.isOk()) {
    std::fprintf(stderr, "kiln-run: error: %s\n", status.toString().c_str());
    return 1;
  }
  return exitCode;
}
