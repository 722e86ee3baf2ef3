"""Everything the benchmark needs before it measures: Debian packages, the thaw binary, the
bench's own native tools, and the models and payloads."""

import subprocess
import sys
import time
from pathlib import Path

from . import procs

# What the bench needs beyond scripts/install-deps.sh (the peer's stack) plus what it relies on.
DEBIAN_PACKAGES = ["g++", "cmake", "ninja-build", "libboost-dev", "libxgboost-dev", "wrk",
                   "python3-xgboost", "python3-numpy", "python3-boto3", "python3-flask",
                   "gunicorn", "python3-gevent", "python3-sklearn", "python3-joblib"]


def ensure_debian_packages(log):
    missing = [p for p in DEBIAN_PACKAGES if not _installed(p)]
    if not missing:
        return
    log(f"installing Debian packages: {' '.join(missing)}")
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]
    procs.run(apt + ["update"], env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=1200)
    procs.run(apt + ["install", "-y", "--no-install-recommends", *missing],
              env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=1800)


def _installed(package):
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True,
                          text=True)
    return "install ok installed" in done.stdout


def build_thaw(repo, log, attempts=3, pause_s=60):
    """cmake --preset release; other engineers may be mid-edit, so a failed build is retried.
    Returns a note for RESULTS.md (which binary was measured)."""
    binary = repo / "build" / "release" / "thaw"
    error = ""
    for attempt in range(1, attempts + 1):
        try:
            procs.run(["cmake", "--preset", "release"], cwd=repo, timeout=600)
            procs.run(["cmake", "--build", "--preset", "release", "-j2"], cwd=repo, timeout=3600)
            return binary_note(binary, "built by this run")
        except RuntimeError as e:
            error = str(e).splitlines()[0]
            log(f"thaw build failed (attempt {attempt}/{attempts}): {error}")
            if attempt < attempts:
                time.sleep(pause_s)
    if binary.exists():
        log("using the existing build/release/thaw")
        return binary_note(binary, f"the build failed ({error}); measured the existing binary")
    raise RuntimeError("thaw does not build and there is no earlier binary")


def binary_note(binary, how):
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(binary.stat().st_mtime))
    rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=binary.parents[2],
                         capture_output=True, text=True).stdout.strip()
    return f"`{binary.relative_to(binary.parents[2])}` ({how}; mtime {stamp}; git {rev})"


def build_bench_tools(repo):
    out = repo / "build" / "bench"
    procs.run(["cmake", "-S", repo / "bench", "-B", out, "-DCMAKE_BUILD_TYPE=Release"], cwd=repo)
    procs.run(["cmake", "--build", out, "-j2"], cwd=repo, timeout=1800)
    return out


def make_models(repo, out_dir):
    """Generates (or reuses, if the recipe is unchanged) the models and payloads."""
    procs.run([sys.executable, repo / "bench" / "models" / "make_models.py", out_dir],
              timeout=3600)
    return Path(out_dir)


SKLEARN_INFERENCE = """\
import os
import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
"""


def make_sklearn_model(out_dir):
    """RandomForestClassifier(100 trees) on iris, with a code/inference.py that defines only
    model_fn (the default handlers do the rest): the model directory, its model.tar.gz and a
    one-row JSON payload."""
    import io
    import json
    import tarfile

    import joblib
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    out = Path(out_dir)
    model_dir = out / "model"
    (model_dir / "code").mkdir(parents=True, exist_ok=True)
    x, y = load_iris(return_X_y=True)
    joblib.dump(RandomForestClassifier(n_estimators=100, random_state=0).fit(x, y),
                model_dir / "model.joblib")
    (model_dir / "code" / "inference.py").write_text(SKLEARN_INFERENCE)
    tarball = out / "model.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        for name in ("model.joblib", "code/inference.py"):
            tar.add(model_dir / name, arcname=name)
    body = out / "row1.json"
    body.write_text(json.dumps([x[0].tolist()]))
    return model_dir, tarball, body
