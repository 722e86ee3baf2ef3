#!/usr/bin/env bash
# Installs what thaw needs, builds the debug preset (ASan + UBSan) and runs the whole test suite:
# unit tests (GoogleTest, label "fast") and end-to-end tests with real AWS clients (label "e2e").
# Usage: scripts/test.sh [ctest args…]   e.g. scripts/test.sh -L fast
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset debug
cmake --build --preset debug -j "$(nproc)"
ctest --preset debug -j "$(nproc)" "$@"
