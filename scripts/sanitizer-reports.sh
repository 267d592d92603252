#!/usr/bin/env bash
# Usage: scripts/sanitizer-reports.sh DIR
# Fails, printing each one, if any log under DIR holds an AddressSanitizer, LeakSanitizer or
# UndefinedBehaviorSanitizer report. `make test-asan` points TMPDIR at DIR, so this also sees the
# logs of processes that a test's children started (ripstop run's sidecars and services), which no
# test reads.
set -uo pipefail
dir=${1:?usage: $0 DIR}
pattern='==[0-9]+==ERROR: (AddressSanitizer|LeakSanitizer)|:[0-9]+(:[0-9]+)?: runtime error: '
mapfile -t files < <(grep -rlIE "$pattern" "$dir" 2>/dev/null | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "sanitizer reports: none under $dir"
  exit 0
fi
for f in "${files[@]}"; do
  echo "=== sanitizer report in $f"
  grep -m1 -nE "$pattern" "$f" | cut -d: -f1 | { read -r line; tail -n +"$line" "$f" | head -60; }
done
echo "sanitizer reports: ${#files[@]} log(s) under $dir hold a report"
exit 1
