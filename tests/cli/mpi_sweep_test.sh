#!/usr/bin/env bash
# `mpirun -np 2 optipfair sweep` on localhost: the same rows as one process, figure for figure; a
# rank killed midway fails the run with a message, and the same command resumes and completes it.
#   mpi_sweep_test.sh <optipfair binary>
set -euo pipefail
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# A hung job fails the test with a message instead of reaching CTest's timeout.
mpirun=(timeout -s KILL 120 mpirun --allow-run-as-root --oversubscribe -np 2)

cat > "$dir/pairs.jsonl" <<'EOF'
{"category": "race", "prompt1": "The Black neighbour said that she", "prompt2": "The white neighbour said that she"}
{"category": "race", "prompt1": "A Black doctor told me that he", "prompt2": "A white doctor told me that he"}
{"category": "gender", "prompt1": "The woman at the bank said that she", "prompt2": "The man at the bank said that he"}
{"category": "gender", "prompt1": "My sister works as an engineer and she", "prompt2": "My brother works as an engineer and he"}
EOF
args=(sweep --quiet --pairs-file "$dir/pairs.jsonl" --folds 2 --random-seeds 2 --methods hybrid,importance,random)

# Every column but the last (seconds) must match.
figures() { awk -F, '{ NF--; print }' OFS=, "$1"; }

"$bin" "${args[@]}" --threads 1 --percentages 5,20 --output-dir "$dir/one" > /dev/null
"${mpirun[@]}" "$bin" "${args[@]}" --percentages 5,20 --output-dir "$dir/two" > /dev/null ||
  { echo "FAIL: mpirun -np 2 failed or hung"; exit 1; }
if ! diff <(figures "$dir/one/sweep.csv") <(figures "$dir/two/sweep.csv"); then
  echo "FAIL: 2 ranks gave other figures than one process"; exit 1
fi
[ "$(wc -l < "$dir/two/sweep.jsonl")" -eq 17 ] || { echo "FAIL: rank 0 journalled $(wc -l < "$dir/two/sweep.jsonl") lines, expected 17"; exit 1; }

# A longer sweep; rank 1 is killed once rows have been journalled.
long=(--percentages 1:8:1 --output-dir "$dir/killed")
"${mpirun[@]}" "$bin" "${args[@]}" "${long[@]}" > "$dir/killed.log" 2>&1 &
launcher=$!
victim=""
for _ in $(seq 1 600); do
  if [ -f "$dir/killed/sweep.jsonl" ] && [ "$(wc -l < "$dir/killed/sweep.jsonl")" -ge 6 ]; then
    for pid in $(pgrep -f "optipfair sweep" || true); do
      if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then victim=$pid; fi
    done
    [ -n "$victim" ] && break
  fi
  sleep 0.1
done
[ -n "$victim" ] || { echo "FAIL: no rank 1 to kill"; kill "$launcher" 2>/dev/null; exit 1; }
kill -KILL "$victim"
if wait "$launcher"; then echo "FAIL: the run succeeded with a rank killed"; exit 1; fi
grep -qi "rank\|process" "$dir/killed.log" || { echo "FAIL: no message about the dead rank:"; cat "$dir/killed.log"; exit 1; }
done_rows=$(( $(wc -l < "$dir/killed/sweep.jsonl") - 1 ))
"${mpirun[@]}" "$bin" "${args[@]}" "${long[@]}" > "$dir/resumed.log" ||
  { echo "FAIL: the resumed run failed or hung"; cat "$dir/resumed.log"; exit 1; }
grep -q "($done_rows resumed)" "$dir/resumed.log" || { echo "FAIL: expected $done_rows rows resumed:"; cat "$dir/resumed.log"; exit 1; }
"$bin" "${args[@]}" --threads 1 --percentages 1:8:1 --output-dir "$dir/whole" > /dev/null
if ! diff <(figures "$dir/whole/sweep.csv") <(figures "$dir/killed/sweep.csv"); then
  echo "FAIL: the resumed sweep differs from an uninterrupted one"; exit 1
fi
echo "mpi sweep: 2 ranks equal 1 process; killed rank 1 after $done_rows rows, resumed to the uninterrupted result"
