#!/usr/bin/python3
"""Cold starts of two (or more) thaw binaries in alternation, for before/after comparisons on a
shared, noisy machine: every round runs one back-to-back series per binary, each against its own
server, so both see the same minute's load. Prints p50/p99 per round and binary, the ratios of
the medians, and the phase breakdown of the last binary.

    /usr/bin/python3 bench/cold_ab.py --binary /work/main/build/release/thaw \\
        --binary build/release/thaw [--rounds 5] [--endpoints 40] [--model xgb100x6] [--rows 1]
        [--tools /work/main/build/bench --models /work/main/build/bench/models]

Needs build/bench (bench/run_bench.py builds it) or builds it; uses the same models.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import breakdown, build, cpu, measure, procs  # noqa: E402
from benchlib.thaw import Thaw  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binary", action="append", required=True)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--endpoints", type=int, default=40)
    p.add_argument("--model", default="xgb100x6")
    p.add_argument("--rows", type=int, default=1)
    p.add_argument("--gap-ms", type=int, default=0)
    p.add_argument("--verbose", action="store_true", help="print every cold start's phases")
    p.add_argument("--tools", help="an existing build/bench directory (default: build it here)")
    p.add_argument("--models", help="an existing models directory (default: build/bench/models)")
    args = p.parse_args()
    procs.stop_on_signals()
    tools_dir = Path(args.tools) if args.tools else build.build_bench_tools(REPO)
    models = (Path(args.models) if args.models
              else build.make_models(REPO, REPO / "build" / "bench" / "models"))
    work = Path(tempfile.mkdtemp(prefix="thaw-cold-ab-"))
    processes = procs.Processes(work / "logs")
    cmds = procs.CommandLog(REPO)
    tools = measure.Tools(tools_dir, cmds)
    results = {b: [] for b in args.binary}
    phases = {b: [] for b in args.binary}
    try:
        servers = {}
        names = [f"ab-{i:03d}" for i in range(args.endpoints)]
        for i, binary in enumerate(args.binary):
            thaw = Thaw(processes, cmds, binary, work, f"s{i}",
                        {"log-level": "debug", "keep-alive": 1,
                         "max-endpoints": args.endpoints + 10,
                         "max-total-concurrency": 1000000})
            uri = thaw.put_model(args.model, models / args.model / "model.tar.gz")
            thaw.deploy("ab", uri, names, 10)
            servers[binary] = thaw
        body = models / f"rows{args.rows}.csv"
        def settle(thaw):
            procs.wait_for(lambda: thaw.total_workers() == 0, 120, "zero workers")
            time.sleep(1.5)  # the zygote reaps, re-arms and removes the last round's cgroups

        def tree_cpu_s(thaw):
            """CPU of the server, the zygote, live children and every worker reaped so far."""
            return sum(cpu._process_cpu_s(p) for p in [thaw.pid] + cpu.descendants(thaw.pid))

        for r in range(args.rounds):
            for binary, thaw in servers.items():
                settle(thaw)
                mark = thaw.log_mark()
                cpu0 = tree_cpu_s(thaw)
                paths = [thaw.invocations_path(e) for e in names]
                stats = tools.one_each(thaw.port, paths, body, work / "paths", args.gap_ms)
                settle(thaw)
                # Everything one cold start costs the machine, background work included: the
                # spawn, the worker's whole life (retired after --keep-alive 1), the refill.
                stats["cpu_ms"] = (tree_cpu_s(thaw) - cpu0) * 1e3 / len(names)
                results[binary].append(stats)
                text = thaw.log_since(mark)
                client = {e: ns / 1e3 for e, ns in zip(names, stats["samples_ns"])}
                parsed = breakdown.parse(text)
                summary = breakdown.summarize(parsed, client)
                if args.verbose:
                    for e in names:
                        print(f"  {e}: client {client[e]:.0f} us, {parsed.get(e)}")
                if summary:
                    phases[binary].append(summary)
                print(f"round {r + 1} {binary}: p50 {stats['p50_us'] / 1e3:.2f} ms, "
                      f"p99 {stats['p99_us'] / 1e3:.2f} ms, CPU per cold start "
                      f"{stats['cpu_ms']:.2f} ms, machine busy {cpu.busy_fraction(0.2):.0%}",
                      flush=True)
        print()
        base = args.binary[0]
        base_p50 = statistics.median(s["p50_us"] for s in results[base])
        base_p99 = statistics.median(s["p99_us"] for s in results[base])
        for binary in args.binary:
            p50s = [s["p50_us"] / 1e3 for s in results[binary]]
            p99s = [s["p99_us"] / 1e3 for s in results[binary]]
            cpus = [s["cpu_ms"] for s in results[binary]]
            print(f"{binary}: p50 {min(p50s):.2f}–{max(p50s):.2f} ms (median "
                  f"{statistics.median(p50s):.2f}, {statistics.median(p50s) * 1e3 / base_p50:.2f}× "
                  f"the first), p99 {min(p99s):.2f}–{max(p99s):.2f} ms (median "
                  f"{statistics.median(p99s):.2f}, "
                  f"{statistics.median(p99s) * 1e3 / base_p99:.2f}×); CPU per cold start "
                  f"{min(cpus):.2f}–{max(cpus):.2f} ms (median {statistics.median(cpus):.2f})")
        for binary in args.binary:
            if phases[binary]:
                merged = {k: statistics.median(s[k] for s in phases[binary])
                          for k in phases[binary][0]}
                print(f"\nbreakdown, {binary} (median over rounds of each round's p50):")
                print(breakdown.render(merged))
    finally:
        processes.stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
