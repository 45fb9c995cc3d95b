"""The inference workloads of the benchmark suite, defined once in PyTorch.

Every system runs the same definition with the same weights: `prepare`
builds the model (seeded), saves its state_dict (PyTorch eager and
torch.compile load it; Kiln eager reads a safetensors copy), exports it
to ONNX (Kiln compiled and ONNX Runtime run that file), writes seeded
inputs as .npy and the PyTorch eager outputs as the reference every system
is checked against before it is timed.

    python models.py prepare --dir ROOT resnet18:8 mlp:1 ...

writes, for each model:batch, ROOT/<model>_b<batch>/model.onnx, DIR/state.pt
and the same state as DIR/weights.safetensors (PyTorch's names, for Kiln
eager's kiln-eager-infer), DIR/in<k>.npy, DIR/ref<k>.npy and
DIR/meta.json (input names/shapes, forward FLOPs counted by
torch.utils.flop_counter, parameter count), and prints one JSON line per workload: the meta, or {"error": ...} for a
workload that failed to build or export (the others go on). One process
prepares them all: importing torch costs seconds here. A directory whose
meta.json is newer than this file is reused.
ResNet-18 and MobileNetV2 follow torchvision's layer structure (torchvision
is not in the virtualenv).
"""
import argparse
import json
import os
import sys

# name -> (input spec as a function of batch: [(name, shape, dtype)], GEMM-heavy)
F32, I64 = "float32", "int64"
SPECS = {
    "mlp": (lambda b: [("x", (b, 784), F32)], True),
    "lenet": (lambda b: [("x", (b, 1, 28, 28), F32)], False),
    "resnet18": (lambda b: [("x", (b, 3, 224, 224), F32)], True),
    "mobilenetv2": (lambda b: [("x", (b, 3, 224, 224), F32)], False),
    "bert": (lambda b: [("ids", (b, 128), I64)], True),
    "lstm": (lambda b: [("x", (b, 50, 32), F32)], False),
}
BERT_VOCAB = 1000


def build(name):
    import torch
    from torch import nn

    if name == "mlp":  # the MLP of bench/train (784-512-512-10)
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512),
                             nn.ReLU(), nn.Linear(512, 10))
    if name == "lenet":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(1),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10))
    if name == "resnet18":
        class Block(nn.Module):
            def __init__(self, cin, cout, stride):
                super().__init__()
                self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(cout)
                self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(cout)
                self.down = None
                if stride != 1 or cin != cout:
                    self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                              nn.BatchNorm2d(cout))

            def forward(self, x):
                idt = x if self.down is None else self.down(x)
                y = torch.relu(self.bn1(self.conv1(x)))
                return torch.relu(self.bn2(self.conv2(y)) + idt)

        layers, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
            cin = cout
        return nn.Sequential(
            nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.MaxPool2d(3, 2, 1), *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(1),
            nn.Linear(512, 1000))
    if name == "mobilenetv2":
        def conv_bn(cin, cout, k, stride, groups=1, act=True):
            mods = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups,
                              bias=False), nn.BatchNorm2d(cout)]
            return nn.Sequential(*(mods + [nn.ReLU6()] if act else mods))

        class Inverted(nn.Module):
            def __init__(self, cin, cout, stride, expand):
                super().__init__()
                hidden = cin * expand
                self.res = stride == 1 and cin == cout
                mods = [conv_bn(cin, hidden, 1, 1)] if expand != 1 else []
                mods += [conv_bn(hidden, hidden, 3, stride, groups=hidden),
                         conv_bn(hidden, cout, 1, 1, act=False)]
                self.conv = nn.Sequential(*mods)

            def forward(self, x):
                return x + self.conv(x) if self.res else self.conv(x)

        cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
               (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
        feats, cin = [conv_bn(3, 32, 3, 2)], 32
        for t, c, n, s in cfg:
            for i in range(n):
                feats.append(Inverted(cin, c, s if i == 0 else 1, t))
                cin = c
        feats.append(conv_bn(cin, 1280, 1, 1))
        return nn.Sequential(*feats, nn.AdaptiveAvgPool2d(1), nn.Flatten(1),
                             nn.Linear(1280, 1000))
    if name == "bert":
        class Bert(nn.Module):
            """BERT-style encoder: token + position embeddings, LayerNorm,
            4 post-norm layers (d=256, 4 heads, GELU FFN 1024), a tanh
            pooler on the first token and a 2-way classifier."""

            def __init__(self, seq=128, d=256):
                super().__init__()
                self.tok = nn.Embedding(BERT_VOCAB, d)
                self.pos = nn.Parameter(torch.randn(1, seq, d) * 0.02)
                self.norm = nn.LayerNorm(d)
                layer = nn.TransformerEncoderLayer(d, 4, 1024, dropout=0.0,
                                                   activation="gelu", batch_first=True)
                self.encoder = nn.TransformerEncoder(layer, 4, enable_nested_tensor=False)
                self.pooler = nn.Linear(d, d)
                self.cls = nn.Linear(d, 2)

            def forward(self, ids):
                h = self.encoder(self.norm(self.tok(ids) + self.pos))
                return self.cls(torch.tanh(self.pooler(h[:, 0])))
        return Bert()
    if name == "lstm":  # the LSTM of bench/train (in 32, hidden 128, seq 50)
        class LSTMClassifier(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.LSTM(32, 128, batch_first=True)
                self.fc = nn.Linear(128, 10)

            def forward(self, x):
                return self.fc(self.rnn(x)[0][:, -1])
        return LSTMClassifier()
    raise KeyError(f"unknown model '{name}'; known: {sorted(SPECS)}")


def make_inputs(spec, seed=1):
    import numpy as np
    rng = np.random.default_rng(seed)
    out = []
    for _, shape, dtype in spec:
        if dtype == I64:
            out.append(rng.integers(0, BERT_VOCAB, shape).astype(np.int64))
        else:
            out.append(rng.uniform(-1, 1, shape).astype(np.float32))
    return out


def lstm_flops(batch):
    # FlopCounterMode does not see inside aten::lstm: 4 gates, input and
    # recurrent GEMMs per step, plus the classifier.
    t, i, h = 50, 32, 128
    return 2 * batch * t * 4 * h * (i + h) + 2 * batch * h * 10


def prepare(name, batch, out_dir):
    import warnings
    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    spec = SPECS[name][0](batch)
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    model = build(name).eval()
    if name in ("resnet18", "mobilenetv2"):
        # Non-trivial BatchNorm statistics, so folding them is exercised.
        g = torch.Generator().manual_seed(3)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    inputs = make_inputs(spec)
    args = tuple(torch.from_numpy(a) for a in inputs)
    torch.save(model.state_dict(), os.path.join(out_dir, "state.pt"))
    # The same state for Kiln eager (kiln-eager-infer), under PyTorch's names.
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              os.path.join(out_dir, "weights.safetensors"))
    with torch.no_grad():
        refs = model(*args)
        flop_counter = FlopCounterMode(display=False)
        with flop_counter:
            model(*args)
    refs = refs if isinstance(refs, (tuple, list)) else (refs,)
    for k, a in enumerate(inputs):
        np.save(os.path.join(out_dir, f"in{k}.npy"), a)
    for k, r in enumerate(refs):
        np.save(os.path.join(out_dir, f"ref{k}.npy"), r.numpy())
    # The fused fast path of nn.TransformerEncoderLayer has no ONNX export.
    torch.backends.mha.set_fastpath_enabled(False)
    path = os.path.join(out_dir, "model.onnx")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, path + ".tmp", opset_version=17, dynamo=False,
                          input_names=[s[0] for s in spec],
                          output_names=[f"y{k}" for k in range(len(refs))])
    os.replace(path + ".tmp", path)
    flops = flop_counter.get_total_flops() or None
    if name == "lstm":
        flops = lstm_flops(batch)
    meta = {"model": name, "batch": batch, "gemm_heavy": SPECS[name][1],
            "inputs": [{"name": n, "shape": list(s), "dtype": d} for n, s, d in spec],
            "outputs": len(refs), "flops": flops,
            "params": sum(p.numel() for p in model.parameters()),
            "torch": torch.__version__}
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["prepare"])
    ap.add_argument("--dir", required=True)
    ap.add_argument("workloads", nargs="+", metavar="MODEL:BATCH")
    args = ap.parse_args()
    for w in args.workloads:
        name, _, batch = w.partition(":")
        out = os.path.join(args.dir, f"{name}_b{batch}")
        meta_path = os.path.join(out, "meta.json")
        try:
            if (os.path.exists(meta_path) and
                    os.path.exists(os.path.join(out, "weights.safetensors")) and
                    os.path.getmtime(meta_path) > os.path.getmtime(__file__)):
                with open(meta_path) as f:
                    meta = json.load(f)
            else:
                meta = prepare(name, int(batch), out)
            meta["dir"] = out
        except Exception as e:  # noqa: BLE001 - a failed export is a result too
            msg = (str(e).strip().splitlines() or [""])[0]
            meta = {"model": name, "batch": int(batch), "dir": out,
                    "error": f"export: {type(e).__name__}: {msg}"[:400]}
        print(json.dumps(meta), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
