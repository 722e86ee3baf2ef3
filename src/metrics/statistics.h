#pragma once
// CloudWatch's statistics over aggregates, and its time bucketing, as pure functions.
//
// Bucketing: StartTime is rounded down to the minute (CloudWatch does so for 1-minute data);
// datapoint k covers [start + k·Period, start + (k+1)·Period) ∩ [start, EndTime) — StartTime
// inclusive, EndTime exclusive — and is stamped with its first instant. A bucket without data
// yields no datapoint.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/aggregator.h"
#include "metrics/metrics_service.h"

namespace thaw::metrics {

struct Statistic {
  enum Kind { kSampleCount, kAverage, kSum, kMinimum, kMaximum, kPercentile } kind;
  double percentile = 0;  // kPercentile: 0..100
  std::string name;       // as requested ("Sum", "p99", "p99.9")
};

// "SampleCount" | "Average" | "Sum" | "Minimum" | "Maximum" | "pNN[.NN…]" (0 ≤ NN ≤ 100).
std::optional<Statistic> ParseStatistic(std::string_view text);
// Only the five simple ones (GetMetricStatistics' Statistics member).
std::optional<Statistic> ParseSimpleStatistic(std::string_view text);
// Only pNN (GetMetricStatistics' ExtendedStatistics member).
std::optional<Statistic> ParseExtendedStatistic(std::string_view text);

double Evaluate(const Statistic& stat, const Aggregate& aggregate);

struct Bucket {
  WallTime timestamp;
  Aggregate aggregate;
};

WallTime AlignStart(WallTime start);
// How many datapoints [start, end) holds at `period_s` (the 1,440 limit counts these).
int64_t DatapointCount(WallTime start, WallTime end, int64_t period_s);
// The minute range to fetch for [start, end).
Minute FirstMinute(WallTime start);
Minute EndMinute(WallTime end);
// Folds minute points into period buckets, oldest first; empty buckets are skipped.
std::vector<Bucket> BucketBy(const std::vector<MinutePoint>& points, WallTime start, WallTime end,
                             int64_t period_s);

}  // namespace thaw::metrics
