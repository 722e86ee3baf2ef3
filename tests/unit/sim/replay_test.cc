#include "sim/replay.h"

#include <gtest/gtest.h>

#include <fstream>

#include "fakes/temp_dir.h"
#include "sim/plot.h"
#include "sim/trace.h"

namespace thaw::sim {
namespace {

using std::chrono::minutes;

// One app of 1 GB, one function of 1 s; invocations: 1 in minute 0, 1 in minute 3, 2 in
// minute 4 — arriving at 30 s, 210 s, 255 s and 285 s (spread evenly in their minute).
AppTrace Small() {
  AppTrace app;
  app.hash = "a";
  app.memory_mb = 1024;
  FunctionTrace fn;
  fn.hash = "f";
  fn.duration_us = 1'000'000;
  fn.per_minute = {1, 0, 0, 1, 2, 0, 0, 0, 0, 0};
  app.functions.push_back(fn);
  return app;
}

TEST(ReplayTest, AgreesWithAHandComputedReplayOfATwoMinuteKeepAlive) {
  // 30 s cold, busy to 31 s, idle 120 s, retired at 151 s; 210 s cold, busy to 211 s; 255 s
  // warm after 44 s idle; 285 s warm after 29 s idle; idle from 286 s for 120 s, retired.
  AppResult r = ReplayApp(Small(), 10, fleet::FixedKeepAlive(minutes(2)));
  EXPECT_EQ(r.requests, 4);
  EXPECT_EQ(r.cold_starts, 2);
  EXPECT_DOUBLE_EQ(r.idle_gb_s, 120 + 44 + 29 + 120);
  EXPECT_EQ(r.prewarms, 0);
}

TEST(ReplayTest, AgreesWithAHandComputedReplayOfAFiveMinuteKeepAlive) {
  // One cold start; idle 179 + 44 + 29 s, then 300 s after 286 s (retired at 586 s < 600 s).
  AppResult r = ReplayApp(Small(), 10, fleet::FixedKeepAlive(minutes(5)));
  EXPECT_EQ(r.cold_starts, 1);
  EXPECT_DOUBLE_EQ(r.idle_gb_s, 179 + 44 + 29 + 300);
}

TEST(ReplayTest, IdleWorkersAreCountedUntilTheEndOfTheDay) {
  // 10 min keep-alive: after 286 s the worker idles to the end (600 s): 314 s.
  AppResult r = ReplayApp(Small(), 10, fleet::FixedKeepAlive(minutes(10)));
  EXPECT_DOUBLE_EQ(r.idle_gb_s, 179 + 44 + 29 + 314);
}

TEST(ReplayTest, ConcurrentInvocationsColdStartOneWorkerEach) {
  AppTrace app = Small();
  app.functions[0].duration_us = 50'000'000;  // 50 s: minute 4's two overlap
  AppResult r = ReplayApp(app, 10, fleet::FixedKeepAlive(minutes(10)));
  // 30 s cold; 210 s warm (idle 130 s); 255 s: the worker is busy until 260 s → cold.
  EXPECT_EQ(r.cold_starts, 2);
}

Trace Synthetic() {
  Trace t;
  t.minutes = 600;
  for (int a = 0; a < 20; ++a) {
    AppTrace app;
    app.hash = std::to_string(a);
    app.memory_mb = 128 * (a % 4 + 1);
    FunctionTrace fn;
    fn.duration_us = 200'000 * (a % 5 + 1);
    fn.per_minute.resize(600);
    for (int m = 0; m < 600; ++m) {
      // A mix: timers of different periods, bursts, and a pseudo-random rare one.
      if (a % 3 == 0 && m % (5 + a) == 0) fn.per_minute[m] = 1;
      if (a % 3 == 1 && (m / 60) % 2 == 0) fn.per_minute[m] = static_cast<uint32_t>(m % 7);
      if (a % 3 == 2 && (m * 7919 + a * 104729) % 97 == 0) fn.per_minute[m] = 2;
    }
    app.functions.push_back(fn);
    t.apps.push_back(app);
  }
  return t;
}

TEST(ReplayTest, IsDeterministic) {
  Trace t = Synthetic();
  fleet::AdaptiveKeepAlive adaptive;
  Summary a = Replay(t, adaptive);
  Summary b = Replay(t, adaptive);
  EXPECT_GT(a.requests, 0);
  EXPECT_GT(a.prewarms, 0);  // the timers get learned
  EXPECT_EQ(a.requests, b.requests);
  EXPECT_EQ(a.cold_starts, b.cold_starts);
  EXPECT_EQ(a.prewarms, b.prewarms);
  EXPECT_EQ(a.prewarm_hits, b.prewarm_hits);
  EXPECT_EQ(a.prewarm_wasted, b.prewarm_wasted);
  EXPECT_EQ(a.idle_gb_hours, b.idle_gb_hours);
  EXPECT_EQ(a.p75_app_cold, b.p75_app_cold);
}

TEST(ReplayTest, LongerFixedKeepAliveNeverColdStartsMoreAndIdlesMore) {
  Trace t = Synthetic();
  Summary short_ka = Replay(t, fleet::FixedKeepAlive(minutes(2)));
  Summary long_ka = Replay(t, fleet::FixedKeepAlive(minutes(30)));
  EXPECT_LE(long_ka.cold_starts, short_ka.cold_starts);
  EXPECT_GT(long_ka.idle_gb_hours, short_ka.idle_gb_hours);
}

TEST(QuantileTest, NearestRank) {
  EXPECT_EQ(Quantile({0.4, 0.1, 0.3, 0.2}, 0.75), 0.3);
  EXPECT_EQ(Quantile({0.5}, 0.75), 0.5);
  EXPECT_EQ(Quantile({}, 0.75), 0);
}

TEST(LoadTraceTest, ReadsTheThreeFilesOfASample) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "7_inv.csv")
      << "HashFunction,HashApp,HashOwner,minute_1,minute_2,minute_3\n"
         "f1,a1,o,1,0,2\nf2,a1,o,0,3,0\nf3,a2,o,1,1,1\n";
  std::ofstream(dir.path() / "7_run.csv")
      << "HashFunction,HashApp,HashOwner,Count,Average,Minimum\nf1,a1,o,3,250.5,1\n"
         "f3,a2,o,3,0,0\n";
  std::ofstream(dir.path() / "7_mem.csv")
      << "HashApp,HashOwner,SampleCount,AverageAllocatedMb\na1,o,5,300\n";
  Result<Trace> t = LoadTrace(dir.path(), 7);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->minutes, 3);
  EXPECT_EQ(t->invocations, 9);
  ASSERT_EQ(t->apps.size(), 2u);
  EXPECT_EQ(t->apps[0].hash, "a1");
  EXPECT_EQ(t->apps[0].memory_mb, 300);
  ASSERT_EQ(t->apps[0].functions.size(), 2u);
  EXPECT_EQ(t->apps[0].functions[0].duration_us, 250'500);
  EXPECT_EQ(t->apps[0].functions[1].duration_us, 1000);  // no run row: 1 ms
  EXPECT_EQ(t->apps[1].memory_mb, kDefaultMemoryMb);     // no mem row
  EXPECT_EQ(t->apps[1].functions[0].duration_us, 1000);  // at least 1 ms
  EXPECT_FALSE(LoadTrace(dir.path(), 8).ok());
}

TEST(PlotTest, WritesAPngAndAnSvg) {
  std::vector<PlotPoint> pts = {
      {"1 min", 10, 0.9}, {"10 min", 100, 0.5}, {"adaptive", 50, 0.2, true}};
  std::string png = ParetoPng(pts);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_EQ(png.substr(png.size() - 8, 4), "IEND");
  std::string svg = ParetoSvg(pts, "t");
  EXPECT_NE(svg.find("adaptive"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

}  // namespace
}  // namespace thaw::sim
