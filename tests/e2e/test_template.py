"""The scikit-learn template tier (issue 4 section 2): after an endpoint's first start a template
process holds its loaded model (visible on /metrics as thaw_workers{state="template"}), later cold
starts fork from it — predictions identical to scikit-learn's, user errors still ModelError 500 —
and --sklearn-templates off keeps every cold start on the generic zygote."""

import re
import urllib.request

import botocore.exceptions
import numpy as np
import pytest

from test_sklearn import MODEL_FN_ONLY, RAISER, invoke_json, iris, sklearn_endpoint  # noqa: F401
from thaw_harness import ModelStore, poll


def template_gauge(srv, name):
    with urllib.request.urlopen(f"{srv.endpoint_url}/metrics", timeout=10) as r:
        text = r.read().decode()
    counts = {}
    for state, n in re.findall(
            r'thaw_workers\{endpoint="%s",variant="AllTraffic",state="(\w+)"\} (\d+)' %
            re.escape(name), text):
        counts[state] = int(n)
    return counts


def wait_idle_workers_gone(srv, name):
    poll(lambda: template_gauge(srv, name),
         lambda c: c.get("idle", 0) == 0 and c.get("busy", 0) == 0 and c.get("starting", 0) == 0,
         what="the idle workers to retire")


def test_cold_start_forks_from_the_template(launch, iris):  # noqa: F811
    # Keep-alive 2 s: workers retire 2 s after use, the template 2 s after its last worker.
    srv = launch("--keep-alive", "2", "--keep-alive-policy", "fixed")
    sm, store = srv.client(), ModelStore(srv.data_dir)
    rt = srv.client("sagemaker-runtime")
    name = sklearn_endpoint(sm, store, iris, {"inference.py": MODEL_FN_ONLY})
    model, x = iris[0], iris[1]
    # The deploy's trial start was the first start: the template follows it.
    poll(lambda: template_gauge(srv, name), lambda c: c.get("template") == 1,
         what="the template on /metrics")
    wait_idle_workers_gone(srv, name)
    assert template_gauge(srv, name).get("template") == 1  # it outlives its workers
    rows = x[::10]
    _, got = invoke_json(rt, name, rows.tolist())
    assert got == model.predict(rows.astype(np.float32)).tolist()
    log = srv.endpoint_log_text(name)
    assert "forked from the endpoint's template" in log, log
    assert "thaw: template ready" in log
    # A raising predict_fn in a forked worker is still the user's ModelError 500.
    broken = sklearn_endpoint(sm, store, iris, {"inference.py": RAISER})
    poll(lambda: template_gauge(srv, broken), lambda c: c.get("template") == 1,
         what="the broken endpoint's template")
    wait_idle_workers_gone(srv, broken)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        invoke_json(rt, broken, [[1, 2, 3, 4]])
    resp = info.value.response
    assert resp["Error"]["Code"] == "ModelError"
    assert resp["OriginalStatusCode"] == 500
    assert resp["OriginalMessage"] == "ValueError: this model refuses to predict"
    assert "forked from the endpoint's template" in srv.endpoint_log_text(broken)
    # With nothing left to serve, the template retires too.
    poll(lambda: template_gauge(srv, name), lambda c: c.get("template") == 0,
         what="the template's retirement")
    assert "thaw: template retired" in srv.endpoint_log_text(name)


def test_templates_off_keeps_the_generic_path(launch, iris):  # noqa: F811
    srv = launch("--keep-alive", "1", "--keep-alive-policy", "fixed",
                 "--sklearn-templates", "off")
    sm, store = srv.client(), ModelStore(srv.data_dir)
    name = sklearn_endpoint(sm, store, iris, {"inference.py": MODEL_FN_ONLY})
    wait_idle_workers_gone(srv, name)
    _, got = invoke_json(srv.client("sagemaker-runtime"), name, iris[1][:1].tolist())
    assert got == iris[0].predict(iris[1][:1].astype(np.float32)).tolist()
    assert template_gauge(srv, name).get("template") == 0
    assert "template" not in srv.endpoint_log_text(name)
