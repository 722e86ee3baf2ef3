"""The server process: graceful SIGTERM/SIGINT, durability across kill -9, deploy jobs resumed
after a crash or a stop, the --max-endpoints / --max-total-concurrency / --max-model-bytes limits,
and racing creates. Every test starts its own server."""

import concurrent.futures
import http.client
import signal

import pytest
from botocore.exceptions import ClientError

from thaw_asserts import (Resources, assert_in_service, describe_or_none, expect_error, settle,
                          wait_gone)
from thaw_harness import ModelStore, unique


def connect(srv):
    sm = srv.client()
    return sm, Resources(sm, ModelStore(srv.data_dir))


def snapshot(sm, models, configs, endpoints):
    """Every Describe output (minus ResponseMetadata) and the three listings."""
    def clean(response):
        return {k: v for k, v in response.items() if k != "ResponseMetadata"}

    def listing(op, key):
        return [clean(item) for item in getattr(sm, op)(MaxResults=100)[key]]

    return {
        "models": [clean(sm.describe_model(ModelName=n)) for n in models],
        "configs": [clean(sm.describe_endpoint_config(EndpointConfigName=n)) for n in configs],
        "endpoints": [clean(sm.describe_endpoint(EndpointName=n)) for n in endpoints],
        "lists": [listing("list_models", "Models"),
                  listing("list_endpoint_configs", "EndpointConfigs"),
                  listing("list_endpoints", "Endpoints")],
    }


def test_sigint_exits_zero(launch):
    srv = launch()
    srv.client().list_models()
    assert srv.signal(signal.SIGINT) == 0, srv.log_tail()


def test_sigterm_exits_zero_with_idle_keep_alive_connection(launch):
    srv = launch()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    conn.request("GET", "/ping")
    response = conn.getresponse()
    response.read()
    assert response.status == 200
    assert srv.terminate(timeout=20) == 0, srv.log_tail()
    conn.close()


def test_acknowledged_state_survives_kill_9(launch):
    srv = launch()
    sm, res = connect(srv)
    model = res.model()
    config, other_config = res.config(model=model), res.config(memory=6144, concurrency=200)
    kept = res.endpoint(config)
    updated = res.endpoint(config)
    sm.update_endpoint(EndpointName=updated, EndpointConfigName=other_config)
    assert_in_service(sm, updated, other_config)
    failed = res.endpoint(res.config(model=res.model(url=res.store.not_gzip())), wait=False)
    assert settle(sm, failed)["EndpointStatus"] == "Failed"
    gone_model, gone_endpoint = res.model(), res.endpoint(config)
    sm.delete_model(ModelName=gone_model)
    sm.delete_endpoint(EndpointName=gone_endpoint)
    wait_gone(sm, gone_endpoint)
    names = ([model], [config, other_config], [kept, updated, failed])
    before = snapshot(sm, *names)

    srv.restart_after_crash()
    sm, res = connect(srv)
    assert snapshot(sm, *names) == before
    expect_error(sm.describe_model, startswith="Could not find model", ModelName=gone_model)
    assert describe_or_none(sm, gone_endpoint) is None
    sm.update_endpoint(EndpointName=kept, EndpointConfigName=other_config)
    assert_in_service(sm, kept, other_config)


def test_jobs_in_flight_finish_after_kill_9(launch):
    srv = launch()
    sm, res = connect(srv)
    small = res.config()
    updating = res.endpoint(small)
    deleting = res.endpoint(small)
    big = res.config(model=res.model(url=res.store.large()), memory=3072)
    creating = res.endpoint(big, wait=False)
    sm.update_endpoint(EndpointName=updating, EndpointConfigName=big)
    sm.delete_endpoint(EndpointName=deleting)

    srv.restart_after_crash()
    sm = srv.client()
    assert sm.describe_endpoint(EndpointName=creating)["EndpointStatus"] in ("Creating",
                                                                             "InService")
    assert_in_service(sm, creating, big)
    assert_in_service(sm, updating, big)
    wait_gone(sm, deleting)


def test_sigterm_during_deploy_then_restart(launch):
    srv = launch()
    sm, res = connect(srv)
    config = res.config(model=res.model(url=res.store.large()))
    name = res.endpoint(config, wait=False)
    assert srv.terminate(timeout=30) == 0, srv.log_tail()
    srv.start()
    assert_in_service(srv.client(), name, config)


def test_max_endpoints_limit(launch):
    srv = launch("--max-endpoints", "2")
    sm, res = connect(srv)
    config = res.config()
    first, _ = res.endpoint(config), res.endpoint(config, wait=False)
    with pytest.raises(sm.exceptions.ResourceLimitExceeded) as info:
        res.endpoint(config)
    error = info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Message"] and error.get("Message") == error["Error"]["Message"]
    sm.delete_endpoint(EndpointName=first)
    wait_gone(sm, first)
    res.endpoint(config)


def test_max_total_concurrency_limit(launch):
    srv = launch("--max-total-concurrency", "12")
    sm, res = connect(srv)
    small, large = res.config(concurrency=5), res.config(concurrency=8)
    name = res.endpoint(small)
    res.endpoint(small)
    expect_error(res.endpoint, "ResourceLimitExceeded", config=small)
    expect_error(sm.update_endpoint, "ResourceLimitExceeded", EndpointName=name,
                 EndpointConfigName=large)
    assert_in_service(sm, name, small)


def test_max_model_bytes_limit(launch):
    srv = launch("--max-model-bytes", str(1 << 20))
    sm, res = connect(srv)
    assert_in_service(sm, res.endpoint())
    for url in (res.store.archive([("weights", bytes(16 << 20))]),  # a gzip bomb, 1000:1
                res.store.large(megabytes=2)):
        name = res.endpoint(res.config(model=res.model(url=url)), wait=False)
        desc = settle(sm, name)
        assert desc["EndpointStatus"] == "Failed"
        assert desc["FailureReason"].startswith(
            f'Failed to extract model data archive from URL "{url}"')


def parallel(calls):
    """Run the zero-argument callables at once; returns each result or the ClientError code."""
    def attempt(call):
        try:
            return call()
        except ClientError as e:
            return e.response["Error"]["Code"]

    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(attempt, calls))


def test_concurrent_creates_respect_uniqueness_and_limits(launch):
    srv = launch("--max-endpoints", "3")
    sm, res = connect(srv)
    clients = [srv.client() for _ in range(8)]
    model, url = unique("race"), res.store.xgboost()
    outcomes = parallel([lambda c=c: Resources(c, res.store).model(url=url, name=model)
                         for c in clients])
    assert outcomes.count(model) == 1
    assert outcomes.count("ValidationException") == len(clients) - 1

    config = res.config(model=model)
    outcomes = parallel([lambda c=c: Resources(c, res.store).endpoint(config, wait=False)
                         for c in clients])
    assert outcomes.count("ResourceLimitExceeded") == len(clients) - 3, outcomes
    assert len(sm.list_endpoints()["Endpoints"]) == 3
