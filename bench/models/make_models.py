"""Deterministic XGBoost models and CSV payloads for the thaw benchmark.

Usage: /usr/bin/python3 bench/models/make_models.py OUT_DIR

Writes, for each model NAME in MODELS:
  OUT_DIR/NAME/model/xgboost-model  Booster.save_model, legacy binary format (no extension);
                                    the directory is what /opt/ml/model holds after extraction
  OUT_DIR/NAME/model.tar.gz         that file at the archive root, as SageMaker training writes it
and the payloads OUT_DIR/rows1.csv and OUT_DIR/rows100.csv (no header, no label column).
OUT_DIR/manifest.json records what was built; a second run with the same recipe is a no-op.
"""

import gzip
import json
import sys
import tarfile
from pathlib import Path

import numpy as np
import xgboost as xgb

SEED = 20261127
N_FEATURES = 20
N_TRAIN_ROWS = 20000
# name → (trees, max depth)
MODELS = {"xgb100x6": (100, 6), "xgb1000x8": (1000, 8)}
PAYLOAD_ROWS = (1, 100)
RECIPE_VERSION = 2


def recipe():
    return {"version": RECIPE_VERSION, "seed": SEED, "features": N_FEATURES,
            "train_rows": N_TRAIN_ROWS, "models": MODELS, "payload_rows": PAYLOAD_ROWS,
            "xgboost": xgb.__version__}


def synthetic_data(rng, rows):
    """Features ~ N(0,1); the label depends non-linearly on a few of them, plus noise."""
    x = rng.normal(size=(rows, N_FEATURES)).astype(np.float32)
    score = x[:, 0] * x[:, 1] + np.sin(3 * x[:, 2]) + 0.5 * x[:, 3] ** 2 - x[:, 4]
    y = (score + rng.normal(scale=0.5, size=rows) > 0.5).astype(np.float32)
    return x, y


def train(x, y, trees, depth):
    params = {"objective": "binary:logistic", "max_depth": depth, "eta": 0.1,
              "tree_method": "hist", "nthread": 1, "seed": SEED}
    return xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=trees)


def write_model(booster, out):
    model_dir = out / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    model_file = model_dir / "xgboost-model"
    booster.save_model(str(model_file))  # no extension: the legacy binary format
    info = tarfile.TarInfo("xgboost-model")  # fixed metadata: byte-identical archives
    info.size, info.mode = model_file.stat().st_size, 0o644
    with open(out / "model.tar.gz", "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w") as tar, open(model_file, "rb") as data:
        tar.addfile(info, data)


def write_payload(rng, path, rows):
    x, _ = synthetic_data(rng, rows)
    lines = (",".join(repr(float(v)) for v in row) for row in x)
    path.write_text("\n".join(lines) + "\n")


def main(out_dir):
    out = Path(out_dir)
    manifest = out / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()) == json.loads(json.dumps(recipe())):
        return
    out.mkdir(parents=True, exist_ok=True)
    x, y = synthetic_data(np.random.default_rng(SEED), N_TRAIN_ROWS)
    for name, (trees, depth) in MODELS.items():
        write_model(train(x, y, trees, depth), out / name)
    for rows in PAYLOAD_ROWS:
        write_payload(np.random.default_rng(SEED + rows), out / f"rows{rows}.csv", rows)
    manifest.write_text(json.dumps(recipe(), indent=1) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
