#!/usr/bin/env bash
# Compiled (fusion, in-place planning, generated CPU kernels) against the
# op-by-op plan (--no-fusion --no-in-place) of the same graphs, same seeded
# weights and inputs, one run after the other on the same machine.
#
#   bench/compiled/compiled_vs_unfused.sh BUILD_DIR [RUNS] [GRAPH.mlir...]
#
# Prints one row per graph: median latencies of the compiled plan, of the
# same plan with --cpu=none (fused kernels op by op: what generated code
# replaces) and of the unfused plan, and the ratios to the compiled one
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
printf "%-20s %12s %12s %12s %9s %9s\n" graph "compiled us" "cpu=none us" \
    "unfused us" "none/cmp" "unf/cmp"
for g in "${graphs[@]}"; do
  name=$(basename "$g" .mlir)
  "$build/bin/kiln-compile" "$g" -o "$tmp/$name.kiln" --random-weights 1
  "$build/bin/kiln-compile" "$g" -o "$tmp/$name.none.kiln" --random-weights 1 \
      --cpu=none
  "$build/bin/kiln-compile" "$g" -o "$tmp/$name.unfused.kiln" --random-weights 1 \
      --no-fusion --no-in-place --cpu=none
  c=$("$build/bin/kiln-run" "$tmp/$name.kiln" --random-inputs 7 --bench "$runs" | median)
  n=$("$build/bin/kiln-run" "$tmp/$name.none.kiln" --random-inputs 7 --bench "$runs" | median)
  u=$("$build/bin/kiln-run" "$tmp/$name.unfused.kiln" --random-inputs 7 --bench "$runs" | median)
  printf "%-20s %12s %12s %12s %9s %9s\n" "$name" "$c" "$n" "$u" \
      "$(awk -v c="$c" -v n="$n" 'BEGIN { printf "%.2fx", n / c }')" \
      "$(awk -v c="$c" -v u="$u" 'BEGIN { printf "%.2fx", u / c }')"
done
