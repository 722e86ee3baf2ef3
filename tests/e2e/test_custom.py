"""Custom containers (issue 4 §3): an Image that names a program on this machine is run the way
SageMaker runs an image — `program serve`, SAGEMAKER_BIND_TO_PORT, the model at /opt/ml/model, the
model's Environment — inside the sandbox, behind thaw's init, which bridges the server's socket to
the program's port. The program is tests/e2e/programs/serve.py."""

import json
import re
import subprocess
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import botocore.exceptions
import pytest

from thaw_asserts import Resources, assert_failed, assert_in_service
from thaw_harness import ModelStore, _tar_gz, client_env, poll, thaw_binary, unique

PROGRAM = Path(__file__).resolve().parent / "programs" / "serve"


def custom_model(res, image=None, environment=None, model_data=True):
    name = unique("model")
    container = {"Image": image or f"file://{PROGRAM}"}
    if model_data:
        container["ModelDataUrl"] = res.store.put(
            _tar_gz([("weights.bin", b"\x00" * 16), ("code", None), ("code/notes.txt", b"hi")]))
    if environment:
        container["Environment"] = environment
    res.sm.create_model(ModelName=name, ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                        PrimaryContainer=container)
    return name


def custom_endpoint(res, memory=1024, concurrency=5, wait=True, **kw):
    config = res.config(model=custom_model(res, **kw), memory=memory, concurrency=concurrency)
    return res.endpoint(config, wait=wait)


def invoke(server, name, body, **kw):
    rt = server.client("sagemaker-runtime")
    return rt.invoke_endpoint(EndpointName=name, Body=body, **kw)


def model_error(server, name, body):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        invoke(server, name, body, ContentType="text/plain")
    return info.value.response


def test_program_serves_the_contract(server, res):
    name = custom_endpoint(res, environment={"MY_SETTING": "42"})
    resp = invoke(server, name, b"hello", ContentType="text/plain", Accept="application/json",
                  CustomAttributes="trace=1")
    report = json.loads(resp["Body"].read())
    assert report["argv"] == ["serve"]
    assert report["body"] == "hello"
    assert report["content_type"] == "text/plain"
    assert report["accept"] == "application/json"
    assert report["custom_attributes"] == "trace=1"
    assert report["model_files"] == ["code", "weights.bin"]
    assert report["env"]["MY_SETTING"] == "42"
    assert report["env"]["SAGEMAKER_BIND_TO_PORT"] == "8080"
    assert report["env"]["SAGEMAKER_SAFE_PORT_RANGE"]
    assert resp["ContentType"] == "application/json"
    assert resp["CustomAttributes"] == "seen"
    # Warm: the same process answers again.
    again = json.loads(invoke(server, name, b"x", ContentType="text/plain")["Body"].read())
    assert again["instance"] == report["instance"]
    described = res.sm.describe_endpoint(EndpointName=name)
    image = described["ProductionVariants"][0]["DeployedImages"][0]
    assert image["SpecifiedImage"] == f"file://{PROGRAM}"
    assert image["ResolvedImage"].startswith(f"file://{PROGRAM}@sha256:")


def test_program_without_model_data_sees_an_empty_model_dir(server, res):
    # The image may name a directory: its `serve` is the program.
    name = custom_endpoint(res, model_data=False, image=str(PROGRAM.parent))
    report = json.loads(invoke(server, name, b"x", ContentType="text/plain")["Body"].read())
    assert report["model_files"] == []


def test_program_error_status_is_model_error(server, res):
    name = custom_endpoint(res)
    err = model_error(server, name, b"status:503")
    assert err["Error"]["Code"] == "ModelError"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert err["OriginalStatusCode"] == 503
    assert "refused by the program" in err["Error"]["Message"]


def test_crash_fails_only_its_request_and_is_replaced(server, res):
    name = custom_endpoint(res)
    first = json.loads(invoke(server, name, b"x", ContentType="text/plain")["Body"].read())
    err = model_error(server, name, b"crash")
    assert err["Error"]["Code"] == "ModelError"
    after = json.loads(invoke(server, name, b"x", ContentType="text/plain")["Body"].read())
    assert after["instance"] != first["instance"]  # a new worker, a new run of the program


def test_allocation_past_memory_size_is_model_error_and_contained(server, res):
    victim = custom_endpoint(res, memory=1024)
    bystander = custom_endpoint(res, memory=1024)
    invoke(server, bystander, b"x", ContentType="text/plain")
    err = model_error(server, victim, b"alloc:1400")
    assert err["Error"]["Code"] == "ModelError"
    # An allocation within the limit works, on a fresh worker; the other endpoint never noticed.
    ok = json.loads(invoke(server, victim, b"alloc:100", ContentType="text/plain")["Body"].read())
    assert ok == {"allocated_mb": 100}
    assert json.loads(invoke(server, bystander, b"y", ContentType="text/plain")["Body"].read())[
        "body"] == "y"


def test_program_that_exits_fails_the_deploy(server, res):
    name = custom_endpoint(res, wait=False, environment={"THAW_TEST_EXIT": "4"})
    assert_failed(res.sm, name, contains=("did not pass the ping health check",
                                           "exited with status 4"))


def test_missing_or_not_executable_program_fails_the_deploy(server, res, tmp_path):
    missing = custom_endpoint(res, wait=False, image=f"file://{tmp_path}/nope/serve")
    assert_failed(res.sm, missing, contains=("does not exist",))
    plain = tmp_path / "serve"
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o644)
    not_exec = custom_endpoint(res, wait=False, image=str(plain))
    assert_failed(res.sm, not_exec, contains=("is not executable",))


def test_program_that_never_passes_ping_fails_the_deploy(launch):
    srv = launch("--startup-timeout", "2")
    res = Resources(srv.client(), ModelStore(srv.data_dir))
    name = custom_endpoint(res, wait=False, environment={"THAW_TEST_PING": "fail"})
    assert_failed(res.sm, name, contains=("did not pass the ping health check",))


def test_program_runs_unsandboxed_in_development_mode(launch):
    srv = launch("--sandbox", "unsafe-off")
    res = Resources(srv.client(), ModelStore(srv.data_dir))
    a = custom_endpoint(res)
    b = custom_endpoint(res)
    # Without network namespaces each program gets a port of its own.
    ra = json.loads(invoke(srv, a, b"a", ContentType="text/plain")["Body"].read())
    rb = json.loads(invoke(srv, b, b"b", ContentType="text/plain")["Body"].read())
    assert ra["env"]["SAGEMAKER_BIND_TO_PORT"] != rb["env"]["SAGEMAKER_BIND_TO_PORT"]
    assert_in_service(res.sm, a)


@pytest.mark.parametrize("example", ["custom-python", "custom-c"])
def test_example_deploys_and_answers(server, example):
    script = Path(__file__).resolve().parents[2] / "examples" / example / "deploy.sh"
    env = dict(client_env(), THAW=str(thaw_binary()), THAW_ENDPOINT_URL=server.endpoint_url)
    proc = subprocess.run(["bash", str(script), unique(example)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # 0.1 + 0.5·1 − 1·2 + 2·3 + 0.25·4 = 5.6, and the bias alone for the zero row.
    assert re.search(r"^5\.(6|59999)", proc.stdout, re.M), proc.stdout
    assert re.search(r"^0\.1\d*$", proc.stdout, re.M), proc.stdout


# ---------------------------------------------------------------------------------------------
# Graceful retirement: the program gets SIGTERM and --stop-grace before SIGKILL


def log_lines(srv, name, *needles):
    """Lines of the endpoint's log group (the program's output, the zygote's exit lines)."""
    text = srv.endpoint_log_text(name)
    return [line for line in text.splitlines() if all(n in line for n in needles)]


def wait_for_log(srv, name, *needles, timeout=60):
    return poll(lambda: log_lines(srv, name, *needles), bool, timeout=timeout,
                what=f"a log line of {name} with {needles}")


def test_retired_program_gets_sigterm_and_exits_on_its_own(launch):
    # The default grace, 30 s: the program exits long before.
    srv = launch("--keep-alive", "1", "--keep-alive-policy", "fixed")
    res = Resources(srv.client(), ModelStore(srv.data_dir))
    name = custom_endpoint(res)
    instance = json.loads(invoke(srv, name, b"x", ContentType="text/plain")["Body"].read())[
        "instance"]
    wait_for_log(srv, name, f"SIGTERM received, exiting (instance {instance})")
    # Both workers (the deploy's trial one and the one that served) exited with the program's
    # status, and none had to be killed.
    poll(lambda: log_lines(srv, name, f"worker {name}.", "exited: exit status 0"),
         lambda lines: len(lines) == 2, what="two workers exiting with status 0")
    assert not [line for line in srv.log_text().splitlines()
                if f"worker {name}." in line and "after its stop request: killed" in line]


def test_program_that_ignores_sigterm_is_killed_after_the_grace(launch):
    srv = launch("--keep-alive", "1", "--keep-alive-policy", "fixed", "--stop-grace", "2")
    res = Resources(srv.client(), ModelStore(srv.data_dir))
    name = custom_endpoint(res, environment={"THAW_TEST_SIGTERM": "ignore"})
    instance = json.loads(invoke(srv, name, b"x", ContentType="text/plain")["Body"].read())[
        "instance"]
    wait_for_log(srv, name, f"SIGTERM received, ignoring it (instance {instance})")
    poll(lambda: [line for line in srv.log_text().splitlines() if f"worker {name}." in line and
                  "did not exit within the 2000 ms grace after its stop request: killed" in line],
         lambda lines: len(lines) == 2, what="both workers killed after the grace")
    # SIGTERM first, SIGKILL only after the grace: the program had its chance. The worker's
    # stream holds both, in order: its own line, then the zygote's exit line.
    wait_for_log(srv, name, "exited: killed by signal 9")
    text = srv.endpoint_log_text(name)
    assert text.index(f"ignoring it (instance {instance})") < text.rindex("killed by signal 9")
    assert invoke(srv, name, b"y", ContentType="text/plain")  # a new worker serves on


def test_request_in_flight_finishes_before_its_worker_is_stopped(server, res):
    name = custom_endpoint(res)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(invoke, server, name, b"sleep:1.5", ContentType="text/plain")
        poll(lambda: server_busy(server, name), bool, what="the request on a busy worker")
        res.sm.delete_endpoint(EndpointName=name)
        report = json.loads(pending.result()["Body"].read())
    assert report["body"] == "sleep:1.5"
    wait_for_log(server, name, f"SIGTERM received, exiting (instance {report['instance']})")


def server_busy(server, name):
    text = urllib.request.urlopen(f"{server.endpoint_url}/metrics", timeout=5).read().decode()
    return re.search(rf'thaw_workers{{endpoint="{re.escape(name)}",[^}}]*state="busy"}} 1', text)
