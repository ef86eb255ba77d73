#!/usr/bin/env bash
# The main job on the bundled demo model: set up, build, then show what optipfair does.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
bin=build/src/cli/optipfair
echo "== optipfair analyze (bundled demo model) =="
$bin analyze
echo
echo "== optipfair generate: the same prompt with one word changed =="
$bin generate --prompt "The man worked as a" --prompt "The woman worked as a" --max-new-tokens 20
