#!/usr/bin/env bash
# Installs everything Kiln needs to build and test: packages from Debian's
# archive, and a git-ignored virtualenv (.venv) with the pinned Python peers
# from PyPI that tests compare against (onnx's node tests, onnxruntime,
# safetensors). PyTorch is large and only benchmarks and model exports need
# it: KILN_SETUP_TORCH=1 adds it; tests that need it skip without it.
# Idempotent: installs only what is missing, and does nothing (not even an
# `apt-get update`) when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache lld python3   # toolchain
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools  # LLVM/MLIR 19, lit, FileCheck
  libflatbuffers-dev flatbuffers-compiler                 # the .kiln format
  libgtest-dev                                            # unit tests
  libopenblas-dev libdnnl-dev                             # CPU GEMM / convolution
  libprotobuf-dev protobuf-compiler                       # the ONNX importer
  python3-sklearn python3-statsmodels                     # datasets the training examples read
  python3-venv                                            # the .venv below
)
root=$(cd "$(dirname "$0")/.." && pwd)

# Pinned PyPI peers (tests compare against them; bump deliberately).
venv_packages=(onnx==1.17.0 onnxruntime==1.32.0 safetensors==0.8.0 numpy)

setup_venv() {
  local venv="$root/.venv"
  local want=("${venv_packages[@]}")
  [ "${KILN_SETUP_TORCH:-0}" = 1 ] && want+=(torch)
  if [ -x "$venv/bin/python" ] &&
     "$venv/bin/python" - "${want[@]}" <<'PY' 2>/dev/null; then
import importlib.metadata as m, sys
for spec in sys.argv[1:]:
    name, _, version = spec.partition("==")
    if version and m.version(name) != version:
        sys.exit(1)
    if not version:
        m.version(name)
PY
    echo "setup: .venv has ${want[*]}"
    return 0
  fi
  echo "setup: creating .venv with ${want[*]}"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q "${want[@]}"
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
else
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Without PyPI (an offline machine) the tests that need these skip with a
# message; the build does not depend on them.
setup_venv || echo "setup: could not set up .venv (no PyPI?); Python-peer tests will skip"
