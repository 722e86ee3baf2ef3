#!/usr/bin/env bash
# Builds this example's model.tar.gz (and its program, if compiled) and deploys it to a running
# thaw as a serverless endpoint, then invokes it twice (cold, then warm). Start thaw first with the
# README's first command (scripts/demo.sh), or point THAW_ENDPOINT_URL at yours.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
THAW=${THAW:-$repo/build/release/thaw}
export THAW_ENDPOINT_URL=${THAW_ENDPOINT_URL:-http://127.0.0.1:8080}
name=${1:-custom-c}
out="$here/build"
mkdir -p "$out"

# The program: plain C, no dependency beyond libc.
cc -O2 -Wall -o "$out/serve" "$here/serve.c"
# The model: the bias, then one weight per feature, read from /opt/ml/model/model.txt.
echo '0.1 0.5 -1.0 2.0 0.25' >"$out/model.txt"
tar -czf "$out/model.tar.gz" -C "$out" model.txt

# The image names the program on this machine; thaw binds its directory into the sandbox.
"$THAW" deploy --name "$name" --model "$out/model.tar.gz" --image "file://$out/serve" \
  --memory 1024 --max-concurrency 5
"$THAW" invoke "$name" --content-type text/csv --body $'1,2,3,4\n0,0,0,0' --repeat 2 --time
