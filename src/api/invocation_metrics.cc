#include "api/invocation_metrics.h"

#include <algorithm>

namespace thaw::api {

metrics::InvocationRecord MakeInvocationRecord(const fleet::VariantSpec& spec,
                                               const fleet::InvokeResult& result, size_t bytes_in,
                                               WallTime started, WallTime now) {
  metrics::InvocationRecord r;
  r.endpoint = spec.endpoint;
  r.variant = spec.variant;
  r.time = now;
  switch (result.failure) {
    case fleet::InvokeFailure::kNone:
      r.outcome = result.status >= 500   ? metrics::Outcome::kModelServerError
                  : result.status >= 400 ? metrics::Outcome::kModelClientError
                                         : metrics::Outcome::kSuccess;
      r.model_answered = true;
      break;
    case fleet::InvokeFailure::kThrottled:
      r.outcome = metrics::Outcome::kThrottled;
      break;
    default:  // timeout, crash, failed start, draining: the 424 "server error (0)" family
      r.outcome = metrics::Outcome::kModelServerError;
  }
  int64_t total_us = (now - started).count();
  if (r.model_answered) {
    r.model_latency_us = result.model_latency_us;
    r.overhead_latency_us = std::max<int64_t>(0, total_us - result.model_latency_us);
  }
  r.cold_start = result.cold_start;
  r.setup_us = result.cold_start ? result.setup_us : 0;
  r.bytes_in = static_cast<int64_t>(bytes_in);
  r.bytes_out = static_cast<int64_t>(result.body.size());
  r.memory_mb = spec.memory_mb;
  r.has_provisioned = spec.pool.provisioned > 0;
  r.served_by_provisioned = r.has_provisioned && !result.cold_start;
  return r;
}

}  // namespace thaw::api
