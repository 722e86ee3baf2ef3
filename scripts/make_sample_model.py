"""Writes a small real XGBoost model (binary:logistic on a synthetic 4-feature problem) as
model.tar.gz with `xgboost-model` at the archive root, the way SageMaker's XGBoost container
expects it. Runs on Debian's /usr/bin/python3 (python3-xgboost, python3-numpy)."""
import io
import sys
import tarfile
import tempfile
import os

import numpy as np
import xgboost as xgb


def main(out_path):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] > 0).astype(np.float32)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 1},
                        xgb.DMatrix(x, label=y), num_boost_round=20)
    with tempfile.TemporaryDirectory() as tmp:
        model_file = os.path.join(tmp, "xgboost-model")
        booster.save_model(model_file + ".json")
        os.rename(model_file + ".json", model_file)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(model_file, arcname="xgboost-model")
    with open(out_path, "wb") as f:
        f.write(buf.getvalue())


if __name__ == "__main__":
    main(sys.argv[1])
