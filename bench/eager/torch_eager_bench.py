"""PyTorch side of kiln-eager-bench: the same cases, the same thread count.

Prints one table in the format of KilnEagerBench.cpp. Needs `torch` (CPU
build from PyPI); says so and exits 0 when it is missing.
"""
import argparse
import statistics
import sys
import time


def median_seconds(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("PyTorch eager: not installed (pip install torch) - no comparison")
        return 0
    torch.set_num_threads(args.threads)
    reps = 5 if args.quick else 21
    print(f"PyTorch {torch.__version__} eager: {torch.get_num_threads()} threads")
    a = torch.ones(1)
    b = torch.ones(1)
    n = 20000 if args.quick else 200000
    t = median_seconds(lambda: [torch.add(a, b) for _ in range(n)], 5)
    print(f"  {'dispatch overhead: 1-element add':44s} {t / n * 1e6:10.2f} us/op")
    n = 1 << 24
    a, b, c = (torch.rand(n) * 2 - 1 for _ in range(3))
    t = median_seconds(lambda: torch.add(a, b), 3 if args.quick else 9)
    print(f"  {'add f32 [16M] (3 streams)':44s} {12.0 * n / t / 1e9:10.2f} GB/s")
    t = median_seconds(lambda: torch.relu(a * b + c), 3 if args.quick else 9)
    print(f"  {'relu(a*b+c) f32 [16M] (8 streams)':44s} {32.0 * n / t / 1e9:10.2f} GB/s")
    print("  GEMM f32 GFLOP/s")
    for m, k, nn in [(128, 128, 128), (512, 512, 512), (1024, 1024, 1024),
                     (1, 768, 768), (1, 768, 3072), (32, 768, 768),
                     (32, 768, 3072), (128, 768, 768), (128, 768, 3072)]:
        x = torch.rand(m, k)
        y = torch.rand(k, nn)
        t = median_seconds(lambda: torch.matmul(x, y), reps)
        print(f"    M={m:<5d} K={k:<5d} N={nn:<5d}             {2.0 * m * k * nn / t / 1e9:7.1f}")
    x = torch.rand(1, 64, 56, 56)
    w = torch.rand(64, 64, 3, 3)
    t = median_seconds(lambda: torch.nn.functional.conv2d(x, w, padding=1), reps)
    print(f"  {'conv2d 3x3 64->64 56x56':44s} {2.0 * 64 * 64 * 9 * 56 * 56 / t / 1e9:10.2f} GFLOP/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
