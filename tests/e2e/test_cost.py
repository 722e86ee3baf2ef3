"""`thaw cost` (issue 5 part 5) against a real server: it reads the thaw/Billing series through the
public CloudWatch API (SigV4 for `monitoring`), and its GB-seconds must equal memory × the
durations the server measured, each rounded up to 1 ms as SageMaker bills them (the per-invocation
values come from the server's debug log). Provisioned concurrency is billed per second allocated
(thaw/Billing ProvisionedConcurrencySeconds × memory), cross-checked against the Prometheus
counter of the same allocation."""

import json
import math
import re
import subprocess
import time
import urllib.request

import pytest

from thaw_asserts import raw_call
from thaw_harness import client_env, thaw_binary, unique

CSV_ROW = "0.1,0.2,0.3,0.4"


def records(server, endpoint):
    pattern = re.compile(
        r"record endpoint=%s variant=AllTraffic outcome=(\w+) model_latency_us=(\d+) "
        r"overhead_latency_us=\d+ cold_start=\w+ setup_us=\d+ billed_ms=(\d+)" % re.escape(endpoint))
    return [{"outcome": m[0], "model_us": int(m[1]), "billed_ms": int(m[2])}
            for m in pattern.findall(server.log_text())]


def cost(server, *args):
    proc = subprocess.run([str(thaw_binary()), "cost", "--endpoint-url", server.endpoint_url, *args],
                          capture_output=True, text=True, env=client_env(), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def workload(server, res):
    """Two endpoints of different memory sizes with a known number of invocations each."""
    rt = server.client("sagemaker-runtime")
    model = res.model()
    endpoints = {}
    for memory, count in [(2048, 6), (1024, 3)]:
        name = res.endpoint(res.config(model=model, memory=memory))
        for _ in range(count):
            rt.invoke_endpoint(EndpointName=name, Body=CSV_ROW, ContentType="text/csv")["Body"].read()
        endpoints[name] = {"memory_mb": memory, "invocations": count}
    return endpoints


def test_gb_seconds_are_memory_times_the_measured_durations(server, workload):
    report = json.loads(cost(server, "--since", "1h", "--json"))
    rows = {row["Endpoint"]: row for row in report["Endpoints"]}
    total_gbs = 0
    for name, ep in workload.items():
        recs = records(server, name)  # the query drained the recorder: every record is logged
        assert len(recs) == ep["invocations"]
        for r in recs:  # SageMaker's rule: each duration rounded up to the next millisecond
            assert r["billed_ms"] == math.ceil(r["model_us"] / 1000)
        billed_ms = sum(r["billed_ms"] for r in recs)
        row = rows[name]
        assert row["Variant"] == "AllTraffic"
        assert row["MemorySizeInMB"] == ep["memory_mb"]
        assert row["Requests"] == ep["invocations"]
        assert row["BilledSeconds"] == pytest.approx(billed_ms / 1000, rel=1e-12)
        gbs = billed_ms / 1000 * ep["memory_mb"] / 1024
        assert row["GBSeconds"] == pytest.approx(gbs, rel=1e-12)
        assert row["ServerlessCostUSD"] == pytest.approx(gbs * 0.00002, rel=1e-12)
        assert row["BreakEvenRequestsPerHour"] == pytest.approx(
            row["InstanceHourlyUSD"] / (row["ServerlessCostUSD"] / ep["invocations"]), rel=1e-9)
        total_gbs += gbs
    assert report["WindowSeconds"] == pytest.approx(3600, abs=1)
    assert report["Total"]["GBSeconds"] == pytest.approx(total_gbs, rel=1e-9)


def test_prices_instance_and_endpoint_filter(server, workload):
    name, ep = next(iter(workload.items()))
    report = json.loads(cost(server, "--since", "2h", "--endpoint", name, "--json",
                             "--price-gb-second", "0.001", "--price-request", "0.5",
                             "--instance", "ml.m5.large", "--instance-price", "0.134"))
    [row] = report["Endpoints"]
    assert row["Endpoint"] == name
    assert row["ServerlessCostUSD"] == pytest.approx(
        row["GBSeconds"] * 0.001 + ep["invocations"] * 0.5, rel=1e-12)
    assert row["InstanceType"] == "ml.m5.large"
    assert row["InstanceCostUSD"] == pytest.approx(0.134 * 2, rel=1e-6)
    assert row["SavingsUSD"] == pytest.approx(row["InstanceCostUSD"] - row["ServerlessCostUSD"])


def test_table_and_an_empty_window(server, workload):
    table = cost(server, "--since", "1h")
    for name in workload:
        assert re.search(r"^%s\s+AllTraffic\s+\d+\s" % re.escape(name), table, re.M), table
    assert "TOTAL" in table and "/month" in table
    # A window in the past holds nothing.
    empty = cost(server, "--start", "2020-01-01T00:00:00Z", "--end", "2020-01-02T00:00:00Z")
    assert "no billed invocations" in empty


def test_bad_window_is_a_usage_error(server):
    proc = subprocess.run([str(thaw_binary()), "cost", "--endpoint-url", server.endpoint_url,
                           "--since", "yesterday"], capture_output=True, text=True,
                          env=client_env(), timeout=60)
    assert proc.returncode == 2
    assert "bad duration" in proc.stderr


def prometheus_pc_seconds(server, endpoint):
    with urllib.request.urlopen(f"{server.endpoint_url}/metrics", timeout=10) as r:
        text = r.read().decode()
    m = re.search(r'^thaw_provisioned_concurrency_seconds_total\{endpoint="%s",variant="AllTraffic"\} '
                  r'(\S+)$' % re.escape(endpoint), text, re.M)
    assert m, text
    return float(m[1])


def test_provisioned_concurrency_is_billed_per_second_allocated(server, res):
    """ProvisionedConcurrency 1 at 1024 MB for a few seconds: the allocation is priced at
    --price-provisioned-gb-second, the requests it served at --price-provisioned-inference-gb-second,
    and both are in the total, the projection and the savings."""
    config = unique("config")
    # boto3 1.26 cannot send ProvisionedConcurrency: a hand-built request can.
    status, _, body = raw_call(server.port, "CreateEndpointConfig", {
        "EndpointConfigName": config,
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": res.model(),
                                "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 2,
                                                     "ProvisionedConcurrency": 1}}]})
    assert status == 200, body
    name = res.endpoint(config)
    rt = server.client("sagemaker-runtime")
    for _ in range(3):
        rt.invoke_endpoint(EndpointName=name, Body=CSV_ROW, ContentType="text/csv")["Body"].read()
    time.sleep(3)  # a few one-second allocation samples (the test asserts > 0, not a duration)
    report = json.loads(cost(server, "--since", "1h", "--endpoint", name, "--json",
                             "--price-provisioned-gb-second", "0.001",
                             "--price-provisioned-inference-gb-second", "0.0001",
                             "--compare", "ml.m5.large"))
    after = prometheus_pc_seconds(server, name)
    [row] = report["Endpoints"]
    assert row["Endpoint"] == name and row["MemorySizeInMB"] == 1024
    assert row["Requests"] == 3
    pc_seconds = row["ProvisionedConcurrencySeconds"]
    assert 0 < pc_seconds <= after + 1e-9  # PC 1: one allocated second per second, as Prometheus
    assert row["ProvisionedConcurrencyGBSeconds"] == pytest.approx(pc_seconds * 1024 / 1024)
    assert row["ProvisionedConcurrencyCostUSD"] == pytest.approx(pc_seconds * 0.001, rel=1e-12)
    on_pc = row["ProvisionedInferenceGBSeconds"]
    assert 0 < on_pc <= row["GBSeconds"] + 1e-12  # warm PC served at least one of the three
    assert row["InferenceCostUSD"] == pytest.approx(
        (row["GBSeconds"] - on_pc) * 0.00002 + on_pc * 0.0001, rel=1e-9, abs=1e-15)
    assert row["ServerlessCostUSD"] == pytest.approx(
        row["InferenceCostUSD"] + row["ProvisionedConcurrencyCostUSD"], rel=1e-12)
    assert row["ProjectedMonthlyUSD"] == pytest.approx(
        row["ServerlessCostUSD"] * 30 * 86400 / report["WindowSeconds"], rel=1e-9)
    assert row["InstanceType"] == "ml.m5.large"
    assert row["InstanceHourlyUSD"] == pytest.approx(0.134)  # the seed's figure, by default
    assert row["SavingsUSD"] == pytest.approx(row["InstanceCostUSD"] - row["ServerlessCostUSD"])
    assert report["Total"]["ProvisionedConcurrencyCostUSD"] == pytest.approx(
        row["ProvisionedConcurrencyCostUSD"])
    table = cost(server, "--since", "1h", "--endpoint", name)
    assert "PROVISIONED" in table and "provisioned concurrency $" in table
