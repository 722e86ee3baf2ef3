"""RESULTS.md: method, machine, the tables, the targets, and the command behind every figure."""

import os
import platform
import time
from pathlib import Path

HEADLINE = ("xgb100x6", 1)
HEADLINE_COLD = ("xgb100x6", 1, 0)  # back to back
MODEL_TEXT = {"xgb100x6": "100 trees × depth 6", "xgb1000x8": "1,000 trees × depth 8"}
MODEL_ORDER = list(MODEL_TEXT)
ANALYSIS_FILE = "ANALYSIS.md"


# -- formatting helpers ------------------------------------------------------------------------

def us(v):
    return "–" if v is None else f"{v:,.0f} µs" if v < 10000 else f"{v / 1e3:,.1f} ms"


def ms(v_us):
    return "–" if v_us is None else f"{v_us / 1e3:,.2f} ms"


def by_model(items):
    """(key, value) pairs whose key is a model name or a tuple starting with one, in model order
    then by the rest of the key."""
    def key(item):
        k = item[0] if isinstance(item[0], tuple) else (item[0],)
        return (MODEL_ORDER.index(k[0]),) + k[1:]
    return sorted(items, key=key)


def fmt_or_dash(v, fmt, suffix=""):
    return "–" if v is None else format(v, fmt) + suffix


def ratio(a, b):
    return None if not a or not b else a / b


def verdict(ok):
    return "–" if ok is None else ("PASS" if ok else "**MISS**")


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# -- the figures the targets are judged on -----------------------------------------------------

def raw_baseline(results, model="xgb100x6", rows=1):
    """The fastest raw C API predict (lowest p50 over the two methods)."""
    cands = [results["raw"].get((model, rows, m)) for m in ("inplace", "dmatrix")]
    cands = [c for c in cands if c]
    return min(cands, key=lambda c: c["p50_us"]) if cands else None


def key_figures(results):
    cold = results["cold"].get(HEADLINE_COLD)
    raw = raw_baseline(results)
    warm = results["warm"]
    thaw, floor = warm.get("thaw"), warm.get("floor")
    f = {"cold_p50": cold and cold["p50_us"], "cold_p99": cold and cold["p99_us"],
         "overhead_p50": thaw and raw and thaw["p50_us"] - raw["p50_us"],
         "overhead_p99": thaw and raw and thaw["p99_us"] - raw["p50_us"],
         "over_floor_p50": thaw and floor and thaw["p50_us"] - floor["p50_us"],
         "rss_kb": results["idle"].get("rss_kb")}
    tp = results["throughput"]
    for c in (8, 32):
        t = tp.get(("thaw", c), {}).get("rps")
        f[f"vs_peer_{c}"] = ratio(t, tp.get(("peer", c), {}).get("rps"))
        f[f"vs_floor_{c}"] = ratio(t, tp.get(("floor", c), {}).get("rps"))
    return f


def targets_table(results):
    f = key_figures(results)

    def row(name, value_text, target, ok):
        return [name, value_text, target, verdict(ok)]

    def check(v, limit, le=True):
        return None if v is None else (v <= limit if le else v >= limit)

    rows = [
        row("cold start p50 (100×6, 1 row)", ms(f["cold_p50"]), "≤ 2 ms", check(f["cold_p50"], 2000)),
        row("cold start p99 (100×6, 1 row)", ms(f["cold_p99"]), "≤ 10 ms", check(f["cold_p99"], 10000)),
        row("warm overhead over raw predict, p50", us(f["overhead_p50"]), "≤ 100 µs",
            check(f["overhead_p50"], 100)),
        row("warm overhead over raw predict, p99", us(f["overhead_p99"]), "≤ 1 ms",
            check(f["overhead_p99"], 1000)),
    ]
    for c in (8, 32):
        vp, vf = f[f"vs_peer_{c}"], f[f"vs_floor_{c}"]
        rows.append(row(f"throughput c={c}: thaw / peer", fmt_or_dash(vp, ".1f", "×"), "≥ 10×",
                        check(vp, 10, le=False)))
        rows.append(row(f"throughput c={c}: thaw / floor", fmt_or_dash(vf, ".0%"), "≥ 60%",
                        check(vf, 0.6, le=False)))
    sk = results.get("sklearn_cold", {}).get(0)
    sk_p50 = sk["p50_us"] if sk else None
    rows.append(row("scikit-learn cold start p50 (RandomForest 100 trees, 1 row, generic zygote)",
                    ms(sk_p50), "≤ 30 ms", check(sk_p50, 30000)))
    sk_peer = results.get("sklearn_cold", {}).get("peer")
    sk_ratio = ratio(sk_peer and sk_peer["p50_us"], sk_p50)
    rows.append(row("scikit-learn cold start: peer / thaw, p50", fmt_or_dash(sk_ratio, ".0f", "×"),
                    "(context)", None))
    rss_mb = f["rss_kb"] and f["rss_kb"] * 1024 / 1e6
    endpoints = results["idle"].get("endpoints", 0)
    judged = check(rss_mb, 100) if endpoints >= 1000 else None  # the target is for 1,000
    rows.append(row(f"server RSS, {endpoints} idle endpoints", fmt_or_dash(rss_mb, ".1f", " MB"),
                    "≤ 100 MB with 1,000", judged))
    return table(["target", "measured", "goal", "verdict"], rows)


# -- the detail tables -------------------------------------------------------------------------

def cold_table(results):
    rows = []
    for (model, n_rows, gap), c in by_model(results["cold"].items()):
        s = c["server_ready"]
        pacing = f"{gap} ms apart" if gap else "back to back"
        rows.append([f"thaw, {MODEL_TEXT[model]}, {n_rows} row(s), {pacing}", c["n"], ms(c["p50_us"]),
                     ms(c["p99_us"]), ms(c["max_us"]), f"{ms(s['p50_us'])} / {ms(s['p99_us'])}",
                     c["cmd"]])
    for model, c in by_model(results["peer_cold"].items()):
        rows.append([f"peer (gunicorn start → first answer), {MODEL_TEXT[model]}, 1 row", c["n"],
                     ms(c["p50_us"]), ms(c["p99_us"]), ms(c["max_us"]), "–", c["cmd"]])
    sk = results.get("sklearn_cold", {})
    for gap in sorted(k for k in sk if isinstance(k, int)):
        c, s = sk[gap], sk[gap]["server_ready"]
        pacing = f"{gap} ms apart" if gap else "back to back"
        rows.append([f"thaw, scikit-learn RandomForest 100 trees (iris), 1 row, {pacing}", c["n"],
                     ms(c["p50_us"]), ms(c["p99_us"]), ms(c["max_us"]),
                     f"{ms(s['p50_us'])} / {ms(s['p99_us'])}", c["cmd"]])
    if "peer" in sk:
        c = sk["peer"]
        rows.append(["scikit-learn peer (gunicorn start → first answer), RandomForest 100 trees",
                     c["n"], ms(c["p50_us"]), ms(c["p99_us"]), ms(c["max_us"]), "–", c["cmd"]])
    return table(["cold start", "n", "p50", "p99", "max",
                  "thaw server-side worker setup p50 / p99", "command"], rows)


def cold_breakdown_table(results):
    """Per cold-start series, the p50 of each phase (bench/benchlib/breakdown.py)."""
    from .breakdown import PHASES, SHORT  # noqa: PLC0415 - report stays importable on its own
    rows = []
    for (model, n_rows, gap), c in by_model(results["cold"].items()):
        b = c.get("breakdown")
        if not b:
            continue
        pacing = f"{gap} ms apart" if gap else "back to back"
        cells = ["not yet" if k == "seccomp" else us(b[k]) for k, _ in PHASES]
        rows.append([f"{MODEL_TEXT[model]}, {n_rows} row(s), {pacing}"] + cells +
                    [f"{b['pool_hits']} / {b['n']}"])
    if not rows:
        return ""
    note = ("p50 of each phase over the series, from the zygote's and the worker's debug lines "
            "joined per worker (the phases' p50s need not add up to the client's p50). The "
            "zygote and the worker log on one clock (CLOCK_MONOTONIC): spawn runs from the "
            "zygote receiving the request to the worker starting, of which fork, namespaces, "
            "cgroup, seccomp and mounts are the child's steps (fork and most namespace and "
            "cgroup work are done ahead, in the pool of armed children, so they count only on a "
            "pool miss). HTTP and hand-offs is the client's time outside the span from the spawn "
            "request to the worker's first answer.\n\n")
    return note + table(["series"] + [SHORT[k] for k, _ in PHASES] + ["pool hits"], rows)


def warm_table(results):
    rows = []
    for label in ("thaw", "peer", "floor"):
        w = results["warm"].get(label)
        if w:
            rows.append([label, w["n"], us(w["p50_us"]), us(w["p99_us"]), us(w["mean_us"]), w["cmd"]])
    for (model, n_rows, method), r in by_model(results["raw"].items()):
        if (model, n_rows) == HEADLINE:
            rows.append([f"raw C API predict ({method}), in-process", r["calls"], us(r["p50_us"]),
                         us(r["p99_us"]), us(r["mean_us"]), r["cmd"]])
    f = key_figures(results)
    text = table(["warm one-row invoke (100×6)", "n", "p50", "p99", "mean", "command"], rows)
    return text + (f"\n\nthaw − raw predict: p50 {us(f['overhead_p50'])}, p99 (thaw p99 − raw p50) "
                   f"{us(f['overhead_p99'])}. thaw − floor: p50 {us(f['over_floor_p50'])}.")


def throughput_table(results):
    tp = results["throughput"]
    rows = []
    for c in (8, 32):
        for label in ("thaw", "peer", "floor"):
            r = tp.get((label, c))
            if not r:
                continue
            workers = r.get("workers")
            rows.append([c, label, f"{r['rps']:,.0f}", us(r["p99_us"]), r["errors"],
                         sum(workers.values()) if workers else "–", r["cmd"]])
    f = key_figures(results)
    ratios = "; ".join(f"c={c}: thaw/peer {f[f'vs_peer_{c}']:.1f}×, thaw/floor {f[f'vs_floor_{c}']:.0%}"
                       for c in (8, 32) if f[f"vs_peer_{c}"] and f[f"vs_floor_{c}"])
    return table(["connections", "server", "req/s", "p99", "errors", "thaw workers after",
                  "command"], rows) + f"\n\n{ratios}"


def raw_table(results):
    rows = [[MODEL_TEXT[m], n, method, us(r["p50_us"]), us(r["p99_us"]), us(r["min_us"]),
             us(r["load_us"]), us(r["first_predict_us"]), r["cmd"]]
            for (m, n, method), r in by_model(results["raw"].items())]
    return table(["model", "rows", "method", "p50", "p99", "min", "model load (fresh process)",
                  "first predict", "command"], rows) + (
        "\n\nThe last two columns are one sample each (the process's own load and first call): "
        "the least a cold start that loads the model must pay.")


def idle_table(results):
    i = results["idle"]
    if "rss_kb" not in i:
        return "(not measured)"
    rows = [["endpoints registered (all at zero workers)", i["endpoints"]],
            ["workers", i["workers"]],
            ["thaw server VmRSS with no endpoint", f"{i['rss_empty_kb'] / 1024:.1f} MiB"],
            ["thaw server VmRSS with the endpoints", f"{i['rss_kb'] / 1024:.1f} MiB "
                                                     f"({i['rss_kb'] * 1024 / 1e6:.1f} MB)"],
            ["zygote VmRSS (child of the server)",
             f"{i['zygote_rss_kb'] / 1024:.1f} MiB" if i["zygote_rss_kb"] else "–"],
            ["scikit-learn zygote VmRSS (Python with scikit-learn imported; its armed children "
             "share its pages and are not counted below)",
             f"{i['sklearn_zygote_rss_kb'] / 1024:.1f} MiB" if i.get("sklearn_zygote_rss_kb")
             else "–"],
            ["processes (server + descendants)", i["processes"]],
            ["VmRSS of the other descendants (pre-forked worker shells), summed",
             f"{i['others_rss_kb'] / 1024:.1f} MiB (shared pages counted in each)"],
            ["time to create and deploy them", f"{i['deploy_s']:.1f} s"],
            ["command", i["cmd"]]]
    return table(["idle cost", "value"], rows)


def answers_check(results):
    """Do thaw, the peer and the floor predict the same for the 100-row payload?"""
    parsed = {k: [float(x) for x in v.split()] for k, v in results["answers"].items()}
    if len(parsed) < 2:
        return "cross-check: fewer than two servers answered."
    ref_name, ref = next(iter(parsed.items()))
    notes = []
    for name, vals in parsed.items():
        diff = max((abs(a - b) for a, b in zip(vals, ref)), default=0.0)
        same_len = len(vals) == len(ref)
        notes.append(f"{name}: {len(vals)} predictions, max |Δ| vs {ref_name} {diff:.1e}"
                     + ("" if same_len else " (LENGTH DIFFERS)"))
    return "Cross-check of the 100-row answers: " + "; ".join(notes) + "."


def cpu_table(results):
    rows = [[name, f"{r['busy']:.0%}", f"{r['ours']:.0%}", f"{r['others']:.0%}"]
            for name, r in results["cpu"].items()]
    return table(["phase", "machine busy", "this benchmark", "other processes"], rows)


# -- the page ----------------------------------------------------------------------------------

def machine():
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), "unknown")
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo")
                  if line.startswith("MemTotal"))
    return (f"{os.cpu_count()} CPUs (nproc), {model}, {mem_kb / 1048576:.1f} GiB RAM, "
            f"kernel {platform.release()}")


def header(run):
    idle = run["idle"]
    s = run["settings"]
    return f"""# thaw benchmark results

Produced by `{run['command']}` ({run['mode']} mode) on {time.strftime('%Y-%m-%d %H:%M', time.localtime(run['started']))},
{run['elapsed_s'] / 60:.1f} minutes of measuring. The whole file except the hand-written analysis at the
end is generated; rerun the command to refresh it.

**Machine:** {machine()}. Binary: {run['binary']}.

**Busy fraction:** the run waited for the machine to be ≤ {run['max_busy']:.0%} busy for 5 consecutive
seconds (waited {idle['waited_s']} s; {'reached' if idle['idle_reached'] else '**not reached — measured anyway**'}; busy
{idle['busy_before']:.0%} over the last 5 s before measuring, {idle['busy_max_seen']:.0%} at worst while waiting). The busy
fraction during each phase, and how much of it was not this benchmark, is in the CPU table below.

## Method

- **Servers.** *thaw*: `build/release/thaw serve`, serverless endpoints created with boto3
  (CreateModel with the sagemaker-xgboost:1.7-1 image, CreateEndpointConfig with
  MemorySizeInMB 2048, CreateEndpoint, waiter `endpoint_in_service`); invoked with raw HTTP
  (`POST /endpoints/NAME/invocations`, `Content-Type: text/csv`), no SigV4 (not checked yet), so
  client cost does not swamp the figures. *peer*: `bench/peer/xgb_container.py`, the XGBoost
  1.7-1 container's text/csv path (lazy per-worker booster load, nthread=1, sniffed-delimiter CSV
  parse, DMatrix, predict, newline-separated text/csv answer) under Debian's gunicorn with 2 gevent
  workers and OMP_NUM_THREADS=1. nginx, which the real container puts in front, is left out: it
  would make the peer slower, so the comparison is conservative. *floor*:
  `bench/floor/floor_server.cc`, a minimal Boost.Beast HTTP/1.1 keep-alive server (2 threads)
  that parses the CSV and predicts in-process through the XGBoost C API (in-place predict with a
  proxy DMatrix, nthread=1, one booster per thread): the machine's limit for this job.
- **Models** (`bench/models/make_models.py`, fixed seed): binary:logistic on 20 synthetic
  features, {MODEL_TEXT['xgb100x6']} (392 KB) and {MODEL_TEXT['xgb1000x8']} (5.2 MB), legacy binary
  `xgboost-model` in a model.tar.gz; payloads of 1 and 100 CSV rows.
- **Cold start.** {s.cold_endpoints} endpoints per (model, rows) combination, all sharing one
  model.tar.gz, deployed and back at zero workers; then the first invoke of each, back to back
  on one keep-alive connection, timed by `seq_client` (C++, one `send`, read to the last
  body byte). Every one of them starts a sandboxed worker (zygote fork + cgroup + namespaces +
  model load). The targets are judged on the back-to-back series; one more series (100×6,
  1 row) leaves 50 ms of idle time between cold starts, to show the cold path without the
  previous start's background work. The server ran with `--keep-alive {s.cold_keep_alive_s}` so that hundreds of warm
  workers do not pile up; `--log-level debug` gives each worker's server-side setup time
  (launch + model load + first /ping). The peer's cold start is the time from starting gunicorn
  to its first answered /invocations ({s.peer_cold_repeats} starts per model): only the process +
  import + model-load part of a SageMaker cold start. SageMaker itself adds provisioning
  first: AWS calls serverless cold starts "in the order of seconds", third parties report 1–60 s
  (PERFORMANCE-ANCHORS §1.1).
- **Warm latency.** {s.warm_warmup} untimed then {s.warm_requests} timed one-row requests on one
  keep-alive connection (`seq_client`), 100×6 model. thaw's overhead = thaw p50 − the fastest raw
  C API predict p50 (`raw_predict`, {s.raw_calls:,} calls); for p99, thaw p99 − raw p50 (all of the tail
  is charged to thaw).
- **Throughput.** `wrk -t1 -c8|32 -d{s.wrk_seconds}s` with `bench/wrk/post_csv.lua` (POST the one-row CSV),
  after an unrecorded {s.wrk_warmup_s}-s warm-up at the same concurrency; thaw's endpoint has MaxConcurrency
  32, so thaw may run up to 32 workers. wrk runs on the same 2 CPUs as the server.
- **Idle cost.** A fresh thaw with `--max-endpoints 2000` and {s.idle_endpoints} endpoints deployed
  (MaxConcurrency 5 each), all back at zero workers; VmRSS from /proc/PID/status of the server
  process alone, and of the zygote (its child) separately.
"""


def analysis(repo):
    path = Path(repo) / "bench" / ANALYSIS_FILE
    return path.read_text() if path.exists() else ""


def render(results, cmds, run, repo):
    errors = "".join(f"\n- **{k} failed:** {v}" for k, v in results["errors"].items())
    commands = "\n".join(f"- **{cid}** `{cmd}`" + (f" — {note}" if note else "")
                         for cid, cmd, note in cmds.entries)
    parts = [
        header(run),
        "## Targets\n\n" + targets_table(results) + (f"\n\nErrors:{errors}" if errors else ""),
        "## Cold start\n\n" + cold_table(results),
        "## Cold start breakdown\n\n" + cold_breakdown_table(results),
        "## Warm one-row latency\n\n" + warm_table(results),
        "## Throughput (one-row requests, 100×6)\n\n" + throughput_table(results),
        "## Raw XGBoost C API predict cost per call\n\n" + raw_table(results),
        "## Idle cost\n\n" + idle_table(results),
        "## Answers\n\n" + answers_check(results),
        "## CPU during each phase\n\n" + cpu_table(results),
        "## Commands\n\nPaths are relative to the repository; temporary files lived in a "
        "directory removed at the end of the run.\n\n" + commands,
        analysis(repo),
    ]
    return "\n\n".join(p for p in parts if p).rstrip() + "\n"
