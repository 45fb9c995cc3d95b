#!/usr/bin/env bash
# The main job on a shipped example: builds the tools (release, build/),
# then parses, verifies and optimizes examples/mlp.mlir with kiln-opt and
# prints the result.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

build=${KILN_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" -j"${KILN_JOBS:-2}" kiln-opt

model=${1:-$root/examples/mlp.mlir}
echo "== $model, canonicalized (folds, identities) and CSE'd (shared weights) =="
"$build/bin/kiln-opt" "$model" --canonicalize --cse
