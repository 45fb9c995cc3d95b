//===- ScalarOps.cpp - One element of a kiln elementwise op in CUDA C -----===//
//
// One row per op: the mnemonic, its kind, and the device function that
// computes it (Prelude.cuh holds the formulas, written once). Integer
// variants follow the runtime (wrap-around, x / 0 = 0).
//
//===----------------------------------------------------------------------===//
#include "ScalarOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdio>

using namespace mlir;

namespace mlir::kiln::cuda {
namespace {

enum class Kind {
  Unsupported,
  Unary,    // kiln_<name>(x); integer versions for some
  Binary,   // kiln_<name>(x, y)
  Compare,  // C operator
  Logic,    // C operator on bools
  Select,
  Cast,
  Identity, // broadcast_to
};

Kind kindOf(StringRef name) {
  return llvm::StringSwitch<Kind>(name)
      .Cases("neg", "abs", "exp", "log", "sqrt", "rsqrt", "reciprocal",
             Kind::Unary)
      .Cases("tanh", "sigmoid", "relu", "leaky_relu", "elu", "gelu", "silu",
             Kind::Unary)
      .Cases("softplus", "sin", "cos", "erf", "floor", "ceil", "round",
             Kind::Unary)
      .Cases("sign", "clip", Kind::Unary)
      .Cases("add", "sub", "mul", "div", "pow", "max", "min", Kind::Binary)
      .Cases("eq", "ne", "lt", "le", "gt", "ge", Kind::Compare)
      .Cases("and", "or", "xor", "not", Kind::Logic)
      .Case("select", Kind::Select)
      .Case("cast", Kind::Cast)
      .Case("broadcast_to", Kind::Identity)
      .Default(Kind::Unsupported);
}

/// Ops with an integer version: "i"-prefixed in the prelude, or the float
/// template itself where that is already right for integers.
std::optional<std::string> integerFunction(StringRef name) {
  if (llvm::is_contained({"neg", "abs", "sign", "add", "sub", "mul", "div",
                          "max", "min"},
                         name))
    return ("kiln_i" + name).str();
  if (name == "relu")
    return std::string("kiln_relu");
  if (name == "clip")
    return std::string("clip");
  return std::nullopt;
}

Type elementTypeOfValue(Value v) {
  return cast<ShapedType>(v.getType()).getElementType();
}

std::string floatText(double v, bool isDouble) {
  if (std::isnan(v))
    return isDouble ? "__longlong_as_double(0x7ff8000000000000LL)"
                    : "__int_as_float(0x7fc00000)";
  if (std::isinf(v))
    return std::string(v < 0 ? "(-" : "(") +
           (isDouble ? "__longlong_as_double(0x7ff0000000000000LL)"
                     : "__int_as_float(0x7f800000)") +
           ")";
  char buf[64];
  std::snprintf(buf, sizeof buf, isDouble ? "%.17g" : "%.9g", v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return isDouble ? s : s + "f";
}

} // namespace

std::optional<ElementType> elementTypeOf(Type type, std::string &why) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    type = shaped.getElementType();
  ElementType t;
  if (type.isF32()) {
    t = {"float", "float", true, false, 32, ""};
  } else if (type.isF16()) {
    t = {"__half", "float", true, false, 16, "kiln_round_f16"};
  } else if (type.isBF16()) {
    t = {"__nv_bfloat16", "float", true, false, 16, "kiln_round_bf16"};
  } else if (type.isF64()) {
    t = {"double", "double", true, false, 64, ""};
  } else if (type.isInteger(1)) {
    t = {"unsigned char", "bool", false, true, 1, ""};
  } else if (type.isInteger(8)) {
    t = {"signed char", "signed char", false, false, 8, ""};
  } else if (type.isInteger(32)) {
    t = {"int", "int", false, false, 32, ""};
  } else if (type.isInteger(64)) {
    t = {"long long", "long long", false, false, 64, ""};
  } else {
    llvm::raw_string_ostream os(why);
    os << "element type " << type;
    return std::nullopt;
  }
  return t;
}

std::string literal(double value, const ElementType &t) {
  if (t.isFloat)
    return floatText(value, t.reg == "double");
  if (t.isBool)
    return value != 0 ? "true" : "false";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lldLL", static_cast<long long>(value));
  return "(" + t.reg + ")" + buf;
}

bool canEmitScalar(Operation *op, std::string &why) {
  StringRef name = op->getName().stripDialect();
  Kind kind = kindOf(name);
  auto fail = [&](const Twine &reason) {
    why = ("'" + name + "' " + reason).str();
    return false;
  };
  if (kind == Kind::Unsupported)
    return fail("has no CUDA code generator");
  if (op->getNumResults() != 1)
    return fail("has more than one result");
  SmallVector<Value> values(op->getOperands());
  values.append(op->result_begin(), op->result_end());
  for (Value v : values) {
    std::string typeWhy;
    if (!elementTypeOf(v.getType(), typeWhy))
      return fail("on " + typeWhy);
  }
  Type result = elementTypeOfValue(op->getResult(0));
  if ((kind == Kind::Unary || kind == Kind::Binary) && !isa<FloatType>(result) &&
      (!integerFunction(name) || result.isInteger(1)))
    return fail("on integers (runs op by op)");
  if (kind == Kind::Select && !elementTypeOfValue(op->getOperand(0)).isInteger(1))
    return fail("with a non-boolean condition");
  return true;
}

std::string emitScalar(Operation *op, ArrayRef<std::string> x) {
  StringRef name = op->getName().stripDialect();
  std::string why;
  ElementType rt = *elementTypeOf(op->getResult(0).getType(), why);
  auto attr = [&](StringRef a, double dflt) {
    auto f = op->getAttrOfType<FloatAttr>(a);
    return f ? f.getValueAsDouble() : dflt;
  };
  auto call = [&](const std::string &fn, ArrayRef<std::string> args) {
    std::string s = fn + "(";
    for (size_t i = 0; i < args.size(); ++i)
      s += (i ? ", " : "") + args[i];
    return s + ")";
  };
  switch (kindOf(name)) {
  case Kind::Unary:
  case Kind::Binary: {
    if (!rt.isFloat) {
      std::string fn = *integerFunction(name);
      if (fn != "clip")
        return call(fn, x);
      // v < lo ? sat(ceil(lo)) : (v > hi ? sat(floor(hi)) : v), compared in
      // double, as the CPU backend.
      double limit = std::ldexp(1.0, int(rt.bits) - 1);
      auto sat = [&](double d) {
        return literal(std::max(-limit, std::min(limit - 1, d)), rt);
      };
      std::string r = x[0];
      if (auto hi = op->getAttrOfType<FloatAttr>("max"))
        r = "((double)" + x[0] + " > " + floatText(hi.getValueAsDouble(), true) +
            " ? " + sat(std::floor(hi.getValueAsDouble())) + " : " + r + ")";
      if (auto lo = op->getAttrOfType<FloatAttr>("min"))
        r = "((double)" + x[0] + " < " + floatText(lo.getValueAsDouble(), true) +
            " ? " + sat(std::ceil(lo.getValueAsDouble())) + " : " + r + ")";
      return r;
    }
    if (name == "leaky_relu")
      return call("kiln_leaky_relu", {x[0], literal(attr("alpha", 0.01), rt)});
    if (name == "elu")
      return call("kiln_elu", {x[0], literal(attr("alpha", 1.0), rt)});
    if (name == "gelu") {
      auto approx = op->getAttrOfType<StringAttr>("approximate");
      return call(approx && approx.getValue() == "tanh" ? "kiln_gelu_tanh"
                                                        : "kiln_gelu",
                  x);
    }
    if (name == "clip") {
      std::string r = x[0];
      if (auto hi = op->getAttrOfType<FloatAttr>("max")) {
        std::string h = literal(hi.getValueAsDouble(), rt);
        r = "(" + x[0] + " > " + h + " ? " + h + " : " + x[0] + ")";
      }
      if (auto lo = op->getAttrOfType<FloatAttr>("min")) {
        std::string l = literal(lo.getValueAsDouble(), rt);
        r = "(" + x[0] + " < " + l + " ? " + l + " : " + r + ")";
      }
      return r;
    }
    return call(("kiln_" + name).str(), x);
  }
  case Kind::Compare: {
    std::string opText = llvm::StringSwitch<std::string>(name)
                             .Case("eq", "==")
                             .Case("ne", "!=")
                             .Case("lt", "<")
                             .Case("le", "<=")
                             .Case("gt", ">")
                             .Default(">=");
    return "(" + x[0] + " " + opText + " " + x[1] + ")";
  }
  case Kind::Logic:
    if (name == "not")
      return "(!" + x[0] + ")";
    if (name == "and")
      return "(" + x[0] + " && " + x[1] + ")";
    if (name == "or")
      return "(" + x[0] + " || " + x[1] + ")";
    return "(" + x[0] + " != " + x[1] + ")";
  case Kind::Select:
    return "(" + x[0] + " ? " + x[1] + " : " + x[2] + ")";
  case Kind::Cast: {
    ElementType from = *elementTypeOf(op->getOperand(0).getType(), why);
    if (from.reg == rt.reg)
      return x[0];
    if (rt.isBool)
      return "(" + x[0] + " != " + (from.isFloat ? literal(0, from) : "0") + ")";
    if (from.isBool)
      return "(" + x[0] + " ? " + literal(1, rt) + " : " + literal(0, rt) + ")";
    if (from.isFloat && !rt.isFloat) {
      // x <= -2^(b-1) -> min, x >= 2^(b-1) -> max, NaN -> 0.
      double limit = std::ldexp(1.0, int(rt.bits) - 1);
      long long maxValue =
          rt.bits == 64 ? 0x7fffffffffffffffLL : (1LL << (rt.bits - 1)) - 1;
      std::string lo = "(" + rt.reg + ")(-" + std::to_string(maxValue) + "LL - 1)";
      std::string hi = "(" + rt.reg + ")" + std::to_string(maxValue) + "LL";
      return "kiln_f2i<" + rt.reg + ">(" + x[0] + ", " +
             floatText(-limit, true) + ", " + floatText(limit, true) + ", " +
             lo + ", " + hi + ")";
    }
    return "((" + rt.reg + ")" + x[0] + ")";
  }
  case Kind::Identity:
  case Kind::Unsupported:
    break;
  }
  return x[0];
}

} // namespace mlir::kiln::cuda
