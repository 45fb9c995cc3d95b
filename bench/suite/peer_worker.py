"""One peer system holding one prepared workload, timed on request.

    python peer_worker.py --system torch-eager|torch-compile|ort --threads N

suite.py starts one worker per peer (a process each, so each system's
resident memory is its own; importing torch once per run, not once per
workload, is what keeps --quick within minutes here) and drives it over
stdin, so the systems take turns within a workload (interleaved rounds):

  worker -> `started` once the runtime is imported (or `error ...`, exit)
  suite  -> `load W`  worker -> `ready {"max_abs_err": ..., "first_call_s": ...}`
            after loading workload W (models.py prepare), warming up and
            checking its outputs against W/ref<k>.npy
            (|y - ref| <= atol + rtol |ref|); or `error <message>` (a
            mismatch is an error: that system is not timed on W)
  suite  -> `run N`   worker -> `times <N latencies in us, space-separated>`
  suite  -> `rss`     worker -> `rss <KiB>`: peak resident set since `load`
  suite  -> `quit`

ONNX Runtime runs model.onnx (all graph optimizations, CPU provider,
intra-op threads N, inter-op 1, sequential). PyTorch loads the same
state_dict into the same definition (models.py) and runs under no_grad;
torch.compile is Inductor with its default mode.
"""
import argparse
import gc
import json
import os
import resource
import sys
import time


def reply(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def load_torch(workdir, threads, compiled):
    import numpy as np
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import models
    with open(os.path.join(workdir, "meta.json")) as f:
        meta = json.load(f)
    model = models.build(meta["model"]).eval()
    model.load_state_dict(torch.load(os.path.join(workdir, "state.pt")))
    inputs = [torch.from_numpy(np.load(os.path.join(workdir, f"in{k}.npy")))
              for k in range(len(meta["inputs"]))]
    fn = torch.compile(model) if compiled else model

    def run():
        with torch.no_grad():
            out = fn(*inputs)
        out = out if isinstance(out, (tuple, list)) else (out,)
        return [o.numpy() for o in out]
    return run, meta


def load_ort(workdir, threads):
    import numpy as np
    import onnxruntime as ort
    with open(os.path.join(workdir, "meta.json")) as f:
        meta = json.load(f)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if os.environ.get("KILN_BENCH_ORT_NO_SPIN") == "1":  # suite.py --wait-policy
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(os.path.join(workdir, "model.onnx"), so,
                                providers=["CPUExecutionProvider"])
    feeds = {i["name"]: np.load(os.path.join(workdir, f"in{k}.npy"))
             for k, i in enumerate(meta["inputs"])}
    return (lambda: sess.run(None, feeds)), meta


def peak_rss_kib():
    """VmHWM of this process (reset by reset_peak_rss), else ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak_rss():
    # Linux >= 4.0: writing 5 to clear_refs resets the peak resident set to
    # the current one, so each workload's peak is its own (plus what the
    # process already holds: the interpreter and the imported runtime).
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def load_and_check(args, workdir):
    """Returns (run, reply line)."""
    import numpy as np
    if args.system == "ort":
        run, meta = load_ort(workdir, args.threads)
    else:
        run, meta = load_torch(workdir, args.threads, args.system == "torch-compile")
    t0 = time.perf_counter()
    outs = run()  # torch.compile compiles here
    first_s = time.perf_counter() - t0
    for _ in range(max(0, args.warmup - 1)):
        run()
    worst = 0.0
    for k in range(meta["outputs"]):
        ref = np.load(os.path.join(workdir, f"ref{k}.npy"))
        got = np.asarray(outs[k])
        if got.shape != ref.shape:
            return None, f"error output {k} has shape {got.shape}, reference {ref.shape}"
        err = np.abs(got.astype(np.float64) - ref)
        excess = err - (args.atol + args.rtol * np.abs(ref))
        worst = max(worst, float(err.max(initial=0)))
        if excess.size and excess.max() > 0:
            i = int(excess.argmax())
            return None, (f"error mismatch: output {k} element {i}: got "
                          f"{got.flat[i]:.7g}, reference {ref.flat[i]:.7g} "
                          f"(max abs error {err.max():.3g}; rtol {args.rtol}, "
                          f"atol {args.atol})")
    return run, "ready " + json.dumps({"max_abs_err": worst,
                                       "first_call_s": round(first_s, 2)})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--system", required=True,
                    choices=["torch-eager", "torch-compile", "ort"])
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-4)
    args = ap.parse_args()
    run = None
    try:  # the runtime itself, once (seconds for torch here)
        if args.system == "ort":
            import onnxruntime  # noqa: F401
        else:
            import torch
            torch.set_num_threads(args.threads)
            torch.set_num_interop_threads(1)  # once: torch refuses a second call
        import numpy  # noqa: F401
    except Exception as e:  # noqa: BLE001
        reply(f"error {type(e).__name__}: {e}"[:400])
        return 1
    reply("started")
    for line in sys.stdin:
        cmd = line.split(maxsplit=1)
        if not cmd:
            continue
        if cmd[0] == "load":
            run = None
            gc.collect()
            if args.system == "torch-compile":
                import torch
                torch._dynamo.reset()
            reset_peak_rss()
            try:
                run, msg = load_and_check(args, cmd[1].strip())
            except Exception as e:  # noqa: BLE001 - a failing peer is a result
                run, msg = None, (f"error {type(e).__name__}: "
                                  f"{(str(e).strip().splitlines() or [''])[0]}")[:400]
            reply(msg)
        elif cmd[0] == "run" and run is not None:
            times = []
            for _ in range(int(cmd[1])):
                s = time.perf_counter_ns()
                run()
                times.append((time.perf_counter_ns() - s) / 1e3)
            reply("times " + " ".join(f"{t:.1f}" for t in times))
        elif cmd[0] == "run":
            reply("error no model loaded")
        elif cmd[0] == "rss":
            reply(f"rss {peak_rss_kib()}")
        elif cmd[0] == "quit":
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
