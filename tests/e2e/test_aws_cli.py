"""Both aws CLIs (pyenv's awscli 1.45 and Debian's /usr/bin/aws 2.9.19): create/describe/list/
delete, an error's exit code and stderr, the waiters (called only when they can return at once:
their delay is 30 s) and the list-models paginator."""

import json
import time
from pathlib import Path

import pytest

from thaw_asserts import arn, assert_in_service, coral, msg_not_found, wait_gone
from thaw_harness import ROLE_ARN, XGBOOST_IMAGE, find_non_system, run_cli, unique

CLIS = {"awscli-v1": lambda: find_non_system("aws"),
        "awscli-v2": lambda: "/usr/bin/aws" if Path("/usr/bin/aws").exists() else None}


@pytest.fixture(scope="module", params=sorted(CLIS))
def cli(request, server):
    path = CLIS[request.param]()
    if path is None:
        pytest.skip(f"{request.param} is not installed")

    def _run(*args, expect_rc=0):
        rc, out, err = run_cli(path, server.endpoint_url, *args)
        if expect_rc == 0:
            assert rc == 0, f"aws sagemaker {' '.join(args)} → {rc}\n{err}"
        return rc, out, err

    return _run


def variants(model, memory=2048):
    return json.dumps([{"VariantName": "AllTraffic", "ModelName": model,
                        "ServerlessConfig": {"MemorySizeInMB": memory, "MaxConcurrency": 4}}])


def create_model(cli, name, url):
    container = json.dumps({"Image": XGBOOST_IMAGE, "ModelDataUrl": url})
    return cli("create-model", "--model-name", name, "--execution-role-arn", ROLE_ARN,
               "--primary-container", container)[1]


def assert_cli_error(result, code, message):
    rc, _, err = result
    assert rc in (254, 255), (rc, err)
    assert f"An error occurred ({code})" in err, err
    assert message in err, err


def test_model_and_config_round_trip(cli, store):
    model, config = unique("cli-m"), unique("cli-c")
    url = store.xgboost()
    assert create_model(cli, model, url) == {"ModelArn": arn("model", model)}
    described = cli("describe-model", "--model-name", model)[1]
    assert described["ModelName"] == model
    assert described["PrimaryContainer"]["ModelDataUrl"] == url
    created = cli("create-endpoint-config", "--endpoint-config-name", config,
                  "--production-variants", variants(model))[1]
    assert created == {"EndpointConfigArn": arn("endpoint-config", config)}
    [variant] = cli("describe-endpoint-config", "--endpoint-config-name", config)[1][
        "ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 4}
    listed = cli("list-models", "--name-contains", model)[1]["Models"]
    assert [m["ModelName"] for m in listed] == [model]
    cli("delete-endpoint-config", "--endpoint-config-name", config)
    cli("delete-model", "--model-name", model)
    assert cli("list-models", "--name-contains", model)[1] == {"Models": []}


def test_errors_exit_nonzero_with_message(cli, res):
    ghost = unique("ghost")
    assert_cli_error(cli("describe-model", "--model-name", ghost, expect_rc=None),
                     "ValidationException", msg_not_found("model", ghost))
    assert_cli_error(cli("create-endpoint-config", "--endpoint-config-name", unique("c"),
                         "--production-variants", variants(res.model(), memory=8192),
                         expect_rc=None),
                     "ValidationException",
                     coral("8192", "productionVariants.1.member.serverlessConfig.memorySizeInMB",
                           "Member must have value less than or equal to 6144"))


def test_endpoint_lifecycle_and_waiters(cli, sm, res):
    name, config, other = unique("cli-e"), res.config(), res.config(memory=1024)
    created = cli("create-endpoint", "--endpoint-name", name, "--endpoint-config-name", config)[1]
    assert created == {"EndpointArn": arn("endpoint", name)}
    assert_in_service(sm, name, config)
    started = time.monotonic()
    cli("wait", "endpoint-in-service", "--endpoint-name", name)
    assert time.monotonic() - started < 20, "the waiter should succeed on its first poll"
    described = cli("describe-endpoint", "--endpoint-name", name)[1]
    assert described["EndpointStatus"] == "InService"
    assert described["ProductionVariants"][0]["CurrentServerlessConfig"]["MaxConcurrency"] == 5

    cli("update-endpoint", "--endpoint-name", name, "--endpoint-config-name", other)
    assert_in_service(sm, name, other)
    cli("delete-endpoint", "--endpoint-name", name)
    wait_gone(sm, name)
    started = time.monotonic()
    cli("wait", "endpoint-deleted", "--endpoint-name", name)
    assert time.monotonic() - started < 20, "the waiter should succeed on its first poll"
    assert_cli_error(cli("delete-endpoint", "--endpoint-name", name, expect_rc=None),
                     "ValidationException", msg_not_found("endpoint", name))


def test_list_models_paginator(cli, sm, res):
    token = unique("cli-page")
    for i in range(5):
        res.model(name=f"{token}-{i}")
    expected = [m["ModelName"] for m in sm.list_models(NameContains=token)["Models"]]
    assert len(expected) == 5

    auto = cli("list-models", "--name-contains", token, "--page-size", "2")[1]
    assert [m["ModelName"] for m in auto["Models"]] == expected
    assert "NextToken" not in auto

    first = cli("list-models", "--name-contains", token, "--max-items", "3",
                "--page-size", "2")[1]
    assert [m["ModelName"] for m in first["Models"]] == expected[:3]
    rest = cli("list-models", "--name-contains", token, "--max-items", "3", "--page-size", "2",
               "--starting-token", first["NextToken"])[1]
    assert [m["ModelName"] for m in rest["Models"]] == expected[3:]
    assert "NextToken" not in rest
