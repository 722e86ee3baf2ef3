"""Check raw awsJson1_1 response bodies against the botocore SageMaker service model.

botocore silently drops members it does not know, so a misspelled optional key or a timestamp sent
as a string passes every boto3-level test; this checker reports them. It prefers the newest model
on the machine (pyenv's botocore, which knows ProvisionedConcurrency) and falls back to Debian's.
"""

import gzip
import json
import subprocess
from pathlib import Path

from thaw_harness import find_non_system

_MODEL = Path("sagemaker") / "2017-07-24" / "service-2.json"
_DEBIAN_DATA = Path("/usr/lib/python3/dist-packages/botocore/data")


def _data_dirs():
    python = find_non_system("python3")
    if python:
        probe = subprocess.run(
            [python, "-c", "import botocore, os; print(os.path.dirname(botocore.__file__))"],
            capture_output=True, text=True, timeout=60)
        if probe.returncode == 0 and probe.stdout.strip():
            yield Path(probe.stdout.strip()) / "data"
    yield _DEBIAN_DATA


def load_service_model():
    for data in _data_dirs():
        for candidate, opener in ((data / _MODEL, open),
                                  (data / f"{_MODEL}.gz", gzip.open)):
            if candidate.exists():
                with opener(candidate, "rt") as f:
                    return ServiceModel(json.load(f), candidate)
    raise FileNotFoundError("no botocore SageMaker model found")


class ServiceModel:
    def __init__(self, model, source):
        self.shapes = model["shapes"]
        self.operations = model["operations"]
        self.source = source

    def output_problems(self, op, body):
        """Every way `body` (a parsed response) strays from op's output shape."""
        problems = []
        output = self.operations[op].get("output")
        if output is None:
            if body not in (None, {}):
                problems.append(f"{op} has no output shape but returned {body!r}")
            return problems
        self._check(output["shape"], body if body is not None else {}, op, problems)
        return problems

    def _check(self, shape_name, value, path, problems):
        shape = self.shapes[shape_name]
        kind = shape["type"]
        checker = getattr(self, f"_check_{kind}", None)
        if checker is not None:
            checker(shape, value, path, problems)
        elif not _SCALARS[kind](value):
            problems.append(f"{path}: {value!r} is not a JSON {kind}")

    def _check_structure(self, shape, value, path, problems):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object, got {value!r}")
            return
        for member in shape.get("required", []):
            if member not in value:
                problems.append(f"{path}: required member {member} is missing")
        for key, item in value.items():
            if key not in shape["members"]:
                problems.append(f"{path}: unknown member {key}")
            elif item is not None:
                self._check(shape["members"][key]["shape"], item, f"{path}.{key}", problems)

    def _check_list(self, shape, value, path, problems):
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {value!r}")
            return
        for i, item in enumerate(value):
            self._check(shape["member"]["shape"], item, f"{path}[{i}]", problems)

    def _check_map(self, shape, value, path, problems):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map, got {value!r}")
            return
        for key, item in value.items():
            self._check(shape["value"]["shape"], item, f"{path}[{key!r}]", problems)

    def _check_string(self, shape, value, path, problems):
        if not isinstance(value, str):
            problems.append(f"{path}: {value!r} is not a string")
        elif "enum" in shape and value not in shape["enum"]:
            problems.append(f"{path}: {value!r} is not one of {shape['enum']}")


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_SCALARS = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": _number,
    "double": _number,
    "timestamp": _number,  # awsJson: epoch seconds as a JSON number, never a string
    "boolean": lambda v: isinstance(v, bool),
    "blob": lambda v: isinstance(v, str),
}
