"""Runs the training-step benchmark on Kiln eager, PyTorch eager and
torch.compile with the same thread count, and prints medians and ratios.

  bench/train/compare.py --kiln build-release/bin/kiln-train-bench [--quick]

A ratio > 1 means Kiln is faster (peer time / Kiln time). A peer that is
missing or fails is reported and skipped, never fatal.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, env):
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {}, f"did not run: {e}"
    rows = {}
    notes = []
    for line in p.stdout.splitlines():
        f = line.split()
        if f and f[0] == "step" and len(f) >= 6:
            rows[f[1]] = (float(f[2]), float(f[3]), float(f[4]))
        elif f and f[0] == "skip":
            notes.append(line)
    if p.returncode != 0:
        notes.append(f"exit {p.returncode}: {p.stderr.strip()[-300:]}")
    return rows, "; ".join(notes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--python", default=os.path.join(HERE, "..", "..", ".venv", "bin", "python"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-compile", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ, KILN_NUM_THREADS=str(args.threads),
               OMP_NUM_THREADS=str(args.threads))
    q = ["--quick"] if args.quick else []
    systems = {"kiln eager": run([args.kiln] + q, env)}
    torch_cmd = [args.python, os.path.join(HERE, "torch_train_bench.py"),
                 "--threads", str(args.threads)] + q
    systems["torch eager"] = run(torch_cmd + ["--mode", "eager"], env)
    if not args.no_compile:
        systems["torch.compile"] = run(torch_cmd + ["--mode", "compile"], env)
    for name, (_, note) in systems.items():
        if note:
            print(f"note: {name}: {note}")
    names = []
    for rows, _ in systems.values():
        names += [n for n in rows if n not in names]
    print(f"Training step (forward + backward + Adam), {args.threads} threads, "
          "median ms (min-max)")
    header = f"{'workload':38s}" + "".join(f"{s:>24s}" for s in systems)
    header += "".join(f"{'vs ' + s:>18s}" for s in systems if s != "kiln eager")
    print(header)
    kiln_rows = systems["kiln eager"][0]
    for n in names:
        line = f"{n:38s}"
        for s, (rows, _) in systems.items():
            r = rows.get(n)
            line += f"{(f'{r[0]:.2f} ({r[1]:.1f}-{r[2]:.1f})' if r else 'n/a'):>24s}"
        for s, (rows, _) in systems.items():
            if s == "kiln eager":
                continue
            r, k = rows.get(n), kiln_rows.get(n)
            line += f"{(f'{r[0] / k[0]:.2f}x' if r and k else 'n/a'):>18s}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
