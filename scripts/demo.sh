#!/usr/bin/env bash
# The main job on the bundled demo model: set up, build, then the fairness-pruning report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Only the command and the libraries it links: the tests and benchmarks are not needed here.
OPTIPFAIR_BUILD_TARGET=optipfair bash scripts/build.sh build
bin=build/src/cli/optipfair
out=${OPTIPFAIR_DEMO_OUT:-demo-output}
echo "== optipfair analyze (bundled demo model) =="
$bin analyze
echo
echo "== optipfair fair-prune: default prompt pairs, the seed's 0.2 % of MLP neurons, before/after report =="
$bin fair-prune --output-dir "$out/fair-prune" --output-path "$out/demo-fair-pruned"
echo
echo "== optipfair sweep: is the reduction real? Held-out folds, against random and importance pruning of the same size =="
$bin sweep --percentages 1,5,10 --random-seeds 3 --output-dir "$out/sweep"
echo
echo "Open $out/fair-prune/report.html for the plots, the metrics and the continuations side by side,"
echo "and $out/sweep/report.html for the trade-off between held-out bias reduction and capability."
