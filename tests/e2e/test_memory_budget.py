"""The node memory budget (issue 3 §4): the MemorySizeInMB sum of all live workers never exceeds
--memory-budget-mb. A cold start that does not fit retires other endpoints' idle workers, least
recently used first; if it still does not fit, InvokeEndpoint answers ServiceUnavailable (503)."""

import re
import urllib.request

import botocore.exceptions
import pytest

from thaw_asserts import Resources
from thaw_harness import ModelStore, poll, unique


def metrics(server):
    with urllib.request.urlopen(f"{server.endpoint_url}/metrics", timeout=10) as r:
        return r.read().decode()


def workers(server, endpoint):
    counts = {}
    for state, n in re.findall(
            r'thaw_workers\{endpoint="%s",variant="[^"]*",state="(\w+)"\} (\d+)' % re.escape(endpoint),
            metrics(server)):
        counts[state] = int(n)
    return counts


def reserved_mb(server):
    reserved = re.search(r"^thaw_memory_reserved_bytes (\d+)$", metrics(server), re.M)
    return int(reserved.group(1)) // (1024 * 1024)


def invoke(server, name):
    out = server.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=name, Body="1,2,3,4", ContentType="text/csv")
    return out["Body"].read()


@pytest.fixture
def budget_server(launch):
    def _start(megabytes):
        srv = launch("--memory-budget-mb", str(megabytes))
        return srv, Resources(srv.client(), ModelStore(srv.data_dir))
    return _start


def test_cold_start_evicts_another_endpoints_idle_worker(budget_server):
    srv, res = budget_server(3072)
    model = res.model()
    a = res.endpoint(res.config(model=model, memory=2048))
    b = res.endpoint(res.config(model=model, memory=2048))
    assert invoke(srv, a)
    assert workers(srv, a)["idle"] == 1
    assert reserved_mb(srv) == 2048
    # B does not fit next to A's idle worker: A's worker is retired for it.
    assert invoke(srv, b)
    assert workers(srv, a).get("idle", 0) == 0
    assert workers(srv, b)["idle"] == 1
    assert reserved_mb(srv) == 2048
    # A cold-starts again (and evicts B's); both keep answering.
    assert invoke(srv, a)
    assert workers(srv, a)["idle"] == 1
    assert workers(srv, b).get("idle", 0) == 0
    assert invoke(srv, b)
    assert "thaw_memory_budget_bytes 3221225472" in metrics(srv)


def test_no_room_is_service_unavailable_until_memory_frees(budget_server):
    srv, res = budget_server(4096)
    model = res.model()
    serverless = res.endpoint(res.config(model=model, memory=2048))
    # An instance variant keeps its worker (4096 MB) always on: it can never be evicted.
    instance = unique("instance")
    res.sm.create_endpoint_config(EndpointConfigName=instance, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": model, "InstanceType": "ml.m5.large",
         "InitialInstanceCount": 1}])
    always_on = res.endpoint(instance)
    poll(lambda: workers(srv, always_on), lambda w: w.get("idle", 0) == 1,
         what="the instance worker to be up")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        invoke(srv, serverless)
    err = info.value.response
    assert err["Error"]["Code"] == "ServiceUnavailable"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert "Not enough memory" in err["Error"]["Message"]
    assert reserved_mb(srv) == 4096
    # Deleting the instance endpoint drains it and returns its memory.
    res.sm.delete_endpoint(EndpointName=always_on)
    poll(lambda: reserved_mb(srv), lambda mb: mb == 0, what="the instance worker to exit")
    assert invoke(srv, serverless)
