"""The benchmark's scikit-learn peer: what SageMaker's scikit-learn 1.2-1 container runs.

The real container (aws/sagemaker-scikit-learn-container, sagemaker-containers 2.8) is nginx →
gunicorn with gevent workers → a Flask app whose worker, on its first request (usually /ping),
imports the user module SAGEMAKER_PROGRAM from SAGEMAKER_SUBMIT_DIRECTORY and calls its
model_fn. Reproduced here:
  - the serving module imports numpy, scipy and scikit-learn when gunicorn loads the app, as the
    container's serving stack does;
  - each gunicorn worker imports the user module and calls model_fn on its first request;
  - /invocations runs the user's input_fn/predict_fn/output_fn, or the container's defaults:
    decode application/json (np.array(json.loads(body)).astype(float32)) or text/csv, predict,
    encode JSON (json.dumps(prediction.tolist())).
nginx is left out (one proxy hop fewer: the comparison with thaw is conservative).

Run (the benchmark does): OMP_NUM_THREADS=1 SM_MODEL_DIR=DIR SAGEMAKER_PROGRAM=inference.py \\
    SAGEMAKER_SUBMIT_DIRECTORY=DIR/code \\
    gunicorn -k gevent -w 2 --bind 127.0.0.1:PORT --chdir bench/peer sklearn_container:app
"""

import csv
import importlib
import io
import json
import os
import sys

import flask
import numpy as np
import scipy  # noqa: F401 - imported by the container's serving stack
import sklearn  # noqa: F401

MODEL_DIR = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")

app = flask.Flask(__name__)
_loaded = None  # (module, model) of this worker, loaded on its first request


def _decode(body, content_type):
    if content_type == "application/json":
        return np.array(json.loads(body)).astype(np.float32)
    if content_type == "text/csv":
        rows = list(csv.reader(io.StringIO(body)))
        return np.array(rows).squeeze().astype(np.float32)
    raise ValueError(f"unsupported content type {content_type}")


def _loaded_handler():
    global _loaded
    if _loaded is None:
        sys.path.insert(0, os.environ["SAGEMAKER_SUBMIT_DIRECTORY"])
        module = importlib.import_module(os.environ["SAGEMAKER_PROGRAM"].removesuffix(".py"))
        _loaded = module, module.model_fn(MODEL_DIR)
    return _loaded


@app.route("/ping", methods=["GET"])
def ping():
    _loaded_handler()
    return flask.Response("", status=200)


@app.route("/invocations", methods=["POST"])
def invocations():
    module, model = _loaded_handler()
    content_type = flask.request.content_type or "application/json"
    body = flask.request.get_data(as_text=content_type in ("application/json", "text/csv"))
    data = getattr(module, "input_fn", _decode)(body, content_type)
    prediction = (module.predict_fn(data, model) if hasattr(module, "predict_fn")
                  else model.predict(data))
    if hasattr(module, "output_fn"):
        out, mimetype = module.output_fn(prediction, "application/json")
    else:
        out, mimetype = json.dumps(np.asarray(prediction).tolist()), "application/json"
    return flask.Response(out, mimetype=mimetype)
