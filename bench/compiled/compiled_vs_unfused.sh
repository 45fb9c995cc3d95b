#!/usr/bin/env bash
# Compiled (fusion, in-place planning, generated CPU kernels) against the
# op-by-op plan (--no-fusion --no-in-place) of the same graphs, same seeded
# weights and inputs, one run after the other on the same machine.
#
#   bench/compiled/compiled_vs_unfused.sh BUILD_DIR [RUNS] [GRAPH.mlir...]
#
# Prints one row per graph: median latencies and unfused/compiled ratio
# (> 1: compiled is faster). Use a Release build; a sanitized build times
# the sanitizer.
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [RUNS] [GRAPH.mlir...]}
runs=${2:-200}
shift $(( $# >= 2 ? 2 : 1 ))
root=$(cd "$(dirname "$0")/../.." && pwd)
graphs=("$@")
if [ ${#graphs[@]} -eq 0 ]; then
  graphs=("$root/test/e2e/transformer_block.mlir" "$root/test/e2e/lstm.mlir"
          "$root/examples/mlp.mlir")
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sed -n 's/.*median \([0-9.]*\) us.*/\1/p'; }
printf "%-24s %14s %14s %8s\n" graph "compiled us" "unfused us" ratio
for g in "${graphs[@]}"; do
  name=$(basename "$g" .mlir)
  "$build/bin/kiln-compile" "$g" -o "$tmp/$name.kiln" --random-weights 1
  "$build/bin/kiln-compile" "$g" -o "$tmp/$name.unfused.kiln" --random-weights 1 \
      --no-fusion --no-in-place
  c=$("$build/bin/kiln-run" "$tmp/$name.kiln" --random-inputs 7 --bench "$runs" | median)
  u=$("$build/bin/kiln-run" "$tmp/$name.unfused.kiln" --random-inputs 7 --bench "$runs" | median)
  printf "%-24s %14s %14s %8s\n" "$name" "$c" "$u" \
      "$(awk -v c="$c" -v u="$u" 'BEGIN { printf "%.2fx", u / c }')"
done
