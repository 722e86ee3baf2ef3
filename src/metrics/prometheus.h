#pragma once
// The Prometheus side of the invocation records: per (endpoint, variant) counters and
// histograms, folded on the metrics thread from the same drained records the CloudWatch
// aggregates come from, so the invoke path pays nothing more for them (it still only copies a
// record into BufferedRecorder). Rendered in the text exposition format 0.0.4 by
// MetricsService::PrometheusText, which drains first: a scrape sees every invocation answered
// before it.
//
// Names follow Prometheus conventions (base units seconds and bytes, `_total` on counters) and
// pass `promtool check metrics`:
//   thaw_invocations_total                 Invocations (throttled requests excluded, as §3)
//   thaw_invocation_errors_total{class}    4xx / 5xx model errors
//   thaw_invocation_throttles_total        ThrottlingException answers
//   thaw_model_latency_seconds             histogram of ModelLatency
//   thaw_overhead_latency_seconds          histogram of OverheadLatency (cold start included)
//   thaw_model_setup_seconds               histogram of ModelSetupTime: one sample per cold start
//   thaw_billed_duration_seconds_total{capacity}      Σ billed duration (1 ms steps)
//   thaw_billed_memory_byte_seconds_total{capacity}   Σ billed duration × MemorySizeInMB × 2^20:
//                                                     GB-seconds = this / 2^30
//   thaw_provisioned_concurrency_seconds_total        Σ allocated PC × seconds (sampled)
// every series labelled endpoint and variant. Not thread-safe: the owner serialises.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "metrics/record.h"

namespace thaw::metrics {

// Histogram upper bounds, in microseconds (exact integer compares) and as rendered in `le`.
// From 100 µs (a warm overhead) to 60 s (the invocation timeout); cold starts land in the middle.
inline constexpr std::array<int64_t, 18> kPromBucketsUs = {
    100,    250,    500,    1000,    2500,    5000,    10000,    25000,    50000,
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000};

class PrometheusRegistry {
 public:
  struct Histogram {
    std::array<uint64_t, kPromBucketsUs.size() + 1> buckets{};  // non-cumulative; last: +Inf
    int64_t sum_us = 0;
    uint64_t count = 0;
    void Observe(int64_t us);
  };
  struct Variant {
    uint64_t invocations = 0;
    uint64_t errors_4xx = 0;
    uint64_t errors_5xx = 0;
    uint64_t throttles = 0;
    Histogram model_latency;
    Histogram overhead_latency;
    Histogram setup;
    std::array<int64_t, 2> billed_ms{};     // [0] on demand, [1] provisioned
    std::array<int64_t, 2> billed_ms_mb{};  // Σ billed ms × MemorySizeInMB (exact)
    double provisioned_seconds = 0;         // Σ allocated PC × seconds
  };

  void Add(const InvocationRecord& record);
  void AddSample(const VariantSample& sample, double interval_s);
  // Appends every family (HELP, TYPE, samples) to `out`.
  void AppendText(std::string& out) const;

  const std::map<std::pair<std::string, std::string>, Variant>& variants() const {
    return variants_;
  }

 private:
  std::map<std::pair<std::string, std::string>, Variant> variants_;  // (endpoint, variant)
};

// A label value escaped for the text format (backslash, double quote, newline).
std::string PromEscape(std::string_view value);

}  // namespace thaw::metrics
