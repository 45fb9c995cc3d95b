//===- Autograd.h - Reverse-mode automatic differentiation -----------------===//
//
// Define-by-run autograd on kiln::Tensor, the dynamic-graph half of Kiln:
//
//   KILN_ASSIGN_OR_RETURN(Tensor w, Tensor::full({4, 3}, 0.1, DType::F32));
//   KILN_RETURN_IF_ERROR(w.setRequiresGrad());
//   KILN_ASSIGN_OR_RETURN(Tensor loss, kiln::mean(kiln::relu(kiln::matmul(x, w))));
//   KILN_RETURN_IF_ERROR(loss.backward());   // w.grad() now holds d loss / d w
//
// How it works
//  - Every eager op (Ops.h, NNOps.h, and the Tensor view methods) whose
//    inputs include a tensor that requires grad, while grad mode is on,
//    records a Node on its result: the op's name, edges to the inputs' nodes
//    (or to the leaf tensors themselves), and a backward function. Results of
//    such ops require grad and are not leaves.
//  - Tensor handles that are copies of each other share one autograd state
//    (requiresGrad, grad, node), like two references to one variable. Views
//    (reshape, slice, ...) are new variables whose node leads back to the
//    base.
//  - backward() walks the graph from the root in reverse topological order
//    and sums gradients per tensor: a leaf used by several ops (shared
//    weights) receives the sum in grad(), and repeated backward() calls
//    accumulate until zeroGrad(). Non-leaf tensors do not keep grads.
//  - Nodes save the inputs they need detached (no reference back to their
//    own node), so graphs never form reference cycles and are freed when the
//    last result handle goes. backward() frees the saved tensors of every
//    node it ran unless `retainGraph`; a second backward() through a freed
//    node is an error naming the op.
//  - Backward functions run with grad mode off: no higher-order gradients.
//  - In-place writes (Tensor::copyFrom, optimizer steps) are not recorded;
//    do them under NoGradGuard and never to a tensor a live graph saved.
//
// Differentiable: float dtypes only (f64, f32, f16, bf16). Integer and bool
// tensors cannot require grad; comparisons, argmax, floor/ceil/round/sign
// and the like record nothing (their gradient is zero almost everywhere).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_AUTOGRAD_H
#define KILN_AUTOGRAD_H

#include "kiln/Tensor.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::autograd {

/// True while ops record graphs on this thread (the default).
bool gradEnabled();
/// Turns recording on or off for this thread; returns the previous mode.
bool setGradEnabled(bool enabled);

/// Disables recording on this thread for its lifetime (evaluation loops,
/// optimizer updates, weight initialisation).
class NoGradGuard {
public:
  NoGradGuard() : previous_(setGradEnabled(false)) {}
  ~NoGradGuard() { setGradEnabled(previous_); }
  NoGradGuard(const NoGradGuard &) = delete;
  NoGradGuard &operator=(const NoGradGuard &) = delete;

private:
  bool previous_;
};

/// Computes the gradients of one op's inputs from the gradient of its
/// output. `out` is the op's (detached) result, for ops whose derivative is
/// cheapest in terms of it (exp, sigmoid, tanh, softmax). Returns one tensor
/// per input, in order; an undefined tensor means "no gradient" for that
/// input. Each gradient has its input's shape and dtype.
using BackwardFn = std::function<Expected<std::vector<Tensor>>(
    const Tensor &gradOut, const Tensor &out)>;

struct Meta;

/// One recorded op.
class Node {
public:
  Node(std::string name, BackwardFn backward);
  /// Frees chains of nodes iteratively (a 100k-step unroll must not
  /// overflow the stack).
  ~Node();
  Node(const Node &) = delete;
  Node &operator=(const Node &) = delete;
  const std::string &name() const { return name_; }
  /// Ops recorded on this node's inputs; null for inputs that are leaves or
  /// need no gradient (see Edge).
  struct Edge {
    std::shared_ptr<Node> node;  ///< The input's own node, or null.
    std::shared_ptr<Meta> leaf;  ///< The leaf input's state, or null.
  };
  const std::vector<Edge> &inputs() const { return inputs_; }
  /// False once backward() freed the saved tensors.
  bool hasSavedState() const { return bool(backward_); }

  /// For ops whose result is a view of their one input (slice, select):
  /// `viewOf(t)` takes the same view of a tensor `t` shaped like the input.
  /// Backward then adds the gradient into one input-sized buffer in place,
  /// instead of materializing an input-sized gradient per use (an RNN
  /// selecting each of T steps would otherwise cost O(T^2)).
  using ViewFn = std::function<Expected<Tensor>(const Tensor &)>;
  void setViewOf(ViewFn viewOf) { viewOf_ = std::move(viewOf); }

private:
  friend class Engine;
  friend Expected<Tensor> record(Expected<Tensor>, std::string_view,
                                 const std::vector<Tensor> &, BackwardFn);
  std::string name_;
  BackwardFn backward_;
  ViewFn viewOf_;
  Tensor savedOut_;
  std::vector<Edge> inputs_;
  std::vector<Shape> inputShapes_;
  std::vector<DType> inputDTypes_;
};

/// The autograd state shared by handles of one tensor variable.
struct Meta {
  bool requiresGrad = false;
  Tensor grad;
  std::shared_ptr<Node> node;
};

/// Attaches a node to `out` when grad mode is on and any of `inputs`
/// requires grad; otherwise returns `out` unchanged. `name` must be one of
/// differentiableOps() (the gradient-check registry). Ops call this; users
/// extending Kiln with their own differentiable functions may too.
Expected<Tensor> record(Expected<Tensor> out, std::string_view name,
                        const std::vector<Tensor> &inputs, BackwardFn backward);
/// True when grad mode is on and some input requires grad.
bool needsGrad(std::initializer_list<const Tensor *> inputs);
bool needsGrad(const std::vector<Tensor> &inputs);

/// Sums `grad` over the broadcast dims so that it has `shape` (the
/// backward of numpy broadcasting).
Expected<Tensor> unbroadcast(const Tensor &grad, const Shape &shape);

/// Names of every op that records a node. The gradient-check test checks
/// each one and fails when a name here has no check.
const std::vector<std::string> &differentiableOps();

/// Gradients of `outputs` w.r.t. `inputs` (which must require grad), without
/// touching anyone's grad(): returns one tensor per input (zeros where the
/// input does not influence the outputs). Seeds as in Tensor::backward.
Expected<std::vector<Tensor>> grad(const std::vector<Tensor> &outputs,
                                   const std::vector<Tensor> &inputs,
                                   const std::vector<Tensor> &seeds = {},
                                   bool retainGraph = false);

} // namespace kiln::autograd

#endif // KILN_AUTOGRAD_H
