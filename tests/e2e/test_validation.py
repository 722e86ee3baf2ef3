"""Server-side validation (what botocore does not check: max, pattern, enums, variant rules), with
Coral-style messages, through Debian's boto3 1.26."""

import pytest

from thaw_asserts import coral, expect_error, raw_call
from thaw_harness import ROLE_ARN, XGBOOST_IMAGE, unique

NAME_PATTERN = "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
MODEL_NAME_PATTERN = "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*"
SERVERLESS = "productionVariants.1.member.serverlessConfig"


def serverless(model, memory=2048, concurrency=5, **extra):
    return {"VariantName": "AllTraffic", "ModelName": model,
            "ServerlessConfig": {"MemorySizeInMB": memory, "MaxConcurrency": concurrency}, **extra}


def instance(model, **extra):
    return {"VariantName": "AllTraffic", "ModelName": model, "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 1, **extra}


@pytest.fixture(scope="module")
def model(res):
    return res.model()


def create_config(sm, *variants):
    return lambda: sm.create_endpoint_config(EndpointConfigName=unique("config"),
                                             ProductionVariants=list(variants))


@pytest.mark.parametrize("memory, concurrency, expected", [
    (8192, 5, coral("8192", f"{SERVERLESS}.memorySizeInMB",
                    "Member must have value less than or equal to 6144")),
    (2048, 500, coral("500", f"{SERVERLESS}.maxConcurrency",
                      "Member must have value less than or equal to 200")),
])
def test_serverless_out_of_range(sm, model, memory, concurrency, expected):
    expect_error(create_config(sm, serverless(model, memory, concurrency)), message=expected)


def test_two_violations_are_reported_together(sm, model):
    message = expect_error(create_config(sm, serverless(model, 8192, 500)),
                           startswith="2 validation errors detected: Value ")
    assert f"'8192' at '{SERVERLESS}.memorySizeInMB'" in message
    assert f"'500' at '{SERVERLESS}.maxConcurrency'" in message
    assert "; " in message


@pytest.mark.parametrize("memory", [1500, 2000, 6143])
def test_memory_must_be_a_whole_gigabyte(sm, model, memory):
    expect_error(create_config(sm, serverless(model, memory)),
                 contains=["enum value set", str(memory)])


@pytest.mark.parametrize("variant_kind", ["both", "neither", "mixed_list"])
def test_variant_must_be_serverless_xor_instance(sm, model, variant_kind):
    variants = {
        "both": [serverless(model, InstanceType="ml.m5.large", InitialInstanceCount=1)],
        "neither": [{"VariantName": "AllTraffic", "ModelName": model}],
        "mixed_list": [serverless(model), instance(model, VariantName="Other")],
    }[variant_kind]
    assert expect_error(create_config(sm, *variants))


@pytest.mark.parametrize("call, field, pattern", [
    ("model", "modelName", MODEL_NAME_PATTERN),
    ("config", "endpointConfigName", NAME_PATTERN),
    ("endpoint", "endpointName", NAME_PATTERN),
])
@pytest.mark.parametrize("bad_name", ["bad_name", "-leading-hyphen", "trailing-", "dot.ted"])
def test_name_pattern(sm, res, call, field, pattern, bad_name):
    calls = {"model": lambda: res.model(name=bad_name),
             "config": lambda: res.config(name=bad_name),
             "endpoint": lambda: sm.create_endpoint(EndpointName=bad_name,
                                                    EndpointConfigName="irrelevant")}
    expect_error(calls[call], message=coral(bad_name, field, pattern))


def test_name_longer_than_63(res):
    name = "n" * 64
    expect_error(lambda: res.config(name=name), message=coral(
        name, "endpointConfigName", "Member must have length less than or equal to 63"))


def test_bad_execution_role_arn(sm, store):
    bad = "arn:aws:iam::12345:role/too-short-account"
    expect_error(sm.create_model, ModelName=unique("model"), ExecutionRoleArn=bad,
                 PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": store.xgboost()},
                 startswith=f"1 validation error detected: Value '{bad}' at 'executionRoleArn' "
                            "failed to satisfy constraint: Member must satisfy regular "
                            "expression pattern")


def test_model_needs_a_container(sm):
    expect_error(sm.create_model, ModelName=unique("model"), ExecutionRoleArn=ROLE_ARN)


@pytest.mark.parametrize("op, params, fragment", [
    ("list_models", {"MaxResults": 101},
     coral("101", "maxResults", "Member must have value less than or equal to 100")),
    ("list_endpoints", {"MaxResults": 101},
     coral("101", "maxResults", "Member must have value less than or equal to 100")),
    ("list_models", {"NameContains": "under_score"},
     coral("under_score", "nameContains",
           "Member must satisfy regular expression pattern: [a-zA-Z0-9-]+")),
    ("list_models", {"SortBy": "Size"}, "enum value set"),
    ("list_endpoint_configs", {"SortOrder": "Sideways"}, "enum value set"),
    ("list_endpoints", {"StatusEquals": "Sleeping"}, "enum value set"),
])
def test_list_parameters(sm, op, params, fragment):
    expect_error(getattr(sm, op), contains=[fragment], **params)


@pytest.mark.parametrize("memory, concurrency, expected", [
    (512, 5, coral("512", f"{SERVERLESS}.memorySizeInMB",
                   "Member must have value greater than or equal to 1024")),
    (2048, 0, coral("0", f"{SERVERLESS}.maxConcurrency",
                    "Member must have value greater than or equal to 1")),
])
def test_minimums_checked_server_side(server, model, memory, concurrency, expected):
    """botocore enforces minimums client-side, JS v3 does not: send them raw."""
    status, _, body = raw_call(server.port, "CreateEndpointConfig", {
        "EndpointConfigName": unique("config"),
        "ProductionVariants": [serverless(model, memory, concurrency)]})
    assert status == 400 and body["__type"] == "ValidationException", body
    assert body["message"] == expected
