// Pure state of the pages: what a deploy form turns into (the three SageMaker requests), the
// steps a deploy goes through, the list row of an endpoint, and the log tail's window.

export type ImageKind = "xgboost" | "sklearn" | "custom";

export interface DeployForm {
  name: string; // endpoint name; the model and config names derive from it
  image: ImageKind;
  entryPoint: string; // scikit-learn: the script under code/ (inference.py)
  customProgram: string; // custom: absolute path of the program on the thaw host
  memoryMb: number;
  maxConcurrency: number;
  provisioned: number; // 0: none
  modelDataUrl: string; // s3://bucket/key (after the upload, or given)
}

export const MEMORY_CHOICES = [1024, 2048, 3072, 4096, 5120, 6144];

export function imageUri(kind: ImageKind, region: string, customProgram = ""): string {
  const registry = `683313688378.dkr.ecr.${region}.amazonaws.com`;
  switch (kind) {
    case "xgboost":
      return `${registry}/sagemaker-xgboost:1.7-1`;
    case "sklearn":
      return `${registry}/sagemaker-scikit-learn:1.2-1-cpu-py3`;
    case "custom": {
      const p = customProgram.trim();
      return p.startsWith("file://") ? p : `file://${p}`;
    }
  }
}

export function validateDeploy(f: DeployForm): string | null {
  if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(f.name))
    return "The endpoint name is 1-63 letters, digits and hyphens, starting with a letter or digit.";
  if (!MEMORY_CHOICES.includes(f.memoryMb)) return "Memory is 1024-6144 MB in steps of 1024.";
  if (!Number.isInteger(f.maxConcurrency) || f.maxConcurrency < 1 || f.maxConcurrency > 200)
    return "MaxConcurrency is 1-200.";
  if (!Number.isInteger(f.provisioned) || f.provisioned < 0 || f.provisioned > f.maxConcurrency)
    return "Provisioned concurrency is 0 (none) up to MaxConcurrency.";
  if (f.image === "sklearn" && !/^[\w.-]+\.py$/.test(f.entryPoint.trim()))
    return "The scikit-learn entry point is a .py file name under code/ (inference.py).";
  if (f.image === "custom" && !f.customProgram.trim().replace(/^file:\/\//, "").startsWith("/"))
    return "The custom program is an absolute path on the thaw host (file:///path/to/serve).";
  if (!/^s3:\/\/[^/]+\/.+/.test(f.modelDataUrl)) return "Choose a model.tar.gz to upload, or give its s3:// URI.";
  return null;
}

export function resourceNames(endpoint: string, stamp: string) {
  // SageMaker names are ≤ 63 characters.
  const base = endpoint.slice(0, 63 - stamp.length - 1);
  return { model: `${base}-${stamp}`, config: `${base}-${stamp}` };
}

export function deployRequests(f: DeployForm, region: string, account: string, stamp: string) {
  const names = resourceNames(f.name, stamp);
  const environment: Record<string, string> = {};
  if (f.image === "sklearn") {
    environment.SAGEMAKER_PROGRAM = f.entryPoint.trim();
    environment.SAGEMAKER_SUBMIT_DIRECTORY = "/opt/ml/model/code";
  }
  const serverless: { MemorySizeInMB: number; MaxConcurrency: number; ProvisionedConcurrency?: number } = {
    MemorySizeInMB: f.memoryMb,
    MaxConcurrency: f.maxConcurrency,
  };
  if (f.provisioned > 0) serverless.ProvisionedConcurrency = f.provisioned;
  return {
    createModel: {
      ModelName: names.model,
      ExecutionRoleArn: `arn:aws:iam::${account}:role/thaw-console`,
      PrimaryContainer: {
        Image: imageUri(f.image, region, f.customProgram),
        ModelDataUrl: f.modelDataUrl,
        ...(Object.keys(environment).length ? { Environment: environment } : {}),
      },
    },
    createConfig: {
      EndpointConfigName: names.config,
      ProductionVariants: [
        { VariantName: "AllTraffic", ModelName: names.model, ServerlessConfig: serverless },
      ],
    },
    createEndpoint: { EndpointName: f.name, EndpointConfigName: names.config },
  };
}

// A compact, sortable stamp for derived resource names: 20261128-051800.
export function nameStamp(nowMs: number): string {
  const d = new Date(nowMs);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export type StepState = "pending" | "running" | "done" | "failed" | "skipped";
export const DEPLOY_STEPS = ["upload", "model", "config", "endpoint", "inservice"] as const;
export type DeployStep = (typeof DEPLOY_STEPS)[number];
export const STEP_LABELS: Record<DeployStep, string> = {
  upload: "Upload model.tar.gz (S3 PutObject)",
  model: "CreateModel",
  config: "CreateEndpointConfig",
  endpoint: "CreateEndpoint",
  inservice: "Wait for InService",
};

export type Progress = Record<DeployStep, StepState>;

export function initialProgress(upload: boolean): Progress {
  return { upload: upload ? "pending" : "skipped", model: "pending", config: "pending", endpoint: "pending", inservice: "pending" };
}

// One step's outcome: the next step starts running, a failure leaves the rest pending.
export function advance(p: Progress, step: DeployStep, outcome: "running" | "done" | "failed"): Progress {
  const next = { ...p, [step]: outcome };
  if (outcome === "done") {
    const i = DEPLOY_STEPS.indexOf(step);
    for (let j = i + 1; j < DEPLOY_STEPS.length; j++) {
      if (next[DEPLOY_STEPS[j]] === "pending") {
        next[DEPLOY_STEPS[j]] = "running";
        break;
      }
    }
  }
  return next;
}

// What DescribeEndpoint's status means for a deploy being followed.
export function followStatus(status: string | undefined): "wait" | "done" | "failed" {
  if (status === "InService") return "done";
  if (status === "Failed" || status === "OutOfService" || status === "RollingBack") return "failed";
  return "wait";
}

export interface EndpointRow {
  name: string;
  status: string;
  failureReason?: string;
  configName: string;
  memoryMb?: number;
  maxConcurrency?: number;
  provisioned?: number;
  created?: Date;
}

// The serverless settings of the first variant of an endpoint config (what the list shows).
export function serverlessOf(config: { ProductionVariants?: { ServerlessConfig?: { MemorySizeInMB?: number; MaxConcurrency?: number; ProvisionedConcurrency?: number } }[] } | undefined) {
  const s = config?.ProductionVariants?.[0]?.ServerlessConfig;
  return { memoryMb: s?.MemorySizeInMB, maxConcurrency: s?.MaxConcurrency, provisioned: s?.ProvisionedConcurrency ?? 0 };
}

export interface LogLine {
  eventId: string;
  timestamp: number;
  message: string;
  stream: string;
}

// The log tail keeps the newest `max` lines, each once (FilterLogEvents polls overlap).
export class LogWindow {
  private seen = new Set<string>();
  lines: LogLine[] = [];
  constructor(private readonly max = 500) {}

  // Adds new lines; returns how many were new. `since` for the next poll is newestTimestamp().
  add(events: LogLine[]): number {
    let added = 0;
    for (const e of events) {
      if (this.seen.has(e.eventId)) continue;
      this.seen.add(e.eventId);
      this.lines.push(e);
      added++;
    }
    if (added) {
      this.lines.sort((a, b) => a.timestamp - b.timestamp);
      while (this.lines.length > this.max) this.seen.delete(this.lines.shift()!.eventId);
    }
    return added;
  }

  newestTimestamp(fallback: number): number {
    return this.lines.length ? this.lines[this.lines.length - 1].timestamp : fallback;
  }
}

// The account id out of an ARN (arn:aws:sagemaker:us-east-1:123456789012:endpoint/x).
export function accountOf(arn: string | undefined, fallback = "123456789012"): string {
  const m = /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(arn ?? "");
  return m ? m[1] : fallback;
}

// Cold or warm, as the server reports it: thaw adds `x-thaw-cold-start: true|false` to every
// successful InvokeEndpoint answer (read from the SDK's raw HTTP response). "" when absent (an
// older thaw, or another server).
export const COLD_START_HEADER = "x-thaw-cold-start";
export function startKind(headers: Record<string, string | undefined> | undefined): "cold start" | "warm" | "" {
  const v = headers?.[COLD_START_HEADER]?.trim().toLowerCase();
  return v === "true" ? "cold start" : v === "false" ? "warm" : "";
}
