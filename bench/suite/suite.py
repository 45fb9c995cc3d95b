"""Kiln beside PyTorch eager, torch.compile and ONNX Runtime: one run, one table.

    python suite.py --bin BUILD/bin --out DIR [--quick|--full] [--threads N]
                    [--workloads mlp,lenet,...] [--no-training]

bench/run.sh builds the tools and calls this; see the README section
"Benchmark suite". For each workload, every system checks its outputs
against PyTorch eager's (the same weights: models.py) before it is timed
(a mismatch or a failure is reported in the row, never timed), then the
systems take turns, round after round (interleaved), so load on the
machine falls on all of them alike.

Systems, inference: Kiln compiled (kiln-compile model.onnx, kiln-run
--bench), Kiln eager (kiln-eager-infer: the models of models.py in
kiln::nn, loading the same weights from weights.safetensors), PyTorch
eager, torch.compile (Inductor), ONNX Runtime (CPU). A model that
kiln-eager-infer does not define (its --list) shows '—' with that reason.
Training (one step: forward, backward, Adam): Kiln eager (kiln-train-bench),
PyTorch eager, torch.compile (bench/train/torch_train_bench.py).

Per system and workload: median of the round medians, minimum over all
runs, spread = (largest - smallest round median) / median (training rows
with one round: (max - min) / median of its steps), peak resident memory
of the system's own process (wait4 for Kiln's; for the Python peers,
which keep one process per run, the peak since that workload was loaded), and for Kiln the planned arena
against its lower bound (compiled inference) or the caching allocator's
peak of bytes in use (eager: inference and training).
Ratios are peer / Kiln (> 1: Kiln is faster), pair by pair: the peers
against Kiln compiled, and PyTorch eager against Kiln eager (dynamic mode
against dynamic mode).
"""
import argparse
import csv
import datetime
import json
import math
import os
import platform
import queue
import re
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

INFER = ["kiln-compiled", "kiln-eager", "torch-eager", "torch-compile", "ort"]
TRAIN = ["kiln-eager", "torch-eager", "torch-compile"]
LABEL = {"kiln-compiled": "Kiln compiled", "kiln-eager": "Kiln eager",
         "torch-eager": "PyTorch eager", "torch-compile": "torch.compile",
         "ort": "ONNX Runtime"}

QUICK_INFER = ["mlp:1", "mlp:64", "lenet:64"]
FULL_INFER = ["mlp:1", "mlp:64", "lenet:1", "lenet:64", "lstm:1", "lstm:32",
              "bert:1", "bert:8", "resnet18:1", "resnet18:8",
              "mobilenetv2:1", "mobilenetv2:8"]
QUICK_TRAIN = ["mlp_784_512_512_10_b64"]
FULL_TRAIN = ["mlp_784_512_512_10_b64", "lenet_b64",
              "transformer_d256_h4_ff1024_s128_b8", "lstm_in32_h128_s50_b32"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def first_error(text):
    for line in text.splitlines():
        if "error:" in line:
            return line.split("error:", 1)[1].strip()[:300]
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[-1].strip()[:300] if lines else "failed without a message"


def run_child(cmd, env, timeout):
    """Runs cmd; returns (exit code, stdout+stderr, peak RSS KiB) — the RSS
    of this child alone, from wait4."""
    try:
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        return 127, str(e), 0
    out, timer = [], threading.Timer(timeout, p.kill)
    timer.start()
    try:
        out = p.stdout.read()
    finally:
        timer.cancel()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, out, ru.ru_maxrss


class Stats:
    def __init__(self):
        self.round_medians, self.mins, self.samples = [], [], []
        self.rss_kib = 0
        self.error = None
        self.extra = {}

    def add_round(self, median, minimum, samples=()):
        self.round_medians.append(median)
        self.mins.append(minimum)
        self.samples.extend(samples)

    def summary(self):
        if self.error or not self.round_medians:
            return None
        med = statistics.median(self.round_medians)
        if len(self.round_medians) > 1:
            spread = (max(self.round_medians) - min(self.round_medians)) / med
        else:
            spread = self.extra.get("spread_in_run", float("nan"))
        return {"median_ms": med, "min_ms": min(self.mins), "spread": spread,
                "rounds": len(self.round_medians)}


# --- machine ---------------------------------------------------------------

def machine_limits(bin_dir, env):
    """Peak fp32 FLOP/s and triad bandwidth, as kiln-eager-bench measures
    them (its first lines; the rest of its run is not needed here)."""
    exe = os.path.join(bin_dir, "kiln-eager-bench")
    limits = {"peak_gflops": None, "triad_gbs": None}
    try:
        p = subprocess.Popen([exe, "--quick", "--no-torch"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        log(f"suite: machine limits not measured: {e}")
        return limits
    peaks = []
    deadline = time.time() + 120
    for line in p.stdout:
        m = re.search(r"fp32 FMA peak.*?([0-9.]+)\s*GFLOP/s", line)
        if m:
            peaks.append(float(m.group(1)))
        m = re.search(r"triad bandwidth.*?([0-9.]+)\s*GB/s", line)
        if m:
            limits["triad_gbs"] = float(m.group(1))
            break
        if time.time() > deadline:
            break
    p.kill()  # our own child, by its handle
    p.wait()
    limits["peak_gflops"] = max(peaks) if peaks else None
    return limits


def probe_peers(python, env):
    """Which Python peers import, with the reason for those that do not."""
    code = ("import json,sys\nr={}\n"
            "for m in ('torch','onnxruntime','numpy'):\n"
            "  try:\n    mod=__import__(m); r[m]=getattr(mod,'__version__','?')\n"
            "  except Exception as e:\n    r[m]='MISSING: '+type(e).__name__+': '+str(e)[:150]\n"
            "print(json.dumps(r))")
    try:
        out = subprocess.run([python, "-c", code], env=env, capture_output=True,
                             text=True, timeout=300).stdout
        return json.loads(out.strip().splitlines()[-1])
    except Exception as e:  # noqa: BLE001
        return {m: f"MISSING: {python} did not run: {e}" for m in
                ("torch", "onnxruntime", "numpy")}


# --- inference -------------------------------------------------------------

class Worker:
    """A peer_worker.py process; lines from it arrive through a queue so a
    hung peer costs a timeout, not the run."""

    def __init__(self, system, args, env):
        self.system = system
        self.p = subprocess.Popen(
            [args.python, os.path.join(HERE, "peer_worker.py"), "--system", system,
             "--threads", str(args.threads),
             "--warmup", str(args.warmup), "--rtol", str(args.rtol),
             "--atol", str(args.atol)],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._pump, args=(self.p.stdout, self.lines),
                         daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()

    @staticmethod
    def _pump(f, q):
        for line in f:
            q.put(line.rstrip("\n"))
        q.put(None)

    def _pump_err(self):
        for line in self.p.stderr:
            self.stderr.append(line.rstrip("\n"))
            del self.stderr[:-20]

    def expect(self, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None, f"no answer in {timeout:.0f} s"
        if line is None:
            tail = next((l for l in reversed(self.stderr) if l.strip()), "")
            return None, f"exited ({tail[-300:]})" if tail else "exited"
        if line.startswith("error"):
            return None, line[6:]
        return line, None

    def send(self, text):
        try:
            self.p.stdin.write(text + "\n")
            self.p.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def alive(self):
        return self.p.poll() is None

    def finish(self):
        self.send("quit")
        try:
            self.p.stdin.close()
        except OSError:
            pass
        timer = threading.Timer(30, self.p.kill)
        timer.start()
        self.p.wait()
        timer.cancel()


def get_worker(workers, s, args, env):
    """The live worker for peer s (started on first use, restarted after a
    crash); (worker, None) or (None, error)."""
    w = workers.get(s)
    if w and w.alive():
        return w, None
    w = Worker(s, args, env)
    line, err = w.expect(args.setup_timeout)
    if err or line != "started":
        w.finish()
        return None, err or f"unexpected '{line}'"
    workers[s] = w
    return w, None


def kiln_inputs(wdir, meta):
    ins = []
    for k in range(len(meta["inputs"])):
        ins += ["--input", os.path.join(wdir, f"in{k}.npy")]
    return ins


def kiln_round(cmd, ins, n, env):
    """One timed process of kiln-run (cmd = [exe, model.kiln]) or
    kiln-eager-infer (cmd = [exe, model, weights]): (median ms, min ms,
    arena or allocator-peak bytes), error, peak RSS KiB."""
    code, out, rss = run_child(cmd + ins + ["--bench", str(n)], env, 600)
    m = re.search(r"median ([0-9.]+) us, min ([0-9.]+) us "
                  r"\((?:arena|allocator peak) (\d+) bytes\)", out)
    if code != 0 or not m:
        return None, f"{os.path.basename(cmd[0])}: {first_error(out)}", rss
    return (float(m.group(1)) / 1e3, float(m.group(2)) / 1e3, int(m.group(3))), None, rss


def kiln_check(cmd, ins, meta, wdir, args, env):
    """Runs a Kiln tool once against the reference outputs (3 timed runs
    for sizing the rounds): (seconds per call, check text), error."""
    cmp = []
    for i in range(meta["outputs"]):
        cmp += ["--compare", os.path.join(wdir, f"ref{i}.npy")]
    code, out, _ = run_child(cmd + ins + cmp + ["--rtol", str(args.rtol), "--atol",
                                                  str(args.atol), "--bench", "3"], env, 600)
    worst = [l for l in out.splitlines() if "vs expected" in l]
    m = re.search(r"median ([0-9.]+) us", out)
    if code != 0:
        bad = [l for l in worst if "MISMATCH" in l]
        return None, (("mismatch: " + bad[0].strip()) if bad else
                      f"{os.path.basename(cmd[0])}: {first_error(out)}")
    if not m:
        return None, f"{os.path.basename(cmd[0])}: no latency line in its output"
    return (float(m.group(1)) / 1e6,
            "; ".join(w.split(":", 1)[1].strip()[:60] for w in worst)), None


def run_inference(meta, args, env, systems, workers):
    wdir = meta["dir"]
    res = {s: Stats() for s in INFER}
    for s in INFER:
        if s == "kiln-eager":  # kiln-eager-infer, not the training bench
            if args.eager_models is None:
                res[s].error = f"skipped: no kiln-eager-infer in {args.bin}"
            elif meta["model"] not in args.eager_models:
                res[s].error = (f"no Kiln eager definition of '{meta['model']}' in "
                                "kiln-eager-infer (bench/suite/KilnEagerInfer.cpp)")
        elif s not in systems:
            res[s].error = systems_missing(s, args)
    if "error" in meta:
        for s in INFER:
            res[s].error = res[s].error or meta["error"]
        return res
    est = {}  # seconds per call, for sizing rounds
    # Kiln compiled: compile, check against the reference, estimate.
    k = res["kiln-compiled"]
    kiln_file = os.path.join(wdir, "model.kiln")
    ins = kiln_inputs(wdir, meta)
    run_exe = os.path.join(args.bin, "kiln-run")
    if not k.error:
        t0 = time.time()
        code, out, _ = run_child([os.path.join(args.bin, "kiln-compile"),
                                  os.path.join(wdir, "model.onnx"), "-o", kiln_file,
                                  "--report"], env, 900)
        k.extra["compile_s"] = round(time.time() - t0, 2)
        m = re.search(r"arena (\d+) bytes \(lower bound (\d+)", out)
        if m:
            k.extra["arena_bytes"], k.extra["arena_lower_bound"] = int(m.group(1)), int(m.group(2))
        m = re.search(r"(\d+) graph ops -> (\d+) kernels", out)
        if m:
            k.extra["ops_kernels"] = f"{m.group(1)}->{m.group(2)}"
        if code != 0:
            stage = "import" if ".onnx:" in out and "error" in out else "compile"
            k.error = f"kiln-compile ({stage}): {first_error(out)}"
    cmds = {"kiln-compiled": [run_exe, kiln_file],
            "kiln-eager": [os.path.join(args.bin, "kiln-eager-infer"), meta["model"],
                           os.path.join(wdir, "weights.safetensors")]}
    # Kiln eager: the C++ definition loads the same weights; checked alike.
    for s in ("kiln-compiled", "kiln-eager"):
        if res[s].error:
            continue
        got, err = kiln_check(cmds[s], ins, meta, wdir, args, env)
        if err:
            res[s].error = err
        else:
            est[s], res[s].extra["check"] = got
    # Peers: one worker process each, kept across workloads; they load, warm
    # up and check (nothing is timed yet).
    for s in ("torch-eager", "torch-compile", "ort"):
        if res[s].error:
            continue
        w, err = get_worker(workers, s, args, env)
        if not err:
            w.send(f"load {wdir}")
            line, err = w.expect(args.setup_timeout)
        if not err:
            res[s].extra.update(json.loads(line.split(" ", 1)[1]))
            w.send("run 2")  # calibration, discarded
            line, err = w.expect(args.setup_timeout)
        if err:
            res[s].error = err
            continue
        est[s] = statistics.median(float(t) for t in line.split()[1:]) / 1e6
    order = [s for s in INFER if not res[s].error]
    for r in range(args.rounds):
        rot = order[r % len(order):] + order[:r % len(order)] if order else []
        for s in rot:
            if res[s].error:
                continue
            n = max(args.min_iters, min(5000, round(args.round_s / max(est.get(s, 1e-3), 1e-6))))
            if s in cmds:
                got, err, rss = kiln_round(cmds[s], ins, n, env)
                res[s].rss_kib = max(res[s].rss_kib, rss)
                if err:
                    res[s].error = err
                    continue
                res[s].add_round(got[0], got[1])
                res[s].extra["arena_runtime_bytes" if s == "kiln-compiled"
                             else "allocator_peak_bytes"] = got[2]
            else:
                w = workers[s]
                w.send(f"run {n}")
                line, err = w.expect(max(120, 20 * n * est.get(s, 1)))
                if err:
                    res[s].error = err
                    continue
                ts = [float(t) / 1e3 for t in line.split()[1:]]
                res[s].add_round(statistics.median(ts), min(ts), ts)
    for s in ("torch-eager", "torch-compile", "ort"):
        w = workers.get(s)
        if w and w.alive() and "first_call_s" in res[s].extra:
            w.send("rss")
            line, err = w.expect(60)
            if line and line.startswith("rss"):
                res[s].rss_kib = int(line.split()[1])
    return res


# --- training --------------------------------------------------------------

def parse_step(out, name):
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and f[0] == "step" and f[1] == name:
            return float(f[2]), float(f[3]), float(f[4]), float(f[5])
    return None


def run_training(name, args, env, systems):
    res = {s: Stats() for s in TRAIN}
    for s in TRAIN:
        if s not in systems:
            res[s].error = systems_missing(s, args)
    q = ["--quick"] if args.quick else []
    cmds = {
        "kiln-eager": [os.path.join(args.bin, "kiln-train-bench"), f"--only={name}"] + q,
        "torch-eager": [args.python, os.path.join(ROOT, "bench", "train", "torch_train_bench.py"),
                        "--threads", str(args.threads), "--mode", "eager", "--only", name] + q,
        "torch-compile": [args.python, os.path.join(ROOT, "bench", "train", "torch_train_bench.py"),
                          "--threads", str(args.threads), "--mode", "compile", "--only", name] + q,
    }
    order = [s for s in TRAIN if not res[s].error]
    for r in range(args.train_rounds):
        rot = order[r % len(order):] + order[:r % len(order)] if order else []
        for s in rot:
            if res[s].error:
                continue
            code, out, rss = run_child(cmds[s], env, 1800)
            res[s].rss_kib = max(res[s].rss_kib, rss)
            step = parse_step(out, name)
            if code != 0 or not step:
                skip = [l for l in out.splitlines() if l.startswith("skip")]
                res[s].error = skip[0][5:][:300] if skip else first_error(out)
                continue
            med, mn, mx, loss = step
            res[s].add_round(med, mn)
            res[s].extra["spread_in_run"] = (mx - mn) / med
            res[s].extra["loss"] = loss
            m = re.search(r"allocator peak_bytes (\d+)", out)
            if m:
                res[s].extra["allocator_peak_bytes"] = int(m.group(1))
    return res


def systems_missing(s, args):
    return args.missing.get(s, "not run")


# --- report ----------------------------------------------------------------

def fmt_ms(st):
    sm = st.summary()
    if not sm:
        return "—"
    sp = "" if math.isnan(sm["spread"]) else f" ±{100 * sm['spread'] / 2:.0f}%"
    return f"{sm['median_ms']:.3f}{sp}"


def ratio(peer, kiln):
    a, b = peer.summary(), kiln.summary()
    if not a or not b:
        return None
    return a["median_ms"] / b["median_ms"]


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def write_outputs(out, rows, limits, info):
    csv_path = os.path.join(out, "results.csv")
    with open(csv_path, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["kind", "workload", "batch", "system", "status", "median_ms", "min_ms",
                     "spread_pct", "rounds", "gflop_per_call", "gflops_achieved",
                     "pct_of_peak", "peak_rss_mib", "kiln_arena_bytes",
                     "kiln_arena_lower_bound", "kiln_allocator_peak_bytes",
                     "ratio_peer_over_kiln", "ratio_torch_eager_over_kiln_eager", "error"])
        for row in rows:
            ref = row["res"][row["ref"]]
            for s, st in row["res"].items():
                sm = st.summary()
                gf = row.get("flops")
                ach = gf / (sm["median_ms"] / 1e3) / 1e9 if sm and gf else None
                wr.writerow([
                    row["kind"], row["name"], row.get("batch", ""), s,
                    "ok" if sm else "error",
                    f"{sm['median_ms']:.4f}" if sm else "", f"{sm['min_ms']:.4f}" if sm else "",
                    "" if not sm or math.isnan(sm["spread"]) else f"{100 * sm['spread']:.1f}",
                    sm["rounds"] if sm else "",
                    f"{gf / 1e9:.4f}" if gf else "",
                    f"{ach:.2f}" if ach else "",
                    f"{100 * ach / limits['peak_gflops']:.1f}" if ach and limits.get("peak_gflops") else "",
                    f"{st.rss_kib / 1024:.1f}" if st.rss_kib else "",
                    st.extra.get("arena_bytes", ""), st.extra.get("arena_lower_bound", ""),
                    st.extra.get("allocator_peak_bytes", ""),
                    "" if s == row["ref"] else (f"{ratio(st, ref):.3f}" if ratio(st, ref) else ""),
                    f"{ratio(row['res']['torch-eager'], st):.3f}"
                    if s == "kiln-eager" and ratio(row["res"].get("torch-eager", Stats()), st)
                    else "",
                    st.error or ""])
    md = []
    md.append(f"# Kiln benchmark suite ({info['mode']} mode)\n")
    md.append(f"{info['date']} · {info['machine']} · {info['threads']} threads "
              f"(KILN_NUM_THREADS, torch.set_num_threads, ORT intra-op, OMP_NUM_THREADS) · "
              f"measured peak fp32 {limits.get('peak_gflops') or '?'} GFLOP/s, "
              f"triad {limits.get('triad_gbs') or '?'} GB/s · load average at start "
              f"{info['load']} on {os.cpu_count()} cores"
              + f" · thread wait policy: {info['wait_policy']}"
              + (" — **loaded machine: figures are noisy**" if info["loaded"] else "") + "\n")
    md.append(f"Peers: {info['peers']}. Kiln binaries: {info['binaries']}. "
              f"Whole run: {info['elapsed_s']} s.\n")
    md.append("Median latency in ms (± half the spread of round medians); "
              "ratios are peer / Kiln: **> 1 means Kiln is faster**. "
              "Every system's outputs were checked against PyTorch eager "
              f"(rtol {info['rtol']}, atol {info['atol']}) before timing; "
              "'—' is a system that failed or mismatched (see Errors).\n")
    inf = [r for r in rows if r["kind"] == "inference"]
    if inf:
        md.append("## Inference\n")
        md.append("| workload | GFLOP | Kiln compiled | Kiln eager | PyTorch eager | torch.compile "
                  "| ONNX Runtime | eager/Kiln | compile/Kiln | ORT/Kiln | eager/Kiln eager "
                  "| Kiln GFLOP/s (% peak) compiled, eager "
                  "| peak RSS MiB K/KE/PT/TC/ORT | Kiln arena (lower bound); eager peak |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
        pk = limits.get("peak_gflops")

        def achieved(st, gf):
            sm = st.summary()
            ach = gf / (sm["median_ms"] / 1e3) / 1e9 if sm and gf else None
            return (f"{ach:.1f} ({100 * ach / pk:.0f}%)" if ach and pk else
                    f"{ach:.1f}" if ach else "—")
        for r in inf:
            R = r["res"]
            k, ke = R["kiln-compiled"], R["kiln-eager"]
            gf = r.get("flops")
            rat = [ratio(R[s], k) for s in ("torch-eager", "torch-compile", "ort")]
            rat.append(ratio(R["torch-eager"], ke))
            rss = "/".join(f"{R[s].rss_kib / 1024:.0f}" if R[s].rss_kib else "—" for s in INFER)
            ar = (f"{k.extra['arena_bytes'] / 1024:.0f} KiB ({k.extra['arena_lower_bound'] / 1024:.0f})"
                  if "arena_bytes" in k.extra else "—")
            ap = ke.extra.get("allocator_peak_bytes")
            ar += f"; {ap / 1024:.0f} KiB" if ap else "; —"
            md.append(f"| {r['name']} | {gf / 1e9 if gf else 0:.3f} | {fmt_ms(k)} | {fmt_ms(ke)} | "
                      f"{fmt_ms(R['torch-eager'])} | {fmt_ms(R['torch-compile'])} | "
                      f"{fmt_ms(R['ort'])} | "
                      + " | ".join(f"{x:.2f}x" if x else "—" for x in rat)
                      + f" | {achieved(k, gf)}, {achieved(ke, gf)} | {rss} | {ar} |")
        g = {s: geomean([ratio(r["res"][s], r["res"]["kiln-compiled"]) for r in inf])
             for s in ("torch-eager", "torch-compile", "ort")}
        md.append("\nGeomean peer/Kiln compiled: " + ", ".join(
            f"{LABEL[s]} {v:.2f}x" if v else f"{LABEL[s]} —" for s, v in g.items())
                  + " (goal: ONNX Runtime >= 1.2x).")
        ge = geomean([ratio(r["res"]["torch-eager"], r["res"]["kiln-eager"]) for r in inf])
        n_e = sum(1 for r in inf if ratio(r["res"]["torch-eager"], r["res"]["kiln-eager"]))
        md.append(f"Geomean PyTorch eager/Kiln eager: {f'{ge:.2f}x' if ge else '—'} over "
                  f"{n_e} of {len(inf)} rows (goal: >= 1.0x, Kiln eager at least as fast "
                  "as PyTorch eager).\n")
    tr = [r for r in rows if r["kind"] == "training"]
    if tr:
        md.append("## Training step (forward, backward, Adam)\n")
        md.append("| workload | Kiln eager | PyTorch eager | torch.compile | eager/Kiln | "
                  "compile/Kiln | peak RSS MiB K/PT/TC | Kiln allocator peak |")
        md.append("|---|---:|---:|---:|---:|---:|---|---|")
        for r in tr:
            R = r["res"]
            k = R["kiln-eager"]
            rat = [ratio(R[s], k) for s in ("torch-eager", "torch-compile")]
            rss = "/".join(f"{R[s].rss_kib / 1024:.0f}" if R[s].rss_kib else "—" for s in TRAIN)
            ap = k.extra.get("allocator_peak_bytes")
            md.append(f"| {r['name']} | {fmt_ms(k)} | {fmt_ms(R['torch-eager'])} | "
                      f"{fmt_ms(R['torch-compile'])} | "
                      + " | ".join(f"{x:.2f}x" if x else "—" for x in rat)
                      + f" | {rss} | {f'{ap / 2**20:.1f} MiB' if ap else '—'} |")
        g = {s: geomean([ratio(r["res"][s], r["res"]["kiln-eager"]) for r in tr])
             for s in ("torch-eager", "torch-compile")}
        md.append("\nGeomean peer/Kiln eager: " + ", ".join(
            f"{LABEL[s]} {v:.2f}x" if v else f"{LABEL[s]} —" for s, v in g.items())
                  + " (goals, for the compiled training step to come: >= 2x PyTorch eager, "
                  ">= 1.3x torch.compile; Kiln eager itself: >= 1.0x PyTorch eager). "
                  "Training rows time the same shapes, not the same weights "
                  "(each library initialises its own), so they are not cross-checked.\n")
    errs = [(r["name"], s, st.error) for r in rows for s, st in r["res"].items() if st.error]
    if errs:
        md.append("## Errors and skipped systems\n")
        for name, s, e in errs:
            md.append(f"- {name} / {LABEL[s]}: {e}")
        md.append("")
    md.append("Kiln compiled training is not a column yet. RSS includes each runtime's own "
              "footprint (a Python interpreter with torch imported is ~300+ MiB before "
              "any model); a Python peer's figure is its process's peak since the "
              "workload was loaded (one process per peer serves all inference rows).\n")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(md))
    return "\n".join(md)


def charts(out, rows, info):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        log(f"suite: no charts ({e}); pip install matplotlib into the venv")
        return []
    made = []
    tag = f"{info['machine']}, {info['threads']} threads, {info['mode']}" + (
        ", loaded machine" if info["loaded"] else "")
    # Ratios per workload, one bar per pair (peer, Kiln system): the peers
    # against Kiln compiled (inference), and against Kiln eager (PyTorch
    # eager in inference; both PyTorch modes in training).
    pairs = [("torch-eager", "kiln-compiled"), ("torch-compile", "kiln-compiled"),
             ("ort", "kiln-compiled"), ("torch-eager", "kiln-eager"),
             ("torch-compile", "kiln-eager")]
    names = [r["name"] for r in rows]

    def pair_ratio(r, s, k):
        if r["kind"] == "training" and k != "kiln-eager":
            return None
        if r["kind"] == "inference" and (s, k) == ("torch-compile", "kiln-eager"):
            return None
        if s not in r["res"] or k not in r["res"]:
            return None
        return ratio(r["res"][s], r["res"][k])
    pairs = [p for p in pairs if any(pair_ratio(r, *p) for r in rows)] or pairs[:1]
    fig, ax = plt.subplots(figsize=(max(7, 0.9 * len(rows) + 2) + 2.5, 4.5))
    width = 0.8 / len(pairs)
    for i, (s, k) in enumerate(pairs):
        xs, ys = [], []
        for j, r in enumerate(rows):
            v = pair_ratio(r, s, k)
            if v:
                xs.append(j + (i - (len(pairs) - 1) / 2) * width)
                ys.append(v)
        ax.bar(xs, ys, width, label=f"{LABEL[s]} / {LABEL[k]}")
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([f"{'train ' if r['kind'] == 'training' else ''}{n}" for r, n in zip(rows, names)],
                       rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("latency ratio peer / Kiln (> 1: Kiln faster)")
    ax.set_title(f"Kiln compiled and Kiln eager vs peers, pair by pair\n{tag}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    p = os.path.join(out, "latency_ratios.png")
    fig.savefig(p, dpi=110)
    plt.close(fig)
    made.append(p)
    # Memory: peak RSS per system.
    systems = ["kiln-compiled", "kiln-eager", "torch-eager", "torch-compile", "ort"]
    fig, ax = plt.subplots(figsize=(max(7, 0.9 * len(rows) + 2), 4.5))
    width = 0.8 / len(systems)
    for i, s in enumerate(systems):
        xs, ys = [], []
        for j, r in enumerate(rows):
            st = r["res"].get(s)
            if st and st.rss_kib:
                xs.append(j + (i - (len(systems) - 1) / 2) * width)
                ys.append(st.rss_kib / 1024)
        if xs:
            ax.bar(xs, ys, width, label=LABEL[s])
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([f"{'train ' if r['kind'] == 'training' else ''}{n}" for r, n in zip(rows, names)],
                       rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("peak resident memory of the process (MiB)")
    ax.set_title(f"Peak RSS per system\n{tag}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    p = os.path.join(out, "memory.png")
    fig.savefig(p, dpi=110)
    plt.close(fig)
    made.append(p)
    return made


# --- main ------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="directory with kiln-compile, kiln-run, "
                    "kiln-eager-infer, kiln-train-bench, kiln-eager-bench")
    ap.add_argument("--python", default=os.path.join(ROOT, ".venv", "bin", "python"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--full", action="store_true")
    ap.add_argument("--workloads", default="", help="inference MODEL:BATCH list (default: by mode)")
    ap.add_argument("--training", default="", help="training workload names (default: by mode)")
    ap.add_argument("--no-training", action="store_true")
    ap.add_argument("--no-inference", action="store_true")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--wait-policy", choices=["auto", "active", "passive"], default="auto",
                    help="passive: OMP_WAIT_POLICY=PASSIVE for every process, no "
                    "spinning in ONNX Runtime's pool and none in Kiln's (KILN_SPIN_US=0); auto: passive when the load "
                    "average at start exceeds the core count (spinning thread pools "
                    "lose 10-100x when their threads are descheduled)")
    args = ap.parse_args()
    args.quick = args.quick or not args.full
    args.rounds = 3 if args.quick else 7
    args.train_rounds = 1 if args.quick else 3
    args.round_s = 0.25 if args.quick else 1.0
    args.min_iters = 3 if args.quick else 10
    args.warmup = 3 if args.quick else 10
    args.setup_timeout = 600
    os.makedirs(args.out, exist_ok=True)
    t_start = time.time()
    env = dict(os.environ, KILN_NUM_THREADS=str(args.threads),
               OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads),
               PYTHONUNBUFFERED="1")
    load = os.getloadavg()[0]
    passive = args.wait_policy == "passive" or (
        args.wait_policy == "auto" and load > (os.cpu_count() or 1))
    if passive:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
        env["KILN_BENCH_ORT_NO_SPIN"] = "1"
        env["KILN_SPIN_US"] = "0"  # Kiln's pool sleeps at once too: same policy for all.
    info = {"mode": "quick" if args.quick else "full", "threads": args.threads,
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "machine": f"{platform.processor() or platform.machine()} {os.cpu_count()} cores",
            "load": f"{load:.1f}", "loaded": load > 0.5 * (os.cpu_count() or 1),
            "rtol": args.rtol, "atol": args.atol,
            "wait_policy": "passive (OMP_WAIT_POLICY=PASSIVE, ORT allow_spinning=0, KILN_SPIN_US=0)"
            if passive else "default (spinning allowed)"}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            if m:
                info["machine"] = f"{m.group(1).strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    bins = []
    for exe in ("kiln-compile", "kiln-run", "kiln-eager-infer", "kiln-train-bench"):
        path = os.path.realpath(os.path.join(args.bin, exe))
        cache = os.path.join(os.path.dirname(os.path.dirname(path)), "CMakeCache.txt")
        btype = "?"
        try:
            with open(cache) as f:
                m = re.search(r"^CMAKE_BUILD_TYPE:STRING=(.*)$", f.read(), re.M)
                btype = m.group(1) if m else "?"
        except OSError:
            pass
        bins.append(f"{exe} {os.path.relpath(path, ROOT) if path.startswith(ROOT) else path} ({btype})")
    info["binaries"] = ", ".join(bins)
    log(f"suite: {info['mode']} mode, {args.threads} threads, load average {load:.1f}")
    limits = machine_limits(args.bin, env)
    log(f"suite: machine peak {limits['peak_gflops']} GFLOP/s, triad {limits['triad_gbs']} GB/s")
    peers = probe_peers(args.python, env)
    info["peers"] = ", ".join(f"{m} {v}" for m, v in peers.items())
    args.missing = {}
    systems = set(INFER + TRAIN)
    if str(peers.get("torch", "MISSING")).startswith("MISSING"):
        for s in ("torch-eager", "torch-compile"):
            systems.discard(s)
            args.missing[s] = f"skipped: torch {peers.get('torch')}"
    if str(peers.get("onnxruntime", "MISSING")).startswith("MISSING"):
        systems.discard("ort")
        args.missing["ort"] = f"skipped: onnxruntime {peers.get('onnxruntime')}"
    for s, why in args.missing.items():
        log(f"suite: column {LABEL[s]} {why}")
    for exe, s in (("kiln-compile", "kiln-compiled"), ("kiln-train-bench", "kiln-eager")):
        if not os.access(os.path.join(args.bin, exe), os.X_OK):
            systems.discard(s)  # kiln-eager here: training; inference below
            args.missing[s] = f"skipped: no {exe} in {args.bin}"
            log(f"suite: column {LABEL[s]} {'(training) ' if s == 'kiln-eager' else ''}"
                f"{args.missing[s]}")
    # Kiln eager inference: the models kiln-eager-infer defines (None: no tool).
    args.eager_models = None
    try:
        out = subprocess.run([os.path.join(args.bin, "kiln-eager-infer"), "--list"], env=env,
                             capture_output=True, text=True, timeout=60)
        if out.returncode == 0:
            args.eager_models = set(out.stdout.split())
    except (OSError, subprocess.TimeoutExpired):
        pass
    if args.eager_models is None:
        log(f"suite: column Kiln eager (inference) skipped: no kiln-eager-infer in {args.bin}")
    rows = []
    if not args.no_inference:
        wl = [w for w in (args.workloads.split(",") if args.workloads else
                          (QUICK_INFER if args.quick else FULL_INFER)) if w]
        work = os.path.join(args.out, "work")
        metas = []
        if str(peers.get("torch", "MISSING")).startswith("MISSING"):
            log("suite: inference rows need torch to define and export the models; skipped")
        else:
            log(f"suite: exporting {' '.join(wl)} (PyTorch -> ONNX, reference outputs)")
            code, out, _ = run_child([args.python, os.path.join(HERE, "models.py"), "prepare",
                                      "--dir", work] + wl, env, 1800)
            for line in out.splitlines():
                if line.startswith("{"):
                    metas.append(json.loads(line))
            if code != 0 and not metas:
                log(f"suite: export failed: {first_error(out)}")
        workers = {}
        for meta in metas:
            name = f"{meta['model']} b{meta['batch']}"
            log(f"suite: inference {name}")
            res = run_inference(meta, args, env, systems, workers)
            row = {"kind": "inference", "name": name, "batch": meta["batch"],
                   "flops": meta.get("flops"), "ref": "kiln-compiled", "res": res}
            rows.append(row)
            for s, st in res.items():
                sm = st.summary()
                log(f"  {LABEL[s]:14s} " + (f"{sm['median_ms']:.3f} ms" if sm else f"— {st.error}"))
        for w in workers.values():
            w.finish()
    if not args.no_training:
        tl = [w for w in (args.training.split(",") if args.training else
                          (QUICK_TRAIN if args.quick else FULL_TRAIN)) if w]
        for name in tl:
            log(f"suite: training {name}")
            res = run_training(name, args, env, systems)
            rows.append({"kind": "training", "name": name, "ref": "kiln-eager", "res": res})
            for s, st in res.items():
                sm = st.summary()
                log(f"  {LABEL[s]:14s} " + (f"{sm['median_ms']:.3f} ms" if sm else f"— {st.error}"))
    info["elapsed_s"] = round(time.time() - t_start)
    md = write_outputs(args.out, rows, limits, info)
    made = charts(args.out, rows, info)
    with open(os.path.join(args.out, "run.json"), "w") as f:
        json.dump({"info": info, "limits": limits,
                   "rows": [{**{k: v for k, v in r.items() if k != "res"},
                             "systems": {s: {"summary": st.summary(), "error": st.error,
                                             "rss_kib": st.rss_kib, "extra": st.extra,
                                             "round_medians_ms": st.round_medians}
                                         for s, st in r["res"].items()}} for r in rows]},
                  f, indent=1, default=str)
    print(md)
    print(f"\nwrote {os.path.join(args.out, 'results.md')}, results.csv, run.json"
          + "".join(f", {os.path.basename(p)}" for p in made)
          + f" in {info['elapsed_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
