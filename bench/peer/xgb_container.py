"""The benchmark's peer: what SageMaker's XGBoost 1.7-1 container runs for text/csv.

The real container (aws/sagemaker-xgboost-container, algorithm mode) is nginx → gunicorn with
gevent workers → this kind of Flask app. Reproduced here for text/csv:
  - the booster loads lazily, once per gunicorn worker, from the model directory: every regular,
    non-dot file at its top level, pickle.load first, then xgb.Booster().load_model; nthread=1;
  - the body is strip()ped and decoded, the delimiter sniffed from the first line (csv.Sniffer;
    an alphanumeric result falls back to ","), the text split on "\\n" and on the delimiter with
    empty fields as NaN, converted to a float array, wrapped in a DMatrix and predicted with
    validate_features=False;
  - the answer is one prediction per line, newline-terminated, with mimetype text/csv.
nginx is left out: it would add a proxy hop and make the peer slower, so the comparison with
thaw is conservative.

Run (the benchmark does): OMP_NUM_THREADS=1 SM_MODEL_DIR=DIR \\
    gunicorn -k gevent -w 2 --bind 127.0.0.1:PORT --chdir bench/peer xgb_container:app
"""

import csv
import os
import pickle

import flask
import numpy as np
import xgboost as xgb

MODEL_DIR = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")

app = flask.Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = int(os.environ.get("MAX_CONTENT_LENGTH", 6 * 1024 * 1024))

_boosters = None  # this worker's models, loaded on first use


def _load_one(path):
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception:  # not a pickle: the container falls back to XGBoost's own loader
        booster = xgb.Booster()
        booster.load_model(path)
        return booster


def boosters():
    global _boosters
    if _boosters is None:
        paths = [os.path.join(MODEL_DIR, name) for name in os.listdir(MODEL_DIR)  # listdir order
                 if not name.startswith(".") and os.path.isfile(os.path.join(MODEL_DIR, name))]
        loaded = [_load_one(p) for p in paths]
        for booster in loaded:
            booster.set_param("nthread", 1)
        _boosters = loaded
    return _boosters


def csv_to_dmatrix(text):
    first_line = text.split("\n")[0][:512]
    delimiter = csv.Sniffer().sniff(first_line).delimiter
    if delimiter.isalnum():
        delimiter = ","
    rows = [["nan" if field == "" else field for field in line.split(delimiter)]
            for line in text.split("\n")]
    return xgb.DMatrix(np.array(rows).astype(float))


def predict(dmatrix):
    preds = [b.predict(dmatrix, validate_features=False) for b in boosters()]
    return preds[0] if len(preds) == 1 else np.mean(preds, axis=0)


@app.route("/ping", methods=["GET"])
def ping():
    boosters()
    return flask.Response(status=200)


@app.route("/invocations", methods=["POST"])
def invocations():
    payload = flask.request.get_data()
    if not payload:
        return flask.Response(status=204)
    if flask.request.mimetype not in ("text/csv", "csv"):
        return flask.Response(response="this peer only reproduces text/csv", status=415)
    try:
        dmatrix = csv_to_dmatrix(payload.strip().decode("utf-8"))
    except Exception as e:
        return flask.Response(response="Loading csv data failed with Exception, please ensure "
                                       f"data is in csv format:\n {type(e)}\n {e}", status=415)
    body = "\n".join(map(str, predict(dmatrix).tolist())) + "\n"
    return flask.Response(response=body, status=200, mimetype="text/csv")
