#pragma once
// CloudWatch's GetMetricStatistics, GetMetricData and ListMetrics over thaw's aggregates, on the
// protocol-neutral tree of cloudwatch_codec.h: validation with CloudWatch's error codes and
// texts, exact dimension-set matching, [StartTime, EndTime), Period buckets, the 1,440-datapoint
// limit, Unit filtering, pagination. Blocking (reads SQLite): run on the blocking pool.

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"
#include "metrics/metrics_service.h"

namespace thaw::api {

// kUnknownOperation for an operation thaw does not serve.
Result<nlohmann::json> RunCloudWatchOp(std::string_view op, const nlohmann::json& input,
                                       metrics::MetricsService& metrics, WallTime now);

}  // namespace thaw::api
