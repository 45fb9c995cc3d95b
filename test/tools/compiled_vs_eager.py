#!/usr/bin/env python3
"""Compiled (fused, memory-planned, in place) vs. unfused execution.

For every function of every given .mlir file, compiles the module twice with
the same seeded weights: once with the full pipeline and once with
--no-fusion --no-in-place (every op its own kernel and its own buffer: the
op-by-op eager order), runs both on the same seeded inputs, and requires
the outputs to agree within DESIGN.md's fp32 tolerances. A fusion, epilogue
or memory-planning bug (a buffer reused while still live) shows up here.

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


def main():
    compile_, run_, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    passed, failed = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            text = open(path).read()
            functions = re.findall(r"^\s*func\.func @([\w$.]+)\(", text, re.M)
            stem = os.path.join(tmp, os.path.basename(path))
            builds = {}
            for mode, flags in (("fused", []), ("unfused", ["--no-fusion", "--no-in-place"])):
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
                    failed.append((path, fn, "compiled run differs or failed:\n" + log))
                else:
                    passed += 1
    for path, fn, why in failed:
        print("FAIL %s @%s\n%s" % (path, fn, why))
    print("%d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
