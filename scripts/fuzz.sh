#!/usr/bin/env bash
# Runs the libFuzzer targets built in a fuzz build directory (`make fuzz`, docs/testing.md):
#   scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]     (no TARGET: every tests/fuzz/fuzz_*.c)
# Each target starts from its committed seeds (tests/fuzz/corpus/<target>/) and keeps what it finds in
# BUILD_DIR/fuzz-corpus/<target>/ (not committed; kept between runs). A crash, leak, sanitizer report, timeout
# or broken invariant leaves its input in BUILD_DIR/fuzz-artifacts/ and fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: fuzz.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do t=$(basename "$f" .c); targets+=("${t#fuzz_}"); done
fi
mkdir -p "$build/fuzz-artifacts"
failed=()
for t in "${targets[@]}"; do
  bin="$build/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz: $bin not built"; failed+=("$t"); continue; }
  work="$build/fuzz-corpus/$t"
  mkdir -p "$work"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  # The longest input worth trying: past it a parser only does more of the same, and each run gets slower.
  case $t in
    cron|duration) max_len=1024 ;;
    encoding|delivery|cel) max_len=4096 ;;
    http_api|grpc_methods|grpc_frames) max_len=65536 ;; # request heads up to the 64 KiB header limit
    *) max_len=16384 ;;
  esac
  log="$build/fuzz-artifacts/$t.log"
  echo "fuzz: $t for ${seconds}s (log: $log)"
  # -timeout: one input may take at most 10 s (a hang is a finding); -rss_limit_mb: the daemon's memory bound.
  # quarantine_size_mb: ASan keeps the last 64 MiB freed (hundreds of inputs) poisoned instead of 256; cycling
  # through the default's fresh pages cost a third of the socket targets' time.
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=64 \
     LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp:print_suppressions=0 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 \
       -artifact_prefix="$build/fuzz-artifacts/$t-" "${dict[@]}" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$log" | tail -1 | sed "s/^/fuzz: $t: /"
  else
    echo "fuzz: $t FAILED; the input is in $build/fuzz-artifacts/, the report:"
    grep -E "ERROR|SUMMARY|invariant|Test unit written" "$log" | head -10
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s each without a finding"
