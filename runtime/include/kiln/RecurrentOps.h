//===- RecurrentOps.h - Fused LSTM and GRU sequences -----------------------===//
//
// One op runs a whole recurrent layer over a sequence, so that eager
// training records one autograd node per layer instead of ~25 per time
// step (issue 4: an LSTM of 50 steps cost ~3000 tiny ops per Adam step).
// The input projection of every step is one matmul outside, by the caller:
//
//   // xProj [N, T, 4H] = x W_ih^T, one GEMM of N*T rows.
//   KILN_ASSIGN_OR_RETURN(Tensor hc,
//                         kiln::lstmSequence(xProj, h0, c0, wHH, bIH + bHH));
//   KILN_ASSIGN_OR_RETURN(Tensor out, hc.select(0, 0));      // h_t, every t
//   KILN_ASSIGN_OR_RETURN(Tensor last, hc.select(2, T - 1)); // [h_n; c_n]
//
// Per step the forward pass runs one [N, H] x [H, G*H] GEMM and one fused
// pointwise loop (gates, cell, hidden); it saves the gate activations of
// every step. Backward is analytic BPTT: per step one fused pointwise loop
// for the gate gradients and one GEMM for d h_{t-1}; d W_hh is one GEMM over
// all N*T rows at the end. Autograd nodes have one output, hence the packed
// results; slices of them are differentiable views. PyTorch's gate orders
// and equations. f32 and f64 compute natively, f16/bf16 in f32 (rounded
// once at the end). Results are new contiguous tensors.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RECURRENTOPS_H
#define KILN_RECURRENTOPS_H

#include "kiln/Tensor.h"

namespace kiln {

/// An LSTM layer over a sequence, gates i, f, g, o:
///   gates = xProj[:, t] + bias + h_{t-1} W_hh^T, c_t = f c_{t-1} + i g,
///   h_t = o tanh(c_t).
/// xProj [N, T, 4H] (the input projection), bias [4H] or undefined (the
/// op adds it while it copies xProj anyway: b_ih + b_hh costs no [N, T, 4H]
/// pass), h0 and c0 [N, H], weightHH [4H, H], one float dtype. Returns
/// hc [2, N, T, H]: hc[0, :, t] = h_t and hc[1, :, t] = c_t (so the output
/// sequence hc[0] is a contiguous view).
/// Differentiable w.r.t. every input (autograd name "lstm_sequence").
Expected<Tensor> lstmSequence(const Tensor &xProj, const Tensor &h0,
                              const Tensor &c0, const Tensor &weightHH,
                              const Tensor &bias = Tensor());

/// A GRU layer over a sequence, gates r, z, n, with hp = h_{t-1} W_hh^T +
/// b_hh:  r = sigmoid(xProj_r + hp_r), z = sigmoid(xProj_z + hp_z),
/// n = tanh(xProj_n + r hp_n), h_t = (1 - z) n + z h_{t-1}.
/// xProj [N, T, 3H] (the input projection plus b_ih), h0 [N, H], weightHH
/// [3H, H], biasHH [3H] or undefined (no bias). Returns h [N, T, H].
/// Differentiable w.r.t. every input (autograd name "gru_sequence").
Expected<Tensor> gruSequence(const Tensor &xProj, const Tensor &h0,
                             const Tensor &weightHH, const Tensor &biasHH);

} // namespace kiln

#endif // KILN_RECURRENTOPS_H
