"""CloudWatch metrics (issue 5, parts 1-2): the seed's monitoring call and its siblings through
every client and all three protocols (awsQuery: boto3 1.26 and CLI v2; awsJson1_0: boto3 1.43,
awscli 1.45 and JS v3; rpc-v2-cbor: JS v3 and botocore 1.43 opted in), and the aggregates checked
against a ground truth: the per-invocation values the server logged (debug level) for a known
sequence of invocations, model errors and cold starts."""

import datetime
import gzip
import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import botocore.exceptions
import pytest

from thaw_harness import CLIENTS_DIR, REGION, client_env, find_non_system, poll, run_modern_boto3

NAMESPACE = "AWS/SageMaker"
CSV_ROW = "0.1,0.2,0.3,0.4"
JS_DIR = CLIENTS_DIR / "js"


def utc(dt):
    return dt.astimezone(datetime.timezone.utc)


def dims(endpoint):
    return [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}]


def window():
    """A window around now, whole minutes, with room for the invocations just made."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    return now - datetime.timedelta(minutes=10), now + datetime.timedelta(minutes=5)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def logged_records(server, endpoint):
    """The per-invocation values the server measured, from its debug log."""
    pattern = re.compile(
        r"record endpoint=%s variant=AllTraffic outcome=(\w+) model_latency_us=(\d+) "
        r"overhead_latency_us=(\d+) cold_start=(\w+) setup_us=(\d+)" % re.escape(endpoint))
    return [{"outcome": m[0], "model": int(m[1]), "overhead": int(m[2]),
             "cold": m[3] == "true", "setup": int(m[4])}
            for m in pattern.findall(server.log_text())]


def exact_percentile(values, q):
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


@pytest.fixture(scope="module")
def cw(server):
    return server.client("cloudwatch")


@pytest.fixture(scope="module")
def traffic(server, res):
    """One endpoint with a known sequence: a cold start, 24 successes, 3 model 4xx errors."""
    rt = server.client("sagemaker-runtime")
    name = res.endpoint(res.config(memory=1024, concurrency=3))
    ok = errors = 0
    for i in range(27):
        if i % 9 == 8:
            with pytest.raises(botocore.exceptions.ClientError) as info:
                rt.invoke_endpoint(EndpointName=name, Body='{"a": 1}', ContentType="application/json")
            assert info.value.response["OriginalStatusCode"] == 415
            errors += 1
        else:
            rt.invoke_endpoint(EndpointName=name, Body=CSV_ROW, ContentType="text/csv")["Body"].read()
            ok += 1
    return {"endpoint": name, "invocations": ok + errors, "errors_4xx": errors}


def test_seed_monitoring_call_boto3_126(cw, traffic):
    start, end = window()
    out = cw.get_metric_statistics(Namespace=NAMESPACE, MetricName="Invocations",
                                   Dimensions=dims(traffic["endpoint"]), StartTime=start,
                                   EndTime=end, Period=3600, Statistics=["Sum"])
    assert out["Label"] == "Invocations"
    assert sum(dp["Sum"] for dp in out["Datapoints"]) == traffic["invocations"]
    assert all(dp["Unit"] == "None" for dp in out["Datapoints"])
    assert all(utc(dp["Timestamp"]) == start for dp in out["Datapoints"])
    errors = cw.get_metric_statistics(Namespace=NAMESPACE, MetricName="Invocation4XXErrors",
                                      Dimensions=dims(traffic["endpoint"]), StartTime=start,
                                      EndTime=end, Period=3600, Statistics=["Sum", "Average"])
    [dp] = errors["Datapoints"]
    assert dp["Sum"] == traffic["errors_4xx"]
    assert dp["Average"] == pytest.approx(traffic["errors_4xx"] / traffic["invocations"])
    # Exact dimension sets: EndpointName alone matches nothing.
    partial = cw.get_metric_statistics(Namespace=NAMESPACE, MetricName="Invocations",
                                       Dimensions=dims(traffic["endpoint"])[:1], StartTime=start,
                                       EndTime=end, Period=3600, Statistics=["Sum"])
    assert partial["Datapoints"] == []


def test_aggregates_match_the_ground_truth(server, cw, traffic):
    start, end = window()
    name = traffic["endpoint"]

    def stats(metric, **kw):
        out = cw.get_metric_statistics(Namespace=NAMESPACE, MetricName=metric, Dimensions=dims(name),
                                       StartTime=start, EndTime=end, Period=3600, **kw)
        [dp] = out["Datapoints"]
        return dp

    simple = ["SampleCount", "Sum", "Minimum", "Maximum"]
    records = logged_records(server, name)  # after a query: every record was drained and logged
    stats("Invocations", Statistics=["Sum"])
    records = logged_records(server, name)
    assert len(records) == traffic["invocations"]
    assert sum(r["outcome"] == "model_4xx" for r in records) == traffic["errors_4xx"]
    cold = [r["setup"] for r in records if r["cold"]]
    assert len(cold) >= 1 and records[0]["cold"], "a fresh endpoint's first request starts a worker"

    for metric, values in [("ModelLatency", [r["model"] for r in records]),
                           ("OverheadLatency", [r["overhead"] for r in records]),
                           ("ModelSetupTime", cold)]:
        dp = stats(metric, Statistics=simple)
        assert dp["Unit"] == "Microseconds"
        assert dp["SampleCount"] == len(values), metric
        assert dp["Sum"] == pytest.approx(sum(values), rel=1e-12), metric
        assert dp["Minimum"] == min(values) and dp["Maximum"] == max(values), metric
        ext = stats(metric, ExtendedStatistics=["p50", "p90", "p99", "p99.9"])["ExtendedStatistics"]
        for p, q in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999)]:
            exact = exact_percentile(values, q)
            assert abs(ext[p] - exact) <= 0.01 * exact, (metric, p, ext[p], exact)


def test_errors_in_the_query_protocol(cw, traffic):
    start, end = window()
    with pytest.raises(botocore.exceptions.ClientError) as info:
        cw.get_metric_statistics(Namespace=NAMESPACE, MetricName="Invocations", StartTime=start,
                                 EndTime=end, Period=90, Statistics=["Sum"])
    assert info.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert info.value.response["Error"]["Message"] == "The parameter Period must be a multiple of 60."
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(cw.exceptions.InvalidParameterCombinationException) as info:
        cw.get_metric_statistics(Namespace=NAMESPACE, MetricName="Invocations", StartTime=start,
                                 EndTime=start + datetime.timedelta(days=2), Period=60,
                                 Statistics=["Sum"])
    assert "exceeds the limit of 1,440" in info.value.response["Error"]["Message"]


def test_get_metric_data_and_list_metrics_boto3_126(cw, traffic):
    start, end = window()
    name = traffic["endpoint"]
    out = cw.get_metric_data(
        MetricDataQueries=[
            {"Id": "inv", "MetricStat": {"Metric": {"Namespace": NAMESPACE, "MetricName": "Invocations",
                                                    "Dimensions": dims(name)},
                                         "Period": 60, "Stat": "Sum"}},
            {"Id": "lat", "Label": "p99 latency",
             "MetricStat": {"Metric": {"Namespace": NAMESPACE, "MetricName": "ModelLatency",
                                       "Dimensions": dims(name)}, "Period": 3600, "Stat": "p99"}}],
        StartTime=start, EndTime=end)
    inv, lat = out["MetricDataResults"]
    assert inv["Id"] == "inv" and inv["StatusCode"] == "Complete"
    assert sum(inv["Values"]) == traffic["invocations"]
    assert inv["Timestamps"] == sorted(inv["Timestamps"], reverse=True)
    assert lat["Label"] == "p99 latency" and len(lat["Values"]) == 1
    listed = cw.list_metrics(Namespace=NAMESPACE, Dimensions=[{"Name": "EndpointName", "Value": name}])
    names = {m["MetricName"] for m in listed["Metrics"]}
    assert {"Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency",
            "OverheadLatency", "ModelSetupTime"} <= names
    assert all(m["Dimensions"] == dims(name) for m in listed["Metrics"])


def test_sampled_metrics(server, cw, traffic):
    """Utilisation is sampled every second from the fleet; memory from the workers' cgroups."""
    start, end = window()
    name = traffic["endpoint"]

    def listed(namespace, metric):
        return cw.list_metrics(Namespace=namespace, MetricName=metric,
                               Dimensions=[{"Name": "EndpointName", "Value": name}])["Metrics"]

    poll(lambda: listed(NAMESPACE, "ServerlessConcurrentExecutionsUtilization"), bool, timeout=10,
         what="a utilisation sample")
    [dp] = cw.get_metric_statistics(
        Namespace=NAMESPACE, MetricName="ServerlessConcurrentExecutionsUtilization",
        Dimensions=dims(name), StartTime=start, EndTime=end, Period=3600,
        Statistics=["Minimum", "Maximum"])["Datapoints"]
    assert 0 <= dp["Minimum"] <= dp["Maximum"] <= 1  # busy workers / MaxConcurrency
    if "cgroups none" in server.log_text():
        pytest.skip("no cgroups on this host: no MemoryUtilization")
    # The traffic's worker stays warm (keep-alive), so its memory is sampled.
    poll(lambda: listed("/aws/sagemaker/Endpoints", "MemoryUtilization"), bool, timeout=10,
         what="a memory sample")
    [dp] = cw.get_metric_statistics(
        Namespace="/aws/sagemaker/Endpoints", MetricName="MemoryUtilization", Dimensions=dims(name),
        StartTime=start, EndTime=end, Period=3600, Statistics=["Maximum"])["Datapoints"]
    assert dp["Unit"] == "Percent" and 0 < dp["Maximum"] < 100


def modern_calls(endpoint, start, end):
    return [
        {"service": "cloudwatch", "op": "GetMetricStatistics",
         "params": {"Namespace": NAMESPACE, "MetricName": "Invocations", "Dimensions": dims(endpoint),
                    "StartTime": iso(start), "EndTime": iso(end), "Period": 3600,
                    "Statistics": ["Sum"]}},
        {"service": "cloudwatch", "op": "GetMetricData",
         "params": {"MetricDataQueries": [
             {"Id": "q1", "MetricStat": {"Metric": {"Namespace": NAMESPACE,
                                                    "MetricName": "ModelLatency",
                                                    "Dimensions": dims(endpoint)},
                                         "Period": 3600, "Stat": "SampleCount"}}],
             "StartTime": iso(start), "EndTime": iso(end)}},
        {"service": "cloudwatch", "op": "ListMetrics",
         "params": {"Namespace": NAMESPACE, "MetricName": "Invocations",
                    "Dimensions": [{"Name": "EndpointName", "Value": endpoint}]}},
        {"service": "cloudwatch", "op": "GetMetricStatistics",
         "params": {"Namespace": NAMESPACE, "MetricName": "Invocations", "StartTime": iso(start),
                    "EndTime": iso(end), "Period": 90, "Statistics": ["Sum"]}},
    ]


def check_modern_results(results, traffic, start):
    stats, data, listed, error = results
    assert "error" not in stats, stats
    [dp] = stats["result"]["Datapoints"]
    assert dp["Sum"] == traffic["invocations"]
    assert datetime.datetime.fromisoformat(dp["Timestamp"]) == start
    [res] = data["result"]["MetricDataResults"]
    assert res["Values"] == [traffic["invocations"]]  # a model 4xx is a measured round trip too
    assert [m["Dimensions"] for m in listed["result"]["Metrics"]] == [dims(traffic["endpoint"])]
    assert error["error"]["Code"] == "InvalidParameterValue", error  # x-amzn-query-error mapped
    assert error["error"]["HTTPStatus"] == 400


def test_boto3_143_json_protocol(server, modern_python, traffic):
    start, end = window()
    out = run_modern_boto3(modern_python, server.endpoint_url,
                           modern_calls(traffic["endpoint"], start, end))
    assert not out["botocore"].startswith("1.29.")
    check_modern_results(out["results"], traffic, start)


def test_boto3_143_cbor_protocol_opt_in(server, modern_python, traffic, tmp_path):
    """botocore has no switch for the protocol: a model copy that lists only CBOR forces it."""
    probe = subprocess.run([modern_python, "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))"],
                           capture_output=True, text=True, check=True)
    src = Path(probe.stdout.strip()) / "data" / "cloudwatch" / "2010-08-01"
    model_file = src / "service-2.json.gz" if (src / "service-2.json.gz").exists() else src / "service-2.json"
    opener = gzip.open if model_file.suffix == ".gz" else open
    with opener(model_file, "rt") as f:
        model = json.load(f)
    if "smithy-rpc-v2-cbor" not in model["metadata"].get("protocols", []):
        pytest.skip("this botocore's CloudWatch model has no CBOR protocol")
    model["metadata"]["protocol"] = "smithy-rpc-v2-cbor"
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    target = tmp_path / "cloudwatch" / "2010-08-01"
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
    for extra in src.iterdir():
        if extra.name.startswith(("paginators", "waiters")):
            shutil.copy(extra, target / extra.name)
    start, end = window()
    env = client_env()
    env["AWS_DATA_PATH"] = str(tmp_path)
    proc = subprocess.run([modern_python, str(CLIENTS_DIR / "run_calls.py"), server.endpoint_url],
                          input=json.dumps(modern_calls(traffic["endpoint"], start, end)),
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    check_modern_results(json.loads(proc.stdout)["results"], traffic, start)


def run_aws(aws, server, *args):
    proc = subprocess.run([aws, "cloudwatch", *args, "--endpoint-url", server.endpoint_url,
                           "--region", REGION, "--output", "json"],
                          capture_output=True, text=True, env=client_env(), timeout=120)
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else None), proc.stderr


@pytest.mark.parametrize("which", ["cli-v2-query", "awscli-1.45-json"])
def test_aws_cli_get_metric_statistics(server, traffic, which):
    aws = "/usr/bin/aws" if which == "cli-v2-query" else find_non_system("aws")
    if aws is None or not os.path.exists(aws):
        pytest.skip(f"no {which} here")
    start, end = window()
    dim_args = [f"Name={d['Name']},Value={d['Value']}" for d in dims(traffic["endpoint"])]
    rc, out, err = run_aws(aws, server, "get-metric-statistics", "--namespace", NAMESPACE,
                           "--metric-name", "Invocations", "--dimensions", *dim_args,
                           "--start-time", iso(start), "--end-time", iso(end), "--period", "3600",
                           "--statistics", "Sum")
    assert rc == 0, err
    assert sum(dp["Sum"] for dp in out["Datapoints"]) == traffic["invocations"]
    rc, _, err = run_aws(aws, server, "get-metric-statistics", "--namespace", NAMESPACE,
                         "--metric-name", "Invocations", "--start-time", iso(start),
                         "--end-time", iso(end), "--period", "90", "--statistics", "Sum")
    assert rc != 0 and "InvalidParameterValue" in err and "multiple of 60" in err, err


@pytest.mark.parametrize("protocol", ["json", "cbor"])
def test_js_sdk_v3(server, traffic, protocol):
    if shutil.which("node") is None or not (JS_DIR / "node_modules").exists():
        pytest.skip("node or tests/e2e/clients/js/node_modules missing (scripts/install-deps.sh)")
    start, end = window()
    request = {"endpointUrl": server.endpoint_url, "protocol": protocol,
               "endpoint": traffic["endpoint"], "start": iso(start), "end": iso(end)}
    proc = subprocess.run(["node", str(JS_DIR / "cloudwatch_calls.mjs")], input=json.dumps(request),
                          capture_output=True, text=True, env=client_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["protocol"] == protocol
    [dp] = out["stats"]["Datapoints"]
    assert dp["Sum"] == traffic["invocations"]
    assert dp["Timestamp"] == start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert out["data"]["MetricDataResults"][0]["Values"] == [traffic["invocations"]]
    assert [m["MetricName"] for m in out["list"]["Metrics"]] == ["Invocations"]
    assert out["error"] == {"name": "InvalidParameterValueException", "code": "InvalidParameterValue",
                            "status": 400}


def test_aggregates_survive_a_restart(server, traffic):
    """Last in the module: persisted at shutdown, read back by the next run."""
    start, end = window()
    assert server.terminate() == 0
    server.start()
    out = server.client("cloudwatch").get_metric_statistics(Namespace=NAMESPACE, MetricName="Invocations",
                                   Dimensions=dims(traffic["endpoint"]), StartTime=start,
                                   EndTime=end, Period=3600, Statistics=["Sum"])
    assert sum(dp["Sum"] for dp in out["Datapoints"]) == traffic["invocations"]


def test_metrics_off(launch):
    """--metrics off: nothing recorded, and CloudWatch says so instead of answering empty."""
    srv = launch("--metrics", "off")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        srv.client("cloudwatch").list_metrics(Namespace=NAMESPACE)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert info.value.response["Error"]["Message"] == "Metrics are not enabled on this server."
