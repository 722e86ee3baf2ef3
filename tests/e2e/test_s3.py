"""The embedded S3 subset and STS GetCallerIdentity with real clients: both aws CLIs (`aws s3`
mb/cp/ls/rm, a 20 MB file that goes multipart), boto3 1.26 (this interpreter) and 1.43 (pyenv's),
a deploy from an uploaded object, kill -9 mid-upload, key-escape attempts, and sts
get-caller-identity."""

import hashlib
import http.client
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from thaw_asserts import assert_in_service
from thaw_harness import (ACCOUNT, CREDENTIALS, REGION, ROLE_ARN, XGBOOST_IMAGE, ModelStore,
                          client_env, find_non_system, unique)

CLIS = {"awscli-v1": lambda: find_non_system("aws"),
        "awscli-v2": lambda: "/usr/bin/aws" if Path("/usr/bin/aws").exists() else None}


def bucket_name(prefix="b"):
    return unique(prefix).lower()


@pytest.fixture(scope="module")
def s3(server):
    return server.client("s3")


def run_aws(aws, server, *args, timeout=300):
    proc = subprocess.run([aws, *args, "--endpoint-url", server.endpoint_url, "--region", REGION],
                          capture_output=True, text=True, env=client_env(), timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module", params=sorted(CLIS))
def aws(request, server):
    path = CLIS[request.param]()
    if path is None:
        pytest.skip(f"{request.param} is not installed")

    def _run(*args, expect_rc=0):
        rc, out, err = run_aws(path, server, *args)
        if expect_rc is not None:
            assert rc == expect_rc, f"aws {' '.join(args)} → {rc}\n{out}\n{err}"
        return out, err

    return _run


def test_aws_s3_mb_cp_ls_rm(aws, server, tmp_path):
    bucket = bucket_name("cli")
    small = tmp_path / "small.bin"
    small.write_bytes(os.urandom(1000))
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024))  # over the CLI's 8 MB threshold: multipart

    aws("s3", "mb", f"s3://{bucket}")
    aws("s3", "cp", str(small), f"s3://{bucket}/dir/small.bin")
    aws("s3", "cp", str(big), f"s3://{bucket}/dir/sub/big.bin")
    assert (server.data_dir / "s3" / bucket / "dir" / "small.bin").read_bytes() == small.read_bytes()
    assert (server.data_dir / "s3" / bucket / "dir" / "sub" / "big.bin").read_bytes() == \
        big.read_bytes()

    out, _ = aws("s3", "ls")
    assert bucket in out
    out, _ = aws("s3", "ls", f"s3://{bucket}/")
    assert "PRE dir/" in out
    out, _ = aws("s3", "ls", f"s3://{bucket}/dir/")
    assert "PRE sub/" in out and "small.bin" in out and "1000" in out
    out, _ = aws("s3", "ls", "--recursive", f"s3://{bucket}/")
    assert "dir/sub/big.bin" in out and str(20 * 1024 * 1024) in out

    down = tmp_path / "down"
    down.mkdir()
    aws("s3", "cp", f"s3://{bucket}/dir/small.bin", str(down / "small.bin"))
    aws("s3", "cp", f"s3://{bucket}/dir/sub/big.bin", str(down / "big.bin"))
    assert (down / "small.bin").read_bytes() == small.read_bytes()
    assert (down / "big.bin").read_bytes() == big.read_bytes()

    aws("s3", "rm", f"s3://{bucket}/dir/small.bin")
    aws("s3", "rm", f"s3://{bucket}/dir/sub/big.bin")
    out, _ = aws("s3", "ls", "--recursive", f"s3://{bucket}/")
    assert out.strip() == ""
    aws("s3", "rb", f"s3://{bucket}")
    out, _ = aws("s3", "ls")
    assert bucket not in out


def test_sts_get_caller_identity(aws):
    out, _ = aws("sts", "get-caller-identity", "--output", "json")
    identity = json.loads(out)
    assert identity["Account"] == ACCOUNT
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/default"
    assert identity["UserId"] == CREDENTIALS["AWS_ACCESS_KEY_ID"]


def test_boto3_old_round_trip_and_errors(s3, tmp_path):
    bucket = bucket_name("old")
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=bucket)  # us-east-1: idempotent for its owner
    src = tmp_path / "up.bin"
    data = os.urandom(300_000)
    src.write_bytes(data)
    s3.upload_file(str(src), bucket, "models/up.bin")
    dst = tmp_path / "down.bin"
    s3.download_file(bucket, "models/up.bin", str(dst))
    assert dst.read_bytes() == data

    put = s3.put_object(Bucket=bucket, Key="meta/obj.json", Body=b'{"a": 1}',
                        ContentType="application/json", Metadata={"owner": "thaw"})
    assert put["ETag"] == '"' + hashlib.md5(b'{"a": 1}').hexdigest() + '"'
    head = s3.head_object(Bucket=bucket, Key="meta/obj.json")
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {"owner": "thaw"}
    assert head["ContentLength"] == 8
    assert head["ETag"] == put["ETag"]
    part = s3.get_object(Bucket=bucket, Key="meta/obj.json", Range="bytes=1-4")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["ContentRange"] == "bytes 1-4/8"
    assert part["Body"].read() == b'"a":'

    copied = s3.copy_object(Bucket=bucket, Key="meta/copy.json",
                            CopySource={"Bucket": bucket, "Key": "meta/obj.json"})
    assert copied["CopyObjectResult"]["ETag"] == put["ETag"]
    assert s3.get_object(Bucket=bucket, Key="meta/copy.json")["Body"].read() == b'{"a": 1}'

    for i in range(7):
        s3.put_object(Bucket=bucket, Key=f"many/k{i}", Body=b"x")
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix="many/", PaginationConfig={"PageSize": 3}))
    assert [len(p.get("Contents", [])) for p in pages] == [3, 3, 1]
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["many/", "meta/", "models/"]
    after = s3.list_objects_v2(Bucket=bucket, Prefix="many/", StartAfter="many/k4")
    assert [c["Key"] for c in after["Contents"]] == ["many/k5", "many/k6"]
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None

    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="nope")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket_name("missing"), Key="k")
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=bucket_name("missing"))
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "BucketNotEmpty"
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="Bad_Name")
    assert e.value.response["Error"]["Code"] == "InvalidBucketName"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"abc", ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")
    assert e.value.response["Error"]["Code"] == "BadDigest"

    objects = [{"Key": c["Key"]} for c in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
    assert len(deleted["Deleted"]) == len(objects)
    s3.delete_bucket(Bucket=bucket)


def test_multipart_etag_and_abort(s3):
    bucket = bucket_name("mp")
    s3.create_bucket(Bucket=bucket)
    parts = [os.urandom(5 * 1024 * 1024), b"tail"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big", ContentType="text/x-big")
    etags = []
    for n, data in enumerate(parts, 1):
        etags.append(s3.upload_part(Bucket=bucket, Key="big", UploadId=upload["UploadId"],
                                    PartNumber=n, Body=data)["ETag"])
    listed = s3.list_parts(Bucket=bucket, Key="big", UploadId=upload["UploadId"])
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-2"
    assert done["ETag"] == f'"{expected}"'
    head = s3.head_object(Bucket=bucket, Key="big")
    assert head["ETag"] == f'"{expected}"' and head["ContentType"] == "text/x-big"

    aborted = s3.create_multipart_upload(Bucket=bucket, Key="gone")
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=aborted["UploadId"])
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="gone", UploadId=aborted["UploadId"])
    assert e.value.response["Error"]["Code"] == "NoSuchUpload"


MODERN_SCRIPT = r"""
import json, os, sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=Config(retries={"total_max_attempts": 1}))
bucket, src, dst = sys.argv[2], sys.argv[3], sys.argv[4]
s3.create_bucket(Bucket=bucket)
s3.upload_file(src, bucket, "data/file.bin")
for i in range(5):
    s3.put_object(Bucket=bucket, Key=f"data/p{i}", Body=b"x")
s3.download_file(bucket, "data/file.bin", dst)
pages = [len(p.get("Contents", [])) for p in s3.get_paginator("list_objects_v2").paginate(
    Bucket=bucket, Prefix="data/", PaginationConfig={"PageSize": 4})]
print(json.dumps({"pages": pages, "boto3": boto3.__version__}))
"""


def test_boto3_new_upload_download_paginate(server, modern_python, tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(12 * 1024 * 1024))  # multipart in boto3's transfer manager too
    dst = tmp_path / "dst.bin"
    script = tmp_path / "modern.py"
    script.write_text(MODERN_SCRIPT)
    proc = subprocess.run([modern_python, str(script), server.endpoint_url, bucket_name("new"),
                           str(src), str(dst)], capture_output=True, text=True,
                          env=client_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["pages"] == [4, 2]
    assert dst.read_bytes() == src.read_bytes()


def test_deploy_from_an_uploaded_object(server, s3, sm):
    bucket = bucket_name("models")
    s3.create_bucket(Bucket=bucket)
    local = ModelStore(server.data_dir)
    archive = local.path(local.xgboost().split("/", 3)[3]).read_bytes()
    s3.put_object(Bucket=bucket, Key="xgb/model.tar.gz", Body=archive)
    model = unique("s3-model")
    sm.create_model(ModelName=model, ExecutionRoleArn=ROLE_ARN,
                    PrimaryContainer={"Image": XGBOOST_IMAGE,
                                      "ModelDataUrl": f"s3://{bucket}/xgb/model.tar.gz"})
    config = unique("s3-config")
    sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": model,
         "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 2}}])
    endpoint = unique("s3-endpoint")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    assert_in_service(sm, endpoint, config)
    rt = server.client("sagemaker-runtime")
    out = rt.invoke_endpoint(EndpointName=endpoint, Body=b"0.5,0.1,-0.3,1.0",
                             ContentType="text/csv")
    assert 0.0 <= float(out["Body"].read()) <= 1.0
    sm.delete_endpoint(EndpointName=endpoint)


def test_unsigned_and_badly_signed_requests_are_refused(server, s3):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", "/")
    res = conn.getresponse()
    body = res.read()
    assert res.status == 403
    assert b"<Code>AccessDenied</Code>" in body
    conn.close()
    wrong = boto3.client("s3", endpoint_url=server.endpoint_url, region_name=REGION,
                         aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                         aws_secret_access_key="not-the-secret",
                         config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        wrong.list_buckets()
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def raw(port, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    res = conn.getresponse()
    data = res.read()
    conn.close()
    return res.status, data


def test_key_escapes_are_refused(launch):
    server = launch("--auth", "none")
    assert raw(server.port, "PUT", "/esc")[0] == 200
    (server.data_dir / "secret.txt").write_text("secret")
    for path in ["/esc/%2e%2e/secret.txt", "/esc/../secret.txt", "/esc/a/%2E%2E/%2e%2e/secret.txt",
                 "/esc//secret.txt", "/esc/a%5c..%5c..%5csecret.txt", "/esc/a%00b",
                 "/%2e%2e/secret.txt", "/.thaw-tmp/x", "/esc/a%2f%2e%2e%2f%2e%2e%2fsecret.txt"]:
        for method in ("GET", "PUT"):
            status, body = raw(server.port, method, path, b"evil" if method == "PUT" else b"")
            assert status == 400, (method, path, status, body)
            assert b"<Code>Invalid" in body, body
    assert (server.data_dir / "secret.txt").read_text() == "secret"
    assert list((server.data_dir / "s3" / "esc").iterdir()) == []
    # Double encoding decodes once: a literal, harmless key.
    assert raw(server.port, "PUT", "/esc/%252e%252e/x", b"ok")[0] == 200
    assert (server.data_dir / "s3" / "esc" / "%2e%2e" / "x").read_bytes() == b"ok"


def test_kill_mid_upload_leaves_nothing(launch):
    server = launch("--auth", "none")
    assert raw(server.port, "PUT", "/crash")[0] == 200
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"PUT /crash/model.tar.gz HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
    sock.sendall(os.urandom(3_000_000))
    tmp = server.data_dir / "s3" / ".thaw-tmp"
    deadline = time.monotonic() + 30
    while not any(p.stat().st_size > 0 for p in tmp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(tmp.iterdir()), "the upload never reached its temporary file"
    server.kill()
    sock.close()
    server.start()
    status, body = raw(server.port, "GET", "/crash?list-type=2")
    assert status == 200 and b"<KeyCount>0</KeyCount>" in body, body
    assert raw(server.port, "HEAD", "/crash/model.tar.gz")[0] == 404
    assert list(tmp.iterdir()) == []
    assert list((server.data_dir / "s3" / "crash").iterdir()) == []
