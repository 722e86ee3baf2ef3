#!/usr/bin/python3
"""A/B of the warm invoke path between two thaw binaries, in alternation (noisy shared hosts):
each round starts one binary, deploys one serverless XGBoost endpoint, warms it, then times
N sequential InvokeEndpoint requests (boto3, signed, one keep-alive connection); the other binary follows.

    /usr/bin/python3 bench/invoke_ab.py OLD_BINARY NEW_BINARY [--rounds 3] [--requests 3000]
        [--old-flags "--metrics off"] [--new-flags "..."]     (extra `thaw serve` flags)

Prints per-round p50/p90/p99 (µs, client-observed) and the new/old p50 ratio per round.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from thaw_harness import CREDENTIALS, ModelStore, poll  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::123456789012:role/bench"


def run_round(binary, flags, requests):
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        # Servers with SigV4 checks read their key pair from <data-dir>/credentials.
        creds = data / "credentials"
        creds.write_text("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                         % (CREDENTIALS["AWS_ACCESS_KEY_ID"], CREDENTIALS["AWS_SECRET_ACCESS_KEY"]))
        creds.chmod(0o600)
        port_file = Path(tmp) / "port"
        proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data,
                                 "--port-file", port_file, "--log-level", "warn", *flags],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = int(poll(lambda: port_file.read_text().strip() if port_file.exists() else "",
                            bool, timeout=60, what="port"))
            # Signed requests (a server with SigV4 checks accepts the e2e credentials).
            session = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                           aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                           config=Config(retries={"total_max_attempts": 1}))
            sm = boto3.client("sagemaker", **session)
            rt = boto3.client("sagemaker-runtime", **session)
            url = ModelStore(data).xgboost()
            sm.create_model(ModelName="m", ExecutionRoleArn=ROLE,
                            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": url})
            sm.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[{
                "VariantName": "AllTraffic", "ModelName": "m",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}])
            sm.create_endpoint(EndpointName="e", EndpointConfigName="c")
            poll(lambda: sm.describe_endpoint(EndpointName="e")["EndpointStatus"],
                 lambda s: s == "InService", timeout=60, what="InService")
            times = []
            for i in range(requests + 200):
                t0 = time.perf_counter_ns()
                rt.invoke_endpoint(EndpointName="e", Body="0.1,0.2,0.3,0.4",
                                   ContentType="text/csv")["Body"].read()
                if i >= 200:  # the first 200 warm up (cold start included)
                    times.append((time.perf_counter_ns() - t0) / 1000)
            times.sort()
            q = lambda p: times[int(p * (len(times) - 1))]  # noqa: E731
            return q(0.5), q(0.9), q(0.99)
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--old-flags", default="")
    ap.add_argument("--new-flags", default="")
    args = ap.parse_args()
    ratios = []
    for r in range(args.rounds):
        old = run_round(args.old, args.old_flags.split(), args.requests)
        new = run_round(args.new, args.new_flags.split(), args.requests)
        ratios.append(new[0] / old[0])
        print(f"round {r + 1}: old p50/p90/p99 {old[0]:.0f}/{old[1]:.0f}/{old[2]:.0f} us  "
              f"new {new[0]:.0f}/{new[1]:.0f}/{new[2]:.0f} us  new/old p50 {ratios[-1]:.3f}",
              flush=True)
    print(f"new/old p50 ratio: median {statistics.median(ratios):.3f}, "
          f"range {min(ratios):.3f}-{max(ratios):.3f}")


if __name__ == "__main__":
    main()
