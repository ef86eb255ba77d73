#!/usr/bin/env bash
# Set up, build and run the whole test suite, then again under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
bash scripts/build.sh build
(cd build && ctest --output-on-failure -j"$jobs")
# The Debian package from that build: dpkg -i, /usr/bin/optipfair fair-prune, dpkg -r.
bash scripts/test-deb.sh build
if [ "${OPTIPFAIR_SKIP_SANITIZERS:-0}" != "1" ]; then
  # The benchmarks are built (and so checked) by the Release build above; they never run here.
  bash scripts/build.sh build-asan -DOPTIPFAIR_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPTIPFAIR_BUILD_BENCH=OFF
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$jobs" -LE slow)
fi
