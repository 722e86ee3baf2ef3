#!/usr/bin/python3
"""Where thaw's time goes: CPU per warm request and per cold start, by process and by kernel
entry point, from `perf record -a -g` and /proc.

    /usr/bin/python3 bench/profile_thaw.py [--warm-requests 20000] [--cold-starts 200]

Needs build/release/thaw, build/bench (run bench/run_bench.py once) and `perf`. Starts one thaw
(100×6 model), measures, prints a markdown summary and stops everything. The perf data stays
in build/bench/profile/ for `perf report -i …`.
"""

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import cpu, procs  # noqa: E402
from benchlib.thaw import Thaw  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "build" / "bench"
MODELS = TOOLS / "models"
OUT = TOOLS / "profile"
_SYSCALL = re.compile(r"__x64_sys_(\w+)|__do_sys_(\w+)")


def proc_cpu_s(pid):
    """utime + stime of a live process (all threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / cpu.CLK_TCK


def busiest_child(pid):
    return max(procs.children(pid), key=proc_cpu_s)


def perf_record(data, argv):
    """Runs argv under a system-wide perf record; returns argv's stdout."""
    cmd = ["perf", "record", "-a", "-g", "-F", "2999", "-o", data, "--", *map(str, argv)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return done.stdout


def samples(data):
    """(pid, [frames leaf first]) for every sample of the thaw processes."""
    text = subprocess.run(["perf", "script", "-i", data, "--comm", "thaw", "-F", "pid,ip,sym"],
                          capture_output=True, text=True, check=True).stdout
    for block in text.split("\n\n"):
        lines = [line.strip() for line in block.strip().splitlines()]
        if lines:
            yield int(lines[0].split()[0]), [l.split(None, 1)[-1] for l in lines[1:]]


def category(frames):
    """The outermost system call in the stack, else page fault, else the leaf symbol."""
    calls = [m.group(1) or m.group(2) for f in frames for m in [_SYSCALL.search(f)] if m]
    if calls:
        return "syscall " + calls[-1]
    if any("page_fault" in f for f in frames):
        return "page fault"
    return "user/other: " + (frames[0][:60] if frames else "?")


def fold(data, roles, per):
    """Markdown: CPU ms per unit (`per` units) by role, and the top categories of each role."""
    by_role = collections.defaultdict(collections.Counter)
    for pid, frames in samples(data):
        by_role[roles.get(pid, "workers")][category(frames)] += 1
    hz = 2999
    lines = ["| role | CPU per unit | top entry points (share of that role's samples) |",
             "|---|---|---|"]
    for role, cats in sorted(by_role.items()):
        total = sum(cats.values())
        top = ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in cats.most_common(6))
        lines.append(f"| {role} | {total / hz / per * 1e6:,.0f} µs | {top} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    p.add_argument("--warm-requests", type=int, default=20000)
    p.add_argument("--cold-starts", type=int, default=200)
    args = p.parse_args()
    procs.stop_on_signals()
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="thaw-profile-"))
    processes = procs.Processes(work / "logs")
    cmds = procs.CommandLog(REPO)
    try:
        thaw = Thaw(processes, cmds, REPO / "build/release/thaw", work, "profile",
                    {"log-level": "info", "keep-alive": 2, "max-endpoints": args.cold_starts + 10,
                     "max-total-concurrency": 1000000})
        uri = thaw.put_model("xgb100x6", MODELS / "xgb100x6" / "model.tar.gz")
        thaw.deploy("warm", uri, ["warm"], 32)
        cold = [f"cold-{i:04d}" for i in range(args.cold_starts)]
        thaw.deploy("cold", uri, cold, 5)
        procs.wait_for(lambda: thaw.total_workers() == 0, 120, "zero workers")
        seq = [TOOLS / "seq_client", "--port", thaw.port, "--body", MODELS / "rows1.csv",
               "--prime", "/ping"]
        warm = seq + ["--path", thaw.invocations_path("warm"), "--n", args.warm_requests,
                      "--warmup", 500]
        procs.run(warm[:-4] + ["--n", 500, "--warmup", 0])  # start the worker
        zygote = thaw.zygote_pid()
        worker = busiest_child(zygote)
        before = (proc_cpu_s(thaw.pid), proc_cpu_s(worker), time.monotonic())
        procs.run(warm)
        n = args.warm_requests + 500
        server_us = (proc_cpu_s(thaw.pid) - before[0]) / n * 1e6
        worker_us = (proc_cpu_s(worker) - before[1]) / n * 1e6
        wall_us = (time.monotonic() - before[2]) / n * 1e6
        perf_record(OUT / "warm.data", warm)
        paths = work / "cold-paths"
        paths.write_text("".join(thaw.invocations_path(e) + "\n" for e in cold))
        perf_record(OUT / "cold.data", seq + ["--paths-file", paths])
        roles = {thaw.pid: "server", zygote: "zygote"}  # anything else: a worker (or shell)
        print(f"## Warm one-row requests (100×6), {n} on one connection\n\n"
              f"From /proc (no perf): server {server_us:.0f} µs CPU per request, worker "
              f"{worker_us:.0f} µs, wall {wall_us:.0f} µs per request.\n\nFrom perf "
              f"(`perf report -i {OUT / 'warm.data'}`), per request:\n\n"
              + fold(OUT / "warm.data", roles, args.warm_requests + 500)
              + f"\n\n## {args.cold_starts} cold starts back to back\n\nPer cold start:\n\n"
              + fold(OUT / "cold.data", roles, args.cold_starts))
    finally:
        processes.stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
