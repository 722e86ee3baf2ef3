#!/usr/bin/env bash
# Installs and builds thaw (release), starts the server in the background on 127.0.0.1:8080 with
# its data in ./thaw-data, and deploys a sample XGBoost model as a serverless endpoint with the
# aws CLI, exactly as a SageMaker user would. Prints how to talk to it and how to stop it.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${THAW_PORT:-8080}
DATA=${THAW_DATA_DIR:-$PWD/thaw-data}

bash scripts/install-deps.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)"

export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" AWS_CLI_AUTO_PROMPT=off
AWS=(/usr/bin/aws --endpoint-url "http://127.0.0.1:$PORT" --output json)

if [ -f "$DATA/thaw.pid" ] && kill -0 "$(cat "$DATA/thaw.pid")" 2>/dev/null; then
  echo "thaw already running (pid $(cat "$DATA/thaw.pid")); stopping it first"
  kill "$(cat "$DATA/thaw.pid")"; while kill -0 "$(cat "$DATA/thaw.pid")" 2>/dev/null; do sleep 0.1; done
fi
mkdir -p "$DATA/s3/thaw-samples/xgb"
/usr/bin/python3 scripts/make_sample_model.py "$DATA/s3/thaw-samples/xgb/model.tar.gz"

rm -f "$DATA/port"
nohup build/release/thaw serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
  --port-file "$DATA/port" >"$DATA/thaw.log" 2>&1 &
echo $! >"$DATA/thaw.pid"
for _ in $(seq 100); do [ -s "$DATA/port" ] && break; sleep 0.1; done
[ -s "$DATA/port" ] || { cat "$DATA/thaw.log"; exit 1; }
# Every request is SigV4-signed: the server created its key pair in $DATA/credentials on its
# first start; sign with it, as any AWS client would.
AWS_ACCESS_KEY_ID=$(sed -n 's/^aws_access_key_id *= *//p' "$DATA/credentials" | head -n1)
AWS_SECRET_ACCESS_KEY=$(sed -n 's/^aws_secret_access_key *= *//p' "$DATA/credentials" | head -n1)
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

THAW=(build/release/thaw)
"${AWS[@]}" sagemaker delete-endpoint --endpoint-name demo-xgb >/dev/null 2>&1 &&
  "${AWS[@]}" sagemaker wait endpoint-deleted --endpoint-name demo-xgb || true
# Deploy the sample as a serverless endpoint (2048 MB, MaxConcurrency 5): it sits at zero workers.
"${THAW[@]}" deploy --endpoint-url "http://127.0.0.1:$PORT" --name demo-xgb \
  --model s3://thaw-samples/xgb/model.tar.gz --image xgboost:1.7-1 --memory 2048 --max-concurrency 5
status=$("${AWS[@]}" sagemaker describe-endpoint --endpoint-name demo-xgb --query EndpointStatus --output text)
echo "first invoke (cold start: a sandboxed worker is forked), then two warm ones:"
"${THAW[@]}" invoke --endpoint-url "http://127.0.0.1:$PORT" demo-xgb --content-type text/csv \
  --body $'0.5,-1.2,0.3,2.0\n-0.7,0.1,1.5,0.0' --repeat 3 --time

cat <<MSG

thaw is running (pid $(cat "$DATA/thaw.pid"), log $DATA/thaw.log) on http://127.0.0.1:$PORT
with the serverless endpoint demo-xgb ($status). Watch it in the browser at
http://127.0.0.1:$PORT/console/ (sign in with the key pair below), or talk to it with any AWS client:

  export AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url http://127.0.0.1:$PORT sagemaker list-endpoints
  aws --endpoint-url http://127.0.0.1:$PORT sagemaker describe-endpoint --endpoint-name demo-xgb
  /usr/bin/aws --endpoint-url http://127.0.0.1:$PORT sagemaker-runtime invoke-endpoint \\
      --endpoint-name demo-xgb --content-type text/csv --cli-binary-format raw-in-base64-out \\
      --body 0.5,-1.2,0.3,2.0 /tmp/prediction.csv && cat /tmp/prediction.csv
  build/release/thaw invoke demo-xgb --body 0.5,-1.2,0.3,2.0 --time
  /usr/bin/python3 -c "import boto3; sm = boto3.client('sagemaker', endpoint_url='http://127.0.0.1:$PORT'); print(sm.describe_endpoint(EndpointName='demo-xgb')['EndpointStatus'])"

Stop it with: kill \$(cat $DATA/thaw.pid)
MSG
