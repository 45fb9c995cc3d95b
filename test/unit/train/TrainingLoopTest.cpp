//===- TrainingLoopTest.cpp - Optimizers driven by autograd ----------------===//
//
// A whole eager training loop (forward, backward, clipping, step, schedule)
// against PyTorch, so that the optimizer is checked on gradients that come
// from backward() rather than from setGrad. Reference (torch 2.15):
//
//   X = torch.tensor([[1., 2., 0.5], [0., -1., 1.], [2., 0., -1.],
//                     [1., 1., 1.]], dtype=torch.float64)
//   y = torch.tensor([[1.], [0.], [2.], [-1.]], dtype=torch.float64)
//   w = torch.zeros(3, 1, dtype=torch.float64, requires_grad=True)
//   b = torch.full((1,), 0.5, dtype=torch.float64, requires_grad=True)
//   opt = torch.optim.Adam([w, b], lr=0.1)
//   sched = torch.optim.lr_scheduler.ExponentialLR(opt, 0.9)
//   for k in range(6):
//       opt.zero_grad()
//       d = X @ w + b - y
//       loss = (d * d).mean()
//       loss.backward()
//       norms.append(torch.nn.utils.clip_grad_norm_([w, b], 1.0).item())
//       opt.step(); sched.step()
//       losses.append(loss.item())
//
//===----------------------------------------------------------------------===//
#include "OptimTestUtil.h"

#include "kiln/Ops.h"

namespace kiln::test {
namespace {

constexpr double kLosses[] = {1.25, 1.0131250029758134, 0.8313339045208006,
                              0.6975298929436398, 0.6016172297082946,
                              0.5360846097585501};
constexpr double kNorms[] = {1.9080421903092184, 1.5961379212937812,
                             1.3402677694973146, 1.0992981901736094,
                             0.8825723530144802, 0.6994173623981822};
const std::vector<double> kW = {0.4591894303453631, -0.05067607459124186,
                                -0.46770643181893046};
constexpr double kB = 0.23325305940823948;

TEST(TrainingLoopTest, AdamWithClippingAndScheduleMatchesPyTorch) {
  Tensor x = *Tensor::fromDoubles(
      std::vector<double>{1, 2, 0.5, 0, -1, 1, 2, 0, -1, 1, 1, 1}, {4, 3},
      DType::F64);
  Tensor y = *Tensor::fromDoubles(std::vector<double>{1, 0, 2, -1}, {4, 1},
                                  DType::F64);
  Tensor w = param({0, 0, 0}, {3, 1});
  Tensor b = param({0.5}, {1});
  std::vector<Tensor> params = {w, b};
  auto opt = optim::Adam::create(params, {.lr = 0.1});
  ASSERT_TRUE(opt.ok()) << opt.status();
  auto sched = optim::ExponentialLR::create(**opt, 0.9);
  ASSERT_TRUE(sched.ok()) << sched.status();
  for (int k = 0; k < 6; ++k) {
    (*opt)->zeroGrad();
    Expected<Tensor> d = matmul(x, w) + b - y;
    Expected<Tensor> loss = mean(*(d * d));
    ASSERT_TRUE(loss.ok()) << loss.status();
    ASSERT_TRUE(loss->backward().isOk());
    Expected<double> norm = optim::clipGradNorm((*opt)->params(0), 1.0);
    ASSERT_TRUE(norm.ok()) << norm.status();
    ASSERT_TRUE((*opt)->step().isOk());
    ASSERT_TRUE((*sched)->step().isOk());
    EXPECT_NEAR(*loss->item(), kLosses[k], 1e-12) << "step " << k;
    EXPECT_NEAR(*norm, kNorms[k], 1e-12) << "step " << k;
  }
  EXPECT_TRUE(closeTo(w, kW, {1e-12, 1e-12}));
  EXPECT_TRUE(closeTo(b, {kB}, {1e-12, 1e-12}));
}

TEST(TrainingLoopTest, FrozenBackboneTrainsOnlyTheHead) {
  // features = relu(x @ backbone); out = features @ head. With the backbone
  // frozen, backward() gives it no gradient and the optimizer leaves it be.
  Tensor x = *Tensor::fromDoubles(std::vector<double>{1, -1, 2, 0.5}, {2, 2},
                                  DType::F64);
  Tensor backbone = param({0.5, -0.25, 1.0, 0.75}, {2, 2});
  Tensor head = param({1.0, -1.0}, {2, 1});
  ASSERT_TRUE(backbone.setRequiresGrad(false).isOk());
  auto opt = optim::SGD::create({backbone, head}, {.lr = 0.1, .momentum = 0.9});
  ASSERT_TRUE(opt.ok());
  std::vector<double> before = backbone.toDoubles(), headBefore = head.toDoubles();
  for (int k = 0; k < 3; ++k) {
    (*opt)->zeroGrad();
    Expected<Tensor> loss = mean(*matmul(*relu(matmul(x, backbone)), head));
    ASSERT_TRUE(loss.ok()) << loss.status();
    ASSERT_TRUE(loss->backward().isOk());
    EXPECT_FALSE(backbone.grad().defined());
    ASSERT_TRUE((*opt)->step().isOk());
  }
  EXPECT_EQ(backbone.toDoubles(), before);
  EXPECT_NE(head.toDoubles(), headBefore);
}

} // namespace
} // namespace kiln::test
