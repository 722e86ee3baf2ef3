import { describe, expect, it } from "vitest";
import { classifyError } from "../src/errors";
import { parseRoute, routeHref } from "../src/router";
import { clearSession, loadSession, saveSession, validateSignIn } from "../src/session";
import {
  LogWindow,
  accountOf,
  advance,
  deployRequests,
  followStatus,
  imageUri,
  initialProgress,
  nameStamp,
  serverlessOf,
  validateDeploy,
  type DeployForm,
} from "../src/state";

const form: DeployForm = {
  name: "my-model",
  image: "xgboost",
  entryPoint: "inference.py",
  customProgram: "",
  memoryMb: 2048,
  maxConcurrency: 5,
  provisioned: 0,
  modelDataUrl: "s3://thaw-console/my-model/x/model.tar.gz",
};

describe("deploy form", () => {
  it("turns into the three SageMaker requests", () => {
    const r = deployRequests(form, "us-east-1", "123456789012", "20261128-051800");
    expect(r.createModel).toEqual({
      ModelName: "my-model-20261128-051800",
      ExecutionRoleArn: "arn:aws:iam::123456789012:role/thaw-console",
      PrimaryContainer: {
        Image: "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        ModelDataUrl: form.modelDataUrl,
      },
    });
    expect(r.createConfig.ProductionVariants[0]).toEqual({
      VariantName: "AllTraffic",
      ModelName: "my-model-20261128-051800",
      ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 },
    });
    expect(r.createEndpoint).toEqual({ EndpointName: "my-model", EndpointConfigName: "my-model-20261128-051800" });
  });
  it("sets the scikit-learn entry point and provisioned concurrency", () => {
    const r = deployRequests({ ...form, image: "sklearn", provisioned: 2 }, "eu-west-1", "123456789012", "s");
    expect(r.createModel.PrimaryContainer.Image).toBe("683313688378.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3");
    expect(r.createModel.PrimaryContainer.Environment).toEqual({ SAGEMAKER_PROGRAM: "inference.py", SAGEMAKER_SUBMIT_DIRECTORY: "/opt/ml/model/code" });
    expect(r.createConfig.ProductionVariants[0].ServerlessConfig.ProvisionedConcurrency).toBe(2);
  });
  it("keeps derived names within 63 characters", () => {
    const long = "a".repeat(63);
    const r = deployRequests({ ...form, name: long }, "us-east-1", "123456789012", "20261128-051800");
    expect(r.createModel.ModelName.length).toBeLessThanOrEqual(63);
  });
  it("names custom programs by file URL", () => {
    expect(imageUri("custom", "us-east-1", "/opt/serve")).toBe("file:///opt/serve");
    expect(imageUri("custom", "us-east-1", "file:///opt/serve")).toBe("file:///opt/serve");
  });
  it("validates", () => {
    expect(validateDeploy(form)).toBeNull();
    expect(validateDeploy({ ...form, name: "-bad" })).toMatch(/name/);
    expect(validateDeploy({ ...form, memoryMb: 1000 })).toMatch(/Memory/);
    expect(validateDeploy({ ...form, maxConcurrency: 0 })).toMatch(/MaxConcurrency/);
    expect(validateDeploy({ ...form, provisioned: 6 })).toMatch(/Provisioned/);
    expect(validateDeploy({ ...form, image: "sklearn", entryPoint: "x" })).toMatch(/entry point/);
    expect(validateDeploy({ ...form, image: "custom", customProgram: "serve" })).toMatch(/absolute/);
    expect(validateDeploy({ ...form, modelDataUrl: "" })).toMatch(/model.tar.gz/);
  });
  it("stamps names in UTC", () => {
    expect(nameStamp(Date.UTC(2026, 10, 28, 5, 18, 0))).toBe("20261128-051800");
  });
});

describe("deploy progress", () => {
  it("moves step by step and stops at a failure", () => {
    let p = advance(initialProgress(true), "upload", "running");
    p = advance(p, "upload", "done");
    expect(p.model).toBe("running");
    p = advance(p, "model", "failed");
    expect(p).toEqual({ upload: "done", model: "failed", config: "pending", endpoint: "pending", inservice: "pending" });
  });
  it("skips the upload for a given URI", () => {
    const p = advance(initialProgress(false), "model", "running");
    expect(p.upload).toBe("skipped");
    expect(advance(p, "model", "done").config).toBe("running");
  });
  it("reads endpoint statuses", () => {
    expect(followStatus("Creating")).toBe("wait");
    expect(followStatus("InService")).toBe("done");
    expect(followStatus("Failed")).toBe("failed");
  });
});

describe("list rows", () => {
  it("reads the serverless config of the first variant", () => {
    expect(serverlessOf({ ProductionVariants: [{ ServerlessConfig: { MemorySizeInMB: 1024, MaxConcurrency: 3 } }] })).toEqual({ memoryMb: 1024, maxConcurrency: 3, provisioned: 0 });
    expect(serverlessOf(undefined)).toEqual({ memoryMb: undefined, maxConcurrency: undefined, provisioned: 0 });
  });
  it("takes the account from an ARN", () => {
    expect(accountOf("arn:aws:sagemaker:us-east-1:210987654321:endpoint/x")).toBe("210987654321");
    expect(accountOf(undefined)).toBe("123456789012");
  });
});

describe("log window", () => {
  it("keeps each event once, in time order, bounded", () => {
    const w = new LogWindow(3);
    const ev = (id: string, t: number) => ({ eventId: id, timestamp: t, message: id, stream: "s" });
    expect(w.add([ev("b", 2), ev("a", 1)])).toBe(2);
    expect(w.add([ev("b", 2), ev("c", 3)])).toBe(1);
    expect(w.lines.map((l) => l.eventId)).toEqual(["a", "b", "c"]);
    w.add([ev("d", 4)]);
    expect(w.lines.map((l) => l.eventId)).toEqual(["b", "c", "d"]);
    expect(w.newestTimestamp(0)).toBe(4);
    expect(new LogWindow().newestTimestamp(7)).toBe(7);
  });
});

describe("session", () => {
  it("round-trips through storage and validates", () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    };
    expect(loadSession(storage)).toBeNull();
    const s = { accessKeyId: "AKIDEXAMPLE12345", secretAccessKey: "secretsecretsecret", region: "us-east-1" };
    saveSession(storage, s);
    expect(loadSession(storage)).toEqual(s);
    clearSession(storage);
    expect(loadSession(storage)).toBeNull();
    store.set("thaw.console.session", "{not json");
    expect(loadSession(storage)).toBeNull();
    expect(validateSignIn(s)).toBeNull();
    expect(validateSignIn({ ...s, accessKeyId: "AKIDEXAMPLE" })).toBeNull();
    expect(validateSignIn({ ...s, accessKeyId: "" })).toMatch(/access key/);
    expect(validateSignIn({ ...s, accessKeyId: "has space" })).toMatch(/access key/);
    expect(validateSignIn({ ...s, secretAccessKey: " " })).toMatch(/secret/);
    expect(validateSignIn({ ...s, region: "nowhere" })).toMatch(/region/);
  });
});

describe("routes", () => {
  it("parses and builds hash routes", () => {
    expect(parseRoute("")).toEqual({ page: "endpoints" });
    expect(parseRoute("#/deploy")).toEqual({ page: "deploy" });
    expect(parseRoute("#/endpoints/my%20ep")).toEqual({ page: "endpoint", name: "my ep" });
    expect(routeHref({ page: "endpoint", name: "a/b" })).toBe("#/endpoints/a%2Fb");
    expect(parseRoute(routeHref({ page: "endpoint", name: "x-1" }))).toEqual({ page: "endpoint", name: "x-1" });
  });
});

describe("classifyError", () => {
  it("tells wrong keys, unreachable, missing, unsupported apart", () => {
    expect(classifyError({ name: "UnrecognizedClientException", message: "The security token included in the request is invalid.", $metadata: { httpStatusCode: 400 } }).kind).toBe("auth");
    const sig = classifyError({ name: "InvalidSignatureException", message: "The request signature we calculated does not match.\n\nThe Canonical String for this request should have been\n'POST", $metadata: { httpStatusCode: 403 } });
    expect(sig.kind).toBe("auth");
    expect(sig.message).not.toMatch(/Canonical/);
    expect(classifyError(new TypeError("Failed to fetch")).kind).toBe("unreachable");
    expect(classifyError({ name: "ValidationException", message: 'Could not find endpoint "x".', $metadata: { httpStatusCode: 400 } }).kind).toBe("not-found");
    expect(classifyError({ name: "ResourceNotFoundException", message: "The specified log group does not exist." }).kind).toBe("not-found");
    expect(classifyError({ name: "UnknownOperationException", message: "The target Logs_20140328.FilterLogEvents is not served here.", $metadata: { httpStatusCode: 404 } }).kind).toBe("unsupported");
    expect(classifyError({ name: "ModelError", message: "boom", $metadata: { httpStatusCode: 424 } }).kind).toBe("model");
    expect(classifyError({ name: "ThrottlingException", $metadata: { httpStatusCode: 400 } }).kind).toBe("throttled");
    expect(classifyError({ name: "ValidationException", message: "bad", $metadata: { httpStatusCode: 400 } })).toEqual({ kind: "other", title: "ValidationException", message: "bad" });
  });
});

import { startKind } from "../src/state";
describe("cold or warm", () => {
  it("is read from the x-thaw-cold-start header", () => {
    expect(startKind({ "x-thaw-cold-start": "true" })).toBe("cold start");
    expect(startKind({ "x-thaw-cold-start": "false" })).toBe("warm");
    expect(startKind({})).toBe("");
    expect(startKind(undefined)).toBe("");
  });
});

describe("keep-alive route", () => {
  it("round-trips", () => {
    expect(parseRoute("#/keep-alive")).toEqual({ page: "keepalive" });
    expect(routeHref({ page: "keepalive" })).toBe("#/keep-alive");
  });
});
