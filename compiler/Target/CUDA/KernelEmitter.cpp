//===- KernelEmitter.cpp - One kiln.fusion as CUDA C ----------------------===//
//
// Loop fusions: the result shape is collapsed as on the CPU (unit dims
// dropped, neighbours merged where every operand steps through them as one
// run); each input gets a stride per collapsed dim (0 where broadcast).
// The body becomes a device function over register values, called once per
// element by a grid-stride kernel, and 4 times per thread by the `_vec`
// variant, which moves 4 consecutive elements with one access per operand
// whose innermost stride is 1 and one scalar load for broadcast ones.
//
// A kiln.slice of an input (positive steps; kiln-fuse-elementwise puts them
// in loop fusions) is one more read, as on the CPU: the input's buffer at a
// constant element offset, with the input's row-major strides times the
// steps, broadcast into the result's index space like any input. An input
// read only through slices is never loaded directly. In the `_vec` variant a
// slice is read 4 elements at once only when its offset and every stride
// but the innermost (1) are multiples of 4, so each access is as aligned as
// the buffer (the launcher checks that); other slices are read one element
// per lane. Several results (c_t and h_t of an LSTM step) are several `out`
// buffers written from one body call.
//
// Reduction fusions: the root (the op the fusion yields) reduces trailing
// dims of its input; rows = the leading dims. One block per row; the
// elementwise producers are evaluated from the inputs at (row, col) inside
// the row loop (recomputed per pass: they are cheap next to the memory
// traffic a stored intermediate would cost).
//
//===----------------------------------------------------------------------===//
#include "KernelEmitter.h"

#include "ScalarOps.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

using namespace mlir;

namespace mlir::kiln::cuda {

llvm::StringRef kernelPrelude() {
  static const char text[] =
#include "KilnCUDAPrelude.inc"
      ;
  return text;
}

namespace {

constexpr int64_t kLoopBlock = 256;
constexpr int64_t kMaxGrid = 65535;
constexpr int kVector = 4;

/// 32-bit indices when i + the grid's stride cannot overflow them.
std::string idxType(int64_t total) {
  return total < (int64_t(1) << 31) - kLoopBlock * kMaxGrid ? "int"
                                                             : "long long";
}

/// Strides of `type` broadcast to `shape` (row-major; 0 where broadcast),
/// or false when it does not broadcast.
bool broadcastStrides(RankedTensorType type, ArrayRef<int64_t> shape,
                      SmallVectorImpl<int64_t> &strides) {
  ArrayRef<int64_t> s = type.getShape();
  if (s.size() > shape.size())
    return false;
  strides.assign(shape.size(), 0);
  int64_t step = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    size_t d = shape.size() - 1 - i, sd = s.size() - 1 - i;
    if (s[sd] == shape[d])
      strides[d] = s[sd] == 1 ? 0 : step;
    else if (s[sd] != 1)
      return false;
    step *= s[sd];
  }
  return true;
}

class Emitter {
public:
  Emitter(FusionOp fusion, StringRef name, bool restrictPtrs)
      : fusion_(fusion), name_(name.str()),
        restrict_(restrictPtrs ? " __restrict__" : "") {}

  std::optional<CUDAKernelInfo> emit(llvm::raw_ostream &os, std::string &why);

private:
  bool checkBody(std::string &why);
  bool collectTypes(std::string &why);
  std::string params() const;
  /// `const T v<N> = ...;` lines for the ops in `ops`, reading block
  /// arguments from `argNames`.
  void emitOps(llvm::raw_ostream &os, ArrayRef<Operation *> ops,
               DenseMap<Value, std::string> &names, const std::string &indent);
  std::optional<CUDAKernelInfo> emitLoop(llvm::raw_ostream &os, std::string &why);
  std::optional<CUDAKernelInfo> emitReduction(llvm::raw_ostream &os,
                                              std::string &why);

  FusionOp fusion_;
  std::string name_;
  std::string restrict_;
  SmallVector<ElementType> types_; // inputs, then results
  size_t numInputs_ = 0;
  bool hasDropout_ = false; // the body takes the element index
};

bool Emitter::checkBody(std::string &why) {
  for (Operation &op : fusion_.getBodyBlock().without_terminator()) {
    if (auto c = dyn_cast<ConstantOp>(op)) {
      auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
      if (!dense || !dense.isSplat()) {
        why = "a non-splat constant inside the kernel";
        return false;
      }
      if (!elementTypeOf(dense.getElementType(), why))
        return false;
      continue;
    }
    if (&op == fusion_.getBodyBlock().getTerminator()->getOperand(0).getDefiningOp() &&
        fusion_.getKind() == "reduction")
      continue; // the root, handled by the reduction emitter
    if (isa<DropoutOp>(op)) {
      // The mask is a function of the element's index in the dropout's
      // own tensor: the kernel's linear index when shapes agree.
      auto t = cast<RankedTensorType>(op.getResult(0).getType());
      if (fusion_.getKind() != "loop" ||
          t.getShape() != cast<RankedTensorType>(fusion_.getResult(0).getType())
                              .getShape()) {
        why = "'dropout' of a value indexed apart from the kernel's elements";
        return false;
      }
      if (!elementTypeOf(t, why))
        return false;
      hasDropout_ = true;
      continue;
    }
    if (isa<SliceOp>(op)) {
      // Read at an offset by the loop emitter; a reduction's producers are
      // evaluated at (row, col), which has no slice indexing.
      if (fusion_.getKind() != "loop") {
        why = "a slice inside a reduction fusion";
        return false;
      }
      if (!elementTypeOf(op.getResult(0).getType(), why))
        return false;
      continue;
    }
    if (!canEmitScalar(&op, why))
      return false;
  }
  return true;
}

bool Emitter::collectTypes(std::string &why) {
  numInputs_ = fusion_.getInputs().size();
  SmallVector<Value> values(fusion_.getInputs());
  values.append(fusion_->result_begin(), fusion_->result_end());
  for (Value v : values) {
    auto t = elementTypeOf(v.getType(), why);
    if (!t)
      return false;
    types_.push_back(*t);
  }
  return true;
}

std::string Emitter::params() const {
  std::string s;
  for (size_t j = 0; j < types_.size(); ++j) {
    bool input = j < numInputs_;
    s += llvm::formatv("{0}{1}{2} *{3} {4}{5}", j ? ", " : "",
                       input ? "const " : "", types_[j].storage, restrict_,
                       input ? "in" : "out",
                       input ? j : j - numInputs_)
             .str();
  }
  return s;
}

void Emitter::emitOps(llvm::raw_ostream &os, ArrayRef<Operation *> ops,
                      DenseMap<Value, std::string> &names,
                      const std::string &indent) {
  std::string why;
  for (Operation *op : ops) {
    Value r = op->getResult(0);
    ElementType t = *elementTypeOf(r.getType(), why);
    std::string name = "v" + std::to_string(names.size());
    std::string expr;
    if (isa<DropoutOp>(op)) {
      // As the eager kernel: Philox-4x32-10 at counter idx / 4, key seed,
      // word idx % 4; kept when the word >= ceil(ratio * 2^32).
      std::string x = names.lookup(op->getOperand(0));
      auto ratioAttr = op->getAttrOfType<FloatAttr>("ratio");
      auto trainingAttr = op->getAttrOfType<BoolAttr>("training");
      auto seedAttr = op->getAttrOfType<IntegerAttr>("seed");
      double ratio = ratioAttr ? ratioAttr.getValueAsDouble() : 0.5;
      bool training = trainingAttr && trainingAttr.getValue();
      uint64_t seed = seedAttr ? seedAttr.getValue().getZExtValue() : 0;
      if (!training || ratio == 0) {
        expr = x;
      } else {
        double scale = 1.0 / (1.0 - ratio);
        if (t.reg == "float")
          scale = double(float(scale));
        expr = "kiln_dropout(" + x + ", idx, " + std::to_string(seed) + "ULL, " +
               std::to_string(uint64_t(std::ceil(ratio * 4294967296.0))) +
               "ULL, " + literal(scale, t) + ")";
      }
      if (!t.rounding.empty())
        expr = t.rounding + "(" + expr + ")";
    } else if (auto c = dyn_cast<ConstantOp>(op)) {
      auto dense = cast<DenseElementsAttr>(c.getValue());
      if (t.isFloat)
        expr = literal(dense.getSplatValue<APFloat>().convertToDouble(), t);
      else if (t.isBool)
        expr = dense.getSplatValue<bool>() ? "true" : "false";
      else
        expr = literal(double(dense.getSplatValue<APInt>().getSExtValue()), t);
      if (!t.isFloat && !t.isBool && t.bits == 64)
        expr = std::to_string(dense.getSplatValue<APInt>().getSExtValue()) + "LL";
    } else {
      SmallVector<std::string> args;
      for (Value v : op->getOperands())
        args.push_back(names.lookup(v));
      expr = emitScalar(op, args);
      if (!t.rounding.empty())
        expr = t.rounding + "(" + expr + ")";
    }
    os << indent << "const " << t.reg << " " << name << " = " << expr << ";\n";
    names[r] = name;
  }
}

//===----------------------------------------------------------------------===//
// Loop kernels
//===----------------------------------------------------------------------===//

std::optional<CUDAKernelInfo> Emitter::emitLoop(llvm::raw_ostream &os,
                                                std::string &why) {
  auto resultType = cast<RankedTensorType>(fusion_.getResult(0).getType());
  for (Value r : fusion_.getResults())
    if (cast<RankedTensorType>(r.getType()).getShape() != resultType.getShape()) {
      why = "results of different shapes";
      return std::nullopt;
    }
  auto yield = cast<YieldOp>(fusion_.getBodyBlock().getTerminator());
  for (Value v : yield.getValues())
    if (!v.getDefiningOp() || isa<ConstantOp>(v.getDefiningOp())) {
      why = "a result that is an input or a constant";
      return std::nullopt;
    }
  ArrayRef<int64_t> shape = resultType.getShape();
  Block &body = fusion_.getBodyBlock();

  /// A value the body takes from memory: a block argument read in step with
  /// the result, or a slice of one read at a constant element offset.
  struct Read {
    Value value;
    size_t input = 0;   // reads in<input>
    int64_t offset = 0; // elements from the start of in<input>
    std::string id;     // "2" for input 2, "2_1" for its second slice
  };
  SmallVector<Read> reads;
  // Strides against the result's index space: per read, then per result.
  SmallVector<SmallVector<int64_t>> full;
  // Slices first: a fusion they make unemittable says so by name.
  SmallVector<Read> sliceReads;
  SmallVector<SmallVector<int64_t>> sliceStrides;
  SmallVector<unsigned> slicesOf(numInputs_, 0);
  for (Operation &o : body.without_terminator()) {
    auto slice = dyn_cast<SliceOp>(o);
    if (!slice)
      continue;
    auto arg = dyn_cast<BlockArgument>(slice.getInput());
    if (!arg || arg.getOwner() != &body) {
      why = "a slice of a value computed in the kernel";
      return std::nullopt;
    }
    ArrayRef<int64_t> in = slice.getInput().getType().getShape();
    ArrayRef<int64_t> out = slice.getType().getShape();
    if (out.size() > shape.size()) {
      why = "a slice of higher rank than the result";
      return std::nullopt;
    }
    // The offset of the first element selected and, per dim of the slice,
    // the input's row-major stride times the step (as the CPU emitter).
    Read read{slice.getResult(), arg.getArgNumber(), 0,
              std::to_string(arg.getArgNumber()) + "_" +
                  std::to_string(slicesOf[arg.getArgNumber()]++)};
    SmallVector<int64_t> natural(in.size());
    int64_t step = 1;
    for (size_t k = in.size(); k-- > 0;) {
      int64_t sliceStep = slice.getSteps().empty() ? 1 : slice.getSteps()[k];
      if (sliceStep <= 0) {
        // The fusion pass takes positive steps only; a reversed read would
        // need its start clamped as kiln.slice does for negative steps.
        why = "a slice with a negative step";
        return std::nullopt;
      }
      int64_t start = slice.getStarts()[k];
      start = std::clamp<int64_t>(start < 0 ? start + in[k] : start, 0, in[k]);
      read.offset += start * step;
      natural[k] = step * sliceStep;
      step *= in[k];
    }
    SmallVector<int64_t> s(shape.size(), 0);
    for (size_t i = 0; i < out.size(); ++i) {
      size_t d = shape.size() - 1 - i, k = out.size() - 1 - i;
      if (out[k] == shape[d])
        s[d] = out[k] == 1 ? 0 : natural[k];
      else if (out[k] != 1) {
        why = "a slice that does not broadcast to the result";
        return std::nullopt;
      }
    }
    sliceReads.push_back(std::move(read));
    sliceStrides.push_back(std::move(s));
  }
  for (auto [j, arg] : llvm::enumerate(body.getArguments())) {
    // An input read only through slices (or not at all) is never loaded.
    if (llvm::all_of(arg.getUsers(),
                     [](Operation *u) { return isa<SliceOp>(u); }))
      continue;
    SmallVector<int64_t> s;
    if (!broadcastStrides(cast<RankedTensorType>(arg.getType()), shape, s)) {
      why = "an input that does not broadcast to the result";
      return std::nullopt;
    }
    reads.push_back({arg, j, 0, std::to_string(j)});
    full.push_back(std::move(s));
  }
  llvm::append_range(reads, sliceReads);
  llvm::append_range(full, sliceStrides);
  for (Value r : fusion_.getResults()) {
    SmallVector<int64_t> s;
    broadcastStrides(cast<RankedTensorType>(r.getType()), shape, s);
    full.push_back(std::move(s));
  }
  // Collapse (as Target/CPU/KernelEmitter.cpp).
  SmallVector<int64_t> dims;
  SmallVector<SmallVector<int64_t>> strides(full.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1)
      continue;
    bool merge = !dims.empty();
    for (size_t j = 0; merge && j < full.size(); ++j)
      merge = strides[j].back() == full[j][d] * shape[d];
    if (merge) {
      dims.back() *= shape[d];
      for (size_t j = 0; j < full.size(); ++j)
        strides[j].back() = full[j][d];
      continue;
    }
    dims.push_back(shape[d]);
    for (size_t j = 0; j < full.size(); ++j)
      strides[j].push_back(full[j][d]);
  }
  if (dims.empty()) {
    dims.push_back(1);
    for (auto &s : strides)
      s.push_back(0);
  }
  int64_t total = resultType.getNumElements();
  size_t rank = dims.size();
  SmallVector<int64_t> contiguous(rank, 1);
  for (size_t d = rank - 1; d > 0; --d)
    contiguous[d - 1] = contiguous[d] * dims[d];
  // A slice addresses its input, which may be larger than the result.
  int64_t extent = total;
  for (Value in : fusion_.getInputs())
    extent = std::max(extent, cast<RankedTensorType>(in.getType()).getNumElements());
  std::string it = idxType(extent);

  // The body: register values in, register values out.
  os << "static __device__ __forceinline__ void " << name_ << "_body("
     << (hasDropout_ ? "long long idx, " : "");
  DenseMap<Value, std::string> names;
  for (auto [r, read] : llvm::enumerate(reads)) {
    os << (r ? ", " : "") << types_[read.input].reg << " a" << read.id;
    names[read.value] = "a" + read.id;
  }
  for (size_t k = 0; k < fusion_.getNumResults(); ++k)
    os << (reads.empty() && k == 0 ? "" : ", ") << types_[numInputs_ + k].reg
       << " &r" << k;
  os << ") {\n";
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    if (!isa<SliceOp>(op)) // read by the kernel, passed in
      ops.push_back(&op);
  emitOps(os, ops, names, "  ");
  for (auto [k, v] : llvm::enumerate(yield.getValues()))
    os << "  r" << k << " = " << names.lookup(v) << ";\n";
  os << "}\n\n";

  // Element offset of operand j (a read, then a result) at linear element
  // index `i` (coordinates c<d>), without the read's constant offset.
  auto isContiguous = [&](size_t j) {
    for (size_t d = 0; d < rank; ++d)
      if (strides[j][d] != contiguous[d] && dims[d] != 1)
        return false;
    return true;
  };
  auto offset = [&](size_t j, const std::string &i) {
    if (isContiguous(j))
      return i;
    std::string s;
    for (size_t d = 0; d < rank; ++d)
      if (strides[j][d])
        s += (s.empty() ? "" : " + ") +
             (strides[j][d] == 1 ? "c" + std::to_string(d)
                                 : "c" + std::to_string(d) + " * " +
                                       std::to_string(strides[j][d]));
    return s.empty() ? std::string("0") : s;
  };
  // The address of read r's element at linear index `i`.
  auto address = [&](size_t r, const std::string &i) {
    std::string a = "in" + std::to_string(reads[r].input);
    if (reads[r].offset)
      a += " + " + std::to_string(reads[r].offset);
    return a + " + " + offset(r, i);
  };
  // Coordinates are computed only for the dims some read needs.
  SmallVector<bool> needDim(rank, false);
  for (size_t r = 0; r < reads.size(); ++r)
    if (!isContiguous(r))
      for (size_t d = 0; d < rank; ++d)
        needDim[d] = needDim[d] || strides[r][d] != 0;
  auto emitCoords = [&](const std::string &i, const std::string &indent) {
    size_t lowest = rank;
    for (size_t d = 0; d < rank && lowest == rank; ++d)
      if (needDim[d])
        lowest = d;
    if (lowest == rank)
      return;
    os << indent << it << " t = " << i << ";\n";
    for (size_t d = rank; d-- > lowest;) {
      if (needDim[d]) {
        os << indent << "const " << it << " c" << d << " = ";
        os << (d == 0 ? std::string("t") : "t % " + std::to_string(dims[d]))
           << ";\n";
      }
      if (d > lowest)
        os << indent << "t /= " << dims[d] << ";\n";
    }
  };
  auto emitCall = [&](const std::string &index,
                      llvm::function_ref<std::string(size_t)> arg) {
    os << name_ << "_body(" << (hasDropout_ ? index + ", " : "");
    for (size_t r = 0; r < reads.size(); ++r)
      os << (r ? ", " : "") << arg(r);
    for (size_t k = 0; k < fusion_.getNumResults(); ++k)
      os << (reads.empty() && k == 0 ? "" : ", ") << "r" << k;
    os << ");\n";
  };

  // Scalar kernel: one element per thread per step.
  CUDAKernelInfo info;
  info.name = name_;
  info.kind = "loop";
  info.block = kLoopBlock;
  info.grid = std::clamp<int64_t>((total + kLoopBlock - 1) / kLoopBlock, 1, kMaxGrid);
  info.numBuffers = unsigned(types_.size());
  os << "extern \"C\" __global__ void __launch_bounds__(" << kLoopBlock << ") "
     << name_ << "(" << params() << ") {\n";
  os << "  for (" << it << " i = " << it << "(blockIdx.x) * blockDim.x + threadIdx.x; i < "
     << total << "; i += " << it << "(gridDim.x) * blockDim.x) {\n";
  emitCoords("i", "    ");
  for (auto [r, read] : llvm::enumerate(reads))
    os << "    const " << types_[read.input].reg << " a" << read.id
       << " = kiln_ld(" << address(r, "i") << ");\n";
  for (size_t k = 0; k < fusion_.getNumResults(); ++k)
    os << "    " << types_[numInputs_ + k].reg << " r" << k << ";\n";
  os << "    ";
  emitCall("i", [&](size_t r) { return "a" + reads[r].id; });
  for (size_t k = 0; k < fusion_.getNumResults(); ++k)
    os << "    kiln_st(out" << k << " + i, r" << k << ");\n";
  os << "  }\n}\n";

  // Vector variant: 4 consecutive elements of the innermost dim per step.
  // Lanes share every coordinate but the innermost, so lane l of a read is
  // at its lane-0 address + l * its innermost stride.
  enum class Access { Broadcast, Vector, PerLane };
  SmallVector<Access> access;
  for (size_t r = 0; r < reads.size(); ++r) {
    int64_t inner = strides[r].back();
    bool aligned = reads[r].offset % kVector == 0;
    for (size_t d = 0; d + 1 < rank; ++d)
      aligned = aligned && strides[r][d] % kVector == 0;
    access.push_back(inner == 0                ? Access::Broadcast
                     : inner == 1 && aligned ? Access::Vector
                                             : Access::PerLane);
  }
  bool vectorizable = dims.back() % kVector == 0 && total >= kVector;
  if (vectorizable) {
    int64_t vectors = total / kVector;
    info.hasVectorVariant = true;
    info.vectorGrid =
        std::clamp<int64_t>((vectors + kLoopBlock - 1) / kLoopBlock, 1, kMaxGrid);
    os << "\n// Needs every buffer aligned to 4 elements (the launcher checks).\n";
    os << "extern \"C\" __global__ void __launch_bounds__(" << kLoopBlock << ") "
       << name_ << "_vec(" << params() << ") {\n";
    os << "  for (" << it << " q = " << it
       << "(blockIdx.x) * blockDim.x + threadIdx.x; q < " << vectors << "; q += "
       << it << "(gridDim.x) * blockDim.x) {\n";
    os << "    const " << it << " i = q * " << kVector << ";\n";
    emitCoords("i", "    ");
    for (auto [r, read] : llvm::enumerate(reads)) {
      const ElementType &t = types_[read.input];
      switch (access[r]) {
      case Access::Vector:
        os << "    const kiln_vec<" << t.storage << ", " << kVector << "> x"
           << read.id << " = *reinterpret_cast<const kiln_vec<" << t.storage
           << ", " << kVector << "> *>(" << address(r, "i") << ");\n";
        break;
      case Access::Broadcast:
        os << "    const " << t.reg << " s" << read.id << " = kiln_ld("
           << address(r, "i") << ");\n";
        break;
      case Access::PerLane:
        os << "    const " << t.storage << " *p" << read.id << " = "
           << address(r, "i") << ";\n";
        break;
      }
    }
    for (size_t k = 0; k < fusion_.getNumResults(); ++k)
      os << "    kiln_vec<" << types_[numInputs_ + k].storage << ", " << kVector
         << "> y" << k << ";\n";
    os << "#pragma unroll\n    for (int l = 0; l < " << kVector << "; ++l) {\n";
    for (size_t k = 0; k < fusion_.getNumResults(); ++k)
      os << "      " << types_[numInputs_ + k].reg << " r" << k << ";\n";
    os << "      ";
    emitCall("i + l", [&](size_t r) -> std::string {
      const std::string &id = reads[r].id;
      int64_t inner = strides[r].back();
      switch (access[r]) {
      case Access::Vector:
        return "kiln_ld(&x" + id + ".v[l])";
      case Access::Broadcast:
        return "s" + id;
      case Access::PerLane:
        break;
      }
      return "kiln_ld(p" + id + " + " +
             (inner == 1 ? std::string("l") : "l * " + std::to_string(inner)) +
             ")";
    });
    for (size_t k = 0; k < fusion_.getNumResults(); ++k)
      os << "      kiln_st(&y" << k << ".v[l], r" << k << ");\n";
    os << "    }\n";
    for (size_t k = 0; k < fusion_.getNumResults(); ++k)
      os << "    *reinterpret_cast<kiln_vec<" << types_[numInputs_ + k].storage
         << ", " << kVector << "> *>(out" << k << " + i) = y" << k << ";\n";
    os << "  }\n}\n";
  }
  return info;
}

//===----------------------------------------------------------------------===//
// Reduction kernels
//===----------------------------------------------------------------------===//

std::optional<CUDAKernelInfo> Emitter::emitReduction(llvm::raw_ostream &os,
                                                     std::string &why) {
  auto yield = cast<YieldOp>(fusion_.getBodyBlock().getTerminator());
  if (yield.getNumOperands() != 1) {
    why = "a reduction fusion with more than one result";
    return std::nullopt;
  }
  Operation *root = yield.getOperand(0).getDefiningOp();
  if (!root) {
    why = "a reduction fusion that yields an input";
    return std::nullopt;
  }
  StringRef rootName = root->getName().stripDialect();
  auto inType = cast<RankedTensorType>(root->getOperand(0).getType());
  ArrayRef<int64_t> shape = inType.getShape();
  int64_t rank = int64_t(shape.size());
  // The first reduced dim: everything from it on is reduced.
  int64_t first = rank;
  int64_t innerCount = 1; // column_reduce: elements after the reduced dims
  std::string kind;
  if (isa<SumOp, MeanOp, ProdOp, ReduceMaxOp, ReduceMinOp>(root)) {
    auto axesAttr = root->getAttrOfType<DenseI64ArrayAttr>("axes");
    SmallVector<int64_t> axes;
    if (!axesAttr || axesAttr.empty()) {
      for (int64_t d = 0; d < rank; ++d)
        axes.push_back(d);
    } else {
      for (int64_t a : axesAttr.asArrayRef())
        axes.push_back(a < 0 ? a + rank : a);
    }
    llvm::sort(axes);
    for (size_t i = 0; i < axes.size(); ++i)
      if (axes[i] != axes[0] + int64_t(i)) {
        why = "a reduction over non-adjacent axes";
        return std::nullopt;
      }
    first = axes.empty() ? rank : axes[0];
    // Trailing axes: a row per block. Others: a thread per output element
    // walks its column (coalesced across the dims after the reduced ones).
    kind = axes.empty() || axes.back() == rank - 1 ? "row_reduce"
                                                   : "column_reduce";
    for (int64_t d = axes.empty() ? rank : axes.back() + 1; d < rank; ++d)
      innerCount *= shape[d];
  } else if (isa<SoftmaxOp, LogSoftmaxOp>(root)) {
    int64_t axis = root->getAttrOfType<IntegerAttr>("axis").getInt();
    if (axis < 0)
      axis += rank;
    if (axis != rank - 1) {
      why = "a softmax over a non-last axis";
      return std::nullopt;
    }
    first = axis;
    kind = "softmax";
  } else if (isa<LayerNormOp>(root)) {
    int64_t axis = root->getAttrOfType<IntegerAttr>("axis").getInt();
    if (axis < 0)
      axis += rank;
    first = axis;
    kind = "layer_norm";
  } else {
    why = ("a \"reduction\" fusion rooted at '" + rootName +
           "' (no CUDA generator)")
              .str();
    return std::nullopt;
  }
  std::string typeWhy;
  auto rootIn = elementTypeOf(inType, typeWhy);
  if (!rootIn || rootIn->isBool) {
    why = "a reduction of booleans";
    return std::nullopt;
  }
  int64_t rows = 1, cols = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < first ? rows : cols) *= shape[d];
  // layer_norm's scale and bias are read at `col`: fusion inputs of the
  // normalized shape.
  for (unsigned k = 1; kind == "layer_norm" && k < root->getNumOperands(); ++k) {
    auto t = cast<RankedTensorType>(root->getOperand(k).getType());
    if (!isa<BlockArgument>(root->getOperand(k)) || t.getNumElements() != cols) {
      why = "a layer_norm whose scale or bias is computed in the fusion or "
            "not of the normalized shape";
      return std::nullopt;
    }
  }
  if (rows > int64_t(1) << 31) {
    why = "more rows than one grid holds";
    return std::nullopt;
  }

  // The ops that compute the root's input (the producers).
  llvm::SetVector<Operation *> producers;
  SmallVector<Value> work = {root->getOperand(0)};
  llvm::SetVector<unsigned> usedArgs;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      usedArgs.insert(arg.getArgNumber());
      continue;
    }
    Operation *op = v.getDefiningOp();
    if (producers.insert(op))
      llvm::append_range(work, op->getOperands());
  }
  SmallVector<Operation *> ordered;
  for (Operation &op : fusion_.getBodyBlock().without_terminator())
    if (producers.contains(&op))
      ordered.push_back(&op);

  // value(row, col): the root's input element.
  const std::string acc = rootIn->reg;
  os << "static __device__ __forceinline__ " << acc << " " << name_
     << "_value(long long row, long long col, " << params() << ") {\n";
  Block &body = fusion_.getBodyBlock();
  DenseMap<Value, std::string> names;
  for (unsigned j : usedArgs) {
    SmallVector<int64_t> s;
    auto t = cast<RankedTensorType>(body.getArgument(j).getType());
    if (!broadcastStrides(t, shape, s)) {
      why = "an input that does not broadcast to the reduced operand";
      return std::nullopt;
    }
    // Offset from the coordinates of row (dims < first) and col (the rest).
    std::string off;
    auto addTerms = [&](const std::string &var, int64_t lo, int64_t hi) {
      // Contiguous over [lo, hi): one term, var * the innermost stride.
      bool contiguous = lo < hi && s[hi - 1] != 0;
      for (int64_t d = hi - 1, run = contiguous ? s[hi - 1] : 0;
           contiguous && d >= lo; --d) {
        contiguous = s[d] == run || shape[d] == 1;
        run *= shape[d];
      }
      if (contiguous) {
        off += (off.empty() ? "" : " + ") +
               (s[hi - 1] == 1 ? var : var + " * " + std::to_string(s[hi - 1]));
        return;
      }
      int64_t inner = 1;
      for (int64_t d = hi; d-- > lo;) {
        if (s[d]) {
          std::string c = inner == 1 ? var : "(" + var + " / " + std::to_string(inner) + ")";
          if (d != lo)
            c = "(" + c + " % " + std::to_string(shape[d]) + ")";
          off += (off.empty() ? "" : " + ") +
                 (s[d] == 1 ? c : c + " * " + std::to_string(s[d]));
        }
        inner *= shape[d];
      }
    };
    addTerms("row", 0, first);
    addTerms("col", first, rank);
    os << "  const " << types_[j].reg << " a" << j << " = kiln_ld(in" << j
       << " + " << (off.empty() ? "0" : off) << ");\n";
    names[body.getArgument(j)] = "a" + std::to_string(j);
  }
  emitOps(os, ordered, names, "  ");
  os << "  return " << names.lookup(root->getOperand(0)) << ";\n}\n\n";

  int64_t block = 32;
  while (block < cols && block < 256)
    block *= 2;
  CUDAKernelInfo info;
  info.name = name_;
  info.kind = kind;
  info.block = block;
  info.grid = rows;
  info.numBuffers = unsigned(types_.size());
  std::string args;
  for (size_t j = 0; j < types_.size(); ++j)
    args += j < numInputs_ ? ", in" + std::to_string(j)
                           : ", out" + std::to_string(j - numInputs_);
  std::string value = name_ + "_value(row, col" + args + ")";
  const ElementType &outT = types_[numInputs_];
  std::string inf = literal(HUGE_VAL, *rootIn);

  os << "extern \"C\" __global__ void __launch_bounds__(" << block << ") " << name_
     << "(" << params() << ") {\n";
  if (kind != "column_reduce") // one thread per output: no block reduction
    os << "  __shared__ " << acc << " shared[32];\n";
  if (kind != "column_reduce")
    os << "  const long long row = blockIdx.x;\n";
  auto loop = [&](const std::string &bodyText) {
    os << "  for (long long col = threadIdx.x; col < " << cols
       << "; col += blockDim.x) {\n" << bodyText << "  }\n";
  };
  if (kind == "row_reduce" || kind == "column_reduce") {
    std::string op, identity;
    if (isa<SumOp, MeanOp>(root)) {
      op = "kiln_sum_op()";
      identity = literal(0, *rootIn);
    } else if (isa<ProdOp>(root)) {
      op = "kiln_prod_op()";
      identity = literal(1, *rootIn);
    } else if (isa<ReduceMaxOp>(root)) {
      op = "kiln_max_op()";
      identity = rootIn->isFloat ? "-" + inf
                                 : "(" + acc + ")(" + (rootIn->bits == 64
                                       ? std::string("-9223372036854775807LL - 1")
                                       : std::to_string(-(1LL << (rootIn->bits - 1)))) + ")";
    } else {
      op = "kiln_min_op()";
      identity = rootIn->isFloat ? inf
                                 : "(" + acc + ")(" + (rootIn->bits == 64
                                       ? std::string("9223372036854775807LL")
                                       : std::to_string((1LL << (rootIn->bits - 1)) - 1)) + ")";
    }
    if (kind == "column_reduce") {
      int64_t reduced = cols / innerCount;
      int64_t outputs = rows * innerCount;
      info.block = kLoopBlock;
      info.grid = std::clamp<int64_t>((outputs + kLoopBlock - 1) / kLoopBlock, 1,
                                      kMaxGrid);
      os << "  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; "
         << "e < " << outputs << "; e += (long long)gridDim.x * blockDim.x) {\n";
      os << "    const long long row = e / " << innerCount << ", inner = e % "
         << innerCount << ";\n";
      os << "    " << acc << " a = " << identity << ";\n";
      os << "    for (long long r = 0; r < " << reduced << "; ++r) {\n";
      os << "      const long long col = r * " << innerCount << " + inner;\n";
      os << "      a = " << op << "(a, " << value << ");\n    }\n";
      if (isa<MeanOp>(root))
        os << "    a = a / " << literal(double(reduced), *rootIn) << ";\n";
      os << "    kiln_st(out0 + e, a);\n  }\n";
    } else {
      os << "  " << acc << " a = " << identity << ";\n";
      loop("    a = " + op + "(a, " + value + ");\n");
      os << "  a = kiln_block_reduce(a, " << op << ", " << acc << "(" << identity
         << "), shared);\n";
      if (isa<MeanOp>(root))
        os << "  a = a / " << literal(double(cols), *rootIn) << ";\n";
      os << "  if (threadIdx.x == 0)\n    kiln_st(out0 + row, a);\n";
    }
  } else if (kind == "softmax") {
    bool log = isa<LogSoftmaxOp>(root);
    os << "  " << acc << " m = -" << inf << ";\n";
    loop("    m = kiln_max(m, " + value + ");\n");
    os << "  m = kiln_block_reduce(m, kiln_max_op(), " << acc << "(-" << inf
       << "), shared);\n";
    os << "  " << acc << " s = 0;\n";
    loop("    s += kiln_exp(" + value + " - m);\n");
    os << "  s = kiln_block_reduce(s, kiln_sum_op(), " << acc << "(0), shared);\n";
    if (log) {
      os << "  const " << acc << " ls = kiln_log(s);\n";
      loop("    kiln_st(out0 + row * " + std::to_string(cols) + " + col, " +
           value + " - m - ls);\n");
    } else {
      os << "  const " << acc << " inv = " << acc << "(1) / s;\n";
      loop("    kiln_st(out0 + row * " + std::to_string(cols) +
           " + col, kiln_exp(" + value + " - m) * inv);\n");
    }
  } else { // layer_norm: two passes for the variance (no cancellation)
    double eps = root->getAttrOfType<FloatAttr>("epsilon").getValueAsDouble();
    auto argIndex = [&](unsigned k) {
      return std::to_string(cast<BlockArgument>(root->getOperand(k)).getArgNumber());
    };
    os << "  " << acc << " s = 0;\n";
    loop("    s += " + value + ";\n");
    os << "  const " << acc << " mean = kiln_block_reduce(s, kiln_sum_op(), "
       << acc << "(0), shared) / " << literal(double(cols), *rootIn) << ";\n";
    os << "  " << acc << " q = 0;\n";
    loop("    const " + acc + " d = " + value + " - mean;\n    q += d * d;\n");
    os << "  const " << acc << " var = kiln_block_reduce(q, kiln_sum_op(), " << acc
       << "(0), shared) / " << literal(double(cols), *rootIn) << ";\n";
    os << "  const " << acc << " rstd = " << acc << "(1) / kiln_sqrt(var + "
       << literal(eps, *rootIn) << ");\n";
    std::string y = "(" + value + " - mean) * rstd * kiln_ld(in" + argIndex(1) +
                    " + col)";
    if (root->getNumOperands() > 2)
      y += " + kiln_ld(in" + argIndex(2) + " + col)";
    loop("    kiln_st(out0 + row * " + std::to_string(cols) + " + col, " + y +
         ");\n");
  }
  os << "}\n";
  (void)outT;
  return info;
}

std::optional<CUDAKernelInfo> Emitter::emit(llvm::raw_ostream &os,
                                            std::string &why) {
  if (fusion_.getKind() != "loop" && fusion_.getKind() != "reduction") {
    why = ("a \"" + fusion_.getKind() + "\" fusion").str();
    return std::nullopt;
  }
  if (!checkBody(why) || !collectTypes(why))
    return std::nullopt;
  // Emit into a buffer: nothing reaches `os` for a fusion that fails.
  std::string text;
  llvm::raw_string_ostream buffer(text);
  auto info = fusion_.getKind() == "loop" ? emitLoop(buffer, why)
                                          : emitReduction(buffer, why);
  if (!info)
    return std::nullopt;
  os << "// " << info->kind << " kernel at " << fusion_.getLoc() << "\n"
     << buffer.str() << "\n";
  return info;
}

} // namespace

std::optional<CUDAKernelInfo> emitKernel(FusionOp fusion, StringRef name,
                                         bool restrictPtrs, llvm::raw_ostream &os,
                                         std::string &why) {
  Emitter emitter(fusion, name, restrictPtrs);
  return emitter.emit(os, why);
}

} // namespace mlir::kiln::cuda
