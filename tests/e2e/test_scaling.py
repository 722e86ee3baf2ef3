"""Scaling under concurrency against real sandboxed workers (issue 3, §4): N concurrent requests
get N workers, MaxConcurrency + k at once are answered with exactly k ThrottlingExceptions, and
ProvisionedConcurrency keeps its floor through keep-alive retirement.

The requests must overlap for these to mean anything, so they use a deliberately slow model (deep
trees, many rows per request): each request spends hundreds of milliseconds in predict, against the
few milliseconds it takes to send all of them. Nothing here asserts a duration."""

import functools
import re
import threading
import urllib.request

import botocore.exceptions
import numpy as np

from thaw_asserts import Resources, assert_in_service, raw_call
from thaw_harness import ModelStore, _tar_gz, poll, unique


@functools.lru_cache(maxsize=None)
def slow_model_bytes():
    """binary:logistic on 4 features, 100 trees grown to depth 8 on random labels (no pruning), so
    every prediction walks 8 levels of 100 trees."""
    import xgboost as xgb
    rng = np.random.default_rng(11)
    x = rng.normal(size=(1024, 4)).astype(np.float32)
    y = rng.integers(0, 2, size=1024).astype(np.float32)
    params = {"objective": "binary:logistic", "max_depth": 8, "min_child_weight": 0,
              "lambda": 0, "gamma": 0, "nthread": 1}
    booster = xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=100)
    return bytes(booster.save_raw(raw_format="json"))


@functools.lru_cache(maxsize=None)
def slow_body(rows=100_000):
    """About 2.5 MB of CSV: well under the 6 MB limit, slow enough to keep a worker busy."""
    rng = np.random.default_rng(5)
    values = rng.normal(size=(rows, 4))
    return "\n".join(",".join(f"{v:.2f}" for v in row) for row in values)


def workers(server, endpoint):
    with urllib.request.urlopen(f"{server.endpoint_url}/metrics", timeout=10) as r:
        text = r.read().decode()
    counts = {"starting": 0, "idle": 0, "busy": 0}
    for state, n in re.findall(
            r'thaw_workers\{endpoint="%s",variant="[^"]*",state="(\w+)"\} (\d+)' % re.escape(endpoint),
            text):
        if state in counts:  # a scikit-learn template is no request-serving worker
            counts[state] = int(n)
    return counts


def slow_endpoint(server, res, concurrency, provisioned=None):
    model = res.model(url=res.store.put(_tar(slow_model_bytes())))
    serverless = {"MemorySizeInMB": 1024, "MaxConcurrency": concurrency}
    if provisioned is not None:
        serverless["ProvisionedConcurrency"] = provisioned
    config = unique("config")
    # boto3 1.26 cannot send ProvisionedConcurrency: a hand-built request can.
    status, _, body = raw_call(server.port, "CreateEndpointConfig", {
        "EndpointConfigName": config,
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": model,
                                "ServerlessConfig": serverless}]})
    assert status == 200, body
    return res.endpoint(config)


def _tar(model):
    return _tar_gz([("xgboost-model", model)])


def burst(server, name, n, body):
    """Sends n invocations at once (released together by a barrier); returns (successes, errors)
    where errors are botocore ClientError responses."""
    barrier = threading.Barrier(n)
    lock = threading.Lock()
    ok, errors = [], []

    def call():
        rt = server.client("sagemaker-runtime")  # one client (and connection) per thread
        barrier.wait()
        try:
            resp = rt.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv")
            resp["Body"].read()
            with lock:
                ok.append(resp)
        except botocore.exceptions.ClientError as e:
            with lock:
                errors.append(e.response)

    threads = [threading.Thread(target=call) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok, errors


def test_n_concurrent_requests_get_n_workers(server, res):
    name = slow_endpoint(server, res, concurrency=5)
    ok, errors = burst(server, name, 3, slow_body())
    assert not errors and len(ok) == 3
    # Each request had a worker of its own, and each of them stays warm after its request.
    assert workers(server, name) == {"starting": 0, "idle": 3, "busy": 0}
    assert sum(1 for r in ok if r["ResponseMetadata"]["HTTPStatusCode"] == 200) == 3


def test_max_concurrency_plus_k_gets_exactly_k_throttles(server, res):
    name = slow_endpoint(server, res, concurrency=2)
    ok, errors = burst(server, name, 5, slow_body())
    assert len(ok) == 2
    assert len(errors) == 3
    for err in errors:
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert err["Error"]["Code"] == "ThrottlingException"
    assert workers(server, name)["idle"] == 2


def test_provisioned_floor_survives_keep_alive(launch):
    srv = launch("--keep-alive", "1")
    res = Resources(srv.client(), ModelStore(srv.data_dir))
    name = slow_endpoint(srv, res, concurrency=4, provisioned=2)
    # Warm from the deploy on: the floor is started before any request.
    poll(lambda: workers(srv, name), lambda w: w["idle"] == 2, timeout=30,
         what="two provisioned workers")
    # A burst above the floor gets extra workers; they retire after the keep-alive, the floor
    # does not.
    ok, errors = burst(srv, name, 3, slow_body(20_000))
    assert not errors and len(ok) == 3
    poll(lambda: workers(srv, name), lambda w: w == {"starting": 0, "idle": 2, "busy": 0},
         timeout=30, what="back to the provisioned floor")
    assert_in_service(res.sm, name)
