//===- Elementwise.cpp - Eager elementwise ops -----------------------------===//
//
// Checks (defined inputs, one device, dtypes in the op's domain, shapes that
// broadcast by kiln::shapes), allocates the result and runs the CPU inner
// loop over the broadcast shape. Names and domains come from OpTables.def.
//
//===----------------------------------------------------------------------===//
#include "kiln/Ops.h"

#include "../autograd/Derivatives.h"
#include "../autograd/Record.h"
#include "../cpu/ElementwiseKernels.h"
#include "EagerUtil.h"
#include "kiln/Support/Shapes.h"

namespace kiln {

bool inDomain(OpDomain domain, DType dtype) {
  switch (domain) {
  case OpDomain::Float:
    return isFloat(dtype);
  case OpDomain::Signed:
  case OpDomain::Numeric:
    return dtype != DType::Bool;
  case OpDomain::Bool:
    return dtype == DType::Bool;
  case OpDomain::Any:
    return true;
  }
  return false;
}

namespace {
const char *domainText(OpDomain d) {
  switch (d) {
  case OpDomain::Float:
    return "a float dtype (f64, f32, f16, bf16)";
  case OpDomain::Signed:
  case OpDomain::Numeric:
    return "a numeric dtype (not i1)";
  case OpDomain::Bool:
    return "i1";
  case OpDomain::Any:
    return "any dtype";
  }
  return "?";
}
} // namespace

std::string_view opName(UnaryOp op) {
  switch (op) {
#define KILN_UNARY_OP(E, fn, name, domain)                                     \
  case UnaryOp::E:                                                             \
    return name;
#include "kiln/OpTables.def"
  }
  return "?";
}
std::string_view opName(BinaryOp op) {
  switch (op) {
#define KILN_BINARY_OP(E, fn, name, domain)                                    \
  case BinaryOp::E:                                                            \
    return name;
#include "kiln/OpTables.def"
  }
  return "?";
}
OpDomain opDomain(UnaryOp op) {
  switch (op) {
#define KILN_UNARY_OP(E, fn, name, domain)                                     \
  case UnaryOp::E:                                                             \
    return OpDomain::domain;
#include "kiln/OpTables.def"
  }
  return OpDomain::Any;
}
OpDomain opDomain(BinaryOp op) {
  switch (op) {
#define KILN_BINARY_OP(E, fn, name, domain)                                    \
  case BinaryOp::E:                                                            \
    return OpDomain::domain;
#include "kiln/OpTables.def"
  }
  return OpDomain::Any;
}

bool isComparison(BinaryOp op) {
  return op == BinaryOp::Eq || op == BinaryOp::Ne || op == BinaryOp::Lt ||
         op == BinaryOp::Le || op == BinaryOp::Gt || op == BinaryOp::Ge;
}

UnaryParams defaultParams(UnaryOp op) {
  UnaryParams p;
  if (op == UnaryOp::LeakyRelu)
    p.alpha = 0.01;
  else if (op == UnaryOp::Elu)
    p.alpha = 1.0;
  return p;
}

namespace {
Expected<Tensor> unaryKernel(UnaryOp op, const Tensor &x,
                             const UnaryParams &params) {
  std::string_view name = opName(op);
  KILN_RETURN_IF_ERROR(eager::checkInputs(name, {&x}));
  if (!inDomain(opDomain(op), x.dtype()))
    return invalidArgument("op '", name, "': input has dtype ",
                           dtypeName(x.dtype()), ", expected ",
                           domainText(opDomain(op)));
  if (op == UnaryOp::Clip && params.lo > params.hi)
    return invalidArgument("op 'clip': min ", params.lo, " > max ", params.hi);
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(x.shape(), x.dtype(), x.device()));
  cpu::LoopOperand ops[2] = {cpu::makeOperand(out, out.shape()),
                             cpu::makeOperand(x, out.shape())};
  cpu::forEachRun(out.shape(), 2, ops, cpu::unaryLoop(op, x.dtype()), &params);
  return out;
}
} // namespace

Expected<Tensor> unary(UnaryOp op, const Tensor &x, const UnaryParams &params) {
  if (!autograd::hasDerivative(op))
    return unaryKernel(op, x, params);
  return autograd::differentiable(
      opName(op), {x}, [&] { return unaryKernel(op, x, params); },
      [&] { return autograd::unaryBackward(op, x, params); });
}

Expected<Tensor> unary(UnaryOp op, const Tensor &x) {
  return unary(op, x, defaultParams(op));
}

Expected<Tensor> leakyRelu(const Tensor &x, double alpha) {
  UnaryParams p;
  p.alpha = alpha;
  return unary(UnaryOp::LeakyRelu, x, p);
}

Expected<Tensor> elu(const Tensor &x, double alpha) {
  UnaryParams p;
  p.alpha = alpha;
  return unary(UnaryOp::Elu, x, p);
}

Expected<Tensor> gelu(const Tensor &x, std::string_view approximate) {
  if (approximate == "none")
    return unary(UnaryOp::Gelu, x);
  if (approximate == "tanh")
    return unary(UnaryOp::GeluTanh, x);
  return invalidArgument("op 'gelu': approximate must be \"none\" or \"tanh\", "
                         "got \"", approximate, "\"");
}

Expected<Tensor> clip(const Tensor &x, double lo, double hi) {
  UnaryParams p;
  p.lo = lo;
  p.hi = hi;
  return unary(UnaryOp::Clip, x, p);
}

Expected<Tensor> cast(const Tensor &x, DType dtype) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("cast", {&x}));
  return x.to(dtype);
}

namespace {
Expected<Tensor> binaryKernel(BinaryOp op, const Tensor &a, const Tensor &b) {
  std::string_view name = opName(op);
  KILN_RETURN_IF_ERROR(eager::checkInputs(name, {&a, &b}));
  if (a.dtype() != b.dtype())
    return invalidArgument("op '", name, "': operand dtypes differ (",
                           dtypeName(a.dtype()), " vs ", dtypeName(b.dtype()),
                           "); cast one first");
  if (!inDomain(opDomain(op), a.dtype()))
    return invalidArgument("op '", name, "': operands have dtype ",
                           dtypeName(a.dtype()), ", expected ",
                           domainText(opDomain(op)));
  auto shape = shapes::broadcast(a.shape(), b.shape());
  if (!shape)
    return invalidArgument("op '", name, "': ", shape.message());
  DType outType = isComparison(op) ? DType::Bool : a.dtype();
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::empty(*shape, outType, a.device()));
  cpu::LoopOperand ops[3] = {cpu::makeOperand(out, out.shape()),
                             cpu::makeOperand(a, out.shape()),
                             cpu::makeOperand(b, out.shape())};
  cpu::forEachRun(out.shape(), 3, ops, cpu::binaryLoop(op, a.dtype()), nullptr);
  return out;
}
} // namespace

Expected<Tensor> binary(BinaryOp op, const Tensor &a, const Tensor &b) {
  if (!autograd::hasDerivative(op))
    return binaryKernel(op, a, b);
  return autograd::differentiable(
      opName(op), {a, b}, [&] { return binaryKernel(op, a, b); },
      [&] { return autograd::binaryBackward(op, a, b); });
}

namespace {
Expected<Tensor> selectKernel(const Tensor &cond, const Tensor &onTrue,
                              const Tensor &onFalse) {
  KILN_RETURN_IF_ERROR(eager::checkInputs("select", {&cond, &onTrue, &onFalse}));
  if (cond.dtype() != DType::Bool)
    return invalidArgument("op 'select': condition has dtype ",
                           dtypeName(cond.dtype()), ", expected i1");
  if (onTrue.dtype() != onFalse.dtype())
    return invalidArgument("op 'select': branch dtypes differ (",
                           dtypeName(onTrue.dtype()), " vs ",
                           dtypeName(onFalse.dtype()), ")");
  auto shape = shapes::broadcast(std::vector<shapes::Shape>{
      cond.shape(), onTrue.shape(), onFalse.shape()});
  if (!shape)
    return invalidArgument("op 'select': ", shape.message());
  KILN_ASSIGN_OR_RETURN(Tensor out,
                        Tensor::empty(*shape, onTrue.dtype(), onTrue.device()));
  cpu::LoopOperand ops[4] = {
      cpu::makeOperand(out, out.shape()), cpu::makeOperand(cond, out.shape()),
      cpu::makeOperand(onTrue, out.shape()),
      cpu::makeOperand(onFalse, out.shape())};
  cpu::forEachRun(out.shape(), 4, ops, cpu::selectLoop(onTrue.dtype()), nullptr);
  return out;
}
} // namespace

Expected<Tensor> select(const Tensor &cond, const Tensor &onTrue,
                        const Tensor &onFalse) {
  return autograd::differentiable(
      "select", {cond, onTrue, onFalse},
      [&] { return selectKernel(cond, onTrue, onFalse); },
      [&] { return autograd::selectBackward(cond, onTrue, onFalse); });
}

namespace detail {
Expected<Tensor> applyBinary(BinaryOp op, const Expected<Tensor> &a,
                             const Expected<Tensor> &b) {
  if (!a)
    return a.status();
  if (!b)
    return b.status();
  return binary(op, *a, *b);
}

Expected<Tensor> applyScalar(BinaryOp op, const Expected<Tensor> &a, double s,
                             bool scalarOnLeft) {
  if (!a)
    return a.status();
  KILN_RETURN_IF_ERROR(eager::checkInputs(opName(op), {&*a}));
  KILN_ASSIGN_OR_RETURN(Tensor st, Tensor::scalar(s, a->dtype()));
  return scalarOnLeft ? binary(op, st, *a) : binary(op, *a, st);
}
} // namespace detail

} // namespace kiln
