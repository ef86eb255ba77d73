#!/usr/bin/env bash
# `mpirun -np 2 optipfair eval` on localhost: every rank scores a share of each task's requests,
# rank 0 writes the same results as one process, number for number; a rank killed midway fails the
# run with a message instead of leaving the other waiting.
#   mpi_eval_test.sh <optipfair binary> <data folder>
set -euo pipefail
bin=$1
data=${OPTIPFAIR_SHARED:+$OPTIPFAIR_SHARED/data}
data=${data:-$2}
# Without the shared data the tasks would go to the network: skipped (CTest's code 77).
[ -f "$data/boolq/val.jsonl" ] || { echo "skipped: no evaluation data at $data"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mpirun=(timeout -s KILL 120 mpirun --allow-run-as-root --oversubscribe -np 2)
args=(eval --quiet --tasks boolq,lambada_openai,arc_easy,crows_pairs_english,bbq,winobias --limit 12 --data-dir "$data")

# Every key but the timings must match.
results() { python3 -c '
import json, sys
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in ("task_seconds", "total_evaluation_time_seconds")}
    return [strip(v) for v in x] if isinstance(x, list) else x
print(json.dumps(strip(json.load(open(sys.argv[1]))), sort_keys=True, indent=1))' "$1"; }

"$bin" "${args[@]}" --threads 1 -o "$dir/one.json" > /dev/null
"${mpirun[@]}" "$bin" "${args[@]}" -o "$dir/two.json" > "$dir/two.log" ||
  { echo "FAIL: mpirun -np 2 failed or hung"; cat "$dir/two.log"; exit 1; }
if ! diff <(results "$dir/one.json") <(results "$dir/two.json"); then
  echo "FAIL: 2 ranks gave other results than one process"; exit 1
fi
[ "$(grep -c '^|boolq' "$dir/two.log")" -eq 1 ] || { echo "FAIL: the table was not printed once (rank 0 alone)"; cat "$dir/two.log"; exit 1; }

# Rank 1 dies at once (a model it cannot load): rank 0 must not wait for it forever.
if OPTIPFAIR_TEST_FAIL_RANK=1 "${mpirun[@]}" bash -c '
  if [ "$OMPI_COMM_WORLD_RANK" = "$OPTIPFAIR_TEST_FAIL_RANK" ]; then shift; exec "$0" "$@" --model-path /nonexistent/model; fi
  shift; exec "$0" "$@"' "$bin" x "${args[@]}" > "$dir/killed.log" 2>&1; then
  echo "FAIL: the run succeeded with a rank failing"; exit 1
fi
grep -q "rank 1 of 2" "$dir/killed.log" || { echo "FAIL: no message naming the failed rank:"; cat "$dir/killed.log"; exit 1; }
echo "mpi eval: 2 ranks equal 1 process; a failing rank ends the run with a message"
