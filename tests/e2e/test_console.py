"""The web console (issue 9 parts 2-3) against the real binary.

- thaw serves the built console at /console/ (static files, GET only, no auth, no traversal);
- a real browser (playwright-core driving Debian's /usr/bin/chromium, headless; the script is
  console/e2e/browser.mjs) signs in, deploys through the form, invokes, sees the charts update,
  tails the logs, updates and deletes — screenshots of each page in build/console-screenshots/.

The model is uploaded through the form (S3 PutObject into the embedded store) and the log tail
reads the endpoint's stream (CloudWatch Logs FilterLogEvents); both are required.
"""

import http.client
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from thaw_harness import (CREDENTIALS, REGION, REPO_ROOT, XGBOOST_IMAGE, ModelStore, client_env,
                          thaw_binary, unique)

CONSOLE_SRC = REPO_ROOT / "console"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "build" / "console-screenshots"


def console_dir():
    return thaw_binary().parent / "console"


def get(server, target, method="GET", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(method, target, headers=headers or {})
    res = conn.getresponse()
    body = res.read()
    conn.close()
    return res.status, dict(res.getheaders()), body


def thaw_cost(server, *args):
    proc = subprocess.run([str(thaw_binary()), "cost", "--endpoint-url", server.endpoint_url, *args],
                          capture_output=True, text=True, env=client_env(), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def built():
    if not (console_dir() / "index.html").exists():
        pytest.fail(f"the console is not built in {console_dir()} (cmake target thaw_console)")
    return console_dir()


def test_console_static_files(server, built):
    status, headers, body = get(server, "/console/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<div id="app">' in body
    # The bundle index.html names is served with its type, cacheable for good.
    script = body.split(b'src="', 1)[1].split(b'"', 1)[0].decode()
    assert script.startswith("/console/assets/") and script.endswith(".js")
    status, headers, js = get(server, script)
    assert status == 200 and len(js) > 1000
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "immutable" in headers["Cache-Control"]
    # Client-side routes fall back to index.html; a missing asset does not.
    assert get(server, "/console/endpoints/anything")[0] == 200
    assert get(server, "/console/assets/missing-123.js")[0] == 404
    status, headers, _ = get(server, "/console")
    assert status == 301 and headers["Location"] == "/console/"


def test_console_paths_cannot_escape(server, built):
    (server.data_dir / "credentials").read_text()  # the secret a traversal would reach
    for target in ["/console/../credentials", "/console/%2e%2e/%2e%2e/data/credentials",
                   "/console/..%2f..%2fcredentials", "/console/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                   "/console/%00"]:
        status, _, body = get(server, target)
        assert status == 404, target
        assert b"aws_secret_access_key" not in body and b"root:" not in body


def test_console_is_get_only_and_apis_stay_signed(server, built):
    # Only GET reads files; anything else at /console/ meets the SigV4 gate like any request.
    status, _, body = get(server, "/console/", method="POST")
    assert status in (400, 403) and b"index.html" not in body
    assert get(server, "/consolex")[0] in (400, 403)



def test_console_in_a_browser(launch, built, tmp_path):
    if shutil.which("node") is None or not (CONSOLE_SRC / "node_modules" / "playwright-core").exists():
        pytest.fail("node or console/node_modules missing (scripts/install-deps.sh, cmake build)")
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium missing (scripts/install-deps.sh installs Debian's chromium)")
    # 1-second keep-alive histogram bins (the test option): the keep-alive page shows bars soon.
    server = launch("--keep-alive-bin-ms", "1000")
    sm = server.client()
    store = ModelStore(server.data_dir, bucket="thaw-console-e2e")
    model_uri = store.xgboost()
    model_file = tmp_path / "model.tar.gz"
    model_file.write_bytes(store.path_of(model_uri).read_bytes())
    bad_uri = store.not_gzip()
    # The configuration the browser updates the endpoint to.
    other = unique("console-v2")
    sm.create_model(ModelName=other, ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                    PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": model_uri})
    sm.create_endpoint_config(EndpointConfigName=other, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": other,
        "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1}}])

    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    request = {
        "url": server.endpoint_url, "region": REGION,
        "accessKeyId": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "secretAccessKey": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "endpoint": unique("console"), "modelFile": str(model_file), "modelUri": model_uri,
        "badUri": bad_uri, "otherConfig": other, "upload": True,
        "logs": True, "screenshots": str(SCREENSHOTS), "chromium": str(CHROMIUM),
    }
    proc = subprocess.run(["node", str(CONSOLE_SRC / "e2e" / "browser.mjs")],
                          input=json.dumps(request), capture_output=True, text=True, timeout=600,
                          cwd=CONSOLE_SRC)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["ok"], f"step {out.get('failedStep')!r} failed: {out.get('error')}\n" \
                      f"screenshots: {out.get('screenshots')}\nthaw log:\n{server.log_tail()}"
    assert out["pageErrors"] == []
    # Keys live in sessionStorage only, and leave with sign-out.
    assert out["stored"] == {"session": 1, "local": 0}
    assert out["storedAfterSignOut"] == 0
    assert "Failed to extract model data archive" in out["failureReason"]
    assert len(out["responses"]) == 3
    assert all(0.0 <= float(r) <= 1.0 for r in out["responses"])
    # Cold or warm as the server reports it (x-thaw-cold-start): the trial worker is retired after
    # the deploy, so the first invocation starts one; it is idle for the next ones.
    assert out["starts"] == ["cold start", "warm", "warm"], out["starts"]
    assert int(out["tileInvocations"]) >= 3
    assert out["cost"].startswith("$")
    # The cost panel is thaw cost's figure for the same window, at the same prices.
    report = out["costReport"]
    assert float(report["requests"]) == 3
    billed = json.loads(thaw_cost(server, "--endpoint", request["endpoint"], "--start", report["start"],
                                  "--end", report["end"], "--json"))
    total = billed["Total"]
    assert total["Requests"] == 3
    assert abs(float(report["serverlessUsd"]) - total["ServerlessCostUSD"]) <= 1e-12
    assert abs(float(report["instanceUsd"]) - total["InstanceCostUSD"]) <= 1e-12
    assert report["instance"] == total["InstanceType"]
    assert out["cost"] == "$%.6f" % total["ServerlessCostUSD"]
    compared = out["costCompared"]
    vs_m5 = json.loads(thaw_cost(server, "--endpoint", request["endpoint"], "--start", compared["start"],
                                 "--end", compared["end"], "--compare", "ml.m5.large", "--json"))["Total"]
    assert abs(float(compared["instanceUsd"]) - vs_m5["InstanceCostUSD"]) <= 1e-12
    assert out["listCost"] == out["cost"]
    # The keep-alive page: the adaptive policy's learned histogram from the invocations above.
    ka = out["keepAlive"]
    assert ka["policy"] == "adaptive"
    assert ka["histogramCount"] >= 2 and ka["bars"] >= 1, ka
    assert int(ka["cold"]) >= 1
    assert out["pareto"]["src"].startswith("/console/assets/pareto") and out["pareto"]["src"].endswith(".svg")
    assert out["pareto"]["caption"].startswith("thaw simulate ") and "--sweep" in out["pareto"]["caption"]
    status, headers, svg = get(server, out["pareto"]["src"])
    assert status == 200 and headers["Content-Type"].startswith("image/svg+xml") and b"<svg" in svg
    assert out["logLine"]
    for name in ["01-signin", "03-endpoints-empty", "05-deploy-inservice", "06-endpoint",
                 "08-delete-dialog", "10-endpoints-narrow", "12-keepalive", "13-keepalive-narrow"]:
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 1000
    # What the browser did, seen from boto3.
    names = [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]
    assert request["endpoint"] not in names and request["endpoint"] + "-bad" in names
