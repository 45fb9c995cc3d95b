//===- Optimizer.cpp - Parameter groups, state and the step driver --------===//
//
// What every optimizer shares: groups with resolved options, per-parameter
// state (a step counter and named buffers shaped like the parameter), the
// checks that run before a step changes anything, the working arrays the
// update rules run on, and the flat state dict.
//
//===----------------------------------------------------------------------===//
#include "kiln/Optim.h"

#include "kiln/Autograd.h"
#include "kiln/Support/Shapes.h"
#include "kiln/ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace kiln::optim {

namespace {
/// Elements per pool chunk: big enough that the fork/join cost (a few
/// microseconds) is small against the work, small enough that a 1M-element
/// weight splits across the cores.
constexpr int64_t kGrain = 1 << 15;

bool isBoolOption(std::string_view name) {
  return name == "nesterov" || name == "amsgrad" || name == "centered";
}

/// "f32[2, 3]".
std::string describe(const Tensor &t) {
  if (!t.defined())
    return "undefined";
  return strCat(dtypeName(t.dtype()), shapes::toString(t.shape()));
}

std::string optionNames(const Options &o) {
  std::string s;
  for (const auto &[k, v] : o)
    s += (s.empty() ? "" : ", ") + k;
  return s;
}
} // namespace

Optimizer::Optimizer(Options defaults) : defaults_(std::move(defaults)) {}
Optimizer::~Optimizer() = default;

double Optimizer::initialValue(const Options &, size_t) const { return 0.0; }

std::string Optimizer::where(size_t index) const {
  return strCat(name(), ": parameter ", index, " (group ", paramGroupOf_[index],
                ")");
}

Expected<Options> Optimizer::resolve(const Options &overrides,
                                     std::string_view where) const {
  Options o = defaults_;
  for (const auto &[k, v] : overrides) {
    auto it = o.find(k);
    if (it == o.end())
      return invalidArgument(where, ": ", name(), " has no option '", k,
                             "' (options: ", optionNames(defaults_), ")");
    it->second = v;
  }
  for (const auto &[k, v] : o)
    if (isBoolOption(k) && v != 0.0 && v != 1.0)
      return invalidArgument(where, ": option '", k,
                             "' is a boolean (0 or 1), got ", v);
  Status s = validate(o);
  if (!s.isOk())
    return invalidArgument(where, ": ", s.message());
  return o;
}

Status Optimizer::init(std::vector<ParamGroup> groups) {
  Expected<Options> d = resolve({}, strCat(name(), " defaults"));
  if (!d)
    return d.status();
  for (auto &g : groups)
    KILN_RETURN_IF_ERROR(addParamGroup(std::move(g)));
  return Status();
}

Status Optimizer::addParamGroup(ParamGroup group) {
  size_t g = groups_.size();
  std::string here = strCat(name(), ": group ", g);
  KILN_ASSIGN_OR_RETURN(Options options, resolve(group.options, here));
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor &p = group.params[i];
    if (!p.defined())
      return invalidArgument(here, ": parameter ", i, " is undefined");
    if (!isFloat(p.dtype()))
      return invalidArgument(here, ": parameter ", i, " has dtype ", p.dtype(),
                             "; only float tensors can be optimized");
    if (!p.device().isHostAccessible())
      return unavailable(here, ": parameter ", i, " is on ", p.device().name(),
                         "; optimizers run on host memory only for now");
    // The same weight twice would be updated twice per step.
    auto same = [&](const Tensor &q) {
      return q.sharesStorageWith(p) && q.storageOffset() == p.storageOffset() &&
             q.shape() == p.shape() && q.strides() == p.strides();
    };
    for (size_t j = 0; j < i; ++j)
      if (same(group.params[j]))
        return invalidArgument(here, ": parameters ", j, " and ", i,
                               " are the same tensor");
    for (size_t j = 0; j < groups_.size(); ++j)
      for (const Tensor &q : groups_[j].params)
        if (same(q))
          return invalidArgument(here, ": parameter ", i,
                                 " is already in group ", j);
  }
  Group added{std::move(group.params), std::move(options),
              paramGroupOf_.size()};
  paramGroupOf_.insert(paramGroupOf_.end(), added.params.size(), g);
  state_.resize(paramGroupOf_.size());
  groups_.push_back(std::move(added));
  return Status();
}

const std::vector<Tensor> &Optimizer::params(size_t group) const {
  static const std::vector<Tensor> none;
  return group < groups_.size() ? groups_[group].params : none;
}

const Options &Optimizer::options(size_t group) const {
  static const Options none;
  return group < groups_.size() ? groups_[group].options : none;
}

Expected<double> Optimizer::option(size_t group, std::string_view key) const {
  if (group >= groups_.size())
    return outOfRange(name(), ": group ", group, " of ", groups_.size());
  auto it = groups_[group].options.find(key);
  if (it == groups_[group].options.end())
    return invalidArgument(name(), ": no option '", key, "'");
  return it->second;
}

Status Optimizer::setOption(size_t group, std::string_view key, double value) {
  if (group >= groups_.size())
    return outOfRange(name(), ": group ", group, " of ", groups_.size());
  Options overrides = groups_[group].options;
  overrides[std::string(key)] = value;
  KILN_ASSIGN_OR_RETURN(Options o,
                        resolve(overrides, strCat(name(), ": group ", group)));
  groups_[group].options = std::move(o);
  return Status();
}

void Optimizer::zeroGrad() {
  for (Group &g : groups_)
    for (Tensor &p : g.params)
      p.zeroGrad();
}

//===----------------------------------------------------------------------===//
// step
//===----------------------------------------------------------------------===//

Status Optimizer::checkParam(size_t index, const Tensor &p,
                             const Tensor &grad) const {
  if (grad.shape() != p.shape())
    return invalidArgument(where(index), ": gradient ", describe(grad),
                           " does not match the parameter's shape ",
                           describe(p));
  if (grad.dtype() != p.dtype())
    return invalidArgument(where(index), ": gradient dtype ", grad.dtype(),
                           " differs from the parameter's ", p.dtype());
  if (!grad.device().isHostAccessible())
    return unavailable(where(index), ": gradient is on ", grad.device().name());
  return Status();
}

Status Optimizer::step() {
  autograd::NoGradGuard noGrad;
  // Check everything first, so that a bad parameter leaves all untouched.
  std::vector<Tensor> grads(numParams());
  for (size_t i = 0; i < numParams(); ++i) {
    const Group &g = groups_[paramGroupOf_[i]];
    const Tensor &p = g.params[i - g.first];
    if (!p.requiresGrad())
      continue;
    Tensor grad = p.grad();
    if (!grad.defined())
      continue;
    KILN_RETURN_IF_ERROR(checkParam(i, p, grad));
    grads[i] = std::move(grad);
  }
  for (size_t i = 0; i < numParams(); ++i) {
    if (!grads[i].defined())
      continue;
    Group &g = groups_[paramGroupOf_[i]];
    Status s =
        updateParam(g.options, g.params[i - g.first], grads[i], state_[i]);
    if (!s.isOk())
      return std::move(s).withContext(where(i));
  }
  return Status();
}

Status Optimizer::updateParam(const Options &options, Tensor &p,
                              const Tensor &grad, ParamState &state) {
  // f64 stays f64; f32 is used in place; f16/bf16 go through f32 copies so
  // that the moments are not rounded to 16 bits between sub-expressions.
  DType work = p.dtype() == DType::F64 ? DType::F64 : DType::F32;
  bool direct = p.dtype() == work && p.isContiguous();

  std::vector<std::string> names = bufferNames(options);
  Arrays a;
  a.dtype = work;
  a.numel = p.numel();
  std::vector<Tensor> buffers(names.size()), workBuffers(names.size());
  for (size_t b = 0; b < names.size(); ++b) {
    Tensor &buf = state.buffers[names[b]];
    bool fresh = !buf.defined();
    if (fresh) {
      KILN_ASSIGN_OR_RETURN(
          buf, Tensor::full(p.shape(), initialValue(options, b), p.dtype()));
    }
    buffers[b] = buf;
    if (buf.dtype() == work) {
      workBuffers[b] = buf; // Buffers are created contiguous.
    } else {
      KILN_ASSIGN_OR_RETURN(workBuffers[b], buf.to(work));
    }
    a.buffers.push_back(workBuffers[b].rawData());
    a.fresh.push_back(fresh);
  }
  Tensor workParam = p;
  if (!direct) {
    KILN_ASSIGN_OR_RETURN(workParam, p.to(work));
  }
  Tensor workGrad = grad;
  if (grad.dtype() != work) {
    KILN_ASSIGN_OR_RETURN(workGrad, grad.to(work));
  } else {
    KILN_ASSIGN_OR_RETURN(workGrad, grad.contiguous());
  }
  a.param = workParam.rawData();
  a.grad = workGrad.rawData();

  double stepNumber = state.step + 1;
  ThreadPool *pool = p.device().threadPool();
  ThreadPool &tp = pool ? *pool : ThreadPool::global();
  tp.parallelFor(0, a.numel, kGrain, [&](int64_t begin, int64_t end) {
    update(options, stepNumber, a, begin, end);
  });
  if (countsSteps())
    state.step = stepNumber;

  if (!direct)
    KILN_RETURN_IF_ERROR(p.copyFrom(workParam));
  for (size_t b = 0; b < names.size(); ++b)
    if (!workBuffers[b].sharesStorageWith(buffers[b]))
      KILN_RETURN_IF_ERROR(buffers[b].copyFrom(workBuffers[b]));
  return Status();
}

//===----------------------------------------------------------------------===//
// State dict
//===----------------------------------------------------------------------===//

StateDict Optimizer::stateDict() const {
  StateDict dict;
  auto scalar = [](double v) { return *Tensor::scalar(v, DType::F64); };
  for (size_t g = 0; g < groups_.size(); ++g) {
    std::vector<int64_t> indices(groups_[g].params.size());
    for (size_t i = 0; i < indices.size(); ++i)
      indices[i] = int64_t(groups_[g].first + i);
    dict.emplace_back(strCat("group.", g, ".params"),
                      *Tensor::fromVector(indices, {int64_t(indices.size())}));
    for (const auto &[k, v] : groups_[g].options)
      dict.emplace_back(strCat("group.", g, ".", k), scalar(v));
  }
  for (size_t i = 0; i < state_.size(); ++i) {
    const ParamState &s = state_[i];
    if (s.empty())
      continue;
    if (countsSteps())
      dict.emplace_back(strCat("state.", i, ".step"), scalar(s.step));
    // Only the buffers the current options use: a buffer left over from
    // before an option change (momentum set to 0) is not part of the state.
    for (const std::string &b :
         bufferNames(groups_[paramGroupOf_[i]].options)) {
      auto it = s.buffers.find(b);
      if (it != s.buffers.end())
        dict.emplace_back(strCat("state.", i, ".", b), it->second);
    }
  }
  return dict;
}

namespace {
/// "group.3.lr" -> {"group", 3, "lr"}; false when the name has another form.
bool splitName(const std::string &name, std::string &kind, size_t &index,
               std::string &field) {
  size_t dot1 = name.find('.');
  if (dot1 == std::string::npos)
    return false;
  size_t dot2 = name.find('.', dot1 + 1);
  if (dot2 == std::string::npos || dot2 == dot1 + 1 || dot2 + 1 == name.size())
    return false;
  kind = name.substr(0, dot1);
  std::string digits = name.substr(dot1 + 1, dot2 - dot1 - 1);
  if (digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(),
                   [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  index = std::stoul(digits);
  field = name.substr(dot2 + 1);
  return kind == "group" || kind == "state";
}

Expected<double> scalarValue(const std::string &name, const Tensor &t) {
  if (!t.defined() || t.rank() != 0 || !isFloat(t.dtype()))
    return invalidArgument("'", name, "' must be a rank-0 float tensor, got ",
                           describe(t));
  return t.item();
}
} // namespace

Status Optimizer::loadStateDict(const StateDict &dict) {
  std::string here = strCat(name(), ".loadStateDict");
  std::vector<Options> options(groups_.size());
  std::vector<bool> sawParams(groups_.size(), false);
  std::vector<ParamState> state(numParams());
  std::vector<bool> sawStep(numParams(), false);
  std::set<std::string> seen;

  // Pass 1: options and group layout, which decide the expected buffers.
  for (const auto &[key, t] : dict) {
    if (!seen.insert(key).second)
      return invalidArgument(here, ": '", key, "' appears twice");
    std::string kind, field;
    size_t index = 0;
    if (!splitName(key, kind, index, field))
      return invalidArgument(here, ": unexpected entry '", key, "'");
    if (kind != "group")
      continue;
    if (index >= groups_.size())
      return invalidArgument(here, ": '", key, "' names group ", index,
                             " but the optimizer has ", groups_.size());
    const Group &g = groups_[index];
    if (field == "params") {
      if (!t.defined() || t.rank() != 1 || t.dtype() != DType::I64)
        return invalidArgument(here, ": '", key, "' must be an i64 vector");
      std::vector<double> ids = t.toDoubles();
      if (ids.size() != g.params.size())
        return invalidArgument(here, ": '", key, "' lists ", ids.size(),
                               " parameters but group ", index, " has ",
                               g.params.size());
      for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] != double(g.first + i))
          return invalidArgument(here, ": '", key, "' numbers parameter ", i,
                                 " as ", ids[i], ", expected ", g.first + i);
      sawParams[index] = true;
      continue;
    }
    if (!defaults_.count(field))
      return invalidArgument(here, ": unexpected entry '", key, "' (", name(),
                             " has no option '", field, "')");
    KILN_ASSIGN_OR_RETURN(double v, scalarValue(key, t));
    options[index][field] = v;
  }
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (!sawParams[g])
      return invalidArgument(here, ": missing 'group.", g, ".params'");
    for (const auto &[k, v] : defaults_)
      if (!options[g].count(k))
        return invalidArgument(here, ": missing 'group.", g, ".", k, "'");
    KILN_ASSIGN_OR_RETURN(options[g],
                          resolve(options[g], strCat(here, ": group ", g)));
  }

  // Pass 2: per-parameter state.
  for (const auto &[key, t] : dict) {
    std::string kind, field;
    size_t index = 0;
    splitName(key, kind, index, field);
    if (kind != "state")
      continue;
    if (index >= numParams())
      return invalidArgument(here, ": '", key, "' names parameter ", index,
                             " but the optimizer has ", numParams());
    const Group &g = groups_[paramGroupOf_[index]];
    const Tensor &p = g.params[index - g.first];
    if (field == "step" && countsSteps()) {
      KILN_ASSIGN_OR_RETURN(double v, scalarValue(key, t));
      if (!(v >= 0) || v != std::floor(v))
        return invalidArgument(
            here, ": '", key, "' must be a non-negative whole number, got ", v);
      state[index].step = v;
      sawStep[index] = true;
      continue;
    }
    std::vector<std::string> names = bufferNames(options[paramGroupOf_[index]]);
    if (std::find(names.begin(), names.end(), field) == names.end())
      return invalidArgument(here, ": unexpected entry '", key, "'");
    if (!t.defined() || t.shape() != p.shape() || t.dtype() != p.dtype())
      return invalidArgument(here, ": '", key, "' is ", describe(t),
                             " but parameter ", index, " is ", describe(p));
    KILN_ASSIGN_OR_RETURN(state[index].buffers[field], t.clone());
  }
  // Buffers may be missing (they start fresh at the next step, as they
  // would have in the saved optimizer after an option change turned them
  // on), but buffers without a step count would restart bias correction.
  for (size_t i = 0; i < numParams(); ++i)
    if (countsSteps() && !state[i].buffers.empty() && !sawStep[i])
      return invalidArgument(here, ": missing 'state.", i, ".step'");

  for (size_t g = 0; g < groups_.size(); ++g)
    groups_[g].options = std::move(options[g]);
  state_ = std::move(state);
  return Status();
}

} // namespace kiln::optim
