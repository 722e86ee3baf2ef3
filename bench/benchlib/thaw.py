"""A thaw server for the benchmark: start it, deploy serverless XGBoost endpoints through the
real control plane (boto3), read its worker gauges and its processes."""

import re
import shutil
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

from . import procs

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::123456789012:role/bench"
REGION = "us-east-1"
MEMORY_MB = 2048
_WORKERS_RE = re.compile(r'thaw_workers\{endpoint="([^"]*)",variant="[^"]*",state="(\w+)"\} (\d+)')
_READY_RE = re.compile(r"endpoint=(\S+) variant=\S+ worker pid=\d+ ready in (\d+) us")


class Thaw:
    def __init__(self, processes, cmds, binary, work_dir, name, options):
        """options: extra `thaw serve` flags, e.g. {"keep-alive": 300, "log-level": "info"}."""
        self.processes = processes
        self.name = name
        self.data_dir = Path(work_dir) / name
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.data_dir / "port"
        # The benchmark sends raw, unsigned HTTP (wrk, seq_client): SigV4 is off, so its cost is
        # not in these figures (a verification is a few HMACs and one SHA-256 of the body).
        self.argv = [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
                     "--port-file", port_file, "--auth", "none"]
        for key, value in options.items():
            self.argv += [f"--{key}", value]
        self.cmds = cmds
        self.cmd = cmds.add(self.argv, note=f"thaw server '{name}'")
        self.proc = processes.start(f"thaw-{name}", self.argv)
        self.port = procs.wait_for(lambda: procs.read_port_file(port_file), 60,
                                   "thaw's port file", self.proc)
        procs.wait_for(lambda: procs.http_status(self.port) == 200, 60, "thaw /ping", self.proc)
        self.sm = boto3.client("sagemaker", endpoint_url=f"http://127.0.0.1:{self.port}",
                               region_name=REGION, aws_access_key_id="AKIDBENCH",
                               aws_secret_access_key="bench-secret",
                               config=Config(retries={"total_max_attempts": 1}))

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        self.processes.stop(self.proc, timeout=60)

    # -- control plane -------------------------------------------------------------------------

    def put_model(self, key, tarball):
        """Places a model.tar.gz in thaw's local S3 root and returns its s3:// URI."""
        dest = self.data_dir / "s3" / "bench" / key / "model.tar.gz"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tarball, dest)
        return f"s3://bench/{key}/model.tar.gz"

    def deploy(self, config_name, model_uri, endpoints, max_concurrency, image=IMAGE,
               environment=None):
        """One model and one endpoint config (serverless), shared by every endpoint named."""
        container = {"Image": image, "ModelDataUrl": model_uri}
        if environment:
            container["Environment"] = environment
        self.sm.create_model(ModelName=config_name, ExecutionRoleArn=ROLE,
                             PrimaryContainer=container)
        self.sm.create_endpoint_config(EndpointConfigName=config_name, ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": config_name,
            "ServerlessConfig": {"MemorySizeInMB": MEMORY_MB, "MaxConcurrency": max_concurrency}}])
        for name in endpoints:
            self.sm.create_endpoint(EndpointName=name, EndpointConfigName=config_name)
        waiter = self.sm.get_waiter("endpoint_in_service")
        for name in endpoints:
            waiter.wait(EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 600})
        self.cmds.add(["boto3:", "create_model", "create_endpoint_config", "create_endpoint"],
                      note=f"against {self.cmd}: model and config '{config_name}' "
                           f"({image.split('/')[-1]}, {model_uri}, MemorySizeInMB {MEMORY_MB}, MaxConcurrency "
                           f"{max_concurrency}), {len(endpoints)} endpoint(s) "
                           f"{endpoints[0]}…, waiter endpoint_in_service (Delay 1)")

    @staticmethod
    def invocations_path(endpoint):
        return f"/endpoints/{endpoint}/invocations"

    # -- observation ---------------------------------------------------------------------------

    def workers(self):
        """{endpoint: {state: count}} from GET /metrics."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=30) as r:
            text = r.read().decode()
        out = {}
        for endpoint, state, n in _WORKERS_RE.findall(text):
            out.setdefault(endpoint, {})[state] = int(n)
        return out

    def total_workers(self):
        return sum(sum(states.values()) for states in self.workers().values())

    def zygote_pid(self):
        """The XGBoost zygote: the server's second child (the scikit-learn zygote forks first)."""
        kids = sorted(procs.children(self.pid))
        return kids[1] if len(kids) == 2 else None

    def sklearn_zygote_pid(self):
        kids = sorted(procs.children(self.pid))
        return kids[0] if len(kids) == 2 else None

    def log_mark(self):
        """The log's current length, to read only what comes after it."""
        return Path(self.proc.log_path).stat().st_size

    def log_since(self, mark):
        """The server's log (server, zygote and workers) from offset `mark` on."""
        with open(self.proc.log_path, "rb") as f:
            f.seek(mark)
            return f.read().decode(errors="replace")

    def worker_ready_us(self, endpoints, since=0):
        """Server-side setup time (launch + model load + first /ping) of each worker of
        `endpoints` started after log offset `since`, from the debug log line
        "worker pid=… ready in N us"."""
        wanted = set(endpoints)
        with open(self.proc.log_path, "rb") as f:
            f.seek(since)
            text = f.read().decode(errors="replace")
        return [int(us) for ep, us in _READY_RE.findall(text) if ep in wanted]
