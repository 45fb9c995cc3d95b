#!/usr/bin/env python3
"""Compiled vs. eager vs. reference, for every function of every graph.

Compiles each module twice with the same seeded weights: with the full
pipeline (fused "loop" kernels as generated CPU code), and with
--no-fusion --no-in-place --cpu=none (every op its own kernel and its own
buffer, run by the eager kernels: the op-by-op eager order; --cpu=none keeps
kiln.fusion ops written in the input op by op too). On the same seeded
inputs:
  1. compiled vs. eager must agree within DESIGN.md's per-dtype tolerance
     (a fusion, epilogue or memory-planning bug, e.g. a buffer reused while
     still live, shows up here);
  2. compiled vs. the reference (kiln-run --reference: the whole graph in
     f64 through the naive reference kernels) within that tolerance widened
     by WIDEN for graph depth (f32: rtol 1.3e-4, atol 1e-3).

usage: compiled_vs_eager.py KILN_COMPILE KILN_RUN FILE.mlir...
"""
import os
import re
import subprocess
import sys
import tempfile


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


WIDEN = "100"  # f32: rtol 1.3e-4, atol 1e-3; bf16 needs it (K-long dot products)


def main():
    compile_, run_, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    passed, failed = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            text = open(path).read()
            functions = re.findall(r"^\s*func\.func @([\w$.]+)\(", text, re.M)
            stem = os.path.join(tmp, os.path.basename(path))
            builds = {}
            for mode, flags in (("fused", []), ("unfused", ["--no-fusion", "--no-in-place", "--cpu=none"])):
                out = "%s.%s.kiln" % (stem, mode)
                rc, log = run([compile_, path, "-o", out, "--random-weights", "1"] + flags)
                if rc != 0:
                    failed.append((path, "*", "kiln-compile %s failed:\n%s" % (mode, log)))
                    break
                builds[mode] = out
            if len(builds) != 2:
                continue
            for fn in functions:
                ref_dir = os.path.join(tmp, "%s.%s.ref" % (os.path.basename(path), fn))
                os.makedirs(ref_dir)
                rc, log = run([run_, builds["unfused"], "--function", fn,
                               "--random-inputs", "7", "--output-dir", ref_dir])
                if rc != 0:
                    failed.append((path, fn, "unfused run failed:\n" + log))
                    continue
                n = len([f for f in os.listdir(ref_dir) if f.endswith(".npy")])
                compare = []
                for i in range(n):
                    compare += ["--compare", os.path.join(ref_dir, "output%d.npy" % i)]
                rc, log = run([run_, builds["fused"], "--function", fn,
                               "--random-inputs", "7"] + compare)
                if rc != 0:
                    failed.append((path, fn, "compiled vs eager differs or failed:\n" + log))
                    continue
                oracle = ref_dir + ".f64"
                os.makedirs(oracle)
                rc, log = run([run_, builds["unfused"], "--function", fn, "--reference",
                               "--random-inputs", "7", "--output-dir", oracle])
                if rc != 0:
                    failed.append((path, fn, "reference run failed:\n" + log))
                    continue
                rc, log = run([run_, builds["fused"], "--function", fn,
                               "--random-inputs", "7", "--compare-dir", oracle,
                               "--widen", WIDEN])
                if rc != 0:
                    failed.append((path, fn, "compiled vs reference differs:\n" + log))
                else:
                    passed += 1
    for path, fn, why in failed:
        print("FAIL %s @%s\n%s" % (path, fn, why))
    print("%d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
