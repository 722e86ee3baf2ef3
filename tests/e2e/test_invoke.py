"""InvokeEndpoint against real sandboxed workers running the XGBoost 1.7-1 runtime (issue 3):
the seed's walkthrough, AWS's runtime errors, scaling to zero, and failures that stay contained."""

import json
import os
import re
import signal
import threading
import urllib.request

import botocore.exceptions
import numpy as np
import pytest
import xgboost as xgb

from thaw_asserts import Resources, assert_in_service
from thaw_harness import ModelStore, poll, unique, xgboost_model_bytes


def fresh(launch, *args):
    """A server of its own (for options or crashes), and a Resources helper on it."""
    srv = launch(*args)
    return srv, Resources(srv.client(), ModelStore(srv.data_dir))


def runtime(server):
    return server.client("sagemaker-runtime")


def csv_rows(n, seed=1):
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(n, 4)).astype(np.float32)
    return rows, "\n".join(",".join(repr(float(v)) for v in row) for row in rows)


def python_predictions(rows):
    booster = xgb.Booster()
    booster.load_model(bytearray(xgboost_model_bytes()))
    return booster.predict(xgb.DMatrix(rows))


def workers(server, endpoint):
    """thaw_workers{endpoint=…} by state, from GET /metrics."""
    with urllib.request.urlopen(f"{server.endpoint_url}/metrics", timeout=10) as r:
        text = r.read().decode()
    counts = {}
    for state, n in re.findall(
            r'thaw_workers\{endpoint="%s",variant="[^"]*",state="(\w+)"\} (\d+)' % re.escape(endpoint),
            text):
        counts[state] = int(n)
    return counts


def invoke(rt, name, body, content_type="text/csv", **kw):
    return rt.invoke_endpoint(EndpointName=name, Body=body, ContentType=content_type, **kw)


def test_seed_walkthrough_cold_then_warm(server, res):
    rt = runtime(server)
    name = res.endpoint(res.config(memory=2048, concurrency=10))
    assert workers(server, name).get("idle", 0) == 0  # deployed, and at zero workers
    rows, body = csv_rows(5)
    first = invoke(rt, name, body)
    assert first["ContentType"].startswith("text/csv")
    assert first["InvokedProductionVariant"] == "AllTraffic"
    got = [float(line) for line in first["Body"].read().decode().splitlines()]
    np.testing.assert_allclose(got, python_predictions(rows), atol=1e-6)
    assert workers(server, name)["idle"] == 1  # the cold-started worker stays warm
    second = invoke(rt, name, body)
    assert [float(x) for x in second["Body"].read().decode().splitlines()] == got
    assert workers(server, name)["idle"] == 1


def test_json_accept(server, res):
    rt = runtime(server)
    name = res.endpoint()
    rows, body = csv_rows(2)
    out = invoke(rt, name, body, Accept="application/json")
    scores = [p["score"] for p in json.loads(out["Body"].read())["predictions"]]
    np.testing.assert_allclose(scores, python_predictions(rows), atol=1e-6)


def test_unknown_endpoint_is_validation_error(server):
    rt = runtime(server)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        invoke(rt, "no-such-endpoint", "1,2,3,4")
    err = info.value.response["Error"]
    assert err["Code"] == "ValidationError"
    assert err["Message"] == "Endpoint no-such-endpoint of account 123456789012 not found."
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_model_4xx_is_model_error_424(server, res):
    rt = runtime(server)
    name = res.endpoint()
    with pytest.raises(botocore.exceptions.ClientError) as info:
        invoke(rt, name, '{"a": 1}', content_type="application/json")
    resp = info.value.response
    assert resp["Error"]["Code"] == "ModelError"
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert resp["OriginalStatusCode"] == 415
    assert resp["Error"]["Message"].startswith("Received client error (415) from primary with message")
    # The stream of the worker that answered 4xx (see test_logs.py for what it holds).
    assert re.fullmatch(rf"arn:aws:logs:us-east-1:\d{{12}}:log-group:/aws/sagemaker/Endpoints/"
                        rf"{name}:log-stream:AllTraffic/{name}\.\d+\.[0-9a-f]+",
                        resp["LogStreamArn"]), resp["LogStreamArn"]


def test_oversize_body(launch):
    srv, res = fresh(launch, "--max-request-bytes", "2048")
    name = res.endpoint()
    with pytest.raises(botocore.exceptions.ClientError) as info:
        invoke(runtime(srv), name, "1," * 4000)
    err = info.value.response["Error"]
    assert err["Code"] == "ValidationError"
    assert re.fullmatch(r"Request \S+ has oversize body\.", err["Message"])


def test_idle_endpoint_scales_to_zero(launch):
    srv, res = fresh(launch, "--keep-alive", "1")
    name = res.endpoint()
    invoke(runtime(srv), name, "1,2,3,4")
    assert workers(srv, name)["idle"] == 1
    poll(lambda: workers(srv, name), lambda w: sum(w.values()) == 0, timeout=20,
         what="idle workers to retire")
    # and it comes back from zero
    invoke(runtime(srv), name, "1,2,3,4")


def test_update_under_load_loses_no_request(server, res):
    name = res.endpoint(res.config(concurrency=4))
    rt = runtime(server)
    stop = threading.Event()
    failures, done = [], [0]

    def load():
        while not stop.is_set():
            try:
                invoke(rt, name, "1,2,3,4")
                done[0] += 1
            except Exception as e:  # noqa: BLE001
                failures.append(e)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for memory in (4096, 1024):
            config = res.config(memory=memory, concurrency=4)
            res.sm.update_endpoint(EndpointName=name, EndpointConfigName=config)
            assert_in_service(res.sm, name, config)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not failures, failures[:3]
    assert done[0] > 0


def test_instance_endpoint_migrates_to_serverless_in_place(server, res):
    rt = runtime(server)
    model = res.model()
    instance = unique("instance")
    res.sm.create_endpoint_config(EndpointConfigName=instance, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": model, "InstanceType": "ml.m5.large",
         "InitialInstanceCount": 1}])
    name = res.endpoint(instance)
    assert workers(server, name).get("idle", 0) + workers(server, name).get("starting", 0) >= 1
    invoke(rt, name, "1,2,3,4")
    serverless = res.config(model=model, concurrency=10)
    res.sm.update_endpoint(EndpointName=name, EndpointConfigName=serverless)
    assert_in_service(res.sm, name, serverless)
    invoke(rt, name, "1,2,3,4")


def test_bad_model_fails_the_deploy_with_the_ping_reason(server, res):
    url = res.store.archive([("README", b"not a model\n")])  # every top-level file is a model
    name = res.endpoint(res.config(model=res.model(url=url)), wait=False)
    desc = poll(lambda: res.sm.describe_endpoint(EndpointName=name),
                lambda d: d["EndpointStatus"] != "Creating", what="deploy to finish")
    assert desc["EndpointStatus"] == "Failed"
    assert desc["FailureReason"].startswith(
        "The primary container for production variant AllTraffic did not pass the ping health check.")


def test_killed_worker_fails_only_its_request_and_recovers(server, res):
    rt = runtime(server)
    name = res.endpoint()
    invoke(rt, name, "1,2,3,4")
    pids = worker_pids(server)
    assert pids, "no worker process found"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    # The next request may land on the dead worker (ModelError) or a fresh one; after that the
    # endpoint serves again.
    try:
        invoke(rt, name, "1,2,3,4")
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "ModelError"
    invoke(rt, name, "1,2,3,4")


def worker_pids(server):
    """Host pids of the server's worker processes (grandchildren: server → zygote → worker)."""
    children = _children(server.proc.pid)
    return [p for z in children for p in _children(z)]


def _children(pid):
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def test_restart_first_invoke_cold_starts(launch):
    srv, res = fresh(launch)
    name = res.endpoint()
    invoke(runtime(srv), name, "1,2,3,4")
    srv.restart_after_crash()  # kill -9, then start on the same data dir
    assert workers(srv, name).get("idle", 0) == 0
    out = invoke(runtime(srv), name, "1,2,3,4")
    assert out["Body"].read()
