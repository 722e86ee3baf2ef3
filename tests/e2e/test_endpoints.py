"""Endpoint lifecycle through Debian's boto3 1.26: Creating → InService, Describe's serverless
shape, UpdateEndpoint (success and failure), DeleteEndpoint, the in-progress refusals, both
waiters, and resources deleted from under a live endpoint."""

import botocore.exceptions
import pytest

from thaw_asserts import (FAST_WAITER, arn, assert_failed, assert_in_service, describe_or_none,
                          expect_error, msg_in_progress, msg_not_found, settle, wait_gone)
from thaw_harness import SKLEARN_IMAGE, XGBOOST_IMAGE, unique


def assert_serverless_variant(variant, memory, concurrency, image):
    expected = {"MemorySizeInMB": memory, "MaxConcurrency": concurrency}
    assert variant["VariantName"] == "AllTraffic"
    assert variant["CurrentServerlessConfig"] == expected
    assert variant["DesiredServerlessConfig"] == expected
    [deployed] = variant["DeployedImages"]
    assert deployed["SpecifiedImage"] == image
    repository, digest = deployed["ResolvedImage"].split("@sha256:")
    assert image.startswith(repository)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert deployed["ResolutionTime"].tzinfo is not None


def refused_in_progress(call, name, **params):
    """True if call() was refused with the exact in-progress message, False if it was accepted."""
    try:
        call(EndpointName=name, **params)
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "ValidationException"
        assert e.response["Error"]["Message"] == msg_in_progress(name)
        return True
    return False


def test_create_reaches_in_service_with_serverless_shape(sm, res):
    config = res.config(memory=2048, concurrency=5)
    name = res.endpoint(config, wait=False)
    first = sm.describe_endpoint(EndpointName=name)
    assert first["EndpointStatus"] in ("Creating", "InService")
    assert first["EndpointArn"] == arn("endpoint", name)

    desc = assert_in_service(sm, name, config)
    assert desc["EndpointName"] == name
    assert desc["CreationTime"] <= desc["LastModifiedTime"]
    assert "FailureReason" not in desc
    [variant] = desc["ProductionVariants"]
    assert_serverless_variant(variant, 2048, 5, XGBOOST_IMAGE)
    assert "PendingDeploymentSummary" not in desc


@pytest.mark.parametrize("layout", ["dot_slash", "file_url", "absolute_path"])
def test_supported_sources_deploy(sm, res, store, layout):
    image, url = XGBOOST_IMAGE, store.xgboost()
    if layout == "dot_slash":
        url = store.dot_slash()
    elif layout == "file_url":
        url = store.path_of(url).as_uri()
    else:
        url = str(store.path_of(url))
    name = res.endpoint(res.config(model=res.model(url=url, image=image)))
    [variant] = sm.describe_endpoint(EndpointName=name)["ProductionVariants"]
    assert variant["DeployedImages"][0]["SpecifiedImage"] == image


def test_sklearn_image_without_code_fails_saying_why(sm, res, store):
    """The scikit-learn container has no default model_fn: a model with no inference code fails
    its trial start with the reason (tests/e2e/test_sklearn.py serves real ones)."""
    model = res.model(url=store.xgboost(), image=SKLEARN_IMAGE)
    name = res.endpoint(res.config(model=model), wait=False)
    assert_failed(sm, name, contains=("did not pass the ping health check",
                                      "SAGEMAKER_PROGRAM is not set"))


def test_waiters(sm, res):
    name = res.endpoint(wait=False)
    sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST_WAITER)
    assert sm.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
    sm.delete_endpoint(EndpointName=name)
    sm.get_waiter("endpoint_deleted").wait(EndpointName=name, WaiterConfig=FAST_WAITER)
    assert describe_or_none(sm, name) is None


def test_in_service_waiter_fails_fast_on_failed_endpoint(sm, res, store):
    name = res.endpoint(res.config(model=res.model(url=store.not_gzip())), wait=False)
    with pytest.raises(botocore.exceptions.WaiterError) as info:
        sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=FAST_WAITER)
    assert "Failed" in str(info.value)


def test_update_switches_config(sm, res, store):
    name = res.endpoint(res.config(memory=2048, concurrency=5))
    before = sm.describe_endpoint(EndpointName=name)
    new_config = res.config(model=res.model(url=store.large()), memory=4096, concurrency=9)

    updated = sm.update_endpoint(EndpointName=name, EndpointConfigName=new_config)
    assert updated["EndpointArn"] == arn("endpoint", name)
    during = sm.describe_endpoint(EndpointName=name)
    if during["EndpointStatus"] == "Updating":
        assert during["PendingDeploymentSummary"]["EndpointConfigName"] == new_config
        assert during["EndpointConfigName"] == before["EndpointConfigName"], "old config serves"
        # refused while Updating (accepted only if the job finished meanwhile: same config)
        refused_in_progress(sm.update_endpoint, name, EndpointConfigName=new_config)
    else:
        assert during["EndpointStatus"] == "InService"

    after = assert_in_service(sm, name, new_config)
    assert_serverless_variant(after["ProductionVariants"][0], 4096, 9, XGBOOST_IMAGE)
    assert after["LastModifiedTime"] >= before["LastModifiedTime"]
    assert "PendingDeploymentSummary" not in after
    assert "FailureReason" not in after


def test_update_and_delete_refused_while_creating(sm, res, store):
    """The archive is large, so the deploy job is almost always still running when the calls land.
    If it already finished, the call must have been accepted and must take effect."""
    config = res.config(model=res.model(url=store.large()))
    name = res.endpoint(config, wait=False)
    other = res.config()
    if not refused_in_progress(sm.update_endpoint, name, EndpointConfigName=other):
        assert_in_service(sm, name, other)
        return
    if not refused_in_progress(sm.delete_endpoint, name):
        wait_gone(sm, name)
        return
    assert sm.describe_endpoint(EndpointName=name)["EndpointStatus"] in ("Creating", "InService")
    assert_in_service(sm, name, config)


def test_failed_update_keeps_old_config(sm, res, store):
    config = res.config()
    name = res.endpoint(config)
    bad = res.config(model=res.model(url=store.gzip_not_tar()))
    sm.update_endpoint(EndpointName=name, EndpointConfigName=bad)
    desc = settle(sm, name)
    assert desc["EndpointStatus"] == "InService"
    assert desc["EndpointConfigName"] == config
    assert desc["FailureReason"].startswith("Failed to extract model data archive from URL")
    assert "PendingDeploymentSummary" not in desc
    # still a healthy endpoint: it can be updated again, and a good update clears the reason
    good = res.config(memory=1024)
    sm.update_endpoint(EndpointName=name, EndpointConfigName=good)
    recovered = assert_in_service(sm, name, good)
    assert "FailureReason" not in recovered


def test_delete_lifecycle(sm, res):
    config = res.config()
    model = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0][
        "ModelName"]
    name = res.endpoint(config)
    assert sm.delete_endpoint(EndpointName=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    desc = describe_or_none(sm, name)
    assert desc is None or desc["EndpointStatus"] == "Deleting"
    wait_gone(sm, name)
    expect_error(sm.delete_endpoint, message=msg_not_found("endpoint", name), EndpointName=name)
    assert sm.list_endpoints(NameContains=name)["Endpoints"] == []
    assert sm.describe_endpoint_config(EndpointConfigName=config)["EndpointConfigName"] == config
    assert sm.describe_model(ModelName=model)["ModelName"] == model
    res.endpoint(config, name=name)  # the name is free again


def test_failed_endpoint_only_allows_delete(sm, res, store):
    name = res.endpoint(res.config(model=res.model(url=store.not_gzip())), wait=False)
    assert_failed(sm, name)
    expect_error(sm.update_endpoint, EndpointName=name, EndpointConfigName=res.config())
    sm.delete_endpoint(EndpointName=name)
    wait_gone(sm, name)


def test_model_and_config_deleted_under_live_endpoint(sm, res):
    model = res.model()
    config = res.config(model=model)
    name = res.endpoint(config)
    sm.delete_endpoint_config(EndpointConfigName=config)
    sm.delete_model(ModelName=model)
    desc = assert_in_service(sm, name, config)
    assert desc["ProductionVariants"][0]["CurrentServerlessConfig"]["MemorySizeInMB"] == 2048
    replacement = res.config(memory=5120)
    sm.update_endpoint(EndpointName=name, EndpointConfigName=replacement)
    assert_in_service(sm, name, replacement)
    sm.delete_endpoint(EndpointName=name)
    wait_gone(sm, name)


def test_endpoints_share_a_config(sm, res):
    config = res.config()
    first, second = res.endpoint(config, wait=False), res.endpoint(config, wait=False)
    for name in (first, second):
        assert_in_service(sm, name, config)


def test_tags_and_deployment_config_are_accepted(sm, res):
    name = unique("tagged")
    deployment = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}}}
    config = res.config()
    sm.create_endpoint(EndpointName=name, EndpointConfigName=config, DeploymentConfig=deployment,
                       Tags=[{"Key": "owner", "Value": "e2e"}])
    assert_in_service(sm, name, config)


def test_longest_names_are_accepted(sm, res):
    name = (unique("long") + "-x" * 30)[:63]
    assert len(name) == 63
    model = res.model(name=name)
    config = res.config(model=model, name=name)
    desc = assert_in_service(sm, res.endpoint(config, name=name), config)
    assert desc["EndpointArn"] == arn("endpoint", name)


def test_updates_between_serverless_and_instance_in_both_directions(sm, res):
    """The seed migrates a persistent endpoint to serverless in place; thaw allows both ways."""
    instance = unique("instance")
    sm.create_endpoint_config(EndpointConfigName=instance, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": res.model(), "InstanceType": "ml.m5.large",
         "InitialInstanceCount": 1}])
    name = res.endpoint()
    sm.update_endpoint(EndpointName=name, EndpointConfigName=instance)
    assert_in_service(sm, name, instance)
    serverless = res.config()
    sm.update_endpoint(EndpointName=name, EndpointConfigName=serverless)
    assert_in_service(sm, name, serverless)
