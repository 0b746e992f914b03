#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bootstrap.sh: the two README commands of qsnn, for a fresh Debian 12 machine (run as root, or with sudo).
#
#   bash scripts/bootstrap.sh tutorial [ARGS...]   install packages, build, run `qsnn tutorial ARGS...`
#   bash scripts/bootstrap.sh test                 install packages, build (-Werror), run the tests, run the
#                                                  kernels' tests again on the scalar path (QSNN_FORCE_SCALAR=1),
#                                                  build the FFTW backend (-DQSNN_FFTW=ON) and run the front
#                                                  ends' tests with it, then build with ASan/UBSan and run the
#                                                  tests again, then run every fuzz target for a bounded time
#                                                  (scripts/fuzz.sh)
#   bash scripts/bootstrap.sh build                install packages and build only
#
# Packages come from Debian's archive only. Builds go to build/ (release), build-fftw/ (the FFTW backend) and
# build-asan/ (sanitizers).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
mode=${1:-tutorial}
shift || true

# Build tools and the libraries qsnn uses (see README "Dependencies").
pkgs=(build-essential cmake pkg-config libsndfile1-dev libkissfft-dev libfftw3-dev libcjson-dev libcairo2-dev
      libsamplerate0-dev nettle-dev libespeak-ng-dev espeak-ng-data flite1-dev libopenblas-dev libcmocka-dev
      help2man)  # help2man: the man pages (the build skips them without it)
# The tests also build examples/mcu for a Cortex-M4 and run it in QEMU (tests/test_convert.c, and the engine's
# size checks with a 32-bit size_t in tests/test_hostile.c), compile the exported header with arm-none-eabi-g++
# (tests/test_export.c; gcc-arm-none-eabi has it) and g++ (build-essential), and install the build to a temporary
# prefix to build C and C++ consumers against it (tests/consumers/run.sh: cmake, pkg-config); the fuzz targets
# need clang (libFuzzer) and its OpenMP runtime.
if [ "$mode" = test ]; then
  pkgs+=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm clang libomp-dev)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

jobs=$(nproc 2>/dev/null || echo 2)
build() { # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$dir" -j "$jobs" >/dev/null
}

case "$mode" in
  tutorial)
    build build
    exec ./build/qsnn tutorial "$@"
    ;;
  build)
    build build
    echo "bootstrap: built ./build/qsnn" >&2
    ;;
  test)
    build build -DQSNN_WERROR=ON
    (cd build && ctest --output-on-failure -j "$jobs")
    # the same binaries with the AVX2 kernels switched off (what a CPU without AVX2 runs: qsnn/simd.h); the tests
    # of the modules with kernels only, to keep it short (~30 s)
    echo "bootstrap: release tests passed; now the kernels' tests on the scalar path" >&2
    (cd build && QSNN_FORCE_SCALAR=1 ctest --output-on-failure -j "$jobs" \
      -R '^test_(core|quant|nn_grad|infer|model|train|snn|mfcc|frontend|spotter)$')
    echo "bootstrap: scalar-path tests passed; now the front ends with the FFTW backend" >&2
    cmake -S . -B build-fftw -DCMAKE_BUILD_TYPE=Release -DQSNN_WERROR=ON -DQSNN_FFTW=ON >/dev/null
    cmake --build build-fftw -j "$jobs" --target qsnn test_mfcc test_frontend test_import >/dev/null
    (cd build-fftw && ctest --output-on-failure -j "$jobs" -R '^test_(mfcc|frontend|import)$')
    echo "bootstrap: FFTW front-end tests passed; now the same tests under ASan/UBSan" >&2
    build build-asan -DQSNN_WERROR=ON -DQSNN_SANITIZE=ON
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$jobs")
    echo "bootstrap: sanitizer tests passed; now each fuzz target for ${QSNN_FUZZ_SECONDS:-20} s" >&2
    bash scripts/fuzz.sh "${QSNN_FUZZ_SECONDS:-20}"
    ;;
  *)
    echo "usage: bash scripts/bootstrap.sh tutorial|test|build" >&2
    exit 2
    ;;
esac
