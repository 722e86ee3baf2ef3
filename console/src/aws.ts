// The AWS SDK for JavaScript v3 clients, pointed at the origin that served the console and
// signed (SigV4) with the signed-in user's keys: the console uses thaw's public APIs only.

import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { S3Client } from "@aws-sdk/client-s3";
import { SageMakerClient } from "@aws-sdk/client-sagemaker";
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import type { Session } from "./session";

export interface Clients {
  sagemaker: SageMakerClient;
  runtime: SageMakerRuntimeClient;
  cloudwatch: CloudWatchClient;
  logs: CloudWatchLogsClient;
  s3: S3Client;
}

export function makeClients(s: Session, origin: string): Clients {
  const common = {
    region: s.region,
    endpoint: origin,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
    // A refused key should show at once, not after the SDK's backoff.
    maxAttempts: 1,
  };
  return {
    sagemaker: new SageMakerClient(common),
    runtime: new SageMakerRuntimeClient(common),
    cloudwatch: new CloudWatchClient(common),
    logs: new CloudWatchLogsClient(common),
    s3: new S3Client({
      ...common,
      forcePathStyle: true,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    }),
  };
}
