#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (build-fuzz/) and runs each for SECONDS (default
# 60) on its seed corpus and dictionary. Prints executions and coverage per target; exits 1 when any
# target crashed (the input is left in build-fuzz/crashes/<target>/). Usage: scripts/fuzz.sh [SECONDS]
# Environment: FUZZ_TARGETS="fuzz_gguf fuzz_safetensors" runs only those; JOBS (default 2) builds.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
jobs="${JOBS:-2}"

# clang alone is not enough: libFuzzer and the sanitizer runtimes come in libclang-rt-14-dev.
probe='extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }'
probe_out="$(mktemp)"
if ! command -v clang++ >/dev/null ||
   ! echo "$probe" | clang++ -x c++ -fsanitize=fuzzer,address,undefined - -o "$probe_out" 2>/dev/null; then
  echo "fuzz.sh: installing clang and its libFuzzer runtime" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y clang libclang-rt-14-dev
fi
rm -f "$probe_out"

CC=clang CXX=clang++ cmake -S . -B build-fuzz -DOPTIPFAIR_FUZZ=ON -DOPTIPFAIR_BUILD_TESTS=OFF \
  -DOPTIPFAIR_PYTHON=OFF -DOPTIPFAIR_MPI=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_all

targets="${FUZZ_TARGETS:-$(cd fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')}"
status=0
printf '%-26s %12s %8s %8s  %s\n' target executions cov ft result
for t in $targets; do
  # The seeds stay read-only in fuzz/corpus; what libFuzzer adds goes to build-fuzz/corpus.
  work="build-fuzz/corpus/$t"; crashes="build-fuzz/crashes/$t"; log="build-fuzz/fuzz-$t.log"
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
  esac
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=25
        -artifact_prefix="$crashes/" -print_final_stats=1)
  [ -n "$dict" ] && args+=(-dict="fuzz/dict/$dict.dict")
  result=ok
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "build-fuzz/fuzz/$t" "${args[@]}" "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    result="CRASH (see $log, input in $crashes/)"
    status=1
  fi
  # A crash prints the final stats twice (at the crash and at exit): keep the last.
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || echo '?')
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo '?')
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo '?')
  printf '%-26s %12s %8s %8s  %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
exit $status
