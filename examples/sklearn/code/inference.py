"""Handlers for SageMaker's scikit-learn 1.2-1 container (and thaw's runtime for it).

model_fn is required. input_fn, predict_fn and output_fn are optional (the defaults decode
application/json, text/csv and application/x-npy, call model.predict and encode like the
request's Accept); this one answers JSON with the class name and its probability.
"""

import json
import os

import joblib
import numpy as np


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(request_body, request_content_type):
    if request_content_type == "application/json":
        data = json.loads(request_body)
        rows = data["instances"] if isinstance(data, dict) else data
    elif request_content_type == "text/csv":
        rows = [line.split(",") for line in request_body.strip().splitlines()]
    else:
        raise ValueError(f"send application/json or text/csv, not {request_content_type}")
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)


def predict_fn(input_data, model):
    bundle = model
    probabilities = bundle["model"].predict_proba(input_data)
    best = probabilities.argmax(axis=1)
    return [{"class": bundle["classes"][i], "probability": float(p[i])}
            for i, p in zip(best, probabilities)]


def output_fn(prediction, accept):
    return json.dumps({"predictions": prediction}), "application/json"
