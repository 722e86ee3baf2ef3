#include "metrics/statistics.h"

#include <charconv>
#include <cmath>
#include <map>

namespace thaw::metrics {

std::optional<Statistic> ParseSimpleStatistic(std::string_view text) {
  static const std::pair<std::string_view, Statistic::Kind> kSimple[] = {
      {"SampleCount", Statistic::kSampleCount},
      {"Average", Statistic::kAverage},
      {"Sum", Statistic::kSum},
      {"Minimum", Statistic::kMinimum},
      {"Maximum", Statistic::kMaximum},
  };
  for (const auto& [name, kind] : kSimple) {
    if (text == name) return Statistic{kind, 0, std::string(text)};
  }
  return std::nullopt;
}

std::optional<Statistic> ParseExtendedStatistic(std::string_view text) {
  if (text.size() < 2 || text[0] != 'p') return std::nullopt;
  std::string_view number = text.substr(1);
  // Digits with at most one '.', and at most two digits after it (CloudWatch's pNN.NN).
  size_t dot = number.find('.');
  if (dot != std::string_view::npos &&
      (dot == 0 || dot + 1 == number.size() || number.size() - dot - 1 > 2)) {
    return std::nullopt;
  }
  for (size_t i = 0; i < number.size(); ++i) {
    if (i != dot && (number[i] < '0' || number[i] > '9')) return std::nullopt;
  }
  double p = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), p);
  if (ec != std::errc() || ptr != number.data() + number.size() || p < 0 || p > 100) {
    return std::nullopt;
  }
  return Statistic{Statistic::kPercentile, p, std::string(text)};
}

std::optional<Statistic> ParseStatistic(std::string_view text) {
  if (auto s = ParseSimpleStatistic(text)) return s;
  return ParseExtendedStatistic(text);
}

double Evaluate(const Statistic& stat, const Aggregate& a) {
  switch (stat.kind) {
    case Statistic::kSampleCount:
      return static_cast<double>(a.count());
    case Statistic::kAverage:
      return a.count() ? a.sum / static_cast<double>(a.count()) : 0;
    case Statistic::kSum:
      return a.sum;
    case Statistic::kMinimum:
      return a.sketch.min();
    case Statistic::kMaximum:
      return a.sketch.max();
    case Statistic::kPercentile:
      return a.sketch.Quantile(stat.percentile / 100).value_or(0);
  }
  return 0;
}

WallTime AlignStart(WallTime start) { return FromEpochMicros(MinuteOf(start) * 60'000'000); }

int64_t DatapointCount(WallTime start, WallTime end, int64_t period_s) {
  int64_t span = ToEpochMicros(end) - ToEpochMicros(AlignStart(start));
  if (span <= 0 || period_s <= 0) return 0;
  int64_t period_us = period_s * 1'000'000;
  return (span + period_us - 1) / period_us;
}

Minute FirstMinute(WallTime start) { return MinuteOf(start); }

Minute EndMinute(WallTime end) {
  // Minute m counts when its first instant m·60 s is before `end`.
  int64_t us = ToEpochMicros(end);
  Minute m = MinuteOf(end);
  return m * 60'000'000 == us ? m : m + 1;
}

std::vector<Bucket> BucketBy(const std::vector<MinutePoint>& points, WallTime start, WallTime end,
                             int64_t period_s) {
  int64_t start_us = ToEpochMicros(AlignStart(start));
  int64_t end_us = ToEpochMicros(end);
  int64_t period_us = period_s * 1'000'000;
  std::map<int64_t, Aggregate> buckets;
  for (const MinutePoint& p : points) {
    int64_t t = p.minute * 60'000'000;
    if (t < start_us || t >= end_us || p.aggregate.count() == 0) continue;
    buckets[(t - start_us) / period_us].Merge(p.aggregate);
  }
  std::vector<Bucket> out;
  out.reserve(buckets.size());
  for (auto& [k, agg] : buckets) {
    out.push_back({FromEpochMicros(start_us + k * period_us), std::move(agg)});
  }
  return out;
}

}  // namespace thaw::metrics
