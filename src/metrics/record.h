#pragma once
// What the invoke path tells the metrics module, once per invocation, and the interface it
// tells it through. The record carries everything CloudWatch's serverless metrics (§3) and the
// cost report (issue 5 part 5: billed duration × memory, provisioned or on demand) need, so
// neither has to look anywhere else.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace thaw::metrics {

enum class Outcome : uint8_t {
  kSuccess,           // the model answered 1xx-3xx
  kModelClientError,  // the model answered 4xx             (Invocation4XXErrors = 1)
  kModelServerError,  // 5xx, timeout, crash, failed start  (Invocation5XXErrors = 1)
  kThrottled,         // over MaxConcurrency: never reached a model, not an Invocation
};

struct InvocationRecord {
  std::string endpoint;
  std::string variant;
  WallTime time;  // when the outcome was known (the minute it counts in)
  Outcome outcome = Outcome::kSuccess;
  bool model_answered = false;      // the latencies below were measured
  int64_t model_latency_us = 0;     // ModelLatency: the round trip to the worker
  int64_t overhead_latency_us = 0;  // OverheadLatency: the rest, cold start included
  bool cold_start = false;          // this request waited for a new worker
  int64_t setup_us = 0;             // ModelSetupTime of that worker (when cold_start)
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  int64_t memory_mb = 0;         // the variant's MemorySizeInMB
  bool has_provisioned = false;  // the variant has ProvisionedConcurrency
  bool served_by_provisioned = false;
  // A pre-warm start (issue 8), not an invocation: only its setup_us counts, as ModelSetupTime.
  bool setup_only = false;

  // Billed duration: ModelLatency rounded up to the next millisecond (AWS meters 1 ms steps).
  int64_t BilledMillis() const { return (model_latency_us + 999) / 1000; }
};

// Called by the invoke path once per invocation, on an I/O thread, after the outcome is known.
// Implementations must be thread-safe, must not block on I/O and should cost well under 1 µs.
class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void Record(const InvocationRecord& record) = 0;
};

// One variant's state at a sampling instant, for the sampled metrics (utilisation, memory).
struct VariantSample {
  std::string endpoint;
  std::string variant;
  int executing = 0;  // requests running on workers now
  int max_concurrency = 0;
  int provisioned = 0;  // ProvisionedConcurrency (0: none)
  int64_t memory_mb = 0;
  std::vector<double> memory_percent;  // one per live worker: cgroup usage ÷ limit × 100
};

// Reads the fleet; wired by the server. Called on the metrics thread about once a second.
using SampleSource = std::function<std::vector<VariantSample>()>;

}  // namespace thaw::metrics
