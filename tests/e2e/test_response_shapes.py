"""Raw response bodies of all 13 operations, in every endpoint state, checked member by member
against the botocore service model (unknown members, wrong JSON types, missing required members,
values outside an enum). boto3 alone would not notice: it drops what it does not know."""

import pytest

from thaw_asserts import raw_call, settle
from thaw_harness import ROLE_ARN, XGBOOST_IMAGE, unique
from thaw_shapes import load_service_model


@pytest.fixture(scope="module")
def model():
    return load_service_model()


@pytest.fixture(scope="module")
def call(server, model):
    """call(op, **params) → the parsed 200 response, after checking it against the model."""
    def _call(op, **params):
        status, _, body = raw_call(server.port, op, params)
        assert status == 200, body
        problems = model.output_problems(op, body)
        assert not problems, f"{op} response vs {model.source}:\n" + "\n".join(problems)
        return body

    return _call


def serverless_variant(model_name, **serverless):
    return {"VariantName": "AllTraffic", "ModelName": model_name,
            "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5, **serverless}}


def new_model(call, url):
    name = unique("shape-m")
    call("CreateModel", ModelName=name, ExecutionRoleArn=ROLE_ARN,
         PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": url,
                           "Environment": {"K": "v"}},
         Tags=[{"Key": "k", "Value": "v"}])
    return name


def new_config(call, *variants):
    name = unique("shape-c")
    call("CreateEndpointConfig", EndpointConfigName=name, ProductionVariants=list(variants))
    return name


def test_model_operations(call, store):
    name = new_model(call, store.xgboost())
    call("DescribeModel", ModelName=name)
    assert len(call("ListModels", NameContains=name)["Models"]) == 1
    call("ListModels", MaxResults=1)
    call("DeleteModel", ModelName=name)


def test_endpoint_config_operations(call, store):
    model_name = new_model(call, store.xgboost())
    instance = {"VariantName": "AllTraffic", "ModelName": model_name,
                "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
    for variant in (serverless_variant(model_name), instance):
        name = new_config(call, variant)
        call("DescribeEndpointConfig", EndpointConfigName=name)
        assert len(call("ListEndpointConfigs", NameContains=name)["EndpointConfigs"]) == 1
        call("DeleteEndpointConfig", EndpointConfigName=name)


def test_endpoint_in_every_state(call, sm, store):
    good = new_config(call, serverless_variant(new_model(call, store.xgboost())))
    large = new_config(call, serverless_variant(new_model(call, store.large())))
    broken = new_config(call, serverless_variant(new_model(call, store.not_gzip())))
    name, failed = unique("shape-e"), unique("shape-f")

    call("CreateEndpoint", EndpointName=name, EndpointConfigName=large)
    call("DescribeEndpoint", EndpointName=name)  # most likely Creating
    settle(sm, name)
    call("DescribeEndpoint", EndpointName=name)  # InService
    call("UpdateEndpoint", EndpointName=name, EndpointConfigName=good)
    call("DescribeEndpoint", EndpointName=name)  # Updating, with PendingDeploymentSummary
    settle(sm, name)
    call("UpdateEndpoint", EndpointName=name, EndpointConfigName=broken)
    settle(sm, name)
    assert call("DescribeEndpoint", EndpointName=name)["FailureReason"]  # failed update

    call("CreateEndpoint", EndpointName=failed, EndpointConfigName=broken)
    settle(sm, failed)
    assert call("DescribeEndpoint", EndpointName=failed)["EndpointStatus"] == "Failed"
    call("ListEndpoints", MaxResults=100)
    call("ListEndpoints", StatusEquals="Failed", SortBy="Status")
    for endpoint in (name, failed):
        call("DeleteEndpoint", EndpointName=endpoint)


def test_provisioned_concurrency_shapes(call, model, sm, store):
    serverless = model.shapes["ProductionVariantServerlessConfig"]["members"]
    if "ProvisionedConcurrency" not in serverless:
        pytest.skip(f"{model.source} predates ProvisionedConcurrency")
    config = new_config(call, serverless_variant(new_model(call, store.xgboost()),
                                                 ProvisionedConcurrency=3))
    described = call("DescribeEndpointConfig", EndpointConfigName=config)
    assert described["ProductionVariants"][0]["ServerlessConfig"]["ProvisionedConcurrency"] == 3
    name = unique("shape-pc")
    call("CreateEndpoint", EndpointName=name, EndpointConfigName=config)
    assert settle(sm, name)["EndpointStatus"] == "InService"
    variant = call("DescribeEndpoint", EndpointName=name)["ProductionVariants"][0]
    assert variant["CurrentServerlessConfig"]["ProvisionedConcurrency"] == 3
