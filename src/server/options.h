#pragma once
// Every `thaw serve` option in one declarative table (name, default, bounds, help), from which the
// command line, --help and validation all come. Only src/server/ reads options.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace thaw::server {

// Defaults computed from the machine: one I/O shard per core, and 75 % of physical RAM for the
// workers' MemorySizeInMB sum.
int64_t DefaultIoThreads();
int64_t DefaultMemoryBudgetMb();

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./thaw-data";
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  std::string log_level = "info";
  std::string port_file;
  int64_t io_threads = DefaultIoThreads();
  int64_t blocking_threads = 2;
  int64_t deploy_threads = 2;
  int64_t max_endpoints = 50;
  int64_t max_total_concurrency = 1000;
  int64_t max_model_bytes = int64_t{10} << 30;
  int64_t max_request_bytes = int64_t{6} << 20;
  int64_t keep_alive = 300;                    // seconds an idle worker stays warm
  std::string keep_alive_policy = "adaptive";  // "adaptive" | "fixed" (--keep-alive)
  int64_t keep_alive_bin_ms = 60000;           // adaptive histogram bin (tests shorten it)
  int64_t standard_keep_alive = -1;      // adaptive, no known pattern: -1 --keep-alive, 0 the range
  int64_t invocation_timeout = 60;       // seconds a worker may take to answer /invocations
  int64_t startup_timeout = 180;         // seconds a new worker may take to pass /ping
  int64_t stop_grace = 30;               // seconds a retiring worker has between stop and SIGKILL
  std::string sandbox = "on";            // "on" | "unsafe-off"
  std::string sklearn_templates = "on";  // "on" | "off": the scikit-learn template tier
  std::string auth = "sigv4";            // "sigv4" | "none"
  std::string open_endpoints =
      "loopback";  // "loopback" | "any" | "none": unsigned GET /ping, /metrics
  int64_t memory_budget_mb = DefaultMemoryBudgetMb();
  std::string metrics = "on";           // "on" | "off" (no recording, no CloudWatch API)
  int64_t metrics_retention_days = 15;  // CloudWatch keeps 1-minute data 15 days
  int64_t metrics_flush_seconds = 5;    // how often aggregates are written to SQLite
  std::string s3_endpoint;              // remote S3-compatible store for s3:// URLs ("" = embedded)
  std::string s3_profile;  // AWS profile for its credentials ("" = AWS_PROFILE/default)
  // The door's limits (api::HttpServerOptions has the same defaults and says what each does).
  int64_t max_connections = 10000;
  int64_t max_connections_per_client = 1000;
  int64_t max_header_count = 100;
  int64_t max_url_bytes = 8192;
  int64_t header_timeout_ms = 30000;
  int64_t idle_timeout_ms = 75000;
  std::string console_dir;          // the built web console; empty: "console" beside the binary
  int64_t log_rotate_mb = 8;        // a log stream's segment size before the next one
  int64_t log_max_mb = 256;         // per endpoint: oldest log segments deleted beyond
  int64_t log_retention_days = 30;  // log events older than this are deleted
};

struct OptionSpec {
  const char* name;  // without the leading "--"
  const char* help;
  std::variant<std::string ServeOptions::*, int64_t ServeOptions::*> field;
  int64_t min = 0;  // integer bounds (inclusive)
  int64_t max = 0;
};

const std::vector<OptionSpec>& ServeOptionTable();

}  // namespace thaw::server
