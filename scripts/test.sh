#!/usr/bin/env bash
# Builds Kiln with AddressSanitizer and UBSan and runs the whole test suite:
# GoogleTest units, the lit suite (kiln-opt + FileCheck), the sanitized
# kiln-opt run over every test input and corrupted copies, and the
# runtime-only build with its find_package(Kiln) host.
#
#   scripts/test.sh                 # build dir: build-test/
#   KILN_SANITIZE= scripts/test.sh  # without sanitizers
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

build=${KILN_TEST_BUILD_DIR:-$root/build-test}
sanitize=${KILN_SANITIZE-address,undefined}
jobs=${KILN_JOBS:-2}

cmake -S "$root" -B "$build" -G Ninja -DKILN_SANITIZE="$sanitize"
ninja -C "$build" -j"$jobs"
cd "$build"
ctest --output-on-failure -j"$jobs"
