#!/usr/bin/env python3
"""Runs kiln-opt over every .mlir in the tree plus corrupted copies of them.

Each run must end with exit code 0 (valid input) or 1 (a diagnostic), within
a time limit, with no crash and no sanitizer report. Build kiln-opt with
KILN_SANITIZE=address,undefined for this to mean much; scripts/test.sh does.

The corruptions are deterministic (fixed seed): truncations, flipped bytes,
deleted lines, huge dimensions, binary garbage, and splices of two files.

usage: kiln_opt_corpus.py KILN_OPT SOURCE_ROOT [--mutants-per-file N]
"""
import argparse
import concurrent.futures
import os
import random
import re
import subprocess
import sys
import tempfile

CRASH_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                 "runtime error:", "PLEASE submit a bug report",
                 "Stack dump:", "Assertion `")


def corpus(root):
    for sub in ("test", "examples"):
        for dirpath, _, files in os.walk(os.path.join(root, sub)):
            for f in sorted(files):
                if f.endswith(".mlir"):
                    yield os.path.join(dirpath, f)


def mutate(data, rng, others):
    kind = rng.choice(["truncate", "flip", "delete-line", "huge-dim",
                       "garbage", "splice", "dup-line"])
    if not data:
        return kind, bytes(rng.randrange(256) for _ in range(64))
    if kind == "truncate":
        return kind, data[:rng.randrange(len(data))]
    if kind == "flip":
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return kind, bytes(b)
    lines = data.split(b"\n")
    if kind == "delete-line":
        del lines[rng.randrange(len(lines))]
        return kind, b"\n".join(lines)
    if kind == "dup-line":
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        return kind, b"\n".join(lines)
    if kind == "huge-dim":
        huge = rng.choice([b"99999999999", b"9223372036854775807", b"0",
                           b"-1", b"4294967296"])
        return kind, re.sub(rb"(?<=[<x])\d+(?=x)", lambda m: huge
                            if rng.random() < 0.3 else m.group(0), data)
    if kind == "garbage":
        pos = rng.randrange(len(data))
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        return kind, data[:pos] + junk + data[pos:]
    other = rng.choice(others) or b"}"
    return kind, data[:rng.randrange(len(data))] + other[rng.randrange(len(other)):]


def run(kiln_opt, path, args, timeout=60):
    env = dict(os.environ,
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    try:
        p = subprocess.run([kiln_opt, path, *args], capture_output=True,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return "hang (> %ds)" % timeout
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode not in (0, 1):
        return "exit code %d\n%s" % (p.returncode, err[-3000:])
    for marker in CRASH_MARKERS:
        if marker in err:
            return "%r in stderr\n%s" % (marker, err[-3000:])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kiln_opt")
    ap.add_argument("root")
    ap.add_argument("--mutants-per-file", type=int, default=6)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()

    files = list(corpus(a.root))
    datas = [open(f, "rb").read() for f in files]
    rng = random.Random(20261129)
    jobs = []
    with tempfile.TemporaryDirectory() as tmp:
        for f, data in zip(files, datas):
            jobs.append((f, f, []))
            jobs.append((f, f, ["--split-input-file", "--canonicalize", "--cse"]))
            for i in range(a.mutants_per_file):
                kind, mutant = mutate(data, rng, datas)
                m = os.path.join(tmp, "%s.%d.%s.mlir" % (
                    os.path.basename(f), i, kind))
                with open(m, "wb") as out:
                    out.write(mutant)
                jobs.append(("%s [%s #%d]" % (f, kind, i), m,
                             ["--split-input-file", "--canonicalize"]))
        failures = []
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
            results = pool.map(lambda j: (j, run(a.kiln_opt, j[1], j[2])), jobs)
            for (name, path, args), problem in results:
                if problem:
                    keep = os.path.join(os.getcwd(), "corpus-failure-" +
                                        os.path.basename(path))
                    with open(path, "rb") as src, open(keep, "wb") as dst:
                        dst.write(src.read())
                    failures.append((name, args, keep, problem))
    for name, args, keep, problem in failures:
        print("FAIL %s %s (input kept at %s)\n%s\n" % (name, " ".join(args),
                                                       keep, problem))
    print("%d inputs, %d runs: %d passed, %d failed" % (
        len(files), len(jobs), len(jobs) - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
