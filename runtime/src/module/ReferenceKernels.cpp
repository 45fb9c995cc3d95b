//===- ReferenceKernels.cpp - The dispatch list on the f64 oracle ---------===//
//
// A session made with SessionOptions::reference runs every float value in
// f64 through the naive reference kernels (kiln/Reference.h) where one
// exists, and through the eager kernel otherwise (data movement: reshape,
// transpose, slice, ..., which is exact in any dtype). The result is the
// oracle that compiled and eager results are both checked against.
//
//===----------------------------------------------------------------------===//
#include "KernelAdapters.h"
#include "ModuleData.h"

#include "kiln/NNOps.h"
#include "kiln/Reference.h"

#include <limits>
#include <unordered_map>

namespace kiln {
namespace {

using namespace adapters;

Expected<Tensor> refUnary(UnaryOp op, const Expected<Tensor> &x) {
  if (!x)
    return x.status();
  return ref::unary(op, *x, defaultParams(op));
}

/// The epilogue activation of gemm and conv2d, by name.
Expected<Tensor> refActivate(Expected<Tensor> acc, std::string_view act) {
  if (!acc || act == "none")
    return acc;
  if (act == "relu")
    return refUnary(UnaryOp::Relu, acc);
  if (act == "relu6") {
    UnaryParams p = defaultParams(UnaryOp::Clip);
    p.lo = 0.0, p.hi = 6.0;
    return ref::unary(UnaryOp::Clip, *acc, p);
  }
  if (act == "gelu")
    return refUnary(UnaryOp::Gelu, acc);
  if (act == "gelu_tanh")
    return refUnary(UnaryOp::GeluTanh, acc);
  if (act == "silu")
    return refUnary(UnaryOp::Silu, acc);
  if (act == "sigmoid")
    return refUnary(UnaryOp::Sigmoid, acc);
  if (act == "tanh")
    return refUnary(UnaryOp::Tanh, acc);
  return invalidArgument("unknown activation '", act, "'");
}

/// "none", "mean" or "sum" applied to per-element losses.
Expected<Tensor> reduceLoss(Expected<Tensor> perElement, std::string_view how) {
  if (!perElement || how == "none")
    return perElement;
  return ref::reduce(how == "sum" ? ReduceOp::Sum : ReduceOp::Mean, *perElement,
                     {}, false);
}

std::unordered_map<std::string_view, OpKernel> buildTable() {
  std::unordered_map<std::string_view, OpKernel> t;
#define KILN_UNARY_OP(E, fn, name, domain)                                     \
  t[name] = [](const OpAttrs &, Operands in, Specs) {                          \
    return one(ref::unary(UnaryOp::E, in[0], defaultParams(UnaryOp::E)));      \
  };
#include "kiln/OpTables.def"
#define KILN_BINARY_OP(E, fn, name, domain)                                    \
  t[name] = [](const OpAttrs &, Operands in, Specs) {                          \
    return one(ref::binary(BinaryOp::E, in[0], in[1]));                        \
  };
#include "kiln/OpTables.def"
#define KILN_REDUCE_OP(E, fn, name, domain)                                    \
  t[name] = [](const OpAttrs &a, Operands in, Specs) {                         \
    std::vector<int64_t> axes = a.getInts("axes");                             \
    return one(ref::reduce(ReduceOp::E, in[0], axes,                           \
                           a.getBool("keepdims", false)));                     \
  };
#include "kiln/OpTables.def"
  t["leaky_relu"] = [](const OpAttrs &a, Operands in, Specs) {
    UnaryParams p = defaultParams(UnaryOp::LeakyRelu);
    p.alpha = a.getFloat("alpha", 0.01);
    return one(ref::unary(UnaryOp::LeakyRelu, in[0], p));
  };
  t["elu"] = [](const OpAttrs &a, Operands in, Specs) {
    UnaryParams p = defaultParams(UnaryOp::Elu);
    p.alpha = a.getFloat("alpha", 1.0);
    return one(ref::unary(UnaryOp::Elu, in[0], p));
  };
  t["gelu"] = [](const OpAttrs &a, Operands in, Specs) {
    UnaryOp op = a.getString("approximate", "none") == "tanh" ? UnaryOp::GeluTanh
                                                              : UnaryOp::Gelu;
    return one(ref::unary(op, in[0], defaultParams(op)));
  };
  t["clip"] = [](const OpAttrs &a, Operands in, Specs) {
    UnaryParams p = defaultParams(UnaryOp::Clip);
    p.lo = a.getFloat("min", -std::numeric_limits<double>::infinity());
    p.hi = a.getFloat("max", std::numeric_limits<double>::infinity());
    return one(ref::unary(UnaryOp::Clip, in[0], p));
  };
  t["select"] = [](const OpAttrs &, Operands in, Specs) {
    return one(ref::select(in[0], in[1], in[2]));
  };
  t["argmax"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(ref::argReduce(true, in[0], a.getInt("axis", 0),
                              a.getBool("keepdims", false)));
  };
  t["argmin"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(ref::argReduce(false, in[0], a.getInt("axis", 0),
                              a.getBool("keepdims", false)));
  };
  t["matmul"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(ref::matmul(in[0], in[1], a.getBool("transpose_lhs", false),
                           a.getBool("transpose_rhs", false)));
  };
  t["gemm"] = [](const OpAttrs &a, Operands in, Specs) {
    Expected<Tensor> acc = ref::matmul(in[0], in[1],
                                       a.getBool("transpose_lhs", false),
                                       a.getBool("transpose_rhs", false));
    if (acc && in.size() == 3)
      acc = ref::binary(BinaryOp::Add, *acc, in[2]);
    return one(refActivate(std::move(acc), a.getString("activation", "none")));
  };
  t["conv2d"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(inLayout(layoutOf(a), in[0], "conv2d", [&](const Tensor &x) {
      return refActivate(ref::conv2d(x, in[1], optional(in, 2),
                                     windowOf(a, {1, 1}), a.getInt("groups", 1)),
                         a.getString("activation", "none"));
    }));
  };
  t["conv_transpose2d"] = [](const OpAttrs &a, Operands in, Specs) {
    std::vector<int64_t> outputPadding = a.getInts("output_padding", {0, 0});
    return one(ref::convTranspose2d(in[0], in[1], optional(in, 2),
                                    windowOf(a, {1, 1}), outputPadding,
                                    a.getInt("groups", 1)));
  };
  t["max_pool2d"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(inLayout(layoutOf(a), in[0], "max_pool2d", [&](const Tensor &x) {
      return ref::pool2d(x, windowOf(a, a.getInts("kernel")), true, false);
    }));
  };
  t["avg_pool2d"] = [](const OpAttrs &a, Operands in, Specs) {
    Window2D w = windowOf(a, a.getInts("kernel"));
    w.dilations = {1, 1};
    return one(ref::pool2d(in[0], w, false, a.getBool("count_include_pad", false)));
  };
  t["global_avg_pool"] = [](const OpAttrs &, Operands in, Specs) {
    std::vector<int64_t> axes;
    for (int64_t d = 2; d < in[0].rank(); ++d)
      axes.push_back(d);
    return one(ref::reduce(ReduceOp::Mean, in[0], axes, true));
  };
  t["softmax"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(ref::softmax(in[0], a.getInt("axis", -1), false));
  };
  t["log_softmax"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(ref::softmax(in[0], a.getInt("axis", -1), true));
  };
  t["layer_norm"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(ref::layerNorm(in[0], in[1], optional(in, 2), a.getInt("axis", -1),
                              a.getFloat("epsilon", 1e-5)));
  };
  t["batch_norm"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(ref::batchNorm(in[0], in[1], in[2], in[3], in[4],
                              a.getFloat("epsilon", 1e-5)));
  };
  t["gather"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(ref::gather(in[0], in[1], a.getInt("axis", 0)));
  };
  t["pad"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(ref::pad(in[0], a.getInts("pads"), a.getFloat("value", 0.0)));
  };
  t["concat"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(ref::concat(std::vector<Tensor>(in.begin(), in.end()),
                           a.getInt("axis", 0)));
  };
  t["cross_entropy"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(reduceLoss(ref::crossEntropy(in[0], in[1]),
                          a.getString("reduction", "mean")));
  };
  t["bce_with_logits"] = [](const OpAttrs &a, Operands in, Specs) {
    return one(reduceLoss(ref::bceWithLogits(in[0], in[1]),
                          a.getString("reduction", "mean")));
  };
  t["mse"] = [](const OpAttrs &a, Operands in, Specs) {
    Expected<Tensor> d = ref::binary(BinaryOp::Sub, in[0], in[1]);
    if (!d)
      return Results(d.takeStatus());
    return one(reduceLoss(ref::binary(BinaryOp::Mul, *d, *d),
                          a.getString("reduction", "mean")));
  };
  return t;
}

} // namespace

const OpKernel *findReferenceKernel(std::string_view name) {
  static const auto table = buildTable();
  auto it = table.find(name);
  return it == table.end() ? nullptr : &it->second;
}

} // namespace kiln
