#!/usr/bin/env bash
# Installs what thaw needs, builds the debug preset (ASan + UBSan) and runs the whole test suite:
# unit tests (GoogleTest, label "fast") and end-to-end tests with real AWS clients (label "e2e"),
# then a short libFuzzer run of every parser target (THAW_FUZZ_SECONDS each, default 45: eight targets, about 6 minutes; 0 skips).
# Usage: scripts/test.sh [ctest args…]   e.g. scripts/test.sh -L fast
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset debug
cmake --build --preset debug -j "$(nproc)"
ctest --preset debug -j "$(nproc)" "$@"
if [ "${THAW_FUZZ_SECONDS:-45}" != 0 ] && [ $# -eq 0 ]; then
  THAW_FUZZ_SEED=${THAW_FUZZ_SEED:-1} bash scripts/fuzz.sh "${THAW_FUZZ_SECONDS:-45}"
fi
