#!/usr/bin/env bash
# Set up, build and run the whole test suite with GCC, then again built with clang under
# AddressSanitizer + UBSan, then each libFuzzer target of that build for a short while.
# Environment: OPTIPFAIR_SKIP_SANITIZERS=1 stops after the GCC build; OPTIPFAIR_CI_FUZZ_SECONDS
# (default 20, 0 skips) is how long each fuzz target runs, OPTIPFAIR_CI_FUZZ_SEED (default 1) the
# libFuzzer seed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --clang
jobs=$(nproc)
bash scripts/build.sh build
(cd build && ctest --output-on-failure -j"$jobs")
# The Debian package from that build: dpkg -i, /usr/bin/optipfair fair-prune, dpkg -r.
bash scripts/test-deb.sh build
if [ "${OPTIPFAIR_SKIP_SANITIZERS:-0}" != "1" ]; then
  # clang here, so that CI compiles the tree with both compilers (and their warnings) while building
  # it only twice, and so that the same build holds the fuzz targets (libFuzzer is clang's). The
  # benchmarks are built (and so checked) by the Release build above; they never run here.
  CC=clang CXX=clang++ bash scripts/build.sh build-clang-asan -DOPTIPFAIR_SANITIZE=ON -DOPTIPFAIR_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPTIPFAIR_BUILD_BENCH=OFF
  (cd build-clang-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$jobs" -LE slow)
  fuzz_seconds="${OPTIPFAIR_CI_FUZZ_SECONDS:-20}"
  if [ "$fuzz_seconds" != "0" ]; then
    # From the seeds in fuzz/corpus; what the runs add stays in build-clang-asan/corpus. A fixed seed:
    # a random one would let an unlucky clean clone find a new input that no change of its own caused;
    # new inputs are the job of the long runs (scripts/fuzz.sh 600), which draw a random seed.
    FUZZ_SEED="${OPTIPFAIR_CI_FUZZ_SEED:-1}" FUZZ_BUILD_DIR=build-clang-asan FUZZ_NO_BUILD=1 \
      bash scripts/fuzz.sh "$fuzz_seconds"
  fi
fi
