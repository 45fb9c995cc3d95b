//===- Module.cpp - nn::Module, Sequential, ModuleList ---------------------===//
#include "kiln/nn/Module.h"

#include "kiln/Autograd.h"
#include "NNUtil.h"

#include <map>
#include <set>
#include <tuple>

namespace kiln::nn {

Expected<Tensor> Module::forward(const Tensor &) {
  return failedPrecondition(typeName_,
                            ": forward(Tensor) is not defined for this "
                            "module; call its own forward signature");
}

Expected<Tensor *> Module::registerParameter(std::string name, Tensor value) {
  if (!value.defined())
    return invalidArgument(typeName_, ": parameter '", name, "' is undefined");
  KILN_RETURN_IF_ERROR(value.setRequiresGrad(true));
  params_.push_back({std::move(name), std::move(value)});
  return &params_.back().tensor;
}

Tensor *Module::registerBuffer(std::string name, Tensor value) {
  buffers_.push_back({std::move(name), std::move(value)});
  return &buffers_.back().tensor;
}

void Module::registerModule(std::string name, std::shared_ptr<Module> module) {
  children_.emplace_back(std::move(name), std::move(module));
}

void Module::collect(const std::string &prefix, bool recurse, bool params,
                     bool buffers, NamedTensors &out) const {
  if (params)
    for (const Slot &s : params_)
      out.emplace_back(prefix + s.name, s.tensor);
  if (buffers)
    for (const Slot &s : buffers_)
      out.emplace_back(prefix + s.name, s.tensor);
  if (!recurse)
    return;
  for (const auto &[name, child] : children_)
    if (child)
      child->collect(prefix + name + ".", true, params, buffers, out);
}

namespace {
/// Tensors that are one variable: the same view of the same storage.
using TensorKey = std::tuple<const void *, int64_t, Shape>;
TensorKey keyOf(const Tensor &t) {
  return {t.storage().get(), t.storageOffset(), t.shape()};
}
NamedTensors dedupe(NamedTensors all) {
  std::set<TensorKey> seen;
  NamedTensors out;
  for (auto &entry : all)
    if (seen.insert(keyOf(entry.second)).second)
      out.push_back(std::move(entry));
  return out;
}
} // namespace

NamedTensors Module::namedParameters(bool recurse) const {
  NamedTensors all;
  collect("", recurse, true, false, all);
  return dedupe(std::move(all));
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto &[name, t] : namedParameters(recurse))
    out.push_back(t);
  return out;
}

NamedTensors Module::namedBuffers(bool recurse) const {
  NamedTensors all;
  collect("", recurse, false, true, all);
  return all;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto &[name, t] : namedBuffers(recurse))
    out.push_back(t);
  return out;
}

NamedTensors Module::stateDict() const {
  NamedTensors all;
  collect("", true, true, true, all);
  return all;
}

Module::Slot *Module::findSlot(std::string_view dotted, bool parameter) {
  Module *m = this;
  size_t dot;
  while ((dot = dotted.find('.')) != std::string_view::npos) {
    std::string_view head = dotted.substr(0, dot);
    Module *next = nullptr;
    for (auto &[name, c] : m->children_)
      if (name == head)
        next = c.get();
    if (!next)
      return nullptr;
    m = next;
    dotted.remove_prefix(dot + 1);
  }
  for (Slot &s : parameter ? m->params_ : m->buffers_)
    if (s.name == dotted)
      return &s;
  return nullptr;
}

Tensor Module::parameter(std::string_view name) const {
  Slot *s = const_cast<Module *>(this)->findSlot(name, true);
  return s ? s->tensor : Tensor();
}

Tensor Module::buffer(std::string_view name) const {
  Slot *s = const_cast<Module *>(this)->findSlot(name, false);
  return s ? s->tensor : Tensor();
}

std::shared_ptr<Module> Module::child(std::string_view name) const {
  const Module *m = this;
  std::shared_ptr<Module> found;
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view head = name.substr(0, dot);
    found = nullptr;
    for (auto &[n, c] : m->children_)
      if (n == head)
        found = c;
    if (!found)
      return nullptr;
    m = found.get();
    name = dot == std::string_view::npos ? std::string_view()
                                          : name.substr(dot + 1);
  }
  return found;
}

Status Module::setParameter(std::string_view name, const Tensor &value) {
  Slot *s = findSlot(name, true);
  if (!s)
    return notFound(typeName_, ": no parameter '", name, "'");
  if (!value.defined() || value.shape() != s->tensor.shape() ||
      value.dtype() != s->tensor.dtype())
    return invalidArgument(typeName_, ": parameter '", name, "' is ",
                           detail::describe(s->tensor), ", cannot set it to ",
                           detail::describe(value));
  if (!value.requiresGrad() || !value.isLeaf())
    return invalidArgument(typeName_, ": parameter '", name,
                           "' must be set to a leaf tensor that requires grad");
  s->tensor = value;
  return Status::ok();
}

Status Module::loadStateDict(const NamedTensors &state, bool strict) {
  std::vector<std::pair<Slot *, const Tensor *>> writes;
  std::set<std::string> given;
  std::string unexpected, missing;
  for (const auto &[name, t] : state) {
    given.insert(name);
    Slot *s = findSlot(name, true);
    if (!s)
      s = findSlot(name, false);
    if (!s) {
      unexpected += (unexpected.empty() ? "'" : ", '") + name + "'";
      continue;
    }
    if (!t.defined() || t.shape() != s->tensor.shape())
      return invalidArgument(typeName_, ": loadStateDict: '", name, "' is ",
                             detail::describe(s->tensor), ", got ",
                             detail::describe(t));
    writes.emplace_back(s, &t);
  }
  for (const auto &[name, t] : stateDict())
    if (!given.count(name))
      missing += (missing.empty() ? "'" : ", '") + name + "'";
  if (strict && (!unexpected.empty() || !missing.empty()))
    return invalidArgument(typeName_, ": loadStateDict:",
                           missing.empty() ? "" : " missing keys ", missing,
                           unexpected.empty() ? "" : " unexpected keys ",
                           unexpected);
  autograd::NoGradGuard noGrad;
  for (auto &[slot, t] : writes)
    KILN_RETURN_IF_ERROR(slot->tensor.copyFrom(*t));
  return Status::ok();
}

int64_t Module::numParameters() const {
  int64_t n = 0;
  for (auto &[name, t] : namedParameters())
    n += t.numel();
  return n;
}

void Module::zeroGrad() {
  for (auto &[name, t] : namedParameters())
    t.zeroGrad();
}

void Module::train(bool on) {
  training_ = on;
  onModeChange();
  for (auto &[name, c] : children_)
    if (c)
      c->train(on);
}

//===----------------------------------------------------------------------===//
// Sequential, ModuleList
//===----------------------------------------------------------------------===//

Expected<std::shared_ptr<Sequential>>
Sequential::create(std::vector<std::shared_ptr<Module>> modules) {
  std::shared_ptr<Sequential> s(new Sequential());
  for (auto &m : modules)
    KILN_RETURN_IF_ERROR(s->append(std::move(m)));
  return s;
}

Status Sequential::append(std::shared_ptr<Module> module) {
  if (!module)
    return invalidArgument("Sequential: module ", size(), " is null");
  registerModule(std::to_string(size()), std::move(module));
  return Status::ok();
}

Expected<Tensor> Sequential::forward(const Tensor &input) {
  Tensor x = input;
  for (const auto &[name, m] : namedChildren()) {
    Expected<Tensor> y = m->forward(x);
    if (!y)
      return y.takeStatus().withContext("Sequential layer " + name + " (" +
                                        m->typeName() + ")");
    x = std::move(*y);
  }
  return x;
}

Expected<std::shared_ptr<ModuleList>>
ModuleList::create(std::vector<std::shared_ptr<Module>> modules) {
  std::shared_ptr<ModuleList> s(new ModuleList());
  for (auto &m : modules)
    KILN_RETURN_IF_ERROR(s->append(std::move(m)));
  return s;
}

Status ModuleList::append(std::shared_ptr<Module> module) {
  if (!module)
    return invalidArgument("ModuleList: module ", size(), " is null");
  registerModule(std::to_string(size()), std::move(module));
  return Status::ok();
}

} // namespace kiln::nn
