"""Remote S3 sources (issue 7 parts 3-4): thaw started with --s3-endpoint fetches s3:// model
data and SAGEMAKER_SUBMIT_DIRECTORY code from another S3 implementation, the npm package s3rver
on loopback (it checks SigV4 signatures against its one key pair, S3RVER/S3RVER). Objects are
uploaded with boto3. thaw reaches s3rver through a small fault-injecting proxy in this file, which
can answer a path with S3 errors before passing it on (retry tests)."""

import http.client
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import boto3
import joblib
import numpy as np
import pytest
from botocore.config import Config
from boto3.s3.transfer import TransferConfig
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

from thaw_asserts import assert_failed, assert_in_service
from thaw_harness import (CLIENTS_DIR, ROLE_ARN, SKLEARN_IMAGE, ThawServer, _tar_gz, poll,
                          unique, xgboost_model_bytes)

S3RVER_DIR = CLIENTS_DIR / "s3rver"
S3RVER_BIN = S3RVER_DIR / "node_modules" / ".bin" / "s3rver"
BUCKET = "models"
S3RVER_KEYS = {"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER"}

SEED_INFERENCE = """\
import json
import os

import joblib
import numpy as np


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(request_body, request_content_type):
    return np.array(json.loads(request_body)["instances"])


def predict_fn(input_data, model):
    return {"labels": model.predict(input_data).tolist()}


def output_fn(prediction, accept):
    return json.dumps(prediction), "application/json"
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def xgboost_archive(extra=()):
    return _tar_gz([("xgboost-model", xgboost_model_bytes())] + list(extra))


# ---------------------------------------------------------------------------------------------
# s3rver and the fault proxy


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(x, y)
    buf = io.BytesIO()
    joblib.dump(model, buf)
    return model, x, buf.getvalue()


@pytest.fixture(scope="module")
def s3rver(tmp_path_factory):
    if shutil.which("node") is None or not S3RVER_BIN.exists():
        pytest.skip("s3rver is not installed (scripts/install-deps.sh runs npm ci in "
                    "tests/e2e/clients/s3rver)")
    port = free_port()
    data = tmp_path_factory.mktemp("s3rver")
    log = open(data.parent / f"{data.name}.log", "wb")
    proc = subprocess.Popen(["node", str(S3RVER_BIN), "-d", str(data), "-a", "127.0.0.1",
                             "-p", str(port), "--no-vhost-buckets", "--configure-bucket", BUCKET],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def up():
        assert proc.poll() is None, f"s3rver exited with {proc.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    poll(up, bool, timeout=30, what="s3rver listening")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="module")
def s3(s3rver):
    client = boto3.client("s3", endpoint_url=s3rver, region_name="us-east-1",
                          aws_access_key_id=S3RVER_KEYS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=S3RVER_KEYS["AWS_SECRET_ACCESS_KEY"],
                          config=Config(s3={"addressing_style": "path"}))
    client.head_bucket(Bucket=BUCKET)
    return client


def signature_matches(headers, method, path):
    """Whether the SigV4 Authorization of a request verifies with S3RVER's secret, recomputed
    by botocore's S3 signer (s3rver 3.7.1 checks the access key but not V4 signatures)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    auth = headers.get("Authorization", "")
    fields = dict(part.strip().split("=", 1) for part in auth.split(" ", 1)[1].split(","))
    access_key, date, region, service, _ = fields["Credential"].split("/")
    secrets = {S3RVER_KEYS["AWS_ACCESS_KEY_ID"]: S3RVER_KEYS["AWS_SECRET_ACCESS_KEY"]}
    if access_key not in secrets:
        return True  # s3rver answers InvalidAccessKeyId itself
    signed = fields["SignedHeaders"].split(";")
    request = AWSRequest(method=method, url=f"http://{headers['Host']}{path}",
                         headers={name: headers[name] for name in signed})
    request.context["timestamp"] = headers["X-Amz-Date"]
    signer = S3SigV4Auth(Credentials(access_key, secrets[access_key]), service, region)
    string_to_sign = signer.string_to_sign(request, signer.canonical_request(request))
    return signer.signature(string_to_sign, request) == fields["Signature"]


class FaultProxy:
    """Forwards every request to s3rver unchanged (Host included), after checking its SigV4
    signature with botocore (a mismatch is answered 403 SignatureDoesNotMatch, as S3 does);
    a path in `faults` is first answered with the listed HTTP statuses, one per request.
    `seen` counts requests per path."""

    def __init__(self, upstream):
        self.upstream = upstream.removeprefix("http://")
        self.faults = {}
        self.seen = {}
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                with proxy.lock:
                    proxy.seen[self.path] = proxy.seen.get(self.path, 0) + 1
                    pending = proxy.faults.get(self.path, [])
                    status = pending.pop(0) if pending else None
                code = b"SlowDown"
                if status is None and not signature_matches(self.headers, "GET", self.path):
                    status, code = 403, b"SignatureDoesNotMatch"
                if status is not None:
                    body = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
                            b"</Code><Message>Refused by the test proxy.</Message></Error>")
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                host, port = proxy.upstream.split(":")
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                conn.putrequest("GET", self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    conn.putheader(name, value)
                conn.endheaders()
                response = conn.getresponse()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("connection", "transfer-encoding", "date", "server"):
                        self.send_header(name, value)
                self.end_headers()
                while chunk := response.read(64 * 1024):
                    self.wfile.write(chunk)
                conn.close()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def proxy(s3rver):
    p = FaultProxy(s3rver)
    yield p
    p.close()


@pytest.fixture(scope="module")
def remote(tmp_path_factory, proxy):
    """thaw fetching s3:// from s3rver (through the proxy), keys from the environment."""
    srv = ThawServer(tmp_path_factory.mktemp("thaw-remote"), ["--s3-endpoint", proxy.url],
                     env={**S3RVER_KEYS, "AWS_SESSION_TOKEN": "", "AWS_REGION": "us-east-1"})
    srv.start()
    yield srv
    srv.stop_and_check()


@pytest.fixture(scope="module")
def sm(remote):
    return remote.client()


@pytest.fixture(scope="module")
def rt(remote):
    return remote.client("sagemaker-runtime")


def deploy(sm, url, image=None, env=None, wait=True):
    from thaw_harness import XGBOOST_IMAGE
    model = unique("remote-model")
    container = {"Image": image or XGBOOST_IMAGE, "ModelDataUrl": url}
    if env:
        container["Environment"] = env
    sm.create_model(ModelName=model, ExecutionRoleArn=ROLE_ARN, PrimaryContainer=container)
    config = unique("remote-config")
    sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": model,
        "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}])
    name = unique("remote")
    sm.create_endpoint(EndpointName=name, EndpointConfigName=config)
    if wait:
        assert_in_service(sm, name, config)
    return name


def invoke_csv(rt, name):
    out = rt.invoke_endpoint(EndpointName=name, Body=b"0.5,-1.0,0.25,2.0", ContentType="text/csv")
    return [float(v) for v in out["Body"].read().decode().split(",")]


# ---------------------------------------------------------------------------------------------
# Deploying from the remote store


def test_xgboost_model_from_s3rver(s3, sm, rt, remote):
    key = f"{unique('xgb')}/model.tar.gz"
    s3.put_object(Bucket=BUCKET, Key=key, Body=xgboost_archive())
    name = deploy(sm, f"s3://{BUCKET}/{key}")
    [score] = invoke_csv(rt, name)
    assert 0.0 <= score <= 1.0
    assert not (remote.data_dir / "s3" / BUCKET).exists()  # nothing came from the embedded store
    leftovers = [p.name for p in (remote.data_dir / "cache" / "models").iterdir()
                 if p.name.startswith(".tmp-")]
    assert leftovers == []  # the download was removed once extracted


def test_large_multipart_upload(s3, sm, rt, iris, tmp_path):
    """upload_file switches to multipart above its threshold (12 MB of random bytes beside the
    model, 3 parts of 5 MB); thaw streams the object to disk in 256 KiB reads. AWS would answer
    the GET with the multipart ETag "<md5 of part md5s>-3", which thaw checks only by size
    (unit-tested: S3FetcherTest.MultipartETagIsCheckedBySizeOnly); s3rver 3.7.1 answers the MD5
    of the whole object instead, which thaw verifies."""
    model, x, joblib_bytes = iris
    archive = tmp_path / "model.tar.gz"
    padding = np.random.default_rng(1).bytes(12 * 1024 * 1024)
    archive.write_bytes(_tar_gz([("model.joblib", joblib_bytes), ("padding.bin", padding),
                                 ("code/inference.py", SEED_INFERENCE.encode())]))
    key = f"{unique('skl-multipart')}/model.tar.gz"
    s3.upload_file(str(archive), BUCKET, key, Config=TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == archive.stat().st_size
    name = deploy(sm, f"s3://{BUCKET}/{key}", image=SKLEARN_IMAGE,
                  env={"SAGEMAKER_PROGRAM": "inference.py",
                       "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"})
    rows = x[[0, 149]]
    out = rt.invoke_endpoint(EndpointName=name, ContentType="application/json",
                             Body=json.dumps({"instances": rows.tolist()}))
    assert json.loads(out["Body"].read())["labels"] == model.predict(rows).tolist()


def test_sklearn_submit_directory_on_s3rver(s3, sm, rt, iris):
    """The SDK's SKLearnModel path: model.tar.gz holds only model.joblib, the code is
    sourcedir.tar.gz next to it, named by SAGEMAKER_SUBMIT_DIRECTORY."""
    model, x, joblib_bytes = iris
    prefix = unique("skl")
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/model.tar.gz",
                  Body=_tar_gz([("model.joblib", joblib_bytes)]))
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/source/sourcedir.tar.gz",
                  Body=_tar_gz([("inference.py", SEED_INFERENCE.encode())]))
    name = deploy(sm, f"s3://{BUCKET}/{prefix}/model.tar.gz", image=SKLEARN_IMAGE,
                  env={"SAGEMAKER_PROGRAM": "inference.py",
                       "SAGEMAKER_SUBMIT_DIRECTORY":
                           f"s3://{BUCKET}/{prefix}/source/sourcedir.tar.gz"})
    rows = x[[0, 60, 120]]
    out = rt.invoke_endpoint(EndpointName=name, ContentType="application/json",
                             Body=json.dumps({"instances": rows.tolist()}))
    assert json.loads(out["Body"].read())["labels"] == model.predict(rows).tolist()


def test_5xx_then_success_is_retried(s3, sm, rt, proxy, remote):
    key = f"{unique('flaky')}/model.tar.gz"
    s3.put_object(Bucket=BUCKET, Key=key, Body=xgboost_archive())
    path = f"/{BUCKET}/{key}"
    proxy.faults[path] = [503, 500]
    name = deploy(sm, f"s3://{BUCKET}/{key}")
    assert proxy.seen[path] == 3
    [score] = invoke_csv(rt, name)
    assert 0.0 <= score <= 1.0
    assert "attempt 2 failed (HTTP 500 SlowDown); retrying" in remote.log_text()


# ---------------------------------------------------------------------------------------------
# Failures become the endpoint's FailureReason


def test_missing_key(sm):
    url = f"s3://{BUCKET}/{unique('nothing')}/model.tar.gz"
    name = deploy(sm, url, wait=False)
    assert_failed(sm, name, startswith=f'Failed to download model data from URL "{url}". '
                                       "NoSuchKey: The specified key does not exist.",
                  contains=["Please ensure that there is an object located at the URL."])


def test_missing_bucket(sm):
    url = f"s3://no-such-bucket-{unique('b')}/model.tar.gz"
    name = deploy(sm, url, wait=False)
    assert_failed(sm, name, startswith=f'Failed to download model data from URL "{url}". '
                                       "NoSuchBucket")


def test_missing_code_archive(s3, sm):
    key = f"{unique('skl-nocode')}/model.tar.gz"
    s3.put_object(Bucket=BUCKET, Key=key, Body=_tar_gz([("model.joblib", b"x")]))
    code = f"s3://{BUCKET}/{unique('nothing')}/sourcedir.tar.gz"
    name = deploy(sm, f"s3://{BUCKET}/{key}", image=SKLEARN_IMAGE,
                  env={"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": code},
                  wait=False)
    assert_failed(sm, name, contains=[
        f'Failed to download the code from SAGEMAKER_SUBMIT_DIRECTORY "{code}". NoSuchKey'])


@pytest.mark.parametrize("case", ["wrong_secret_in_profile", "unknown_key_in_env", "unreachable"])
def test_bad_credentials_or_endpoint(case, s3, proxy, tmp_path):
    """Each case is a server of its own: credentials are read once, at start-up."""
    key = f"{unique('xgb')}/model.tar.gz"
    s3.put_object(Bucket=BUCKET, Key=key, Body=xgboost_archive())
    endpoint, env, args = proxy.url, {}, []
    if case == "wrong_secret_in_profile":
        creds = tmp_path / "aws-credentials"
        creds.write_text("[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = x\n"
                         "[remote]\naws_access_key_id = S3RVER\naws_secret_access_key = wrong\n")
        env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
               "AWS_SHARED_CREDENTIALS_FILE": str(creds)}
        args = ["--s3-profile", "remote"]
        expected = "SignatureDoesNotMatch"
    elif case == "unknown_key_in_env":
        env = {"AWS_ACCESS_KEY_ID": "AKIDNOTKNOWN", "AWS_SECRET_ACCESS_KEY": "S3RVER"}
        expected = "InvalidAccessKeyId"
    else:
        endpoint = f"http://127.0.0.1:{free_port()}"
        env = dict(S3RVER_KEYS)
        expected = f"the S3 endpoint {endpoint} is unreachable"
    srv = ThawServer(tmp_path / "thaw", ["--s3-endpoint", endpoint, *args], env=env)
    srv.start()
    try:
        url = f"s3://{BUCKET}/{key}"
        sm = srv.client()
        name = deploy(sm, url, wait=False)
        desc = assert_failed(sm, name, startswith=f'Failed to download model data from URL "{url}".',
                             contains=[expected])
        if case != "unreachable":
            assert "Please ensure that the credentials thaw was started with" in desc["FailureReason"]
    finally:
        srv.stop_and_check()


def test_without_credentials_the_server_refuses_to_start(tmp_path):
    srv = ThawServer(tmp_path / "thaw", ["--s3-endpoint", "http://127.0.0.1:9"],
                     env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                          "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
                          "AWS_PROFILE": "default"})
    with pytest.raises(AssertionError, match="--s3-endpoint needs AWS credentials"):
        srv.start()
    srv.stopped = True
