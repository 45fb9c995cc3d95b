//===- Engine.cpp - Recording nodes and running backward -------------------===//
//
// record() attaches a Node to an op's result; Engine::run() walks the nodes
// reachable from the roots in reverse topological order (Kahn's algorithm on
// the consumer counts, so deep graphs such as long RNN unrolls need no
// recursion), sums the gradients arriving at each node, and hands the sums
// of leaves to their Meta (or to the caller, for autograd::grad()).
//
//===----------------------------------------------------------------------===//
#include "kiln/Autograd.h"
#include "kiln/Ops.h"
#include "kiln/Support/Shapes.h"

#include <algorithm>
#include <deque>
#include <unordered_map>
#include <unordered_set>

namespace kiln::autograd {

namespace {
thread_local bool gGradEnabled = true;

bool differentiableDType(DType d) { return isFloat(d); }
} // namespace

bool gradEnabled() { return gGradEnabled; }
bool setGradEnabled(bool enabled) {
  bool previous = gGradEnabled;
  gGradEnabled = enabled;
  return previous;
}

Node::Node(std::string name, BackwardFn backward)
    : name_(std::move(name)), backward_(std::move(backward)) {}

Node::~Node() {
  // Take over the edges of every node that dies with this one, so each is
  // destroyed with no edges left and the recursion never deepens.
  std::vector<std::shared_ptr<Node>> dying;
  for (Edge &e : inputs_)
    if (e.node)
      dying.push_back(std::move(e.node));
  while (!dying.empty()) {
    std::shared_ptr<Node> n = std::move(dying.back());
    dying.pop_back();
    if (n.use_count() == 1)
      for (Edge &e : n->inputs_)
        if (e.node)
          dying.push_back(std::move(e.node));
  }
}

const std::vector<std::string> &differentiableOps() {
  static const std::vector<std::string> names = {
#define KILN_DIFF_OP(name) name,
#include "DifferentiableOps.def"
  };
  return names;
}

namespace {
bool isRegistered(std::string_view name) {
  static const std::unordered_set<std::string> set(differentiableOps().begin(),
                                                   differentiableOps().end());
  return set.count(std::string(name)) != 0;
}
} // namespace

bool needsGrad(std::initializer_list<const Tensor *> inputs) {
  if (!gGradEnabled)
    return false;
  for (const Tensor *t : inputs)
    if (t->requiresGrad())
      return true;
  return false;
}

bool needsGrad(const std::vector<Tensor> &inputs) {
  if (!gGradEnabled)
    return false;
  for (const Tensor &t : inputs)
    if (t.requiresGrad())
      return true;
  return false;
}

Expected<Tensor> record(Expected<Tensor> out, std::string_view name,
                        const std::vector<Tensor> &inputs, BackwardFn backward) {
  if (!out || !needsGrad(inputs))
    return out;
  if (!isRegistered(name))
    return internalError("autograd: op '", name,
                         "' records a node but is not in DifferentiableOps.def");
  Tensor result = std::move(*out);
  if (!differentiableDType(result.dtype()))
    return result; // integer/bool results carry no gradient
  auto node = std::make_shared<Node>(std::string(name), std::move(backward));
  node->savedOut_ = result.detach();
  node->inputs_.reserve(inputs.size());
  for (const Tensor &in : inputs) {
    Node::Edge edge;
    if (in.requiresGrad()) {
      if (auto fn = in.gradFn())
        edge.node = std::move(fn);
      else
        edge.leaf = in.autogradMeta();
    }
    node->inputs_.push_back(std::move(edge));
    node->inputShapes_.push_back(in.defined() ? in.shape() : Shape{});
    node->inputDTypes_.push_back(in.dtype());
  }
  auto meta = std::make_shared<Meta>();
  meta->requiresGrad = true;
  meta->node = std::move(node);
  result.setAutogradMeta(std::move(meta));
  return result;
}

Expected<Tensor> unbroadcast(const Tensor &grad, const Shape &shape) {
  if (grad.shape() == shape)
    return grad;
  const Shape &g = grad.shape();
  if (g.size() < shape.size())
    return internalError("unbroadcast: gradient ", shapes::toString(g),
                         " has lower rank than ", shapes::toString(shape));
  size_t lead = g.size() - shape.size();
  std::vector<int64_t> axes;
  for (size_t d = 0; d < g.size(); ++d)
    if (d < lead || (shape[d - lead] == 1 && g[d] != 1))
      axes.push_back(int64_t(d));
  KILN_ASSIGN_OR_RETURN(Tensor summed, sum(grad, axes, /*keepDims=*/true));
  return summed.reshape(shape);
}

//===----------------------------------------------------------------------===//
// The engine
//===----------------------------------------------------------------------===//

class Engine {
public:
  /// Where a leaf's gradient goes: into Meta::grad, or (autograd::grad)
  /// into a result slot.
  std::unordered_map<Meta *, size_t> leafSlots;
  std::unordered_map<Node *, size_t> nodeSlots;
  std::vector<Tensor> captured;
  bool accumulateLeaves = true;

  Status run(const std::vector<Tensor> &roots, const std::vector<Tensor> &seeds,
             bool retainGraph);

private:
  Status deliverToLeaf(const std::shared_ptr<Meta> &leaf, Tensor grad);
  static Status accumulate(Tensor &slot, Tensor grad);
  static Status addIntoView(Tensor &slot, const Node &node, const Tensor &grad);
};

namespace {
/// A gradient we may keep: contiguous and not aliased by anyone else, so
/// later in-place updates (optimizers, clipping) touch only this grad.
Expected<Tensor> owned(Tensor grad) {
  if (grad.isContiguous() && grad.storage().use_count() == 1 &&
      grad.storageOffset() == 0 &&
      int64_t(grad.storage()->bytes()) == grad.numel() * int64_t(grad.elementSize()))
    return grad;
  return grad.clone();
}
} // namespace

Status Engine::addIntoView(Tensor &slot, const Node &node, const Tensor &grad) {
  DType dtype = node.inputDTypes_[0];
  if (!slot.defined()) {
    KILN_ASSIGN_OR_RETURN(slot, Tensor::zeros(node.inputShapes_[0], dtype));
  } else if (!(slot.isContiguous() && slot.storage().use_count() == 1)) {
    KILN_ASSIGN_OR_RETURN(slot, slot.clone()); // never write into a shared grad
  }
  KILN_ASSIGN_OR_RETURN(Tensor part, node.viewOf_(slot));
  KILN_ASSIGN_OR_RETURN(Tensor sum, add(part, grad));
  return part.copyFrom(sum);
}

Status Engine::accumulate(Tensor &slot, Tensor grad) {
  if (!slot.defined()) {
    slot = std::move(grad);
    return Status();
  }
  KILN_ASSIGN_OR_RETURN(slot, add(slot, grad));
  return Status();
}

Status Engine::deliverToLeaf(const std::shared_ptr<Meta> &leaf, Tensor grad) {
  if (!accumulateLeaves) {
    auto it = leafSlots.find(leaf.get());
    if (it != leafSlots.end())
      return accumulate(captured[it->second], std::move(grad));
    return Status();
  }
  if (!leaf->grad.defined()) {
    KILN_ASSIGN_OR_RETURN(leaf->grad, owned(std::move(grad)));
    return Status();
  }
  KILN_ASSIGN_OR_RETURN(Tensor sum, add(leaf->grad, grad));
  leaf->grad = std::move(sum);
  return Status();
}

Status Engine::run(const std::vector<Tensor> &roots,
                   const std::vector<Tensor> &seeds, bool retainGraph) {
  NoGradGuard noGrad;
  // Seeds and root checks.
  std::unordered_map<Node *, Tensor> pending;
  std::vector<std::shared_ptr<Node>> rootNodes;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor &root = roots[i];
    if (!root.defined())
      return invalidArgument("backward: the tensor is undefined");
    if (!root.requiresGrad())
      return invalidArgument(
          "backward: the tensor does not require grad (no input of the ops "
          "that produced it had setRequiresGrad(), or grad mode was off)");
    Tensor seed = i < seeds.size() ? seeds[i] : Tensor();
    if (!seed.defined()) {
      if (root.numel() != 1)
        return invalidArgument(
            "backward: a seed gradient is required for a non-scalar tensor "
            "of shape ",
            shapes::toString(root.shape()), " (pass d(target)/d(tensor))");
      KILN_ASSIGN_OR_RETURN(seed, Tensor::full(root.shape(), 1.0, root.dtype()));
    } else if (seed.shape() != root.shape() || seed.dtype() != root.dtype()) {
      return invalidArgument("backward: seed ", dtypeName(seed.dtype()),
                             shapes::toString(seed.shape()),
                             " does not match the tensor ",
                             dtypeName(root.dtype()),
                             shapes::toString(root.shape()));
    }
    if (auto node = root.gradFn()) {
      KILN_RETURN_IF_ERROR(accumulate(pending[node.get()], std::move(seed)));
      rootNodes.push_back(std::move(node));
    } else {
      KILN_RETURN_IF_ERROR(deliverToLeaf(root.autogradMeta(), std::move(seed)));
    }
  }

  // Consumer counts of every node reachable from the roots.
  std::unordered_map<Node *, size_t> consumers;
  {
    std::vector<Node *> stack;
    std::unordered_set<Node *> seen;
    for (auto &n : rootNodes)
      if (seen.insert(n.get()).second)
        stack.push_back(n.get());
    while (!stack.empty()) {
      Node *n = stack.back();
      stack.pop_back();
      for (const Node::Edge &e : n->inputs_) {
        if (!e.node)
          continue;
        ++consumers[e.node.get()];
        if (seen.insert(e.node.get()).second)
          stack.push_back(e.node.get());
      }
    }
  }

  // Kahn: a node runs once every consumer has delivered its gradient.
  std::deque<std::shared_ptr<Node>> ready;
  {
    std::unordered_set<Node *> queued;
    for (auto &n : rootNodes)
      if (consumers[n.get()] == 0 && queued.insert(n.get()).second)
        ready.push_back(n);
  }
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.front());
    ready.pop_front();
    Tensor gradOut;
    if (auto it = pending.find(node.get()); it != pending.end()) {
      gradOut = std::move(it->second);
      pending.erase(it);
    }
    if (auto it = nodeSlots.find(node.get()); it != nodeSlots.end() && gradOut.defined())
      KILN_RETURN_IF_ERROR(accumulate(captured[it->second], gradOut));

    // A view of a non-leaf: add into the input's pending buffer in place.
    if (gradOut.defined() && node->viewOf_ && node->inputs_.size() == 1 &&
        node->inputs_[0].node) {
      if (!node->backward_)
        return failedPrecondition(
            "backward: the graph through op '", node->name_,
            "' was already freed by an earlier backward(); pass "
            "retainGraph=true to the first call to run backward twice");
      const std::shared_ptr<Node> &input = node->inputs_[0].node;
      KILN_RETURN_IF_ERROR(addIntoView(pending[input.get()], *node, gradOut));
      if (--consumers[input.get()] == 0)
        ready.push_back(input);
      if (!retainGraph) {
        node->backward_ = nullptr;
        node->viewOf_ = nullptr;
        node->savedOut_ = Tensor();
      }
      continue;
    }

    std::vector<Tensor> inputGrads;
    if (gradOut.defined()) {
      if (!node->backward_)
        return failedPrecondition(
            "backward: the graph through op '", node->name_,
            "' was already freed by an earlier backward(); pass "
            "retainGraph=true to the first call to run backward twice");
      KILN_ASSIGN_OR_RETURN(inputGrads, node->backward_(gradOut, node->savedOut_));
      if (inputGrads.size() != node->inputs_.size())
        return internalError("backward of '", node->name_, "' returned ",
                             inputGrads.size(), " gradients for ",
                             node->inputs_.size(), " inputs");
    }
    for (size_t i = 0; i < node->inputs_.size(); ++i) {
      const Node::Edge &edge = node->inputs_[i];
      Tensor g = i < inputGrads.size() ? std::move(inputGrads[i]) : Tensor();
      if (g.defined() && (edge.node || edge.leaf)) {
        if (g.shape() != node->inputShapes_[i])
          return internalError("backward of '", node->name_,
                               "': gradient of input ", i, " has shape ",
                               shapes::toString(g.shape()), ", expected ",
                               shapes::toString(node->inputShapes_[i]));
        if (g.dtype() != node->inputDTypes_[i]) {
          KILN_ASSIGN_OR_RETURN(g, g.to(node->inputDTypes_[i]));
        }
      }
      if (edge.node) {
        if (g.defined())
          KILN_RETURN_IF_ERROR(accumulate(pending[edge.node.get()], std::move(g)));
        if (--consumers[edge.node.get()] == 0)
          ready.push_back(edge.node);
      } else if (edge.leaf && g.defined()) {
        KILN_RETURN_IF_ERROR(deliverToLeaf(edge.leaf, std::move(g)));
      }
    }
    if (!retainGraph) {
      node->backward_ = nullptr;
      node->savedOut_ = Tensor();
    }
  }
  return Status();
}

Expected<std::vector<Tensor>> grad(const std::vector<Tensor> &outputs,
                                   const std::vector<Tensor> &inputs,
                                   const std::vector<Tensor> &seeds,
                                   bool retainGraph) {
  Engine engine;
  engine.accumulateLeaves = false;
  engine.captured.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor &in = inputs[i];
    if (!in.requiresGrad())
      return invalidArgument("grad: input ", i, " does not require grad");
    if (auto node = in.gradFn())
      engine.nodeSlots[node.get()] = i;
    else
      engine.leafSlots[in.autogradMeta().get()] = i;
  }
  KILN_RETURN_IF_ERROR(engine.run(outputs, seeds, retainGraph));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!engine.captured[i].defined()) {
      KILN_ASSIGN_OR_RETURN(engine.captured[i],
                            Tensor::zeros(inputs[i].shape(), inputs[i].dtype()));
    }
  }
  return std::move(engine.captured);
}

} // namespace kiln::autograd

//===----------------------------------------------------------------------===//
// Tensor's autograd methods
//===----------------------------------------------------------------------===//

namespace kiln {

bool Tensor::requiresGrad() const { return autograd_ && autograd_->requiresGrad; }

bool Tensor::isLeaf() const { return !autograd_ || !autograd_->node; }

Status Tensor::setRequiresGrad(bool on) {
  if (!defined())
    return invalidArgument("setRequiresGrad: the tensor is undefined");
  if (on && !isFloat(dtype_))
    return invalidArgument("setRequiresGrad: only float tensors can require "
                           "grad, not ",
                           dtypeName(dtype_));
  if (!isLeaf()) {
    if (!on)
      return invalidArgument("setRequiresGrad(false) on the result of op '",
                             autograd_->node->name(), "'; use detach()");
    return Status();
  }
  if (!autograd_)
    autograd_ = std::make_shared<autograd::Meta>();
  autograd_->requiresGrad = on;
  return Status();
}

Tensor Tensor::grad() const { return autograd_ ? autograd_->grad : Tensor(); }

Status Tensor::setGrad(const Tensor &g) {
  if (!defined())
    return invalidArgument("setGrad: the tensor is undefined");
  if (g.defined() && (g.shape() != shape_ || g.dtype() != dtype_))
    return invalidArgument("setGrad: gradient ", dtypeName(g.dtype()),
                           shapes::toString(g.shape()), " for a tensor ",
                           dtypeName(dtype_), shapes::toString(shape_));
  if (!autograd_)
    autograd_ = std::make_shared<autograd::Meta>();
  autograd_->grad = g;
  return Status();
}

void Tensor::zeroGrad() {
  if (autograd_)
    autograd_->grad = Tensor();
}

Tensor Tensor::detach() const {
  Tensor t = *this;
  t.autograd_.reset();
  return t;
}

std::shared_ptr<autograd::Node> Tensor::gradFn() const {
  return autograd_ ? autograd_->node : nullptr;
}

Status Tensor::backward() const { return backward(Tensor()); }

Status Tensor::backward(const Tensor &seed, bool retainGraph) const {
  autograd::Engine engine;
  return engine.run({*this}, {seed}, retainGraph);
}

} // namespace kiln
