#!/usr/bin/env bash
# Installs the Debian 12 packages optipfair builds against (root, or sudo when available).
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  nlohmann-json3-dev libcli11-dev libpcre2-dev libsentencepiece-dev
  libcpp-httplib-dev libssl-dev libgtest-dev libcairo2-dev fonts-dejavu-core
  pybind11-dev python3-dev python3-numpy
  libopenmpi-dev openmpi-bin
)
# Only for the test that opens the HTML report in a headless browser; without recommends it is
# about 25 packages (~350 MB) instead of 130.
lean_packages=(chromium)
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
