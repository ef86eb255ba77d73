#!/usr/bin/env bash
# Configures and builds into $1 (default: build) with extra CMake arguments after it;
# $OPTIPFAIR_BUILD_TARGET builds one target (and what it needs) instead of everything.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
if [ -n "${OPTIPFAIR_BUILD_TARGET:-}" ]; then
  cmake --build "$dir" -j"$(nproc)" --target "$OPTIPFAIR_BUILD_TARGET"
else
  cmake --build "$dir" -j"$(nproc)"
fi
