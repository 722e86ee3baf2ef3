"""SigV4 at the door (issue 6 §1): signed clients get in, nothing else does, and each refusal
has AWS's code for the protocol it came in (sagemaker-api.md §5.5)."""

import datetime
import http.client
import json
import os
import stat
import subprocess

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from thaw_asserts import raw_call, sigv4_headers
from thaw_harness import CREDENTIALS, REGION, ThawServer, client_env, find_non_system

NO_RETRY = Config(retries={"total_max_attempts": 1})


def client(server, service, secret=None, key=None):
    return boto3.client(service, endpoint_url=server.endpoint_url, region_name=REGION,
                        aws_access_key_id=key or CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=secret or CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                        config=NO_RETRY)


def refused(call):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    return info.value.response


def test_signed_clients_get_in(server):
    assert "Endpoints" in client(server, "sagemaker").list_endpoints()


def test_wrong_secret_unknown_key_control_plane(server):
    bad = refused(lambda: client(server, "sagemaker", secret="wrong").list_endpoints())
    assert bad["Error"]["Code"] == "InvalidSignatureException"
    assert bad["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert bad["Error"]["Message"].startswith(
        "The request signature we calculated does not match the signature you provided.")
    unknown = refused(lambda: client(server, "sagemaker", key="AKIDNOBODY").list_endpoints())
    assert unknown["Error"]["Code"] == "UnrecognizedClientException"
    assert unknown["Error"]["Message"] == "The security token included in the request is invalid."


def test_wrong_secret_runtime(server):
    rt = client(server, "sagemaker-runtime", secret="wrong")
    bad = refused(lambda: rt.invoke_endpoint(EndpointName="any", Body=b"1", ContentType="text/csv"))
    assert bad["Error"]["Code"] == "InvalidSignatureException"
    assert bad["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_wrong_secret_cloudwatch_query(server):
    cw = client(server, "cloudwatch", secret="wrong")
    now = datetime.datetime.utcnow()
    bad = refused(lambda: cw.get_metric_statistics(
        Namespace="AWS/SageMaker", MetricName="Invocations", StartTime=now, EndTime=now,
        Period=60, Statistics=["Sum"]))
    assert bad["Error"]["Code"] == "SignatureDoesNotMatch"
    assert bad["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unsigned_is_missing_authentication_token(server):
    status, response, body = raw_call(server.port, "ListEndpoints", {}, sign=False)
    assert status == 403
    assert body["__type"] == "MissingAuthenticationTokenException"
    assert body["message"] == "Missing Authentication Token"


def test_ping_and_metrics_stay_open(server):
    for path in ("/ping", "/metrics"):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", path)
        assert conn.getresponse().status == 200
        conn.close()


def send(port, headers, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_old_signature_tampered_body_tampered_header(server):
    body = b'{"MaxResults": 5}'
    base = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.ListModels"}
    old = sigv4_headers(server.port, "POST", "/", body, base,
                        when=datetime.datetime.utcnow() - datetime.timedelta(minutes=20))
    status, parsed = send(server.port, old, body)
    assert status == 400 and parsed["__type"] == "InvalidSignatureException"
    assert parsed["message"].startswith("Signature expired: ")

    good = sigv4_headers(server.port, "POST", "/", body, base)
    assert send(server.port, good, body)[0] == 200
    status, parsed = send(server.port, good, b'{"MaxResults": 6}')
    assert status == 400 and parsed["__type"] == "InvalidSignatureException"
    tampered = dict(good, **{"X-Amz-Target": "SageMaker.ListEndpoints"})
    status, parsed = send(server.port, tampered, body)
    assert status == 400 and parsed["__type"] == "InvalidSignatureException"


def test_scope_must_name_the_service(server):
    body = b"{}"
    headers = sigv4_headers(server.port, "POST", "/", body,
                            {"Content-Type": "application/x-amz-json-1.1",
                             "X-Amz-Target": "SageMaker.ListModels"}, service="monitoring")
    status, parsed = send(server.port, headers, body)
    assert status == 400 and parsed["__type"] == "InvalidSignatureException"
    assert "Credential should be scoped to correct service: 'sagemaker'" in parsed["message"]


@pytest.mark.parametrize("aws", ["/usr/bin/aws", "modern"])
def test_aws_clis_with_a_wrong_secret(server, aws):
    if aws == "modern":
        aws = find_non_system("aws")
        if aws is None:
            pytest.skip("no aws CLI 1.x on PATH")
    env = dict(client_env(), AWS_SECRET_ACCESS_KEY="wrong")
    proc = subprocess.run([aws, "sagemaker", "list-endpoints", "--endpoint-url",
                           server.endpoint_url, "--region", REGION], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode != 0
    assert "InvalidSignatureException" in proc.stderr
    ok = subprocess.run([aws, "sagemaker", "list-endpoints", "--endpoint-url",
                         server.endpoint_url, "--region", REGION], capture_output=True,
                        text=True, env=client_env(), timeout=120)
    assert ok.returncode == 0, ok.stderr


def test_first_start_creates_a_private_key_pair(tmp_path):
    srv = ThawServer(tmp_path / "fresh")
    srv.own_credentials = True
    srv.start()
    try:
        path = srv.data_dir / "credentials"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        text = path.read_text()
        key = text.split("aws_access_key_id = ")[1].split()[0]
        secret = text.split("aws_secret_access_key = ")[1].split()[0]
        assert key.startswith("AKIA") and len(key) == 20 and len(secret) == 40
        assert f"export AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret}" in srv.log_text()
        # The created pair works; the test suite's usual one does not.
        assert "Endpoints" in client(srv, "sagemaker", key=key, secret=secret).list_endpoints()
        refused(lambda: client(srv, "sagemaker").list_endpoints())
    finally:
        srv.stop_and_check()


def test_auth_none_lets_unsigned_requests_in(launch):
    srv = launch("--auth", "none")
    status, _, body = raw_call(srv.port, "ListEndpoints", {}, sign=False)
    assert status == 200 and "Endpoints" in body
    assert "--auth none" in srv.log_text()
