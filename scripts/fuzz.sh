#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (build-fuzz/) and runs each for SECONDS (default
# 60) on its seed corpus and dictionary. Prints executions and coverage per target; exits 1 when any
# target crashed (the input is left in <build dir>/crashes/<target>/). Usage: scripts/fuzz.sh [SECONDS]
# Environment: FUZZ_TARGETS="fuzz_gguf fuzz_safetensors" runs only those; JOBS (default 2) builds;
# FUZZ_BUILD_DIR (default build-fuzz) is the build folder; FUZZ_NO_BUILD=1 runs the targets already
# built there (CI's clang sanitizer build, scripts/test.sh, builds them along with the tests);
# FUZZ_SEED=N makes every run replay libFuzzer's sequence from seed N (CI uses a fixed seed, so that
# a run finds the same inputs on every clean clone; see docs/reliability.md), random by default.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
jobs="${JOBS:-2}"
dir="${FUZZ_BUILD_DIR:-build-fuzz}"

if [ "${FUZZ_NO_BUILD:-0}" != "1" ]; then
  bash scripts/install-deps.sh --clang
  CC=clang CXX=clang++ cmake -S . -B "$dir" -DOPTIPFAIR_FUZZ=ON -DOPTIPFAIR_BUILD_TESTS=OFF \
    -DOPTIPFAIR_PYTHON=OFF -DOPTIPFAIR_MPI=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$dir" -j"$jobs" --target fuzz_all
fi

targets="${FUZZ_TARGETS:-$(cd fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')}"
status=0
printf '%-26s %12s %8s %8s  %s\n' target executions cov ft result
for t in $targets; do
  # The seeds stay read-only in fuzz/corpus; what libFuzzer adds goes to the build folder's corpus/.
  work="$dir/corpus/$t"; crashes="$dir/crashes/$t"; log="$dir/fuzz-$t.log"
  if [ ! -x "$dir/fuzz/$t" ]; then
    echo "fuzz.sh: $dir/fuzz/$t is not built" >&2
    exit 1
  fi
  mkdir -p "$work" "$crashes"
  dict=""
  case "$t" in
    fuzz_safetensors) dict=safetensors ;;
    fuzz_config_json) dict=config_json ;;
    fuzz_gguf) dict=gguf ;;
    fuzz_llama2c_checkpoint|fuzz_llama2c_tokenizer) dict=llama2c ;;
    fuzz_tokenizer_json) dict=tokenizer_json ;;
    fuzz_tokenizer_config) dict=tokenizer_config ;;
    fuzz_prompt_pairs) dict=prompt_pairs ;;
    fuzz_eval_data) dict=eval_data ;;
    fuzz_tokenizer_regex) dict=tokenizer_regex ;;
  esac
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=25
        -artifact_prefix="$crashes/" -print_final_stats=1)
  [ -n "$dict" ] && args+=(-dict="fuzz/dict/$dict.dict")
  [ -n "${FUZZ_SEED:-}" ] && args+=(-seed="$FUZZ_SEED")
  result=ok
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$dir/fuzz/$t" "${args[@]}" "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    result="CRASH (see $log, input in $crashes/)"
    status=1
    # CI keeps its output, not the build folder: the report has to be there.
    tail -n 60 "$log" >&2
  fi
  # A crash prints the final stats twice (at the crash and at exit): keep the last.
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || echo '?')
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo '?')
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo '?')
  printf '%-26s %12s %8s %8s  %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
exit $status
