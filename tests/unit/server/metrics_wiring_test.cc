#include "server/metrics_wiring.h"

#include <gtest/gtest.h>

#include <map>

namespace thaw::server {
namespace {

using std::chrono::seconds;

std::map<std::string, double> ByName(const std::vector<metrics::GaugeValue>& values) {
  std::map<std::string, double> out;
  for (const metrics::GaugeValue& g : values) {
    std::string name = g.key.metric;
    for (const auto& [dn, dv] : g.key.dims) {
      if (dn != "EndpointName" && dn != "VariantName") name += "/" + dn + "=" + dv;
    }
    EXPECT_EQ(g.key.ns, "thaw/KeepAlive");
    out[name] = g.value;
  }
  return out;
}

TEST(KeepAliveGauges, AnIdleAdaptiveEndpointShowsItsWindowTimesAndHistogram) {
  fleet::KeepAliveReport r;
  r.policy = "adaptive";
  r.memory_mb = 2048;
  r.window = {seconds(120), seconds(900), seconds(600)};
  r.bin = seconds(60);
  r.idle_counts = {0, 0, 3, 0, 7};
  r.idle_out_of_range = 2;
  r.idle_since = FromEpochSeconds(1'700'000'000);
  r.stats.requests = 12;
  r.stats.cold_starts = 4;
  r.stats.prewarms = 3;
  r.stats.prewarm_hits = 2;
  r.stats.prewarm_wasted = 1;
  r.stats.idle_worker_us = 30'000'000;
  auto v = ByName(KeepAliveGaugeValues("ep", "AllTraffic", r));
  EXPECT_EQ(v["Policy/Policy=adaptive"], 1);
  EXPECT_EQ(v["KeepAliveSeconds"], 900);
  EXPECT_EQ(v["PrewarmAfterSeconds"], 120);
  EXPECT_EQ(v["PrewarmAt"], 1'700'000'120);
  EXPECT_EQ(v["RetireAt"], 1'700'000'900);
  EXPECT_EQ(v["IdleTimes/Bin=2"], 3);
  EXPECT_EQ(v["IdleTimes/Bin=4"], 7);
  EXPECT_EQ(v.count("IdleTimes/Bin=0"), 0u);  // empty bins are not series
  EXPECT_EQ(v["IdleTimesOutOfRange"], 2);
  EXPECT_EQ(v["IdleTimeBinSeconds"], 60);
  EXPECT_EQ(v["Requests"], 12);
  EXPECT_EQ(v["ColdStarts"], 4);
  EXPECT_EQ(v["Prewarms"], 3);
  EXPECT_EQ(v["PrewarmHits"], 2);
  EXPECT_EQ(v["WastedPrewarms"], 1);
  EXPECT_EQ(v["IdleWorkerSeconds"], 30);
  EXPECT_EQ(v["IdleGBSeconds"], 60);
  // Every value is a declared metric, with its unit.
  for (const metrics::GaugeValue& g : KeepAliveGaugeValues("ep", "AllTraffic", r)) {
    EXPECT_FALSE(metrics::LiveUnit(g.key.ns, g.key.metric).empty()) << g.key.metric;
  }
}

TEST(KeepAliveGauges, ABusyFixedEndpointHasNoPrewarmNorRetireTime) {
  fleet::KeepAliveReport r;
  r.policy = "fixed:600";
  r.window = {seconds(0), seconds(600), seconds(600)};
  r.bin = seconds(60);
  r.idle_counts = {0};
  auto v = ByName(KeepAliveGaugeValues("ep", "AllTraffic", r));
  EXPECT_EQ(v["Policy/Policy=fixed"], 1);
  EXPECT_EQ(v["KeepAliveSeconds"], 600);
  EXPECT_EQ(v.count("PrewarmAt"), 0u);
  EXPECT_EQ(v.count("RetireAt"), 0u);
  r.idle_since = FromEpochSeconds(1000);  // idle now: retires, never pre-warms
  v = ByName(KeepAliveGaugeValues("ep", "AllTraffic", r));
  EXPECT_EQ(v["RetireAt"], 1600);
  EXPECT_EQ(v.count("PrewarmAt"), 0u);
}

}  // namespace
}  // namespace thaw::server
