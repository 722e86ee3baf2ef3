#!/usr/bin/python3
"""scikit-learn cold starts, zero → first response, with the template tier on and off (and,
optionally, a baseline binary without it), in alternating rounds on a shared, noisy machine.

    /usr/bin/python3 bench/sklearn_template_ab.py --binary build/release/thaw \\
        [--baseline /work/main/build/release/thaw] [--rounds 6] [--endpoints 20]
        [--tools /work/main/build/bench] [--gap-ms 0] [--keep-logs DIR]

Each mode is its own server (keep-alive 8 s, fixed policy, --auth none, the node budget opened
so that every endpoint may hold a template) with the same endpoints: RandomForest of 100 trees
on iris, code/inference.py with model_fn only, one JSON row. A round waits until every worker
of a server has retired (and, templates on, until every endpoint has its template), then sends
one request to each endpoint (templates that retired meanwhile are made again by an unmeasured
request first), in order, on one connection (bench/tools seq_client, as
run_bench.py's cold-start phase). Prints p50/p99 per round and mode, the medians and ranges over
rounds, the pooled percentiles over every cold start of a mode, and the memory of the templates
and of their spare children (RSS, PSS, private; /proc/<pid>/smaps_rollup).
"""

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import build, cpu, measure, procs  # noqa: E402
from benchlib.thaw import SKLEARN_IMAGE, Thaw  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
KEEP_ALIVE_S = 8
_SPAWNED_RE = re.compile(r"worker (\S+\.template\.\w+) spawned \(pid (\d+)\)")


def idle_states(thaw):
    """Workers other than templates, and templates, over every endpoint."""
    workers = templates = 0
    for states in thaw.workers().values():
        templates += states.get("template", 0)
        workers += sum(n for s, n in states.items() if s != "template")
    return workers, templates


def smaps_rollup_kb(pid):
    out = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    except OSError:
        return None
    return out


def children_of(pid):
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binary", required=True)
    p.add_argument("--baseline", help="a binary without the template tier (e.g. main's)")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--endpoints", type=int, default=20)
    p.add_argument("--keep-alive", type=int, default=KEEP_ALIVE_S,
                   help="seconds; a template lives one more after its last worker")
    p.add_argument("--tools", help="an existing build/bench directory (default: build it here)")
    p.add_argument("--gap-ms", type=int, default=0,
                   help="pause between the cold starts of a round (0: back to back)")
    p.add_argument("--keep-logs", help="copy the servers' logs (debug level: spawn timings) here")
    args = p.parse_args()
    procs.stop_on_signals()
    tools_dir = Path(args.tools) if args.tools else build.build_bench_tools(REPO)
    work = Path(tempfile.mkdtemp(prefix="thaw-sk-tpl-ab-"))
    processes = procs.Processes(work / "logs")
    cmds = procs.CommandLog(REPO)
    tools = measure.Tools(tools_dir, cmds)
    _, tarball, body = build.make_sklearn_model(work / "sklearn")
    fixed = {"keep-alive-policy": "fixed"}
    modes = [("templates on", args.binary, {"sklearn-templates": "on", **fixed}),
             ("templates off", args.binary, {"sklearn-templates": "off", **fixed})]
    if args.baseline:  # an earlier build with the template tier: the same flags as "templates on"
        modes.append(("baseline", args.baseline, {"sklearn-templates": "on", **fixed}))
    names = [f"sk-{i:03d}" for i in range(args.endpoints)]
    env = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
    results = {m: [] for m, _, _ in modes}
    try:
        servers = {}
        for i, (mode, binary, extra) in enumerate(modes):
            thaw = Thaw(processes, cmds, binary, work, f"s{i}", {
                "log-level": "debug", "keep-alive": args.keep_alive,
                "memory-budget-mb": 10_000_000, "max-endpoints": args.endpoints + 10,
                "max-total-concurrency": 1000000, **extra})
            uri = thaw.put_model("sklearn-rf100", tarball)
            thaw.deploy("sk", uri, names, 10, image=SKLEARN_IMAGE, environment=env)
            servers[mode] = thaw

        def settle(mode, thaw):
            want_templates = 0 if mode == "templates off" else args.endpoints
            procs.wait_for(lambda: idle_states(thaw)[0] == 0, 180, f"{mode}: no worker")
            if idle_states(thaw)[1] < want_templates:
                # Templates retired meanwhile (keep-alive after their last worker, while the other
                # modes ran): one unmeasured generic start per endpoint without one makes them
                # again, and its worker retires first.
                states = thaw.workers()
                missing = [e for e in names if states.get(e, {}).get("template", 0) == 0]
                tools.one_each(thaw.port, [thaw.invocations_path(e) for e in missing], body,
                               work / "paths", 0, content_type="application/json")
            seen = []

            def ready():
                seen.append(thaw.workers())
                return idle_states(thaw) == (0, want_templates)
            try:
                procs.wait_for(ready, 180, f"{mode}: no worker, {want_templates} templates")
            except RuntimeError:
                print(f"{mode}: last seen {seen[-1] if seen else None}", flush=True)
                raise

        for r in range(args.rounds):
            for mode, thaw in servers.items():
                if r == 0:
                    # One unmeasured request per endpoint: a template made after the deploy's
                    # trial start may have retired by now (keep-alive after it was made); this
                    # start makes it again.
                    procs.wait_for(lambda: idle_states(thaw)[0] == 0, 180, f"{mode}: no worker")
                    tools.one_each(thaw.port, [thaw.invocations_path(e) for e in names], body,
                                   work / "paths", 0, content_type="application/json")
                settle(mode, thaw)
                paths = [thaw.invocations_path(e) for e in names]
                stats = tools.one_each(thaw.port, paths, body, work / "paths", args.gap_ms,
                                       note=f"against {thaw.cmd}",
                                       content_type="application/json")
                results[mode].append(stats)
                print(f"round {r + 1} {mode}: p50 {stats['p50_us'] / 1e3:.2f} ms, "
                      f"p99 {stats['p99_us'] / 1e3:.2f} ms, machine busy "
                      f"{cpu.busy_fraction(0.2):.0%}", flush=True)
        print()
        for mode, rounds in results.items():
            p50s = [s["p50_us"] / 1e3 for s in rounds]
            p99s = [s["p99_us"] / 1e3 for s in rounds]
            pooled = [ns / 1e6 for s in rounds for ns in s["samples_ns"]]
            print(f"{mode}: {len(pooled)} cold starts; per round p50 {min(p50s):.2f}–"
                  f"{max(p50s):.2f} ms (median {statistics.median(p50s):.2f}), p99 "
                  f"{min(p99s):.2f}–{max(p99s):.2f} ms (median {statistics.median(p99s):.2f}); "
                  f"pooled p50 {percentile(pooled, 0.5):.2f} ms, p99 "
                  f"{percentile(pooled, 0.99):.2f} ms")
        base = statistics.median(s["p50_us"] for s in results["templates off"])
        for mode, rounds in results.items():
            ratios = [a["p50_us"] / b["p50_us"] for a, b in zip(rounds, results["templates off"])]
            print(f"  {mode} / templates off, p50 per round: {min(ratios):.2f}–{max(ratios):.2f} "
                  f"(median of medians {statistics.median(s['p50_us'] for s in rounds) / base:.2f})")
        # The templates' memory, with no worker alive (they are idle processes holding a model).
        thaw = servers["templates on"]
        settle("templates on", thaw)
        pids = sorted({int(pid) for _, pid in _SPAWNED_RE.findall(thaw.log_since(0))})
        # Each template's child forked ahead of its next request (its spare) is part of the
        # tier's cost: the pages its warm-up copied are its own.
        spares = [c for pid in pids for c in children_of(pid)]
        for what, group in (("template", pids), ("spare child", spares)):
            mems = [m for m in (smaps_rollup_kb(pid) for pid in group) if m]
            if not mems:
                continue

            def med(key):
                return statistics.median(m.get(key, 0) for m in mems) / 1024
            private = [(m.get("Private_Clean", 0) + m.get("Private_Dirty", 0)) / 1024 for m in mems]
            print(f"\n{what}s alive: {len(mems)}; per {what} (median): RSS {med('Rss'):.1f} MB, "
                  f"PSS {med('Pss'):.1f} MB, private {statistics.median(private):.1f} MB "
                  f"(range {min(private):.1f}–{max(private):.1f})")
        zygote = thaw.sklearn_zygote_pid()
        if zygote:
            z = smaps_rollup_kb(zygote)
            if z:
                print(f"scikit-learn zygote: RSS {z['Rss'] / 1024:.1f} MB, PSS {z['Pss'] / 1024:.1f} MB")
    finally:
        processes.stop_all()
        if args.keep_logs:
            shutil.copytree(work / "logs", args.keep_logs, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
