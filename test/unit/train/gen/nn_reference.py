#!/usr/bin/env python3
"""Writes test/unit/train/NNReference.inc: PyTorch's outputs (and gradients)
of the torch.nn layers that kiln::nn mirrors, for the NN tests.

Weights and inputs are not random: both sides fill them from one formula
(`fill` here, `fill` in NNTest.cpp), element i of the k-th tensor being
    scale * sin(0.7 * i + 1.3 * k + 0.1)
rounded to float32, so only expected results are pasted. Parameters are
filled in named_parameters() order, and the names are written too, so the
test also checks that kiln::nn names parameters as PyTorch does.

Run:  .venv/bin/python test/unit/train/gen/nn_reference.py
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "NNReference.inc")

entries = []  # (key, shape, values)
names = []    # (case, [parameter names])


def fill(shape, k, scale=0.5):
    n = 1
    for d in shape:
        n *= d
    vals = [scale * math.sin(0.7 * i + 1.3 * k + 0.1) for i in range(n)]
    t = torch.tensor(vals, dtype=torch.float32).to(torch.float64)
    return t.reshape(shape)


def fill_params(module, scale=0.5):
    with torch.no_grad():
        for k, (name, p) in enumerate(module.named_parameters()):
            p.copy_(fill(list(p.shape), k, scale))


def emit(key, t):
    t = t.detach().to(torch.float64).contiguous()
    entries.append((key, list(t.shape), t.reshape(-1).tolist()))


def emit_grads(case, module, extra=()):
    for name, p in module.named_parameters():
        emit(f"{case}.grad.{name}", p.grad)
    for name, t in extra:
        emit(f"{case}.grad.{name}", t.grad)


def cotangent_loss(out, k=7):
    """sum(out * c): its gradient w.r.t. out is the fixed tensor c."""
    return (out * fill(list(out.shape), k)).sum()


def case(name, module, x, grads=True, scale=0.5):
    fill_params(module, scale)
    names.append((name, [n for n, _ in module.named_parameters()]))
    x = x.clone().requires_grad_(grads)
    y = module(x)
    emit(f"{name}.out", y)
    if grads:
        cotangent_loss(y).backward()
        emit_grads(name, module, [("input", x)])
    return module


def main():
    torch.manual_seed(0)
    case("linear", nn.Linear(5, 3), fill([2, 4, 5], 11))
    case("conv2d", nn.Conv2d(3, 4, 3, stride=2, padding=1), fill([2, 3, 7, 6], 12))
    case("conv2d_groups", nn.Conv2d(4, 6, (3, 2), stride=(1, 2), padding=(1, 0),
                                    dilation=(2, 1), groups=2, bias=False),
         fill([1, 4, 7, 6], 13))
    case("conv_transpose2d", nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1,
                                                output_padding=1),
         fill([1, 4, 3, 3], 14))
    case("maxpool2d", nn.MaxPool2d(3, stride=2, padding=1), fill([1, 2, 6, 6], 15),
         grads=False)
    case("avgpool2d", nn.AvgPool2d(2, stride=2, padding=1), fill([1, 2, 5, 5], 16),
         grads=False)
    case("layernorm", nn.LayerNorm([3, 4]), fill([2, 3, 4], 17, 2.0))
    case("embedding", nn.Embedding(10, 4), torch.tensor([[1, 3, 5], [9, 0, 2]]),
         grads=False)

    # Batch norm: a training step (output, gradients, running stats), then eval.
    for nd, shape in ((1, [4, 3]), (1, [4, 3, 2]), (2, [4, 3, 2, 2])):
        name = f"batchnorm{nd}d_r{len(shape)}"
        bn = (nn.BatchNorm1d if nd == 1 else nn.BatchNorm2d)(3)
        case(name, bn, fill(shape, 18, 2.0))
        emit(f"{name}.running_mean", bn.running_mean)
        emit(f"{name}.running_var", bn.running_var)
        bn.eval()
        emit(f"{name}.eval_out", bn(fill(shape, 19, 2.0)))

    # Recurrent layers: output, final states, and gradients through all.
    for cls, name in ((nn.LSTM, "lstm"), (nn.GRU, "gru")):
        rnn = cls(3, 4, num_layers=2, batch_first=True)
        fill_params(rnn)
        names.append((name, [n for n, _ in rnn.named_parameters()]))
        x = fill([2, 5, 3], 20).requires_grad_(True)
        out, state = rnn(x)
        emit(f"{name}.out", out)
        h = state[0] if cls is nn.LSTM else state
        emit(f"{name}.h", h)
        loss = cotangent_loss(out) + cotangent_loss(h, 8)
        if cls is nn.LSTM:
            emit(f"{name}.c", state[1])
            loss = loss + cotangent_loss(state[1], 9)
        loss.backward()
        emit_grads(name, rnn, [("input", x)])

    # Attention with a key padding mask; averaged weights.
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    fill_params(mha)
    names.append(("mha", [n for n, _ in mha.named_parameters()]))
    q = fill([2, 3, 8], 21).requires_grad_(True)
    kv = fill([2, 4, 8], 22)
    pad = torch.tensor([[False, False, False, True], [False, True, False, False]])
    out, w = mha(q, kv, kv, key_padding_mask=pad)
    emit("mha.out", out)
    emit("mha.weights", w)
    cotangent_loss(out).backward()
    emit_grads("mha", mha, [("input", q)])
    # Causal self-attention with a float mask added on top.
    x = fill([2, 4, 8], 23)
    causal = torch.triu(torch.ones(4, 4, dtype=torch.bool), 1)
    out, w = mha(x, x, x, attn_mask=causal, average_attn_weights=False)
    emit("mha_causal.out", out)
    emit("mha_causal.weights", w)

    for act, norm_first, name in (("relu", False, "encoder_post"),
                                  ("gelu", True, "encoder_pre")):
        layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                           activation=act, batch_first=True,
                                           norm_first=norm_first)
        case(name, layer, fill([2, 3, 8], 24), scale=0.3)

    # Losses, with their gradients w.r.t. the input.
    logits = fill([4, 5], 25, 2.0)
    labels = torch.tensor([1, 0, 4, 2])
    target = fill([4, 5], 26)
    probs = torch.sigmoid(fill([4, 5], 27, 3.0))
    losses = {
        "ce": lambda x: F.cross_entropy(x, labels),
        "ce_smooth": lambda x: F.cross_entropy(x, labels, label_smoothing=0.1),
        "ce_sum": lambda x: F.cross_entropy(x, labels, reduction="sum"),
        "ce_none": lambda x: F.cross_entropy(x, labels, reduction="none",
                                             label_smoothing=0.2),
        "nll": lambda x: F.nll_loss(F.log_softmax(x, -1), labels),
        "mse": lambda x: F.mse_loss(x, target),
        "l1": lambda x: F.l1_loss(x, target, reduction="sum"),
        "bce": lambda x: F.binary_cross_entropy_with_logits(x, probs),
    }
    ignored = torch.tensor([1, -100, 4, 2])
    losses["ce_ignore"] = lambda x: F.cross_entropy(x, ignored, label_smoothing=0.1)
    for name, fn in losses.items():
        x = logits.clone().requires_grad_(True)
        loss = fn(x)
        emit(f"loss_{name}.out", loss)
        loss.sum().backward()
        emit(f"loss_{name}.grad", x.grad)

    with open(OUT, "w") as f:
        f.write("// Generated by test/unit/train/gen/nn_reference.py "
                f"(PyTorch {torch.__version__}); do not edit.\n")
        f.write("// clang-format off\n")
        f.write("static const RefParamNames kRefNames[] = {\n")
        for case_name, ns in names:
            f.write(f'  {{"{case_name}", {{' + ", ".join(f'"{n}"' for n in ns) + "}},\n")
        f.write("};\n")
        f.write("static const RefTensor kRefTensors[] = {\n")
        for key, shape, vals in entries:
            f.write(f'  {{"{key}", {{' + ", ".join(map(str, shape)) + "}, {")
            f.write(", ".join(f"{v:.9g}" for v in vals))
            f.write("}},\n")
        f.write("};\n")
    print(f"wrote {len(entries)} tensors to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
