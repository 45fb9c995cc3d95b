#!/usr/bin/env bash
# Installs everything Kiln needs to build and test, from Debian's archive.
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
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
