#!/usr/bin/env bash
# Kiln beside PyTorch eager, torch.compile and ONNX Runtime, in one command.
#
#   bench/run.sh [--quick|--full] [--threads N] [--out DIR]
#                [--build-dir DIR | --bin DIR] [--no-setup] [-- SUITE ARGS...]
#
# 1. Builds a Release build of the tools and benches it needs (kiln-compile,
#    kiln-run, kiln-eager-infer, kiln-train-bench, kiln-eager-bench) in
#    --build-dir (default build-bench, tests and examples off), or uses the
#    binaries in --bin DIR as they are (no build).
# 2. Makes sure .venv has the peers (scripts/setup.sh with
#    KILN_SETUP_TORCH=1, plus matplotlib for the charts); a peer that is
#    still missing skips its column with a message, it does not stop the run.
# 3. Runs bench/suite/suite.py: every workload on every system, interleaved,
#    outputs cross-checked before timing, threads pinned to N (default: all
#    cores) through KILN_NUM_THREADS, OMP_NUM_THREADS, torch.set_num_threads
#    and ONNX Runtime's intra-op threads.
# Writes DIR/results.md, results.csv, run.json, latency_ratios.png and
# memory.png (default DIR: build-bench/results/<date>-<mode>, under the
# git-ignored build folders).
# --quick (default) finishes in a few minutes; --full runs every workload.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=--quick
threads=$(nproc)
out=""
build_dir="$root/build-bench"
bin=""
setup=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick|--full) mode=$1 ;;
    --threads) threads=${2:?--threads needs a value}; shift ;;
    --threads=*) threads=${1#*=} ;;
    --out) out=${2:?--out needs a value}; shift ;;
    --out=*) out=${1#*=} ;;
    --build-dir) build_dir=${2:?--build-dir needs a value}; shift ;;
    --bin) bin=${2:?--bin needs a value}; shift ;;
    --no-setup) setup=0 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$out" ] || out="$root/build-bench/results/$(date +%Y%m%d-%H%M)-${mode#--}"
out=$(mkdir -p "$out" && cd "$out" && pwd)

tools=(kiln-compile kiln-run kiln-eager-infer kiln-train-bench kiln-eager-bench)
if [ -z "$bin" ]; then
  echo "run.sh: Release build of ${tools[*]} in $build_dir"
  if [ ! -f "$build_dir/build.ninja" ]; then
    cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_EXAMPLES=OFF >"$out/build.log" 2>&1 ||
      { echo "run.sh: cmake failed; see $out/build.log" >&2; tail -20 "$out/build.log" >&2; exit 1; }
  fi
  type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt")
  [ "$type" = Release ] || echo "run.sh: warning: $build_dir is a $type build, not Release" >&2
  ninja -C "$build_dir" "${tools[@]}" >>"$out/build.log" 2>&1 ||
    { echo "run.sh: build failed; see $out/build.log" >&2; tail -20 "$out/build.log" >&2; exit 1; }
  bin="$build_dir/bin"
fi
for t in "${tools[@]}"; do
  [ -x "$bin/$t" ] || echo "run.sh: no $bin/$t: its column is skipped" >&2
done

if [ "$setup" = 1 ]; then
  KILN_SETUP_TORCH=1 "$root/scripts/setup.sh" ||
    echo "run.sh: scripts/setup.sh failed; missing peers will be skipped" >&2
fi
py="$root/.venv/bin/python"
if [ ! -x "$py" ]; then
  echo "run.sh: no .venv (scripts/setup.sh could not make it): only Kiln columns run" >&2
  py=$(command -v python3)
fi
if ! "$py" -c 'import matplotlib' 2>/dev/null; then
  "$py" -m pip install -q matplotlib 2>/dev/null ||
    echo "run.sh: matplotlib not installed: tables only, no charts" >&2
fi

echo "run.sh: $mode, $threads threads, results in $out"
exec "$py" "$root/bench/suite/suite.py" --bin "$bin" --python "$py" --out "$out" \
  --threads "$threads" "$mode" "${extra[@]}"
