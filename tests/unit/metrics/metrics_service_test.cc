#include "metrics/metrics_service.h"

#include <gtest/gtest.h>

#include <thread>

#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"

namespace thaw::metrics {
namespace {

using testing::FakeClock;
using testing::TempDir;

InvocationRecord Rec(WallTime t, int64_t model_us) {
  InvocationRecord r;
  r.endpoint = "ep";
  r.variant = "AllTraffic";
  r.time = t;
  r.model_answered = true;
  r.model_latency_us = model_us;
  r.memory_mb = 1024;
  return r;
}

double SumOf(MetricsService& m, MetricId id, Minute from, Minute to) {
  auto points = m.Fetch(VariantSeries(id, "ep", "AllTraffic"), from, to);
  EXPECT_TRUE(points.ok()) << points.status().ToString();
  double sum = 0;
  for (const auto& p : *points) sum += p.aggregate.sum;
  return sum;
}

struct Fixture {
  TempDir dir;
  FakeClock clock{FromEpochSeconds(1'700'000'000)};
  std::unique_ptr<store::Store> store = std::move(*store::Store::Open(dir.path() / "t.db"));
};

TEST(MetricsService, ReadsSeeRecordsBeforeAnyFlush) {
  Fixture f;
  MetricsService m(*f.store, f.clock, {}, nullptr);
  Minute now = MinuteOf(f.clock.Now());
  for (int i = 0; i < 7; ++i) m.Record(Rec(f.clock.Now(), 100));
  EXPECT_EQ(SumOf(m, MetricId::kInvocations, now, now + 1), 7);
}

TEST(MetricsService, FlushedAggregatesSurviveARestartAndLateRecordsMerge) {
  Fixture f;
  Minute now = MinuteOf(f.clock.Now());
  {
    MetricsService m(*f.store, f.clock, {}, nullptr);
    for (int i = 0; i < 5; ++i) m.Record(Rec(f.clock.Now(), 1000 * (i + 1)));
    ASSERT_TRUE(m.Flush(f.clock.Now()).ok());
    // A record for the same minute after the flush merges into the stored row.
    m.Record(Rec(f.clock.Now(), 6000));
    m.Stop();  // final flush
  }
  MetricsService again(*f.store, f.clock, {}, nullptr);
  EXPECT_EQ(SumOf(again, MetricId::kInvocations, now, now + 1), 6);
  auto points =
      again.Fetch(VariantSeries(MetricId::kModelLatency, "ep", "AllTraffic"), now, now + 1);
  ASSERT_TRUE(points.ok());
  ASSERT_EQ(points->size(), 1u);
  EXPECT_EQ((*points)[0].aggregate.sum, 21000);
  EXPECT_EQ((*points)[0].aggregate.sketch.max(), 6000);
  auto series = again.ListSeries();
  ASSERT_TRUE(series.ok());
  bool found = false;
  for (const auto& s : *series) found |= s.key.metric == "ModelLatency" && s.unit == "Microseconds";
  EXPECT_TRUE(found);
}

TEST(MetricsService, TickSamplesFlushesAndAppliesRetention) {
  Fixture f;
  int calls = 0;
  MetricsOptions opts;
  opts.retention_days = 1;
  MetricsService m(*f.store, f.clock, opts, [&calls] {
    ++calls;
    return std::vector<VariantSample>{{"ep", "AllTraffic", 1, 2, 0, 1024, {50.0}}};
  });
  Minute old = MinuteOf(f.clock.Now());
  m.Record(Rec(f.clock.Now(), 10));
  m.Tick(f.clock.Now());
  EXPECT_EQ(calls, 1);
  f.clock.Advance(std::chrono::milliseconds(500));
  m.Tick(f.clock.Now());  // within the sample interval: no new sample
  EXPECT_EQ(calls, 1);
  auto util = m.Fetch(VariantSeries(MetricId::kConcurrentExecutionsUtilization, "ep", "AllTraffic"),
                      old, old + 1);
  ASSERT_TRUE(util.ok());
  ASSERT_EQ(util->size(), 1u);
  EXPECT_DOUBLE_EQ((*util)[0].aggregate.sum, 0.5);

  // Two days later the old minute is pruned from the database.
  f.clock.Advance(std::chrono::hours(48));
  m.Tick(f.clock.Now());
  EXPECT_EQ(SumOf(m, MetricId::kInvocations, old, old + 1), 0);
  auto series = m.ListSeries();
  ASSERT_TRUE(series.ok());
  for (const auto& s : *series) EXPECT_NE(s.key.metric, "Invocations");
}

TEST(MetricsService, ConcurrentRecordersLoseNothing) {
  Fixture f;
  MetricsService m(*f.store, f.clock, {}, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) m.Record(Rec(f.clock.Now(), 100));
    });
  }
  // Drains race with the recorders.
  Minute now = MinuteOf(f.clock.Now());
  for (int i = 0; i < 20; ++i) (void)m.Flush(f.clock.Now());
  for (auto& t : threads) t.join();
  EXPECT_EQ(SumOf(m, MetricId::kInvocations, now, now + 1), 20000);
  EXPECT_EQ(m.dropped_records(), 0u);
}

TEST(BufferedRecorder, DropsPastItsCapacityAndCounts) {
  BufferedRecorder r(3);
  for (int i = 0; i < 5; ++i) r.Record(Rec(FromEpochSeconds(0), 1));
  EXPECT_EQ(r.Drain().size(), 3u);
  EXPECT_EQ(r.dropped(), 2u);
  EXPECT_TRUE(r.Drain().empty());
}

}  // namespace
}  // namespace thaw::metrics
