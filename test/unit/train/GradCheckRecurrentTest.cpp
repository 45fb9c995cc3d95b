//===- GradCheckRecurrentTest.cpp - The fused LSTM and GRU sequence ops ----===//
//
// RecurrentOps.h by finite differences w.r.t. every input (and with only
// some inputs differentiated, which skips work in backward), plus the
// forward values against the same recurrence composed of eager ops, in f64
// and f32 (f32 uses the vectorized activations) and through f16.
//
//===----------------------------------------------------------------------===//
#include "GradCheck.h"

#include "kiln/RecurrentOps.h"
#include "kiln/ThreadPool.h"

#include <cstring>

using namespace kiln;
using namespace kiln::gradcheck;

namespace {

class GradCheckRecurrent : public GradCheckTest {};

/// The LSTM recurrence composed of eager ops: hc [2, N, T, H].
Expected<Tensor> lstmComposed(const Tensor &x, Tensor h, Tensor c,
                              const Tensor &w) {
  int64_t hid = w.dim(1);
  KILN_ASSIGN_OR_RETURN(Tensor all, Tensor::empty({2, x.dim(0), x.dim(1), hid},
                                                  x.dtype()));
  for (int64_t t = 0; t < x.dim(1); ++t) {
    KILN_ASSIGN_OR_RETURN(Tensor xt, x.select(1, t));
    KILN_ASSIGN_OR_RETURN(Tensor g, xt + matmul(h, w, false, true));
    auto gate = [&](int64_t k) { return g.slice(1, k * hid, (k + 1) * hid); };
    KILN_ASSIGN_OR_RETURN(Tensor i, sigmoid(gate(0)));
    KILN_ASSIGN_OR_RETURN(Tensor f, sigmoid(gate(1)));
    KILN_ASSIGN_OR_RETURN(Tensor gg, tanh(gate(2)));
    KILN_ASSIGN_OR_RETURN(Tensor o, sigmoid(gate(3)));
    KILN_ASSIGN_OR_RETURN(c, f * c + i * gg);
    KILN_ASSIGN_OR_RETURN(h, o * tanh(c));
    KILN_ASSIGN_OR_RETURN(Tensor step, all.select(2, t));
    KILN_ASSIGN_OR_RETURN(Tensor hs, step.select(0, 0));
    KILN_ASSIGN_OR_RETURN(Tensor cs, step.select(0, 1));
    KILN_RETURN_IF_ERROR(hs.copyFrom(h));
    KILN_RETURN_IF_ERROR(cs.copyFrom(c));
  }
  return all;
}

/// The GRU recurrence composed of eager ops: h [N, T, H].
Expected<Tensor> gruComposed(const Tensor &x, Tensor h, const Tensor &w,
                             const Tensor &b) {
  int64_t hid = w.dim(1);
  KILN_ASSIGN_OR_RETURN(Tensor all, Tensor::empty({x.dim(0), x.dim(1), hid},
                                                  x.dtype()));
  for (int64_t t = 0; t < x.dim(1); ++t) {
    KILN_ASSIGN_OR_RETURN(Tensor xt, x.select(1, t));
    KILN_ASSIGN_OR_RETURN(Tensor hp, matmul(h, w, false, true));
    if (b.defined()) {
      KILN_ASSIGN_OR_RETURN(hp, hp + b);
    }
    auto gate = [&](const Tensor &g, int64_t k) {
      return g.slice(1, k * hid, (k + 1) * hid);
    };
    KILN_ASSIGN_OR_RETURN(Tensor r, sigmoid(gate(xt, 0) + gate(hp, 0)));
    KILN_ASSIGN_OR_RETURN(Tensor z, sigmoid(gate(xt, 1) + gate(hp, 1)));
    KILN_ASSIGN_OR_RETURN(Tensor n, tanh(gate(xt, 2) + r * gate(hp, 2)));
    KILN_ASSIGN_OR_RETURN(h, n + z * (h - n));
    KILN_ASSIGN_OR_RETURN(Tensor dst, all.select(1, t));
    KILN_RETURN_IF_ERROR(dst.copyFrom(h));
  }
  return all;
}

void expectClose(const Tensor &a, const Tensor &b, double tol) {
  ASSERT_EQ(a.shape(), b.shape());
  std::vector<double> x = a.toDoubles(), y = b.toDoubles();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < x.size(); ++i)
    if (std::fabs(x[i] - y[i]) > worst) {
      worst = std::fabs(x[i] - y[i]);
      at = i;
    }
  EXPECT_LE(worst, tol) << "worst at element " << at << ": " << x[at]
                        << " vs " << y[at];
}

Tensor as(const Tensor &t, DType d) { return t.to(d).value(); }

KILN_GRADCHECK_TEST(GradCheckRecurrent, LstmSequence, "lstm_sequence") {
  // N = 2, T = 3, H = 3; inputs big enough to saturate some gates.
  Inputs in{uniform({2, 3, 12}, 1, -2, 2), uniform({2, 3}, 2),
            uniform({2, 3}, 3), uniform({12, 3}, 4)};
  auto fn = [](const Inputs &v) {
    return lstmSequence(v[0], v[1], v[2], v[3]);
  };
  EXPECT_TRUE(checkGradients("lstm_sequence", fn, in));
  // Only the weight, only the initial states: the skipped gradients stay
  // out of the way.
  EXPECT_TRUE(checkGradients("lstm_sequence", fn, in,
                             {.wrt = {false, false, false, true}}));
  EXPECT_TRUE(checkGradients("lstm_sequence", fn, in,
                             {.wrt = {false, true, true, false}}));
  // With the bias the op adds itself.
  EXPECT_TRUE(checkGradients(
      "lstm_sequence",
      [](const Inputs &v) { return lstmSequence(v[0], v[1], v[2], v[3], v[4]); },
      {uniform({2, 3, 8}, 9, -2, 2), uniform({2, 2}, 10), uniform({2, 2}, 11),
       uniform({8, 2}, 12), uniform({8}, 13)}));
  // One step, batch of one.
  EXPECT_TRUE(checkGradients(
      "lstm_sequence", fn,
      {uniform({1, 1, 8}, 5), uniform({1, 2}, 6), uniform({1, 2}, 7),
       uniform({8, 2}, 8)}));
}

KILN_GRADCHECK_TEST(GradCheckRecurrent, GruSequence, "gru_sequence") {
  Inputs in{uniform({2, 3, 9}, 11, -2, 2), uniform({2, 3}, 12),
            uniform({9, 3}, 13), uniform({9}, 14)};
  auto fn = [](const Inputs &v) {
    return gruSequence(v[0], v[1], v[2], v[3]);
  };
  EXPECT_TRUE(checkGradients("gru_sequence", fn, in));
  EXPECT_TRUE(checkGradients("gru_sequence", fn, in,
                             {.wrt = {false, false, true, false}}));
  EXPECT_TRUE(checkGradients("gru_sequence", fn, in,
                             {.wrt = {false, true, false, true}}));
  // No bias.
  EXPECT_TRUE(checkGradients(
      "gru_sequence",
      [](const Inputs &v) { return gruSequence(v[0], v[1], v[2], Tensor()); },
      {uniform({1, 2, 6}, 15), uniform({1, 2}, 16), uniform({6, 2}, 17)}));
}

TEST(RecurrentOps, LstmMatchesComposedOps) {
  Tensor x = uniform({3, 5, 16}, 21, -3, 3), h = uniform({3, 4}, 22),
         c = uniform({3, 4}, 23), w = uniform({16, 4}, 24);
  Tensor want = lstmComposed(x, h, c, w).value();
  expectClose(lstmSequence(x, h, c, w).value(), want, 1e-12);
  expectClose(lstmSequence(as(x, DType::F32), as(h, DType::F32),
                           as(c, DType::F32), as(w, DType::F32))
                  .value(),
              want, 2e-6);
  // Hidden size 13: f32 vector lanes (8 with AVX2, else 4) and a scalar
  // tail.
  Tensor x6 = uniform({2, 4, 52}, 25, -3, 3), h6 = uniform({2, 13}, 26),
         c6 = uniform({2, 13}, 27), w6 = uniform({52, 13}, 28),
         b6 = uniform({52}, 29);
  Tensor want6 = lstmComposed((x6 + b6).value(), h6, c6, w6).value();
  expectClose(lstmSequence(x6, h6, c6, w6, b6).value(), want6, 1e-12);
  expectClose(lstmSequence(as(x6, DType::F32), as(h6, DType::F32),
                           as(c6, DType::F32), as(w6, DType::F32),
                           as(b6, DType::F32))
                  .value(),
              want6, 2e-6);
  Tensor half = lstmSequence(as(x, DType::F16), as(h, DType::F16),
                             as(c, DType::F16), as(w, DType::F16))
                    .value();
  EXPECT_EQ(half.dtype(), DType::F16);
  expectClose(half, want, 1e-2);
}

// The f32 forward at widths past the vector lanes (16 with AVX-512, 8
// with AVX2) plus a scalar tail, at batches that take the packed W^T path
// (8 rows and more) with each step split into row groups over the pool:
// against the f64 composition, and the same bits whatever the pool's size
// (each product element is one FMA chain, each gate elementwise).
TEST(RecurrentOps, LstmF32RowGroupsMatchComposedOps) {
  for (auto [n, hid] : {std::pair<int64_t, int64_t>{8, 37}, {13, 16}, {32, 128},
                        {33, 70}}) {
    SCOPED_TRACE(::testing::Message() << "batch " << n << ", hidden " << hid);
    Tensor x = uniform({n, 3, 4 * hid}, 51, -2, 2), h = uniform({n, hid}, 52),
           c = uniform({n, hid}, 53), w = uniform({4 * hid, hid}, 54, -0.3, 0.3),
           b = uniform({4 * hid}, 55);
    Tensor want = lstmComposed((x + b).value(), h, c, w).value();
    Tensor got = lstmSequence(as(x, DType::F32), as(h, DType::F32),
                              as(c, DType::F32), as(w, DType::F32),
                              as(b, DType::F32))
                     .value();
    expectClose(got, want, 2e-6); // as the small cases above: worst 6.6e-7
    // Every step on the calling thread (a pool worker runs nested work
    // inline): bit for bit the split run's result.
    Tensor serial;
    ThreadPool::global().parallelFor(0, 2, 1, [&](int64_t p0, int64_t) {
      if (p0 == 0)
        serial = lstmSequence(as(x, DType::F32), as(h, DType::F32),
                              as(c, DType::F32), as(w, DType::F32),
                              as(b, DType::F32))
                     .value();
    });
    ASSERT_TRUE(serial.defined());
    EXPECT_EQ(std::memcmp(serial.rawData(), got.rawData(),
                          size_t(got.numel()) * sizeof(float)),
              0);
  }
}

TEST(RecurrentOps, GruMatchesComposedOps) {
  Tensor x = uniform({3, 5, 12}, 31, -3, 3), h = uniform({3, 4}, 32),
         w = uniform({12, 4}, 33), b = uniform({12}, 34);
  Tensor want = gruComposed(x, h, w, b).value();
  expectClose(gruSequence(x, h, w, b).value(), want, 1e-12);
  expectClose(gruSequence(as(x, DType::F32), as(h, DType::F32),
                          as(w, DType::F32), as(b, DType::F32))
                  .value(),
              want, 2e-6);
  Tensor x6 = uniform({2, 4, 39}, 35, -3, 3), h6 = uniform({2, 13}, 36),
         w6 = uniform({39, 13}, 37), b6 = uniform({39}, 38);
  expectClose(gruSequence(as(x6, DType::F32), as(h6, DType::F32),
                          as(w6, DType::F32), as(b6, DType::F32))
                  .value(),
              gruComposed(x6, h6, w6, b6).value(), 2e-6);
  expectClose(gruSequence(x, h, w, Tensor()).value(),
              gruComposed(x, h, w, Tensor()).value(), 1e-12);
}

// Big enough that the per-step GEMMs and pointwise loops split over the
// pool (when it has more than one thread), forward and backward.
TEST(RecurrentOps, LargeShapesMatchComposedOps) {
  Tensor x = uniform({32, 3, 1024}, 41), h = uniform({32, 256}, 42),
         c = uniform({32, 256}, 43), w = uniform({1024, 256}, 44, -0.1, 0.1);
  Tensor seed = uniform({2, 32, 3, 256}, 45);
  Tensor xf = x.clone().value(), wf = w.clone().value();
  ASSERT_TRUE(xf.setRequiresGrad().isOk());
  ASSERT_TRUE(wf.setRequiresGrad().isOk());
  Tensor out = lstmSequence(xf, h, c, wf).value();
  expectClose(out, lstmComposed(x, h, c, w).value(), 1e-12);
  auto fused = autograd::grad({out}, {xf, wf}, {seed}).value();
  // Gradients against the per-step composition's, <hc, seed> as a sum.
  Tensor xl = x.clone().value(), wl = w.clone().value();
  ASSERT_TRUE(xl.setRequiresGrad().isOk());
  ASSERT_TRUE(wl.setRequiresGrad().isOk());
  Tensor hh = h, cc = c;
  Expected<Tensor> dot = Tensor::scalar(0.0, DType::F64);
  for (int64_t t = 0; t < 3; ++t) {
    Tensor g = (xl.select(1, t).value() + matmul(hh, wl, false, true)).value();
    auto gate = [&](int64_t k) { return g.slice(1, k * 256, (k + 1) * 256); };
    Tensor i = sigmoid(gate(0)).value(), f = sigmoid(gate(1)).value(),
           gg = tanh(gate(2)).value(), o = sigmoid(gate(3)).value();
    cc = (f * cc + i * gg).value();
    hh = (o * tanh(cc)).value();
    Tensor sh = seed.select(2, t).value();
    dot = dot + sum(hh * sh.select(0, 0).value()) +
          sum(cc * sh.select(0, 1).value());
  }
  auto want = autograd::grad({dot.value()}, {xl, wl}).value();
  expectClose(fused[0], want[0], 1e-10);
  expectClose(fused[1], want[1], 1e-10);
}

/// Gradients of <op(inputs), seed> w.r.t. every input, computed in `dtype`.
std::vector<Tensor> gradientsIn(DType dtype, const Inputs &inputs,
                                const std::function<Expected<Tensor>(const Inputs &)> &op,
                                const Tensor &seed) {
  Inputs leaves;
  for (const Tensor &t : inputs) {
    leaves.push_back(t.to(dtype).value());
    EXPECT_TRUE(leaves.back().setRequiresGrad().isOk());
  }
  Tensor out = op(leaves).value();
  return autograd::grad({out}, leaves, {seed.to(dtype).value()}).value();
}

// The f32 backward loops (vector lanes and scalar tail, hidden size 13)
// against the f64 ones, which the finite-difference checks cover.
TEST(RecurrentOps, F32GradientsMatchF64) {
  Inputs lstm{uniform({3, 5, 52}, 51, -2, 2), uniform({3, 13}, 52),
              uniform({3, 13}, 53), uniform({52, 13}, 54), uniform({52}, 55)};
  auto lstmOp = [](const Inputs &v) {
    return lstmSequence(v[0], v[1], v[2], v[3], v[4]);
  };
  Tensor lstmSeed = uniform({2, 3, 5, 13}, 56);
  auto want = gradientsIn(DType::F64, lstm, lstmOp, lstmSeed);
  auto got = gradientsIn(DType::F32, lstm, lstmOp, lstmSeed);
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("lstm input " + std::to_string(i));
    expectClose(got[i], want[i], 2e-5);
  }
  Inputs gru{uniform({3, 5, 39}, 61, -2, 2), uniform({3, 13}, 62),
             uniform({39, 13}, 63), uniform({39}, 64)};
  auto gruOp = [](const Inputs &v) {
    return gruSequence(v[0], v[1], v[2], v[3]);
  };
  Tensor gruSeed = uniform({3, 5, 13}, 65);
  want = gradientsIn(DType::F64, gru, gruOp, gruSeed);
  got = gradientsIn(DType::F32, gru, gruOp, gruSeed);
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("gru input " + std::to_string(i));
    expectClose(got[i], want[i], 2e-5);
  }
}

// The f32 backward at batches that take the packed W_hh path (8 rows and
// more), with the rows split into groups over the pool when the call is
// big enough (33 x 70 and 32 x 128 are; 8 x 37 runs in one group): against
// the f64 gradients, and the same bits whatever the pool's size. Hidden
// sizes past the vector lanes plus a scalar tail, and h0, c0 differentiated
// (the last step's d h_{t-1} product and the memcpy of the state).
TEST(RecurrentOps, LstmF32RowGroupGradientsMatchF64) {
  for (auto [n, hid] : {std::pair<int64_t, int64_t>{8, 37}, {33, 70}, {32, 128}}) {
    SCOPED_TRACE(::testing::Message() << "batch " << n << ", hidden " << hid);
    Inputs in{uniform({n, 3, 4 * hid}, 71, -2, 2), uniform({n, hid}, 72),
              uniform({n, hid}, 73), uniform({4 * hid, hid}, 74, -0.3, 0.3),
              uniform({4 * hid}, 75)};
    auto op = [](const Inputs &v) {
      return lstmSequence(v[0], v[1], v[2], v[3], v[4]);
    };
    Tensor seed = uniform({2, n, 3, hid}, 76);
    auto want = gradientsIn(DType::F64, in, op, seed);
    auto got = gradientsIn(DType::F32, in, op, seed);
    std::vector<Tensor> serial;
    ThreadPool::global().parallelFor(0, 2, 1, [&](int64_t p0, int64_t) {
      if (p0 == 0)
        serial = gradientsIn(DType::F32, in, op, seed);
    });
    ASSERT_EQ(serial.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i) {
      SCOPED_TRACE("input " + std::to_string(i));
      // Worst here 2.2e-6 (d W_hh at 33 x 70, which sums 99 rows).
      expectClose(got[i], want[i], 2e-5);
      EXPECT_EQ(std::memcmp(serial[i].rawData(), got[i].rawData(),
                            size_t(got[i].numel()) * sizeof(float)),
                0);
    }
  }
}

TEST(RecurrentOps, RejectsBadShapes) {
  Tensor x = uniform({2, 3, 12}, 1), h = uniform({2, 3}, 2),
         w = uniform({12, 3}, 4);
  Expected<Tensor> r = lstmSequence(x, h, uniform({2, 4}, 3), w);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("h0 and c0 must be [2, 3]"),
            std::string::npos)
      << r.status().message();
  r = lstmSequence(x, h, h, uniform({12, 4}, 4));
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("weightHH must be [4H, H]"),
            std::string::npos)
      << r.status().message();
  r = lstmSequence(x, h, h, w, uniform({11}, 5));
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("bias must be [12]"), std::string::npos)
      << r.status().message();
  r = gruSequence(uniform({2, 3, 9}, 1), h, uniform({9, 3}, 2),
                  uniform({3}, 3));
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("biasHH must be [9]"), std::string::npos)
      << r.status().message();
}

} // namespace
