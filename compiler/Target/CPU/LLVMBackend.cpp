//===- LLVMBackend.cpp - Optimizing and compiling kernels to x86-64 -------===//
//
// O3 through the new pass manager, with a TargetLibraryInfo that knows
// glibc's libmvec (VecLib LIBMVEC-X86). LLVM 19's LIBMVEC-X86 table maps
// only sin, cos, tan, exp, log and pow (scalar names and intrinsics); the
// rest of what the kernels call (tanh, erf, expm1, log1p) is in libmvec too
// (glibc >= 2.35) and is added here, AVX2 variants (_ZGVd...) only.
//
//===----------------------------------------------------------------------===//
#include "LLVMBackend.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/X86TargetParser.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <mutex>

namespace mlir::kiln::cpu {
namespace {

/// Features the runtime can check with cpuid before it maps the code; the
/// ones a CPU level implies beyond these (lzcnt, movbe, ...) come with them
/// on every CPU that has them.
constexpr llvm::StringLiteral kCheckedFeatures[] = {
    "sse4.2", "avx", "avx2", "fma", "bmi", "bmi2", "f16c",
    "avx512f", "avx512dq", "avx512bw", "avx512vl"};

void initializeX86() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

void addLibmvecMappings(llvm::TargetLibraryInfoImpl &tli, bool avx512) {
  struct Row {
    const char *scalar, *vector;
    unsigned lanes;
    const char *prefix;
    bool avx512 = false; // the "e" variants: only where the CPU has AVX-512
  };
  static const Row rows[] = {
      {"tanhf", "_ZGVdN8v_tanhf", 8, "_ZGV_LLVM_N8v"},
      {"tanh", "_ZGVdN4v_tanh", 4, "_ZGV_LLVM_N4v"},
      {"erff", "_ZGVdN8v_erff", 8, "_ZGV_LLVM_N8v"},
      {"erf", "_ZGVdN4v_erf", 4, "_ZGV_LLVM_N4v"},
      {"expm1f", "_ZGVdN8v_expm1f", 8, "_ZGV_LLVM_N8v"},
      {"expm1", "_ZGVdN4v_expm1", 4, "_ZGV_LLVM_N4v"},
      {"log1pf", "_ZGVdN8v_log1pf", 8, "_ZGV_LLVM_N8v"},
      {"log1p", "_ZGVdN4v_log1p", 4, "_ZGV_LLVM_N4v"},
      {"llvm.pow.f32", "_ZGVdN8vv_powf", 8, "_ZGV_LLVM_N8vv"},
      {"llvm.pow.f64", "_ZGVdN4vv_pow", 4, "_ZGV_LLVM_N4vv"},
      // AVX-512 ("e") variants, for targets with 512-bit vectors.
      {"tanhf", "_ZGVeN16v_tanhf", 16, "_ZGV_LLVM_N16v", true},
      {"tanh", "_ZGVeN8v_tanh", 8, "_ZGV_LLVM_N8v", true},
      {"erff", "_ZGVeN16v_erff", 16, "_ZGV_LLVM_N16v", true},
      {"erf", "_ZGVeN8v_erf", 8, "_ZGV_LLVM_N8v", true},
      {"expm1f", "_ZGVeN16v_expm1f", 16, "_ZGV_LLVM_N16v", true},
      {"expm1", "_ZGVeN8v_expm1", 8, "_ZGV_LLVM_N8v", true},
      {"log1pf", "_ZGVeN16v_log1pf", 16, "_ZGV_LLVM_N16v", true},
      {"log1p", "_ZGVeN8v_log1p", 8, "_ZGV_LLVM_N8v", true},
      {"llvm.exp.f32", "_ZGVeN16v_expf", 16, "_ZGV_LLVM_N16v", true},
      {"llvm.exp.f64", "_ZGVeN8v_exp", 8, "_ZGV_LLVM_N8v", true},
      {"llvm.log.f32", "_ZGVeN16v_logf", 16, "_ZGV_LLVM_N16v", true},
      {"llvm.log.f64", "_ZGVeN8v_log", 8, "_ZGV_LLVM_N8v", true},
      {"llvm.pow.f32", "_ZGVeN16vv_powf", 16, "_ZGV_LLVM_N16vv", true},
      {"llvm.pow.f64", "_ZGVeN8vv_pow", 8, "_ZGV_LLVM_N8vv", true},
  };
  std::vector<llvm::VecDesc> missing;
  for (const Row &r : rows) {
    if (r.avx512 && !avx512)
      continue;
    auto vf = llvm::ElementCount::getFixed(r.lanes);
    if (!tli.isFunctionVectorizable(r.scalar, vf))
      missing.emplace_back(r.scalar, r.vector, vf, /*Masked=*/false, r.prefix);
  }
  tli.addVectorizableFunctions(missing);
}

std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const TargetDescription &target, std::string &error) {
  const llvm::Target *t = llvm::TargetRegistry::lookupTarget(target.triple, error);
  if (!t)
    return nullptr;
  std::string features;
  for (const std::string &f : target.features)
    features += (features.empty() ? "+" : ",+") + f;
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> tm(t->createTargetMachine(
      target.triple, target.cpu, features, options, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    error = "cannot create a target machine for " + target.triple;
  return tm;
}

bool emit(llvm::TargetMachine &tm, llvm::Module &module,
          llvm::TargetLibraryInfoImpl &tli, llvm::CodeGenFileType type,
          llvm::SmallVectorImpl<char> &out, std::string &error) {
  llvm::raw_svector_ostream os(out);
  llvm::legacy::PassManager pm;
  pm.add(new llvm::TargetLibraryInfoWrapperPass(tli));
  if (tm.addPassesToEmitFile(pm, os, nullptr, type)) {
    error = "the x86-64 target cannot emit this file type";
    return false;
  }
  pm.run(module);
  return true;
}

} // namespace

bool describeTarget(llvm::StringRef cpu, TargetDescription &target,
                    std::string &error) {
  initializeX86();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  if (triple.getArch() != llvm::Triple::x86_64 || !triple.isOSLinux()) {
    error = "CPU code generation targets x86-64 Linux; this is " + triple.str();
    return false;
  }
  target.triple = triple.str();
  target.features.clear();
  llvm::StringSet<> enabled;
  if (cpu == "native") {
    target.cpu = llvm::sys::getHostCPUName().str();
    for (const auto &f : llvm::sys::getHostCPUFeatures())
      if (f.second)
        enabled.insert(f.first());
  } else {
    if (llvm::X86::parseArchX86(cpu, /*Only64Bit=*/true) ==
        llvm::X86::CK_None) {
      error = ("unknown x86-64 CPU '" + cpu +
               "' (try x86-64-v3, x86-64-v4, native or a CPU name)").str();
      return false;
    }
    target.cpu = cpu.str();
    llvm::SmallVector<llvm::StringRef> features;
    llvm::X86::getFeaturesForCPU(cpu, features, /*NeedPlus=*/false);
    llvm::StringMap<bool> implied; // avx2 implies avx, ...
    for (llvm::StringRef f : features) {
      enabled.insert(f);
      llvm::X86::updateImpliedFeatures(f, true, implied);
    }
    for (const auto &f : implied)
      if (f.second)
        enabled.insert(f.first());
  }
  for (llvm::StringRef f : kCheckedFeatures)
    if (enabled.contains(f))
      target.features.push_back(f.str());
  return true;
}

bool compileModule(llvm::Module &module, const TargetDescription &target,
                   std::vector<uint8_t> &object, std::string *assembly,
                   std::string *optimizedIR, std::string &error) {
  initializeX86();
  std::unique_ptr<llvm::TargetMachine> tm = createTargetMachine(target, error);
  if (!tm)
    return false;
  module.setTargetTriple(target.triple);
  module.setDataLayout(tm->createDataLayout());
  // LLVM tunes AVX-512 CPUs to prefer 256-bit vectors (against frequency
  // drops on early Skylake servers); these kernels are long, uniform loops
  // where the full width pays.
  if (llvm::is_contained(target.features, "avx512f"))
    for (llvm::Function &f : module)
      if (!f.isDeclaration())
        f.addFnAttr("prefer-vector-width", "512");
  {
    llvm::raw_string_ostream os(error);
    if (llvm::verifyModule(module, &os))
      return false; // a bug in the kernel emitter, reported, not a crash
  }

  llvm::Triple triple(target.triple);
  llvm::TargetLibraryInfoImpl tli(triple);
  tli.addVectorizableFunctionsFromVecLib(
      llvm::TargetLibraryInfoImpl::LIBMVEC_X86, triple);
  bool avx512 = llvm::is_contained(target.features, "avx512f");
  addLibmvecMappings(tli, avx512);

  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  tuning.LoopUnrolling = true;
  llvm::PassBuilder pb(tm.get(), tuning);
  fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tli); });
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm =
      pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(module, mam);

  if (optimizedIR) {
    llvm::raw_string_ostream os(*optimizedIR);
    module.print(os, nullptr);
  }
  if (assembly) {
    // Code generation rewrites IR in place: print from a copy.
    std::unique_ptr<llvm::Module> copy = llvm::CloneModule(module);
    llvm::SmallString<0> text;
    if (!emit(*tm, *copy, tli, llvm::CodeGenFileType::AssemblyFile, text, error))
      return false;
    assembly->assign(text.begin(), text.end());
  }
  llvm::SmallString<0> bytes;
  if (!emit(*tm, module, tli, llvm::CodeGenFileType::ObjectFile, bytes, error))
    return false;
  object.assign(bytes.begin(), bytes.end());
  return true;
}

} // namespace mlir::kiln::cpu
