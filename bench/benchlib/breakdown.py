"""Where a cold start's time goes, from thaw's debug log: the zygote's line per spawn, the
worker's line after its first answer, and the fleet's "ready" line, joined per worker and set
beside the client's time for the same endpoint."""

import re

from . import measure

_SPAWN_RE = re.compile(
    r"worker (\S+) spawned \(pid (\d+)\): (pool hit|pool miss) in (\d+) us: fork (\d+) us, "
    r"namespaces (\d+) us, cgroup (\d+) us, mounts (\d+) us, child (\d+) us; "
    r"request at (\d+) us")
_WORKER_RE = re.compile(
    r"worker (\S+) cold start: model load (\d+) us, first request at (\d+) us, first invocation "
    r"answered at (\d+) us \(runtime (\d+) us(?:, \d+ us CPU, \d+ page faults)?\); "
    r"started at (\d+) us")

# (key, label) in the order the table shows them. All in µs, p50 over the series. The zygote
# and the worker log times on the same clock (CLOCK_MONOTONIC), so the phases from the spawn
# request to the worker's first answer add up; "http" is the client's time outside that span.
PHASES = [
    ("to_worker", "spawn: zygote gets the request → worker runs"),
    ("fork", "… fork (pool miss only)"),
    ("namespaces", "… namespaces (mount ns; all of them on a miss)"),
    ("cgroup", "… cgroup (limits; create + join on a miss)"),
    ("seccomp", "… seccomp"),
    ("mounts", "… mounts (/opt/ml/model; + /proc on a miss)"),
    ("model_load", "model load (worker start → runtime ready)"),
    ("ping_wait", "fd to the server, its /ping and the invocation reach the worker"),
    ("first_predict", "first invocation in the runtime (decode, predict, encode)"),
    ("http", "HTTP and hand-offs before the spawn request and after the answer"),
    ("client", "client total (first byte sent → last byte read)"),
]


# Column titles for wide tables (RESULTS.md).
SHORT = {"to_worker": "spawn → worker runs", "fork": "fork", "namespaces": "namespaces",
         "cgroup": "cgroup", "seccomp": "seccomp", "mounts": "mounts", "model_load": "model load",
         "ping_wait": "fd + /ping → invocation", "first_predict": "first predict",
         "http": "HTTP & hand-offs", "client": "client total"}


def endpoint_of(worker_id):
    """Worker ids are `<endpoint>.<n>.<hex>` (fleet/pool.cc)."""
    return worker_id.rsplit(".", 2)[0]


def parse(log_text):
    """{endpoint: {phase: µs}} for every worker whose spawn and first answer are both logged."""
    spawns = {m.group(1): m for m in _SPAWN_RE.finditer(log_text)}
    out = {}
    for m in _WORKER_RE.finditer(log_text):
        wid = m.group(1)
        s = spawns.get(wid)
        if s is None:
            continue
        load, first_req, answered, runtime, started = (int(m.group(i)) for i in range(2, 7))
        request = int(s.group(10))
        out[endpoint_of(wid)] = {
            "pool_hit": s.group(3) == "pool hit",
            "spawn": int(s.group(4)), "fork": int(s.group(5)), "namespaces": int(s.group(6)),
            "cgroup": int(s.group(7)), "mounts": int(s.group(8)), "child": int(s.group(9)),
            "to_worker": started - request, "model_load": load,
            "ping_wait": max(first_req - load, 0), "first_predict": runtime,
            "span": started + answered - request,  # spawn request → first answer written
        }
    return out


def summarize(per_endpoint, client_us):
    """p50 of each phase over the endpoints that have both a client sample and log lines.
    client_us: {endpoint: µs}. The HTTP share is what the client waited outside the span from
    the zygote's spawn request to the worker's first answer."""
    rows = []
    for ep, total in client_us.items():
        p = per_endpoint.get(ep)
        if p is None:
            continue
        rows.append(dict(p, client=total, http=max(total - p["span"], 0)))
    if not rows:
        return {}
    out = {"n": len(rows), "pool_hits": sum(r["pool_hit"] for r in rows)}
    for key, _ in PHASES:
        if key == "seccomp":
            continue
        out[key] = measure.percentile(sorted(r[key] for r in rows), 50)
    return out


def render(summary):
    """Markdown rows (phase | p50)."""
    lines = ["| phase | p50 |", "|---|---|"]
    for key, label in PHASES:
        value = "not yet (issue 6)" if key == "seccomp" else f"{summary[key]:,.0f} µs"
        lines.append(f"| {label} | {value} |")
    lines.append(f"| pool hits | {summary['pool_hits']} of {summary['n']} |")
    return "\n".join(lines)
