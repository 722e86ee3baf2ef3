"""Process plumbing for the thaw end-to-end tests.

- ThawServer starts the real binary on an ephemeral port, waits until it is ready, and stops it
  (SIGTERM, or SIGKILL for crash tests), keeping each run's stderr for the sanitizer check.
- ModelStore writes model.tar.gz files into the server's local S3 root (<data-dir>/s3/...).
- run_modern_boto3 / run_cli drive the clients that cannot run inside pytest's interpreter.
"""

import functools
import gzip
import http.client
import io
import json
import os
import re
import signal
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO_ROOT / "build" / "debug" / "thaw"
CLIENTS_DIR = Path(__file__).resolve().parent / "clients"

REGION = "us-east-1"
ACCOUNT = "123456789012"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
               "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE_ARN = "arn:aws:iam::123456789012:role/service-role/ThawE2ERole"

# A sanitizer report, a UBSan "runtime error:", anything saying ERROR, or a log line at level
# error/critical (e.g. a handler that threw: the client got a 500) fails the run.
_BAD_LOG = re.compile(r"runtime error|Sanitizer|ERROR|^\S+ (error|critical)\s")
_SYSTEM_BIN_DIRS = {"/usr/bin", "/bin", "/usr/local/bin"}


def thaw_binary():
    return Path(os.environ.get("THAW_BIN") or DEFAULT_BINARY)


def unique(prefix):
    """A resource name no other test uses (SageMaker names allow letters, digits, hyphens)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def poll(fetch, done, timeout=60.0, interval=0.05, what="condition"):
    """Call fetch() until done(value) holds; return that value. Fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {value!r}")
        time.sleep(interval)


class ThawServer:
    """One data directory, served by successive runs of the thaw binary."""

    def __init__(self, root, extra_args=(), env=None):
        self.root = Path(root)
        self.env = dict(env or {})  # added to (overriding) this process's environment
        self.data_dir = self.root / "data"
        self.log_dir = self.root / "logs"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.extra_args = [str(a) for a in extra_args]
        self.proc = None
        self.port = None
        self.logs = []
        self.stopped = False  # True once the test itself stopped or killed the current run
        self.listen = "127.0.0.1:0"  # --listen (clients always connect to 127.0.0.1)

    @property
    def endpoint_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30.0):
        binary = thaw_binary()
        assert binary.exists(), f"thaw binary not found at {binary} (build it or set THAW_BIN)"
        self.write_credentials()
        run = len(self.logs)
        port_file = self.log_dir / f"port.{run}"
        log_path = self.log_dir / f"stderr.{run}.log"
        self.logs.append(log_path)
        self.stopped = False
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(binary), "serve", "--listen", self.listen, "--data-dir", str(self.data_dir),
                 "--port-file", str(port_file), "--log-level", "debug", *self.extra_args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env={**os.environ, **self.env} if self.env else None)
        try:
            self.port = poll(lambda: self._read_port(port_file), lambda p: p is not None,
                             timeout=timeout, what=f"port file {port_file}")
            poll(self.ping, lambda status: status == 200, timeout=timeout,
                 what="GET /ping == 200")
        except BaseException:
            if self.running:
                self.kill()  # never leave a half-started server behind
            raise
        return self

    def write_credentials(self):
        """The key pair every test client signs with, as <data-dir>/credentials (mode 0600),
        unless the test wants thaw to create its own (self.own_credentials)."""
        path = self.data_dir / "credentials"
        if not path.exists() and not getattr(self, "own_credentials", False):
            path.write_text("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                            % (CREDENTIALS["AWS_ACCESS_KEY_ID"],
                               CREDENTIALS["AWS_SECRET_ACCESS_KEY"]))
            path.chmod(0o600)

    def _read_port(self, port_file):
        if self.proc.poll() is not None:
            raise AssertionError(f"thaw exited with {self.proc.returncode} before it was ready:\n"
                                 f"{self.log_tail()}")
        try:
            text = port_file.read_text()
        except FileNotFoundError:
            return None
        return int(text) if text.endswith("\n") and text.strip().isdigit() else None

    def ping(self):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/ping")
            status = conn.getresponse().status
            conn.close()
            return status
        except OSError:
            return None

    @property
    def running(self):
        return self.proc.poll() is None

    def terminate(self, timeout=30.0):
        """SIGTERM and wait; returns the exit code."""
        return self.signal(signal.SIGTERM, timeout)

    def signal(self, sig, timeout=30.0):
        self.stopped = True
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def kill(self):
        self.signal(signal.SIGKILL)

    def restart_after_crash(self):
        self.kill()
        return self.start()

    def log_text(self):
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def endpoint_log_text(self, endpoint):
        """Every event of the endpoint's log group (all worker streams, interleaved by time): the
        workers' stdout/stderr and thaw's own lines about them, through the CloudWatch Logs API."""
        logs = self.client("logs")
        try:
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=f"/aws/sagemaker/Endpoints/{endpoint}")
            return "".join(e["message"] + "\n" for page in pages for e in page["events"])
        except logs.exceptions.ResourceNotFoundException:
            return ""  # no worker has started yet

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def bad_log_lines(self):
        return [line for line in self.log_text().splitlines() if _BAD_LOG.search(line)]

    def stop_and_check(self):
        """Graceful stop (exit 0 expected) and no sanitizer/ERROR output in any run's stderr."""
        if self.proc is None:
            return  # never started (start() failed before spawning)
        if not self.stopped:
            assert self.running, (f"thaw died during the tests (exit {self.proc.returncode}):\n"
                                  f"{self.log_tail()}")
            rc = self.terminate()
            assert rc == 0, f"thaw exited with {rc} after SIGTERM:\n{self.log_tail()}"
        bad = self.bad_log_lines()
        assert not bad, "thaw stderr has error/sanitizer output:\n" + "\n".join(bad[:40])

    def client(self, service="sagemaker"):
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=REGION,
                            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                            config=Config(retries={"total_max_attempts": 1}))


# ---------------------------------------------------------------------------------------------
# Model archives


class Link:
    """A tar link member: symbolic by default, hard with hard=True."""

    def __init__(self, target, hard=False):
        self.target, self.hard = target, hard


def _tar_gz(members, compresslevel=6):
    """members: (name, bytes) for files, (name, None) for directories, (name, Link) for links."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=compresslevel) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.mtime = int(time.time())
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif isinstance(data, Link):
                info.type = tarfile.LNKTYPE if data.hard else tarfile.SYMTYPE
                info.linkname, info.mode = data.target, 0o777
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@functools.lru_cache(maxsize=None)
def xgboost_model_bytes(seed=7, rounds=20):
    """A real XGBoost model (binary:logistic on 4 features), saved as JSON like save_model does.
    Deploys start a worker that must load it, so placeholder bytes no longer do."""
    import numpy as np
    import xgboost as xgb
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] > 0).astype(np.float32)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 1},
                        xgb.DMatrix(x, label=y), num_boost_round=rounds)
    return bytes(booster.save_raw(raw_format="json"))


def _model_bytes():
    return xgboost_model_bytes()


class ModelStore:
    """Writes objects under <data-dir>/s3/<bucket>/<key> and returns their s3:// URLs."""

    def __init__(self, data_dir, bucket="thaw-e2e"):
        self.s3_root = Path(data_dir) / "s3"
        self.bucket = bucket

    def path(self, key):
        return self.s3_root / self.bucket / key

    def url(self, key):
        return f"s3://{self.bucket}/{key}"

    def path_of(self, url):
        return self.path(url.removeprefix(f"s3://{self.bucket}/"))

    def put(self, data, key=None):
        key = key or f"{unique('obj')}/model.tar.gz"
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return self.url(key)

    def xgboost(self):
        """A plain archive: a single top-level `xgboost-model` file."""
        return self.put(_tar_gz([("xgboost-model", _model_bytes())]))

    def dot_slash(self):
        """The layout `tar -C dir -czf model.tar.gz .` produces: ./-prefixed names plus dirs."""
        return self.put(_tar_gz([("./", None), ("./code", None),
                                 ("./code/inference.py", b"# handler\n"),
                                 ("./xgboost-model", _model_bytes())]))

    def archive(self, members):
        """A model archive: an `xgboost-model` file followed by `members` (see _tar_gz)."""
        return self.put(_tar_gz([("xgboost-model", _model_bytes()), *members]))

    def tar_slip(self):
        """An archive with a `../evil` member next to a normal model file."""
        return self.archive([("../evil", b"escaped the model directory\n")])

    def not_gzip(self):
        return self.put(b"this is plain text, not a gzip stream\n" * 10)

    def gzip_not_tar(self):
        return self.put(gzip.compress(b"gzip-compressed, but not a tar archive\n" * 10))

    def large(self, megabytes=48):
        """Random (incompressible) content stored uncompressed: the deploy job takes a moment to
        hash and extract it, so the endpoint stays in Creating/Updating long enough to observe."""
        return self.put(_tar_gz([("xgboost-model", _model_bytes()), ("data", None),
                                 ("data/weights.bin", os.urandom(megabytes << 20))],
                                compresslevel=0))


# ---------------------------------------------------------------------------------------------
# Out-of-process clients


def find_non_system(program):
    """The first `program` on PATH that is not the Debian one (pyenv's python3 / aws)."""
    for directory in os.get_exec_path():
        candidate = Path(directory) / program
        if directory.rstrip("/") in _SYSTEM_BIN_DIRS or not candidate.is_file():
            continue
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def client_env():
    env = dict(os.environ)
    env.update(CREDENTIALS)
    env.update({"AWS_DEFAULT_REGION": REGION, "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": "",
                "AWS_CLI_AUTO_PROMPT": "off", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    return env


def run_modern_boto3(python, endpoint_url, calls, timeout=120):
    """Run `calls` (see clients/run_calls.py) under another interpreter; returns its output."""
    proc = subprocess.run([python, str(CLIENTS_DIR / "run_calls.py"), endpoint_url],
                          input=json.dumps(calls), capture_output=True, text=True,
                          env=client_env(), timeout=timeout)
    assert proc.returncode == 0, f"run_calls.py failed ({proc.returncode}):\n{proc.stderr}"
    return json.loads(proc.stdout)


def run_cli(aws, endpoint_url, *args, timeout=120):
    """Run `aws sagemaker ARGS...`; returns (exit code, parsed JSON stdout or None, stderr)."""
    proc = subprocess.run([aws, "sagemaker", *args, "--endpoint-url", endpoint_url,
                           "--region", REGION, "--output", "json"],
                          capture_output=True, text=True, env=client_env(), timeout=timeout)
    out = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, out, proc.stderr
