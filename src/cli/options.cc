#include "cli/options.h"

namespace thaw::cli {

const std::vector<ClientOptionSpec>& ClientOptionTable() {
  using O = ClientOptions;
  static const std::vector<ClientOptionSpec> kTable = {
      {"--endpoint-url", kAllCommands, "URL of the thaw server", &O::endpoint_url, 0, 0, false,
       "THAW_ENDPOINT_URL"},
      {"--region", kAllCommands, "AWS region (picks the built-in image registry)", &O::region},
      {"--timeout", kAllCommands, "seconds one request may take, connecting included", &O::timeout,
       1, 3600},
      // deploy
      {"--name", kDeploy, "endpoint name (the model and config are NAME-<yyyymmddHHMMSS>)",
       &O::name, 0, 0, true},
      {"--model", kDeploy, "model.tar.gz: a local path, file://, or s3://", &O::model, 0, 0, true},
      {"--image", kDeploy, "container image URI, or an alias: xgboost:1.7-1, sklearn:1.2-1",
       &O::image, 0, 0, true},
      {"--account-id", kDeploy, "12-digit account of the execution role ARN", &O::account_id},
      {"--memory", kDeploy, "MemorySizeInMB of the serverless variant", &O::memory, 1024, 6144},
      {"--max-concurrency", kDeploy, "MaxConcurrency of the serverless variant",
       &O::max_concurrency, 1, 200},
      {"--provisioned", kDeploy, "ProvisionedConcurrency (0: none)", &O::provisioned, 0, 200},
      {"--env", kDeploy, "container environment variable K=V (repeatable)", &O::env},
      {"--no-wait", kDeploy, "return once the deployment has started", &O::no_wait},
      {"--wait-timeout", kDeploy, "seconds to wait for InService before giving up",
       &O::wait_timeout, 1, 24 * 3600},
      // invoke
      {"name", kInvoke, "endpoint name", &O::name, 0, 0, true},
      {"--body", kInvoke, "request body (default: read --file, else stdin)", &O::body},
      {"--file", kInvoke, "read the request body from this file", &O::file},
      {"--content-type", kInvoke, "Content-Type of the request (\"\" sends none)",
       &O::content_type},
      {"--accept", kInvoke, "Accept header of the request", &O::accept},
      {"--repeat", kInvoke, "invoke N times on one connection", &O::repeat, 1, 1000000},
      {"--time", kInvoke, "print each invocation's wall time to stderr", &O::time},
      // cost
      {"--endpoint", kCost, "only this endpoint (default: every endpoint with billed use)",
       &O::cost_endpoint},
      {"--since", kCost, "window ending now (or at --end): 30m, 24h, 7d (default 24h)", &O::since},
      {"--start", kCost, "window start: ISO-8601 UTC (2026-11-28T05:00:00Z) or epoch seconds",
       &O::start},
      {"--end", kCost, "window end (exclusive; default now)", &O::end},
      {"--price-gb-second", kCost, "serverless USD per GB-second (us-east-1 list price)",
       &O::price_per_gb_second},
      {"--price-request", kCost, "serverless USD per request (SageMaker charges none)",
       &O::price_per_request},
      {"--price-provisioned-gb-second", kCost,
       "USD per GB-second of provisioned concurrency allocated (approximate us-east-1 list price)",
       &O::price_provisioned_gb_second},
      {"--price-provisioned-inference-gb-second", kCost,
       "USD per GB-second of inference served by provisioned concurrency (approximate us-east-1)",
       &O::price_provisioned_inference_gb_second},
      {"--compare,--instance", kCost,
       "persistent instance to compare with, e.g. ml.m5.large (default: similar memory)",
       &O::instance},
      {"--instance-price", kCost, "its USD per hour (default: the built-in us-east-1 table)",
       &O::instance_price},
      {"--json", kCost, "print JSON instead of a table", &O::json},
      // logs
      {"name", kLogs, "endpoint name", &O::name, 0, 0, true},
      {"--follow", kLogs, "keep printing new events until interrupted", &O::follow},
      {"--since", kLogs,
       "how far back to start: 30s, 10m, 2h, 1d, or an ISO-8601 time (2026-11-28T05:00:00Z)",
       &O::logs_since},
      {"--filter-pattern", kLogs,
       "CloudWatch filter pattern: terms, \"quoted phrases\", -excluded, ?any-of",
       &O::filter_pattern},
  };
  return kTable;
}

}  // namespace thaw::cli
