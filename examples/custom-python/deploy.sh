#!/usr/bin/env bash
# Builds this example's model.tar.gz (and its program, if compiled) and deploys it to a running
# thaw as a serverless endpoint, then invokes it twice (cold, then warm). Start thaw first with the
# README's first command (scripts/demo.sh), or point THAW_ENDPOINT_URL at yours.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
THAW=${THAW:-$repo/build/release/thaw}
export THAW_ENDPOINT_URL=${THAW_ENDPOINT_URL:-http://127.0.0.1:8080}
name=${1:-custom-python}
out="$here/build"
mkdir -p "$out"

# The model: a linear model's weights, read by ./serve from /opt/ml/model/model.json.
echo '{"weights": [0.5, -1.0, 2.0, 0.25], "bias": 0.1}' >"$out/model.json"
tar -czf "$out/model.tar.gz" -C "$out" model.json

# The image names the program on this machine; thaw binds its directory into the sandbox.
"$THAW" deploy --name "$name" --model "$out/model.tar.gz" --image "file://$here/serve" \
  --memory 1024 --max-concurrency 5
"$THAW" invoke "$name" --content-type text/csv --body $'1,2,3,4\n0,0,0,0' --repeat 2 --time
