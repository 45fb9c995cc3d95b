#!/usr/bin/env bash
# Compiled memory-bound kernels against the machine's triad bandwidth.
#
#   bench/compiled/fused_bandwidth.sh BUILD_DIR [RUNS]
#
# Compiles bench/compiled/graphs/memory_bound.mlir (each function fuses to
# one generated kernel over 64 MiB tensors), runs each with kiln-run
# --bench, and prints the bytes each must move (inputs read once, output
# written once) over the median time, beside the triad bandwidth that
# kiln-eager-bench --limits measures in the same run (a = b + s * c, three
# streams counted, as here only the streams a kernel must move are). Use a
# Release build.
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [RUNS]}
runs=${2:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/bin/kiln-compile" "$root/bench/compiled/graphs/memory_bound.mlir" \
    -o "$tmp/mb.kiln"
triad=$("$build/bin/kiln-eager-bench" --limits |
        sed -n 's/.*triad bandwidth[^0-9]*\([0-9.]*\) GB\/s.*/\1/p')
echo "triad bandwidth: $triad GB/s ($(nproc) cores, KILN_NUM_THREADS=${KILN_NUM_THREADS:-all})"
# function, MiB moved (each [4096,4096] or [16384,1024] f32 tensor is
# 64 MiB; the [4096] bias and the [1024] scales are negligible), over the
# median of Session::run (kiln-run --bench): the one kernel, plus the
# allocation of the output, which kiln-compile keeps out of the arena and
# run() hands over without a copy.
printf "%-20s %6s %11s %8s %9s\n" function MiB "median us" GB/s "of triad"
for row in fma_relu:256 bias_gelu_residual:192 softmax_rows:128 layer_norm_rows:128; do
  f=${row%%:*} mib=${row##*:}
  us=$("$build/bin/kiln-run" "$tmp/mb.kiln" --function "$f" --random-inputs 1 \
       --bench "$runs" | sed -n 's/.*median \([0-9.]*\) us.*/\1/p')
  awk -v f="$f" -v mib="$mib" -v us="$us" -v triad="$triad" 'BEGIN {
    gbs = mib * 1048576 / (us * 1e-6) / 1e9
    printf "%-20s %6d %11.0f %8.2f %8.0f%%\n", f, mib, us, gbs, 100 * gbs / triad }'
done
