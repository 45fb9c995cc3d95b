//===- CUDACodegen.cpp - CUDA C for fused kernels -------------------------===//
//
// The driver: one translation unit (prelude + every distinct kernel), the
// launch attributes on each generated fusion, and the fallback list.
//
//===----------------------------------------------------------------------===//
#include "kiln/Compiler/Target/CUDA/CUDACodegen.h"

#include "KernelEmitter.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"

#include <map>

using namespace mlir;
using namespace mlir::kiln;

namespace {

constexpr StringLiteral kKernelAttr = "kiln.cuda_kernel";
constexpr StringLiteral kGridAttr = "kiln.cuda_grid";
constexpr StringLiteral kBlockAttr = "kiln.cuda_block";

int64_t arenaOffset(Value v) {
  auto result = dyn_cast<OpResult>(v);
  if (!result)
    return -1;
  auto offsets =
      result.getOwner()->getAttrOfType<DenseI64ArrayAttr>("kiln.offsets");
  unsigned i = result.getResultNumber();
  return offsets && int64_t(i) < offsets.size() ? offsets[i] : -1;
}

/// Whether a result shares arena memory with an input (in-place reuse):
/// then the kernel's pointers must not be __restrict__.
bool resultMayAliasInput(FusionOp fusion) {
  for (Value r : fusion.getResults()) {
    int64_t ro = arenaOffset(r);
    if (ro < 0)
      continue;
    for (Value in : fusion.getInputs())
      if (arenaOffset(in) == ro)
        return true;
  }
  return false;
}

/// A reduction reads a whole row before writing it, and a loop kernel
/// element i before writing element i: either is safe in place only when
/// the result and the input are the same bytes with the same layout. Any
/// other overlap would let a write clobber an element still to be read, and
/// so would any overlap with an input that a slice reads: a slice reads
/// element i of its input at an offset, never in step with the result
/// (PlanMemory keeps them apart; this check does not rely on it).
bool overlapIsSafe(FusionOp fusion, std::string &why) {
  auto bytes = [](Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    unsigned bits = t.getElementTypeBitWidth();
    return t.getNumElements() * (bits == 1 ? 1 : bits / 8);
  };
  for (Value r : fusion.getResults()) {
    int64_t ro = arenaOffset(r);
    if (ro < 0)
      continue;
    for (auto [in, arg] :
         llvm::zip(fusion.getInputs(), fusion.getBodyBlock().getArguments())) {
      int64_t io = arenaOffset(in);
      if (io < 0)
        continue;
      bool overlap = io < ro + bytes(r) && ro < io + bytes(in);
      bool readAtOffset = llvm::any_of(
          arg.getUsers(), [](Operation *u) { return isa<SliceOp>(u); });
      if (overlap && readAtOffset) {
        why = "a result overlaps an input that a slice reads at an offset";
        return false;
      }
      if (overlap && !(io == ro && in.getType() == r.getType())) {
        why = "a result overlaps an input in the arena with another layout";
        return false;
      }
    }
  }
  return true;
}

std::string kernelKey(FusionOp fusion, bool restrictPtrs) {
  DictionaryAttr saved = fusion->getAttrDictionary();
  SmallVector<NamedAttribute> semantic;
  for (NamedAttribute a : saved)
    if (!a.getName().strref().starts_with("kiln."))
      semantic.push_back(a);
  fusion->setAttrs(semantic);
  std::string key = restrictPtrs ? "restrict " : "";
  llvm::raw_string_ostream os(key);
  fusion->print(os, OpPrintingFlags().printGenericOpForm().useLocalScope());
  fusion->setAttrs(saved);
  return key;
}

} // namespace

LogicalResult mlir::kiln::generateCUDACode(ModuleOp module,
                                           CUDACodegenResult &result) {
  std::string kernels;
  llvm::raw_string_ostream os(kernels);
  std::map<std::string, size_t> byKey; // -> index in result.kernels
  Builder builder(module.getContext());
  module.walk([&](FusionOp fusion) {
    std::string why;
    if (!overlapIsSafe(fusion, why)) {
      result.fallbacks.push_back({fusion, why});
      return;
    }
    bool restrictPtrs = !resultMayAliasInput(fusion);
    std::string key = kernelKey(fusion, restrictPtrs);
    auto it = byKey.find(key);
    if (it == byKey.end()) {
      std::string name = "kiln_cuda_kernel_" + std::to_string(result.kernels.size());
      auto info = cuda::emitKernel(fusion, name, restrictPtrs, os, why);
      if (!info) {
        result.fallbacks.push_back({fusion, why});
        return;
      }
      it = byKey.insert({key, result.kernels.size()}).first;
      result.kernels.push_back(*info);
    }
    const CUDAKernelInfo &info = result.kernels[it->second];
    fusion->setAttr(kKernelAttr, builder.getStringAttr(info.name));
    fusion->setAttr(kGridAttr, builder.getI64IntegerAttr(info.grid));
    fusion->setAttr(kBlockAttr, builder.getI64IntegerAttr(info.block));
    ++result.fusionsGenerated;
  });
  if (!result.kernels.empty())
    result.source = (cuda::kernelPrelude() + "\n" + kernels).str();
  return success();
}

void mlir::kiln::printCUDACodegenReport(ModuleOp module,
                                        const CUDACodegenResult &result,
                                        llvm::raw_ostream &os) {
  DenseMap<Operation *, StringRef> reasons;
  for (const auto &f : result.fallbacks)
    reasons[f.fusion] = f.reason;
  os << "cuda codegen: " << result.fusionsGenerated << " fused kernel(s) "
     << "generated as " << result.kernels.size() << " kernel(s), "
     << result.fallbacks.size() << " run op by op\n";
  module.walk([&](FusionOp fusion) {
    std::string ops;
    for (Operation &op : fusion.getBodyBlock().without_terminator())
      ops += (ops.empty() ? "" : ",") + op.getName().stripDialect().str();
    os << "  fusion \"" << fusion.getKind() << "\" [" << ops << "] at "
       << fusion.getLoc() << ": ";
    if (auto name = fusion->getAttrOfType<StringAttr>(kKernelAttr))
      os << "cuda " << name.getValue() << "\n";
    else
      os << "op by op: " << reasons.lookup(fusion) << "\n";
  });
}
