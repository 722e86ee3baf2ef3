#!/usr/bin/env bash
# Builds thaw's libFuzzer targets with clang (ASan + UBSan) into build/fuzz, replays every saved
# regression input, then fuzzes each target for SECONDS (default 45) starting from its seed
# corpus (fuzz/corpus/<target>). New interesting inputs accumulate in build/fuzz/corpus/<target>;
# a crash stops the run and leaves build/fuzz/crash-<target>-*: copy it into
# fuzz/regressions/<target>/ with the fix. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-45}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_sigv4 fuzz_payload fuzz_control_json fuzz_tar fuzz_http_request
                                     fuzz_cloudwatch fuzz_logs fuzz_aws_chunked)

CXX=clang++ cmake -S fuzz -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/fuzz -j "$(nproc)"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
for t in "${targets[@]}"; do
  regressions=(fuzz/regressions/$t/*)
  if [ -e "${regressions[0]}" ]; then
    echo "== $t: replaying ${#regressions[@]} regression input(s)"
    "build/fuzz/$t" "${regressions[@]}" >/dev/null 2>&1 || "build/fuzz/$t" "${regressions[@]}"
  fi
  mkdir -p "build/fuzz/corpus/$t"
  echo "== $t: fuzzing for ${secs}s"
  # THAW_FUZZ_SEED fixes libFuzzer's seed (CI sets it, so a run explores the same inputs).
  "build/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    ${THAW_FUZZ_SEED:+-seed=$THAW_FUZZ_SEED} \
    -artifact_prefix="build/fuzz/crash-$t-" "build/fuzz/corpus/$t" "fuzz/corpus/$t" 2>&1 |
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)|ERROR|SUMMARY" || true
  if ls build/fuzz/crash-"$t"-* >/dev/null 2>&1; then
    echo "$t: crash found: $(ls build/fuzz/crash-"$t"-*)" >&2
    exit 1
  fi
done
echo "fuzzing passed: ${#targets[@]} target(s), ${secs}s each"
