"""Shared expectations for the thaw end-to-end tests: ARNs, the §2.5 message catalogue, error
assertions, endpoint-status polling and a small factory for models/configs/endpoints."""

import json
import http.client

import pytest
from botocore.exceptions import ClientError

from thaw_harness import ACCOUNT, CREDENTIALS, REGION, ROLE_ARN, XGBOOST_IMAGE, poll, unique

TRANSITIONAL = {"Creating", "Updating", "Deleting", "SystemUpdating", "RollingBack"}
FAST_WAITER = {"Delay": 1, "MaxAttempts": 60}
_KIND_WORDS = {"model": "model", "endpoint-config": "endpoint configuration",
               "endpoint": "endpoint"}


def arn(kind, name):
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name.lower()}"


def msg_not_found(kind, name):
    return f'Could not find {_KIND_WORDS[kind]} "{arn(kind, name)}".'


def msg_exists(kind, name):
    return f'Cannot create already existing {_KIND_WORDS[kind]} "{arn(kind, name)}".'


def msg_in_progress(name):
    return f'Cannot update in-progress endpoint "{arn("endpoint", name)}".'


def coral(value, path, constraint):
    return (f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy "
            f"constraint: {constraint}")


def expect_error(call, code="ValidationException", message=None, startswith=None, contains=None,
                 **params):
    """call(**params) must fail with `code` and HTTP 400; returns the error message."""
    with pytest.raises(ClientError) as info:
        call(**params)
    response = info.value.response
    got = response["Error"].get("Message", "")
    assert response["Error"]["Code"] == code, response["Error"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"].get("RequestId"), "error response lacks x-amzn-RequestId"
    if message is not None:
        assert got == message
    if startswith is not None:
        assert got.startswith(startswith), got
    for fragment in [contains] if isinstance(contains, str) else contains or ():
        assert fragment in got, got
    return got


def describe_or_none(sm, name):
    """DescribeEndpoint, or None once the endpoint is gone (after checking the exact message)."""
    try:
        return sm.describe_endpoint(EndpointName=name)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ValidationException", e.response["Error"]
        assert e.response["Error"]["Message"] == msg_not_found("endpoint", name)
        return None


def settle(sm, name, timeout=60.0):
    """Poll until the endpoint leaves every transitional status; returns the Describe output."""
    return poll(lambda: sm.describe_endpoint(EndpointName=name),
                lambda d: d["EndpointStatus"] not in TRANSITIONAL, timeout=timeout,
                what=f"endpoint {name} to settle")


def wait_gone(sm, name, timeout=60.0):
    poll(lambda: describe_or_none(sm, name), lambda d: d is None, timeout=timeout,
         what=f"endpoint {name} to disappear")


def assert_in_service(sm, name, config=None):
    desc = settle(sm, name)
    assert desc["EndpointStatus"] == "InService", desc.get("FailureReason")
    if config is not None:
        assert desc["EndpointConfigName"] == config
    return desc


def assert_failed(sm, name, startswith=None, contains=()):
    desc = settle(sm, name)
    assert desc["EndpointStatus"] == "Failed", desc
    reason = desc.get("FailureReason", "")
    assert reason, "a Failed endpoint must explain itself in FailureReason"
    assert len(reason) <= 1024
    if startswith is not None:
        assert reason.startswith(startswith), reason
    for fragment in contains:
        assert fragment in reason, reason
    return desc


def names_of(items, key):
    return [item[key] for item in items]


def sigv4_headers(port, method, path, body, headers, service=None, when=None,
                  credentials=None):
    """`headers` plus X-Amz-Date and Authorization, signed as botocore signs (at `when`, a
    datetime, to forge old signatures)."""
    import datetime
    from unittest import mock

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    target = {k.lower(): v for k, v in headers.items()}.get("x-amz-target", "")
    service = service or ("monitoring" if target.startswith("GraniteService") else
                           "logs" if target.startswith("Logs_20140328.") else "sagemaker")
    keys = credentials or CREDENTIALS
    request = AWSRequest(method=method, url=f"http://127.0.0.1:{port}{path}", data=body,
                         headers=dict(headers))
    signer = SigV4Auth(Credentials(keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"]),
                       service, REGION)
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.datetime") as fake:
            fake.datetime.utcnow.return_value = when
            fake.datetime.side_effect = datetime.datetime
            signer.add_auth(request)
    return dict(request.headers.items())


def raw_call(port, op, body, headers=None, conn=None, sign=True):
    """Send one hand-built awsJson1_1 request; returns (status, headers, parsed body or None).
    `body` is bytes, a str, or a JSON-serialisable object. Signed with SigV4 like botocore signs
    (scope service `monitoring` for CloudWatch targets, `logs` for CloudWatch Logs, else
    `sagemaker`) unless sign=False."""
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    request_headers = {"Content-Type": "application/x-amz-json-1.1",
                       "X-Amz-Target": f"SageMaker.{op}"}
    request_headers.update(headers or {})
    if sign:
        request_headers = sigv4_headers(port, "POST", "/", body, request_headers)
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/", body=body, headers=request_headers)
        response = conn.getresponse()
        data = response.read()
        parsed = json.loads(data) if data.strip() else None
        return response.status, response, parsed
    finally:
        if own:
            conn.close()


class Resources:
    """Creates uniquely named models, configs and endpoints through one boto3 client."""

    def __init__(self, sm, store):
        self.sm = sm
        self.store = store

    def model(self, url=None, image=XGBOOST_IMAGE, name=None):
        name = name or unique("model")
        container = {"Image": image, "ModelDataUrl": url or self.store.xgboost()}
        self.sm.create_model(ModelName=name, ExecutionRoleArn=ROLE_ARN, PrimaryContainer=container)
        return name

    def config(self, model=None, memory=2048, concurrency=5, name=None):
        name = name or unique("config")
        variant = {"VariantName": "AllTraffic", "ModelName": model or self.model(),
                   "ServerlessConfig": {"MemorySizeInMB": memory, "MaxConcurrency": concurrency}}
        self.sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
        return name

    def endpoint(self, config=None, name=None, wait=True):
        name = name or unique("endpoint")
        config = config or self.config()
        created = self.sm.create_endpoint(EndpointName=name, EndpointConfigName=config)
        assert created["EndpointArn"] == arn("endpoint", name)
        if wait:
            assert_in_service(self.sm, name, config)
        return name
