//===- KilnFolding.cpp - Constant folding shared by the op tables ---------===//
#include "KilnFoldUtils.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Support/Shapes.h"

#include <cmath>

using namespace mlir;
namespace shapes = ::kiln::shapes;
using namespace mlir::kiln;

/// Integers below 2^53 in magnitude are exact in a double, and so is every
/// correctly rounded sum, difference or product whose exact value stays
/// below it (a result that rounds to 2^53 or beyond may have been rounded).
/// Beyond that, folding through double would be wrong (2^53 + 1 - 2 gave
/// 2^53 - 2), so integer operands and results outside (-2^53, 2^53) are not
/// folded.
static constexpr int64_t kExactIntegerLimit = int64_t(1) << 53;

static bool isExactInteger(int64_t v) {
  return v > -kExactIntegerLimit && v < kExactIntegerLimit;
}
static bool isExactInteger(double d) {
  return std::fabs(d) < double(kExactIntegerLimit);
}

std::optional<SmallVector<double>> mlir::kiln::readDoubles(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  if (!dense.isSplat() &&
      (!shapes::numElements(dense.getType().getShape()) ||
       dense.getNumElements() > kMaxFoldElements))
    return std::nullopt;
  Type element = dense.getElementType();
  SmallVector<double> out;
  if (isa<FloatType>(element)) {
    // APFloat::convertToDouble only accepts doubles; widen the others.
    for (APFloat v : dense.getValues<APFloat>()) {
      bool lost = false;
      v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
      out.push_back(v.convertToDouble());
      if (dense.isSplat())
        break;
    }
    return out;
  }
  if (isa<IntegerType>(element)) {
    for (const APInt &v : dense.getValues<APInt>()) {
      if (element.isInteger(1)) {
        out.push_back(double(v.getBoolValue()));
      } else {
        // Test the integer itself: its conversion to double may round.
        int64_t i = v.getSExtValue();
        if (!isExactInteger(i))
          return std::nullopt;
        out.push_back(double(i));
      }
      if (dense.isSplat())
        break;
    }
    return out;
  }
  return std::nullopt;
}

DenseElementsAttr mlir::kiln::writeDoubles(ShapedType type, ArrayRef<double> values) {
  Type element = type.getElementType();
  if (auto ft = dyn_cast<FloatType>(element)) {
    SmallVector<APFloat> out;
    for (double d : values) {
      APFloat v(d);
      bool lost = false;
      v.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      out.push_back(v);
    }
    return DenseElementsAttr::get(type, out);
  }
  auto it = dyn_cast<IntegerType>(element);
  if (!it)
    return {};
  unsigned width = it.getWidth();
  SmallVector<APInt> out;
  for (double d : values) {
    if (width == 1) {
      if (std::isnan(d))
        return {};
      out.push_back(APInt(1, d != 0));
      continue;
    }
    double t = std::trunc(d);
    double lo = -std::ldexp(1.0, width - 1), hi = std::ldexp(1.0, width - 1);
    if (!std::isfinite(t) || t < lo || t >= hi || !isExactInteger(t))
      return {};
    out.push_back(APInt(width, int64_t(t), /*isSigned=*/true));
  }
  return DenseElementsAttr::get(type, out);
}

OpFoldResult mlir::kiln::foldUnary(Operation *op, Attribute input,
                             llvm::function_ref<double(double)> fn) {
  auto values = readDoubles(input);
  if (!values)
    return {};
  for (double &v : *values)
    v = fn(v);
  return writeDoubles(cast<ShapedType>(op->getResult(0).getType()), *values);
}

/// True when `attr` is a constant whose every element equals `value`, sign
/// of zero included (+0.0 and -0.0 are different identities).
static bool isSplatOf(Attribute attr, double value) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || !dense.isSplat())
    return false;
  auto v = readDoubles(dense);
  return v && (*v)[0] == value &&
         std::signbit((*v)[0]) == std::signbit(value);
}

/// The identity element on the right of a binary op, if it has one. For
/// floats x + 0.0 is not x when x is -0.0 (-0.0 + 0.0 == +0.0), but
/// x + -0.0 is x for every x, and x - +0.0 is x; integers have one zero.
static std::optional<double> rightIdentity(Operation *op, Type element) {
  bool isFloat = isa<FloatType>(element);
  if (isa<AddOp>(op))
    return isFloat ? -0.0 : 0.0;
  if (isa<SubOp, OrOp, XorOp>(op))
    return 0.0;
  if (isa<MulOp, DivOp, AndOp, PowOp>(op))
    return 1.0;
  return std::nullopt;
}

OpFoldResult mlir::kiln::foldBinary(Operation *op, Attribute lhs, Attribute rhs,
                              llvm::function_ref<double(double, double)> fn) {
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  Value lhsValue = op->getOperand(0), rhsValue = op->getOperand(1);
  // x op identity -> x, when that does not change the type (no broadcast).
  Type element = resultType.getElementType();
  if (auto id = rightIdentity(op, element)) {
    if (isSplatOf(rhs, *id) && lhsValue.getType() == resultType)
      return lhsValue;
    if (op->hasTrait<OpTrait::IsCommutative>() && isSplatOf(lhs, *id) &&
        rhsValue.getType() == resultType)
      return rhsValue;
  }
  auto a = readDoubles(lhs), b = readDoubles(rhs);
  if (!a || !b)
    return {};
  // The result may be much larger than either (broadcast) operand; count its
  // elements without overflowing before walking them.
  std::optional<int64_t> count = shapes::numElements(resultType.getShape());
  if (!count || *count > kMaxFoldElements)
    return {};
  // Integer division by zero has no value; leave it to the runtime.
  auto operandElement =
      cast<ShapedType>(lhsValue.getType()).getElementType();
  bool intDiv = isa<DivOp>(op) && isa<IntegerType>(operandElement);
  auto lt = cast<ShapedType>(lhsValue.getType());
  auto rt = cast<ShapedType>(rhsValue.getType());
  bool aSplat = a->size() == 1, bSplat = b->size() == 1;
  if (aSplat && bSplat) {
    if (intDiv && (*b)[0] == 0)
      return {};
    return writeDoubles(resultType, {fn((*a)[0], (*b)[0])});
  }
  // Walk the result index space, mapping each index into both operands.
  ArrayRef<int64_t> out = resultType.getShape();
  int64_t rank = out.size(), n = *count;
  auto strides = [&](ShapedType t) {
    SmallVector<int64_t> s(rank, 0);
    int64_t stride = 1, offset = rank - t.getRank();
    for (int64_t i = t.getRank() - 1; i >= 0; --i) {
      s[offset + i] = t.getDimSize(i) == 1 ? 0 : stride;
      stride *= t.getDimSize(i);
    }
    return s;
  };
  SmallVector<int64_t> sa = strides(lt), sb = strides(rt);
  SmallVector<int64_t> index(rank, 0);
  SmallVector<double> result;
  result.reserve(n);
  for (int64_t linear = 0; linear < n; ++linear) {
    int64_t ia = 0, ib = 0;
    for (int64_t d = 0; d < rank; ++d) {
      ia += index[d] * sa[d];
      ib += index[d] * sb[d];
    }
    double x = aSplat ? (*a)[0] : (*a)[ia], y = bSplat ? (*b)[0] : (*b)[ib];
    if (intDiv && y == 0)
      return {};
    result.push_back(fn(x, y));
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < out[d])
        break;
      index[d] = 0;
    }
  }
  return writeDoubles(resultType, result);
}

OpFoldResult mlir::kiln::foldIdentityReduce(Operation *op, Value input) {
  if (input.getType() == op->getResult(0).getType())
    return input;
  return {};
}
