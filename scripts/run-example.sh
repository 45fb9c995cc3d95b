#!/usr/bin/env bash
# The main job on a shipped example model (examples/mlp.mlir, a small text
# classifier): builds the tools (release, build/), shows what the compiler
# does to the graph, compiles it to a .kiln file, runs it and prints the
# result, then times it compiled (fused, memory-planned) against the same
# graph run op by op (the eager order).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

build=${KILN_BUILD_DIR:-$root/build-release}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_BUILD_TESTS=OFF >/dev/null
ninja -C "$build" -j"${KILN_JOBS:-2}" kiln-opt kiln-compile kiln-run

model=${1:-$root/examples/mlp.mlir}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=$build/bin

echo "== 1. the graph after the compile pipeline (kiln-opt --kiln-pipeline)"
"$bin/kiln-opt" "$model" --kiln-pipeline="report=true" --mlir-print-op-on-diagnostic=false

echo "== 2. compile to .kiln (seeded random weights)"
"$bin/kiln-compile" "$model" -o "$work/model.kiln" --random-weights 1 --report
"$bin/kiln-compile" "$model" -o "$work/eager.kiln" --random-weights 1 --no-fusion --no-in-place

echo "== 3. run it (seeded random inputs), compiled vs. op by op"
mkdir -p "$work/eager"
"$bin/kiln-run" "$work/eager.kiln" --random-inputs 7 --output-dir "$work/eager" --bench 200 \
  | sed 's/^latency/op by op: latency/'
compare=()
for f in "$work"/eager/output*.npy; do compare+=(--compare "$f"); done
"$bin/kiln-run" "$work/model.kiln" --random-inputs 7 "${compare[@]}" --bench 200 \
  | sed 's/^latency/compiled: latency/'
