#!/usr/bin/env bash
# Installs everything thaw needs to build, run and test, from Debian's archive only.
# Idempotent: a second run installs nothing new. Run as root on Debian 12 (bookworm).
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build pkg-config git
  libboost-dev libboost-system-dev libboost-program-options-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libsqlite3-dev libarchive-dev libssl-dev zlib1g-dev libcurl4-openssl-dev libseccomp-dev
  libxgboost-dev xgboost
  # the scikit-learn runtime: Debian's Python 3.11, embedded, and the libraries it serves with
  libpython3.11-dev python3-sklearn python3-numpy python3-scipy python3-joblib python3-packaging
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-pytest python3-boto3 python3-botocore awscli
  python3-numpy python3-sklearn python3-joblib python3-xgboost
  python3-flask gunicorn python3-gevent
  clang-format clang-tidy clang libclang-rt-14-dev  # fuzz targets (libFuzzer)
  curl wrk hyperfine sqlite3 procps
  prometheus  # promtool: tests/e2e/test_prometheus.py validates GET /metrics
  chromium  # the web console's browser tests (playwright-core drives /usr/bin/chromium)
)

# Node and npm build the web console (console/). Debian's nodejs 18 + npm are enough; a machine
# that already has a node with npm (e.g. NodeSource's nodejs) keeps it.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update
  apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
fi

# The JS SDK v3 clients of the e2e suite (tests/e2e/clients/js), pinned by package-lock.json.
# Node comes from the machine (Debian's `nodejs` + `npm`, or NodeSource); without npm the JS
# tests skip.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if command -v npm >/dev/null 2>&1; then
  (cd "$repo_root/tests/e2e/clients/js" && npm ci --no-audit --no-fund)
  # s3rver: an independent S3 implementation for the remote-S3 tests (test_remote_s3.py).
  (cd "$repo_root/tests/e2e/clients/s3rver" && npm ci --no-audit --no-fund)
else
  echo "npm not found: skipping tests/e2e/clients/js (the JS SDK e2e tests will skip)" >&2
fi
