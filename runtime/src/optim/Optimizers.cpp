//===- Optimizers.cpp - SGD, Adam(W), RMSprop and Adagrad updates ---------===//
//
// Each rule is one elementwise loop over contiguous arrays, written in the
// element type (f32 or f64) and in the order of operations of PyTorch's
// single-tensor implementations (torch/optim/*.py, _single_tensor_*), so
// results agree with PyTorch to rounding. Scalars that depend only on the
// step (bias corrections, decayed lr) are computed once in double, as
// PyTorch computes them in Python.
//
//===----------------------------------------------------------------------===//
#include "kiln/Optim.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace kiln::optim {

namespace {

double get(const Options &o, std::string_view key) {
  return o.find(key)->second;
}

/// Calls fn.template operator()<T>() with T the arrays' element type.
template <typename Fn> void dispatch(DType dtype, Fn &&fn) {
  if (dtype == DType::F64)
    fn.template operator()<double>();
  else
    fn.template operator()<float>();
}

/// Calls fn(std::true_type{}) or fn(std::false_type{}). The update loops
/// take their loop-invariant options this way, as compile-time constants:
/// GCC does not unswitch a loop with several invariant conditions, and a
/// loop with conditional stores does not vectorize.
template <typename Fn> void withFlag(bool flag, Fn &&fn) {
  if (flag)
    fn(std::true_type{});
  else
    fn(std::false_type{});
}
#define KILN_FLAG(x) decltype(x)::value

/// torch.lerp's two-sided formula (ATen's lerp kernel), which keeps
/// start + w * (end - start) exact at both ends.
template <typename T> T lerp(T start, T end, T w) {
  return std::abs(w) < T(0.5) ? start + w * (end - start)
                              : end - (end - start) * (T(1) - w);
}

Status nonNegative(const Options &o, std::initializer_list<const char *> keys) {
  for (const char *k : keys) {
    double v = get(o, k);
    if (!(v >= 0.0)) // NaN too.
      return invalidArgument("option '", k, "' must be >= 0, got ", v);
  }
  return Status();
}

std::vector<ParamGroup> oneGroup(std::vector<Tensor> params) {
  std::vector<ParamGroup> groups(1);
  groups[0].params = std::move(params);
  return groups;
}

} // namespace

//===----------------------------------------------------------------------===//
// SGD
//===----------------------------------------------------------------------===//

SGD::SGD(const SGDOptions &o)
    : Optimizer({{"lr", o.lr},
                 {"momentum", o.momentum},
                 {"dampening", o.dampening},
                 {"weight_decay", o.weightDecay},
                 {"nesterov", o.nesterov ? 1.0 : 0.0}}) {}

Expected<std::unique_ptr<SGD>> SGD::create(std::vector<Tensor> params,
                                           const SGDOptions &options) {
  return create(oneGroup(std::move(params)), options);
}

Expected<std::unique_ptr<SGD>> SGD::create(std::vector<ParamGroup> groups,
                                           const SGDOptions &options) {
  std::unique_ptr<SGD> opt(new SGD(options));
  KILN_RETURN_IF_ERROR(opt->init(std::move(groups)));
  return opt;
}

Status SGD::validate(const Options &o) const {
  KILN_RETURN_IF_ERROR(nonNegative(o, {"lr", "momentum", "weight_decay"}));
  if (get(o, "nesterov") != 0.0 &&
      (get(o, "momentum") <= 0.0 || get(o, "dampening") != 0.0))
    return invalidArgument("Nesterov momentum needs momentum > 0 and dampening "
                           "== 0, got momentum ",
                           get(o, "momentum"), " and dampening ",
                           get(o, "dampening"));
  return Status();
}

std::vector<std::string> SGD::bufferNames(const Options &o) const {
  if (get(o, "momentum") != 0.0)
    return {"momentum_buffer"};
  return {};
}

void SGD::update(const Options &o, double, const Arrays &a, int64_t begin,
                 int64_t end) const {
  dispatch(a.dtype, [&]<typename T>() {
    const T lr = T(get(o, "lr")), wd = T(get(o, "weight_decay"));
    const T momentum = T(get(o, "momentum"));
    const T keep = T(1.0 - get(o, "dampening"));
    const bool nesterov = get(o, "nesterov") != 0.0;
    T *p = static_cast<T *>(a.param);
    const T *grad = static_cast<const T *>(a.grad);
    T *buf = a.buffers.empty() ? nullptr : static_cast<T *>(a.buffers[0]);
    const bool fresh = buf && a.fresh[0];
    withFlag(wd != T(0), [&](auto hasWd) {
      withFlag(buf != nullptr, [&](auto hasBuf) {
        withFlag(fresh, [&](auto isFresh) {
          withFlag(nesterov, [&](auto isNesterov) {
            for (int64_t i = begin; i < end; ++i) {
              T g = grad[i];
              if constexpr (KILN_FLAG(hasWd))
                g = g + wd * p[i];
              if constexpr (KILN_FLAG(hasBuf)) {
                // The first step starts the buffer at the gradient (no
                // dampening).
                T b;
                if constexpr (KILN_FLAG(isFresh))
                  b = g;
                else
                  b = buf[i] * momentum + keep * g;
                buf[i] = b;
                if constexpr (KILN_FLAG(isNesterov))
                  g = g + momentum * b;
                else
                  g = b;
              }
              p[i] = p[i] - lr * g;
            }
          });
        });
      });
    });
  });
}

//===----------------------------------------------------------------------===//
// Adam, AdamW
//===----------------------------------------------------------------------===//

namespace {
Options adamOptions(double lr, double beta1, double beta2, double eps,
                    double weightDecay, bool amsgrad) {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"eps", eps},
          {"weight_decay", weightDecay},
          {"amsgrad", amsgrad ? 1.0 : 0.0}};
}
} // namespace

Adam::Adam(Options defaults, bool decoupled)
    : Optimizer(std::move(defaults)), decoupled_(decoupled) {}

Expected<std::unique_ptr<Adam>> Adam::create(std::vector<Tensor> params,
                                             const AdamOptions &options) {
  return create(oneGroup(std::move(params)), options);
}

Expected<std::unique_ptr<Adam>> Adam::create(std::vector<ParamGroup> groups,
                                             const AdamOptions &o) {
  std::unique_ptr<Adam> opt(new Adam(
      adamOptions(o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, o.amsgrad),
      /*decoupled=*/false));
  KILN_RETURN_IF_ERROR(opt->init(std::move(groups)));
  return opt;
}

AdamW::AdamW(const AdamWOptions &o)
    : Adam(adamOptions(o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, o.amsgrad),
           /*decoupled=*/true) {}

Expected<std::unique_ptr<AdamW>> AdamW::create(std::vector<Tensor> params,
                                               const AdamWOptions &options) {
  return create(oneGroup(std::move(params)), options);
}

Expected<std::unique_ptr<AdamW>> AdamW::create(std::vector<ParamGroup> groups,
                                               const AdamWOptions &options) {
  std::unique_ptr<AdamW> opt(new AdamW(options));
  KILN_RETURN_IF_ERROR(opt->init(std::move(groups)));
  return opt;
}

Status Adam::validate(const Options &o) const {
  KILN_RETURN_IF_ERROR(nonNegative(o, {"lr", "eps", "weight_decay"}));
  for (const char *k : {"beta1", "beta2"}) {
    double b = get(o, k);
    if (!(b >= 0.0 && b < 1.0))
      return invalidArgument("option '", k, "' must be in [0, 1), got ", b);
  }
  return Status();
}

std::vector<std::string> Adam::bufferNames(const Options &o) const {
  if (get(o, "amsgrad") != 0.0)
    return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}

void Adam::update(const Options &o, double step, const Arrays &a, int64_t begin,
                  int64_t end) const {
  const double lrD = get(o, "lr"), beta1D = get(o, "beta1"),
               beta2D = get(o, "beta2"), wdD = get(o, "weight_decay");
  const double stepSize = lrD / (1.0 - std::pow(beta1D, step));
  const double bc2Sqrt = std::sqrt(1.0 - std::pow(beta2D, step));
  dispatch(a.dtype, [&]<typename T>() {
    const T decay = T(1.0 - lrD * wdD); // AdamW
    const T wd = T(wdD);                // Adam (L2)
    const T w1 = T(1.0 - beta1D), beta2 = T(beta2D), w2 = T(1.0 - beta2D);
    const T eps = T(get(o, "eps")), size = T(stepSize), bc = T(bc2Sqrt);
    const bool decoupled = decoupled_ && wdD != 0.0;
    const bool l2 = !decoupled_ && wdD != 0.0;
    T *p = static_cast<T *>(a.param);
    const T *grad = static_cast<const T *>(a.grad);
    T *m = static_cast<T *>(a.buffers[0]);
    T *v = static_cast<T *>(a.buffers[1]);
    T *vMax = a.buffers.size() > 2 ? static_cast<T *>(a.buffers[2]) : nullptr;
    withFlag(decoupled, [&](auto isDecoupled) {
      withFlag(l2, [&](auto isL2) {
        withFlag(vMax != nullptr, [&](auto isAmsgrad) {
          for (int64_t i = begin; i < end; ++i) {
            T g = grad[i];
            if constexpr (KILN_FLAG(isDecoupled))
              p[i] = p[i] * decay;
            if constexpr (KILN_FLAG(isL2))
              g = g + wd * p[i];
            T mi = lerp(m[i], g, w1);
            T vi = v[i] * beta2 + w2 * g * g;
            m[i] = mi;
            v[i] = vi;
            if constexpr (KILN_FLAG(isAmsgrad)) {
              vi = std::max(vMax[i], vi);
              vMax[i] = vi;
            }
            T denom = std::sqrt(vi) / bc + eps;
            p[i] = p[i] - size * (mi / denom);
          }
        });
      });
    });
  });
}

//===----------------------------------------------------------------------===//
// RMSprop
//===----------------------------------------------------------------------===//

RMSprop::RMSprop(const RMSpropOptions &o)
    : Optimizer({{"lr", o.lr},
                 {"alpha", o.alpha},
                 {"eps", o.eps},
                 {"weight_decay", o.weightDecay},
                 {"momentum", o.momentum},
                 {"centered", o.centered ? 1.0 : 0.0}}) {}

Expected<std::unique_ptr<RMSprop>>
RMSprop::create(std::vector<Tensor> params, const RMSpropOptions &options) {
  return create(oneGroup(std::move(params)), options);
}

Expected<std::unique_ptr<RMSprop>>
RMSprop::create(std::vector<ParamGroup> groups, const RMSpropOptions &options) {
  std::unique_ptr<RMSprop> opt(new RMSprop(options));
  KILN_RETURN_IF_ERROR(opt->init(std::move(groups)));
  return opt;
}

Status RMSprop::validate(const Options &o) const {
  return nonNegative(o, {"lr", "alpha", "eps", "weight_decay", "momentum"});
}

std::vector<std::string> RMSprop::bufferNames(const Options &o) const {
  std::vector<std::string> names = {"square_avg"};
  if (get(o, "momentum") > 0.0)
    names.push_back("momentum_buffer");
  if (get(o, "centered") != 0.0)
    names.push_back("grad_avg");
  return names;
}

void RMSprop::update(const Options &o, double, const Arrays &a, int64_t begin,
                     int64_t end) const {
  const bool hasMomentum = get(o, "momentum") > 0.0;
  const bool centered = get(o, "centered") != 0.0;
  dispatch(a.dtype, [&]<typename T>() {
    const T lr = T(get(o, "lr")), wd = T(get(o, "weight_decay"));
    const T alpha = T(get(o, "alpha")), w = T(1.0 - get(o, "alpha"));
    const T eps = T(get(o, "eps")), momentum = T(get(o, "momentum"));
    T *p = static_cast<T *>(a.param);
    const T *grad = static_cast<const T *>(a.grad);
    T *sq = static_cast<T *>(a.buffers[0]);
    T *buf = hasMomentum ? static_cast<T *>(a.buffers[1]) : nullptr;
    T *gAvg = centered ? static_cast<T *>(a.buffers.back()) : nullptr;
    withFlag(wd != T(0), [&](auto hasWd) {
      withFlag(centered, [&](auto isCentered) {
        withFlag(hasMomentum, [&](auto hasBuf) {
          for (int64_t i = begin; i < end; ++i) {
            T g = grad[i];
            if constexpr (KILN_FLAG(hasWd))
              g = g + wd * p[i];
            T s = sq[i] * alpha + w * g * g;
            sq[i] = s;
            T avg;
            if constexpr (KILN_FLAG(isCentered)) {
              T ga = lerp(gAvg[i], g, w);
              gAvg[i] = ga;
              avg = std::sqrt(s - ga * ga);
            } else {
              avg = std::sqrt(s);
            }
            avg = avg + eps;
            if constexpr (KILN_FLAG(hasBuf)) {
              T b = buf[i] * momentum + g / avg;
              buf[i] = b;
              p[i] = p[i] - lr * b;
            } else {
              p[i] = p[i] - lr * (g / avg);
            }
          }
        });
      });
    });
  });
}

//===----------------------------------------------------------------------===//
// Adagrad
//===----------------------------------------------------------------------===//

Adagrad::Adagrad(const AdagradOptions &o)
    : Optimizer({{"lr", o.lr},
                 {"lr_decay", o.lrDecay},
                 {"weight_decay", o.weightDecay},
                 {"initial_accumulator_value", o.initialAccumulatorValue},
                 {"eps", o.eps}}) {}

Expected<std::unique_ptr<Adagrad>>
Adagrad::create(std::vector<Tensor> params, const AdagradOptions &options) {
  return create(oneGroup(std::move(params)), options);
}

Expected<std::unique_ptr<Adagrad>>
Adagrad::create(std::vector<ParamGroup> groups, const AdagradOptions &options) {
  std::unique_ptr<Adagrad> opt(new Adagrad(options));
  KILN_RETURN_IF_ERROR(opt->init(std::move(groups)));
  return opt;
}

Status Adagrad::validate(const Options &o) const {
  return nonNegative(o, {"lr", "lr_decay", "weight_decay",
                         "initial_accumulator_value", "eps"});
}

std::vector<std::string> Adagrad::bufferNames(const Options &) const {
  return {"sum"};
}

double Adagrad::initialValue(const Options &o, size_t) const {
  return get(o, "initial_accumulator_value");
}

void Adagrad::update(const Options &o, double step, const Arrays &a,
                     int64_t begin, int64_t end) const {
  const double clrD = get(o, "lr") / (1.0 + (step - 1.0) * get(o, "lr_decay"));
  dispatch(a.dtype, [&]<typename T>() {
    const T clr = T(clrD), wd = T(get(o, "weight_decay")),
            eps = T(get(o, "eps"));
    T *p = static_cast<T *>(a.param);
    const T *grad = static_cast<const T *>(a.grad);
    T *sum = static_cast<T *>(a.buffers[0]);
    for (int64_t i = begin; i < end; ++i) {
      T g = grad[i];
      if (wd != T(0))
        g = g + wd * p[i];
      sum[i] = sum[i] + g * g;
      p[i] = p[i] - clr * (g / (std::sqrt(sum[i]) + eps));
    }
  });
}

#undef KILN_FLAG

} // namespace kiln::optim
