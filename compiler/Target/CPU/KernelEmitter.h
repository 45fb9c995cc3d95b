//===- KernelEmitter.h - Fused kernels as LLVM functions ------------------===//
//
// Two emitters share the kernel ABI and the pieces below: the loop emitter
// (KernelEmitter.cpp: one pass over the elements of a "loop" fusion) and
// the row-reduction emitter (RowReductionEmitter.cpp: a "reduction" fusion
// whose root reduces the innermost dimensions, a few passes per row).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_COMPILER_TARGET_CPU_KERNELEMITTER_H
#define KILN_COMPILER_TARGET_CPU_KERNELEMITTER_H

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/IR/IRBuilder.h"

#include <string>

namespace llvm {
class Module;
} // namespace llvm

namespace mlir::kiln::cpu {

/// How the runtime calls a generated kernel: fn(buffers, begin, end) for
/// sub-ranges of [0, outer), each at least `grain` long where possible.
struct KernelLaunch {
  int64_t outer = 1;
  int64_t grain = 1;
};

/// Emits `fusion` (kind "loop") into `module` as
///   extern "C" void <symbol>(void **buffers, int64_t begin, int64_t end)
/// where buffers holds the fusion's inputs then its results, contiguous and
/// row-major, and [begin, end) is a range of the outermost (collapsed)
/// dimension of the results. Returns std::nullopt and sets `why` when the
/// fusion holds something the CPU backend does not generate.
std::optional<KernelLaunch> emitLoopKernel(FusionOp fusion, llvm::Module &module,
                                           StringRef symbol, std::string &why);

/// Emits `fusion` (kind "reduction") with the same ABI, [begin, end) a
/// range of rows, when its root reduces the innermost dimensions of its
/// operand: softmax and log_softmax over the last axis, layer_norm, and
/// sum, mean, reduce_max, reduce_min, prod over trailing axes (of floats).
/// The elementwise ops that compute the root's operand (the prologue) are
/// evaluated in the kernel. Returns std::nullopt and sets `why` otherwise.
std::optional<KernelLaunch> emitRowReductionKernel(FusionOp fusion,
                                                   llvm::Module &module,
                                                   StringRef symbol,
                                                   std::string &why);

//===----------------------------------------------------------------------===//
// Shared by the emitters
//===----------------------------------------------------------------------===//

/// How one tensor's elements sit in memory and in registers.
struct ElementStorage {
  llvm::Type *storage = nullptr; // i8 for i1, half for f16, i16 for bf16
  llvm::Type *scalar = nullptr;  // in registers (f32 for f16 and bf16)
  bool bf16 = false;
};

/// The storage of `elementType`, or std::nullopt with `why` set.
std::optional<ElementStorage> elementStorageOf(Type elementType,
                                               llvm::LLVMContext &ctx,
                                               std::string &why);

/// Loads one element at `ptr` and widens it to its register type; the load
/// joins `accessGroup` when one is given.
llvm::Value *loadElement(llvm::IRBuilder<> &b, const ElementStorage &s,
                         llvm::Value *ptr, llvm::MDNode *accessGroup);

/// Narrows `x` to the storage type and stores it at `ptr`.
void storeElement(llvm::IRBuilder<> &b, const ElementStorage &s, llvm::Value *x,
                  llvm::Value *ptr, llvm::MDNode *accessGroup);

/// Whether `op` can be evaluated per element: a splat constant or an op
/// that canEmitScalar accepts.
bool canEmitElementOp(Operation *op, std::string &why);

/// Element strides of an operand of shape `s` read in the row-major index
/// space of `shape` (numpy broadcasting: size-1 and missing leading dims
/// get stride 0); nullopt with `why` when it does not broadcast.
std::optional<SmallVector<int64_t>> broadcastStrides(ArrayRef<int64_t> s,
                                                     ArrayRef<int64_t> shape,
                                                     std::string &why);

/// Evaluates `ops` in order on one element, reading operands from and
/// adding results to `values`; f16/bf16 results are rounded after every op
/// as the eager kernels store them.
void emitElementOps(ArrayRef<Operation *> ops,
                    DenseMap<Value, llvm::Value *> &values,
                    llvm::IRBuilder<> &b);

/// Creates `void <symbol>(ptr buffers, i64 begin, i64 end)` with an empty
/// entry block.
llvm::Function *createKernelFunction(llvm::Module &module, StringRef symbol);

/// Loads the first `count` buffer pointers of the kernel ABI's
/// `void **buffers` argument, at the builder's insertion point, marked
/// invariant (the buffer table does not change during a call).
SmallVector<llvm::Value *> loadBufferBases(llvm::IRBuilder<> &b,
                                           llvm::Function *fn, size_t count);

/// `<symbol>_signature`: i64 {number of buffers, outer, bytes of each
/// buffer}. The runtime checks the dispatch op against it at load, so a
/// file whose metadata disagrees with its code is refused, not run out of
/// bounds.
void emitKernelSignature(FusionOp fusion, llvm::Module &module,
                         StringRef symbol, const KernelLaunch &launch);

} // namespace mlir::kiln::cpu

#endif // KILN_COMPILER_TARGET_CPU_KERNELEMITTER_H
