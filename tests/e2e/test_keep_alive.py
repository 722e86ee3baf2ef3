"""Adaptive keep-alive in the server (issue 8): with shortened histogram bins (the test
configuration --keep-alive-bin-ms), an endpoint invoked on a regular rhythm gets pre-warmed once
its idle times are learned and stops seeing cold starts; an endpoint pinned with the
EndpointConfig tag thaw:keep-alive keeps its fixed keep-alive. The counters come from /metrics
(thaw_keepalive). Nothing asserts a duration: the rhythm only has to be regular."""

import re
import time
import urllib.request

from thaw_asserts import Resources
from thaw_harness import ModelStore, poll, unique

BODY = "1.0,2.0,3.0,4.0"


def keepalive(server, endpoint):
    with urllib.request.urlopen(f"{server.endpoint_url}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for counter, v in re.findall(
            r'thaw_keepalive\{endpoint="%s",variant="[^"]*",counter="(\w+)"\} ([0-9.e+-]+)'
            % re.escape(endpoint), text):
        out[counter] = float(v)
    return out


def test_regular_rhythm_is_prewarmed_and_a_pinned_endpoint_keeps_its_keep_alive(launch):
    # Fixed keep-alive 1 s; 1-second bins: an idle time of ~4.5 s falls in bin 4, so once five
    # are known the window is "pre-warm at 3.6 s, keep until 5.5 s". Before that the newest
    # worker stays --keep-alive (the default --standard-keep-alive).
    srv = launch("--keep-alive", "1", "--keep-alive-bin-ms", "1000")
    sm = srv.client()
    res = Resources(sm, ModelStore(srv.data_dir))
    rhythmic = res.endpoint(res.config(memory=1024, concurrency=2))
    pinned_config = unique("config")
    sm.create_endpoint_config(
        EndpointConfigName=pinned_config,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": res.model(),
                             "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 2}}],
        Tags=[{"Key": "thaw:keep-alive", "Value": "60"}])
    pinned = res.endpoint(pinned_config)
    rt = srv.client("sagemaker-runtime")

    cold_after = []
    for _ in range(10):
        for name in (rhythmic, pinned):
            rt.invoke_endpoint(EndpointName=name, Body=BODY, ContentType="text/csv")["Body"].read()
        cold_after.append(keepalive(srv, rhythmic)["cold_starts"])
        time.sleep(4.5)

    learned = keepalive(srv, rhythmic)
    assert learned["prewarm_after_seconds"] > 0, learned
    assert learned["prewarms"] >= 3, learned
    assert learned["prewarm_hits"] >= 3, learned
    # The first request cold-starts; the last three do not.
    assert cold_after[0] == 1
    assert cold_after[-1] == cold_after[-4], cold_after
    assert cold_after[-1] < 10

    held = keepalive(srv, pinned)
    assert held["keep_alive_seconds"] == 60, held
    assert held["prewarms"] == 0, held
    assert held["cold_starts"] == 1, held  # warm ever after: 4.5 s idle < 60 s


def idle_workers(server, endpoint):
    with urllib.request.urlopen(f"{server.endpoint_url}/metrics", timeout=10) as r:
        text = r.read().decode()
    m = re.search(r'thaw_workers\{endpoint="%s",variant="[^"]*",state="idle"\} (\d+)'
                  % re.escape(endpoint), text)
    return int(m.group(1)) if m else 0


def test_uncertain_endpoint_keeps_its_newest_worker_for_the_standard_keep_alive(launch):
    # Nothing is known of a new endpoint's idle times: under the adaptive policy its most recently
    # used worker stays for the standard keep-alive: by default --keep-alive (here 1 s: the
    # endpoint scales to zero), and with --standard-keep-alive 0 the histogram's range (4 h of
    # 1-minute bins), the ATC'20 paper's standard keep-alive.
    for args, window in (((), 1), (("--standard-keep-alive", "0"), 4 * 3600)):
        srv = launch("--keep-alive", "1", *args)
        sm = srv.client()
        res = Resources(sm, ModelStore(srv.data_dir))
        name = res.endpoint(res.config(memory=1024, concurrency=2))
        rt = srv.client("sagemaker-runtime")
        rt.invoke_endpoint(EndpointName=name, Body=BODY, ContentType="text/csv")["Body"].read()
        state = poll(lambda: keepalive(srv, name), lambda k: "keep_alive_seconds" in k,
                     what="keep-alive state")
        assert state["keep_alive_seconds"] == window, state
        if window == 1:
            poll(lambda: idle_workers(srv, name), lambda n: n == 0, what="worker retired")
        else:
            assert idle_workers(srv, name) == 1
