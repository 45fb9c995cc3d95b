#!/usr/bin/env python3
"""ONNX backend node-test conformance runner.

    conformance.py --bin-dir BUILD/bin [--xfail FILE] [-j N] [--filter SUBSTR]
                   [--limit N] [--update-xfail] [--only-listed] [--verbose]
                   [--compile-flag=--cpu=none]...

For every node test shipped inside the pinned onnx package
(onnx/backend/test/data/node/<test>/model.onnx with test_data_set_*/
input_*.pb and output_*.pb) it imports and compiles the model with
kiln-compile (CPU), runs every data set with kiln-run on .npy copies of the
inputs, and compares the outputs with the ONNX defaults (rtol 1e-3,
atol 1e-7) unless an override below applies.

Inputs that Kiln needs as constants (Reshape's shape, Slice's starts, the
axes of reductions, ...) are graph inputs in many node tests. When the
import says so, the runner folds those inputs into initializers from the
test data (integer inputs only) and tries again; such passes are counted
as passes and listed as "(constant inputs)" with --verbose.

Outcomes:
  pass     imported, compiled, ran, matched
  fail     any step failed (the first line of the error is kept)
  skip     the test data cannot be fed to kiln-run at all (strings,
           sequences, optionals, types .npy/Kiln cannot hold)

The expected-failure file lists one test per line, "name  # reason". The
runner exits 1 when a test not listed fails (a regression) or a listed test
passes (remove it: the list only shrinks). --update-xfail rewrites the file
from this run with this run's reasons (a kept old reason went stale when a
crash was fixed and the test now stops at its next problem). It prints "N passed, N failed,
N skipped" and the pass rate per op type.
"""
import argparse
import collections
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

RTOL, ATOL = 1e-3, 1e-7
HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")
# .npy dtypes kiln-run accepts (Kiln's element types).
NPY_OK = {np.dtype(t) for t in ("float32", "float64", "float16", "int64", "int32", "int8", "bool")}


def load_pb(path, kind):
    """A TensorProto input/output as a numpy array, or None (sequence,
    optional, ...)."""
    with open(path, "rb") as f:
        data = f.read()
    t = onnx.TensorProto()
    try:
        t.ParseFromString(data)
    except Exception:
        return None
    if t.data_type == 0 or t.data_type == onnx.TensorProto.STRING:
        return None
    try:
        return numpy_helper.to_array(t)
    except Exception:
        return None


def data_sets(test_dir):
    sets = []
    for d in sorted(os.listdir(test_dir)):
        if not d.startswith("test_data_set_"):
            continue
        p = os.path.join(test_dir, d)
        ins = sorted((f for f in os.listdir(p) if f.startswith("input_")),
                     key=lambda f: int(re.findall(r"\d+", f)[0]))
        outs = sorted((f for f in os.listdir(p) if f.startswith("output_")),
                      key=lambda f: int(re.findall(r"\d+", f)[0]))
        sets.append(([os.path.join(p, f) for f in ins], [os.path.join(p, f) for f in outs]))
    return sets


def op_types(model):
    return sorted({n.op_type for n in model.graph.node}) or ["(none)"]


def first_error(text):
    for line in text.splitlines():
        for key in ("Assertion", "runtime error:", "ERROR: AddressSanitizer", "LLVM ERROR"):
            if key in line:
                return line[line.index(key):].strip()[:200]
    for line in text.splitlines():
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[-1].strip() if lines else "failed without a message"


COMPILE_FLAGS = []


def run_test(name, bin_dir, keep_dir=None):
    """Returns (outcome, detail, ops, constant_inputs)."""
    test_dir = os.path.join(NODE_DIR, name)
    model_path = os.path.join(test_dir, "model.onnx")
    try:
        model = onnx.load(model_path)
    except Exception as e:  # noqa: BLE001
        return "skip", f"onnx cannot load the model: {e}", ["(unknown)"], False
    ops = op_types(model)
    sets = data_sets(test_dir)
    if not sets:
        return "skip", "no test data", ops, False
    graph_inputs = [i.name for i in model.graph.input
                    if i.name not in {t.name for t in model.graph.initializer}]

    loaded = []
    for ins, outs in sets:
        xs = [load_pb(p, "input") for p in ins]
        ys = [load_pb(p, "output") for p in outs]
        if any(x is None for x in xs) or any(y is None for y in ys):
            return "skip", "test data holds non-tensor values or strings", ops, False
        for a in xs + ys:
            if a.dtype not in NPY_OK:
                return "skip", f"test data of dtype {a.dtype} (no Kiln element type)", ops, False
        loaded.append((xs, ys))

    work = tempfile.mkdtemp(prefix="kiln-onnx-", dir=keep_dir)
    try:
        compile_cmd = [os.path.join(bin_dir, "kiln-compile"), model_path,
                       "-o", os.path.join(work, "m.kiln")] + COMPILE_FLAGS
        p = subprocess.run(compile_cmd, capture_output=True, text=True, timeout=600)
        constant_inputs = False
        if p.returncode != 0 and "must be a constant" in p.stderr:
            # Fold the integer inputs into initializers from data set 0.
            xs0 = loaded[0][0]
            folded = onnx.ModelProto()
            folded.CopyFrom(model)
            keep = []
            for info, x in zip([i for i in model.graph.input if i.name in graph_inputs], xs0):
                if np.issubdtype(x.dtype, np.integer):
                    folded.graph.initializer.append(numpy_helper.from_array(x, info.name))
                else:
                    keep.append(info)
            del folded.graph.input[:]
            folded.graph.input.extend(keep)
            folded_path = os.path.join(work, "model.onnx")
            onnx.save(folded, folded_path)
            compile_cmd[1] = folded_path
            p = subprocess.run(compile_cmd, capture_output=True, text=True, timeout=600)
            constant_inputs = True
            if len(loaded) > 1:
                loaded = loaded[:1]
            keep_idx = [k for k, x in enumerate(xs0) if not np.issubdtype(x.dtype, np.integer)]
            loaded = [([xs[k] for k in keep_idx], ys) for xs, ys in loaded]
        if p.returncode != 0:
            stage = "import" if "model.onnx:" in p.stderr or ".onnx:" in p.stderr else "compile"
            if p.returncode < 0 or "Sanitizer" in p.stderr or "Stack dump" in p.stderr:
                return "fail", f"CRASH in kiln-compile: {first_error(p.stderr)}", ops, constant_inputs
            return "fail", f"{stage}: {first_error(p.stderr)}", ops, constant_inputs
        for s, (xs, ys) in enumerate(loaded):
            cmd = [os.path.join(bin_dir, "kiln-run"), os.path.join(work, "m.kiln"),
                   "--rtol", str(RTOL), "--atol", str(ATOL)]
            for k, x in enumerate(xs):
                f = os.path.join(work, f"in{s}_{k}.npy")
                np.save(f, x)
                cmd += ["--input", f]
            for k, y in enumerate(ys):
                f = os.path.join(work, f"out{s}_{k}.npy")
                np.save(f, y)
                cmd += ["--compare", f]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                text = r.stderr + r.stdout
                if r.returncode < 0 or "Sanitizer" in text:
                    return "fail", f"CRASH in kiln-run: {first_error(text)}", ops, constant_inputs
                mism = [l for l in text.splitlines() if "worst" in l or "mismatch" in l.lower()]
                detail = mism[0].strip() if mism else first_error(text)
                return "fail", f"run: {detail}", ops, constant_inputs
        return "pass", "", ops, constant_inputs
    except subprocess.TimeoutExpired:
        return "fail", "timeout", ops, False
    finally:
        if keep_dir is None:
            shutil.rmtree(work, ignore_errors=True)


def read_xfail(path):
    entries = {}
    if not path or not os.path.exists(path):
        return entries
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, _, reason = line.partition("#")
            entries[name.strip()] = reason.strip()
    return entries


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--xfail", default=os.path.join(HERE, "node_tests.xfail"))
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--filter", default="")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--update-xfail", action="store_true")
    ap.add_argument("--only-listed", action="store_true",
                    help="run only the tests in the expected-failure file (after adding ops:"
                         " with --update-xfail it drops the ones that pass now)")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--compile-flag", action="append", default=[],
                    help="extra kiln-compile flag, e.g. --compile-flag=--cpu=none")
    args = ap.parse_args()
    COMPILE_FLAGS.extend(args.compile_flag)

    tests = sorted(t for t in os.listdir(NODE_DIR) if args.filter in t)
    if args.limit:
        tests = tests[: args.limit]
    xfail = read_xfail(args.xfail)
    if args.only_listed:
        tests = [t for t in tests if t in xfail]
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_test, t, args.bin_dir): t for t in tests}
        for fut in concurrent.futures.as_completed(futures):
            results[futures[fut]] = fut.result()

    counts = collections.Counter()
    per_op = collections.defaultdict(collections.Counter)
    unexpected_fail, unexpected_pass = [], []
    for t in tests:
        outcome, detail, ops, const_inputs = results[t]
        counts[outcome] += 1
        for op in ops:
            per_op[op][outcome] += 1
        if args.verbose:
            extra = " (constant inputs)" if const_inputs and outcome == "pass" else ""
            print(f"{outcome.upper():5} {t}{extra}" + (f": {detail}" if detail else ""))
        if outcome == "fail" and t not in xfail:
            unexpected_fail.append((t, detail))
        if outcome == "pass" and t in xfail:
            unexpected_pass.append(t)

    print("\nper-op pass rate (passed/total):")
    for op in sorted(per_op):
        c = per_op[op]
        total = sum(c.values())
        print(f"  {op:32} {c['pass']:3}/{total:<3} {100.0 * c['pass'] / total:5.1f}%")
    total = len(tests)
    print(f"\n{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped"
          f" ({100.0 * counts['pass'] / max(total, 1):.1f}% of {total} node tests pass)")

    if args.update_xfail:
        with open(args.xfail, "w") as f:
            f.write("# ONNX node tests (onnx 1.17.0) that Kiln is known to fail, one per\n"
                    "# line with the reason. Maintained by conformance.py --update-xfail;\n"
                    "# a listed test that passes fails the run, so this list only shrinks.\n")
            for t in tests:
                outcome, detail, _, _ = results[t]
                if outcome == "fail":
                    reason = detail or xfail.get(t) or "fails"
                    f.write(f"{t}  # {reason}\n")
        print(f"wrote {args.xfail}")
        return 0

    status = 0
    if unexpected_fail:
        status = 1
        print(f"\n{len(unexpected_fail)} unexpected failure(s) (not in {args.xfail}):")
        for t, d in unexpected_fail:
            print(f"  {t}: {d}")
    if unexpected_pass:
        status = 1
        print(f"\n{len(unexpected_pass)} listed test(s) now pass; remove them from {args.xfail}:")
        for t in unexpected_pass:
            print(f"  {t}")
    return status


if __name__ == "__main__":
    sys.exit(main())
