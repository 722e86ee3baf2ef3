"""Per-endpoint logs and the CloudWatch Logs API (issue 5 part 4, issue 9 part 1): every worker's
stdout/stderr and thaw's own lines about it land in the stream `AllTraffic/<worker id>` of the
group /aws/sagemaker/Endpoints/<name>; boto3 (old and new), both aws CLIs and `thaw logs` read
them; ModelError's LogStreamArn names the stream that holds the failing model's traceback."""

import json
import subprocess
import time
from pathlib import Path

import botocore.exceptions
import pytest

from test_custom import custom_endpoint, invoke
from test_sklearn import MODEL_FN_ONLY, RAISER, iris, sklearn_endpoint  # noqa: F401 (fixture)
from thaw_harness import REGION, client_env, poll, run_modern_boto3, thaw_binary

GROUP = "/aws/sagemaker/Endpoints/"


@pytest.fixture(scope="module")
def logs(server):
    return server.client("logs")


def events_of(logs, name, **kw):
    """Every event of the endpoint's group (paginated), as (stream, message) pairs."""
    out = []
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=GROUP + name, **kw)
    for page in pages:
        out.extend((e["logStreamName"], e["message"]) for e in page["events"])
    return out


def wait_for_message(logs, name, needle, timeout=30.0, **kw):
    def fetch():
        try:
            return events_of(logs, name, **kw)
        except botocore.exceptions.ClientError:
            return []
    return poll(fetch, lambda evs: any(needle in m for _, m in evs), timeout=timeout, interval=0.2,
                what=f"log line {needle!r} of {name}")


def test_program_output_goes_to_its_workers_stream(server, res, logs):
    name = custom_endpoint(res)
    assert json.loads(invoke(server, name, b"print:hello from the model",
                             ContentType="text/plain")["Body"].read())["printed"]
    events = wait_for_message(logs, name, "stderr: hello from the model")
    streams = {s for s, m in events if "hello from the model" in m}
    assert len(streams) == 1
    stream = streams.pop()
    assert stream.startswith("AllTraffic/")
    messages = [m for s, m in events if s == stream]
    assert "hello from the model" in messages  # stdout, one event per line
    assert any(m.startswith("thaw: worker started (cold start): ready in") for m in messages)
    # The group and the stream as DescribeLogGroups / DescribeLogStreams show them.
    groups = logs.describe_log_groups(logGroupNamePrefix=GROUP + name)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [GROUP + name]
    assert groups[0]["arn"].startswith(f"arn:aws:logs:{REGION}:")
    described = logs.describe_log_streams(logGroupName=GROUP + name)["logStreams"]
    names = [s["logStreamName"] for s in described]
    assert stream in names
    mine = next(s for s in described if s["logStreamName"] == stream)
    assert mine["firstEventTimestamp"] <= mine["lastEventTimestamp"]
    assert mine["arn"].endswith(f":log-stream:{stream}")
    # GetLogEvents reads the one stream, from the head, page by page.
    got, token = [], None
    while True:
        kw = {"nextToken": token} if token else {"startFromHead": True}
        page = logs.get_log_events(logGroupName=GROUP + name, logStreamName=stream, limit=1, **kw)
        if not page["events"]:
            break
        got.extend(e["message"] for e in page["events"])
        token = page["nextForwardToken"]
    assert got == messages


def test_filter_patterns_time_range_and_pagination(server, res, logs):
    name = custom_endpoint(res)
    for word in ("alpha one", "beta two", "alpha three"):
        invoke(server, name, f"print:{word}".encode(), ContentType="text/plain")
    wait_for_message(logs, name, "alpha three")
    group = GROUP + name
    only = [m for _, m in events_of(logs, name, filterPattern='"alpha" -stderr')]
    assert only == ["alpha one", "alpha three"]
    phrase = [m for _, m in events_of(logs, name, filterPattern='"beta two" -stderr')]
    assert phrase == ["beta two"]
    # limit + nextToken walk the interleaved events in order, without loss or repetition.
    everything = events_of(logs, name)
    walked, token = [], None
    while True:
        kw = {"nextToken": token} if token else {}
        page = logs.filter_log_events(logGroupName=group, limit=2, **kw)
        walked.extend((e["logStreamName"], e["message"]) for e in page["events"])
        token = page.get("nextToken")
        if not token:
            break
    assert walked == everything
    # A time range after every event holds none.
    future = int(time.time() * 1000) + 3_600_000
    assert logs.filter_log_events(logGroupName=group, startTime=future)["events"] == []


def test_missing_group_and_stream_are_resource_not_found(logs):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        logs.filter_log_events(logGroupName=GROUP + "no-such-endpoint")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(botocore.exceptions.ClientError) as info:
        logs.filter_log_events(logGroupName=GROUP + "x", nextToken="garbage")
    assert info.value.response["Error"]["Code"] in ("ResourceNotFoundException",
                                                    "InvalidParameterException")


def test_sklearn_logging_and_failing_model_traceback(server, store, iris, logs):  # noqa: F811
    rt = server.client("sagemaker-runtime")
    code = MODEL_FN_ONLY + '''
import logging
logging.basicConfig(level=logging.INFO)
log = logging.getLogger("inference")


def predict_fn(data, model):
    log.info("predicting %d rows", len(data))
    print("print from predict_fn")
    return model.predict(data)
'''
    name = sklearn_endpoint(server.client(), store, iris, {"inference.py": code})
    rt.invoke_endpoint(EndpointName=name, Body=json.dumps([[5.1, 3.5, 1.4, 0.2]]),
                       ContentType="application/json")
    wait_for_message(logs, name, "INFO:inference:predicting 1 rows")
    wait_for_message(logs, name, "print from predict_fn")

    broken = sklearn_endpoint(server.client(), store, iris, {"inference.py": RAISER})
    with pytest.raises(botocore.exceptions.ClientError) as info:
        rt.invoke_endpoint(EndpointName=broken, Body=json.dumps([[1, 2, 3, 4]]),
                           ContentType="application/json")
    err = info.value.response
    assert err["Error"]["Code"] == "ModelError"
    arn = err["LogStreamArn"]
    prefix = f"arn:aws:logs:{REGION}:123456789012:log-group:{GROUP}{broken}:log-stream:"
    assert arn.startswith(prefix), arn
    stream = arn[len(prefix):]
    request_id = err["ResponseMetadata"]["RequestId"]

    def stream_messages():
        page = logs.get_log_events(logGroupName=GROUP + broken, logStreamName=stream,
                                   startFromHead=True)
        return [e["message"] for e in page["events"]]
    messages = poll(stream_messages, lambda ms: any(request_id in m for m in ms), timeout=30,
                    interval=0.2,
                    what="the failed request's line")
    text = "\n".join(messages)
    assert "Traceback (most recent call last):" in text
    assert "ValueError: this model refuses to predict" in text
    assert f"thaw: request {request_id} failed: ModelError" in text


def test_crash_is_in_the_workers_stream(server, res, logs):
    name = custom_endpoint(res)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        invoke(server, name, b"crash", ContentType="text/plain")
    arn = info.value.response["LogStreamArn"]
    stream = arn.split(":log-stream:", 1)[1]
    events = wait_for_message(logs, name, "exited", logStreamNames=[stream])
    text = "\n".join(m for _, m in events)
    assert "thaw: worker" in text and "exited" in text


def test_old_and_new_clients_read_the_logs(server, res, logs, modern_python):
    name = custom_endpoint(res)
    invoke(server, name, b"print:for every client", ContentType="text/plain")
    wait_for_message(logs, name, "stderr: for every client")
    group = GROUP + name
    # boto3 1.43 (pyenv's python3): FilterLogEvents through its paginator.
    out = run_modern_boto3(modern_python, server.endpoint_url, [
        {"service": "logs", "op": "FilterLogEvents", "paginate": True,
         "params": {"logGroupName": group, "filterPattern": '"for every client"'}}])
    pages = out["results"][0]["result"]
    messages = [e["message"] for p in pages for e in p["events"]]
    assert "for every client" in messages
    # The aws CLI v1 on PATH (no `tail`): filter-log-events and get-log-events.
    env = client_env()
    proc = subprocess.run(["aws", "logs", "filter-log-events", "--log-group-name", group,
                           "--filter-pattern", '"for every client"', "--endpoint-url",
                           server.endpoint_url, "--region", REGION, "--output", "json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    stream = json.loads(proc.stdout)["events"][0]["logStreamName"]
    proc = subprocess.run(["aws", "logs", "get-log-events", "--log-group-name", group,
                           "--log-stream-name", stream, "--start-from-head", "--endpoint-url",
                           server.endpoint_url, "--region", REGION, "--output", "json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "for every client" in [e["message"] for e in json.loads(proc.stdout)["events"]]
    # `thaw logs` (signed for the logs service).
    proc = subprocess.run([thaw_binary(), "logs", name, "--since", "1h", "--endpoint-url",
                           server.endpoint_url, "--filter-pattern", "client"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.endswith(f"{stream} for every client") for line in lines), lines


def follow(cmd, server, name, needle, env):
    """Starts `cmd` (a follower), makes the endpoint print `needle`, and waits for the follower
    to show it; the follower is stopped either way. Reads the raw pipe (os.read after select):
    a buffered readline would hide lines that select() no longer reports."""
    import os
    import selectors
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        time.sleep(1.0)  # let it make its first poll
        invoke(server, name, f"print:{needle}".encode(), ContentType="text/plain")
        deadline = time.time() + 60
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        data = b""
        while time.time() < deadline:
            if not sel.select(timeout=1.0):
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            data += chunk
            for line in data.decode(errors="replace").splitlines():
                if needle in line and "stderr:" not in line:
                    return line
        raise AssertionError(f"the follower never showed {needle!r}: {data!r} "
                             f"(exit {proc.poll()})")
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_tail_follow_sees_a_new_line(server, res):
    name = custom_endpoint(res)
    invoke(server, name, b"print:before following", ContentType="text/plain")
    env = client_env()
    line = follow(["/usr/bin/aws", "logs", "tail", GROUP + name, "--follow", "--since", "1h",
                   "--endpoint-url", server.endpoint_url, "--region", REGION],
                  server, name, "a new line for aws tail", env)
    assert "AllTraffic/" in line
    line = follow([thaw_binary(), "logs", name, "--follow", "--since", "1h", "--endpoint-url",
                   server.endpoint_url], server, name, "a new line for thaw logs", env)
    assert "AllTraffic/" in line
