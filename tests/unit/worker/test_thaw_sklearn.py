"""Unit tests of the scikit-learn runtime's handler module (src/worker/python/thaw_sklearn.py):
handler resolution, the requirements check, reshaping and the default codecs, and Handler.load /
invoke on a real code directory. Runs under Debian's /usr/bin/python3 (ctest: thaw_sklearn_py)."""

import importlib.util
import json
import os
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

SOURCE = Path(__file__).resolve().parents[3] / "src" / "worker" / "python" / "thaw_sklearn.py"
_spec = importlib.util.spec_from_file_location("thaw_sklearn", SOURCE)
ts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ts)


class Module:
    def __init__(self, **fns):
        self.__dict__.update(fns)


def fn(*args):
    return None


# ---------------------------------------------------------------------------------------------
# Locating the module and resolving handlers


def test_program_module_strips_py():
    assert ts.program_module("inference.py") == "inference"
    assert ts.program_module("serve") == "serve"
    assert ts.program_module("pkg.entry.py") == "pkg.entry"


@pytest.mark.parametrize("bad", ["", ".py", "my-script.py", "a b.py", "../x.py"])
def test_program_module_rejects_non_modules(bad):
    with pytest.raises(ts.DeployError, match="does not name a Python module"):
        ts.program_module(bad)


def test_code_dir_defaults_and_host_rewrite():
    assert ts.code_dir({}, "/opt/ml/model") == "/opt/ml/model/code"
    env = {"SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
    assert ts.code_dir(env, "/opt/ml/model") == "/opt/ml/model/code"
    # Unsandboxed, the model is at its host path: /opt/ml/model/... follows it.
    assert ts.code_dir(env, "/data/cache/abc") == "/data/cache/abc/code"
    assert ts.code_dir({"SAGEMAKER_SUBMIT_DIRECTORY": "/srv/code"}, "/x") == "/srv/code"
    assert ts.code_dir({"SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/modelx"}, "/x") == "/opt/ml/modelx"


def test_model_fn_is_required_and_named():
    with pytest.raises(ts.DeployError) as info:
        ts.resolve_handlers(Module(predict_fn=fn), "inference.py (in /code)")
    assert "inference.py (in /code) does not define model_fn(model_dir)" in str(info.value)


def test_transform_fn_with_others_is_refused():
    with pytest.raises(ts.DeployError) as info:
        ts.resolve_handlers(Module(model_fn=fn, transform_fn=fn, input_fn=fn, output_fn=fn), "m")
    assert "transform_fn together with input_fn, output_fn" in str(info.value)


def test_handlers_resolve_with_defaults_missing():
    found = ts.resolve_handlers(Module(model_fn=fn, transform_fn=fn), "m")
    assert found["transform_fn"] is fn and found["input_fn"] is None
    found = ts.resolve_handlers(Module(model_fn=fn, predict_fn=fn), "m")
    assert found["predict_fn"] is fn and found["transform_fn"] is None


def test_non_callable_handler_is_refused():
    with pytest.raises(ts.DeployError, match="predict_fn is not a function"):
        ts.resolve_handlers(Module(model_fn=fn, predict_fn=3), "m")


# ---------------------------------------------------------------------------------------------
# requirements.txt


def test_parse_requirements_forms():
    text = textwrap.dedent("""\
        # a comment
        numpy>=1.20  # inline comment
        scikit-learn[alldeps]==1.2.1 ; python_version >= "3"
        joblib \\
          >=1.0
        --index-url https://example.invalid/simple
        -e git+https://example.invalid/x.git#egg=x
        pkg @ https://example.invalid/pkg.whl
        scipy --hash=sha256:abc
        -r more.txt
        """)
    reqs = ts.parse_requirements(text, read_file=lambda name: "extra-pkg<2\n")
    assert [(r[1], r[2], r[3]) for r in reqs] == [
        ("numpy", ">=1.20", ""),
        ("scikit-learn", "==1.2.1", 'python_version >= "3"'),
        ("joblib", ">=1.0", ""),
        (None, "", ""),
        ("pkg", "", ""),
        ("scipy", "", ""),
        ("extra-pkg", "<2", ""),
    ]


def test_missing_requirements_lists_absent_and_wrong_versions():
    installed = {"numpy": "1.24.2", "scikit-learn": "1.2.1", "tomli": ""}.get
    reqs = ts.parse_requirements("numpy\nscikit-learn==1.3.0\nnot-here\ntomli>=1\n"
                                 "skipme ; sys_platform == 'win32'\n")
    allows, applies = ts._packaging_checks()
    missing = ts.missing_requirements(reqs, installed, allows, applies)
    # A module importable without metadata ("" version) cannot be version-checked: accepted.
    assert missing == ["scikit-learn==1.3.0 (installed: 1.2.1)", "not-here"]


def test_installed_version_sees_debian_packages():
    assert ts.installed_version("scikit-learn") == "1.2.1"
    assert ts.installed_version("numpy")
    assert ts.installed_version("surely-not-installed-thaw-pkg") is None


def test_check_requirements_fails_with_the_list(tmp_path):
    (tmp_path / "requirements.txt").write_text("numpy\nscikit-learn>=1.0\nleftpad==9.9\n")
    with pytest.raises(ts.DeployError) as info:
        ts.check_requirements(str(tmp_path))
    assert "cannot install packages" in str(info.value)
    assert str(info.value).endswith(": leftpad==9.9.")
    (tmp_path / "requirements.txt").write_text("numpy\nscikit-learn>=1.0\n")
    ts.check_requirements(str(tmp_path))  # all importable: fine


# ---------------------------------------------------------------------------------------------
# Reshaping and codecs


def test_single_rows_become_one_sample():
    assert ts.as_samples(np.array(5.0)).shape == (1, 1)
    assert ts.as_samples(np.array([1, 2, 3])).shape == (1, 3)
    assert ts.as_samples(np.zeros((4, 3))).shape == (4, 3)
    assert ts.as_samples(np.zeros((2, 3, 4))).shape == (2, 3, 4)


@pytest.mark.parametrize("body,content_type,shape", [
    ("1,2,3,4", "text/csv", (1, 4)),
    ("1,2,3,4\n", "text/csv", (1, 4)),
    ("1\n2\n3", "text/csv", (3, 1)),
    ("1,2\n3,4\n5,6", "text/csv", (3, 2)),
    ("7", "text/csv", (1, 1)),
    ("[1, 2, 3, 4]", "application/json", (1, 4)),
    ("[[1, 2], [3, 4]]", "application/json", (2, 2)),
    ("5", "application/json", (1, 1)),
])
def test_default_input_fn_shapes(body, content_type, shape):
    data = ts.default_input_fn(body, content_type)
    assert data.shape == shape and data.dtype == np.float32


def test_npy_round_trip_and_no_pickle():
    import io
    buf = io.BytesIO()
    np.save(buf, np.arange(6.0).reshape(2, 3))
    assert ts.default_input_fn(buf.getvalue(), "application/x-npy").shape == (2, 3)
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        ts.default_input_fn(buf.getvalue(), "application/x-npy")


def test_unknown_content_type_and_accept():
    with pytest.raises(ts.UnsupportedFormat, match="text/plain is not supported"):
        ts.decode("x", "text/plain")
    with pytest.raises(ts.UnsupportedFormat, match="Accept type text/plain"):
        ts.encode(np.array([1]), "text/plain")


def test_encoders_match_the_container():
    assert ts.encode(np.array([1, 0, 1]), "application/json") == "[1, 0, 1]"
    assert ts.encode(np.array([0.5, 2.0]), "text/csv") == "0.5\n2.0\n"
    assert ts.encode(np.array([[1, 2], [3, 4]]), "text/csv") == "1,2\n3,4\n"
    assert np.load(__import__("io").BytesIO(ts.encode(np.array([3]), "application/x-npy"))) == [3]


def test_types_default_like_the_container():
    assert ts.resolve_types(None, None, None) == ("application/json", "application/json")
    assert ts.resolve_types("text/csv", "*/*", "text/csv") == ("text/csv", "text/csv")
    assert ts.resolve_types("text/csv", "application/x-npy", None) == ("text/csv",
                                                                      "application/x-npy")


def test_to_response_forms():
    assert ts.to_response(("a,b", "text/csv")) == (200, "text/csv; charset=utf-8", b"a,b")
    assert ts.to_response((b"[1]", "application/json")) == (200, "application/json", b"[1]")
    assert ts.to_response("hi") == (200, "text/html; charset=utf-8", b"hi")
    with pytest.raises(TypeError):
        ts.to_response(np.array([1]))


# ---------------------------------------------------------------------------------------------
# Handler.load and invoke on a real code directory


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    saved_env = dict(os.environ)
    saved_path = list(sys.path)
    saved_cwd = os.getcwd()
    x = np.array([[0, 0], [1, 1], [0, 1], [1, 0]] * 5, dtype=np.float32)
    y = np.array([0, 1, 0, 1] * 5)
    joblib.dump(LogisticRegression().fit(x, y), tmp_path / "model.joblib")
    (tmp_path / "code").mkdir()
    yield tmp_path
    os.chdir(saved_cwd)
    os.environ.clear()
    os.environ.update(saved_env)
    sys.path[:] = saved_path
    for name in [n for n in sys.modules if n.startswith("handler_")]:
        del sys.modules[name]


def write_handler(model_dir, name, body):
    (model_dir / "code" / f"{name}.py").write_text(textwrap.dedent(body))
    return {"SAGEMAKER_PROGRAM": f"{name}.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}


def test_load_and_invoke_with_default_handlers(model_dir):
    env = write_handler(model_dir, "handler_defaults", """
        import joblib, os
        def model_fn(model_dir):
            return joblib.load(os.path.join(model_dir, "model.joblib"))
        """)
    h = ts.Handler.load(str(model_dir), env)
    status, ctype, body = h.invoke(b"1,1", "text/csv", None)
    assert (status, ctype, json.loads(body)) == (200, "application/json", [1])
    status, ctype, body = h.invoke(b"0,0\n1,1", "text/csv", "text/csv")
    assert (status, ctype, body) == (200, "text/csv; charset=utf-8", b"0\n1\n")


def test_user_exception_is_500_with_message_only(model_dir, capfd):
    env = write_handler(model_dir, "handler_raises", """
        def model_fn(model_dir):
            return None
        def predict_fn(data, model):
            raise ValueError("bad input here")
        """)
    h = ts.Handler.load(str(model_dir), env)
    status, ctype, body = h.invoke(b"[1, 2]", None, None)
    assert (status, body) == (500, b"ValueError: bad input here")
    assert "Traceback" in capfd.readouterr().err  # the traceback goes to the log


def test_load_failures_name_file_and_function(model_dir):
    env = write_handler(model_dir, "handler_nomodel", "def predict_fn(d, m):\n    return d\n")
    with pytest.raises(ts.DeployError, match=r"handler_nomodel.py \(in .*\) does not define model_fn"):
        ts.Handler.load(str(model_dir), env)
    env = {"SAGEMAKER_PROGRAM": "handler_absent.py"}
    with pytest.raises(ts.DeployError, match="handler_absent.py not found in"):
        ts.Handler.load(str(model_dir), env)


def test_load_exposes_the_worker_environment(model_dir):
    env = write_handler(model_dir, "handler_env", """
        import os
        def model_fn(model_dir):
            return os.environ.get("MY_SETTING")
        def transform_fn(model, body, content_type, accept):
            return model, "text/plain"
        """)
    env["MY_SETTING"] = "forty-two"
    h = ts.Handler.load(str(model_dir), env)
    assert h.invoke(b"", "text/csv", None) == (200, "text/plain; charset=utf-8", b"forty-two")


# ---------------------------------------------------------------------------------------------
# The warm-up of a template's spare child: a synthetic row, only when no user code would run


def _user_double(x):
    return x * 2


class UserScaler(StandardScaler):
    pass


def _fitted(model):
    x = np.array([[0, 0], [1, 1], [0, 1], [1, 0]] * 5, dtype=np.float32)
    return model.fit(x, np.array([0, 1, 0, 1] * 5))


def test_library_only_accepts_scikit_learn_models_and_pipelines():
    assert ts.library_only(_fitted(LogisticRegression(class_weight={0: 1.0, 1: 2.0})))
    assert ts.library_only(_fitted(make_pipeline(StandardScaler(), LogisticRegression())))


def test_library_only_refuses_user_code_anywhere_in_the_model():
    assert not ts.library_only(_fitted(make_pipeline(FunctionTransformer(_user_double),
                                                     LogisticRegression())))
    assert not ts.library_only(_fitted(make_pipeline(UserScaler(), LogisticRegression())))
    assert not ts.library_only({"not": "an estimator"})
    assert not ts.library_only(None)


def test_warm_up_runs_the_default_handlers_once_and_writes_nothing(model_dir, capfd):
    env = write_handler(model_dir, "handler_warm", """
        import joblib, os
        def model_fn(model_dir):
            return joblib.load(os.path.join(model_dir, "model.joblib"))
        """)
    h = ts.Handler.load(str(model_dir), env)
    calls = []
    original = h.model.predict
    h.model.predict = lambda x: calls.append(x.shape) or original(x)
    assert h.warm_up() is True
    assert calls == [(1, 2)]  # one row of the model's n_features_in_ zeros
    assert capfd.readouterr() == ("", "")


def test_warm_up_never_calls_user_handlers(model_dir):
    env = write_handler(model_dir, "handler_user_predict", """
        import joblib, os
        CALLS = []
        def model_fn(model_dir):
            return joblib.load(os.path.join(model_dir, "model.joblib"))
        def predict_fn(data, model):
            CALLS.append(data)
            return model.predict(data)
        """)
    h = ts.Handler.load(str(model_dir), env)
    assert h.warm_up() is False
    assert sys.modules["handler_user_predict"].CALLS == []


def test_warm_up_swallows_a_model_that_cannot_take_zeros(model_dir, capfd):
    env = write_handler(model_dir, "handler_categories", """
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder
        def model_fn(model_dir):
            x = np.array([["red"], ["blue"]] * 5)
            # Fitted on categories: a row of zeros is an unknown category, and predict raises.
            return make_pipeline(OneHotEncoder(), LogisticRegression()).fit(x, [0, 1] * 5)
        """)
    h = ts.Handler.load(str(model_dir), env)
    assert ts.library_only(h.model) and h.model.n_features_in_ == 1
    assert h.warm_up() is False
    assert capfd.readouterr() == ("", "")
