#!/usr/bin/env bash
# The longer fuzzing run (issue 6): every libFuzzer target in turn (round-robin), SECONDS each per
# round, for ROUNDS rounds (0: until stopped). Each target's corpus is kept under
# build/fuzz-long/corpus/<target> (seeded from fuzz/corpus/<target>): a run fuzzes into a scratch
# directory, then `-merge=1` keeps only the inputs that add coverage in MERGE_DIR/<target>
# (default build/fuzz-long/corpus; pass MERGE_DIR=fuzz/corpus to grow the committed seeds).
# A crash does not stop the run: it is kept as build/fuzz-long/crash-<target>-* and counted;
# copy it into fuzz/regressions/<target>/ with the fix. Every run appends a line to
# build/fuzz-long/runs.tsv (UTC start, target, seconds, executions, corpus files, crashes);
# `scripts/fuzz-long.sh --report` sums it per target, for docs/SECURITY.md.
# Usage: nice -n 19 scripts/fuzz-long.sh [SECONDS] [ROUNDS] [TARGET...]   (defaults: 600 0 all)
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/fuzz-long
log=$out/runs.tsv

if [ "${1:-}" = --report ]; then
  [ -f "$log" ] || { echo "no runs yet ($log)"; exit 0; }
  echo "| target | runs | wall time | executions | corpus files | crashes |"
  echo "|---|---|---|---|---|---|"
  awk -F'\t' 'NR > 1 { s[$2] += $3; e[$2] += $4; c[$2] = $5; x[$2] += $6; n[$2]++ }
    END { for (t in s) printf "| %s | %d | %.1f min | %d | %d | %d |\n", t, n[t], s[t] / 60, e[t], c[t], x[t] }' \
    "$log" | sort
  awk -F'\t' 'NR > 1 { s += $3; e += $4; x += $6 }
    END { printf "| all | | %.2f h | %d | | %d |\n", s / 3600, e, x }' "$log"
  exit 0
fi

secs=${1:-600}
rounds=${2:-0}
shift 2 || shift $# || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_sigv4 fuzz_payload fuzz_control_json fuzz_tar
                                     fuzz_http_request fuzz_cloudwatch fuzz_logs fuzz_aws_chunked)
merge_root=${MERGE_DIR:-$out/corpus}

CXX=clang++ cmake -S fuzz -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/fuzz -j "${THAW_FUZZ_JOBS:-2}" --target "${targets[@]}" >/dev/null
mkdir -p "$out"
[ -f "$log" ] || printf 'start\ttarget\tseconds\texecutions\tcorpus\tcrashes\n' >"$log"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
crash_count() {  # crashes kept for target $1 (a glob, not ls: no match is 0, not an error)
  local files=("$out"/crash-"$1"-*)
  if [ -e "${files[0]}" ]; then echo "${#files[@]}"; else echo 0; fi
}
round=0
while [ "$rounds" = 0 ] || [ "$round" -lt "$rounds" ]; do
  round=$((round + 1))
  for t in "${targets[@]}"; do
    scratch=$out/scratch/$t
    merged=$merge_root/$t
    mkdir -p "$scratch" "$merged"
    start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    crashes_before=$(crash_count "$t")
    stats=$("build/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$out/crash-$t-" \
      "$scratch" "$merged" "fuzz/corpus/$t" 2>&1 | grep -E '^stat::number_of_executed_units' || true)
    execs=${stats##*: }
    # Keep only what adds coverage; the scratch directory starts empty next time.
    "build/fuzz/$t" -merge=1 "$merged" "$scratch" >/dev/null 2>&1 || true
    rm -rf "$scratch"
    # A timeout or slow unit that runs cleanly on its own was the machine, not the input (a
    # paused or starved fuzzer): kept apart, not counted.
    for f in "$out"/crash-"$t"-timeout-* "$out"/crash-"$t"-slow-unit-*; do
      [ -e "$f" ] || continue
      if "build/fuzz/$t" -timeout=10 -rss_limit_mb=2048 "$f" >/dev/null 2>&1; then
        mkdir -p "$out/not-reproduced"
        mv "$f" "$out/not-reproduced/"
      fi
    done
    crashes=$(($(crash_count "$t") - crashes_before))
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$start" "$t" "$secs" "${execs:-0}" \
      "$(find "$merged" -type f | wc -l)" "$crashes" >>"$log"
    [ "$crashes" = 0 ] || echo "$t: crash: $(ls -t "$out"/crash-"$t"-* | head -1)" >&2
  done
done
