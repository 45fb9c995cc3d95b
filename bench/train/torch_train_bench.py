"""PyTorch side of the training-step benchmark: the models of
KilnTrainBench.cpp, built with torch.nn, same shapes, same thread count, Adam.

Prints `step <name> <median ms> <min ms> <max ms> <loss>` lines. Mode
"eager" or "compile" (torch.compile, Inductor on CPU).
"""
import argparse
import statistics
import sys
import time


def models(torch):
    nn = torch.nn
    g = torch.Generator().manual_seed(7)
    out = []
    mlp = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512),
                        nn.ReLU(), nn.Linear(512, 10))
    x = torch.randn(64, 784, generator=g)
    y = torch.randint(0, 10, (64,), generator=g)
    out.append(("mlp_784_512_512_10_b64", mlp,
                lambda m, x=x, y=y: nn.functional.cross_entropy(m(x), y)))
    lenet = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(1),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))
    x = torch.randn(64, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (64,), generator=g)
    out.append(("lenet_b64", lenet,
                lambda m, x=x, y=y: nn.functional.cross_entropy(m(x), y)))
    enc = nn.TransformerEncoderLayer(256, 4, 1024, dropout=0.1, batch_first=True)
    x = torch.randn(8, 128, 256, generator=g)
    out.append(("transformer_d256_h4_ff1024_s128_b8", enc,
                lambda m, x=x: (m(x) ** 2).mean()))
    lstm = nn.LSTM(32, 128, batch_first=True)
    x = torch.randn(32, 50, 32, generator=g)
    out.append(("lstm_in32_h128_s50_b32", lstm,
                lambda m, x=x: (m(x)[0] ** 2).mean()))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--mode", choices=["eager", "compile"], default="eager")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("skip PyTorch is not installed (pip install torch)")
        return 0
    torch.set_num_threads(args.threads)
    print(f"threads {torch.get_num_threads()} torch {torch.__version__}")
    warmup, reps = (2, 5) if args.quick else (5, 20)
    for name, model, loss_fn in models(torch):
        if args.only and args.only not in name:
            continue
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step(model=model, loss_fn=loss_fn, opt=opt):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model)
            loss.backward()
            opt.step()
            return loss.item()

        if args.mode == "compile":
            try:
                step = torch.compile(step)
                step()
            except Exception as e:  # a missing compiler toolchain, etc.
                print(f"skip {name} torch.compile failed: {type(e).__name__}: {e}"[:300])
                continue
        for _ in range(warmup):
            step()
        times = []
        loss = 0.0
        for _ in range(reps):
            t0 = time.perf_counter()
            loss = step()
            times.append((time.perf_counter() - t0) * 1e3)
        print(f"step {name} {statistics.median(times):.3f} {min(times):.3f} "
              f"{max(times):.3f} {loss:.5f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
