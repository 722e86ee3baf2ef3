"""Child processes, their logs and cleanup, and the log of every command a figure came from."""

import http.client
import os
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path


class CommandLog:
    """Every command that produced a figure, numbered C1, C2, … for RESULTS.md."""

    def __init__(self, repo):
        self.repo = str(repo)
        self.entries = []

    def add(self, argv, env=None, note=""):
        env_text = " ".join(f"{k}={shlex.quote(self._short(str(v)))}"
                            for k, v in (env or {}).items())
        cmd = " ".join(shlex.quote(self._short(str(a))) for a in argv)
        self.entries.append((f"C{len(self.entries) + 1}", f"{env_text} {cmd}".strip(), note))
        return self.entries[-1][0]

    def _short(self, arg):
        return arg.replace(self.repo + "/", "")


class Processes:
    """Starts long-running children in their own process groups and stops every one of them.

    Only processes started here are ever signalled, by their own pid / process-group id."""

    def __init__(self, log_dir):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.live = []

    def start(self, name, argv, env=None, cwd=None):
        log_path = self.log_dir / f"{name}.{len(self.live)}.log"
        full_env = dict(os.environ, **(env or {}))
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([str(a) for a in argv], env=full_env, cwd=cwd,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=True)
        proc.log_path = log_path
        proc.bench_name = name
        self.live.append(proc)
        return proc

    def stop(self, proc, timeout=20.0):
        """SIGTERM to the child's process group, then SIGKILL if it lingers."""
        if proc in self.live:
            self.live.remove(proc)
        if proc.poll() is not None:
            return proc.returncode
        _signal_group(proc, signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            return proc.wait(timeout=10)

    def stop_all(self):
        for proc in reversed(list(self.live)):
            try:
                self.stop(proc)
            except Exception as e:  # keep stopping the others
                print(f"warning: could not stop {proc.bench_name} (pid {proc.pid}): {e}")


def stop_on_signals():
    """SIGTERM/SIGHUP unwind like ^C, so the callers' finally blocks still stop every server."""
    def handler(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)  # the group this module created for it (start_new_session)
    except ProcessLookupError:
        pass


def log_tail(proc, lines=30):
    try:
        return "\n".join(Path(proc.log_path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run(argv, env=None, cwd=None, timeout=600):
    """Runs a command to completion and returns its stdout; raises with its stderr on failure."""
    full_env = dict(os.environ, **(env or {}))
    done = subprocess.run([str(a) for a in argv], env=full_env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({done.returncode}):\n"
                           f"{done.stderr[-3000:]}{done.stdout[-2000:]}")
    return done.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, proc=None, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.bench_name} exited ({proc.returncode}) before {what}:\n"
                               f"{log_tail(proc)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def read_port_file(path):
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return None
    return int(text) if text.endswith("\n") and text.strip().isdigit() else None


def http_status(port, method="GET", path="/ping", body=None, headers=None, timeout=5.0):
    """The status of one request on a fresh connection, or None if it could not be made."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request(method, path, body=body, headers=headers or {})
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


def vm_rss_kb(pid):
    """VmRSS of a live process in kB (0 if it is gone or has no memory, like a zombie)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def children(pid):
    """Direct children of a live process."""
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            out.extend(int(c) for c in f.read().split())
    return out
