//===- kiln-compile.cpp - kiln IR to a .kiln file -------------------------===//
//
//   kiln-compile model.mlir -o model.kiln [--weights-dir DIR | --random-weights SEED]
//   kiln-compile model.onnx -o model.kiln [--input-shape x=1x3x224x224]...
//                [--input-dim batch=1]...
//                [--precision=f32|f16|bf16] [--no-fusion] [--no-in-place]
//                [--report] [--emit-mlir] [--time-phases] [--conv-layout=nhwc|nchw]
//                [--cpu=x86-64-v4,x86-64-v3|native|none] [--emit-asm] [--emit-llvm]
//
// Parses and verifies the graph, runs the compile pipeline
// (compiler/Pipelines) and writes the .kiln file. Parameter values come
// from DIR/<name>.npy (dtype and shape checked) or, with --random-weights,
// from a seeded uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) draw (integer
// parameters: zeros): for tests and benchmarks, never silently.
// Fused kernels become native code (compiler/Target/CPU) for each --cpu
// target (by default AVX-512 and AVX2 copies; the runtime loads the first
// the host runs); --cpu=none leaves every fused kernel to the runtime's
// op-by-op path.
// A .onnx input is imported by frontends/onnx first (initializers become
// constants; symbolic input dims are bound with --input-shape/--input-dim).
// --time-phases prints the wall time of each phase and pass (MLIR's timing
// report): bench/compiled/encoder_compile_time.py uses it.
//
//===----------------------------------------------------------------------===//
#include "kiln/Compiler/Pipelines/Pipeline.h"
// Two `kiln` namespaces meet here: ::kiln (the runtime: tensors, .npy) and
// mlir::kiln (the dialect and compiler); names below are always qualified.
#include "kiln/Compiler/Serialize/KilnWriter.h"
#include "kiln/Compiler/Target/CPU/CPUCodegen.h"
#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Frontends/ONNX/ImportONNX.h"
#include "kiln/Npy.h"
#include "kiln/Random.h"
#include "kiln/Support/Shapes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("<model.mlir | model.onnx>"),
                                      cl::Required);
static cl::opt<std::string> outputFile("o", cl::desc("Output .kiln file"),
                                       cl::value_desc("file"), cl::Required);
static cl::opt<std::string> weightsDir(
    "weights-dir", cl::desc("Directory with one <parameter name>.npy per parameter"),
    cl::value_desc("dir"));
static cl::opt<bool> timePhases(
    "time-phases",
    cl::desc("Print the wall time of each phase: parsing or import, every "
             "pass of the pipeline, CPU code generation, weights and writing"));

static cl::opt<int64_t> randomWeights(
    "random-weights", cl::desc("Fill parameters from a seeded uniform draw"),
    cl::value_desc("seed"), cl::init(-1));
static cl::opt<bool> noFusion("no-fusion", cl::desc("Do not fuse kernels"));
static cl::opt<bool> noInPlace("no-in-place",
                               cl::desc("Never let a kernel overwrite its input"));
static cl::opt<std::string> precision(
    "precision", cl::desc("Storage precision: f32 (default), f16 or bf16"),
    cl::init("f32"));
static cl::opt<bool> report("report",
                            cl::desc("Print the kernels formed and the memory plan"));
static cl::opt<bool> emitMlir("emit-mlir",
                              cl::desc("Also print the compiled IR to stdout"));
static cl::opt<std::string> convLayout(
    "conv-layout",
    cl::desc("Activation layout of convolution chains: nhwc (channels last, "
             "the default) or nchw (as imported)"),
    cl::value_desc("layout"), cl::init("nhwc"));
static cl::opt<std::string> cpu(
    "cpu",
    cl::desc("CPUs the fused kernels are compiled for, best first, comma-"
             "separated: x86-64-v4 (AVX-512), x86-64-v3 (AVX2+FMA), native, "
             "other x86 CPU names; the runtime loads the first its CPU runs. "
             "none: run them op by op"),
    cl::value_desc("cpu[,cpu...]"), cl::init("x86-64-v4,x86-64-v3"));
static cl::opt<bool> emitAsm(
    "emit-asm", cl::desc("Also print the generated kernels' assembly to stdout"));
static cl::opt<bool> emitLlvm(
    "emit-llvm",
    cl::desc("Also print the generated kernels' optimized LLVM IR to stdout"));
static cl::list<std::string> inputShapes(
    "input-shape", cl::desc("ONNX input shape NAME=D0xD1x... (binds symbolic dims)"),
    cl::value_desc("name=shape"));
static cl::list<std::string> inputDims(
    "input-dim", cl::desc("ONNX symbolic dim NAME=VALUE"),
    cl::value_desc("name=value"));

/// Writes a parameter's bytes, from --weights-dir or --random-weights, into
/// `out` (its place in the payload).
static LogicalResult parameterBytes(Location loc, StringRef name,
                                    RankedTensorType type,
                                    llvm::MutableArrayRef<uint8_t> out) {
  auto dtypeOf = [](Type t) -> std::optional<::kiln::DType> {
    if (t.isF64()) return ::kiln::DType::F64;
    if (t.isF32()) return ::kiln::DType::F32;
    if (t.isF16()) return ::kiln::DType::F16;
    if (t.isBF16()) return ::kiln::DType::BF16;
    if (t.isInteger(64)) return ::kiln::DType::I64;
    if (t.isInteger(32)) return ::kiln::DType::I32;
    if (t.isInteger(8)) return ::kiln::DType::I8;
    if (t.isInteger(1)) return ::kiln::DType::Bool;
    return std::nullopt;
  };
  auto dtype = dtypeOf(type.getElementType());
  if (!dtype)
    return emitError(loc) << "parameter '" << name << "' has unsupported type " << type;
  ::kiln::Shape shape(type.getShape().begin(), type.getShape().end());
  ::kiln::Expected<::kiln::Tensor> tensor = ::kiln::Tensor();
  if (!weightsDir.empty()) {
    std::string path = weightsDir + "/" + name.str() + ".npy";
    tensor = ::kiln::readNpy(path);
    if (!tensor)
      return emitError(loc) << "parameter '" << name
                            << "': " << tensor.status().toString();
    // Mixed precision stores weights in f16/bf16; f32 files convert.
    if (tensor->dtype() == ::kiln::DType::F32 && *dtype != ::kiln::DType::F32 &&
        ::kiln::isFloat(*dtype) && tensor->shape() == shape) {
      tensor = tensor->to(*dtype);
      if (!tensor)
        return emitError(loc) << tensor.status().toString();
    }
    if (tensor->dtype() != *dtype || tensor->shape() != shape)
      return emitError(loc) << "parameter '" << name << "': " << path
                            << " holds " << std::string(::kiln::dtypeName(tensor->dtype()))
                            << " " << ::kiln::shapes::toString(tensor->shape())
                            << ", the graph wants " << type;
  } else if (randomWeights >= 0) {
    if (!::kiln::isFloat(*dtype)) {
      // Integer parameters (step counters, index tables) get zeros: random
      // integers would mostly be out-of-range indices.
      std::fill(out.begin(), out.end(), uint8_t(0));
      return success();
    }
    // Seeded per parameter name so adding a parameter keeps the others.
    uint64_t seed = uint64_t(randomWeights) ^ llvm::hash_value(name);
    int64_t fanIn = type.getRank() >= 2 ? type.getNumElements() / type.getShape()[0]
                                        : std::max<int64_t>(1, type.getNumElements());
    double bound = 1.0 / std::sqrt(double(std::max<int64_t>(fanIn, 1)));
    ::kiln::Generator gen(seed);
    tensor = gen.uniform(shape, -bound, bound, *dtype);
    if (!tensor)
      return emitError(loc) << tensor.status().toString();
  } else {
    return emitError(loc) << "parameter '" << name
                          << "' has no value: pass --weights-dir DIR (with "
                          << name << ".npy) or --random-weights SEED";
  }
  auto dense = tensor->contiguous();
  if (!dense)
    return emitError(loc) << dense.status().toString();
  size_t bytes = size_t(dense->numel()) * dense->elementSize();
  if (bytes != out.size())
    return emitError(loc) << "parameter '" << name << "' has " << bytes
                          << " bytes, expected " << out.size();
  if (bytes > 0)
    std::memcpy(out.data(), dense->rawData(), bytes);
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "Kiln compiler: kiln IR -> .kiln\n");
  if (convLayout != "nhwc" && convLayout != "nchw") {
    llvm::errs() << "kiln-compile: --conv-layout must be nhwc or nchw, got '"
                 << convLayout << "'\n";
    return 1;
  }

  DialectRegistry registry;
  registry.insert<mlir::kiln::KilnDialect, func::FuncDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Diagnostics point at the source line; the op dump adds only noise here.
  context.printOpOnDiagnostic(false);

  DefaultTimingManager timing;
  timing.setEnabled(timePhases);
  TimingScope rootTimer = timing.getRootScope();
  TimingScope importTimer = rootTimer.nest(
      StringRef(inputFile).ends_with(".onnx") ? "ONNX import" : "parse");

  std::string error;
  OwningOpRef<ModuleOp> module;
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  if (StringRef(inputFile).ends_with(".onnx")) {
    mlir::kiln::onnx::ImportOptions importOptions;
    for (const std::string &s : inputShapes)
      if (auto e = mlir::kiln::onnx::parseInputShape(s, importOptions)) {
        llvm::errs() << "kiln-compile: " << *e << "\n";
        return 1;
      }
    for (const std::string &s : inputDims)
      if (auto e = mlir::kiln::onnx::parseInputDim(s, importOptions)) {
        llvm::errs() << "kiln-compile: " << *e << "\n";
        return 1;
      }
    auto imported =
        mlir::kiln::onnx::importONNXFile(inputFile, &context, importOptions);
    if (failed(imported))
      return 1;
    module = std::move(*imported);
  } else {
    auto file = openInputFile(inputFile, &error);
    if (!file) {
      llvm::errs() << "kiln-compile: " << error << "\n";
      return 1;
    }
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!module)
      return 1;
  }

  importTimer.stop();

  PassManager pm(&context);
  TimingScope pipelineTimer = rootTimer.nest("pipeline");
  pm.enableTiming(pipelineTimer);
  mlir::kiln::PipelineOptions options;
  options.fusion.setValue(!noFusion);
  options.report.setValue(report);
  options.inPlace.setValue(!noInPlace);
  options.precision.setValue(precision);
  options.convLayout.setValue(convLayout);
  mlir::kiln::buildPipeline(pm, options);
  if (failed(pm.run(*module)))
    return 1;
  pipelineTimer.stop();
  if (emitMlir)
    module->print(llvm::outs());

  mlir::kiln::CPUCodegenResult native;
  TimingScope codegenTimer = rootTimer.nest("CPU code generation");
  if (cpu != "none") {
    mlir::kiln::CPUCodegenOptions cpuOptions;
    cpuOptions.cpu = cpu;
    if (failed(mlir::kiln::generateCPUCode(*module, cpuOptions, native,
                                           emitAsm, emitLlvm)))
      return 1;
    if (report)
      mlir::kiln::printCPUCodegenReport(*module, native, llvm::errs());
    if (emitLlvm)
      llvm::outs() << native.optimizedIR;
    if (emitAsm)
      llvm::outs() << native.assembly;
  }

  codegenTimer.stop();

  TimingScope writeTimer = rootTimer.nest("weights and .kiln file");
  auto source = [&](StringRef name, RankedTensorType type,
                    llvm::MutableArrayRef<uint8_t> out) {
    TimingScope t = writeTimer.nest("parameters (read or generate)");
    return parameterBytes(module->getLoc(), name, type, out);
  };
  size_t written = 0;
  auto sink = [&](llvm::ArrayRef<llvm::ArrayRef<uint8_t>> pieces) -> LogicalResult {
    // A temporary file renamed over the target: the runtime maps .kiln
    // files (Module::load), so rewriting one in place under a running host
    // would change verified bytes or truncate its mapping (SIGBUS).
    TimingScope t = writeTimer.nest("write the file");
    if (llvm::Error e = llvm::writeToOutput(outputFile, [&](llvm::raw_ostream &os) {
          for (llvm::ArrayRef<uint8_t> piece : pieces) {
            os.write(reinterpret_cast<const char *>(piece.data()), piece.size());
            written += piece.size();
          }
          return llvm::Error::success();
        })) {
      llvm::errs() << "kiln-compile: cannot write the output: "
                   << llvm::toString(std::move(e)) << "\n";
      return failure();
    }
    return success();
  };
  if (failed(mlir::kiln::writeKilnFile(*module, source, sink, native.code)))
    return 1;
  writeTimer.stop();
  if (report)
    llvm::errs() << "wrote " << outputFile << " (" << written << " bytes)\n";
  return 0;
}
