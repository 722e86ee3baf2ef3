"""The keep-alive policy's state through the public CloudWatch API (issue 9): namespace
thaw/KeepAlive, served live from the fleet's keep-alive snapshot (the one /metrics renders as
thaw_keepalive). boto3's list_metrics and get_metric_data read the policy, its window, the
learned idle-time histogram (one IdleTimes series per non-empty bin, dimension Bin), the retire
time of an idle endpoint and the counters, which must equal /metrics'. Nothing asserts a
duration: the sleeps only make idle periods the histogram records."""

import datetime as dt
import time

from test_keep_alive import keepalive
from thaw_asserts import Resources
from thaw_harness import ModelStore, unique

BODY = "1.0,2.0,3.0,4.0"
NS = "thaw/KeepAlive"


def dims(endpoint, **extra):
    d = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}]
    return d + [{"Name": k, "Value": v} for k, v in extra.items()]


def current(cw, queries):
    """Maximum of each (id, metric, dims) now: one datapoint per live series."""
    now = dt.datetime.now(dt.timezone.utc)
    r = cw.get_metric_data(
        MetricDataQueries=[{"Id": qid, "MetricStat": {
            "Metric": {"Namespace": NS, "MetricName": name, "Dimensions": d},
            "Period": 60, "Stat": "Maximum"}} for qid, name, d in queries],
        StartTime=now - dt.timedelta(minutes=5), EndTime=now + dt.timedelta(minutes=1))
    return {m["Id"]: (m["Values"][0] if m["Values"] else None) for m in r["MetricDataResults"]}


def test_keep_alive_state_is_a_cloudwatch_namespace(launch):
    srv = launch("--keep-alive", "1", "--keep-alive-bin-ms", "1000")
    sm = srv.client()
    cw = srv.client("cloudwatch")
    res = Resources(sm, ModelStore(srv.data_dir))
    adaptive = res.endpoint(res.config(memory=1024, concurrency=2))
    pinned_config = unique("config")
    sm.create_endpoint_config(
        EndpointConfigName=pinned_config,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": res.model(),
                             "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 1}}],
        Tags=[{"Key": "thaw:keep-alive", "Value": "60"}])
    pinned = res.endpoint(pinned_config)
    rt = srv.client("sagemaker-runtime")
    for i in range(4):
        if i:
            time.sleep(1.3)  # an idle time in the 1-second bin 1
        before_last_idle = time.time()
        for name in (adaptive, pinned):
            rt.invoke_endpoint(EndpointName=name, Body=BODY, ContentType="text/csv")["Body"].read()

    listed = cw.list_metrics(Namespace=NS, Dimensions=[{"Name": "EndpointName", "Value": adaptive}])
    names = {m["MetricName"] for m in listed["Metrics"]}
    assert {"Policy", "KeepAliveSeconds", "PrewarmAfterSeconds", "RetireAt", "IdleTimes",
            "IdleTimesOutOfRange", "IdleTimeBinSeconds", "Requests", "ColdStarts", "Prewarms",
            "PrewarmHits", "WastedPrewarms", "IdleWorkerSeconds", "IdleGBSeconds"} <= names, names
    policy = [m for m in listed["Metrics"] if m["MetricName"] == "Policy"]
    assert [d["Value"] for d in policy[0]["Dimensions"] if d["Name"] == "Policy"] == ["adaptive"]
    bins = sorted(int(d["Value"]) for m in listed["Metrics"] if m["MetricName"] == "IdleTimes"
                  for d in m["Dimensions"] if d["Name"] == "Bin")
    assert bins, listed["Metrics"]

    q = [(f"b{b}", "IdleTimes", dims(adaptive, Bin=str(b))) for b in bins]
    q += [("keep", "KeepAliveSeconds", dims(adaptive)), ("retire", "RetireAt", dims(adaptive)),
          ("binw", "IdleTimeBinSeconds", dims(adaptive)), ("oob", "IdleTimesOutOfRange", dims(adaptive)),
          ("req", "Requests", dims(adaptive)), ("cold", "ColdStarts", dims(adaptive)),
          ("pkeep", "KeepAliveSeconds", dims(pinned)),
          ("ppolicy", "Policy", dims(pinned, Policy="fixed"))]
    v = current(cw, q)
    # Three idle periods between four requests, each in range (the histogram spans 240 s).
    assert sum(v[f"b{b}"] for b in bins) + v["oob"] == 3, v
    assert v["binw"] == 1.0
    assert v["req"] == 4
    # An idle endpoint retires its last worker at idle start + KeepAliveSeconds.
    assert before_last_idle <= v["retire"] - v["keep"] <= time.time(), v
    assert v["pkeep"] == 60 and v["ppolicy"] == 1, v
    # The same snapshot as /metrics.
    assert v["cold"] == keepalive(srv, adaptive)["cold_starts"]
    assert v["keep"] == keepalive(srv, adaptive)["keep_alive_seconds"]

    # GetMetricStatistics too, with its unit; a window in the past has no datapoint (no history).
    now = dt.datetime.now(dt.timezone.utc)
    st = cw.get_metric_statistics(Namespace=NS, MetricName="KeepAliveSeconds", Dimensions=dims(pinned),
                                  StartTime=now - dt.timedelta(minutes=5),
                                  EndTime=now + dt.timedelta(minutes=1), Period=60,
                                  Statistics=["Maximum", "SampleCount"])
    assert len(st["Datapoints"]) == 1
    assert st["Datapoints"][0]["Maximum"] == 60 and st["Datapoints"][0]["SampleCount"] == 1
    assert st["Datapoints"][0]["Unit"] == "Seconds"
    past = cw.get_metric_statistics(Namespace=NS, MetricName="KeepAliveSeconds", Dimensions=dims(pinned),
                                    StartTime=now - dt.timedelta(hours=2),
                                    EndTime=now - dt.timedelta(hours=1), Period=60,
                                    Statistics=["Maximum"])
    assert past["Datapoints"] == []

    # A deleted endpoint has no keep-alive state any more.
    sm.delete_endpoint(EndpointName=pinned)
    deadline = time.time() + 30
    while time.time() < deadline:
        left = cw.list_metrics(Namespace=NS, Dimensions=[{"Name": "EndpointName", "Value": pinned}])
        if not left["Metrics"]:
            break
        time.sleep(0.2)
    assert not left["Metrics"]
