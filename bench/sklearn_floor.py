#!/usr/bin/python3
"""The floor under a scikit-learn cold start on this machine, in plain Python with no server:
what a fork from a process that already did the work costs, phase by phase.

    /usr/bin/python3 bench/sklearn_floor.py [--forks 40] [--model-dir DIR]

Two parents, each forking --forks children one after the other (the child sleeps 20 ms first,
as a child forked ahead of its request would wait):
  generic  — numpy, scipy, scikit-learn and joblib imported (thaw_sklearn.preload(), as thaw's
             scikit-learn zygote): the child imports code/inference.py, calls model_fn
             (joblib.load), then predicts one JSON row twice;
  template — the same, plus the model loaded in the parent: the child predicts twice, once
             without and once after a warm-up prediction on a row of zeros (as thaw's spare).
Prints p50 / p99 per phase in ms, and the first prediction's page faults. The model is the
benchmark's RandomForest of 100 trees on iris (bench/benchlib/build.make_sklearn_model) unless
--model-dir names an unpacked model.tar.gz. No namespaces, cgroups, seccomp or HTTP: those are
thaw's own costs, measured by bench/sklearn_template_ab.py.
"""

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = "1"
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src" / "worker" / "python"))
sys.path.insert(0, str(REPO / "bench"))

import thaw_sklearn  # noqa: E402

BODY = b"[[5.1, 3.5, 1.4, 0.2]]"


def minor_faults():
    return int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[7])


def ms_since(t):
    return (time.perf_counter() - t) * 1e3


def predict(model):
    import numpy as np
    return json.dumps(model.predict(np.array(json.loads(BODY), dtype=np.float32)).tolist())


def in_child(fn):
    """Runs fn() in a forked child; returns the dict it returns."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            out = fn()
        except BaseException as e:  # noqa: BLE001 (reported to the parent)
            out = {"error": repr(e)}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    out = json.loads(data)
    if "error" in out:
        raise RuntimeError(out["error"])
    return out


def generic_child(model_dir):
    time.sleep(0.02)
    t0 = time.perf_counter()
    thaw_sklearn.after_fork()
    spec = importlib.util.spec_from_file_location("inference", model_dir / "code" / "inference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = {"import": ms_since(t0)}
    t = time.perf_counter()
    model = module.model_fn(str(model_dir))
    out["model_fn"] = ms_since(t)
    f, t = minor_faults(), time.perf_counter()
    predict(model)
    out["first predict"], out["first predict faults"] = ms_since(t), minor_faults() - f
    t = time.perf_counter()
    predict(model)
    out["second predict"] = ms_since(t)
    out["total (import → first answer)"] = out["import"] + out["model_fn"] + out["first predict"]
    return out


def template_child(model, warm):
    import numpy as np
    if warm:
        model.predict(np.zeros((1, model.n_features_in_)))
    time.sleep(0.02)
    f, t = minor_faults(), time.perf_counter()
    predict(model)
    out = {"first predict": ms_since(t), "first predict faults": minor_faults() - f}
    t = time.perf_counter()
    predict(model)
    out["second predict"] = ms_since(t)
    return out


def report(title, rows):
    print(f"\n{title} ({len(rows)} forks)")
    for key in rows[0]:
        values = sorted(r[key] for r in rows)
        p99 = values[min(len(values) - 1, int(0.99 * len(values)))]
        unit = "" if "faults" in key else " ms"
        print(f"  {key:<32} p50 {statistics.median(values):8.2f}{unit}   p99 {p99:8.2f}{unit}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--forks", type=int, default=40)
    p.add_argument("--model-dir", type=Path, help="an unpacked model.tar.gz (code/inference.py)")
    args = p.parse_args()
    thaw_sklearn.preload()
    model_dir = args.model_dir
    if model_dir is None:
        # Trained in a child: a parent holding a training run's garbage would make every
        # forked child's garbage collections (and copy-on-write faults) larger than a zygote's.
        def make():
            from benchlib import build
            out, _, _ = build.make_sklearn_model(Path(tempfile.mkdtemp(prefix="sk-floor-")))
            return {"dir": str(out)}
        model_dir = in_child(make)["dir"]
    model_dir = Path(model_dir)
    report("generic: fork from a process with scikit-learn imported",
           [in_child(lambda: generic_child(model_dir)) for _ in range(args.forks)])
    spec = importlib.util.spec_from_file_location("inference", model_dir / "code" / "inference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.model_fn(str(model_dir))
    for warm in (False, True):
        report(f"template: fork from a process holding the model, "
               f"{'warm-up in the child first' if warm else 'no warm-up'}",
               [in_child(lambda: template_child(model, warm)) for _ in range(args.forks)])
    t = time.perf_counter()
    for _ in range(20):
        predict(model)
    print(f"\nwarm predict in the parent: {ms_since(t) / 20:.2f} ms mean over 20")


if __name__ == "__main__":
    main()
