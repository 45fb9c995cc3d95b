//===- kiln-cuda-compile.cpp - CUDA C for a graph's fused kernels ---------===//
//
//   kiln-cuda-compile model.mlir [--precision f16] --emit-cuda   (print CUDA C)
//   kiln-cuda-compile model.mlir --report                        (one line per fusion)
//   kiln-cuda-compile model.mlir --validate --arch 80,90 [--ptxas PATH]
//   kiln-cuda-compile model.mlir --run [--repeats 20] [--require-gpu]
//   kiln-cuda-compile model.mlir --emulate [--host-cxx c++]
//
// Runs the compile pipeline, generates the CUDA C of every fused kernel
// (compiler/Target/CUDA) and, with --validate, compiles it with NVRTC to PTX
// for each architecture and assembles the PTX with ptxas, printing each
// kernel's registers, spills and shared memory. No GPU or driver needed:
// this is how CI checks the CUDA backend. --run needs a GPU (RunOnDevice.h);
// without one it says why and exits 0. Exit status 1 on any failure.
//
//===----------------------------------------------------------------------===//
#include "RunOnDevice.h"

#include "kiln/Compiler/Pipelines/Pipeline.h"
#include "kiln/Compiler/Target/CUDA/CUDACodegen.h"
#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/cuda/Nvrtc.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"

#include <fstream>
#include <regex>
#include <sstream>

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::Required);
static cl::opt<std::string> precision("precision",
                                      cl::desc("f32 (default), f16 or bf16"),
                                      cl::init("f32"));
static cl::opt<bool> emitCuda("emit-cuda", cl::desc("Print the CUDA C"));
static cl::opt<bool> report("report", cl::desc("Print one line per fusion"));
static cl::opt<bool> validate("validate",
                              cl::desc("Compile with NVRTC, assemble with ptxas"));
static cl::list<int> archs("arch", cl::desc("Compute capabilities (80,90)"),
                           cl::CommaSeparated);
static cl::opt<std::string> ptxasPath("ptxas", cl::desc("ptxas to run"),
                                      cl::init(""));
static cl::opt<bool> runKernels(
    "run", cl::desc("Run every kernel on cuda:0: check against the CPU "
                    "backend and the _vec variant, print GB/s"));
static cl::opt<bool> emulate(
    "emulate", cl::desc("Run every kernel on host threads (no GPU) and "
                        "compare with the runtime"));
static cl::opt<std::string> hostCxx("host-cxx",
                                    cl::desc("C++ compiler for --emulate"),
                                    cl::init(KILN_HOST_CXX));
static cl::opt<int> repeats("repeats", cl::desc("Timed launches per kernel"),
                            cl::init(20));
static cl::opt<bool> requireGpu(
    "require-gpu", cl::desc("With --run: fail when there is no GPU"));
static cl::opt<bool> requireAll(
    "require-all", cl::desc("Fail when a fusion falls back to op by op"));

namespace {

/// ptxas -v prints, per function:
///   ptxas info    : Function properties for kiln_cuda_kernel_0
///       0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
///   ptxas info    : Used 12 registers, used 0 barriers, 128 bytes smem, ...
std::string summarizePtxas(const std::string &log) {
  std::regex fn(R"(Compiling entry function '([^']+)')");
  std::regex spills(R"((\d+) bytes spill stores, (\d+) bytes spill loads)");
  std::regex regs(R"(Used (\d+) registers)");
  std::regex smem(R"((\d+) bytes smem)");
  std::istringstream in(log);
  std::string line, current, out;
  std::string spill = "?";
  for (; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, fn)) {
      current = m[1];
      spill = "?";
    } else if (std::regex_search(line, m, spills)) {
      spill = std::string(m[1]) + "/" + std::string(m[2]);
    } else if (std::regex_search(line, m, regs) && !current.empty()) {
      std::smatch s;
      std::string shared =
          std::regex_search(line, s, smem) ? std::string(s[1]) : "0";
      out += "  " + current + ": " + std::string(m[1]) + " registers, spill " +
             "stores/loads " + spill + " bytes, " + shared + " bytes smem\n";
      current.clear();
    }
  }
  return out;
}

bool runPtxas(const std::string &ptxas, const std::string &ptx, int arch,
              std::string &log) {
  llvm::SmallString<128> ptxFile, outFile, logFile;
  if (llvm::sys::fs::createTemporaryFile("kiln-cuda", "ptx", ptxFile) ||
      llvm::sys::fs::createTemporaryFile("kiln-cuda", "cubin", outFile) ||
      llvm::sys::fs::createTemporaryFile("kiln-cuda", "log", logFile)) {
    log = "cannot create temporary files";
    return false;
  }
  {
    std::ofstream f(ptxFile.c_str(), std::ios::binary);
    f << ptx;
  }
  std::string archFlag = "-arch=sm_" + std::to_string(arch);
  llvm::SmallVector<llvm::StringRef> args = {ptxas, archFlag, "-v", "-o",
                                             outFile, ptxFile};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logFile.str(),
                                                logFile.str()};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects, 120,
                                     0, &error);
  std::ifstream lf(logFile.c_str());
  std::stringstream ss;
  ss << lf.rdbuf();
  log = ss.str() + error;
  llvm::sys::fs::remove(ptxFile);
  llvm::sys::fs::remove(outFile);
  llvm::sys::fs::remove(logFile);
  return rc == 0;
}

int validateSource(const std::string &source, llvm::StringRef programName) {
  auto nvrtc = ::kiln::cuda::NvrtcCompiler::get();
  if (!nvrtc.ok()) {
    llvm::errs() << "kiln-cuda-compile: " << nvrtc.status().toString() << "\n";
    return 1;
  }
  std::string ptxas = ptxasPath;
  if (ptxas.empty()) {
    auto found = llvm::sys::findProgramByName("ptxas", {"/usr/local/cuda/bin"});
    if (!found) {
      llvm::errs() << "kiln-cuda-compile: no ptxas (pass --ptxas)\n";
      return 1;
    }
    ptxas = *found;
  }
  std::vector<int> targets(archs.begin(), archs.end());
  if (targets.empty())
    targets = {80, 90};
  int failures = 0;
  for (int arch : targets) {
    ::kiln::cuda::CompileOptions options;
    options.arch = arch;
    auto ptx = (*nvrtc)->compile(source, programName.str(), options);
    if (!ptx.ok()) {
      llvm::errs() << "sm_" << arch << ": " << ptx.status().toString() << "\n";
      ++failures;
      continue;
    }
    if (!ptx->log.empty()) {
      // Generated code should compile cleanly; a warning is a backend bug.
      llvm::errs() << "sm_" << arch << ": NVRTC warnings:\n" << ptx->log << "\n";
      ++failures;
    }
    std::string log;
    if (!runPtxas(ptxas, ptx->image, arch, log)) {
      llvm::errs() << "sm_" << arch << ": ptxas failed:\n" << log << "\n";
      ++failures;
      continue;
    }
    llvm::outs() << "sm_" << arch << ": NVRTC " << (*nvrtc)->version().first
                 << "." << (*nvrtc)->version().second << " + ptxas OK ("
                 << ptx->image.size() << " bytes of PTX)\n"
                 << summarizePtxas(log);
  }
  return failures ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "Kiln CUDA code generation and validation\n");
  DialectRegistry registry;
  registry.insert<mlir::kiln::KilnDialect, func::FuncDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  context.printOpOnDiagnostic(false);

  std::string error;
  auto file = openInputFile(inputFile, &error);
  if (!file) {
    llvm::errs() << "kiln-cuda-compile: " << error << "\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;
  PassManager pm(&context);
  mlir::kiln::PipelineOptions options;
  options.precision.setValue(precision);
  // NHWC convolutions are a CPU layout (oneDNN's and Kiln's CPU kernels).
  options.convLayout.setValue("nchw");
  mlir::kiln::buildPipeline(pm, options);
  if (failed(pm.run(*module)))
    return 1;

  mlir::kiln::CUDACodegenResult result;
  if (failed(mlir::kiln::generateCUDACode(*module, result)))
    return 1;
  if (report || validate)
    mlir::kiln::printCUDACodegenReport(*module, result, llvm::outs());
  if (emitCuda)
    llvm::outs() << result.source;
  if (requireAll && !result.fallbacks.empty()) {
    llvm::errs() << "kiln-cuda-compile: " << result.fallbacks.size()
                 << " fusion(s) have no CUDA kernel\n";
    return 1;
  }
  if (validate && !result.source.empty())
    if (int rc = validateSource(result.source, llvm::sys::path::filename(inputFile)))
      return rc;
  if (emulate && !result.source.empty())
    if (int rc = mlir::kiln::emulateOnHost(*module, result, hostCxx))
      return rc;
  if (runKernels && !result.source.empty()) {
    int rc = mlir::kiln::runOnDevice(*module, result, repeats);
    // No GPU is not an error unless asked (CI machines have none).
    return rc == 2 ? (requireGpu ? 1 : 0) : rc;
  }
  return 0;
}
