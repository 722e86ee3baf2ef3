"""Models and endpoint configs through Debian's boto3 1.26: create/describe/list/delete round trips,
what Describe echoes, and case-insensitive name uniqueness."""

import datetime

import pytest

from thaw_asserts import arn, expect_error, msg_exists, msg_not_found, names_of
from thaw_harness import ROLE_ARN, SKLEARN_IMAGE, XGBOOST_IMAGE, unique


def assert_recent(timestamp):
    assert timestamp.tzinfo is not None
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - timestamp).total_seconds()) < 300, timestamp


def test_model_round_trip(sm, store):
    name, url = unique("model"), store.xgboost()
    container = {"Image": XGBOOST_IMAGE, "ModelDataUrl": url, "Environment": {"A_B": "1"}}
    created = sm.create_model(ModelName=name, ExecutionRoleArn=ROLE_ARN, PrimaryContainer=container,
                              Tags=[{"Key": "team", "Value": "e2e"}])
    assert created["ModelArn"] == arn("model", name)
    assert created["ResponseMetadata"]["RequestId"]

    desc = sm.describe_model(ModelName=name)
    assert desc["ModelName"] == name
    assert desc["ModelArn"] == arn("model", name)
    assert desc["ExecutionRoleArn"] == ROLE_ARN
    assert desc["PrimaryContainer"]["Image"] == XGBOOST_IMAGE
    assert desc["PrimaryContainer"]["ModelDataUrl"] == url
    assert desc["PrimaryContainer"]["Environment"] == {"A_B": "1"}
    assert_recent(desc["CreationTime"])

    listed = sm.list_models(NameContains=name)["Models"]
    assert names_of(listed, "ModelName") == [name]
    assert listed[0]["ModelArn"] == arn("model", name)
    assert listed[0]["CreationTime"] == desc["CreationTime"]

    deleted = sm.delete_model(ModelName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 200
    expect_error(sm.describe_model, message=msg_not_found("model", name), ModelName=name)
    assert sm.list_models(NameContains=name)["Models"] == []


def test_model_with_containers_list(sm, store):
    name, url = unique("pipeline"), store.xgboost()
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE_ARN,
                    Containers=[{"Image": SKLEARN_IMAGE, "ModelDataUrl": url}])
    desc = sm.describe_model(ModelName=name)
    assert [c["Image"] for c in desc["Containers"]] == [SKLEARN_IMAGE]
    assert desc["Containers"][0]["ModelDataUrl"] == url


@pytest.mark.parametrize("create, describe, kind, name_key, arn_key", [
    ("model", "describe_model", "model", "ModelName", "ModelArn"),
    ("config", "describe_endpoint_config", "endpoint-config", "EndpointConfigName",
     "EndpointConfigArn"),
])
def test_names_are_unique_case_insensitively(sm, res, create, describe, kind, name_key, arn_key):
    name = f"MyName-{unique('x')}"
    getattr(res, create)(name=name)
    expect_error(getattr(res, create), message=msg_exists(kind, name), name=name.lower())
    for spelling in (name, name.lower()):
        desc = getattr(sm, describe)(**{name_key: spelling})
        assert desc[name_key] == name, "Describe echoes the name as created"
        assert desc[arn_key] == arn(kind, name)


def test_endpoint_config_round_trip(sm, res):
    model, name = res.model(), unique("config")
    variant = {"VariantName": "AllTraffic", "ModelName": model,
               "ServerlessConfig": {"MemorySizeInMB": 3072, "MaxConcurrency": 7}}
    created = sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    assert created["EndpointConfigArn"] == arn("endpoint-config", name)

    desc = sm.describe_endpoint_config(EndpointConfigName=name)
    assert desc["EndpointConfigName"] == name
    assert desc["EndpointConfigArn"] == arn("endpoint-config", name)
    [echoed] = desc["ProductionVariants"]
    assert echoed["VariantName"] == "AllTraffic"
    assert echoed["ModelName"] == model
    assert echoed["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 7}
    assert "InstanceType" not in echoed
    assert_recent(desc["CreationTime"])

    listed = sm.list_endpoint_configs(NameContains=name)["EndpointConfigs"]
    assert names_of(listed, "EndpointConfigName") == [name]
    assert listed[0]["EndpointConfigArn"] == arn("endpoint-config", name)

    sm.delete_endpoint_config(EndpointConfigName=name)
    expect_error(sm.describe_endpoint_config, message=msg_not_found("endpoint-config", name),
                 EndpointConfigName=name)
    assert sm.describe_model(ModelName=model)["ModelName"] == model, "the model is untouched"


def test_instance_variant_is_accepted(sm, res):
    name = unique("instance-config")
    variant = {"VariantName": "AllTraffic", "ModelName": res.model(),
               "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    [echoed] = sm.describe_endpoint_config(EndpointConfigName=name)["ProductionVariants"]
    assert echoed["InstanceType"] == "ml.m5.large"
    assert echoed["InitialInstanceCount"] == 1
    assert "ServerlessConfig" not in echoed


def test_config_outlives_its_model(sm, res):
    model = res.model()
    config = res.config(model=model)
    sm.delete_model(ModelName=model)
    [echoed] = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    assert echoed["ModelName"] == model
