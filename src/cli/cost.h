#pragma once
// `thaw cost`: what each endpoint's serving cost over a window, from the server's own billing
// series (namespace thaw/Billing, read through the public CloudWatch API, awsJson1_0, signed for
// `monitoring`), priced as SageMaker Serverless Inference prices it, and compared with a
// persistent real-time instance of similar memory running for the same window.
//
// The billing rule (sagemaker-api.md §3; the seed's "Cost Comparison"): each invocation is billed
// for its duration rounded up to the next 1 ms (the server records that rounded value,
// InvocationRecord::BilledMillis), times the variant's memory in GB (MemorySizeInMB / 1024), at a
// price per GB-second. So GB-s = Σ billed ms / 1000 × MemorySizeInMB / 1024, exactly.
// Invocations served by provisioned concurrency (Capacity=Provisioned) are priced at the lower
// provisioned inference price instead; and provisioned concurrency itself is billed per second
// allocated, whether used or not: thaw/Billing ProvisionedConcurrencySeconds (Σ allocated PC ×
// seconds, sampled by the server) × MemorySizeInMB / 1024 × the provisioned price per GB-second.
//
// Everything below but RunCost is pure, for the unit tests.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/console.h"
#include "cli/http_client.h"
#include "cli/options.h"
#include "cli/prices_table.h"
#include "common/clock.h"
#include "common/status.h"

namespace thaw::cli {

// The prices come from src/cli/prices.json, the one table `thaw cost` and the web console share
// (compiled in at build time as cli/prices_table.h). Serverless Inference compute, on demand:
// the us-east-1 list price, $0.0000200 per second per GB; no per-request fee. Provisioned
// concurrency (allocated, and inference on it): APPROXIMATE figures from memory of AWS's
// pricing page, not checked against it in this code base; override with
// --price-provisioned-gb-second / --price-provisioned-inference-gb-second.
inline constexpr double kDefaultPricePerGbSecond = prices::kPerGbSecond;
inline constexpr double kDefaultPricePerRequest = prices::kPerRequest;
inline constexpr double kDefaultPriceProvisionedPerGbSecond = prices::kProvisionedPerGbSecond;
inline constexpr double kDefaultPriceProvisionedInferencePerGbSecond =
    prices::kProvisionedInferencePerGbSecond;

struct InstancePrice {
  const char* type;
  int64_t memory_mb;
  double usd_per_hour;  // real-time inference, us-east-1, on demand
};
// Small general-purpose instances a low-traffic endpoint would otherwise run on.
const std::vector<InstancePrice>& InstancePrices();
// The smallest instance of the table with at least `memory_mb`; the largest when none has.
const InstancePrice& SimilarInstance(int64_t memory_mb);
const InstancePrice* FindInstance(std::string_view type);

// One billing series as the server keeps it: thaw/Billing BilledDuration with dimensions
// EndpointName, VariantName, MemorySizeInMB, Capacity.
struct BilledSeries {
  std::string endpoint;
  std::string variant;
  int64_t memory_mb = 0;
  std::string capacity;  // OnDemand | Provisioned
  double billed_ms = 0;  // Sum over the window
  double requests = 0;   // SampleCount over the window
};

// Provisioned concurrency allocated, as the server keeps it: thaw/Billing
// ProvisionedConcurrencySeconds with dimensions EndpointName, VariantName, MemorySizeInMB.
struct ProvisionedSeries {
  std::string endpoint;
  std::string variant;
  int64_t memory_mb = 0;
  double seconds = 0;  // Sum over the window: allocated PC × seconds
};

struct Prices {
  double per_gb_second = kDefaultPricePerGbSecond;
  double per_request = kDefaultPricePerRequest;
  double per_provisioned_gb_second = kDefaultPriceProvisionedPerGbSecond;
  double per_provisioned_inference_gb_second = kDefaultPriceProvisionedInferencePerGbSecond;
  std::string instance_type;                // "" = similar memory (SimilarInstance)
  std::optional<double> instance_per_hour;  // overrides the table's price
};

struct CostRow {
  std::string endpoint;
  std::string variant;
  int64_t memory_mb = 0;
  double requests = 0;
  double billed_seconds = 0;
  double gb_seconds = 0;              // all invocations, on demand and provisioned
  double provisioned_gb_seconds = 0;  // the part of gb_seconds served by provisioned capacity
  double inference_usd = 0;           // the invocations (and per-request fees)
  double provisioned_seconds = 0;     // provisioned concurrency allocated × seconds
  double provisioned_allocated_gb_seconds = 0;  // × MemorySizeInMB / 1024
  double provisioned_usd = 0;                   // that allocation priced
  double serverless_usd = 0;                    // inference_usd + provisioned_usd
  double monthly_usd = 0;  // serverless_usd projected to 30 days at the observed rate
  std::string instance_type;
  double instance_per_hour = 0;
  double instance_usd = 0;  // that instance running for the whole window
  double savings_usd = 0;   // instance_usd - serverless_usd
  // Requests per hour at which serverless costs what the instance costs, at this window's
  // average inference cost per request on top of its provisioned concurrency's hourly cost;
  // nullopt without requests, or when provisioned concurrency alone costs the instance's price.
  std::optional<double> break_even_per_hour;
};

struct CostReport {
  WallTime start;
  WallTime end;
  std::vector<CostRow> rows;  // by endpoint, variant
  CostRow total;              // endpoint "TOTAL"; instance figures summed
};

// GB-seconds of `billed_ms` at `memory_mb` (GB = 1024 MB, as SageMaker sizes memory).
double GbSeconds(double billed_ms, int64_t memory_mb);
// The requests per hour at which `instance_per_hour` equals `cost_per_request` × rate.
std::optional<double> BreakEvenPerHour(double instance_per_hour, double cost_per_request);

// Folds billing series (one per memory size and capacity) and provisioned concurrency series
// into one row per (endpoint, variant) and a total, priced. A variant that changed memory size
// in the window is shown at its largest. Fails when `prices.instance_type` names no known
// instance and no price is given.
Result<CostReport> ComputeCost(const std::vector<BilledSeries>& series, const Prices& prices,
                               WallTime start, WallTime end,
                               const std::vector<ProvisionedSeries>& provisioned = {});

// "2h", "30m", "7d", "90s", "1w" → a duration; errors name the bad value.
Result<std::chrono::seconds> ParseDuration(std::string_view text);
// A --start/--end value: ISO-8601 UTC ("2026-11-28T05:00:00Z") or epoch seconds.
Result<WallTime> ParseTimeArg(std::string_view text);
// The window [start, end) from --since / --start / --end at `now` (default: the last 24 h).
Result<std::pair<WallTime, WallTime>> CostWindow(const ClientOptions& options, WallTime now);
// A GetMetricStatistics Period (multiple of 60) covering [start, end) in ≤ 1,440 datapoints.
int64_t PeriodFor(WallTime start, WallTime end);

std::string FormatCostTable(const CostReport& report);
std::string FormatCostJson(const CostReport& report);

// Lists the thaw/Billing BilledDuration and ProvisionedConcurrencySeconds series (ListMetrics,
// all pages; --endpoint filters), sums each over the window (GetMetricStatistics Sum + SampleCount)
// and prints the report. `http` must be signed for the `monitoring` service when the server wants
// SigV4.
int RunCost(const ClientOptions& options, HttpClient& http, Console& console, WallTime now);

}  // namespace thaw::cli
