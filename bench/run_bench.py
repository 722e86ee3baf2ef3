#!/usr/bin/python3
"""thaw's benchmark: cold start, warm latency, throughput and idle cost, side by side with the
peer (SageMaker's XGBoost 1.7-1 serving stack) and the floor (in-process C++), in one run.

    /usr/bin/python3 bench/run_bench.py [--quick] [--no-build] [--out bench/RESULTS.md]

It installs the Debian packages it needs, builds thaw (release preset) and bench/'s native tools
(build/bench), generates the models (build/bench/models), waits for idle CPUs, measures, prints
the tables and writes RESULTS.md. Every server it starts is stopped and its temporary directory
removed, also on failure or ^C. Loopback only.
"""

import argparse
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import breakdown, build, cpu, measure, procs, report, servers  # noqa: E402
from benchlib.thaw import SKLEARN_IMAGE, Thaw  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MODELS = ("xgb100x6", "xgb1000x8")
HEADLINE_MODEL = "xgb100x6"
PAYLOAD_ROWS = (1, 100)
CONCURRENCY = (8, 32)
THROUGHPUT_MAX_CONCURRENCY = 32
SPACED_GAP_MS = 50


@dataclass
class Settings:
    cold_endpoints: int      # per (model, rows) combination
    peer_cold_repeats: int
    warm_requests: int
    warm_warmup: int
    wrk_seconds: int
    wrk_warmup_s: int        # unrecorded wrk run first, so thaw's pool has its workers
    raw_calls: int
    raw_seconds: int         # time budget per raw_predict run (the 1000×8 × 100 rows one is slow)
    idle_endpoints: int
    idle_timeout_s: int      # how long to wait for idle CPUs before measuring anyway
    cold_settle_s: float     # pause between cold-start series (the last one's workers retire)
    cold_keep_alive_s: int = 2  # cold-start server: retire workers soon, so they do not pile up


FULL = Settings(cold_endpoints=200, peer_cold_repeats=10, warm_requests=5000, warm_warmup=500,
                wrk_seconds=10, wrk_warmup_s=2, raw_calls=20000, raw_seconds=15,
                idle_endpoints=1000, idle_timeout_s=900, cold_settle_s=4)
QUICK = Settings(cold_endpoints=20, peer_cold_repeats=2, warm_requests=1000, warm_warmup=100,
                 wrk_seconds=2, wrk_warmup_s=1, raw_calls=5000, raw_seconds=1,
                 idle_endpoints=200, idle_timeout_s=60, cold_settle_s=0.5)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Bench:
    def __init__(self, settings, work_dir, models_dir, tools_dir, thaw_binary):
        self.s = settings
        self.work = Path(work_dir)
        self.models = Path(models_dir)
        self.cmds = procs.CommandLog(REPO)
        self.tools = measure.Tools(tools_dir, self.cmds)
        self.tools_dir = tools_dir
        self.thaw_binary = thaw_binary
        self.processes = procs.Processes(self.work / "logs")
        self.results = {"raw": {}, "warm": {}, "throughput": {}, "cold": {}, "peer_cold": {},
                        "idle": {}, "cpu": {}, "answers": {}, "errors": {}, "sklearn_cold": {}}

    # -- helpers ---------------------------------------------------------------------------------

    def model_file(self, model):
        return self.model_dir(model) / "xgboost-model"

    def model_dir(self, model):
        """The model as /opt/ml/model holds it once extracted."""
        return self.models / model / "model"

    def tarball(self, model):
        return self.models / model / "model.tar.gz"

    def payload(self, rows):
        return self.models / f"rows{rows}.csv"

    def phase(self, name, fn):
        """Runs one phase under a CPU meter; a failure is recorded and the next phase runs."""
        log(f"phase: {name}")
        with cpu.CpuMeter() as meter:
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - reported in RESULTS.md, the run goes on
                self.results["errors"][name] = f"{type(e).__name__}: {e}"
                log(f"  FAILED: {e}\n{traceback.format_exc(limit=-8)}")
        self.results["cpu"][name] = meter.result
        r = meter.result
        log(f"  machine busy {r['busy']:.0%} (ours {r['ours']:.0%}, others {r['others']:.0%})")

    def sequential(self, label, server, path):
        """Warm one-row latency of a started server (thaw, peer or floor) at `path`."""
        note = f"against {server.cmd} ({label})"
        # First the 100-row answer, kept for the cross-check of the three servers' predictions.
        dump = self.work / f"answer-{label}.csv"
        self.tools.sequential(server.port, path, self.payload(100), 1, 0, dump_body=dump,
                              note=note + ", 100-row answer for the cross-check")
        self.results["answers"][label] = dump.read_text()
        stats = self.tools.sequential(server.port, path, self.payload(1),
                                      self.s.warm_requests, self.s.warm_warmup, note=note)
        self.results["warm"][label] = stats
        log(f"  {label} warm 1 row: p50 {stats['p50_us']:.0f} us, p99 {stats['p99_us']:.0f} us")

    def throughput(self, label, server, path, workers=None):
        url = f"http://127.0.0.1:{server.port}{path}"
        for conns in CONCURRENCY:
            self.tools.wrk(url, self.payload(1), conns, self.s.wrk_warmup_s)  # not recorded
            r = self.tools.wrk(url, self.payload(1), conns, self.s.wrk_seconds,
                               note=f"against {server.cmd} ({label})")
            if workers:
                r["workers"] = workers()
            self.results["throughput"][(label, conns)] = r
            log(f"  {label} c={conns}: {r['rps']:.0f} req/s, p99 {r['p99_us'] / 1e3:.2f} ms, "
                f"errors {r['errors']}")

    # -- phases ----------------------------------------------------------------------------------

    def raw_predict(self):
        for model in MODELS:
            for rows in PAYLOAD_ROWS:
                for method in ("inplace", "dmatrix"):
                    r = self.tools.raw_predict(self.model_file(model), self.payload(rows), method,
                                               self.s.raw_calls, self.s.raw_seconds)
                    self.results["raw"][(model, rows, method)] = r

    def floor(self):
        floor = servers.Floor(self.processes, self.cmds, self.tools_dir,
                              self.model_file(HEADLINE_MODEL), self.work)
        try:
            self.sequential("floor", floor, floor.path)
            self.throughput("floor", floor, floor.path)
        finally:
            floor.stop()

    def peer(self):
        peer = servers.Peer(self.processes, self.cmds, self.model_dir(HEADLINE_MODEL),
                            self.payload(1))
        try:
            self.sequential("peer", peer, peer.path)
            self.throughput("peer", peer, peer.path)
        finally:
            peer.stop()

    def peer_cold(self):
        for model in MODELS:
            samples, cmd = servers.peer_cold_starts(self.processes, self.cmds, self.model_dir(model),
                                                    self.payload(1), self.s.peer_cold_repeats)
            self.results["peer_cold"][model] = {**measure.summarize_ns([v * 1e6 for v in samples]),
                                                "cmd": cmd}
            log(f"  peer cold {model}: median {sorted(samples)[len(samples) // 2]:.0f} ms")

    def thaw_warm(self):
        thaw = Thaw(self.processes, self.cmds, self.thaw_binary, self.work, "warm",
                    {"log-level": "info"})
        try:
            uri = thaw.put_model(HEADLINE_MODEL, self.tarball(HEADLINE_MODEL))
            thaw.deploy("warm", uri, ["warm"], THROUGHPUT_MAX_CONCURRENCY)
            path = thaw.invocations_path("warm")
            self.sequential("thaw", thaw, path)
            self.throughput("thaw", thaw, path, workers=lambda: thaw.workers().get("warm", {}))
        finally:
            thaw.stop()

    def cold_series(self):
        """(model, rows, gap_ms, endpoints): every combination back to back, plus the headline
        one with idle gaps, which shows the cold path without the previous start's clean-up."""
        k = self.s.cold_endpoints
        series = [(m, r, 0, k) for m in MODELS for r in PAYLOAD_ROWS]
        return series + [(HEADLINE_MODEL, 1, SPACED_GAP_MS, max(k // 2, 10))]

    def thaw_cold(self):
        series = self.cold_series()
        thaw = Thaw(self.processes, self.cmds, self.thaw_binary, self.work, "cold", {
            "log-level": "debug", "keep-alive": self.s.cold_keep_alive_s,
            "max-endpoints": sum(n for *_, n in series) + 10, "max-total-concurrency": 1000000})
        try:
            uris = {m: thaw.put_model(m, self.tarball(m)) for m in MODELS}
            names = {}
            for model, rows, gap, n in series:
                tag = f"{model}-r{rows}-g{gap}"
                names[tag] = [f"c-{tag}-{i:04d}" for i in range(n)]
                thaw.deploy(f"cold-{tag}", uris[model], names[tag], 10)
            procs.wait_for(lambda: thaw.total_workers() == 0, 120, "zero workers after deploy")
            for model, rows, gap, n in series:
                tag = f"{model}-r{rows}-g{gap}"
                mark = thaw.log_mark()
                stats = self.tools.one_each(thaw.port, [thaw.invocations_path(e) for e in names[tag]],
                                            self.payload(rows), self.work / f"paths-{tag}", gap,
                                            note=f"against {thaw.cmd}")
                ready = thaw.worker_ready_us(names[tag], since=mark)
                stats["server_ready"] = measure.summarize_ns([us * 1e3 for us in ready])
                client = {e: ns / 1e3 for e, ns in zip(names[tag], stats.pop("samples_ns"))}
                stats["breakdown"] = breakdown.summarize(
                    breakdown.parse(thaw.log_since(mark)), client)
                if stats["breakdown"]:
                    log("  breakdown (p50, µs): " + ", ".join(
                        f"{k} {stats['breakdown'][k]:.0f}" for k, _ in breakdown.PHASES
                        if k in stats["breakdown"]))
                self.results["cold"][(model, rows, gap)] = stats
                log(f"  thaw cold {tag}: p50 {stats['p50_us'] / 1e3:.2f} ms, "
                    f"p99 {stats['p99_us'] / 1e3:.2f} ms")
                time.sleep(self.s.cold_settle_s)
        finally:
            thaw.stop()

    def idle_cost(self):
        n = self.s.idle_endpoints
        thaw = Thaw(self.processes, self.cmds, self.thaw_binary, self.work, "idle", {
            "log-level": "info", "max-endpoints": 2000, "max-total-concurrency": 1000000})
        try:
            idle = self.results["idle"]
            idle["rss_empty_kb"] = procs.vm_rss_kb(thaw.pid)
            uri = thaw.put_model(HEADLINE_MODEL, self.tarball(HEADLINE_MODEL))
            t0 = time.monotonic()
            thaw.deploy("idle", uri, [f"idle-{i:04d}" for i in range(n)], 5)
            idle["deploy_s"] = time.monotonic() - t0
            procs.wait_for(lambda: thaw.total_workers() == 0, 120, "zero workers")
            time.sleep(2)  # let the zygote reap and clean up the trial workers
            zygote = thaw.zygote_pid()
            # The scikit-learn zygote (an interpreter with scikit-learn imported) and its armed
            # children, which share its pages: reported apart, by its own RSS.
            sk_zygote = thaw.sklearn_zygote_pid()
            sk_tree = {sk_zygote, *cpu.descendants(sk_zygote)} if sk_zygote else set()
            tree = cpu.descendants(thaw.pid)
            others = [p for p in tree if p != zygote and p not in sk_tree]
            idle.update(endpoints=len(thaw.workers()), workers=thaw.total_workers(),
                        rss_kb=procs.vm_rss_kb(thaw.pid),
                        zygote_rss_kb=procs.vm_rss_kb(zygote) if zygote else None,
                        sklearn_zygote_rss_kb=procs.vm_rss_kb(sk_zygote) if sk_zygote else None,
                        others_rss_kb=sum(procs.vm_rss_kb(p) for p in others),
                        processes=1 + len(tree), cmd=thaw.cmd)
            log(f"  thaw with {n} idle endpoints: RSS {idle['rss_kb'] / 1024:.1f} MiB, zygote "
                f"{(idle['zygote_rss_kb'] or 0) / 1024:.1f} MiB, {idle['processes']} processes")
        finally:
            thaw.stop()


    def sklearn_cold(self):
        """scikit-learn zero → first response (RandomForest, 100 trees, iris; one JSON row, the
        default handlers behind a model_fn), thaw against the container's stack."""
        model_dir, tarball, body = build.make_sklearn_model(self.work / "sklearn")
        k = self.s.cold_endpoints
        thaw = Thaw(self.processes, self.cmds, self.thaw_binary, self.work, "sklearn", {
            "log-level": "debug", "keep-alive": self.s.cold_keep_alive_s,
            "max-endpoints": 2 * k + 10, "max-total-concurrency": 1000000})
        try:
            uri = thaw.put_model("sklearn-rf100", tarball)
            env = {"SAGEMAKER_PROGRAM": "inference.py",
                   "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
            series = [(0, k), (SPACED_GAP_MS, max(k // 2, 10))]
            names = {gap: [f"sk-g{gap}-{i:04d}" for i in range(n)] for gap, n in series}
            for gap, _ in series:
                thaw.deploy(f"sklearn-g{gap}", uri, names[gap], 10, image=SKLEARN_IMAGE,
                            environment=env)
            procs.wait_for(lambda: thaw.total_workers() == 0, 120, "zero workers after deploy")
            for gap, _ in series:
                mark = thaw.log_mark()
                stats = self.tools.one_each(thaw.port, [thaw.invocations_path(e) for e in names[gap]],
                                            body, self.work / f"paths-sk-{gap}", gap,
                                            note=f"against {thaw.cmd}",
                                            content_type="application/json")
                ready = thaw.worker_ready_us(names[gap], since=mark)
                stats["server_ready"] = measure.summarize_ns([us * 1e3 for us in ready])
                self.results["sklearn_cold"][gap] = stats
                log(f"  thaw sklearn cold (gap {gap} ms): p50 {stats['p50_us'] / 1e3:.2f} ms, "
                    f"p99 {stats['p99_us'] / 1e3:.2f} ms")
                time.sleep(self.s.cold_settle_s)
            zygote = thaw.sklearn_zygote_pid()
            self.results["sklearn_cold"]["zygote_rss_kb"] = procs.vm_rss_kb(zygote) if zygote else None
        finally:
            thaw.stop()
        samples, cmd = servers.sklearn_peer_cold_starts(self.processes, self.cmds, model_dir, body,
                                                        self.s.peer_cold_repeats)
        self.results["sklearn_cold"]["peer"] = {**measure.summarize_ns([v * 1e6 for v in samples]),
                                                "cmd": cmd}
        log(f"  scikit-learn peer cold: median {sorted(samples)[len(samples) // 2]:.0f} ms")


# name → Bench method, in the order they run.
PHASES = {"raw predict": "raw_predict", "floor": "floor", "peer": "peer",
          "peer cold start": "peer_cold", "thaw warm": "thaw_warm",
          "thaw cold start": "thaw_cold", "sklearn cold start": "sklearn_cold",
          "thaw idle cost": "idle_cost"}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    p.add_argument("--quick", action="store_true",
                   help="fewer samples and 200 idle endpoints (~1.5 minutes of measuring)")
    p.add_argument("--no-build", action="store_true", help="use the existing build/release/thaw")
    p.add_argument("--out", default=str(REPO / "bench" / "RESULTS.md"))
    p.add_argument("--phases", type=lambda v: v.split(","), default=None,
                   help="comma-separated subset of: " + ", ".join(PHASES) + " (for iteration)")
    p.add_argument("--max-busy", type=float, default=0.10,
                   help="wait until the machine is at most this busy (fraction of all CPUs)")
    return p.parse_args()


def prepare(args):
    build.ensure_debian_packages(log)
    if args.no_build:
        binary_note = build.binary_note(REPO / "build" / "release" / "thaw", "--no-build")
    else:
        log("building thaw (release preset)")
        binary_note = build.build_thaw(REPO, log)
    log("building bench tools; generating models (cached in build/bench/models)")
    tools_dir = build.build_bench_tools(REPO)
    models_dir = build.make_models(REPO, REPO / "build" / "bench" / "models")
    return binary_note, tools_dir, models_dir


def main():
    procs.stop_on_signals()
    args = parse_args()
    settings = QUICK if args.quick else FULL
    binary_note, tools_dir, models_dir = prepare(args)
    log(f"waiting for idle CPUs (≤ {args.max_busy:.0%} busy for 5 s; "
        f"at most {settings.idle_timeout_s} s)")
    idle = cpu.wait_for_idle(args.max_busy, 5, settings.idle_timeout_s, log)
    log(f"  busy {idle['busy_before']:.0%} when measuring started "
        f"({'idle reached' if idle['idle_reached'] else 'NOT idle: measuring anyway'})")
    work = Path(tempfile.mkdtemp(prefix="thaw-bench-"))
    bench = Bench(settings, work, models_dir, tools_dir, REPO / "build" / "release" / "thaw")
    started = time.time()
    try:
        for name, method in PHASES.items():
            if args.phases is None or name in args.phases:
                bench.phase(name, getattr(bench, method))
    finally:
        bench.processes.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    run_info = {"mode": "quick" if args.quick else "full", "settings": settings,
                "idle": idle, "binary": binary_note, "started": started,
                "elapsed_s": time.time() - started, "max_busy": args.max_busy,
                "command": shlex.join(["/usr/bin/python3", "bench/run_bench.py", *sys.argv[1:]])}
    text = report.render(bench.results, bench.cmds, run_info, REPO)
    print(text)
    Path(args.out).write_text(text)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
