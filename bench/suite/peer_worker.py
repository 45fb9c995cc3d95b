"""One peer system holding one prepared workload, timed on request.

    python peer_worker.py --system torch-eager|torch-compile|ort --dir W --threads N

suite.py starts one worker per peer and workload (a process each, so each
system's peak resident memory is its own) and drives them over stdin, so
the systems take turns within one workload (interleaved rounds):

  worker -> `ready {"max_abs_err": ..., "setup_s": ...}` after loading,
            warming up and checking its outputs against W/ref<k>.npy
            (|y - ref| <= atol + rtol |ref|); or `error <message>` and exit
            (a mismatch is an error: that system is never timed)
  suite  -> `run N`   worker -> `times <N latencies in us, space-separated>`
  suite  -> `quit`    worker -> `rss <peak resident KiB>` and exits

ONNX Runtime runs model.onnx (all graph optimizations, CPU provider,
intra-op threads N, inter-op 1, sequential). PyTorch loads the same
state_dict into the same definition (models.py) and runs under no_grad;
torch.compile is Inductor with its default mode.
"""
import argparse
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
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
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
    sess = ort.InferenceSession(os.path.join(workdir, "model.onnx"), so,
                                providers=["CPUExecutionProvider"])
    feeds = {i["name"]: np.load(os.path.join(workdir, f"in{k}.npy"))
             for k, i in enumerate(meta["inputs"])}
    return (lambda: sess.run(None, feeds)), meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--system", required=True,
                    choices=["torch-eager", "torch-compile", "ort"])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-4)
    args = ap.parse_args()
    t0 = time.perf_counter()
    try:
        import numpy as np
        if args.system == "ort":
            run, meta = load_ort(args.dir, args.threads)
        else:
            run, meta = load_torch(args.dir, args.threads, args.system == "torch-compile")
        outs = run()  # torch.compile compiles here
        for _ in range(max(0, args.warmup - 1)):
            run()
        worst = 0.0
        for k in range(meta["outputs"]):
            ref = np.load(os.path.join(args.dir, f"ref{k}.npy"))
            got = np.asarray(outs[k])
            if got.shape != ref.shape:
                reply(f"error output {k} has shape {got.shape}, reference {ref.shape}")
                return 1
            err = np.abs(got.astype(np.float64) - ref)
            excess = err - (args.atol + args.rtol * np.abs(ref))
            worst = max(worst, float(err.max(initial=0)))
            if excess.size and excess.max() > 0:
                i = int(excess.argmax())
                reply(f"error mismatch: output {k} element {i}: got "
                      f"{got.flat[i]:.7g}, reference {ref.flat[i]:.7g} "
                      f"(max abs error {err.max():.3g}; rtol {args.rtol}, atol {args.atol})")
                return 1
    except Exception as e:  # noqa: BLE001 - a failing peer is a result, not a crash
        msg = (str(e).strip().splitlines() or [""])[0]
        reply(f"error {type(e).__name__}: {msg}"[:400])
        return 1
    reply("ready " + json.dumps({"max_abs_err": worst,
                                 "setup_s": round(time.perf_counter() - t0, 2)}))
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "run":
            times = []
            for _ in range(int(cmd[1])):
                s = time.perf_counter_ns()
                run()
                times.append((time.perf_counter_ns() - s) / 1e3)
            reply("times " + " ".join(f"{t:.1f}" for t in times))
        elif cmd[0] == "quit":
            break
    reply(f"rss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
