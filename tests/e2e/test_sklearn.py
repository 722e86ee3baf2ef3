"""The scikit-learn 1.2-1 runtime through boto3 (issue 4): the seed's SKLearnModel flow, the
handler contract of sagemaker-api.md section 4.3, failures that fail the deploy with a reason,
user errors that stay contained, true parallelism across workers, and MaxConcurrency."""

import io
import json
import textwrap
import threading
import time

import botocore.exceptions
import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

from thaw_asserts import assert_failed
from thaw_harness import ROLE_ARN, SKLEARN_IMAGE, ModelStore, _tar_gz, poll, unique

# The seed's inference.py: every handler written out, JSON in and out.
SEED_INFERENCE = """\
import json
import os

import joblib
import numpy as np


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(request_body, request_content_type):
    if request_content_type == "application/json":
        return np.array(json.loads(request_body)["instances"])
    raise ValueError(f"unsupported content type {request_content_type}")


def predict_fn(input_data, model):
    return {"labels": model.predict(input_data).tolist(),
            "probabilities": model.predict_proba(input_data).tolist()}


def output_fn(prediction, accept):
    return json.dumps(prediction), "application/json"
"""

MODEL_FN_ONLY = """\
import os
import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
"""

# Each request sleeps in predict_fn and reports the worker process that ran it and when, by its
# own clock (CLOCK_REALTIME is shared by every process on the host). Every sandboxed worker is
# pid 1 of its own PID namespace, so the process is named by its namespace and pid.
SLEEPER = MODEL_FN_ONLY + """

import json
import time


def predict_fn(data, model):
    start = time.time()
    time.sleep(float(data[0][0]))
    process = f"{os.readlink('/proc/self/ns/pid')}/{os.getpid()}"
    return {"process": process, "start": start, "end": time.time()}


def output_fn(prediction, accept):
    return json.dumps(prediction), "application/json"
"""

RAISER = MODEL_FN_ONLY + """

def predict_fn(data, model):
    raise ValueError("this model refuses to predict")
"""


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    model = RandomForestClassifier(n_estimators=100, random_state=0).fit(x, y)
    buf = io.BytesIO()
    joblib.dump(model, buf)
    return model, x, buf.getvalue()


@pytest.fixture(scope="module")
def rt(server):
    return server.client("sagemaker-runtime")


def model_archive(iris, code=None, extra=()):
    """model.tar.gz: model.joblib, and code/<name> files when `code` is {name: text}."""
    members = [("model.joblib", iris[2])]
    for name, text in (code or {}).items():
        members.append((f"code/{name}", text.encode()))
    return _tar_gz(members + list(extra))


def sklearn_endpoint(sm, store, iris, code, program="inference.py", memory=2048, concurrency=5,
                     wait=True, environment=None):
    """An endpoint whose model.tar.gz carries its code under code/ (the SDK's repack layout)."""
    url = store.put(model_archive(iris, code))
    env = {"SAGEMAKER_PROGRAM": program, "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
    env.update(environment or {})
    return deploy(sm, url, env, memory, concurrency, wait)


def deploy(sm, url, env, memory, concurrency, wait=True):
    model = unique("skl-model")
    sm.create_model(ModelName=model, ExecutionRoleArn=ROLE_ARN,
                    PrimaryContainer={"Image": SKLEARN_IMAGE, "ModelDataUrl": url,
                                      "Environment": env})
    config = unique("skl-config")
    sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": model,
        "ServerlessConfig": {"MemorySizeInMB": memory, "MaxConcurrency": concurrency}}])
    name = unique("skl")
    sm.create_endpoint(EndpointName=name, EndpointConfigName=config)
    if wait:
        waiter = sm.get_waiter("endpoint_in_service")
        try:
            waiter.wait(EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        except botocore.exceptions.WaiterError:
            desc = sm.describe_endpoint(EndpointName=name)
            raise AssertionError(f"{name}: {desc['EndpointStatus']}: {desc.get('FailureReason')}")
    return name


def invoke_json(rt, name, payload, **kw):
    out = rt.invoke_endpoint(EndpointName=name, Body=json.dumps(payload),
                             ContentType="application/json", **kw)
    return out, json.loads(out["Body"].read())


# ---------------------------------------------------------------------------------------------
# Serving


@pytest.mark.parametrize("code_location", ["s3_sourcedir", "host_directory"])
def test_seed_sklearn_model_flow(sm, rt, store, iris, tmp_path, code_location):
    """SKLearnModel(model_data=…model.tar.gz, entry_point='inference.py', source_dir=…,
    framework_version='1.2-1').deploy(ServerlessInferenceConfig(3072, 20)): the SDK uploads the
    source dir as sourcedir.tar.gz and points SAGEMAKER_SUBMIT_DIRECTORY at it."""
    model, x, _ = iris
    if code_location == "s3_sourcedir":
        submit = store.put(_tar_gz([("inference.py", SEED_INFERENCE.encode())]),
                           key=f"{unique('code')}/sourcedir.tar.gz")
    else:
        (tmp_path / "inference_code").mkdir()
        (tmp_path / "inference_code" / "inference.py").write_text(SEED_INFERENCE)
        submit = str(tmp_path / "inference_code")
    env = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": submit,
           "SAGEMAKER_CONTAINER_LOG_LEVEL": "20", "SAGEMAKER_REGION": "us-east-1"}
    name = deploy(sm, store.put(model_archive(iris)), env, memory=3072, concurrency=20)
    [variant] = sm.describe_endpoint(EndpointName=name)["ProductionVariants"]
    assert variant["CurrentServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 20}

    rows = x[[0, 60, 120, 149]]
    out, got = invoke_json(rt, name, {"instances": rows.tolist()})
    assert out["ContentType"] == "application/json"
    assert got["labels"] == model.predict(rows).tolist()
    assert got["probabilities"] == model.predict_proba(rows).tolist()
    _, again = invoke_json(rt, name, {"instances": rows.tolist()})  # warm
    assert again == got


def test_default_handlers_only(sm, rt, store, iris):
    """Just model_fn: the default decoders, predict and encoders, JSON by default."""
    model, x, _ = iris
    name = sklearn_endpoint(sm, store, iris, {"inference.py": MODEL_FN_ONLY})
    rows = x[[0, 75, 140]]
    expected = model.predict(rows.astype(np.float32)).tolist()

    out, got = invoke_json(rt, name, rows.tolist())
    assert out["ContentType"] == "application/json" and got == expected
    body = "\n".join(",".join(repr(v) for v in row) for row in rows)
    out = rt.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv",
                             Accept="text/csv")
    assert out["ContentType"] == "text/csv; charset=utf-8"
    assert out["Body"].read().decode().split() == [str(v) for v in expected]
    # No Content-Type (boto3 sends none) means JSON; no Accept means JSON.
    out = rt.invoke_endpoint(EndpointName=name, Body=json.dumps(rows.tolist()))
    assert json.loads(out["Body"].read()) == expected
    buf = io.BytesIO()
    np.save(buf, rows)
    out = rt.invoke_endpoint(EndpointName=name, Body=buf.getvalue(),
                             ContentType="application/x-npy", Accept="application/x-npy")
    assert np.load(io.BytesIO(out["Body"].read())).tolist() == model.predict(rows).tolist()


def test_single_row_is_one_sample(sm, rt, store, iris):
    """thaw's documented improvement: the container would squeeze one row to 1-D and fail."""
    model, x, _ = iris
    name = sklearn_endpoint(sm, store, iris, {"inference.py": MODEL_FN_ONLY})
    row = x[100]
    expected = model.predict(row.reshape(1, -1).astype(np.float32)).tolist()
    _, got = invoke_json(rt, name, row.tolist())
    assert got == expected
    out = rt.invoke_endpoint(EndpointName=name, Body=",".join(map(str, row)),
                             ContentType="text/csv")
    assert json.loads(out["Body"].read()) == expected


def test_raising_predict_fn_is_model_error_and_contained(sm, rt, store, iris, server):
    healthy = sklearn_endpoint(sm, store, iris, {"inference.py": MODEL_FN_ONLY})
    broken = sklearn_endpoint(sm, store, iris, {"inference.py": RAISER})
    for _ in range(2):  # the worker survives its handler's exception
        with pytest.raises(botocore.exceptions.ClientError) as info:
            invoke_json(rt, broken, [[1, 2, 3, 4]])
        resp = info.value.response
        assert resp["Error"]["Code"] == "ModelError"
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 424
        assert resp["OriginalStatusCode"] == 500
        assert resp["OriginalMessage"] == "ValueError: this model refuses to predict"
        assert "Traceback" not in resp["Error"]["Message"]
        _, got = invoke_json(rt, healthy, [[5.1, 3.5, 1.4, 0.2]])
        assert got == [0]
    # The traceback is in the failing worker's log stream, which LogStreamArn names.
    stream = resp["LogStreamArn"].split(":log-stream:", 1)[1]
    logs = server.client("logs")
    log = "\n".join(e["message"] for e in logs.get_log_events(
        logGroupName=f"/aws/sagemaker/Endpoints/{broken}", logStreamName=stream,
        startFromHead=True)["events"])
    assert "Traceback (most recent call last)" in log
    assert 'raise ValueError("this model refuses to predict")' in log


# ---------------------------------------------------------------------------------------------
# Deploy failures


def test_missing_model_fn_fails_the_deploy(sm, store, iris):
    code = {"predictor.py": "def predict_fn(data, model):\n    return data\n"}
    name = sklearn_endpoint(sm, store, iris, code, program="predictor.py", wait=False)
    assert_failed(sm, name, contains=("did not pass the ping health check",
                                      "predictor.py", "does not define model_fn(model_dir)"))


def test_transform_fn_with_predict_fn_fails_the_deploy(sm, store, iris):
    code = {"inference.py": MODEL_FN_ONLY + textwrap.dedent("""
        def transform_fn(model, body, content_type, accept):
            return body
        def predict_fn(data, model):
            return data
        """)}
    name = sklearn_endpoint(sm, store, iris, code, wait=False)
    assert_failed(sm, name, contains=("inference.py", "defines transform_fn together with "
                                      "predict_fn"))


def test_requirements(sm, rt, store, iris):
    ok = sklearn_endpoint(sm, store, iris, {"inference.py": MODEL_FN_ONLY,
                                            "requirements.txt": "numpy\nscikit-learn==1.2.1\n"})
    _, got = invoke_json(rt, ok, [[5.1, 3.5, 1.4, 0.2]])
    assert got == [0]
    missing = sklearn_endpoint(
        sm, store, iris, {"inference.py": MODEL_FN_ONLY,
                          "requirements.txt": "numpy\nleftpad-thaw==1.0\nscikit-learn>=9\n"},
        wait=False)
    assert_failed(sm, missing, contains=("cannot install packages", "leftpad-thaw==1.0",
                                         "scikit-learn>=9 (installed: 1.2.1)"))


def test_model_fn_exception_fails_the_deploy(sm, store, iris):
    code = {"inference.py": "def model_fn(model_dir):\n    raise OSError('no weights here')\n"}
    name = sklearn_endpoint(sm, store, iris, code, wait=False)
    assert_failed(sm, name, contains=("model_fn of inference.py", "OSError: no weights here"))


# ---------------------------------------------------------------------------------------------
# Concurrency


def concurrent_invokes(rt, name, seconds, n):
    results = [None] * n

    def run(i):
        try:
            _, results[i] = invoke_json(rt, name, [[seconds]])
        except botocore.exceptions.ClientError as e:
            results[i] = e.response["Error"]["Code"]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_workers_run_in_parallel(sm, rt, store, iris):
    """Three requests that each sleep 0.5 s in predict_fn run in three processes at once."""
    name = sklearn_endpoint(sm, store, iris, {"inference.py": SLEEPER}, concurrency=3)
    # Cold-start three workers: three requests in flight at once (they sleep too).
    concurrent_invokes(rt, name, 0.5, 3)
    results = concurrent_invokes(rt, name, 0.5, 3)
    assert len({r["process"] for r in results}) == 3, results
    # Every window overlaps every other: they ran concurrently, not one after another.
    assert max(r["start"] for r in results) < min(r["end"] for r in results), results


def test_max_concurrency_throttles(sm, rt, store, iris):
    name = sklearn_endpoint(sm, store, iris, {"inference.py": SLEEPER}, concurrency=2)
    results = concurrent_invokes(rt, name, 2.0, 4)
    assert sorted(r if isinstance(r, str) else "ok" for r in results) == \
        ["ThrottlingException", "ThrottlingException", "ok", "ok"], results


# The worker's retirement runs the module's atexit handlers, as the container's gunicorn worker
# does when it gets SIGTERM and exits.
ATEXIT = MODEL_FN_ONLY + """
import atexit
import sys

atexit.register(lambda: print("inference.py: atexit handler ran", file=sys.stderr, flush=True))
"""


def test_retired_worker_runs_atexit_handlers(launch, iris):
    srv = launch("--keep-alive", "1", "--keep-alive-policy", "fixed")
    sm, store = srv.client(), ModelStore(srv.data_dir)
    name = sklearn_endpoint(sm, store, iris, {"inference.py": ATEXIT})
    _, got = invoke_json(srv.client("sagemaker-runtime"), name, iris[1][:1].tolist())
    assert got == iris[0].predict(iris[1][:1].astype(np.float32)).tolist()
    # The deploy's trial worker and the one that served: both retire, both run the handler.
    poll(lambda: srv.endpoint_log_text(name).count("inference.py: atexit handler ran"),
         lambda n: n == 2,
         what="the atexit handler of both workers")
