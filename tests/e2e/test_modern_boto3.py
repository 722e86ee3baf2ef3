"""The newer boto3 (1.43, pyenv's python3) through clients/run_calls.py: the whole control-plane
surface, its paginator, error texts, and ProvisionedConcurrency (which boto3 1.26 cannot send)."""

import pytest

from thaw_asserts import arn, assert_in_service, coral, msg_not_found
from thaw_harness import ROLE_ARN, XGBOOST_IMAGE, run_modern_boto3, unique


@pytest.fixture(scope="module")
def modern(modern_python, server):
    """modern(*calls) runs (op, params) or (op, params, {"paginate": True}) calls in one process
    and returns their results, each {"result": ...} or {"error": ...}."""
    def _run(*calls):
        batch = [{"service": "sagemaker", "op": op, "params": params, **(extra[0] if extra else {})}
                 for op, params, *extra in calls]
        output = run_modern_boto3(modern_python, server.endpoint_url, batch)
        assert not output["botocore"].startswith("1.29."), "ran Debian's botocore by mistake"
        return output["results"]

    return _run


def ok(entry):
    assert "error" not in entry, entry
    return entry["result"]


def failed(entry, code="ValidationException", message=None):
    assert "error" in entry, entry
    assert entry["error"]["Code"] == code and entry["error"]["HTTPStatus"] == 400, entry
    if message is not None:
        assert entry["error"]["Message"] == message
    return entry["error"]["Message"]


def serverless_config(name, model, memory=2048, concurrency=5, provisioned=None):
    serverless = {"MemorySizeInMB": memory, "MaxConcurrency": concurrency}
    if provisioned is not None:
        serverless["ProvisionedConcurrency"] = provisioned
    return ("CreateEndpointConfig", {"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "AllTraffic", "ModelName": model, "ServerlessConfig": serverless}]})


def test_control_plane_surface(modern, sm, store):
    token = unique("modern")
    model, config, endpoint = f"{token}-m", f"{token}-c", f"{token}-e"
    results = modern(
        ("CreateModel", {"ModelName": model, "ExecutionRoleArn": ROLE_ARN,
                         "PrimaryContainer": {"Image": XGBOOST_IMAGE,
                                              "ModelDataUrl": store.xgboost()}}),
        ("DescribeModel", {"ModelName": model}),
        serverless_config(config, model),
        ("DescribeEndpointConfig", {"EndpointConfigName": config}),
        ("CreateEndpoint", {"EndpointName": endpoint, "EndpointConfigName": config}),
        ("ListModels", {"NameContains": token}),
        ("ListEndpointConfigs", {"NameContains": token}),
        ("ListEndpoints", {"NameContains": token}),
        ("DescribeModel", {"ModelName": f"{token}-ghost"}),
        serverless_config(f"{token}-big", model, memory=8192),
        ("CreateModel", {"ModelName": model, "ExecutionRoleArn": ROLE_ARN,
                         "PrimaryContainer": {"Image": XGBOOST_IMAGE}}),
    )
    assert ok(results[0])["ModelArn"] == arn("model", model)
    assert ok(results[1])["ModelName"] == model
    assert ok(results[2])["EndpointConfigArn"] == arn("endpoint-config", config)
    assert ok(results[3])["ProductionVariants"][0]["ServerlessConfig"] == {
        "MemorySizeInMB": 2048, "MaxConcurrency": 5}
    assert ok(results[4])["EndpointArn"] == arn("endpoint", endpoint)
    assert [m["ModelName"] for m in ok(results[5])["Models"]] == [model]
    assert [c["EndpointConfigName"] for c in ok(results[6])["EndpointConfigs"]] == [config]
    assert [e["EndpointName"] for e in ok(results[7])["Endpoints"]] == [endpoint]
    failed(results[8], message=msg_not_found("model", f"{token}-ghost"))
    failed(results[9], message=coral(
        "8192", "productionVariants.1.member.serverlessConfig.memorySizeInMB",
        "Member must have value less than or equal to 6144"))
    failed(results[10], message=f'Cannot create already existing model "{arn("model", model)}".')

    assert_in_service(sm, endpoint, config)
    other = f"{token}-c2"
    results = modern(
        serverless_config(other, model, memory=1024),
        ("UpdateEndpoint", {"EndpointName": endpoint, "EndpointConfigName": other}),
    )
    for entry in results:
        ok(entry)
    assert_in_service(sm, endpoint, other)
    results = modern(
        ("DeleteEndpoint", {"EndpointName": endpoint}),
        ("DeleteEndpointConfig", {"EndpointConfigName": config}),
        ("DeleteModel", {"ModelName": model}),
        ("DescribeEndpointConfig", {"EndpointConfigName": config}),
    )
    for entry in results[:3]:
        ok(entry)
    failed(results[3], message=msg_not_found("endpoint-config", config))


def test_paginator(modern, res):
    token = unique("mpage")
    created = [res.model(name=f"{token}-{i}") for i in range(5)]
    [entry] = modern(("ListModels", {"NameContains": token, "PaginationConfig": {"PageSize": 2}},
                      {"paginate": True}))
    pages = ok(entry)
    assert [len(page["Models"]) for page in pages] == [2, 2, 1]
    assert sorted(m["ModelName"] for page in pages for m in page["Models"]) == sorted(created)
    assert "NextToken" not in pages[-1]


def test_provisioned_concurrency(modern, sm, res):
    model, token = res.model(), unique("pc")
    config, endpoint, updated = f"{token}-c", f"{token}-e", f"{token}-c2"
    results = modern(
        serverless_config(config, model, memory=3072, concurrency=10, provisioned=2),
        ("DescribeEndpointConfig", {"EndpointConfigName": config}),
        ("CreateEndpoint", {"EndpointName": endpoint, "EndpointConfigName": config}),
        serverless_config(updated, model, memory=3072, concurrency=10, provisioned=4),
    )
    ok(results[0])
    assert ok(results[1])["ProductionVariants"][0]["ServerlessConfig"] == {
        "MemorySizeInMB": 3072, "MaxConcurrency": 10, "ProvisionedConcurrency": 2}
    for entry in results[2:]:
        ok(entry)
    assert_in_service(sm, endpoint, config)
    expected = {"MemorySizeInMB": 3072, "MaxConcurrency": 10, "ProvisionedConcurrency": 2}
    [described] = modern(("DescribeEndpoint", {"EndpointName": endpoint}))
    [variant] = ok(described)["ProductionVariants"]
    assert variant["CurrentServerlessConfig"] == expected
    assert variant["DesiredServerlessConfig"] == expected

    ok(modern(("UpdateEndpoint", {"EndpointName": endpoint, "EndpointConfigName": updated}))[0])
    assert_in_service(sm, endpoint, updated)
    [described] = modern(("DescribeEndpoint", {"EndpointName": endpoint}))
    assert ok(described)["ProductionVariants"][0]["CurrentServerlessConfig"][
        "ProvisionedConcurrency"] == 4


@pytest.mark.parametrize("concurrency, provisioned", [(5, 6), (200, 201)])
def test_provisioned_concurrency_bounds(modern, res, concurrency, provisioned):
    [entry] = modern(serverless_config(unique("pc-bad"), res.model(), concurrency=concurrency,
                                       provisioned=provisioned))
    assert failed(entry)
