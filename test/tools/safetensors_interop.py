#!/usr/bin/env python3
"""Kiln's safetensors files against the reference implementation.

Usage: safetensors_interop.py <kiln-checkpoint-tool> <work-dir>

Both directions, every Kiln dtype (bf16 and f16 included, with infinities,
NaN, signed zero and subnormals), metadata with escapes and non-ASCII text:

  PyTorch -> Kiln: safetensors.torch.save_file writes a file; Kiln's `dump`
      must print the same dtypes, shapes and values, and Kiln's `roundtrip`
      (load, then save) must give a file that safetensors loads back bit for
      bit equal, metadata included.
  Kiln -> PyTorch: Kiln's `write-sample` writes a file (including a
      non-contiguous tensor); safetensors.torch.load_file and safe_open must
      read exactly the values built here with the same formulas.

Exits 77 (ctest: skipped) when torch or safetensors is not installed.
"""
import math
import os
import subprocess
import sys

DTYPE_NAMES = {}  # torch dtype -> safetensors name; filled once torch loads


def run(*args):
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(args)} exited {result.returncode}:\n"
                         f"{result.stdout}{result.stderr}")
    return result.stdout


def same_bits(a, b):
    import torch
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return torch.equal(a.contiguous().reshape(-1).view(torch.uint8),
                       b.contiguous().reshape(-1).view(torch.uint8))


def parse_dump(text):
    """Kiln's dump: ({name: (dtype, shape, values)}, metadata)."""
    tensors, metadata = {}, {}
    for line in text.splitlines():
        words = line.split(" ")
        if words[0] == "meta":
            key, value = (bytes.fromhex(w if w != "-" else "").decode()
                          for w in words[1:3])
            metadata[key] = value
        elif words[0] == "tensor":
            name, dtype, rank = words[1], words[2], int(words[3])
            shape = [int(w) for w in words[4:4 + rank]]
            values = [float(w) for w in words[4 + rank:]]
            tensors[name] = (dtype, shape, values)
    return tensors, metadata


def same_values(expected, got):
    if len(expected) != len(got):
        return False
    for e, g in zip(expected, got):
        if math.isnan(e) and math.isnan(g):
            continue
        if e != g or math.copysign(1, e) != math.copysign(1, g):
            return False
    return True


def pytorch_to_kiln(tool, work):
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    g = torch.Generator().manual_seed(0)
    inf, nan = math.inf, math.nan
    tensors = {
        "f64": torch.tensor([[1.5, -0.0, nan], [1e-300, -inf, 2.0**-1074]],
                            dtype=torch.float64),
        "f32": (torch.arange(24, dtype=torch.float32) * 0.1).reshape(2, 3, 4),
        "f16": torch.tensor([65504, 2.0**-24, -0.0, inf, nan, 0.1],
                            dtype=torch.float16),
        "bf16": torch.cat([torch.randn(33, generator=g),
                           torch.tensor([inf, -inf, nan, -0.0, 1e-40])])
                     .to(torch.bfloat16).reshape(2, 19),
        "i64": torch.tensor([2**62, -2**62, 0, -1], dtype=torch.int64),
        "i32": torch.tensor([[2**31 - 1, -2**31, 3]], dtype=torch.int32),
        "i8": torch.tensor([-128, 127, 0], dtype=torch.int8),
        "bool": torch.tensor([[True, False], [False, True]]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 5, dtype=torch.bfloat16),
        "layer.0.weight": torch.randn(64, 32, generator=g),
    }
    metadata = {"format": "pt", "epoch": "7",
                "note": "\u00fcn\u00efcode \"quoted\"\n\\"}
    source = os.path.join(work, "from_pytorch.safetensors")
    save_file(tensors, source, metadata=metadata)

    dumped, dumped_meta = parse_dump(run(tool, "dump", source))
    if dumped_meta != metadata:
        raise SystemExit(f"FAIL: Kiln read metadata {dumped_meta!r}, "
                         f"expected {metadata!r}")
    if sorted(dumped) != sorted(tensors):
        raise SystemExit(f"FAIL: Kiln read tensors {sorted(dumped)}")
    for name, t in tensors.items():
        dtype, shape, values = dumped[name]
        if dtype != DTYPE_NAMES[t.dtype] or shape != list(t.shape):
            raise SystemExit(f"FAIL: '{name}': Kiln read {dtype} {shape}, "
                             f"expected {DTYPE_NAMES[t.dtype]} {list(t.shape)}")
        if not same_values(t.double().reshape(-1).tolist(), values):
            raise SystemExit(f"FAIL: '{name}': Kiln read values {values[:8]}..."
                             f", expected {t.double().reshape(-1)[:8]}...")

    rewritten = os.path.join(work, "kiln_roundtrip.safetensors")
    run(tool, "roundtrip", source, rewritten)
    back = load_file(rewritten)
    for name, t in tensors.items():
        if not same_bits(t, back[name]):
            raise SystemExit(f"FAIL: '{name}' changed in Kiln's round trip")
    with safe_open(rewritten, framework="pt") as f:
        if f.metadata() != metadata:
            raise SystemExit(f"FAIL: metadata after the round trip: "
                             f"{f.metadata()!r}")
    print(f"PyTorch -> Kiln: {len(tensors)} tensors read with exact values; "
          f"Kiln's rewrite loads back bit for bit")


def kiln_to_pytorch(tool, work):
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = os.path.join(work, "from_kiln.safetensors")
    run(tool, "write-sample", path)
    got = load_file(path)
    # The same formulas as makeSample() in test/unit/train/CheckpointTool.cpp.
    inf = math.inf
    ramp = [(i - 5) * 0.25 for i in range(12)]
    expected = {
        "f64": torch.tensor(ramp, dtype=torch.float64).reshape(3, 4),
        "f32": torch.tensor(ramp, dtype=torch.float32).reshape(2, 2, 3),
        "f16": torch.tensor([0.5, -2, 65504, -0.0, 2.0**-24, inf, 1 / 3],
                            dtype=torch.float16),
        "bf16": torch.tensor([0.5, -2, 3e38, -0.0, 1e-30, -inf, 1 / 3],
                             dtype=torch.bfloat16),
        "i64": torch.tensor([0, -1, 2**40, -2**53], dtype=torch.int64)
                    .reshape(2, 2),
        "i32": torch.tensor([2**31 - 1, -2**31, 7], dtype=torch.int32),
        "i8": torch.tensor([-128, 127, 0, 5], dtype=torch.int8),
        "bool": torch.tensor([[True, False], [False, True]]),
        "scalar": torch.tensor(42.5),
        "empty": torch.zeros(0, 3),
        "transposed": torch.tensor(ramp, dtype=torch.float32).reshape(3, 4).t(),
    }
    if sorted(got) != sorted(expected):
        raise SystemExit(f"FAIL: PyTorch read tensors {sorted(got)}")
    for name, e in expected.items():
        if not same_bits(e, got[name]):
            raise SystemExit(f"FAIL: '{name}': PyTorch read {got[name]}, "
                             f"expected {e}")
    metadata = {"format": "pt", "note": "caf\u00e9 \"quoted\"\n\\ tab\t"}
    with safe_open(path, framework="pt") as f:
        if f.metadata() != metadata:
            raise SystemExit(f"FAIL: PyTorch read metadata {f.metadata()!r}")
        if sorted(f.keys()) != sorted(expected):
            raise SystemExit(f"FAIL: safe_open lists {sorted(f.keys())}")
        if not same_bits(f.get_tensor("bf16"), expected["bf16"]):
            raise SystemExit("FAIL: safe_open's bf16 differs")
    print(f"Kiln -> PyTorch: {len(expected)} tensors and metadata read exactly")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    try:
        import safetensors  # noqa: F401
        import torch
    except ImportError as e:
        print(f"SKIP: safetensors interop needs torch and safetensors in "
              f"{sys.executable} ({e}); install them with "
              f".venv/bin/pip install torch safetensors")
        return 77
    DTYPE_NAMES.update({
        torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
        torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
        torch.int8: "I8", torch.bool: "BOOL"})
    tool, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    pytorch_to_kiln(tool, work)
    kiln_to_pytorch(tool, work)
    print(f"PASS (torch {torch.__version__}, safetensors "
          f"{safetensors.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
