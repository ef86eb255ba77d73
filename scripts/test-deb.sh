#!/usr/bin/env bash
# Builds the Debian package from a Release build ($1, default build), installs it with dpkg, runs
# /usr/bin/optipfair fair-prune on the bundled demo model from outside the source tree, and removes
# the package again. Needs root (or sudo); CI runs it from scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo_cmd="sudo"; else
    echo "test-deb: skipped (needs root or passwordless sudo to install a package)"; exit 0
  fi
fi
if dpkg -s optipfair >/dev/null 2>&1; then
  echo "test-deb: an optipfair package is already installed; refusing to replace it"; exit 1
fi
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls -t "$build"/optipfair_*.deb | head -n 1)
echo "test-deb: $deb ($(du -h "$deb" | cut -f1)); depends: $(dpkg-deb -f "$deb" Depends)"
work=$(mktemp -d)
cleanup() { $sudo_cmd dpkg -r optipfair >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
$sudo_cmd dpkg -i "$deb" >/dev/null
[ -x /usr/bin/optipfair ] || { echo "FAIL: /usr/bin/optipfair missing after dpkg -i"; exit 1; }
out=$(cd "$work" && env -i PATH=/usr/bin:/bin /usr/bin/optipfair fair-prune --no-generate --quiet --json \
        --output-dir "$work/report")
printf '%s' "$out" | grep -q '"model": "/usr/share/optipfair/models/demo"' \
  || { echo "FAIL: the packaged binary did not use /usr/share/optipfair: $(printf '%s' "$out" | head -n 3)"; exit 1; }
[ -s "$work/report/report.html" ] || { echo "FAIL: no report.html"; exit 1; }
echo "test-deb: passed ($(/usr/bin/optipfair --version | head -n 1))"
