"""GET /metrics in the Prometheus text format (issue 5 part 3): validated by `promtool check
metrics` (Debian's prometheus package; the test skips only when promtool is absent), and its
counters and histograms checked against the per-invocation values the server logged (debug level)
for a known sequence of successes, model 4xx errors and a cold start."""

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import botocore.exceptions
import pytest

CSV_ROW = "0.1,0.2,0.3,0.4"
MIB = 1024 * 1024


def scrape(server):
    with urllib.request.urlopen(f"{server.endpoint_url}/metrics", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.read().decode()


def samples(text):
    """{(name, frozenset(labels)): value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)', line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m[2] or ""))
        out[(m[1], labels)] = float(m[3])
    return out


def value(all_samples, name, **labels):
    return all_samples[(name, frozenset(labels.items()))]


def logged_records(server, endpoint):
    pattern = re.compile(
        r"record endpoint=%s variant=AllTraffic outcome=(\w+) model_latency_us=(\d+) "
        r"overhead_latency_us=(\d+) cold_start=(\w+) setup_us=(\d+) billed_ms=(\d+)"
        % re.escape(endpoint))
    return [{"outcome": m[0], "model": int(m[1]), "overhead": int(m[2]), "cold": m[3] == "true",
             "setup": int(m[4]), "billed_ms": int(m[5])}
            for m in pattern.findall(server.log_text())]


@pytest.fixture(scope="module")
def traffic(server, res):
    """A fresh endpoint (1024 MB, MaxConcurrency 3): a cold start, 10 successes, 2 model 4xx."""
    rt = server.client("sagemaker-runtime")
    name = res.endpoint(res.config(memory=1024, concurrency=3))
    for i in range(12):
        if i % 6 == 5:
            with pytest.raises(botocore.exceptions.ClientError) as info:
                rt.invoke_endpoint(EndpointName=name, Body='{"a": 1}', ContentType="application/json")
            assert info.value.response["OriginalStatusCode"] == 415
        else:
            rt.invoke_endpoint(EndpointName=name, Body=CSV_ROW, ContentType="text/csv")["Body"].read()
    return {"endpoint": name, "invocations": 12, "errors_4xx": 2, "memory_mb": 1024}


def test_promtool_accepts_the_exposition(server, traffic):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus; scripts/install-deps.sh)")
    text = scrape(server)
    out = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                         text=True, timeout=60)
    # promtool prints lint problems and exits 1; an empty report is a pass.
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "" and out.stderr.strip() == "", out.stdout + out.stderr


def test_counters_and_histograms_match_the_invocations(server, traffic):
    name = traffic["endpoint"]
    s = samples(scrape(server))  # the scrape drains the recorder: every record is logged now
    records = logged_records(server, name)
    assert len(records) == traffic["invocations"]
    ep = {"endpoint": name, "variant": "AllTraffic"}

    assert value(s, "thaw_invocations_total", **ep) == traffic["invocations"]
    assert value(s, "thaw_invocation_errors_total", **ep, **{"class": "4xx"}) == traffic["errors_4xx"]
    assert value(s, "thaw_invocation_errors_total", **ep, **{"class": "5xx"}) == 0
    assert value(s, "thaw_invocation_throttles_total", **ep) == 0

    for metric, values in [("thaw_model_latency_seconds", [r["model"] for r in records]),
                           ("thaw_overhead_latency_seconds", [r["overhead"] for r in records]),
                           ("thaw_model_setup_seconds", [r["setup"] for r in records if r["cold"]])]:
        assert value(s, metric + "_count", **ep) == len(values), metric
        assert value(s, metric + "_sum", **ep) == pytest.approx(sum(values) / 1e6, rel=1e-9), metric
        assert value(s, metric + "_bucket", **ep, le="+Inf") == len(values), metric
        for le in ("0.001", "0.01", "0.1", "1", "10"):
            expected = sum(v <= float(le) * 1e6 for v in values)
            assert value(s, metric + "_bucket", **ep, le=le) == expected, (metric, le)
    assert value(s, "thaw_model_setup_seconds_count", **ep) >= 1  # the fresh endpoint's first call

    billed_ms = sum(r["billed_ms"] for r in records)
    assert billed_ms >= traffic["invocations"]  # ≥ 1 ms each
    assert value(s, "thaw_billed_duration_seconds_total", **ep, capacity="OnDemand") == \
        pytest.approx(billed_ms / 1000, rel=1e-12)
    assert value(s, "thaw_billed_memory_byte_seconds_total", **ep, capacity="OnDemand") == \
        pytest.approx(billed_ms / 1000 * traffic["memory_mb"] * MIB, rel=1e-12)

    assert value(s, "thaw_max_concurrency", **ep) == 3
    assert value(s, "thaw_provisioned_concurrency", **ep) == 0
    assert value(s, "thaw_memory_size_bytes", **ep) == traffic["memory_mb"] * MIB
    assert value(s, "thaw_concurrent_executions", **ep) == 0
    assert value(s, "thaw_workers", **ep, state="busy") == 0
    assert value(s, "thaw_workers", **ep, state="idle") >= 1


DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "thaw-dashboard.json"
PROMQL_WORDS = {"sum", "by", "rate", "increase", "histogram_quantile", "label_values", "le",
                "endpoint", "class", "state"}


def dashboard_queries():
    dash = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    for var in dash["templating"]["list"]:
        if var["type"] == "query":
            queries.append(var["definition"])
    return queries


def test_every_dashboard_query_names_a_metric_thaw_exports(server, traffic):
    exported = set()
    for line in scrape(server).splitlines():
        if line.startswith("# TYPE "):
            family, kind = line.split()[2:4]
            exported.add(family)
            if kind == "histogram":
                exported |= {family + "_bucket", family + "_sum", family + "_count"}
    queries = dashboard_queries()
    assert len(queries) >= 10
    for query in queries:
        # Strip label matchers, variables and strings; what is left are function names, keywords
        # and metric names.
        bare = re.sub(r'\{[^}]*\}|\$\w+|"[^"]*"', " ", query)
        names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare)) - PROMQL_WORDS
        assert names, query
        assert names <= exported, (query, names - exported)
