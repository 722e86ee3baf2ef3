#include "fleet/keep_alive.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fakes/fake_clock.h"
#include "fleet/node_memory.h"
#include "fleet/pool_state.h"

namespace thaw::fleet {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using testing::FakeClock;

TEST(IdleHistogramTest, PercentilesAreTheBinsWhereTheCumulativeCountReachesTheQuantile) {
  IdleHistogram h(minutes(1), 240, 4);
  EXPECT_EQ(h.PercentileBin(0.5), -1);  // empty
  // 100 idle times: 10 in bin 2, 80 in bin 5, 10 in bin 30.
  for (int i = 0; i < 10; ++i) h.Record(seconds(150));
  for (int i = 0; i < 80; ++i) h.Record(seconds(5 * 60 + 1));
  for (int i = 0; i < 10; ++i) h.Record(minutes(30));
  EXPECT_EQ(h.in_range(), 100);
  EXPECT_EQ(h.PercentileBin(0.05), 2);
  EXPECT_EQ(h.PercentileBin(0.10), 2);  // exactly 10 of 100 reach it
  EXPECT_EQ(h.PercentileBin(0.11), 5);
  EXPECT_EQ(h.PercentileBin(0.90), 5);
  EXPECT_EQ(h.PercentileBin(0.99), 30);
}

TEST(IdleHistogramTest, LongIdleTimesAreOutOfBoundsAndTheLastOnesAreKept) {
  IdleHistogram h(minutes(1), 240, 2);
  h.Record(minutes(239) + seconds(59));  // last bin
  h.Record(minutes(240));                // OOB
  h.Record(minutes(300));
  h.Record(minutes(360));
  EXPECT_EQ(h.in_range(), 1);
  EXPECT_EQ(h.oob(), 3);
  ASSERT_EQ(h.recent_oob().size(), 2u);
  EXPECT_EQ(h.recent_oob().front(), minutes(300));
  EXPECT_EQ(h.counts()[239], 1);
}

TEST(IdleHistogramTest, CountCvIsTheStddevOfTheBinCountsOverTheirMean) {
  IdleHistogram h(minutes(1), 4, 0);
  EXPECT_EQ(h.CountCv(), 0);  // empty
  // Counts {3, 1, 0, 0}: mean 1, variance (4 + 0 + 1 + 1) / 4 = 1.5. OOB times do not count.
  for (int i = 0; i < 3; ++i) h.Record(seconds(10));
  h.Record(seconds(70));
  h.Record(minutes(5));
  EXPECT_DOUBLE_EQ(h.CountCv(), std::sqrt(1.5));
  // One bin holding everything: the most peaked histogram of 4 bins, CV sqrt(3).
  IdleHistogram one(minutes(1), 4, 0);
  for (int i = 0; i < 50; ++i) one.Record(seconds(100));
  EXPECT_DOUBLE_EQ(one.CountCv(), std::sqrt(3.0));
}

TEST(FixedKeepAliveTest, NeverPrewarmsAndKeepsItsWindow) {
  FixedKeepAlive f(minutes(10));
  IdleHistogram h = f.NewHistory();
  for (int i = 0; i < 50; ++i) h.Record(minutes(30));
  EXPECT_EQ(f.Decide(h, {}), (KeepAliveWindow{Micros(0), minutes(10)}));
  EXPECT_EQ(f.Name(), "fixed:600");
}

TEST(AdaptiveKeepAliveTest, RegularRhythmPrewarmsBeforeTheHeadAndKeepsPastTheTail) {
  AdaptiveKeepAlive a;
  IdleHistogram h = a.NewHistory();
  // A timer every ~30 minutes: idle times between 29:10 and 30:50.
  for (int i = 0; i < 20; ++i) h.Record(minutes(29) + seconds(10 + 5 * i));
  KeepAliveWindow w = a.Decide(h, {});
  // head bin 29 → 29 min × 0.9; tail bin 30 → upper edge 31 min × 1.1.
  EXPECT_EQ(w.prewarm_after, seconds(1566) /* 29 min × 0.9 */);
  EXPECT_EQ(w.keep_alive, seconds(2046) /* 31 min × 1.1 */);
}

TEST(AdaptiveKeepAliveTest, ShortIdleTimesKeepWarmWithoutPrewarm) {
  AdaptiveKeepAlive a;
  IdleHistogram h = a.NewHistory();
  for (int i = 0; i < 30; ++i) h.Record(seconds(20));
  KeepAliveWindow w = a.Decide(h, {});
  EXPECT_EQ(w.prewarm_after, Micros(0));
  EXPECT_EQ(w.keep_alive, seconds(66));
}

TEST(AdaptiveKeepAliveTest, ThinOrFlatHistoryKeepsTheNewestWorkerForTheRangeAndExtrasShort) {
  AdaptiveParams p;
  p.fallback_keep_alive = minutes(20);
  AdaptiveKeepAlive a(p);
  // The paper's standard keep-alive: the histogram's range (240 × 1 min) for the newest worker.
  const KeepAliveWindow fallback{Micros(0), minutes(240)};
  IdleHistogram h = a.NewHistory();
  EXPECT_EQ(a.Decide(h, {}), fallback);  // nothing learned yet
  for (int i = 0; i < 4; ++i) h.Record(minutes(30));
  EXPECT_EQ(a.Decide(h, {}), fallback);  // fewer than min_samples
  // Flat: one idle time in each of the 240 bins (CV 0).
  IdleHistogram flat = a.NewHistory();
  for (int b = 0; b < 240; ++b) flat.Record(minutes(b) + seconds(30));
  EXPECT_LT(flat.CountCv(), 2.0);
  EXPECT_EQ(a.Decide(flat, {}), fallback);
  // An explicit standard window; extras never outlive the newest worker.
  p.standard_keep_alive = minutes(15);
  EXPECT_EQ(AdaptiveKeepAlive(p).Decide(flat, {}), (KeepAliveWindow{Micros(0), minutes(15)}));
}

TEST(AdaptiveKeepAliveTest, MostlyOutOfBoundsPredictsTheMeanOfTheLastOnes) {
  AdaptiveKeepAlive a;  // oob_window 4, margin 15 %
  IdleHistogram h = a.NewHistory();
  h.Record(minutes(1));
  for (int hrs : {10, 5, 6, 7, 6}) h.Record(minutes(60 * hrs));
  KeepAliveWindow w = a.Decide(h, {});
  // mean of the last four: 6 h.
  EXPECT_EQ(w.prewarm_after, seconds(18360) /* 6 h × 0.85 */);
  EXPECT_EQ(w.keep_alive, seconds(24840) /* 6 h × 1.15 */);
}

TEST(AdaptiveKeepAliveTest, TwoModesSleepThroughTheGapBetweenThem) {
  AdaptiveKeepAlive a;
  IdleHistogram h = a.NewHistory();
  // A burst worker: re-used within seconds 60 times, and every ~30 min 20 times.
  for (int i = 0; i < 60; ++i) h.Record(seconds(5));
  for (int i = 0; i < 20; ++i) h.Record(minutes(29) + seconds(3 * i));
  KeepAliveWindow w = a.Decide(h, {});
  // Head bin 0, tail bin 29; bins 1..28 are empty: warm for bin 1's lower edge × 1.1, unloaded,
  // pre-warmed at bin 29's lower edge × 0.9, kept until bin 30's × 1.1.
  EXPECT_EQ(w.warm_first, seconds(66));
  EXPECT_EQ(w.prewarm_after, seconds(1566));
  EXPECT_EQ(w.keep_alive, seconds(1980));
}

TEST(AdaptiveKeepAliveTest, AThinHistorysEmptyBinsAreNoGap) {
  AdaptiveKeepAlive a;
  IdleHistogram h = a.NewHistory();
  // Few idle times spread out: most of them are not below the longest empty run.
  for (int m : {0, 0, 7, 19, 33, 48, 60, 75, 90}) h.Record(minutes(m) + seconds(10));
  KeepAliveWindow w = a.Decide(h, {});
  EXPECT_EQ(w.prewarm_after, Micros(0));
  EXPECT_EQ(w.warm_first, Micros(0));
  EXPECT_EQ(w.keep_alive, seconds(6006) /* 91 min × 1.1 */);
}

TEST(AdaptiveKeepAliveTest, LevelsAboveOneTakeTheLevelBelowWhileThinAndAtMostTheFallbackWhenRare) {
  AdaptiveParams p;
  p.fallback_keep_alive = minutes(10);
  AdaptiveKeepAlive a(p);
  const KeepAliveWindow below{minutes(18), minutes(25)};
  IdleHistogram h = a.NewHistory();
  for (int i = 0; i < 3; ++i) h.Record(minutes(20));
  // Thin (3 < min_samples), 3 idle periods ≥ 2 % of 100 requests: the level below's window.
  EXPECT_EQ(a.Decide(h, {2, 100, below}), below);
  // The same level of an endpoint with 1,000 requests: 3 < 20, it keeps the fallback.
  EXPECT_EQ(a.Decide(h, {2, 1000, below}), (KeepAliveWindow{Micros(0), minutes(10)}));
  // Learned: its own window (head bin 20 → 18 min, tail 21 min × 1.1).
  for (int i = 0; i < 7; ++i) h.Record(minutes(20) + seconds(5));
  EXPECT_EQ(a.Decide(h, {2, 100, below}), (KeepAliveWindow{seconds(1080), seconds(1386)}));
  // Rare (10 idle periods < 2 % of 1,000 requests): no pre-warm, at most the fallback...
  EXPECT_EQ(a.Decide(h, {2, 1000, below}), (KeepAliveWindow{Micros(0), minutes(10)}));
  // ... and its own window when that is shorter (head bin 0, tail bin 1 → 2 min × 1.1).
  IdleHistogram brief = a.NewHistory();
  for (int i = 0; i < 5; ++i) brief.Record(seconds(10));
  for (int i = 0; i < 5; ++i) brief.Record(seconds(70));
  EXPECT_EQ(a.Decide(brief, {2, 1000, below}), (KeepAliveWindow{Micros(0), seconds(132)}));
  // Level 1 has no level below: thin means the standard window.
  IdleHistogram thin = a.NewHistory();
  EXPECT_EQ(a.Decide(thin, {1, 100, below}), (KeepAliveWindow{Micros(0), minutes(240)}));
}

TEST(ParsePolicyTest, AcceptsTheDocumentedForms) {
  EXPECT_EQ((*ParsePolicy("adaptive"))->Name(), "adaptive");
  EXPECT_EQ((*ParsePolicy("fixed:600"))->Name(), "fixed:600");
  EXPECT_EQ((*ParsePolicy("90"))->Name(), "fixed:90");
  EXPECT_FALSE(ParsePolicy("often").ok());
  EXPECT_FALSE(ParsePolicy("fixed:-1").ok());
}

// PoolState carrying out the adaptive windows, with a fake clock.
class AdaptivePoolTest : public ::testing::Test {
 protected:
  AdaptivePoolTest() {
    PoolConfig c;
    c.max_concurrency = 4;
    AdaptiveParams params;
    params.min_samples = 3;
    c.policy = std::make_shared<AdaptiveKeepAlive>(params);
    pool = std::make_unique<PoolState>(c);
  }
  // One request that runs for a second on whatever worker there is; cold starts are instant.
  bool Serve() {
    Admission a = pool->Admit(next++, clock.Now());
    WorkerId w = a.worker;
    bool cold = a.kind == Admission::kWait;
    if (cold) {
      EXPECT_TRUE(a.cold_start);
      w = pool->StartWorker(clock.Now());
      EXPECT_TRUE(pool->OnWorkerReady(w, clock.Now()));
    }
    clock.Advance(seconds(1));
    EXPECT_FALSE(pool->OnReleased(w, clock.Now()));
    return cold;
  }
  // Ticks at every due time until `until`; carries out pre-warms (instant starts).
  void RunUntil(WallTime until) {
    for (;;) {
      auto up = pool->Tick(clock.Now());
      for (int i = 0; i < up.prewarm; ++i) {
        WorkerId w = pool->StartWorker(clock.Now(), /*prewarm=*/true);
        pool->OnWorkerReady(w, clock.Now());
      }
      if (!up.next_check || *up.next_check > until) break;
      clock.Set(*up.next_check);
    }
    clock.Set(until);
  }
  FakeClock clock;
  std::unique_ptr<PoolState> pool;
  RequestId next = 1;
};

TEST_F(AdaptivePoolTest, LearnsATwentyMinuteRhythmThenPrewarmsAndStopsColdStarting) {
  int cold = 0;
  for (int i = 0; i < 10; ++i) {
    WallTime start = clock.Now();
    cold += Serve() ? 1 : 0;
    RunUntil(start + minutes(20));
  }
  // The standard keep-alive (the histogram's range, 4 h) keeps the newest worker through the
  // first beats; once 3 idle times are known, the window is pre-warm at 19 min × 0.9, keep
  // until 21 min × 1.1 after each idle start.
  EXPECT_EQ(pool->window().prewarm_after, seconds(1026) /* 19 min × 0.9 */);
  const KeepAliveStats& s = pool->stats();
  EXPECT_EQ(s.requests, 10);
  EXPECT_EQ(cold, s.cold_starts);
  EXPECT_EQ(s.cold_starts, 1);  // only the first: nothing was known, nothing was warm
  // Six pre-warms served requests 5–10; the seventh waits for the eleventh beat.
  EXPECT_EQ(s.prewarms, 7);
  EXPECT_EQ(s.prewarm_hits, 6);
  EXPECT_EQ(s.prewarm_wasted, 0);
  EXPECT_EQ(pool->Count(WorkerState::kIdle), 1);
}

TEST_F(AdaptivePoolTest, APrewarmThatIsNotUsedIsRetiredAtTheEndOfTheWindowAndCountedWasted) {
  for (int i = 0; i < 4; ++i) {
    WallTime start = clock.Now();
    Serve();
    RunUntil(start + minutes(20));
  }
  ASSERT_GT(pool->window().prewarm_after.count(), 0);
  // No request comes: the pre-warmed worker retires at idle start + keep_alive.
  RunUntil(clock.Now() + minutes(60));
  EXPECT_EQ(pool->workers(), 0);
  EXPECT_EQ(pool->stats().prewarm_wasted, 1);
}

// A burst of two every 20 minutes: both concurrency levels learn the rhythm, so both workers
// are pre-warmed (the second one's level has its own histogram).
TEST_F(AdaptivePoolTest, EachConcurrencyLevelLearnsItsRhythmAndIsPrewarmed) {
  int cold = 0;
  for (int i = 0; i < 10; ++i) {
    WallTime start = clock.Now();
    WorkerId w[2];
    for (WorkerId& x : w) {
      Admission a = pool->Admit(next++, clock.Now());
      x = a.worker;
      if (a.kind == Admission::kWait) {
        ++cold;
        x = pool->StartWorker(clock.Now());
        ASSERT_TRUE(pool->OnWorkerReady(x, clock.Now()));
      }
    }
    clock.Advance(seconds(1));
    pool->OnReleased(w[0], clock.Now());  // level 2 falls
    pool->OnReleased(w[1], clock.Now());  // level 1 falls: the endpoint is idle
    RunUntil(start + minutes(20));
  }
  EXPECT_EQ(pool->levels(), 2);
  EXPECT_EQ(pool->history(2).total(), 9);
  // The first burst, and the second one's second worker: level 2 had no history yet and kept
  // the fallback (10 min); from then on it takes level 1's window until its own is learned.
  EXPECT_EQ(cold, 3);
  const KeepAliveStats& s = pool->stats();
  EXPECT_EQ(s.cold_starts, 3);
  EXPECT_EQ(s.prewarm_hits, 12);  // bursts 5–10, two workers each
  EXPECT_EQ(s.prewarm_wasted, 0);
}

TEST_F(AdaptivePoolTest, IdleWorkerSecondsAreAccounted) {
  Serve();  // uncertain: the newest worker keeps the histogram's range, 4 h
  RunUntil(clock.Now() + minutes(239));
  EXPECT_EQ(pool->workers(), 1);
  RunUntil(clock.Now() + minutes(10));
  EXPECT_EQ(pool->workers(), 0);
  EXPECT_EQ(pool->stats().idle_worker_us, Micros(minutes(240)).count());
}

TEST(FrequencyTest, DecaysWithItsHalfLife) {
  FakeClock clock;
  PoolState p(PoolConfig{});
  EXPECT_EQ(p.Frequency(clock.Now()), 0);
  Admission a = p.Admit(1, clock.Now());
  ASSERT_EQ(a.kind, Admission::kWait);
  double now = p.Frequency(clock.Now());
  clock.Advance(PoolState::kFrequencyHalfLife);
  EXPECT_NEAR(p.Frequency(clock.Now()), now / 2, now * 1e-9);
}

TEST(GdsfEvictionTest, LowestFrequencyTimesCostPerMegabyteGoesFirstThenLeastRecentlyUsed) {
  FakeClock clock;
  WallTime t = clock.Now();
  // Budget 4096, all used, 1024 needed. Worker 1 is the oldest but busy-and-cheap-to-lose is
  // worker 3 (lowest priority); 2 and 4 tie, so the older of them would be next.
  std::vector<EvictionCandidate> c = {
      {0, 1, t - seconds(100), 1024, 5.0},
      {1, 2, t - seconds(10), 1024, 1.0},
      {2, 3, t - seconds(1), 1024, 0.5},
      {3, 4, t - seconds(50), 1024, 1.0},
  };
  EvictionPlan one = PlanEviction(4096, 4096, 1024, c);
  ASSERT_TRUE(one.fits);
  ASSERT_EQ(one.evict.size(), 1u);
  EXPECT_EQ(one.evict[0].worker, 3u);
  EvictionPlan three = PlanEviction(4096, 4096, 3072, c);
  ASSERT_EQ(three.evict.size(), 3u);
  EXPECT_EQ(three.evict[1].worker, 4u);
  EXPECT_EQ(three.evict[2].worker, 2u);
}

}  // namespace
}  // namespace thaw::fleet
