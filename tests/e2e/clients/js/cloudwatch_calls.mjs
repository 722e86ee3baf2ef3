// The AWS SDK for JavaScript v3 against thaw's CloudWatch API, in its default protocol
// (awsJson1_0) or opted in to smithy-rpc-v2-cbor. Reads {endpointUrl, protocol: "json"|"cbor",
// endpoint, start, end} on stdin; prints {protocol, stats, data, list, error} (dates as ISO).
// Credentials and region come from the environment (tests/e2e/thaw_harness.client_env()).
import { readFileSync } from "node:fs";
import {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
} from "@aws-sdk/client-cloudwatch";
import { AwsSmithyRpcV2CborProtocol } from "@aws-sdk/core/protocols";

const req = JSON.parse(readFileSync(0, "utf8"));
const config = { endpoint: req.endpointUrl, region: "us-east-1", maxAttempts: 1 };
// The opt-in as a user writes it: the client's own protocolSettings stay in force.
if (req.protocol === "cbor") config.protocol = AwsSmithyRpcV2CborProtocol;
const client = new CloudWatchClient(config);
const dims = [
  { Name: "EndpointName", Value: req.endpoint },
  { Name: "VariantName", Value: "AllTraffic" },
];
const start = new Date(req.start);
const end = new Date(req.end);

const strip = ({ $metadata, ...rest }) => rest;
const stats = await client.send(new GetMetricStatisticsCommand({
  Namespace: "AWS/SageMaker", MetricName: "Invocations", Dimensions: dims,
  StartTime: start, EndTime: end, Period: 3600, Statistics: ["Sum"],
}));
const data = await client.send(new GetMetricDataCommand({
  MetricDataQueries: [{ Id: "q1", MetricStat: {
    Metric: { Namespace: "AWS/SageMaker", MetricName: "Invocations", Dimensions: dims },
    Period: 3600, Stat: "Sum" } }],
  StartTime: start, EndTime: end,
}));
const list = await client.send(new ListMetricsCommand({
  Namespace: "AWS/SageMaker", MetricName: "Invocations",
  Dimensions: [{ Name: "EndpointName", Value: req.endpoint }],
}));
let error = null;
try {
  await client.send(new GetMetricStatisticsCommand({
    Namespace: "AWS/SageMaker", MetricName: "Invocations", StartTime: start, EndTime: end,
    Period: 90, Statistics: ["Sum"],
  }));
} catch (e) {
  error = { name: e.name, code: e.Code, status: e.$metadata?.httpStatusCode };
}
process.stdout.write(JSON.stringify({
  protocol: req.protocol, stats: strip(stats), data: strip(data), list: strip(list), error,
}));
