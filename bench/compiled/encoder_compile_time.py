#!/usr/bin/env python3
"""Compile time of a BERT-base-sized encoder: the issue's goal is a 12-layer
transformer encoder (d=768, 12 heads) compiled in under 2 s.

    python3 bench/compiled/encoder_compile_time.py BUILD_DIR [--layers 12]
        [--d 768] [--heads 12] [--ff 3072] [--seq 128] [--batch 1] [--runs 3]

Writes the encoder in the kiln dialect (the pre-norm block of
test/e2e/transformer_block.mlir, stacked --layers times, every layer with
its own parameters), then times `kiln-compile model.mlir -o model.kiln
--random-weights 1` (the whole pipeline: fusion, memory plan, CPU code
generation, and writing the weights) and prints the median and minimum
wall time of --runs compiles, the file size, the compiler's report lines
and the first run's phases (kiln-compile --time-phases: the graph compile
proper is parse + pipeline + CPU code generation; the rest is producing
and writing the weights). The file goes to --dir (default /dev/shm): on
this VM's disk the 340 MB write alone took 1.5-2.7 s, disk-bound. Use a Release build: a sanitized one times the sanitizer.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def layer(i, x, d, heads, ff, seq, batch):
    """One pre-norm encoder layer reading SSA value `x`; returns (text, y)."""
    hd = d // heads
    act = f"tensor<{batch}x{seq}x{d}xf32>"
    split = f"tensor<{batch}x{seq}x{heads}x{hd}xf32>"
    bh = f"tensor<{batch}x{heads}x{seq}x{hd}xf32>"
    att = f"tensor<{batch}x{heads}x{seq}x{seq}xf32>"
    hid = f"tensor<{batch}x{seq}x{ff}xf32>"
    vec = f"tensor<{d}xf32>"
    sq = f"tensor<{d}x{d}xf32>"
    p = f"%l{i}_"
    name = f"layer{i}."
    lines = []

    def param(v, n, t):
        lines.append(f'  {p}{v} = kiln.parameter "{name}{n}" : {t}')

    param("g1", "ln1.scale", vec)
    param("be1", "ln1.bias", vec)
    lines.append(f"  {p}n1 = kiln.layer_norm {x}, {p}g1, {p}be1 : {act}, {vec}, {vec}")
    for w in "qkv":
        param(f"w{w}", f"attn.{w}.weight", sq)
        param(f"b{w}", f"attn.{w}.bias", vec)
        lines.append(f"  {p}{w}0 = kiln.matmul {p}n1, {p}w{w} : {act}, {sq}")
        lines.append(f"  {p}{w}1 = kiln.add {p}{w}0, {p}b{w} : {act}, {vec}")
        lines.append(f"  {p}{w}2 = kiln.reshape {p}{w}1 : {act} -> {split}")
        lines.append(f"  {p}{w} = kiln.transpose {p}{w}2 "
                     f"{{permutation = array<i64: 0, 2, 1, 3>}} : {split}")
    lines.append(f"  {p}s0 = kiln.matmul {p}q, {p}k {{transpose_rhs = true}} : {bh}, {bh}")
    lines.append(f"  {p}scale = kiln.constant dense<{1.0 / hd ** 0.5:.9g}> : tensor<f32>")
    lines.append(f"  {p}s1 = kiln.mul {p}s0, {p}scale : {att}, tensor<f32>")
    lines.append(f"  {p}pr = kiln.softmax {p}s1 {{axis = -1 : i64}} : {att}")
    lines.append(f"  {p}c0 = kiln.matmul {p}pr, {p}v : {att}, {bh}")
    lines.append(f"  {p}c1 = kiln.transpose {p}c0 {{permutation = array<i64: 0, 2, 1, 3>}} : {bh}")
    lines.append(f"  {p}c2 = kiln.reshape {p}c1 : {split} -> {act}")
    param("wo", "attn.out.weight", sq)
    param("bo", "attn.out.bias", vec)
    lines.append(f"  {p}o0 = kiln.matmul {p}c2, {p}wo : {act}, {sq}")
    lines.append(f"  {p}o1 = kiln.add {p}o0, {p}bo : {act}, {vec}")
    lines.append(f"  {p}x2 = kiln.add {x}, {p}o1 : {act}, {act}")
    param("g2", "ln2.scale", vec)
    param("be2", "ln2.bias", vec)
    lines.append(f"  {p}n2 = kiln.layer_norm {p}x2, {p}g2, {p}be2 : {act}, {vec}, {vec}")
    param("w1", "mlp.fc1.weight", f"tensor<{d}x{ff}xf32>")
    param("b1", "mlp.fc1.bias", f"tensor<{ff}xf32>")
    lines.append(f"  {p}h0 = kiln.matmul {p}n2, {p}w1 : {act}, tensor<{d}x{ff}xf32>")
    lines.append(f"  {p}h1 = kiln.add {p}h0, {p}b1 : {hid}, tensor<{ff}xf32>")
    lines.append(f"  {p}h2 = kiln.gelu {p}h1 : {hid}")
    param("w2", "mlp.fc2.weight", f"tensor<{ff}x{d}xf32>")
    param("b2", "mlp.fc2.bias", vec)
    lines.append(f"  {p}f0 = kiln.matmul {p}h2, {p}w2 : {hid}, tensor<{ff}x{d}xf32>")
    lines.append(f"  {p}f1 = kiln.add {p}f0, {p}b2 : {act}, {vec}")
    lines.append(f"  {p}y = kiln.add {p}x2, {p}f1 : {act}, {act}")
    return "\n".join(lines), f"{p}y"


def encoder(layers, d, heads, ff, seq, batch):
    act = f"tensor<{batch}x{seq}x{d}xf32>"
    body, x = [], "%x"
    for i in range(layers):
        text, x = layer(i, x, d, heads, ff, seq, batch)
        body.append(text)
    return (f"func.func @encoder(%x: {act}) -> {act} {{\n" + "\n".join(body) +
            f"\n  return {x} : {act}\n}}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build_dir")
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--d", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--ff", type=int, default=3072)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="where to write the model and the .kiln (default: /dev/shm, "
                    "memory, so that the disk's speed does not hide the compiler's; "
                    "the phases show the write separately)")
    a = ap.parse_args()
    if a.d % a.heads:
        sys.exit("--d must be a multiple of --heads")
    compiler = os.path.join(a.build_dir, "bin", "kiln-compile")
    with tempfile.TemporaryDirectory(dir=a.dir) as tmp:
        src = os.path.join(tmp, "encoder.mlir")
        with open(src, "w") as f:
            f.write(encoder(a.layers, a.d, a.heads, a.ff, a.seq, a.batch))
        out = os.path.join(tmp, "encoder.kiln")
        times, report = [], ""
        for r in range(a.runs):
            cmd = [compiler, src, "-o", out, "--random-weights", "1"]
            if r == 0:
                cmd += ["--report", "--time-phases"]
            t0 = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if p.returncode != 0:
                sys.exit(f"kiln-compile failed:\n{p.stderr[-2000:]}")
            if r == 0:
                keep = ("graph ops", "arena", "cpu codegen", "  parse", "  ONNX import",
                        "  pipeline", "CPU code generation", "weights and",
                        "parameters (", "write the file", "Total")
                report = "\n".join(l for l in (p.stdout + p.stderr).splitlines()
                                   if any(k in l for k in keep))
        params = a.layers * (4 * a.d * a.d + 2 * a.d * a.ff + 9 * a.d + a.ff)
        print(f"encoder: {a.layers} layers, d={a.d}, {a.heads} heads, ff={a.ff}, "
              f"seq={a.seq}, batch={a.batch} ({params / 1e6:.1f}M parameters)")
        print(f"kiln-compile: median {statistics.median(times):.2f} s, "
              f"min {min(times):.2f} s over {a.runs} runs "
              f"(goal < 2 s); .kiln {os.path.getsize(out) / 2**20:.0f} MiB, "
              f"written to {os.path.dirname(tmp)}")
        if report:
            print(report)


if __name__ == "__main__":
    main()
