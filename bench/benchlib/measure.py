"""The three measuring tools: raw_predict (in-process predict), seq_client (sequential requests
on one keep-alive connection) and wrk (throughput), each returning a summary dict that carries
the id of the command that produced it."""

import json
import math
from pathlib import Path

from . import procs

WRK_SCRIPT = Path(__file__).resolve().parent.parent / "wrk" / "post_csv.lua"


def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize_ns(samples_ns):
    s = sorted(samples_ns)
    return {"n": len(s), "p50_us": percentile(s, 50) / 1e3, "p99_us": percentile(s, 99) / 1e3,
            "max_us": s[-1] / 1e3, "mean_us": sum(s) / len(s) / 1e3}


class Tools:
    def __init__(self, bench_build, cmds):
        self.bin = Path(bench_build)
        self.cmds = cmds

    def raw_predict(self, model_file, csv_file, method, calls, seconds):
        argv = [self.bin / "raw_predict", model_file, csv_file, "--method", method,
                "--calls", calls, "--warmup", max(calls // 10, 100), "--seconds", seconds]
        env = {"OMP_NUM_THREADS": "1"}
        out = json.loads(procs.run(argv, env=env))
        out["cmd"] = self.cmds.add(argv, env)
        return out

    def _seq(self, port, body_file, extra, note=""):
        argv = [self.bin / "seq_client", "--port", port, "--body", body_file, *extra]
        samples = [int(line) for line in procs.run(argv, timeout=1800).split()]
        out = summarize_ns(samples)
        out["samples_ns"] = samples  # in request order (one_each: one per path)
        out["cmd"] = self.cmds.add(argv, note=note)
        return out

    def sequential(self, port, path, body_file, n, warmup, dump_body=None, note=""):
        """Warm latency: `warmup` untimed then `n` timed requests on one connection."""
        extra = ["--path", path, "--n", n, "--warmup", warmup, "--prime", "/ping"]
        if dump_body:
            extra += ["--dump-body", dump_body]
        return self._seq(port, body_file, extra, note)

    def one_each(self, port, paths, body_file, paths_file, gap_ms=0, note="", content_type=None):
        """Cold starts: one timed request per path, in order, on one connection, `gap_ms` apart."""
        Path(paths_file).write_text("".join(p + "\n" for p in paths))
        extra = ["--paths-file", paths_file, "--prime", "/ping"]
        if gap_ms:
            extra += ["--gap-ms", gap_ms]
        if content_type:
            extra += ["--content-type", content_type]
        return self._seq(port, body_file, extra,
                         note=f"{note}; {Path(paths_file).name} lists {len(paths)} invocation "
                              "paths, one per endpoint")

    def wrk(self, url, body_file, connections, seconds, threads=1, note=None):
        """One wrk run; recorded in the command log only when `note` is given."""
        argv = ["wrk", "-t", threads, "-c", connections, "-d", f"{seconds}s", "--timeout", "10s",
                "-s", WRK_SCRIPT, url]
        env = {"BENCH_BODY_FILE": str(body_file)}
        text = procs.run(argv, env=env, timeout=seconds + 120)
        line = next(l for l in text.splitlines() if l.startswith("BENCH_JSON "))
        out = json.loads(line[len("BENCH_JSON "):])
        out["rps"] = out["requests"] / (out["duration_us"] / 1e6)
        if note is not None:
            out["cmd"] = self.cmds.add(argv, env, note)
        return out
