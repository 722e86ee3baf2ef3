"""The two reference servers: the floor (in-process C++ predict) and the peer (the SageMaker
XGBoost container's Flask app under gunicorn with gevent workers)."""

import time
from pathlib import Path

from . import procs

PEER_DIR = Path(__file__).resolve().parent.parent / "peer"
PEER_WORKERS = 2
OMP_ENV = {"OMP_NUM_THREADS": "1"}


class Floor:
    """floor_server on an ephemeral port; `invocations` is the path it is measured on."""

    path = "/invocations"

    def __init__(self, processes, cmds, bench_build, model_file, work_dir, threads=2):
        port_file = Path(work_dir) / "floor.port"
        port_file.unlink(missing_ok=True)
        self.argv = [Path(bench_build) / "floor_server", "--port-file", port_file,
                     "--model", model_file, "--threads", threads]
        self.cmd = cmds.add(self.argv, OMP_ENV, note="the floor server")
        self.processes = processes
        self.proc = processes.start("floor", self.argv, env=OMP_ENV)
        self.port = procs.wait_for(lambda: procs.read_port_file(port_file), 30,
                                   "the floor's port file", self.proc)

    def stop(self):
        self.processes.stop(self.proc)


def peer_argv(port):
    return ["gunicorn", "-k", "gevent", "-w", PEER_WORKERS, "--bind", f"127.0.0.1:{port}",
            "--chdir", PEER_DIR, "--log-level", "warning", "xgb_container:app"]


def peer_env(model_dir):
    return dict(OMP_ENV, SM_MODEL_DIR=str(model_dir))


class Peer:
    """gunicorn + the container's Flask app, started and warmed (model loaded in every worker)."""

    path = "/invocations"

    def __init__(self, processes, cmds, model_dir, body_file):
        self.port = procs.free_port()
        self.processes = processes
        self.cmd = cmds.add(peer_argv(self.port), peer_env(model_dir), note="the peer server")
        self.proc = processes.start("peer", peer_argv(self.port), env=peer_env(model_dir))
        body = Path(body_file).read_bytes()
        procs.wait_for(lambda: first_answer(self.port, body) == 200, 120,
                       "the peer's first answer", self.proc)

    def stop(self):
        self.processes.stop(self.proc)


def first_answer(port, body):
    return procs.http_status(port, "POST", "/invocations", body=body,
                             headers={"Content-Type": "text/csv"}, timeout=120)


def peer_cold_starts(processes, cmds, model_dir, body_file, repeats):
    """Time from starting gunicorn to its first answered /invocations, `repeats` times.

    This is only the process + import + model-load part of a SageMaker cold start: SageMaker
    itself first provisions compute and pulls the container (seconds, PERFORMANCE-ANCHORS §1.1).
    """
    body = Path(body_file).read_bytes()
    samples_ms = []
    port = procs.free_port()
    for _ in range(repeats):
        t0 = time.monotonic()
        proc = processes.start("peer-cold", peer_argv(port), env=peer_env(model_dir))
        try:
            procs.wait_for(lambda: first_answer(port, body) == 200, 120,
                           "the peer's first answer", proc, interval=0.002)
            samples_ms.append((time.monotonic() - t0) * 1e3)
        finally:
            processes.stop(proc)
    cmd = cmds.add(peer_argv(port), peer_env(model_dir),
                   note=f"started {repeats}x; timed until the first POST /invocations answers 200 "
                        "(polled every 2 ms)")
    return samples_ms, cmd


def sklearn_peer_argv(port):
    return ["gunicorn", "-k", "gevent", "-w", PEER_WORKERS, "--bind", f"127.0.0.1:{port}",
            "--chdir", PEER_DIR, "--log-level", "warning", "sklearn_container:app"]


def sklearn_peer_env(model_dir):
    return dict(OMP_ENV, OPENBLAS_NUM_THREADS="1", SM_MODEL_DIR=str(model_dir),
                SAGEMAKER_PROGRAM="inference.py",
                SAGEMAKER_SUBMIT_DIRECTORY=str(Path(model_dir) / "code"))


def sklearn_peer_cold_starts(processes, cmds, model_dir, body_file, repeats):
    """Like peer_cold_starts, for the scikit-learn container's stack (bench/peer/
    sklearn_container.py): gunicorn start → imports → model_fn → first answered request."""
    body = Path(body_file).read_bytes()
    samples_ms = []
    port = procs.free_port()
    env = sklearn_peer_env(model_dir)

    def answered():
        return procs.http_status(port, "POST", "/invocations", body=body,
                                 headers={"Content-Type": "application/json"}, timeout=120)

    for _ in range(repeats):
        t0 = time.monotonic()
        proc = processes.start("sklearn-peer-cold", sklearn_peer_argv(port), env=env)
        try:
            procs.wait_for(lambda: answered() == 200, 120, "the scikit-learn peer's first answer",
                           proc, interval=0.002)
            samples_ms.append((time.monotonic() - t0) * 1e3)
        finally:
            processes.stop(proc)
    cmd = cmds.add(sklearn_peer_argv(port), env,
                   note=f"started {repeats}x; timed until the first POST /invocations answers 200 "
                        "(polled every 2 ms)")
    return samples_ms, cmd
