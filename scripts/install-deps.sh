#!/usr/bin/env bash
# Installs the Debian 12 packages optipfair builds against (root, or sudo when available).
# --clang adds clang and its runtimes, for CI's sanitizer build and the fuzz targets
# (scripts/test.sh, scripts/fuzz.sh); the demo and the Release build do without them.
set -euo pipefail
with_clang=0
case "${1:-}" in
  "") ;;
  --clang) with_clang=1 ;;
  *) echo "usage: install-deps.sh [--clang]" >&2; exit 2 ;;
esac
packages=(
  build-essential cmake pkg-config
  nlohmann-json3-dev libsimdjson-dev libcli11-dev libpcre2-dev libsentencepiece-dev
  libcpp-httplib-dev libssl-dev libgtest-dev libcairo2-dev fonts-dejavu-core
  pybind11-dev python3-dev python3-numpy
  libopenmpi-dev openmpi-bin
)
# Installed without recommends. chromium is only for the test that opens the HTML report in a
# headless browser; without recommends it is about 25 packages (~350 MB) instead of 130.
lean_packages=(chromium)
# clang brings neither libFuzzer and the sanitizer runtimes (libclang-rt-14-dev) nor the OpenMP
# runtime and omp.h it compiles against (libomp-14-dev); llvm-14 holds the llvm-symbolizer-14 that
# the sanitizer runtime runs to put function names and lines in its reports. clang's recommended
# llvm-14-dev (270 MB installed) is for building against LLVM, which nothing here does.
if [ "$with_clang" = 1 ]; then
  lean_packages+=(clang libclang-rt-14-dev libomp-14-dev llvm-14)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
lean_missing=()
for p in "${lean_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || lean_missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && [ ${#lean_missing[@]} -eq 0 ]; then
  exit 0
fi
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
echo "Installing: ${missing[*]} ${lean_missing[*]}"
$sudo_cmd apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi
if [ ${#lean_missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${lean_missing[@]}"
fi
