//===- ScalarOps.cpp - One element of a kiln elementwise op in LLVM IR -----===//
//
// Float math goes through LLVM intrinsics where LLVM has one (log, sqrt,
// pow, floor, f64 exp, ...) and through libm calls marked memory(none)
// otherwise (erf, expm1, log1p, f64 tanh): both vectorize into glibc's
// libmvec (see LLVMBackend.cpp for the mappings). f32 exp and tanh are
// inline (expValue, tanhValue). f16 and bf16 values live in
// registers as f32 and are rounded after every op whose result is f16 or
// bf16, exactly as the eager kernels (f32 compute, 16-bit storage per op)
// do. Integers follow the runtime too (wrap-around, x / 0 = 0); integer
// pow is left to the op-by-op path.
//
//===----------------------------------------------------------------------===//
#include "ScalarOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/Module.h"

#include <cmath>
#include <limits>

using namespace mlir;
using llvm::Intrinsic::ID;

namespace mlir::kiln::cpu {
namespace {

/// How an op computes; one row per kiln mnemonic.
enum class Kind {
  Unsupported,
  FloatUnary,  // float operand and result
  FloatBinary, // float operands and result
  Compare,     // float or i1 operands, i1 result
  Logic,       // i1 operands and result
  Select,      // i1, T, T -> T
  Cast,        // any -> any
  Identity,    // broadcast_to: the element is unchanged
};

Kind kindOf(StringRef name) {
  return llvm::StringSwitch<Kind>(name)
      .Cases("neg", "abs", "exp", "log", "sqrt", "rsqrt", "reciprocal",
             Kind::FloatUnary)
      .Cases("tanh", "sigmoid", "relu", "leaky_relu", "elu", "gelu", "silu",
             Kind::FloatUnary)
      .Cases("softplus", "sin", "cos", "erf", "floor", "ceil", "round",
             Kind::FloatUnary)
      .Cases("sign", "clip", Kind::FloatUnary)
      .Cases("add", "sub", "mul", "div", "pow", "max", "min", Kind::FloatBinary)
      .Cases("eq", "ne", "lt", "le", "gt", "ge", Kind::Compare)
      .Cases("and", "or", "xor", "not", Kind::Logic)
      .Case("select", Kind::Select)
      .Case("cast", Kind::Cast)
      .Case("broadcast_to", Kind::Identity)
      .Default(Kind::Unsupported);
}

Type elementTypeOf(Value v) {
  return cast<ShapedType>(v.getType()).getElementType();
}

double floatAttrOr(Operation *op, StringRef name, double dflt) {
  auto a = op->getAttrOfType<FloatAttr>(name);
  return a ? a.getValueAsDouble() : dflt;
}

llvm::Value *fconst(llvm::IRBuilder<> &b, llvm::Type *t, double v) {
  return llvm::ConstantFP::get(t, v);
}

/// A libm function of one argument of type `t`, marked free of side effects
/// so that the vectorizer may replace it with its libmvec variant.
llvm::Value *libmCall(llvm::IRBuilder<> &b, StringRef base, llvm::Value *x) {
  llvm::Type *t = x->getType();
  std::string name = (base + (t->isFloatTy() ? "f" : "")).str();
  llvm::Module *m = b.GetInsertBlock()->getModule();
  llvm::FunctionCallee fn =
      m->getOrInsertFunction(name, llvm::FunctionType::get(t, {t}, false));
  if (auto *f = dyn_cast<llvm::Function>(fn.getCallee())) {
    f->setDoesNotAccessMemory();
    f->setDoesNotThrow();
    f->setWillReturn();
  }
  llvm::CallInst *call = b.CreateCall(fn, {x});
  call->setDoesNotAccessMemory();
  return call;
}

llvm::Value *unary(ID id, llvm::IRBuilder<> &b, llvm::Value *x) {
  return b.CreateUnaryIntrinsic(id, x);
}

/// a * b + c, fused where the target has FMA.
llvm::Value *mulAdd(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y,
                    llvm::Value *z) {
  return b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {x->getType()}, {x, y, z});
}

} // namespace

/// e^x: f32 inline, the runtime's vecmath::exp (Cephes' expf, ~1 ulp) step
/// for step, so that a fused softmax, sigmoid or SiLU makes no call. As a
/// libmvec call, _ZGVdN8v_expf cost a 16M-float softmax 2x the time of an
/// elementwise negation: every vector register is spilled around each call
/// (the vector ABI saves none), four calls per unrolled step. n = round(x /
/// ln2), r = x - n ln2 in two parts, e^r by a degree-5 polynomial, 2^n
/// applied as two factors so that n in [-150, 128] neither overflows the
/// exponent field nor flushes a subnormal result. Outside [-104, 89] the
/// result is 0 or inf anyway; NaN computes on 0 (fptosi of NaN is poison)
/// and is put back last. f64 keeps llvm.exp (libmvec's exp).
llvm::Value *expValue(llvm::IRBuilder<> &b, llvm::Value *x) {
  llvm::Type *t = x->getType();
  if (!t->isFloatTy())
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::exp, x);
  auto c = [&](double v) { return fconst(b, t, v); };
  llvm::Value *isNumber = b.CreateFCmpORD(x, x);
  llvm::Value *v = b.CreateSelect(b.CreateFCmpOLT(x, c(-104.0)), c(-104.0), x);
  v = b.CreateSelect(b.CreateFCmpOGT(v, c(89.0)), c(89.0), v);
  v = b.CreateSelect(isNumber, v, c(0.0));
  llvm::Value *n = b.CreateUnaryIntrinsic(
      llvm::Intrinsic::roundeven, b.CreateFMul(v, c(1.44269504088896341)));
  llvm::Value *r = b.CreateFSub(v, b.CreateFMul(n, c(0.693359375)));
  r = b.CreateFAdd(r, b.CreateFMul(n, c(2.12194440e-4)));
  const double pc[] = {1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                       4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1};
  llvm::Value *p = c(pc[0]);
  for (size_t i = 1; i < std::size(pc); ++i)
    p = mulAdd(b, p, r, c(pc[i]));
  llvm::Value *y = b.CreateFAdd(mulAdd(b, b.CreateFMul(p, r), r, r), c(1.0));
  llvm::Type *i32 = b.getInt32Ty();
  llvm::Value *k = b.CreateFPToSI(n, i32);
  llvm::Value *k1 = b.CreateAShr(k, 1), *k2 = b.CreateSub(k, k1);
  auto pow2 = [&](llvm::Value *e) {
    return b.CreateBitCast(
        b.CreateShl(b.CreateAdd(e, llvm::ConstantInt::get(i32, 127)), 23), t);
  };
  llvm::Value *e = b.CreateFMul(b.CreateFMul(y, pow2(k1)), pow2(k2));
  return b.CreateSelect(isNumber, e, x);
}

namespace {

/// tanh: f32 inline, as Eigen's and XLA's rational form x P(x^2) / Q(x^2)
/// on (-7.9, 7.9), exactly +-1 beyond, x itself below |x| = 4e-4; absolute error
/// ~1e-7 against tanh in f64, with no call. libmvec's tanhf took 2.8 us per
/// 4096 floats here against 1.4 for this, and the call spills every vector
/// register of the kernel around it (an LSTM's gate kernel has two). NaN
/// stays NaN: the clamps are ordered compares, false for it. f64 calls libm.
llvm::Value *tanhValue(llvm::IRBuilder<> &b, llvm::Value *x) {
  llvm::Type *t = x->getType();
  if (!t->isFloatTy())
    return libmCall(b, "tanh", x);
  llvm::Value *c = fconst(b, t, 7.90531110763549805);
  llvm::Value *negC = fconst(b, t, -7.90531110763549805);
  llvm::Value *xc = b.CreateSelect(b.CreateFCmpOGT(x, c), c, x);
  xc = b.CreateSelect(b.CreateFCmpOLT(xc, negC), negC, xc);
  llvm::Value *x2 = b.CreateFMul(xc, xc);
  const double pc[] = {-2.76076847742355e-16, 2.00018790482477e-13,
                       -8.60467152213735e-11, 5.12229709037114e-08,
                       1.48572235717979e-05,  6.37261928875436e-04,
                       4.89352455891786e-03};
  const double qc[] = {1.19825839466702e-06, 1.18534705686654e-04,
                       2.26843463243900e-03, 4.89352518554385e-03};
  llvm::Value *p = fconst(b, t, pc[0]);
  for (size_t i = 1; i < std::size(pc); ++i)
    p = mulAdd(b, p, x2, fconst(b, t, pc[i]));
  llvm::Value *q = fconst(b, t, qc[0]);
  for (size_t i = 1; i < std::size(qc); ++i)
    q = mulAdd(b, q, x2, fconst(b, t, qc[i]));
  llvm::Value *r = b.CreateFDiv(b.CreateFMul(p, xc), q);
  // Past the clamp, exactly +-1 (libm's value from ~9 on, and at +-inf,
  // where GELU's x (1 + tanh) must see 1 + -1 = 0, not a few ulp).
  llvm::Value *ax = unary(llvm::Intrinsic::fabs, b, x);
  llvm::Value *sat = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign,
                                             fconst(b, t, 1.0), x);
  r = b.CreateSelect(b.CreateFCmpOGE(ax, c), sat, r);
  return b.CreateSelect(b.CreateFCmpOLT(ax, fconst(b, t, 0.0004)), x, r);
}

/// NaN-propagating max/min as numpy.maximum: a if (a > b or a is NaN) else b.
llvm::Value *maxMin(bool isMax, llvm::IRBuilder<> &b, llvm::Value *x,
                    llvm::Value *y) {
  llvm::Value *wins = isMax ? b.CreateFCmpOGT(x, y) : b.CreateFCmpOLT(x, y);
  return b.CreateSelect(b.CreateOr(wins, b.CreateFCmpUNO(x, x)), x, y);
}

llvm::Value *floatUnary(Operation *op, StringRef name, llvm::IRBuilder<> &b,
                        llvm::Value *x) {
  llvm::Type *t = x->getType();
  llvm::Value *zero = fconst(b, t, 0.0), *one = fconst(b, t, 1.0);
  if (name == "neg")
    return b.CreateFNeg(x);
  if (name == "abs")
    return unary(llvm::Intrinsic::fabs, b, x);
  if (name == "exp")
    return expValue(b, x);
  if (name == "log")
    return unary(llvm::Intrinsic::log, b, x);
  if (name == "sqrt")
    return unary(llvm::Intrinsic::sqrt, b, x);
  if (name == "rsqrt")
    return b.CreateFDiv(one, unary(llvm::Intrinsic::sqrt, b, x));
  if (name == "reciprocal")
    return b.CreateFDiv(one, x);
  if (name == "tanh")
    return tanhValue(b, x);
  if (name == "sigmoid")
    return b.CreateFDiv(
        one, b.CreateFAdd(one, expValue(b, b.CreateFNeg(x))));
  if (name == "relu") // x < 0 ? 0 : x; NaN stays NaN.
    return b.CreateSelect(b.CreateFCmpOLT(x, zero), zero, x);
  if (name == "leaky_relu")
    return b.CreateSelect(b.CreateFCmpOGE(x, zero), x,
                          b.CreateFMul(fconst(b, t, floatAttrOr(op, "alpha", 0.01)), x));
  if (name == "elu")
    return b.CreateSelect(
        b.CreateFCmpOGT(x, zero), x,
        b.CreateFMul(fconst(b, t, floatAttrOr(op, "alpha", 1.0)),
                     libmCall(b, "expm1", x)));
  if (name == "gelu") {
    llvm::Value *half = b.CreateFMul(fconst(b, t, 0.5), x);
    auto approx = op->getAttrOfType<StringAttr>("approximate");
    if (approx && approx.getValue() == "tanh") {
      // 0.5 * x * (1 + tanh(c * (x + 0.044715 * x * x * x)))
      llvm::Value *cube = b.CreateFMul(
          b.CreateFMul(b.CreateFMul(fconst(b, t, 0.044715), x), x), x);
      llvm::Value *inner = b.CreateFMul(fconst(b, t, 0.79788456080286535588),
                                        b.CreateFAdd(x, cube));
      return b.CreateFMul(half, b.CreateFAdd(one, tanhValue(b, inner)));
    }
    llvm::Value *scaled = b.CreateFMul(x, fconst(b, t, 0.70710678118654752440));
    return b.CreateFMul(half, b.CreateFAdd(one, libmCall(b, "erf", scaled)));
  }
  if (name == "silu")
    return b.CreateFDiv(
        x, b.CreateFAdd(one, expValue(b, b.CreateFNeg(x))));
  if (name == "softplus") {
    // max(x, 0) + log1p(exp(-|x|)), with std::max's (x < 0 ? 0 : x).
    llvm::Value *pos = b.CreateSelect(b.CreateFCmpOLT(x, zero), zero, x);
    llvm::Value *e =
        expValue(b, b.CreateFNeg(unary(llvm::Intrinsic::fabs, b, x)));
    return b.CreateFAdd(pos, libmCall(b, "log1p", e));
  }
  if (name == "sin")
    return unary(llvm::Intrinsic::sin, b, x);
  if (name == "cos")
    return unary(llvm::Intrinsic::cos, b, x);
  if (name == "erf")
    return libmCall(b, "erf", x);
  if (name == "floor")
    return unary(llvm::Intrinsic::floor, b, x);
  if (name == "ceil")
    return unary(llvm::Intrinsic::ceil, b, x);
  if (name == "round") // half to even, as nearbyint in the default mode
    return unary(llvm::Intrinsic::roundeven, b, x);
  if (name == "sign") {
    llvm::Value *s = b.CreateSelect(
        b.CreateFCmpOGT(x, zero), one,
        b.CreateSelect(b.CreateFCmpOLT(x, zero), fconst(b, t, -1.0), zero));
    return b.CreateSelect(b.CreateFCmpUNO(x, x), x, s);
  }
  assert(name == "clip" && "canEmitScalar admits no other unary op");
  // x < lo ? lo : (x > hi ? hi : x); an absent bound is no bound.
  llvm::Value *r = x;
  if (auto hi = op->getAttrOfType<FloatAttr>("max")) {
    llvm::Value *h = fconst(b, t, hi.getValueAsDouble());
    r = b.CreateSelect(b.CreateFCmpOGT(x, h), h, x);
  }
  if (auto lo = op->getAttrOfType<FloatAttr>("min")) {
    llvm::Value *l = fconst(b, t, lo.getValueAsDouble());
    r = b.CreateSelect(b.CreateFCmpOLT(x, l), l, r);
  }
  return r;
}

/// The ops of the float tables that also have integer versions here.
bool isIntegerOp(StringRef name) {
  return llvm::is_contained({"neg", "abs", "relu", "sign", "clip", "add", "sub",
                             "mul", "div", "max", "min"},
                            name);
}

/// Integer ops as the runtime computes them: two's complement wrap-around,
/// x / 0 = 0, x / -1 = -x (no INT_MIN trap), clip bounds in double.
llvm::Value *integerOp(Operation *op, StringRef name, llvm::IRBuilder<> &b,
                       ArrayRef<llvm::Value *> v) {
  llvm::Value *x = v[0];
  auto *t = cast<llvm::IntegerType>(x->getType());
  llvm::Value *zero = llvm::ConstantInt::get(t, 0);
  if (name == "neg")
    return b.CreateSub(zero, x);
  if (name == "abs")
    return b.CreateSelect(b.CreateICmpSLT(x, zero), b.CreateSub(zero, x), x);
  if (name == "relu")
    return b.CreateSelect(b.CreateICmpSLT(x, zero), zero, x);
  if (name == "sign")
    return b.CreateSub(b.CreateZExt(b.CreateICmpSGT(x, zero), t),
                       b.CreateZExt(b.CreateICmpSLT(x, zero), t));
  if (name == "clip") {
    // v < lo ? saturate(ceil(lo)) : (v > hi ? saturate(floor(hi)) : x)
    unsigned bits = t->getBitWidth();
    double limit = std::ldexp(1.0, bits - 1); // |INT_MIN| of the type
    auto saturate = [&](double d) -> llvm::Value * {
      if (d >= limit)
        return llvm::ConstantInt::get(t, llvm::APInt::getSignedMaxValue(bits));
      if (d <= -limit)
        return llvm::ConstantInt::get(t, llvm::APInt::getSignedMinValue(bits));
      return llvm::ConstantInt::get(t, uint64_t(int64_t(d)), true);
    };
    llvm::Value *wide = b.CreateSIToFP(x, b.getDoubleTy());
    llvm::Value *r = x;
    if (auto hi = op->getAttrOfType<FloatAttr>("max")) {
      double h = hi.getValueAsDouble();
      r = b.CreateSelect(b.CreateFCmpOGT(wide, fconst(b, b.getDoubleTy(), h)),
                         saturate(std::floor(h)), r);
    }
    if (auto lo = op->getAttrOfType<FloatAttr>("min")) {
      double l = lo.getValueAsDouble();
      r = b.CreateSelect(b.CreateFCmpOLT(wide, fconst(b, b.getDoubleTy(), l)),
                         saturate(std::ceil(l)), r);
    }
    return r;
  }
  llvm::Value *y = v[1];
  if (name == "add")
    return b.CreateAdd(x, y);
  if (name == "sub")
    return b.CreateSub(x, y);
  if (name == "mul")
    return b.CreateMul(x, y);
  if (name == "max")
    return b.CreateSelect(b.CreateICmpSGT(x, y), x, y);
  if (name == "min")
    return b.CreateSelect(b.CreateICmpSLT(x, y), x, y);
  assert(name == "div" && "isIntegerOp admits no other op");
  llvm::Value *one = llvm::ConstantInt::get(t, 1);
  llvm::Value *byZero = b.CreateICmpEQ(y, zero);
  llvm::Value *byMinusOne = b.CreateICmpEQ(y, llvm::ConstantInt::get(t, -1, true));
  llvm::Value *safe = b.CreateSelect(b.CreateOr(byZero, byMinusOne), one, y);
  llvm::Value *q = b.CreateSDiv(x, safe);
  return b.CreateSelect(byZero, zero,
                        b.CreateSelect(byMinusOne, b.CreateSub(zero, x), q));
}

llvm::Value *floatBinary(StringRef name, llvm::IRBuilder<> &b, llvm::Value *x,
                         llvm::Value *y) {
  if (name == "add")
    return b.CreateFAdd(x, y);
  if (name == "sub")
    return b.CreateFSub(x, y);
  if (name == "mul")
    return b.CreateFMul(x, y);
  if (name == "div")
    return b.CreateFDiv(x, y);
  if (name == "pow")
    return b.CreateBinaryIntrinsic(llvm::Intrinsic::pow, x, y);
  return maxMin(name == "max", b, x, y);
}

llvm::Value *compare(StringRef name, llvm::IRBuilder<> &b, llvm::Value *x,
                     llvm::Value *y) {
  if (x->getType()->isIntegerTy()) {
    auto pred = llvm::StringSwitch<llvm::CmpInst::Predicate>(name)
                    .Case("eq", llvm::CmpInst::ICMP_EQ)
                    .Case("ne", llvm::CmpInst::ICMP_NE)
                    .Case("lt", llvm::CmpInst::ICMP_SLT)
                    .Case("le", llvm::CmpInst::ICMP_SLE)
                    .Case("gt", llvm::CmpInst::ICMP_SGT)
                    .Default(llvm::CmpInst::ICMP_SGE);
    return b.CreateICmp(pred, x, y);
  }
  // C++ semantics: every comparison with NaN is false except !=.
  auto pred = llvm::StringSwitch<llvm::CmpInst::Predicate>(name)
                  .Case("eq", llvm::CmpInst::FCMP_OEQ)
                  .Case("ne", llvm::CmpInst::FCMP_UNE)
                  .Case("lt", llvm::CmpInst::FCMP_OLT)
                  .Case("le", llvm::CmpInst::FCMP_OLE)
                  .Case("gt", llvm::CmpInst::FCMP_OGT)
                  .Default(llvm::CmpInst::FCMP_OGE);
  return b.CreateFCmp(pred, x, y);
}

/// Converts as the runtime's convertValue: float -> int saturates (NaN -> 0),
/// anything -> bool is `!= 0`, bool -> number is 0 or 1.
llvm::Value *convert(llvm::IRBuilder<> &b, llvm::Value *x, Type from,
                     Type to, llvm::Type *toLLVM) {
  llvm::Type *src = x->getType();
  if (src == toLLVM)
    return x;
  if (to.isInteger(1))
    return src->isFloatingPointTy()
               ? b.CreateFCmpUNE(x, llvm::ConstantFP::get(src, 0.0))
               : b.CreateICmpNE(x, llvm::ConstantInt::get(src, 0));
  bool fromBool = from.isInteger(1);
  if (toLLVM->isFloatingPointTy()) {
    if (src->isFloatingPointTy())
      return b.CreateFPCast(x, toLLVM);
    return fromBool ? b.CreateUIToFP(x, toLLVM) : b.CreateSIToFP(x, toLLVM);
  }
  if (src->isFloatingPointTy())
    return b.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {toLLVM, src}, {x});
  return fromBool ? b.CreateZExt(x, toLLVM) : b.CreateSExtOrTrunc(x, toLLVM);
}

} // namespace

llvm::Value *bf16BitsToFloat(llvm::IRBuilder<> &b, llvm::Value *bits) {
  llvm::Value *wide = b.CreateShl(b.CreateZExt(bits, b.getInt32Ty()), 16);
  return b.CreateBitCast(wide, b.getFloatTy());
}

llvm::Value *floatToBF16Bits(llvm::IRBuilder<> &b, llvm::Value *x) {
  llvm::Value *u = b.CreateBitCast(x, b.getInt32Ty());
  llvm::Value *isNaN =
      b.CreateICmpUGT(b.CreateAnd(u, 0x7fffffffu), b.getInt32(0x7f800000u));
  llvm::Value *quiet = b.CreateOr(b.CreateLShr(u, 16), 0x40u);
  llvm::Value *odd = b.CreateAnd(b.CreateLShr(u, 16), 1u);
  llvm::Value *rounded =
      b.CreateLShr(b.CreateAdd(b.CreateAdd(u, b.getInt32(0x7fffu)), odd), 16);
  return b.CreateTrunc(b.CreateSelect(isNaN, quiet, rounded), b.getInt16Ty());
}

llvm::Type *scalarTypeOf(Type type, llvm::LLVMContext &ctx, std::string &why) {
  // f16 and bf16 compute in f32, as the eager kernels do.
  if (type.isF32() || type.isF16() || type.isBF16())
    return llvm::Type::getFloatTy(ctx);
  if (type.isF64())
    return llvm::Type::getDoubleTy(ctx);
  if (auto i = dyn_cast<IntegerType>(type))
    if (llvm::is_contained({1u, 8u, 32u, 64u}, i.getWidth()))
      return llvm::IntegerType::get(ctx, i.getWidth());
  llvm::raw_string_ostream os(why);
  os << "element type " << type;
  return nullptr;
}

bool canEmitScalar(Operation *op, std::string &why) {
  StringRef name = op->getName().stripDialect();
  Kind kind = kindOf(name);
  auto fail = [&](const Twine &reason) {
    why = ("'" + name + "' " + reason).str();
    return false;
  };
  if (kind == Kind::Unsupported)
    return fail("has no CPU code generator");
  if (op->getNumResults() != 1)
    return fail("has more than one result");
  llvm::LLVMContext probe;
  SmallVector<Value> values(op->getOperands());
  values.append(op->result_begin(), op->result_end());
  for (Value v : values)
    if (!scalarTypeOf(elementTypeOf(v), probe, why))
      return fail("on " + why);
  Type result = elementTypeOf(op->getResult(0));
  switch (kind) {
  case Kind::FloatUnary:
  case Kind::FloatBinary:
    if (!isa<FloatType>(result) && !isIntegerOp(name))
      return fail("on integers (runs op by op)");
    return true;
  case Kind::Compare:
    return true;
  case Kind::Logic:
  case Kind::Cast:
  case Kind::Identity:
    return true;
  case Kind::Select:
    return elementTypeOf(op->getOperand(0)).isInteger(1) ||
           fail("with a non-boolean condition");
  case Kind::Unsupported:
    break;
  }
  return fail("has no CPU code generator");
}

llvm::Value *emitScalar(Operation *op, ArrayRef<llvm::Value *> x,
                        llvm::IRBuilder<> &b) {
  StringRef name = op->getName().stripDialect();
  switch (kindOf(name)) {
  case Kind::FloatUnary:
    if (x[0]->getType()->isIntegerTy())
      return integerOp(op, name, b, x);
    return floatUnary(op, name, b, x[0]);
  case Kind::FloatBinary:
    if (x[0]->getType()->isIntegerTy())
      return integerOp(op, name, b, x);
    return floatBinary(name, b, x[0], x[1]);
  case Kind::Compare:
    return compare(name, b, x[0], x[1]);
  case Kind::Logic:
    if (name == "not")
      return b.CreateNot(x[0]);
    if (name == "and")
      return b.CreateAnd(x[0], x[1]);
    if (name == "or")
      return b.CreateOr(x[0], x[1]);
    return b.CreateXor(x[0], x[1]);
  case Kind::Select:
    return b.CreateSelect(x[0], x[1], x[2]);
  case Kind::Cast: {
    std::string why;
    Type to = elementTypeOf(op->getResult(0));
    return convert(b, x[0], elementTypeOf(op->getOperand(0)), to,
                   scalarTypeOf(to, b.getContext(), why));
  }
  case Kind::Identity:
  case Kind::Unsupported:
    break;
  }
  return x[0];
}

} // namespace mlir::kiln::cpu
