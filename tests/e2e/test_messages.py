"""The §2.5 message catalogue, exact text, through Debian's boto3 1.26. Each case sets up what it
needs and returns (call, params, expected message). The in-progress refusal is covered by the
lifecycle tests in test_endpoints.py (it needs an endpoint caught mid-deploy)."""

import pytest

from thaw_asserts import expect_error, msg_exists, msg_not_found
from thaw_harness import unique


def create_model_duplicate(sm, res):
    name = res.model()
    return res.model, {"name": name}, msg_exists("model", name)


def create_endpoint_config_duplicate(sm, res):
    name = res.config()
    return res.config, {"name": name}, msg_exists("endpoint-config", name)


def create_endpoint_duplicate(sm, res):
    config = res.config()
    name = res.endpoint(config, wait=False)
    return (sm.create_endpoint, {"EndpointName": name, "EndpointConfigName": config},
            msg_exists("endpoint", name))


def describe_model_missing(sm, res):
    name = unique("ghost")
    return sm.describe_model, {"ModelName": name}, msg_not_found("model", name)


def delete_model_missing(sm, res):
    name = unique("ghost")
    return sm.delete_model, {"ModelName": name}, msg_not_found("model", name)


def create_endpoint_config_with_missing_model(sm, res):
    name = unique("ghost")
    return res.config, {"model": name}, msg_not_found("model", name)


def describe_endpoint_config_missing(sm, res):
    name = unique("ghost")
    return (sm.describe_endpoint_config, {"EndpointConfigName": name},
            msg_not_found("endpoint-config", name))


def delete_endpoint_config_missing(sm, res):
    name = unique("ghost")
    return (sm.delete_endpoint_config, {"EndpointConfigName": name},
            msg_not_found("endpoint-config", name))


def create_endpoint_with_missing_config(sm, res):
    name = unique("ghost")
    return (sm.create_endpoint, {"EndpointName": unique("endpoint"), "EndpointConfigName": name},
            msg_not_found("endpoint-config", name))


def update_endpoint_with_missing_config(sm, res):
    endpoint, name = res.endpoint(), unique("ghost")
    return (sm.update_endpoint, {"EndpointName": endpoint, "EndpointConfigName": name},
            msg_not_found("endpoint-config", name))


def describe_endpoint_missing(sm, res):
    name = unique("ghost")
    return sm.describe_endpoint, {"EndpointName": name}, msg_not_found("endpoint", name)


def update_endpoint_missing(sm, res):
    name = unique("Ghost")
    return (sm.update_endpoint, {"EndpointName": name, "EndpointConfigName": res.config()},
            msg_not_found("endpoint", name))


def delete_endpoint_missing(sm, res):
    name = unique("Ghost")
    return sm.delete_endpoint, {"EndpointName": name}, msg_not_found("endpoint", name)


CASES = [create_model_duplicate, create_endpoint_config_duplicate, create_endpoint_duplicate,
         describe_model_missing, delete_model_missing, create_endpoint_config_with_missing_model,
         describe_endpoint_config_missing, delete_endpoint_config_missing,
         create_endpoint_with_missing_config, update_endpoint_with_missing_config,
         describe_endpoint_missing, update_endpoint_missing, delete_endpoint_missing]


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
def test_message(sm, res, case):
    call, params, message = case(sm, res)
    expect_error(call, message=message, **params)


def test_update_to_missing_config_leaves_endpoint_alone(sm, res):
    config = res.config()
    name = res.endpoint(config)
    expect_error(sm.update_endpoint, message=msg_not_found("endpoint-config", "nope-" + name),
                 EndpointName=name, EndpointConfigName="nope-" + name)
    desc = sm.describe_endpoint(EndpointName=name)
    assert (desc["EndpointStatus"], desc["EndpointConfigName"]) == ("InService", config)
