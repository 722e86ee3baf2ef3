#include "metrics/aggregator.h"

#include <gtest/gtest.h>

#include "metrics/statistics.h"

namespace thaw::metrics {
namespace {

InvocationRecord Rec(WallTime t, Outcome outcome, int64_t model_us, int64_t overhead_us) {
  InvocationRecord r;
  r.endpoint = "ep";
  r.variant = "AllTraffic";
  r.time = t;
  r.outcome = outcome;
  r.model_answered = outcome != Outcome::kThrottled;
  r.model_latency_us = model_us;
  r.overhead_latency_us = overhead_us;
  r.memory_mb = 2048;
  return r;
}

const Aggregate& At(const Deltas& d, MetricId id, Minute m) {
  return d.at(VariantSeries(id, "ep", "AllTraffic").Canonical()).minutes.at(m);
}

TEST(Aggregator, FoldsRecordsIntoMinutesPerMetric) {
  Aggregator agg;
  WallTime t0 = FromEpochSeconds(1'700'000'040);  // minute 28333334, 0 s in
  Minute m0 = MinuteOf(t0);
  agg.Add(Rec(t0, Outcome::kSuccess, 1000, 200));
  agg.Add(Rec(t0 + std::chrono::seconds(59), Outcome::kModelClientError, 3000, 100));
  agg.Add(Rec(t0 + std::chrono::seconds(60), Outcome::kModelServerError, 500, 50));
  agg.Add(Rec(t0, Outcome::kThrottled, 0, 0));  // not an invocation
  InvocationRecord cold = Rec(t0, Outcome::kSuccess, 2000, 400000);
  cold.cold_start = true;
  cold.setup_us = 390000;
  agg.Add(cold);

  Deltas d = agg.TakeDeltas();
  const Aggregate& inv = At(d, MetricId::kInvocations, m0);
  EXPECT_EQ(inv.count(), 3u);
  EXPECT_EQ(inv.sum, 3);
  EXPECT_EQ(At(d, MetricId::kInvocations, m0 + 1).sum, 1);
  EXPECT_EQ(At(d, MetricId::kInvocation4XXErrors, m0).sum, 1);
  EXPECT_EQ(At(d, MetricId::kInvocation4XXErrors, m0).count(), 3u);  // Average = 1/3
  EXPECT_EQ(At(d, MetricId::kInvocation5XXErrors, m0).sum, 0);
  EXPECT_EQ(At(d, MetricId::kInvocation5XXErrors, m0 + 1).sum, 1);
  const Aggregate& lat = At(d, MetricId::kModelLatency, m0);
  EXPECT_EQ(lat.sum, 6000);
  EXPECT_EQ(lat.sketch.min(), 1000);
  EXPECT_EQ(lat.sketch.max(), 3000);
  EXPECT_EQ(At(d, MetricId::kModelSetupTime, m0).count(), 1u);
  EXPECT_EQ(At(d, MetricId::kModelSetupTime, m0).sum, 390000);
  EXPECT_EQ(At(d, MetricId::kOverheadLatency, m0).sum, 400300);
  // No PC on this variant: no PC metrics at all.
  EXPECT_FALSE(d.count(
      VariantSeries(MetricId::kProvisionedConcurrencyInvocations, "ep", "AllTraffic").Canonical()));
  EXPECT_TRUE(agg.TakeDeltas().empty());
}

TEST(Aggregator, ProvisionedInvocationsAndSpillover) {
  Aggregator agg;
  WallTime t = FromEpochSeconds(1'700'000'040);
  InvocationRecord warm = Rec(t, Outcome::kSuccess, 1000, 10);
  warm.has_provisioned = warm.served_by_provisioned = true;
  InvocationRecord spill = warm;
  spill.served_by_provisioned = false;
  agg.Add(warm);
  agg.Add(warm);
  agg.Add(spill);
  Deltas d = agg.TakeDeltas();
  EXPECT_EQ(At(d, MetricId::kProvisionedConcurrencyInvocations, MinuteOf(t)).sum, 2);
  EXPECT_EQ(At(d, MetricId::kProvisionedConcurrencySpilloverInvocations, MinuteOf(t)).sum, 1);
}

TEST(Aggregator, SamplesGiveUtilisationAndMemory) {
  Aggregator agg;
  WallTime t = FromEpochSeconds(1'700'000'040);
  VariantSample s{"ep", "AllTraffic", 3, 4, 2, 2048, {25.0, 75.0}};
  agg.AddSample(s, t, 1.0);
  s.executing = 1;
  s.memory_percent = {};
  agg.AddSample(s, t + std::chrono::seconds(1), 1.0);
  Deltas d = agg.TakeDeltas();
  Minute m = MinuteOf(t);
  const Aggregate& util = At(d, MetricId::kConcurrentExecutionsUtilization, m);
  EXPECT_DOUBLE_EQ(util.sum / util.count(), 0.5);  // (3/4 + 1/4) / 2
  EXPECT_DOUBLE_EQ(util.sketch.max(), 0.75);
  EXPECT_EQ(At(d, MetricId::kProvisionedConcurrencyExecutions, m).sketch.max(), 2);
  EXPECT_DOUBLE_EQ(At(d, MetricId::kProvisionedConcurrencyUtilization, m).sum, 1.5);
  const Aggregate& mem = At(d, MetricId::kMemoryUtilization, m);
  EXPECT_EQ(mem.count(), 2u);
  EXPECT_DOUBLE_EQ(mem.sum, 100);
}

TEST(Aggregator, RestoreMergesBack) {
  Aggregator agg;
  WallTime t = FromEpochSeconds(1'700'000'040);
  agg.Add(Rec(t, Outcome::kSuccess, 1, 1));
  Deltas taken = agg.TakeDeltas();
  agg.Add(Rec(t, Outcome::kSuccess, 1, 1));
  agg.Restore(std::move(taken));
  EXPECT_EQ(At(agg.deltas(), MetricId::kInvocations, MinuteOf(t)).sum, 2);
}

TEST(Aggregate, RoundTripsThroughBytes) {
  Aggregate a;
  for (double v : {1.0, 2.5, 1e6}) a.Add(v);
  auto back = Aggregate::Parse(a.Serialize());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->sum, a.sum);
  EXPECT_EQ(back->sketch, a.sketch);
  EXPECT_FALSE(Aggregate::Parse(a.Serialize() + "x").has_value());
}

TEST(Statistics, ParsesCloudWatchNames) {
  EXPECT_EQ(ParseStatistic("Sum")->kind, Statistic::kSum);
  EXPECT_EQ(ParseStatistic("p99")->percentile, 99);
  EXPECT_EQ(ParseStatistic("p99.9")->percentile, 99.9);
  EXPECT_EQ(ParseStatistic("p100")->percentile, 100);
  for (const char* bad : {"sum", "p", "p101", "p99.999", "p-1", "tm99", "p9x", "p.5", "p5."}) {
    EXPECT_FALSE(ParseStatistic(bad).has_value()) << bad;
  }
  EXPECT_FALSE(ParseSimpleStatistic("p99").has_value());
  EXPECT_FALSE(ParseExtendedStatistic("Sum").has_value());
}

TEST(Statistics, BucketsAlignToStartAndExcludeEnd) {
  // Minutes 100..109 with one sample each (value = minute).
  std::vector<MinutePoint> points;
  for (Minute m = 100; m < 110; ++m) {
    Aggregate a;
    a.Add(static_cast<double>(m));
    points.push_back({m, a});
  }
  // Start 101:30 rounds down to 101:00; end 107:00 is exclusive; period 3 min.
  WallTime start = FromEpochSeconds(101 * 60 + 30), end = FromEpochSeconds(107 * 60);
  auto buckets = BucketBy(points, start, end, 180);
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0].timestamp, FromEpochSeconds(101 * 60));
  EXPECT_EQ(buckets[0].aggregate.sum, 101 + 102 + 103);
  EXPECT_EQ(buckets[1].timestamp, FromEpochSeconds(104 * 60));
  EXPECT_EQ(buckets[1].aggregate.sum, 104 + 105 + 106);
  EXPECT_EQ(DatapointCount(start, end, 180), 2);
  EXPECT_EQ(DatapointCount(start, end + std::chrono::seconds(1), 180), 3);
  EXPECT_EQ(DatapointCount(FromEpochSeconds(0), FromEpochSeconds(86400), 60), 1440);
  EXPECT_EQ(DatapointCount(FromEpochSeconds(0), FromEpochSeconds(86401), 60), 1441);
  EXPECT_EQ(EndMinute(end), 107);
  EXPECT_EQ(EndMinute(end + std::chrono::seconds(1)), 108);
}

}  // namespace
}  // namespace thaw::metrics
