#!/usr/bin/python3
"""Trains a RandomForest on iris, packages it the way the SageMaker SDK's repack path does
(model.joblib + code/inference.py + code/requirements.txt in model.tar.gz,
SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code), deploys it as a serverless endpoint with boto3
and invokes it.

    /usr/bin/python3 examples/sklearn/deploy.py [--endpoint-url http://127.0.0.1:8080]
        [--data-dir DIR]    # thaw's --data-dir: model.tar.gz goes to DIR/s3/<bucket>/...

Against thaw, ModelDataUrl s3://bucket/key is the file <data-dir>/s3/bucket/key. With the
--sdk-layout flag the code goes to its own s3://…/sourcedir.tar.gz instead, as SKLearnModel(
entry_point='inference.py', source_dir='code') uploads it.
"""

import argparse
import io
import json
import tarfile
import time
from pathlib import Path

import boto3
import joblib
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

HERE = Path(__file__).resolve().parent
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::123456789012:role/service-role/ExampleRole"


def tar_gz(files):
    """{name in the archive: bytes} → gzip-compressed tar bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def model_bytes():
    iris = load_iris()
    model = RandomForestClassifier(n_estimators=100, random_state=0).fit(iris.data, iris.target)
    buf = io.BytesIO()
    joblib.dump({"model": model, "classes": list(iris.target_names)}, buf)
    return buf.getvalue()


def put(data_dir, bucket, key, data):
    path = Path(data_dir) / "s3" / bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"s3://{bucket}/{key}"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint-url", default="http://127.0.0.1:8080")
    p.add_argument("--data-dir", default="thaw-data", help="the thaw server's --data-dir")
    p.add_argument("--name", default="sklearn-serverless")
    p.add_argument("--sdk-layout", action="store_true",
                   help="code in its own sourcedir.tar.gz (SKLearnModel's default upload)")
    args = p.parse_args()

    code = {name: (HERE / "code" / name).read_bytes() for name in ("inference.py",
                                                                   "requirements.txt")}
    model = {"model.joblib": model_bytes()}
    env = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
           "SAGEMAKER_REGION": "us-east-1"}
    if args.sdk_layout:
        env["SAGEMAKER_SUBMIT_DIRECTORY"] = put(args.data_dir, "examples",
                                                f"{args.name}/sourcedir.tar.gz", tar_gz(code))
    else:
        model.update({f"code/{name}": data for name, data in code.items()})
        env["SAGEMAKER_SUBMIT_DIRECTORY"] = "/opt/ml/model/code"
    url = put(args.data_dir, "examples", f"{args.name}/model.tar.gz", tar_gz(model))

    kw = dict(endpoint_url=args.endpoint_url, region_name="us-east-1",
              aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="example")
    sm = boto3.client("sagemaker", **kw)
    runtime = boto3.client("sagemaker-runtime", **kw)
    sm.create_model(ModelName=args.name, ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": IMAGE, "ModelDataUrl": url, "Environment": env})
    sm.create_endpoint_config(EndpointConfigName=args.name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": args.name,
        "ServerlessConfig": {"MemorySizeInMB": 3072, "MaxConcurrency": 20}}])
    sm.create_endpoint(EndpointName=args.name, EndpointConfigName=args.name)
    sm.get_waiter("endpoint_in_service").wait(EndpointName=args.name,
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    print(f"endpoint {args.name} is InService (model {url})")

    body = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]})
    for label in ("cold", "warm"):
        t0 = time.perf_counter()
        out = runtime.invoke_endpoint(EndpointName=args.name, Body=body,
                                      ContentType="application/json")
        answer = out["Body"].read().decode()
        print(f"{label}: {(time.perf_counter() - t0) * 1e3:.1f} ms  {answer}")


if __name__ == "__main__":
    main()
