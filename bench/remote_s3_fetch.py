#!/usr/bin/python3
"""Deploy time from a remote S3 store (--s3-endpoint, s3rver on loopback) against the same
bytes from a local file:// path, and the server's peak RSS (VmHWM) before and after, to show
that downloads stream to disk instead of being held in memory.

Each deploy uses fresh bytes (random padding under extra/, which the XGBoost worker ignores), so
every one downloads and extracts; the two kinds alternate within each round.

  bench/remote_s3_fetch.py [--thaw build/release/thaw] [--sizes 16,128] [--rounds 3]

Needs s3rver (scripts/install-deps.sh: npm ci in tests/e2e/clients/s3rver) and Debian's python3.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

import boto3  # noqa: E402
import numpy as np  # noqa: E402
from botocore.config import Config  # noqa: E402

from thaw_harness import XGBOOST_IMAGE, ROLE_ARN, _tar_gz, unique, xgboost_model_bytes  # noqa

S3RVER = REPO / "tests" / "e2e" / "clients" / "s3rver" / "node_modules" / ".bin" / "s3rver"
KEYS = {"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what):
    for _ in range(600):
        if proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what} did not listen on {port}")


def vm_hwm_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def deploy_seconds(sm, url):
    model, config, name = unique("bm"), unique("bc"), unique("be")
    sm.create_model(ModelName=model, ExecutionRoleArn=ROLE_ARN,
                    PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": url})
    sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": model,
        "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1}}])
    start = time.monotonic()
    sm.create_endpoint(EndpointName=name, EndpointConfigName=config)
    while True:
        d = sm.describe_endpoint(EndpointName=name)
        if d["EndpointStatus"] != "Creating":
            break
        time.sleep(0.02)
    took = time.monotonic() - start
    if d["EndpointStatus"] != "InService":
        sys.exit(f"{name}: {d['EndpointStatus']}: {d.get('FailureReason')}")
    sm.delete_endpoint(EndpointName=name)
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--thaw", default=str(REPO / "build" / "release" / "thaw"))
    ap.add_argument("--sizes", default="16,128", help="archive sizes in MB")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="thaw-s3bench-"))
    s3_port, thaw_port = free_port(), free_port()
    s3rver = subprocess.Popen(["node", str(S3RVER), "-d", str(work / "s3rver"), "-a",
                               "127.0.0.1", "-p", str(s3_port), "-s", "--configure-bucket",
                               "bench"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    thaw = subprocess.Popen([args.thaw, "serve", "--listen", f"127.0.0.1:{thaw_port}",
                             "--data-dir", str(work / "data"), "--auth", "none",
                             "--log-level", "warn", "--s3-endpoint",
                             f"http://127.0.0.1:{s3_port}"],
                            env={**os.environ, **KEYS}, stdout=subprocess.DEVNULL,
                            stderr=open(work / "thaw.log", "wb"))
    try:
        wait_port(s3_port, s3rver, "s3rver")
        wait_port(thaw_port, thaw, "thaw")
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{s3_port}",
                          region_name="us-east-1", config=Config(s3={"addressing_style": "path"}),
                          aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER")
        sm = boto3.client("sagemaker", endpoint_url=f"http://127.0.0.1:{thaw_port}",
                          region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
        time.sleep(1.0)
        print(f"thaw {args.thaw}; load average {os.getloadavg()[0]:.1f}; "
              f"VmHWM before {vm_hwm_mb(thaw.pid):.0f} MB")
        rng = np.random.default_rng(0)
        for mb in [int(s) for s in args.sizes.split(",")]:
            remote, local = [], []
            for r in range(args.rounds):
                for kind in ("remote", "local") if r % 2 == 0 else ("local", "remote"):
                    data = _tar_gz([("xgboost-model", xgboost_model_bytes()),
                                    ("extra/padding.bin", rng.bytes(mb << 20))],
                                   compresslevel=1)
                    if kind == "remote":
                        key = f"{unique('m')}/model.tar.gz"
                        s3.put_object(Bucket="bench", Key=key, Body=data)
                        remote.append(deploy_seconds(sm, f"s3://bench/{key}"))
                    else:
                        path = work / f"{unique('m')}.tar.gz"
                        path.write_bytes(data)
                        local.append(deploy_seconds(sm, f"file://{path}"))
            ratios = sorted(a / b for a, b in zip(remote, local))
            print(f"{mb:4d} MB: remote median {statistics.median(remote) * 1000:7.0f} ms "
                  f"[{min(remote) * 1000:.0f}-{max(remote) * 1000:.0f}], file:// median "
                  f"{statistics.median(local) * 1000:7.0f} ms "
                  f"[{min(local) * 1000:.0f}-{max(local) * 1000:.0f}], remote/local per round "
                  f"{ratios[0]:.2f}-{ratios[-1]:.2f}; extra per MB "
                  f"{(statistics.median(remote) - statistics.median(local)) * 1000 / mb:.1f} ms; "
                  f"VmHWM now {vm_hwm_mb(thaw.pid):.0f} MB")
    finally:
        thaw.terminate()
        thaw.wait(timeout=60)
        s3rver.terminate()
        s3rver.wait(timeout=10)


if __name__ == "__main__":
    main()
