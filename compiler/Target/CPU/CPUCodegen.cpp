//===- CPUCodegen.cpp - Native x86-64 code for fused kernels --------------===//
//
// The driver: pick the fusions, check that the memory plan lets each one
// run as a single pass over its elements (a loop kernel) or over its rows
// (a row-reduction kernel), emit one LLVM function per distinct fusion,
// compile and link, and tag the fusions for the writer.
//
//===----------------------------------------------------------------------===//
#include "kiln/Compiler/Target/CPU/CPUCodegen.h"

#include "KernelEmitter.h"
#include "LLVMBackend.h"
#include "SharedObjectLinker.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <map>

using namespace mlir;
using namespace mlir::kiln;

namespace {

constexpr StringLiteral kSymbolAttr = "kiln.cpu_symbol";
constexpr StringLiteral kOuterAttr = "kiln.cpu_outer";
constexpr StringLiteral kGrainAttr = "kiln.cpu_grain";

int64_t elementBytes(Type t) {
  unsigned bits = cast<ShapedType>(t).getElementTypeBitWidth();
  return bits == 1 ? 1 : bits / 8;
}

/// Arena offset of `v` from the memory plan, or -1.
int64_t arenaOffset(Value v) {
  auto result = dyn_cast<OpResult>(v);
  if (!result)
    return -1;
  auto offsets =
      result.getOwner()->getAttrOfType<DenseI64ArrayAttr>("kiln.offsets");
  unsigned i = result.getResultNumber();
  return offsets && int64_t(i) < offsets.size() ? offsets[i] : -1;
}

/// A kernel reads element i of every input and then writes element i of
/// every result (a row kernel: it reads its row's elements, then writes
/// them or the row's one result). That is safe when a result shares arena
/// bytes with an input only as the same tensor layout at the same offset
/// (in-place reuse); anything else would let a write clobber an element
/// still to be read.
bool aliasingIsElementwise(FusionOp fusion, std::string &why) {
  for (Value r : fusion.getResults()) {
    int64_t ro = arenaOffset(r);
    if (ro < 0)
      continue;
    auto rt = cast<RankedTensorType>(r.getType());
    int64_t rbytes = rt.getNumElements() * elementBytes(rt);
    for (auto [in, arg] :
         llvm::zip(fusion.getInputs(), fusion.getBodyBlock().getArguments())) {
      int64_t io = arenaOffset(in);
      if (io < 0)
        continue;
      auto it = cast<RankedTensorType>(in.getType());
      int64_t ibytes = it.getNumElements() * elementBytes(it);
      bool overlap = io < ro + rbytes && ro < io + ibytes;
      // A slice reads its input at an offset: never in step with the result.
      bool readAtOffset = llvm::any_of(
          arg.getUsers(), [](Operation *u) { return isa<SliceOp>(u); });
      if (overlap && (readAtOffset || !(io == ro && it.getShape() == rt.getShape() &&
                                        elementBytes(it) == elementBytes(rt)))) {
        why = "a result overlaps an input in the arena with another layout";
        return false;
      }
    }
  }
  return true;
}

/// Identical fusions (same body, same types) share a kernel: the key is the
/// fusion printed without the memory plan's annotations.
std::string kernelKey(FusionOp fusion) {
  DictionaryAttr saved = fusion->getAttrDictionary();
  SmallVector<NamedAttribute> semantic;
  for (NamedAttribute a : saved)
    if (!a.getName().strref().starts_with("kiln."))
      semantic.push_back(a);
  fusion->setAttrs(semantic);
  std::string key;
  llvm::raw_string_ostream os(key);
  fusion->print(os, OpPrintingFlags().printGenericOpForm().useLocalScope());
  fusion->setAttrs(saved);
  return key;
}

} // namespace

LogicalResult mlir::kiln::generateCPUCode(ModuleOp module,
                                          const CPUCodegenOptions &options,
                                          CPUCodegenResult &result,
                                          bool wantAssembly, bool wantIR) {
  SmallVector<cpu::TargetDescription> targets;
  std::string error;
  SmallVector<StringRef> names;
  StringRef(options.cpu).split(names, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (StringRef name : names) {
    cpu::TargetDescription target;
    if (!cpu::describeTarget(name.trim(), target, error))
      return module.emitError("CPU code generation: ") << error;
    targets.push_back(std::move(target));
  }
  if (targets.empty())
    return module.emitError("CPU code generation: no target CPU given");

  llvm::LLVMContext ctx;
  auto llvmModule = std::make_unique<llvm::Module>("kiln_kernels", ctx);
  std::map<std::string, std::pair<std::string, cpu::KernelLaunch>> kernels;
  std::vector<std::string> symbols;
  SmallVector<std::pair<FusionOp, std::string>> tagged;
  Builder builder(module.getContext());

  module.walk([&](FusionOp fusion) {
    std::string why;
    if (!aliasingIsElementwise(fusion, why)) {
      result.fallbacks.push_back({fusion, why});
      return;
    }
    std::string key = kernelKey(fusion);
    auto it = kernels.find(key);
    if (it == kernels.end()) {
      std::string symbol = "kiln_kernel_" + std::to_string(kernels.size());
      std::optional<cpu::KernelLaunch> launch;
      if (fusion.getKind() == "loop")
        launch = cpu::emitLoopKernel(fusion, *llvmModule, symbol, why);
      else if (fusion.getKind() == "reduction")
        launch = cpu::emitRowReductionKernel(fusion, *llvmModule, symbol, why);
      else
        why = ("a \"" + fusion.getKind() + "\" fusion (only \"loop\" and "
               "\"reduction\" fusions are generated)").str();
      if (!launch) {
        result.fallbacks.push_back({fusion, why});
        return;
      }
      it = kernels.insert({key, {symbol, *launch}}).first;
      symbols.push_back(symbol);
    }
    const auto &[symbol, launch] = it->second;
    fusion->setAttr(kSymbolAttr, builder.getStringAttr(symbol));
    fusion->setAttr(kOuterAttr, builder.getI64IntegerAttr(launch.outer));
    fusion->setAttr(kGrainAttr, builder.getI64IntegerAttr(launch.grain));
    ++result.fusionsGenerated;
  });
  if (kernels.empty())
    return success();

  // The kernels' IR is the same for every target (a copy each, since
  // optimization rewrites it); each target's features steer the vectorizer.
  for (const cpu::TargetDescription &target : targets) {
    std::unique_ptr<llvm::Module> copy = llvm::CloneModule(*llvmModule);
    std::string assembly, ir;
    std::vector<uint8_t> object;
    NativeCode code;
    if (!cpu::compileModule(*copy, target, object,
                            wantAssembly ? &assembly : nullptr,
                            wantIR ? &ir : nullptr, error) ||
        !cpu::linkSharedObject(object, code.sharedObject, error))
      return module.emitError("CPU code generation: ") << error;
    std::string header = "; kiln-compile: kernels for " + target.cpu + "\n";
    if (wantAssembly)
      result.assembly += (targets.size() > 1 ? header : "") + assembly;
    if (wantIR)
      result.optimizedIR += (targets.size() > 1 ? header : "") + ir;
    code.triple = target.triple;
    code.cpu = target.cpu;
    code.features = target.features;
    code.symbols = symbols;
    result.code.push_back(std::move(code));
  }
  return success();
}

void mlir::kiln::printCPUCodegenReport(ModuleOp module,
                                       const CPUCodegenResult &result,
                                       llvm::raw_ostream &os) {
  DenseMap<Operation *, StringRef> reasons;
  for (const auto &f : result.fallbacks)
    reasons[f.fusion] = f.reason;
  std::string cpus;
  for (const NativeCode &code : result.code)
    cpus += (cpus.empty() ? "" : ",") + code.cpu;
  os << "cpu codegen: " << result.fusionsGenerated << " fused kernel(s) "
     << "generated as "
     << (result.code.empty() ? 0 : result.code.front().symbols.size())
     << " function(s) for " << (cpus.empty() ? "-" : cpus) << ", "
     << result.fallbacks.size() << " run op by op\n";
  module.walk([&](FusionOp fusion) {
    std::string ops;
    for (Operation &op : fusion.getBodyBlock().without_terminator())
      ops += (ops.empty() ? "" : ",") + op.getName().stripDialect().str();
    os << "  fusion \"" << fusion.getKind() << "\" [" << ops << "] at "
       << fusion.getLoc() << ": ";
    if (auto symbol = fusion->getAttrOfType<StringAttr>(kSymbolAttr))
      os << "native " << symbol.getValue() << "\n";
    else
      os << "op by op: " << reasons.lookup(fusion) << "\n";
  });
}
