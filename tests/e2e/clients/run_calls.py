"""Run a batch of AWS calls with whichever boto3 the interpreter running this script has.

Usage: python3 run_calls.py ENDPOINT_URL < calls.json

stdin holds a JSON list of calls, each {"service": "sagemaker", "op": "CreateModel",
"params": {...}} with the API (PascalCase) operation name; add "paginate": true to run the
operation's paginator (the result is then the list of pages). stdout gets
{"boto3": version, "botocore": version, "results": [...]}, one result per call:
{"result": <response>} or {"error": {"Code", "Message", "HTTPStatus"}}. Datetimes are ISO strings.
Retries are off so every call is exactly one request. Works on boto3 1.26 and 1.43.
"""

import datetime
import json
import sys

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

REGION = "us-east-1"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def _json_default(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _method_name(client, op):
    for method, api_name in client.meta.method_to_api_mapping.items():
        if api_name == op:
            return method
    raise ValueError(f"{client.meta.service_model.service_name} has no operation {op}")


def _run_one(clients, endpoint_url, call):
    service = call.get("service", "sagemaker")
    if service not in clients:
        clients[service] = boto3.client(
            service, endpoint_url=endpoint_url, region_name=REGION,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            config=Config(retries={"total_max_attempts": 1}))
    client = clients[service]
    method = _method_name(client, call["op"])
    params = call.get("params", {})
    try:
        if call.get("paginate"):
            return {"result": list(client.get_paginator(method).paginate(**params))}
        return {"result": getattr(client, method)(**params)}
    except ClientError as e:
        return {"error": {"Code": e.response["Error"]["Code"],
                          "Message": e.response["Error"].get("Message", ""),
                          "HTTPStatus": e.response["ResponseMetadata"].get("HTTPStatusCode")}}
    except ParamValidationError as e:
        return {"error": {"Code": "ParamValidationError", "Message": str(e), "HTTPStatus": None}}


def main():
    endpoint_url = sys.argv[1]
    calls = json.load(sys.stdin)
    clients = {}
    results = [_run_one(clients, endpoint_url, call) for call in calls]
    json.dump({"boto3": boto3.__version__, "botocore": botocore.__version__, "results": results},
              sys.stdout, default=_json_default)


if __name__ == "__main__":
    main()
