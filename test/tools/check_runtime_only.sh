#!/usr/bin/env bash
# Checks the runtime-only configuration end to end:
#  1. KILN_BUILD_COMPILER=OFF configures without looking for MLIR/LLVM,
#  2. builds the runtime and its unit tests, none of which link libMLIR or
#     libLLVM (ldd),
#  3. installs, and a separate host project finds it with find_package(Kiln),
#     builds against Kiln::Runtime and runs.
# usage: check_runtime_only.sh SOURCE_ROOT WORK_DIR
set -euo pipefail
src=$1
work=$2
rm -rf "$work"
mkdir -p "$work"

echo "== configure (KILN_BUILD_COMPILER=OFF)"
cmake -S "$src" -B "$work/build" -G Ninja -DKILN_BUILD_COMPILER=OFF \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$work/prefix" >"$work/configure.log"
if grep -E "^(MLIR|LLVM)_DIR:PATH=/" "$work/build/CMakeCache.txt"; then
  echo "FAIL: the runtime-only configuration looked up MLIR/LLVM"; exit 1
fi

echo "== build"
ninja -C "$work/build" -j2 >"$work/build.log" || { tail -50 "$work/build.log"; exit 1; }

echo "== ldd"
count=0
for f in "$work"/build/bin/*; do
  [ -x "$f" ] || continue
  count=$((count + 1))
  if ldd "$f" | grep -Ei "libMLIR|libLLVM"; then
    echo "FAIL: $f links MLIR/LLVM"; exit 1
  fi
done
echo "$count executables, none linking libMLIR/libLLVM"

echo "== install and build a host with find_package(Kiln)"
ninja -C "$work/build" install >"$work/install.log"
cmake -S "$src/examples/host" -B "$work/host" -G Ninja \
  -DKiln_DIR="$work/prefix/lib/cmake/Kiln" >"$work/host-configure.log"
ninja -C "$work/host" >"$work/host-build.log" || { cat "$work/host-build.log"; exit 1; }
out=$("$work/host/kiln-host-example" "$work/host/out.npy")
echo "$out"
if ldd "$work/host/kiln-host-example" | grep -Ei "libMLIR|libLLVM"; then
  echo "FAIL: the host links MLIR/LLVM"; exit 1
fi
# arange(6) as 2x3, transposed: first row is 0, 3.
echo "$out" | grep -Eq "0(\.0*)?, 3" || { echo "FAIL: unexpected host output"; exit 1; }
echo "runtime-only build: OK"
