"""thaw's scikit-learn 1.2-1 runtime: the handler contract of SageMaker's scikit-learn container
(sagemaker-api.md section 4.3), run by the worker's embedded interpreter (python_runtime.cc).

The module is compiled into the thaw binary and imported once, in the scikit-learn zygote, before
it forks any worker. Life of a worker:

  preload()                     in the zygote: numpy, scipy, scikit-learn and joblib imported once
  after_fork()                  in the worker, first: fresh random seeds
  Handler.load(model_dir, env)  in the sandbox: requirements check, import SAGEMAKER_PROGRAM from
                                SAGEMAKER_SUBMIT_DIRECTORY, resolve the handlers, call model_fn;
                                raises DeployError(reason) when the endpoint cannot serve
  handler.invoke(body, content_type, accept) -> (status, content_type, body bytes)

What differs from the container, on purpose (docs/ARCHITECTURE.md):
  - the default input_fn keeps a single CSV/JSON row two-dimensional, one sample (1, n), where
    the container squeezes it to 1-D and scikit-learn's predict then fails;
  - requirements.txt is checked, not installed (there is no package index): packages already
    importable are fine, anything else fails the deploy with the list;
  - application/x-npy bodies are loaded without pickle support (a client must not be able to run
    code through a request body);
  - model_fn runs when the worker starts (before its first /ping), not on the first request.

Everything pure (handler resolution, requirements, reshaping, codecs) is a module-level function
with its dependencies passed in, tested by tests/unit/worker/test_thaw_sklearn.py.
"""

import csv
import importlib
import io
import json
import os
import re
import sys
import traceback

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
UTF8_TYPES = (JSON, CSV)
HANDLERS = ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")
DEFAULT_SUBMIT_DIRECTORY = "/opt/ml/model/code"

# Modules every worker is likely to need, imported once in the zygote. Unpickling a model
# imports the estimator's own module; the common ones are here so that a worker does not pay for
# them. OPENBLAS/OMP/MKL_NUM_THREADS are set to 1 by the caller before this runs, so no BLAS or
# OpenMP thread pool exists when the zygote forks.
PRELOAD = ("numpy", "scipy", "scipy.sparse", "joblib", "sklearn", "sklearn.base",
           "sklearn.ensemble", "sklearn.tree", "sklearn.linear_model", "sklearn.pipeline",
           "sklearn.preprocessing", "sklearn.compose", "sklearn.svm", "sklearn.neighbors",
           "sklearn.naive_bayes", "sklearn.decomposition", "sklearn.cluster", "sklearn.impute",
           "sklearn.feature_extraction", "sklearn.metrics")


class DeployError(Exception):
    """The endpoint cannot serve; the message is the deploy's FailureReason detail."""


class UnsupportedFormat(Exception):
    """A content type or accept type the default codecs do not know (answered with 500, as the
    container's error_wrapper turns it into an unhandled exception)."""


def preload():
    for name in PRELOAD:
        importlib.import_module(name)


def after_fork():
    """Every worker shares the zygote's memory, random state included: reseed."""
    import random
    import numpy as np
    random.seed()
    np.random.seed()


def shutdown():
    """The worker retires (the server closed its connection; the zygote SIGKILLs it after
    --stop-grace): what the container's gunicorn worker does on SIGTERM before it exits — the
    atexit handlers run (the user's included) and output is flushed."""
    import atexit
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed or broken stream must not fail the exit
            pass


# ----------------------------------------------------------------------------------------------
# Locating and importing the user's module


def program_module(program):
    """SAGEMAKER_PROGRAM → the module name to import ("inference.py" → "inference")."""
    name = program[:-3] if program.endswith(".py") else program
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise DeployError(f"SAGEMAKER_PROGRAM \"{program}\" does not name a Python module "
                          "(expected e.g. inference.py).")
    return name


def code_dir(environ, model_dir):
    """Where the user's code is, as this worker sees it. The deployer copies code from s3:// or
    a host path next to the model, at /opt/ml/model/code, and points SAGEMAKER_SUBMIT_DIRECTORY
    there; without the sandbox the model is at its host path, hence the rewrite."""
    submit = environ.get("SAGEMAKER_SUBMIT_DIRECTORY") or DEFAULT_SUBMIT_DIRECTORY
    mount = "/opt/ml/model"
    if model_dir != mount and (submit == mount or submit.startswith(mount + "/")):
        submit = model_dir + submit[len(mount):]
    return submit


def resolve_handlers(module, origin):
    """The user's handler functions by name (None when absent), checked like the container."""
    found = {}
    for name in HANDLERS:
        fn = getattr(module, name, None)
        if fn is not None and not callable(fn):
            raise DeployError(f"{origin}: {name} is not a function.")
        found[name] = fn
    if found["model_fn"] is None:
        raise DeployError(f"{origin} does not define model_fn(model_dir), which the "
                          "scikit-learn container requires (it has no default model_fn).")
    if found["transform_fn"] is not None:
        others = [n for n in ("input_fn", "predict_fn", "output_fn") if found[n] is not None]
        if others:
            raise DeployError(f"{origin} defines transform_fn together with {', '.join(others)}: "
                              "define transform_fn alone, or input_fn/predict_fn/output_fn.")
    return found


# ----------------------------------------------------------------------------------------------
# requirements.txt

_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


def parse_requirements(text, read_file=None, depth=0):
    """requirements.txt → [(line as written, name, specifier, marker)]. Option lines are skipped,
    except -r/--requirement (read through `read_file`, relative to the code directory) and
    -e/--editable, which cannot be satisfied here and come back with name None."""
    out = []
    joined = re.sub(r"\\\n", "", text)
    for raw in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        if line.startswith("-"):
            option, _, value = line.partition(" ")
            if "=" in option and not value:
                option, _, value = option.partition("=")
            value = value.strip()
            if option in ("-r", "--requirement") and read_file is not None and depth < 5:
                out.extend(parse_requirements(read_file(value), read_file, depth + 1))
            elif option in ("-e", "--editable"):
                out.append((line, None, "", ""))
            continue
        requirement, _, marker = line.partition(";")
        requirement = re.split(r"\s--", requirement)[0].strip()  # --hash=… options
        m = _NAME.match(requirement)
        if not m:
            out.append((line, None, "", marker.strip()))
            continue
        rest = requirement[m.end():].strip()
        if rest.startswith("["):  # extras
            rest = rest[rest.find("]") + 1:].strip() if "]" in rest else ""
        if rest.startswith("@"):  # name @ url: satisfied by an installed distribution
            rest = ""
        out.append((line, m.group(0), rest.strip(), marker.strip()))
    return out


def missing_requirements(requirements, installed_version, specifier_allows=None,
                         marker_applies=None):
    """The requirement lines not satisfied here. installed_version(name) → version string, "" when
    importable without metadata, None when absent. specifier_allows(spec, version) and
    marker_applies(marker) come from `packaging` when it is installed; without them specifiers
    and markers are not checked."""
    missing = []
    for line, name, spec, marker in requirements:
        if marker and marker_applies is not None and not marker_applies(marker):
            continue
        if name is None:
            missing.append(line)
            continue
        version = installed_version(name)
        if version is None:
            missing.append(line)
        elif spec and version and specifier_allows is not None and \
                not specifier_allows(spec, version):
            missing.append(f"{line} (installed: {version})")
    return missing


def installed_version(name):
    from importlib import metadata
    import importlib.util
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        pass
    module = name.replace("-", "_").replace(".", "_").lower()
    try:
        return "" if importlib.util.find_spec(module) is not None else None
    except (ImportError, ValueError):
        return None


def _packaging_checks():
    try:
        from packaging.markers import Marker
        from packaging.specifiers import SpecifierSet
    except ImportError:
        return None, None

    def allows(spec, version):
        try:
            return SpecifierSet(spec).contains(version, prereleases=True)
        except Exception:
            return False

    def applies(marker):
        try:
            return Marker(marker).evaluate()
        except Exception:
            return True

    return allows, applies


def check_requirements(directory):
    path = os.path.join(directory, "requirements.txt")
    if not os.path.isfile(path):
        return

    def read(name):
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            return f.read()

    try:
        requirements = parse_requirements(read("requirements.txt"), read)
    except (OSError, UnicodeDecodeError) as e:
        raise DeployError(f"cannot read {path}: {e}") from None
    allows, applies = _packaging_checks()
    missing = missing_requirements(requirements, installed_version, allows, applies)
    if missing:
        raise DeployError(f"{path} needs packages that are not installed, and thaw cannot install "
                          f"packages (there is no package index): {', '.join(missing)}.")


# ----------------------------------------------------------------------------------------------
# Default codecs (sagemaker-containers _encoders, the scikit-learn container's defaults)


def as_samples(array):
    """The default input_fn's improvement over the container: one row is one sample. A scalar
    becomes (1, 1) and a 1-D array (1, n); anything else is unchanged."""
    if array.ndim == 0:
        return array.reshape(1, 1)
    if array.ndim == 1:
        return array.reshape(1, -1)
    return array


def decode(body, content_type):
    """The container's decoders, with CSV kept two-dimensional (rows × columns): the container's
    np.array(rows).squeeze() is where a single row turned 1-D."""
    import numpy as np
    if content_type == JSON:
        return np.array(json.loads(body))
    if content_type == CSV:
        rows = list(csv.reader(io.StringIO(body), delimiter=",", quotechar='"', doublequote=True,
                               strict=True))
        return np.array(rows)
    if content_type == NPY:
        return np.load(io.BytesIO(body), allow_pickle=False)
    raise UnsupportedFormat(f"Content type {content_type} is not supported by this framework. "
                            "Please implement input_fn to deserialize the request data.")


def default_input_fn(body, content_type):
    import numpy as np
    array = decode(body, content_type)
    if content_type in UTF8_TYPES:
        return as_samples(array).astype(np.float32)
    return array


def default_predict_fn(data, model):
    return model.predict(data)


def encode(prediction, accept):
    import numpy as np
    if accept == JSON:
        def default(value):
            if hasattr(value, "tolist"):
                return value.tolist()
            return json.JSONEncoder().default(value)
        return json.dumps(prediction, default=default)
    if accept == CSV:
        stream = io.StringIO()
        np.savetxt(stream, prediction, delimiter=",", fmt="%s")
        return stream.getvalue()
    if accept == NPY:
        stream = io.BytesIO()
        np.save(stream, prediction)
        return stream.getvalue()
    raise UnsupportedFormat(f"Accept type {accept} is not supported by this framework. Please "
                            "implement output_fn to serialize the prediction.")


def default_output_fn(prediction, accept):
    return encode(prediction, accept), accept


_CHARSET_TYPES = ("application/ecmascript", "application/javascript", "application/sql",
                  "application/xml", "application/xml-dtd",
                  "application/xml-external-parsed-entity")


def response_content_type(mimetype):
    """Flask's Response(mimetype=…): textual types get a charset."""
    if "charset=" not in mimetype and (mimetype.startswith("text/") or mimetype.endswith("+xml")
                                       or mimetype in _CHARSET_TYPES):
        return mimetype + "; charset=utf-8"
    return mimetype


def to_response(result):
    """What a transform_fn / output_fn returned → (status, content type, body bytes). A tuple is
    (body, mimetype); a Flask-like response object is read through its attributes; a bare str or
    bytes is what Flask makes of it (200, text/html)."""
    status, mimetype = 200, "text/html"
    if isinstance(result, tuple) and len(result) == 2:
        body, mimetype = result
    elif hasattr(result, "get_data") and hasattr(result, "status_code"):
        body, status = result.get_data(), int(result.status_code)
        mimetype = getattr(result, "content_type", None) or getattr(result, "mimetype", mimetype)
    else:
        body = result
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    elif not isinstance(body, bytes):
        raise TypeError(f"the handler returned {type(body).__name__}, not str or bytes "
                        "(return the encoded body, or (body, content_type))")
    return status, response_content_type(str(mimetype)), body


def resolve_types(content_type, accept, default_accept):
    """sagemaker-containers' Request: no Content-Type means JSON; no Accept (or */*) means
    SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, else JSON."""
    if not content_type:
        content_type = JSON
    if not accept or accept == "*/*":
        accept = default_accept or JSON
    return content_type, accept


# ----------------------------------------------------------------------------------------------
# The handler


def library_only(model):
    """Whether predicting with `model` runs scikit-learn's code and nothing of the user's: the
    estimator and every parameter of it (Pipeline steps, a wrapped estimator, …) are classes of
    scikit-learn, numpy or plain values, and no parameter is a function (FunctionTransformer's
    func, a custom metric). Only such a model is warmed up with a synthetic row."""
    import sklearn.base

    def ours_module(module):
        return module == "builtins" or (module or "").split(".")[0] in ("sklearn", "numpy")

    def ours(value):
        return ours_module(type(value).__module__)

    if not isinstance(model, sklearn.base.BaseEstimator) or not ours(model):
        return False
    try:
        params = model.get_params(deep=True)
    except Exception:
        return False
    for value in params.values():
        if isinstance(value, (list, tuple)):  # Pipeline.steps, ColumnTransformer.transformers
            values = [v for item in value for v in (item if isinstance(item, tuple) else (item,))]
        else:
            values = [value]
        for v in values:
            if v is None or isinstance(v, (str, bytes, int, float, bool)):
                continue
            if isinstance(v, type):  # a dtype, an estimator class
                if not ours_module(v.__module__):
                    return False
                continue
            if callable(v) and not isinstance(v, sklearn.base.BaseEstimator):
                return False
            if not ours(v):
                return False
    return True


def _message(exc):
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Handler:
    def __init__(self, model, handlers, default_accept):
        self.model = model
        self.default_accept = default_accept
        self.transform_fn = handlers["transform_fn"]
        self.input_fn = handlers["input_fn"] or default_input_fn
        self.predict_fn = handlers["predict_fn"] or default_predict_fn
        self.output_fn = handlers["output_fn"] or default_output_fn

    @staticmethod
    def load(model_dir, environ):
        """Everything a worker does before it can answer /ping. The process environment is the
        worker's (the interpreter's os.environ is the zygote's snapshot until replaced here)."""
        os.environ.clear()
        os.environ.update(environ)
        directory = code_dir(environ, model_dir)
        program = environ.get("SAGEMAKER_PROGRAM")
        if not program:
            if not os.path.isfile(os.path.join(directory, "inference.py")):
                raise DeployError("SAGEMAKER_PROGRAM is not set and there is no inference.py in "
                                  f"{directory}: the scikit-learn container needs an entry point "
                                  "that defines model_fn(model_dir).")
            program = "inference.py"
        name = program_module(program)
        origin = f"{program} (in {directory})"
        if not os.path.isdir(directory):
            raise DeployError(f"SAGEMAKER_SUBMIT_DIRECTORY {directory} does not exist, so "
                              f"{program} cannot be imported.")
        check_requirements(directory)
        for path in (os.path.join(directory, "lib"), directory):
            if os.path.isdir(path) and path not in sys.path:
                sys.path.insert(0, path)
        try:
            os.chdir(directory)
        except OSError:
            pass
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                raise DeployError(f"{program} not found in {directory}.") from None
            traceback.print_exc()
            raise DeployError(f"importing {origin} failed: {_message(e)}") from None
        except Exception as e:
            traceback.print_exc()
            raise DeployError(f"importing {origin} failed: {_message(e)}") from None
        handlers = resolve_handlers(module, origin)
        try:
            model = handlers["model_fn"](model_dir)
        except Exception as e:
            traceback.print_exc()
            raise DeployError(f"model_fn of {origin} failed: {_message(e)}") from None
        return Handler(model, handlers, environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"))

    def warm_up(self):
        """Runs one synthetic request (a row of zeros, JSON in and out) through the default
        handlers, in a worker forked ahead of its request (ServeForks' spare), so that the pages
        the first prediction writes — reference counts, caches, the interpreter's specialised
        bytecode — are copied before a client waits for them, and first-call work (lazy imports,
        numpy's dispatch caches) is done. Only when no user code would run: the four handlers
        are thaw's defaults and the model is scikit-learn's alone (library_only). Never raises,
        never writes output; returns whether it ran."""
        if (self.transform_fn is not None or self.input_fn is not default_input_fn
                or self.predict_fn is not default_predict_fn
                or self.output_fn is not default_output_fn):
            return False
        n = getattr(self.model, "n_features_in_", None)
        if not isinstance(n, int) or not 0 < n <= 100_000 or not library_only(self.model):
            return False
        import warnings
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                content_type, accept = resolve_types(JSON, None, self.default_accept)
                body = json.dumps([[0.0] * n])
                data = self.input_fn(body, content_type)
                to_response(self.output_fn(self.predict_fn(data, self.model), accept))
            return True
        except Exception:
            return False

    def invoke(self, body, content_type, accept):
        """POST /invocations. Never raises: an exception in user code (or in a default handler)
        is a 500 whose body is the exception's message; the traceback goes to the worker's
        stderr, the endpoint's log."""
        try:
            content_type, accept = resolve_types(content_type, accept, self.default_accept)
            content = body.decode("utf-8") if content_type in UTF8_TYPES else body
            if self.transform_fn is not None:
                result = self.transform_fn(self.model, content, content_type, accept)
            else:
                data = self.input_fn(content, content_type)
                prediction = self.predict_fn(data, self.model)
                result = self.output_fn(prediction, accept)
            return to_response(result)
        except Exception as e:
            traceback.print_exc()
            sys.stderr.flush()
            return 500, "text/plain; charset=utf-8", _message(e).encode("utf-8", "replace")
