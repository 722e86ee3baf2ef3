#!/usr/bin/python3
"""What the console's keep-alive page costs the server: one read of the live thaw/KeepAlive
namespace (ListMetrics, all pages, then GetMetricData of every series' Maximum, chunks of 450) for
N endpoints that have served a few requests, timed from boto3 (signed), R repetitions.

    /usr/bin/python3 bench/keepalive_api.py build/release/thaw [--endpoints 20] [--reads 30]

Prints the series count and the p50/p90 of one page read (and of its ListMetrics alone), next to the same-sized GetMetricData
over stored AWS/SageMaker series (Invocations Sum per endpoint, repeated to the same count).
"""

import argparse
import datetime as dt
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


def timed(fn, reads):
    out = []
    for _ in range(reads):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    out.sort()
    return out[len(out) // 2], out[int(0.9 * (len(out) - 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--endpoints", type=int, default=20)
    ap.add_argument("--reads", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        creds = data / "credentials"
        creds.write_text("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                         % (CREDENTIALS["AWS_ACCESS_KEY_ID"], CREDENTIALS["AWS_SECRET_ACCESS_KEY"]))
        creds.chmod(0o600)
        port_file = Path(tmp) / "port"
        proc = subprocess.Popen([args.binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data,
                                 "--port-file", port_file, "--log-level", "warn",
                                 "--keep-alive-bin-ms", "100"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = int(poll(lambda: port_file.read_text().strip() if port_file.exists() else "",
                            bool, timeout=60, what="port"))
            session = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                           aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                           config=Config(retries={"total_max_attempts": 1}))
            sm = boto3.client("sagemaker", **session)
            rt = boto3.client("sagemaker-runtime", **session)
            cw = boto3.client("cloudwatch", **session)
            url = ModelStore(data).xgboost()
            sm.create_model(ModelName="m", ExecutionRoleArn=ROLE,
                            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": url})
            sm.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[{
                "VariantName": "AllTraffic", "ModelName": "m",
                "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1}}])
            names = [f"e{i}" for i in range(args.endpoints)]
            for n in names:
                sm.create_endpoint(EndpointName=n, EndpointConfigName="c")
            for n in names:
                poll(lambda: sm.describe_endpoint(EndpointName=n)["EndpointStatus"],
                     lambda s: s == "InService", timeout=120, what="InService")
            for i in range(4):  # idle times in a few 100-ms bins
                for n in names:
                    rt.invoke_endpoint(EndpointName=n, Body="0.1,0.2,0.3,0.4",
                                       ContentType="text/csv")["Body"].read()
                time.sleep(0.1 * (i + 1))

            def window():
                now = dt.datetime.now(dt.timezone.utc)
                return now - dt.timedelta(minutes=2), now + dt.timedelta(minutes=1)

            def keepalive_page():
                metrics, token = [], None
                while True:
                    r = cw.list_metrics(Namespace="thaw/KeepAlive", **({"NextToken": token} if token else {}))
                    metrics += r["Metrics"]
                    token = r.get("NextToken")
                    if not token:
                        break
                start, end = window()
                for k in range(0, len(metrics), 450):
                    cw.get_metric_data(MetricDataQueries=[
                        {"Id": f"k{k + i}", "MetricStat": {"Metric": m, "Period": 60, "Stat": "Maximum"}}
                        for i, m in enumerate(metrics[k:k + 450])], StartTime=start, EndTime=end)
                return len(metrics)

            series = keepalive_page()
            stored = [{"Namespace": "AWS/SageMaker", "MetricName": "Invocations", "Dimensions": [
                {"Name": "EndpointName", "Value": names[i % len(names)]},
                {"Name": "VariantName", "Value": "AllTraffic"}]} for i in range(series)]

            def stored_read():
                start, end = window()
                for k in range(0, len(stored), 450):
                    cw.get_metric_data(MetricDataQueries=[
                        {"Id": f"s{k + i}", "MetricStat": {"Metric": m, "Period": 60, "Stat": "Sum"}}
                        for i, m in enumerate(stored[k:k + 450])], StartTime=start, EndTime=end)

            lm = timed(lambda: cw.list_metrics(Namespace="thaw/KeepAlive"), args.reads)
            ka = timed(keepalive_page, args.reads)
            st = timed(stored_read, args.reads)
            print(f"{args.endpoints} endpoints, {series} thaw/KeepAlive series")
            print(f"keep-alive page read (ListMetrics + GetMetricData): p50 {ka[0]:.1f} ms, p90 {ka[1]:.1f} ms")
            print(f"  of which ListMetrics (first page): p50 {lm[0]:.1f} ms, p90 {lm[1]:.1f} ms")
            print(f"GetMetricData of {series} stored AWS/SageMaker series: p50 {st[0]:.1f} ms, p90 {st[1]:.1f} ms")
        finally:
            proc.terminate()
            proc.wait(timeout=60)


if __name__ == "__main__":
    main()
