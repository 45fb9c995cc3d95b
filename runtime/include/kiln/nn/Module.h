//===- Module.h - Base class of the kiln::nn layers ------------------------===//
//
// A Module owns named parameters (leaf tensors that require grad), named
// buffers (running statistics and other state that is saved but not
// trained) and named submodules, and computes its output from eager ops
// (Ops.h, NNOps.h), which record the autograd graph: calling backward() on
// a loss fills every parameter's grad().
//
//   kiln::Generator gen(0);
//   KILN_ASSIGN_OR_RETURN(auto net, nn::Sequential::create({}));
//   KILN_ASSIGN_OR_RETURN(auto fc, nn::Linear::create({.inFeatures = 4, .outFeatures = 2}, gen));
//   net->append(fc);
//   KILN_ASSIGN_OR_RETURN(Tensor y, net->forward(x));
//   for (auto &[name, p] : net->namedParameters())   // "0.weight", "0.bias"
//     ...
//
// Names follow PyTorch: a parameter `weight` of the child `layers` -> `0` is
// "layers.0.weight", so stateDict() keys are PyTorch state_dict keys and a
// checkpoint of one maps onto the other.
//
// Ownership: modules are made by factories returning
// Expected<std::shared_ptr<T>> and are neither copyable nor movable; a
// parent holds its children by shared_ptr. Parameter tensors are handles:
// the Tensor a getter returns shares storage and autograd state with the
// module's own, so an optimizer that writes it in place (copyFrom under
// autograd::NoGradGuard) updates the module. Not thread-safe: one thread
// trains one module at a time.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_NN_MODULE_H
#define KILN_NN_MODULE_H

#include "kiln/Random.h"
#include "kiln/Tensor.h"

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::nn {

/// (dotted name, tensor) pairs in registration order, depth-first.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
public:
  virtual ~Module() = default;
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;

  /// The PyTorch class name: "Linear", "Conv2d", ...
  const std::string &typeName() const { return typeName_; }

  /// The layer's computation on one input. Layers with several inputs or
  /// outputs (MultiheadAttention, LSTM, ...) have their own signatures as
  /// well; the base class refuses (FailedPrecondition).
  virtual Expected<Tensor> forward(const Tensor &input);
  Expected<Tensor> operator()(const Tensor &input) { return forward(input); }

  /// --- Parameters, buffers, children -----------------------------------
  /// Parameters of this module, then of each child (recursively, when
  /// `recurse`), each tensor once: a tensor shared by two modules (tied
  /// weights) is listed under its first name, as in PyTorch's
  /// named_parameters().
  NamedTensors namedParameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors namedBuffers(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>> &
  namedChildren() const {
    return children_;
  }
  /// Parameters and buffers under every name (tied tensors appear under
  /// each), in PyTorch's state_dict order: a module's own parameters, its
  /// own buffers, then its children.
  NamedTensors stateDict() const;
  /// Copies values into parameters and buffers by name (shapes must match;
  /// dtypes convert). With `strict`, a missing or unexpected key is an
  /// error naming it; nothing is written unless every key checks out.
  Status loadStateDict(const NamedTensors &state, bool strict = true);

  /// The parameter or buffer at a dotted name ("layers.0.weight");
  /// undefined when there is none.
  Tensor parameter(std::string_view name) const;
  Tensor buffer(std::string_view name) const;
  /// The descendant at a dotted name; null when there is none.
  std::shared_ptr<Module> child(std::string_view name) const;
  /// Replaces the parameter at a dotted name by `value` (same shape and
  /// dtype; it must require grad). The module then computes with `value`
  /// itself, not a copy: this is how weights are tied
  /// (`head->setParameter("weight", embedding->weight())`), and a tied
  /// tensor's grad() receives the sum of both uses.
  Status setParameter(std::string_view name, const Tensor &value);

  /// Number of parameter elements (tied tensors counted once).
  int64_t numParameters() const;
  /// Drops the gradient of every parameter.
  void zeroGrad();

  /// --- Mode ------------------------------------------------------------
  /// Training mode (the default) for this module and every descendant:
  /// dropout drops, batch norm uses batch statistics and updates its
  /// running ones.
  void train(bool on = true);
  void eval() { train(false); }
  bool isTraining() const { return training_; }

protected:
  explicit Module(std::string typeName) : typeName_(std::move(typeName)) {}

  /// Registers a parameter (marks it requiring grad). The returned pointer
  /// stays valid for the module's lifetime; a layer computes through it,
  /// so setParameter() reaches the layer.
  Expected<Tensor *> registerParameter(std::string name, Tensor value);
  Tensor *registerBuffer(std::string name, Tensor value);
  void registerModule(std::string name, std::shared_ptr<Module> module);
  /// Called by train() on each module (after its mode changed).
  virtual void onModeChange() {}

private:
  struct Slot {
    std::string name;
    Tensor tensor;
  };
  void collect(const std::string &prefix, bool recurse, bool params,
               bool buffers, NamedTensors &out) const;
  Slot *findSlot(std::string_view dotted, bool parameter);

  std::string typeName_;
  std::deque<Slot> params_;
  std::deque<Slot> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

/// Children run in order, each on the previous one's output. Children are
/// named "0", "1", ... as in torch.nn.Sequential.
class Sequential : public Module {
public:
  static Expected<std::shared_ptr<Sequential>>
  create(std::vector<std::shared_ptr<Module>> modules);
  /// Adds a module at the end (null is an error).
  Status append(std::shared_ptr<Module> module);
  size_t size() const { return namedChildren().size(); }
  std::shared_ptr<Module> operator[](size_t i) const {
    return namedChildren()[i].second;
  }
  Expected<Tensor> forward(const Tensor &input) override;

private:
  Sequential() : Module("Sequential") {}
};

/// A list of modules named "0", "1", ... with no forward of its own
/// (torch.nn.ModuleList), for models that call their layers themselves.
class ModuleList : public Module {
public:
  static Expected<std::shared_ptr<ModuleList>>
  create(std::vector<std::shared_ptr<Module>> modules);
  Status append(std::shared_ptr<Module> module);
  size_t size() const { return namedChildren().size(); }
  std::shared_ptr<Module> operator[](size_t i) const {
    return namedChildren()[i].second;
  }

private:
  ModuleList() : Module("ModuleList") {}
};

} // namespace kiln::nn

#endif // KILN_NN_MODULE_H
