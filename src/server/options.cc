#include "server/options.h"

#include <unistd.h>

#include <algorithm>
#include <thread>

namespace thaw::server {

int64_t DefaultIoThreads() {
  return std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, 64);
}

int64_t DefaultMemoryBudgetMb() {
  long pages = ::sysconf(_SC_PHYS_PAGES);
  long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return 1024;
  int64_t mb = static_cast<int64_t>(pages) * page_size / (int64_t{1} << 20);
  return std::max<int64_t>(1, mb * 3 / 4);
}

const std::vector<OptionSpec>& ServeOptionTable() {
  using O = ServeOptions;
  static const std::vector<OptionSpec> kTable = {
      {"listen", "HOST:PORT to serve every API on (port 0 picks a free one)", &O::listen},
      {"data-dir", "directory for the database, the model cache and the local S3 root",
       &O::data_dir},
      {"region", "AWS region the server answers as (ARNs, messages)", &O::region},
      {"account-id", "12-digit AWS account id the server answers as", &O::account_id},
      {"log-level", "trace, debug, info, warn, error or off", &O::log_level},
      {"port-file", "write the bound port to this file once ready", &O::port_file},
      {"io-threads",
       "I/O shards: threads serving HTTP, each with its own event loop (default: one per core)",
       &O::io_threads, 1, 64},
      {"blocking-threads", "threads for control-plane work (SQLite writes)", &O::blocking_threads,
       1, 64},
      {"deploy-threads", "threads running deploy jobs (fetch, verify, extract)", &O::deploy_threads,
       1, 64},
      {"max-endpoints", "endpoints this server accepts (ResourceLimitExceeded beyond)",
       &O::max_endpoints, 1, 100000},
      {"max-total-concurrency", "sum of MaxConcurrency over all serverless endpoints",
       &O::max_total_concurrency, 1, 1000000},
      {"max-model-bytes", "largest extracted size of a model archive, in bytes",
       &O::max_model_bytes, 1, int64_t{1} << 50},
      {"max-request-bytes",
       "largest request body, in bytes (InvokeEndpoint answers \"oversize body\" beyond)",
       &O::max_request_bytes, 1024, int64_t{1} << 32},
      {"keep-alive", "seconds an idle worker stays warm before it retires", &O::keep_alive, 0,
       int64_t{7} * 24 * 3600},
      {"keep-alive-policy",
       "\"adaptive\": per endpoint, learn idle times (1-minute bins over 4 h), pre-warm before "
       "the predicted next request and retire after it (ATC'20 hybrid histogram; while too "
       "little is known, the most recently used worker stays --standard-keep-alive, the others "
       "--keep-alive); "
       "\"fixed\": --keep-alive for every endpoint. An "
       "EndpointConfig tag thaw:keep-alive (seconds or \"adaptive\") pins one endpoint",
       &O::keep_alive_policy},
      {"keep-alive-bin-ms",
       "test configuration: the adaptive policy's histogram bin width in ms (production: 60000)",
       &O::keep_alive_bin_ms, 10, 3600000},
      {"standard-keep-alive",
       "adaptive policy: seconds the most recently used worker of an endpoint whose idle times "
       "are not yet known (or show no pattern) stays warm; -1 (default): --keep-alive, so an "
       "endpoint nobody has learned yet scales to zero as with the fixed policy; 0: the "
       "histogram's range (4 h, the ATC'20 paper's standard keep-alive, which the simulator's "
       "results in bench/RESULTS.md use)",
       &O::standard_keep_alive, -1, 86400},
      {"invocation-timeout", "seconds a worker may take to answer an invocation",
       &O::invocation_timeout, 1, 3600},
      {"startup-timeout", "seconds a new worker may take to pass its first /ping",
       &O::startup_timeout, 1, 3600},
      {"stop-grace",
       "seconds a retiring worker (keep-alive, drain, a deploy's trial worker) has to exit after "
       "its stop request (a custom container's program gets SIGTERM) before it is SIGKILLed; 0 "
       "kills at once",
       &O::stop_grace, 0, 3600},
      {"sandbox",
       "\"on\" (cgroups, namespaces, unprivileged uid) or \"unsafe-off\" for development on "
       "hosts where the sandbox cannot be set up",
       &O::sandbox},
      {"sklearn-templates",
       "\"on\": after a scikit-learn endpoint's first start, keep a template process holding "
       "its loaded model, from which later cold starts fork; \"off\": every cold start from "
       "the generic zygote",
       &O::sklearn_templates},
      {"auth",
       "\"sigv4\": every API request must be signed with a key from <data-dir>/credentials "
       "(created with a random key pair on first start); \"none\" turns authentication off",
       &O::auth},
      {"open-endpoints",
       "who may GET /ping and /metrics without a SigV4 signature: \"loopback\" (clients on "
       "127.0.0.0/8 and ::1), \"any\" or \"none\"; the others must sign like any API call "
       "(with --auth none everything is open)",
       &O::open_endpoints},
      {"memory-budget-mb",
       "node memory budget: the MemorySizeInMB sum of all live workers never exceeds it; a cold "
       "start that does not fit evicts other endpoints' idle workers (LRU first), else 503 "
       "ServiceUnavailable (default: 75% of physical RAM)",
       &O::memory_budget_mb, 128, int64_t{1} << 40},
      {"metrics",
       "\"on\" records every invocation and serves the CloudWatch API; \"off\" does neither",
       &O::metrics},
      {"metrics-retention-days", "days of per-minute metrics kept in the database",
       &O::metrics_retention_days, 1, 455},
      {"metrics-flush-seconds", "seconds between writes of metric aggregates to the database",
       &O::metrics_flush_seconds, 1, 3600},
      {"s3-endpoint",
       "fetch s3:// model data and SAGEMAKER_SUBMIT_DIRECTORY code from this S3-compatible store "
       "(http://host:port, path-style, SigV4 with the AWS credentials of the environment or "
       "~/.aws/credentials; region from AWS_REGION or ~/.aws/config); default: the embedded store "
       "under <data-dir>/s3",
       &O::s3_endpoint},
      {"s3-profile",
       "the AWS profile whose credentials --s3-endpoint uses (default: AWS_PROFILE, else "
       "\"default\"; AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY take precedence)",
       &O::s3_profile},
      {"max-connections", "open client connections; beyond, 503 and close", &O::max_connections, 1,
       1000000},
      {"max-connections-per-client",
       "open connections from one client address; beyond, 503 and close",
       &O::max_connections_per_client, 1, 1000000},
      {"max-header-count", "header fields in one request; beyond, 431 and close",
       &O::max_header_count, 1, 10000},
      {"max-url-bytes", "bytes of a request's URL; beyond, 414 and close", &O::max_url_bytes, 16,
       1 << 20},
      {"header-timeout-ms",
       "milliseconds a client may take to send a request's header, and then its body (slowloris)",
       &O::header_timeout_ms, 1, 3600000},
      {"idle-timeout-ms", "milliseconds an idle keep-alive connection stays open",
       &O::idle_timeout_ms, 1, 3600000},
      {"console-dir",
       "directory of the built web console, served at /console/ (default: \"console\" beside the "
       "thaw binary, where the build puts it); \"off\" does not serve it",
       &O::console_dir},
      {"log-rotate-mb",
       "size of one segment of a worker's log stream (<data-dir>/logs) before the next begins",
       &O::log_rotate_mb, 1, 1024},
      {"log-max-mb",
       "per endpoint: the oldest log segments are deleted when its streams hold more than this",
       &O::log_max_mb, 1, int64_t{1} << 20},
      {"log-retention-days", "days of endpoint log events kept (CloudWatch's retention setting)",
       &O::log_retention_days, 1, 3653},
  };
  return kTable;
}

}  // namespace thaw::server
