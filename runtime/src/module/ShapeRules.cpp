//===- ShapeRules.cpp - Result shapes of each op, re-inferred at load -----===//
//
// The loader does not trust a file's declared result types: an eager kernel
// computes its result shape from its operands and attributes, so a file
// whose attributes were changed (a conv's pads or strides) would make the
// kernel allocate whatever those attributes say, and only then would the
// executor notice that the result is not the declared one (a libFuzzer
// find: ~5 GiB from one mutated conv). So for every op the loader re-infers
// the result shapes with the same rules the dialect and the eager kernels
// use (kiln/Support/Shapes.h) and rejects the file when they disagree.
//
// Result dtypes too (inferResultDType): every eager kernel returns its first
// operand's dtype except comparisons (i1), argmax/argmin (i64), select (its
// branches') and ops the file states (cast, one_hot, iota), so a declared
// i8 result cannot hide an f64 one eight times its size.
//
// One row per op handler of Executor.cpp, read with the same attribute
// defaults. Ops whose result shape the file alone states (reshape,
// broadcast_to, iota) get a rule that checks the declared shape against
// the operand instead; their outputs, like every value, are bounded by
// SessionOptions::memoryLimit.
//
//===----------------------------------------------------------------------===//
#include "KernelAdapters.h"
#include "ModuleData.h"

#include "kiln/Support/Shapes.h"

#include <optional>
#include <unordered_map>

namespace kiln {
namespace {

using Specs = std::span<const TensorSpec>;
using Shapes = Expected<std::vector<Shape>>;

Shapes one(const shapes::ShapeOr &r) {
  if (!r)
    return invalidArgument(r.message());
  return std::vector<Shape>{*r};
}

Shapes sameAs(const TensorSpec &spec) { return std::vector<Shape>{spec.shape}; }

/// The result of a loss: per sample (`none`) or a scalar.
Shapes lossShape(std::string_view reduction, Shape perSample) {
  if (reduction == "none")
    return std::vector<Shape>{std::move(perSample)};
  if (reduction == "mean" || reduction == "sum")
    return std::vector<Shape>{Shape{}};
  return invalidArgument("unknown reduction '", reduction, "'");
}

std::unordered_map<std::string_view, ShapeRule> buildRules() {
  std::unordered_map<std::string_view, ShapeRule> t;
  auto elementwise = [](const OpAttrs &, Specs in, Specs) {
    return sameAs(in[0]);
  };
#define KILN_UNARY_OP(E, fn, name, domain) t[name] = elementwise;
#include "kiln/OpTables.def"
#define KILN_BINARY_OP(E, fn, name, domain)                                    \
  t[name] = [](const OpAttrs &, Specs in, Specs) {                             \
    return one(shapes::broadcast(in[0].shape, in[1].shape));                   \
  };
#include "kiln/OpTables.def"
#define KILN_REDUCE_OP(E, fn, name, domain)                                    \
  t[name] = [](const OpAttrs &a, Specs in, Specs) {                            \
    return one(shapes::reduce(in[0].shape, a.getInts("axes"),                  \
                              a.getBool("keepdims", false)));                  \
  };
#include "kiln/OpTables.def"
  for (std::string_view name :
       {"leaky_relu", "elu", "gelu", "clip", "cast", "softmax", "log_softmax",
        "dropout", "batch_norm", "layer_norm"})
    t[name] = elementwise;
  t["select"] = [](const OpAttrs &, Specs in, Specs) {
    return one(shapes::broadcast(
        std::vector<Shape>{in[0].shape, in[1].shape, in[2].shape}));
  };
  auto argReduce = [](const OpAttrs &a, Specs in, Specs) {
    std::vector<int64_t> axes = {a.getInt("axis", 0)};
    return one(shapes::reduce(in[0].shape, axes, a.getBool("keepdims", false)));
  };
  t["argmax"] = argReduce;
  t["argmin"] = argReduce;
  // The declared shape is iota's only statement of its shape.
  t["iota"] = [](const OpAttrs &, Specs, Specs out) { return sameAs(out[0]); };
  t["matmul"] = [](const OpAttrs &a, Specs in, Specs) {
    return one(shapes::matmul(in[0].shape, in[1].shape,
                              a.getBool("transpose_lhs", false),
                              a.getBool("transpose_rhs", false)));
  };
  t["gemm"] = [](const OpAttrs &a, Specs in, Specs) {
    shapes::ShapeOr product = shapes::matmul(in[0].shape, in[1].shape,
                                             a.getBool("transpose_lhs", false),
                                             a.getBool("transpose_rhs", false));
    if (!product || in.size() < 3)
      return one(product);
    return one(shapes::broadcast(*product, in[2].shape)); // + bias
  };
  t["conv2d"] = [](const OpAttrs &a, Specs in, Specs) -> Shapes {
    shapes::Window2D w = adapters::windowOf(a, {1, 1});
    if (in[1].shape.size() == 4)
      w.kernel = {in[1].shape[2], in[1].shape[3]};
    if (auto err = shapes::checkWindow(w))
      return invalidArgument(*err);
    KILN_ASSIGN_OR_RETURN(shapes::Layout2D layout, adapters::layoutOf(a));
    return one(shapes::conv2d(in[0].shape, in[1].shape, w,
                              a.getInt("groups", 1), layout));
  };
  t["conv_transpose2d"] = [](const OpAttrs &a, Specs in, Specs) -> Shapes {
    shapes::Window2D w = adapters::windowOf(a, {1, 1});
    if (in[1].shape.size() == 4)
      w.kernel = {in[1].shape[2], in[1].shape[3]};
    if (auto err = shapes::checkWindow(w))
      return invalidArgument(*err);
    return one(shapes::convTranspose2d(in[0].shape, in[1].shape, w,
                                       a.getInt("groups", 1),
                                       a.getInts("output_padding", {0, 0})));
  };
  t["max_pool2d"] = [](const OpAttrs &a, Specs in, Specs) -> Shapes {
    KILN_ASSIGN_OR_RETURN(shapes::Layout2D layout, adapters::layoutOf(a));
    return one(shapes::pool2d(in[0].shape,
                              adapters::windowOf(a, a.getInts("kernel")), layout));
  };
  t["avg_pool2d"] = [](const OpAttrs &a, Specs in, Specs) {
    shapes::Window2D w = adapters::windowOf(a, a.getInts("kernel"));
    w.dilations = {1, 1};
    return one(shapes::pool2d(in[0].shape, w));
  };
  t["global_avg_pool"] = [](const OpAttrs &, Specs in, Specs) -> Shapes {
    Shape s = in[0].shape;
    if (s.size() < 2)
      return invalidArgument("input of rank ", s.size(), ", expected >= 2");
    for (size_t d = 2; d < s.size(); ++d)
      s[d] = 1;
    return std::vector<Shape>{s};
  };
  t["gather"] = [](const OpAttrs &a, Specs in, Specs) {
    return one(shapes::gather(in[0].shape, in[1].shape, a.getInt("axis", 0)));
  };
  t["cross_entropy"] = [](const OpAttrs &a, Specs in, Specs) -> Shapes {
    const Shape &x = in[0].shape, &labels = in[1].shape;
    if (x.size() != 2 || labels.size() != 1 || labels[0] != x[0])
      return invalidArgument("expected inputs [N, C] and labels [N], got ",
                             shapes::toString(x), " and ",
                             shapes::toString(labels));
    return lossShape(a.getString("reduction", "mean"), {x[0]});
  };
  auto pairwiseLoss = [](const OpAttrs &a, Specs in, Specs) -> Shapes {
    if (in[0].shape != in[1].shape)
      return invalidArgument("shapes ", shapes::toString(in[0].shape), " and ",
                             shapes::toString(in[1].shape), " differ");
    return lossShape(a.getString("reduction", "mean"), in[0].shape);
  };
  t["mse"] = pairwiseLoss;
  t["bce_with_logits"] = pairwiseLoss;
  // Shape ops.
  t["reshape"] = [](const OpAttrs &, Specs in, Specs out) -> Shapes {
    if (auto err = shapes::checkReshape(in[0].shape, out[0].shape))
      return invalidArgument(*err);
    return sameAs(out[0]);
  };
  t["broadcast_to"] = [](const OpAttrs &, Specs in, Specs out) -> Shapes {
    if (!shapes::broadcastsTo(in[0].shape, out[0].shape))
      return invalidArgument(shapes::toString(in[0].shape),
                             " does not broadcast to ",
                             shapes::toString(out[0].shape));
    return sameAs(out[0]);
  };
  t["transpose"] = [](const OpAttrs &a, Specs in, Specs) {
    return one(shapes::transpose(in[0].shape, a.getInts("permutation")));
  };
  t["concat"] = [](const OpAttrs &a, Specs in, Specs) {
    std::vector<Shape> all;
    for (const TensorSpec &s : in)
      all.push_back(s.shape);
    return one(shapes::concat(all, a.getInt("axis", 0)));
  };
  t["slice"] = [](const OpAttrs &a, Specs in, Specs) {
    std::vector<int64_t> steps = a.getInts("steps");
    if (steps.empty()) // the eager kernel's default
      steps.assign(in[0].shape.size(), 1);
    return one(shapes::slice(in[0].shape, a.getInts("starts"),
                             a.getInts("ends"), steps));
  };
  t["pad"] = [](const OpAttrs &a, Specs in, Specs) {
    return one(shapes::pad(in[0].shape, a.getInts("pads")));
  };
  t["split"] = [](const OpAttrs &a, Specs in, Specs) -> Shapes {
    int64_t axis = a.getInt("axis", 0);
    std::vector<int64_t> sizes = a.getInts("sizes");
    if (auto err = shapes::checkSplit(in[0].shape, axis, sizes))
      return invalidArgument(*err);
    int64_t at = *shapes::normalizeAxis(axis, int64_t(in[0].shape.size()));
    std::vector<Shape> pieces;
    for (int64_t n : sizes) {
      pieces.push_back(in[0].shape);
      pieces.back()[size_t(at)] = n;
    }
    return pieces;
  };
  t["expand_dims"] = [](const OpAttrs &a, Specs in, Specs) {
    return one(shapes::expandDims(in[0].shape, a.getInts("axes")));
  };
  t["squeeze"] = [](const OpAttrs &a, Specs in, Specs) {
    return one(shapes::squeeze(in[0].shape, a.getInts("axes")));
  };
  t["one_hot"] = [](const OpAttrs &a, Specs in, Specs) {
    return one(shapes::oneHot(in[0].shape, a.getInt("depth", 1),
                              a.getInt("axis", -1)));
  };
  return t;
}

} // namespace

std::optional<DType> inferResultDType(std::string_view op,
                                      std::span<const TensorSpec> operands) {
  static const std::unordered_map<std::string_view, DType> fixed = {
      {"eq", DType::Bool},    {"ne", DType::Bool},   {"lt", DType::Bool},
      {"le", DType::Bool},    {"gt", DType::Bool},   {"ge", DType::Bool},
      {"argmax", DType::I64}, {"argmin", DType::I64}};
  if (auto it = fixed.find(op); it != fixed.end())
    return it->second;
  // The file states these: the target dtype, or a source's.
  if (op == "cast" || op == "one_hot" || op == "iota" || operands.empty())
    return std::nullopt;
  if (op == "select")
    return operands.size() > 1 ? std::optional(operands[1].dtype)
                               : std::nullopt;
  return operands[0].dtype;
}

const ShapeRule *findShapeRule(std::string_view name) {
  static const auto table = buildRules();
  auto it = table.find(name);
  return it == table.end() ? nullptr : &it->second;
}

} // namespace kiln
