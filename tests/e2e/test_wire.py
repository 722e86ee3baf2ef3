"""awsJson1_1 on the wire, with hand-built requests: error codes for bodies that are not JSON or
have the wrong types, unknown operations, x-amzn-RequestId on every response, Content-Type,
epoch-number timestamps, and HTTP keep-alive."""

import http.client

import pytest
from botocore.exceptions import ClientError

from thaw_asserts import msg_not_found, raw_call
from thaw_harness import ROLE_ARN, XGBOOST_IMAGE, unique

JSON_11 = "application/x-amz-json-1.1"


def model_body(name, **container):
    return {"ModelName": name, "ExecutionRoleArn": ROLE_ARN,
            "PrimaryContainer": {"Image": XGBOOST_IMAGE,
                                 "ModelDataUrl": "s3://thaw-e2e/absent/model.tar.gz",
                                 **container}}


def assert_error(status, response, body, code):
    assert status == 400, body
    assert body["__type"].split("#")[-1] == code, body
    assert isinstance(body.get("message", body.get("Message")), str)
    assert response.getheader("Content-Type", "").startswith(JSON_11)
    assert response.getheader("x-amzn-RequestId")


@pytest.mark.parametrize("op, body", [
    ("ListModels", b"{not json"),
    ("ListModels", b"[]"),
    ("CreateModel", b'{"ModelName": "x", '),
    ("CreateEndpointConfig",
     {"EndpointConfigName": "wrong-type", "ProductionVariants": [
         {"VariantName": "AllTraffic", "ModelName": "m",
          "ServerlessConfig": {"MemorySizeInMB": "2048", "MaxConcurrency": 5}}]}),
    ("CreateEndpointConfig", {"EndpointConfigName": "wrong-type", "ProductionVariants": {}}),
    ("CreateModel", {**model_body("wrong-type"), "ModelName": 42}),
    ("ListModels", {"MaxResults": "10"}),
    ("ListModels", {"CreationTimeAfter": [1]}),
], ids=["garbage", "array", "truncated", "memory-as-string", "variants-as-object",
        "name-as-number", "max-results-as-string", "timestamp-as-list"])
def test_serialization_exception(server, op, body):
    assert_error(*raw_call(server.port, op, body), "SerializationException")


@pytest.mark.parametrize("op, body", [
    ("CreateModel", b"[" * 100000),
    ("CreateEndpointConfig", b'{"a":' * 50000),
    ("DescribeModel", b'{"ModelName": "\xff\xfe"}'),
    ("DescribeModel", b'{"ModelName": "nul\\u0000byte"}'),
    ("ListModels", b'{"MaxResults": 1e400}'),
    ("ListModels", b'{"MaxResults": 9223372036854775808}'),
    ("ListEndpoints", b'{"CreationTimeAfter": -1e300}'),
    ("ListEndpoints", b'{"a": 1}{"b": 2}'),
    ("CreateEndpointConfig", b'{"ProductionVariants": [null]}'),
    ("CreateModel", b'{"PrimaryContainer": {"Environment": {"a": 1}}}'),
], ids=["deep-array", "deep-object", "invalid-utf8", "nul-in-name", "1e400", "int-overflow",
        "ancient-timestamp", "trailing-json", "null-variant", "env-value-not-string"])
def test_hostile_bodies_get_a_400(server, op, body):
    status, response, parsed = raw_call(server.port, op, body)
    assert_error(status, response, parsed, parsed["__type"])
    assert parsed["__type"] in ("SerializationException", "ValidationException")
    assert server.ping() == 200


@pytest.mark.parametrize("target", ["SageMaker.Bogus", "SageMaker.", "SageMaker.ListModelz",
                                    "Logs_20140328.PutLogEvents", "DynamoDB_20120810.PutItem"])
def test_unknown_operation(server, target):
    status, response, body = raw_call(server.port, "ignored", {}, {"X-Amz-Target": target})
    assert_error(status, response, body, "UnknownOperationException")


def test_ping(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/ping")
    response = conn.getresponse()
    response.read()
    assert response.status == 200
    assert response.getheader("x-amzn-RequestId")


def test_success_shape_and_epoch_timestamps(server):
    name = unique("wire")
    status, response, body = raw_call(server.port, "CreateModel", model_body(name))
    assert status == 200 and response.getheader("Content-Type").startswith(JSON_11)
    assert body["ModelArn"] == f"arn:aws:sagemaker:us-east-1:123456789012:model/{name}"
    status, _, body = raw_call(server.port, "DescribeModel", {"ModelName": name})
    assert status == 200 and isinstance(body["CreationTime"], (int, float))
    assert not isinstance(body["CreationTime"], bool)
    status, _, body = raw_call(server.port, "DeleteModel", {"ModelName": name})
    assert status == 200 and body in (None, {})


@pytest.mark.parametrize("after", [1672531200, 1672531200.5])
def test_timestamps_accepted_as_int_or_float(server, after):
    status, _, body = raw_call(server.port, "ListModels", {"CreationTimeAfter": after})
    assert status == 200 and "Models" in body


def test_request_ids_everywhere_and_unique(server, sm):
    seen = []
    for op, body in [("ListModels", {}), ("DescribeModel", {"ModelName": unique("ghost")}),
                     ("Bogus", {}), ("ListModels", b"nope")]:
        _, response, _ = raw_call(server.port, op, body)
        seen.append(response.getheader("x-amzn-RequestId"))
    seen.append(sm.list_endpoints()["ResponseMetadata"]["RequestId"])
    assert all(seen) and len(set(seen)) == len(seen), seen


def test_keep_alive_across_requests(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    name = unique("keepalive")
    steps = [("CreateModel", model_body(name), 200),
             ("DescribeModel", {"ModelName": name}, 200),
             ("Bogus", {}, 400),
             ("ListModels", b"{broken", 400),
             ("DeleteModel", {"ModelName": name}, 200),
             ("DescribeModel", {"ModelName": name}, 400),
             ("ListModels", {"NameContains": name}, 200)]
    conn.connect()
    socket = conn.sock
    results = []
    for op, body, want in steps:
        status, response, parsed = raw_call(server.port, op, body, conn=conn)
        assert status == want, (op, parsed)
        assert not response.will_close, f"server closed the connection after {op}"
        assert conn.sock is socket, f"connection was re-opened before {op}"
        results.append(parsed)
    assert results[5]["message"] == msg_not_found("model", name)
    assert results[6] == {"Models": []}
    conn.close()


def test_oversized_request_is_refused_cleanly(server, sm):
    environment = {"BIG": "x" * (7 << 20)}  # over the default 6 MiB request limit
    with pytest.raises(ClientError) as info:
        sm.create_model(ModelName=unique("huge"), ExecutionRoleArn=ROLE_ARN,
                        PrimaryContainer={"Image": XGBOOST_IMAGE, "Environment": environment})
    response = info.value.response
    assert response["Error"]["Code"] == "ValidationException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] in (400, 413)
    assert response["ResponseMetadata"]["RequestId"]
    assert "Models" in sm.list_models(), "the server keeps serving"
