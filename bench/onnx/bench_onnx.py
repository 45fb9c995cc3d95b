#!/usr/bin/env python3
"""ONNX Runtime vs Kiln compiled: median latency of the real models.

    bench_onnx.py --bin-dir BUILD-RELEASE/bin [--models mlp,lenet,...]
                  [--batches 1,8] [--threads 2] [--runs 50] [--opset 17]
                  [--work DIR]

The models are test/Frontends/ONNX/real_models.py's (PyTorch export,
random weights, seeded). For each model and batch, in one run, on the same
inputs and with the same thread count:
  ONNX Runtime: CPUExecutionProvider, ORT_ENABLE_ALL graph optimizations,
                intra_op_num_threads=T, inter_op_num_threads=1, sequential;
                a warm-up of 5 runs, then the median of --runs timed runs.
  Kiln:         kiln-compile (default pipeline, native code), then
                KILN_NUM_THREADS=T kiln-run --bench N (median of N runs after
                a warm-up run that also checks the output against ORT's).
Ratio = ORT median / Kiln median (> 1: Kiln is faster). Use a Release build
(a sanitizer build measures the sanitizer). Machines are noisy: medians
only, and rerun when another job shares the cores.
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "Frontends", "ONNX"))
import real_models  # noqa: E402


def ort_median(path, spec, inputs, threads, runs):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    feeds = {s[0]: x for s, x in zip(spec, inputs)}
    for _ in range(5):
        ys = sess.run(None, feeds)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1e3, ys


def kiln_median(bin_dir, path, inputs, ys, threads, runs, stem):
    import numpy as np
    p = subprocess.run([os.path.join(bin_dir, "kiln-compile"), path, "-o", stem + ".kiln"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None, "compile: " + real_models.first_error(p.stderr)
    cmd = [os.path.join(bin_dir, "kiln-run"), stem + ".kiln", "--bench", str(runs),
           "--rtol", "1e-4", "--atol", "1e-4"]
    for k, x in enumerate(inputs):
        np.save(f"{stem}.in{k}.npy", x)
        cmd += ["--input", f"{stem}.in{k}.npy"]
    for k, y in enumerate(ys):
        np.save(f"{stem}.ort{k}.npy", y)
        cmd += ["--compare", f"{stem}.ort{k}.npy"]
    env = dict(os.environ, KILN_NUM_THREADS=str(threads))
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    m = re.search(r"median ([0-9.]+) us", r.stdout)
    if r.returncode != 0 or not m:
        return None, "run: " + real_models.first_error(r.stdout + r.stderr)
    return float(m.group(1)) / 1e3, ""


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--models", default=",".join(real_models.ALL))
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--work", default="onnx-bench")
    args = ap.parse_args()
    missing = real_models.missing_deps()
    if missing:
        print(f"needs {', '.join(missing)} in the virtualenv")
        return 1
    os.makedirs(args.work, exist_ok=True)
    cache = os.path.join(args.bin_dir, "..", "CMakeCache.txt")
    if os.path.exists(cache):
        text = open(cache).read()
        if re.search(r"^KILN_SANITIZE:STRING=\S", text, re.M) or \
                re.search(r"^CMAKE_BUILD_TYPE:STRING=Debug", text, re.M):
            print("WARNING: a Debug or sanitizer build: these Kiln times are not representative")
    print(f"threads {args.threads}, opset {args.opset}, median of {args.runs} runs; "
          f"ratio = ORT / Kiln (> 1: Kiln faster)")
    print(f"{'model':12} {'batch':>5} {'ORT ms':>9} {'Kiln ms':>9} {'ratio':>6}")
    for m in args.models.split(","):
        for b in (int(x) for x in args.batches.split(",")):
            path, spec = real_models.export(m, args.opset, b, args.work)
            inputs = real_models.make_inputs(spec)
            ort_ms, ys = ort_median(path, spec, inputs, args.threads, args.runs)
            kiln_ms, err = kiln_median(args.bin_dir, path, inputs, ys, args.threads, args.runs,
                                       path[:-len(".onnx")])
            if kiln_ms is None:
                print(f"{m:12} {b:5} {ort_ms:9.3f} {'-':>9} {'-':>6}  Kiln failed: {err}")
            else:
                print(f"{m:12} {b:5} {ort_ms:9.3f} {kiln_ms:9.3f} {ort_ms / kiln_ms:6.2f}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
