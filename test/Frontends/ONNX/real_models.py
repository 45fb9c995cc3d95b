#!/usr/bin/env python3
"""Real models exported from PyTorch, imported and run by Kiln, checked
against onnxruntime.

    real_models.py --bin-dir BUILD/bin --work DIR [--models mlp,lenet,...]
                   [--opsets 13,17] [--batch 1] [--rtol 1e-4 --atol 1e-4]
                   [--compile-flag=...]...
    real_models.py --export DIR [--models ...] [--opsets ...] [--batch N]
    real_models.py --bin-dir BUILD/bin --models-dir test/Frontends/ONNX/Models
                   --models lenet,lstm,gru

For each model and opset: build the PyTorch module (random weights, seeded,
eval mode), export it with torch.onnx.export (the TorchScript exporter:
the dynamo one needs onnxscript), run it in onnxruntime on seeded random
inputs, compile it with kiln-compile, run it with kiln-run and compare
(|kiln - ort| <= atol + rtol * |ort|, default 1e-4 both). Models are
generated at run time into --work, except those found in --models-dir:
test/Frontends/ONNX/Models holds the small ones (LeNet, LSTM, GRU at
opsets 13 and 17, 870 KB, written by --export), so that CI, which has
onnxruntime but not torch, checks real exported models too.

Prints one line per model and opset (PASS/FAIL with the first error or the
worst element) and exits 1 on any failure, 77 when torch or onnxruntime is
missing (ctest reports the test as skipped with that message).
--xfail MODEL[@OPSET]=REASON marks a known failure (reported XFAIL with its
reason, not counted); an expected failure that passes fails the run, so
such entries are removed as soon as the bug is fixed.

Models (ALL): mlp, lenet, resnet18, mobilenetv2, bert (2-layer
nn.TransformerEncoder, d=128), lstm, gru. ResNet-18 and MobileNetV2 are
defined here (torchvision is not in the virtualenv); they have
torchvision's layer structure.
"""
import argparse
import os
import subprocess
import sys
import time

ALL = ["mlp", "lenet", "resnet18", "mobilenetv2", "bert", "lstm", "gru"]
SMALL = ["mlp", "lenet", "bert", "lstm", "gru"]


# Each model's inputs at batch b: (name, shape, dtype).
_F32 = "float32"
INPUT_SPECS = {
    "mlp": lambda b: [("x", (b, 784), _F32)],
    "lenet": lambda b: [("x", (b, 1, 28, 28), _F32)],
    "resnet18": lambda b: [("x", (b, 3, 224, 224), _F32)],
    "mobilenetv2": lambda b: [("x", (b, 3, 224, 224), _F32)],
    "bert": lambda b: [("ids", (b, 32), "int64")],
    "lstm": lambda b: [("x", (b, 16, 32), _F32)],
    "gru": lambda b: [("x", (b, 16, 32), _F32)],
}


def missing_deps(need_torch=True):
    missing = []
    for mod in (("torch",) if need_torch else ()) + ("onnx", "onnxruntime", "numpy"):
        try:
            __import__(mod)
        except ImportError:
            missing.append(mod)
    return missing


# --- Models ---------------------------------------------------------------

def build_models():
    """name -> (constructor, input spec(batch) -> list of (name, shape, kind))."""
    import torch
    from torch import nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                                     nn.ReLU(), nn.Linear(128, 10))

        def forward(self, x):
            return self.net(x)

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Sequential(
                nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                nn.Linear(84, 10))

        def forward(self, x):
            return self.classifier(self.features(x))

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

        def forward(self, x):
            idt = x if self.down is None else self.down(x)
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return self.relu(y + idt)

    class ResNet18(nn.Module):
        def __init__(self, classes=1000):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                      nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
            layers, cin = [], 64
            for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
                cin = cout
            self.layers = nn.Sequential(*layers)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, classes)

        def forward(self, x):
            return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))

    def conv_bn(cin, cout, k, stride, groups=1, act=True):
        mods = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                nn.BatchNorm2d(cout)]
        if act:
            mods.append(nn.ReLU6(inplace=True))
        return nn.Sequential(*mods)

    class InvertedResidual(nn.Module):
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

    class MobileNetV2(nn.Module):
        def __init__(self, classes=1000):
            super().__init__()
            cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                   (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
            feats, cin = [conv_bn(3, 32, 3, 2)], 32
            for t, c, n, s in cfg:
                for i in range(n):
                    feats.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                    cin = c
            feats.append(conv_bn(cin, 1280, 1, 1))
            self.features = nn.Sequential(*feats)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, classes))

        def forward(self, x):
            x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
            return self.classifier(torch.flatten(x, 1))

    class ExplicitAttentionLayer(nn.TransformerEncoderLayer):
        """need_weights=True makes nn.MultiheadAttention compute softmax(QK^T)V
        with bmm instead of scaled_dot_product_attention, which the exporter
        cannot write before opset 14."""

        def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
            x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                               need_weights=True)[0]
            return self.dropout1(x)

    class Bert(nn.Module):
        """BERT-style encoder: token + position embeddings, LayerNorm,
        2 post-norm encoder layers (d=128, 4 heads, GELU FFN 512), the
        first token's state through a tanh pooler and a classifier. At
        opset >= 14 attention is PyTorch's own (exported from
        scaled_dot_product_attention), below it the explicit form."""

        def __init__(self, vocab=1000, seq=32, d=128, opset=17):
            super().__init__()
            self.tok = nn.Embedding(vocab, d)
            self.pos = nn.Parameter(torch.randn(1, seq, d) * 0.02)
            self.norm = nn.LayerNorm(d)
            cls = nn.TransformerEncoderLayer if opset >= 14 else ExplicitAttentionLayer
            layer = cls(d, 4, 512, dropout=0.0, activation="gelu", batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.pooler = nn.Linear(d, d)
            self.cls = nn.Linear(d, 2)

        def forward(self, ids):
            h = self.encoder(self.norm(self.tok(ids) + self.pos))
            return self.cls(torch.tanh(self.pooler(h[:, 0])))

    class RNNClassifier(nn.Module):
        def __init__(self, cell):
            super().__init__()
            self.rnn = cell(32, 64, batch_first=True)
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.fc(out[:, -1])

    ctors = {
        "mlp": MLP, "lenet": LeNet, "resnet18": ResNet18, "mobilenetv2": MobileNetV2,
        "bert": lambda opset: Bert(opset=opset),
        "lstm": lambda: RNNClassifier(nn.LSTM), "gru": lambda: RNNClassifier(nn.GRU),
    }
    return {name: (ctor, INPUT_SPECS[name]) for name, ctor in ctors.items()}


def init_weights(model):
    """PyTorch's default init shrinks activations by ~sqrt(3) per layer
    (ResNet-18's logits come out near 1e-6, which an absolute 1e-4 cannot
    check). He init for convolutions and linear layers and random running
    statistics for batch norms keep every layer's output O(1), so the
    comparison means something and batch norm's folding is exercised."""
    import torch
    from torch import nn
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                fan_in = mod.weight[0].numel()
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                if mod.bias is not None:
                    mod.bias.copy_(torch.rand(mod.bias.shape, generator=g) * 0.2 - 0.1)
            elif isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(torch.rand(c, generator=g) + 0.5)
                mod.bias.copy_(torch.rand(c, generator=g) * 0.2 - 0.1)
                mod.running_mean.copy_(torch.rand(c, generator=g) * 0.2 - 0.1)
                mod.running_var.copy_(torch.rand(c, generator=g) + 0.5)
    return model


def make_inputs(spec, seed=1):
    import numpy as np
    rng = np.random.default_rng(seed)
    arrays = []
    for _, shape, kind in spec:
        if kind == "int64":
            arrays.append(rng.integers(0, 1000, shape).astype(np.int64))
        else:
            arrays.append(rng.uniform(-1, 1, shape).astype(np.float32))
    return arrays


def model_file(name, opset, batch):
    return f"{name}_op{opset}_b{batch}.onnx"


def export(name, opset, batch, out_dir, models_dir=None):
    """Writes OUT_DIR/<name>_op<opset>_b<batch>.onnx, or takes that file
    from MODELS_DIR when it is there; returns (path, spec)."""
    import warnings
    if models_dir and os.path.exists(os.path.join(models_dir, model_file(name, opset, batch))):
        return (os.path.join(models_dir, model_file(name, opset, batch)),
                INPUT_SPECS[name](batch))
    import torch
    ctor, spec_fn = build_models()[name]
    spec = spec_fn(batch)
    path = os.path.join(out_dir, model_file(name, opset, batch))
    if not os.path.exists(path):
        torch.manual_seed(0)
        m = init_weights(ctor(opset) if name == "bert" else ctor()).eval()
        args = tuple(torch.from_numpy(a) for a in make_inputs(spec))
        os.makedirs(out_dir, exist_ok=True)
        # The fused fast path of nn.TransformerEncoderLayer has no ONNX export.
        torch.backends.mha.set_fastpath_enabled(False)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(m, args, path + ".tmp", opset_version=opset, dynamo=False,
                              input_names=[s[0] for s in spec], output_names=["y"])
        os.replace(path + ".tmp", path)
    return path, spec


def ort_run(path, spec, inputs, threads=0):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return sess, sess.run(None, {s[0]: x for s, x in zip(spec, inputs)})


def first_error(text):
    for line in text.splitlines():
        for key in ("Assertion", "runtime error:", "ERROR: AddressSanitizer", "LLVM ERROR"):
            if key in line:
                return line[line.index(key):].strip()[:300]
    for line in text.splitlines():
        if "error:" in line:
            return line.split("error:", 1)[1].strip()[:300]
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[-1].strip()[:300] if lines else "failed without a message"


def check(name, opset, args):
    """Returns (ok, detail)."""
    import numpy as np
    path, spec = export(name, opset, args.batch, args.work, args.models_dir)
    stem = os.path.join(args.work, os.path.basename(path)[:-len(".onnx")])
    inputs = make_inputs(spec)
    _, ys = ort_run(path, spec, inputs)
    cmd_in = []
    for k, x in enumerate(inputs):
        f = f"{stem}.in{k}.npy"
        np.save(f, x)
        cmd_in += ["--input", f]
    cmp = []
    for k, y in enumerate(ys):
        f = f"{stem}.ort{k}.npy"
        np.save(f, y)
        cmp += ["--compare", f]
    t0 = time.time()
    p = subprocess.run([os.path.join(args.bin_dir, "kiln-compile"), path, "-o", stem + ".kiln"]
                       + args.compile_flag, capture_output=True, text=True)
    tc = time.time() - t0
    if p.returncode != 0:
        stage = "import" if ".onnx:" in p.stderr else "compile"
        if p.returncode < 0 or "Sanitizer" in p.stderr:
            stage = "CRASH in kiln-compile"
        return False, f"{stage}: {first_error(p.stderr)}"
    r = subprocess.run([os.path.join(args.bin_dir, "kiln-run"), stem + ".kiln",
                        "--rtol", str(args.rtol), "--atol", str(args.atol)] + cmd_in + cmp,
                       capture_output=True, text=True)
    text = r.stdout + r.stderr
    worst = [l.strip() for l in text.splitlines() if "worst" in l]
    if r.returncode != 0:
        if r.returncode < 0 or "Sanitizer" in text:
            return False, f"CRASH in kiln-run: {first_error(text)}"
        return False, "run: " + (worst[0] if worst else first_error(text))
    return True, f"compile {tc:.1f}s" + (f"; {worst[0]}" if worst else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir")
    ap.add_argument("--work", default="real-models")
    ap.add_argument("--export", metavar="DIR", help="only export the models into DIR")
    ap.add_argument("--models-dir", metavar="DIR",
                    help="committed models to use instead of exporting (no torch needed)")
    ap.add_argument("--models", default=",".join(ALL))
    ap.add_argument("--opsets", default="13,17")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--compile-flag", action="append", default=[])
    ap.add_argument("--xfail", action="append", default=[], metavar="MODEL[@OPSET]=REASON")
    args = ap.parse_args()
    xfail = {}
    for entry in args.xfail:
        key, _, reason = entry.partition("=")
        xfail[key] = reason or "expected to fail"

    models = [m for m in args.models.split(",") if m]
    opsets = [int(o) for o in args.opsets.split(",")]
    committed = not args.export and args.models_dir and all(
        os.path.exists(os.path.join(args.models_dir, model_file(m, o, args.batch)))
        for m in models for o in opsets)
    missing = missing_deps(need_torch=not committed)
    if missing:
        print(f"SKIP: real-model checks need {', '.join(missing)} in the virtualenv "
              f"(pip install torch onnxruntime)")
        return 77
    unknown = [m for m in models if m not in ALL]
    if unknown:
        ap.error(f"unknown model(s) {unknown}; known: {ALL}")
    if args.export:
        for m in models:
            for o in opsets:
                print(export(m, o, args.batch, args.export)[0])
        return 0
    if not args.bin_dir:
        ap.error("--bin-dir is required unless --export")
    os.makedirs(args.work, exist_ok=True)
    failed = xfailed = 0
    for m in models:
        for o in opsets:
            try:
                ok, detail = check(m, o, args)
            except Exception as e:  # noqa: BLE001 - export/ORT problems are results too
                msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
                ok, detail = False, f"export/onnxruntime: {type(e).__name__}: {msg}"[:300]
            reason = xfail.get(f"{m}@{o}", xfail.get(m))
            if reason is not None:
                outcome = "XPASS" if ok else "XFAIL"
                detail = (f"listed as failing ({reason}) but passes; remove the --xfail"
                          if ok else f"{detail}  [known: {reason}]")
                failed += ok
                xfailed += not ok
            else:
                outcome = "PASS" if ok else "FAIL"
                failed += not ok
            print(f"{outcome:5} {m:12} opset {o}  batch {args.batch}: {detail}", flush=True)
    total = len(models) * len(opsets)
    print(f"\n{total - failed - xfailed} passed, {failed} failed, {xfailed} expected failures"
          f" of {total} model/opset pairs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
