#include "fleet/pool_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "fakes/fake_clock.h"

namespace thaw::fleet {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeClock;

PoolConfig Serverless(int max, int provisioned = 0) {
  PoolConfig c;
  c.max_concurrency = max;
  c.provisioned = provisioned;
  c.keep_alive = seconds(300);
  return c;
}

class PoolStateTest : public ::testing::Test {
 protected:
  // Admits a request; when it asks for a cold start, starts one and returns its id in `started`.
  Admission Admit(PoolState& p, RequestId r, WorkerId* started = nullptr) {
    Admission a = p.Admit(r, clock.Now());
    if (a.kind == Admission::kWait && a.cold_start) {
      WorkerId w = p.StartWorker(clock.Now());
      if (started) *started = w;
    }
    return a;
  }
  FakeClock clock;
};

TEST_F(PoolStateTest, FirstRequestColdStartsThenReusesTheWarmWorker) {
  PoolState p(Serverless(5));
  WorkerId w = 0;
  Admission a = Admit(p, 1, &w);
  EXPECT_EQ(a.kind, Admission::kWait);
  EXPECT_TRUE(a.cold_start);
  auto assigned = p.OnWorkerReady(w, clock.Now());
  ASSERT_TRUE(assigned);
  EXPECT_EQ(assigned->request, 1u);
  EXPECT_FALSE(p.OnReleased(w, clock.Now()));
  EXPECT_EQ(p.Count(WorkerState::kIdle), 1);
  Admission warm = Admit(p, 2);
  EXPECT_EQ(warm.kind, Admission::kRunOn);
  EXPECT_EQ(warm.worker, w);
}

TEST_F(PoolStateTest, ConcurrentRequestsGetOneWorkerEachUpToMax) {
  PoolState p(Serverless(3));
  int cold = 0;
  for (RequestId r = 1; r <= 3; ++r) cold += Admit(p, r).cold_start ? 1 : 0;
  EXPECT_EQ(cold, 3);
  EXPECT_EQ(p.workers(), 3);
  // Max + k at once: exactly k throttled, never queued.
  for (RequestId r = 4; r <= 6; ++r) EXPECT_EQ(Admit(p, r).kind, Admission::kThrottle);
  EXPECT_EQ(p.in_flight(), 3);
}

TEST_F(PoolStateTest, AWaiterTakesWhicheverWorkerFreesFirst) {
  PoolState p(Serverless(2));
  WorkerId w1 = 0, w2 = 0;
  Admit(p, 1, &w1);
  p.OnWorkerReady(w1, clock.Now());           // serves request 1
  Admit(p, 2, &w2);                           // w1 busy: cold start w2 for request 2
  auto next = p.OnReleased(w1, clock.Now());  // w1 frees before w2 is ready
  ASSERT_TRUE(next);
  EXPECT_EQ(next->request, 2u);
  EXPECT_EQ(next->worker, w1);
  EXPECT_FALSE(p.OnWorkerReady(w2, clock.Now()));  // nobody waiting: w2 goes idle
  EXPECT_EQ(p.Count(WorkerState::kIdle), 1);
}

TEST_F(PoolStateTest, MostRecentlyUsedIdleWorkerFirst) {
  PoolState p(Serverless(3));
  WorkerId a = 0, b = 0;
  Admit(p, 1, &a);
  Admit(p, 2, &b);
  p.OnWorkerReady(a, clock.Now());
  p.OnWorkerReady(b, clock.Now());
  p.OnReleased(a, clock.Now());
  clock.Advance(seconds(1));
  p.OnReleased(b, clock.Now());
  EXPECT_EQ(Admit(p, 3).worker, b);
}

TEST_F(PoolStateTest, IdleWorkersRetireAfterKeepAlive) {
  PoolState p(Serverless(2));
  WorkerId w = 0;
  Admit(p, 1, &w);
  p.OnWorkerReady(w, clock.Now());
  p.OnReleased(w, clock.Now());
  clock.Advance(seconds(299));
  auto up = p.Tick(clock.Now());
  EXPECT_TRUE(up.retire.empty());
  ASSERT_TRUE(up.next_check);
  EXPECT_EQ(*up.next_check, clock.Now() + seconds(1));
  clock.Advance(seconds(1));
  up = p.Tick(clock.Now());
  EXPECT_EQ(up.retire, std::vector<WorkerId>{w});
  EXPECT_EQ(p.workers(), 0);
  EXPECT_EQ(up.start, 0);
}

TEST_F(PoolStateTest, ProvisionedFloorStaysWarm) {
  PoolState p(Serverless(5, 2));
  auto up = p.Tick(clock.Now());
  EXPECT_EQ(up.start, 2);
  WorkerId a = p.StartWorker(clock.Now());
  WorkerId b = p.StartWorker(clock.Now());
  p.OnWorkerReady(a, clock.Now());
  p.OnWorkerReady(b, clock.Now());
  WorkerId c = 0;
  // Three concurrent: two warm, the third spills over to a cold start.
  EXPECT_EQ(Admit(p, 1).kind, Admission::kRunOn);
  EXPECT_EQ(Admit(p, 2).kind, Admission::kRunOn);
  EXPECT_TRUE(Admit(p, 3, &c).cold_start);
  p.OnWorkerReady(c, clock.Now());
  for (WorkerId w : {a, b, c}) p.OnReleased(w, clock.Now());
  clock.Advance(seconds(3600));
  up = p.Tick(clock.Now());
  EXPECT_EQ(up.retire.size(), 1u);  // only the spill-over worker retires
  EXPECT_EQ(p.workers(), 2);
  EXPECT_EQ(up.start, 0);
}

TEST_F(PoolStateTest, InstanceVariantsQueueInsteadOfThrottling) {
  PoolConfig c;
  c.instance_mode = true;
  c.instance_count = 1;
  c.max_queue = 2;
  PoolState p(c);
  EXPECT_EQ(p.Tick(clock.Now()).start, 1);
  WorkerId w = p.StartWorker(clock.Now());
  p.OnWorkerReady(w, clock.Now());
  EXPECT_EQ(Admit(p, 1).kind, Admission::kRunOn);
  Admission queued = Admit(p, 2);
  EXPECT_EQ(queued.kind, Admission::kWait);
  EXPECT_FALSE(queued.cold_start);  // never beyond InitialInstanceCount
  EXPECT_EQ(Admit(p, 3).kind, Admission::kWait);
  EXPECT_EQ(Admit(p, 4).kind, Admission::kThrottle);
  EXPECT_EQ(p.OnReleased(w, clock.Now())->request, 2u);
  clock.Advance(seconds(100000));
  EXPECT_TRUE(p.Tick(clock.Now()).retire.empty());  // always on
}

TEST_F(PoolStateTest, FailedStartFailsWaitersOnlyWhenNobodyIsLeft) {
  PoolState p(Serverless(3));
  WorkerId w1 = 0, w2 = 0;
  Admit(p, 1, &w1);
  Admit(p, 2, &w2);
  EXPECT_TRUE(p.OnStartFailed(w1).empty());  // w2 may still serve both
  auto failed = p.OnStartFailed(w2);
  EXPECT_EQ(failed, (std::vector<RequestId>{1, 2}));
  EXPECT_EQ(p.in_flight(), 0);
  EXPECT_EQ(p.waiting(), 0u);
}

TEST_F(PoolStateTest, DeadWorkerIsReplacedForWaiters) {
  PoolState p(Serverless(1));
  WorkerId w = 0;
  Admit(p, 1, &w);
  p.OnWorkerReady(w, clock.Now());
  EXPECT_EQ(Admit(p, 2).kind, Admission::kThrottle);  // max 1
  p.OnWorkerGone(w);                                  // crashed mid-request: request 1 is over
  EXPECT_EQ(p.in_flight(), 0);
  Admission again = Admit(p, 3);
  EXPECT_TRUE(again.cold_start);
}

TEST_F(PoolStateTest, CancelledWaiterLeavesTheQueue) {
  PoolState p(Serverless(2));
  WorkerId w = 0;
  Admit(p, 1, &w);
  p.Cancel(1);
  EXPECT_EQ(p.in_flight(), 0);
  EXPECT_FALSE(p.OnWorkerReady(w, clock.Now()));
  EXPECT_EQ(p.StartsNeeded(), 0);
}

TEST_F(PoolStateTest, EvictionHelpers) {
  PoolState p(Serverless(3));
  WorkerId a = 0, b = 0;
  Admit(p, 1, &a);
  Admit(p, 2, &b);
  p.OnWorkerReady(a, clock.Now());
  p.OnWorkerReady(b, clock.Now());
  p.OnReleased(a, clock.Now());
  clock.Advance(seconds(1));
  p.OnReleased(b, clock.Now());
  ASSERT_TRUE(p.OldestIdle());
  EXPECT_EQ(p.OldestIdle()->first, a);
  EXPECT_TRUE(p.Retire(a, clock.Now()));
  EXPECT_FALSE(p.Retire(a, clock.Now()));
  EXPECT_EQ(p.RetireAllIdle(clock.Now()), std::vector<WorkerId>{b});
}

TEST_F(PoolStateTest, AnIdleWorkerOfTheCallersShardWinsOverAMoreRecentOne) {
  PoolState p(Serverless(3));
  WorkerId a = 0, b = 0;
  Admit(p, 1, &a);
  Admit(p, 2, &b);
  p.OnWorkerReady(a, clock.Now());
  p.OnWorkerReady(b, clock.Now());
  p.SetAffinity(a, 7);
  p.SetAffinity(b, 9);
  p.OnReleased(a, clock.Now());
  clock.Advance(seconds(1));
  p.OnReleased(b, clock.Now());  // b is the most recently used
  Admission on7 = p.Admit(3, clock.Now(), 7);
  EXPECT_EQ(on7.kind, Admission::kRunOn);
  EXPECT_EQ(on7.worker, a);  // shard 7's own worker
  // No idle worker of shard 5: the most recently used one, which then belongs to shard 5.
  Admission on5 = p.Admit(4, clock.Now(), 5);
  EXPECT_EQ(on5.worker, b);
  p.OnReleased(b, clock.Now());
  p.OnReleased(a, clock.Now());
  EXPECT_EQ(p.Admit(5, clock.Now(), 5).worker, b);
}

TEST_F(PoolStateTest, CountsFollowEveryTransition) {
  PoolState p(Serverless(3, 1));
  WorkerId a = 0, b = 0;
  Admit(p, 1, &a);
  Admit(p, 2, &b);
  EXPECT_EQ(p.Count(WorkerState::kStarting), 2);
  p.OnWorkerReady(a, clock.Now());
  EXPECT_EQ(p.Count(WorkerState::kBusy), 1);
  EXPECT_TRUE(p.OnStartFailed(b).empty());
  EXPECT_EQ(p.Count(WorkerState::kStarting), 0);
  EXPECT_EQ(p.Count(WorkerState::kBusy), 1);  // a now serves request 2 as well, in turn
  auto next = p.OnReleased(a, clock.Now());
  ASSERT_TRUE(next);
  EXPECT_FALSE(p.OnReleased(a, clock.Now()));
  EXPECT_EQ(p.Count(WorkerState::kIdle), 1);
  EXPECT_EQ(p.Count(WorkerState::kBusy), 0);
  EXPECT_EQ(p.RetireAllIdle(clock.Now()).size(), 1u);
  EXPECT_EQ(p.Count(WorkerState::kIdle), 0);
}

TEST_F(PoolStateTest, EvictableIsIdleAboveTheFloorLeastRecentlyUsedFirst) {
  PoolState p(Serverless(4, 1));
  WorkerId w[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) Admit(p, i + 1, &w[i]);
  for (WorkerId id : w) p.OnWorkerReady(id, clock.Now());
  // Released in the order w[1], w[2], w[0]: w[0] is the most recently used.
  for (int i : {1, 2, 0}) {
    p.OnReleased(w[i], clock.Now());
    clock.Advance(seconds(1));
  }
  auto evictable = p.Evictable();
  ASSERT_EQ(evictable.size(), 2u);  // the floor of 1 keeps w[0]
  EXPECT_EQ(evictable[0].first, w[1]);
  EXPECT_EQ(evictable[1].first, w[2]);
  // A busy worker is never evictable.
  EXPECT_EQ(Admit(p, 9).worker, w[0]);
  EXPECT_EQ(p.Evictable().size(), 2u);
  EXPECT_TRUE(p.Retire(w[1], clock.Now()));
  EXPECT_TRUE(p.Retire(w[2], clock.Now()));
  EXPECT_TRUE(p.Evictable().empty());
}

// The idle index (issue 8) against a brute-force model of the same rules: a seeded random run of
// arrivals, starts, releases and ticks over up to 40 workers, with ties in last_used (time steps
// of 0). Admit takes the most recently used idle worker (the lowest id among equals), Tick
// retires exactly the idle workers past keep_alive and names the earliest next deadline.
TEST_F(PoolStateTest, IdleIndexAgreesWithABruteForceModelOfTheRules) {
  PoolConfig c = Serverless(40);
  c.keep_alive = seconds(30);
  PoolState p(c);
  struct Model {
    WorkerState state;
    WallTime last_used;
  };
  std::map<WorkerId, Model> model;
  std::vector<WorkerId> starting, busy;
  std::mt19937 rng(8);
  auto take = [&rng](std::vector<WorkerId>& v) {
    size_t i = rng() % v.size();
    WorkerId w = v[i];
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
    return w;
  };
  auto on_assignment = [&](WorkerId w, bool assigned) {
    model[w] = {assigned ? WorkerState::kBusy : WorkerState::kIdle, clock.Now()};
    if (assigned) busy.push_back(w);
  };
  RequestId next = 1;
  int runs_on_idle = 0, retired = 0;
  for (int step = 0; step < 4000; ++step) {
    clock.Advance(milliseconds(rng() % 4 == 0 ? 0 : rng() % 4000));
    int op = static_cast<int>(rng() % 4);
    if (op == 0) {
      std::optional<WorkerId> mru;
      for (const auto& [id, m] : model) {
        if (m.state == WorkerState::kIdle && (!mru || m.last_used > model[*mru].last_used))
          mru = id;
      }
      Admission a = p.Admit(next++, clock.Now());
      if (mru) {
        ASSERT_EQ(a.kind, Admission::kRunOn);
        ASSERT_EQ(a.worker, *mru);
        on_assignment(*mru, true);
        ++runs_on_idle;
      } else if (a.kind == Admission::kWait && a.cold_start) {
        WorkerId w = p.StartWorker(clock.Now());
        model[w] = {WorkerState::kStarting, clock.Now()};
        starting.push_back(w);
      }
    } else if (op == 1 && !starting.empty()) {
      WorkerId w = take(starting);
      on_assignment(w, p.OnWorkerReady(w, clock.Now()).has_value());
    } else if (op == 2 && !busy.empty()) {
      WorkerId w = take(busy);
      on_assignment(w, p.OnReleased(w, clock.Now()).has_value());
    } else if (op == 3) {
      std::vector<WorkerId> expired;
      std::optional<WallTime> next_deadline;
      for (const auto& [id, m] : model) {
        if (m.state != WorkerState::kIdle) continue;
        WallTime deadline = m.last_used + seconds(30);
        if (deadline <= clock.Now()) {
          expired.push_back(id);
        } else if (!next_deadline || deadline < *next_deadline) {
          next_deadline = deadline;
        }
      }
      PoolState::Upkeep up = p.Tick(clock.Now());
      std::sort(up.retire.begin(), up.retire.end());
      ASSERT_EQ(up.retire, expired);
      ASSERT_EQ(up.next_check, next_deadline);
      for (WorkerId id : expired) model.erase(id);
      retired += static_cast<int>(expired.size());
    }
    // The read side of the index: counts, the oldest idle worker, the eviction order.
    std::vector<std::pair<WorkerId, WallTime>> idle;
    for (const auto& [id, m] : model) {
      if (m.state == WorkerState::kIdle) idle.emplace_back(id, m.last_used);
    }
    std::stable_sort(idle.begin(), idle.end(),
                     [](const auto& a, const auto& b) { return a.second < b.second; });
    ASSERT_EQ(p.Count(WorkerState::kIdle), static_cast<int>(idle.size()));
    ASSERT_EQ(p.Evictable(), idle);
    if (idle.empty()) {
      ASSERT_FALSE(p.OldestIdle());
    } else {
      ASSERT_EQ(p.OldestIdle(), idle.front());
    }
  }
  // The run went through the interesting cases, not only cold starts.
  EXPECT_GT(runs_on_idle, 300);
  EXPECT_GT(retired, 100);
}

TEST_F(PoolStateTest, AmongIdleWorkersUsedAtTheSameInstantTheLowestIdGoesFirst) {
  PoolState p(Serverless(3));
  WorkerId w[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) Admit(p, i + 1, &w[i]);
  for (int i : {2, 0, 1}) p.OnWorkerReady(w[i], clock.Now());
  for (int i : {2, 0, 1}) p.OnReleased(w[i], clock.Now());
  EXPECT_EQ(Admit(p, 4).worker, w[0]);
  EXPECT_EQ(Admit(p, 5).worker, w[1]);
  EXPECT_EQ(Admit(p, 6).worker, w[2]);
}

TEST_F(PoolStateTest, AShardChangeOfAnIdleWorkerMovesItInTheIndex) {
  PoolState p(Serverless(3));
  WorkerId a = 0, b = 0;
  Admit(p, 1, &a);
  Admit(p, 2, &b);
  p.OnWorkerReady(a, clock.Now());
  p.OnWorkerReady(b, clock.Now());
  p.OnReleased(a, clock.Now());
  clock.Advance(seconds(1));
  p.OnReleased(b, clock.Now());
  p.SetAffinity(a, 7);  // while idle
  EXPECT_EQ(p.Admit(3, clock.Now(), 7).worker, a);
  EXPECT_EQ(p.Admit(4, clock.Now(), 7).worker, b);  // none of shard 7 left: the MRU
}

// A window with a pre-warm, whatever the history (pre-warm and retirement rules of PoolState).
class ScriptedPolicy final : public KeepAlivePolicy {
 public:
  explicit ScriptedPolicy(KeepAliveWindow w) : w_(w) {}
  IdleHistogram NewHistory() const override { return IdleHistogram(seconds(60), 1, 0); }
  KeepAliveWindow Decide(const IdleHistogram&, const LevelInfo&) const override { return w_; }
  std::string Name() const override { return "scripted"; }

 private:
  KeepAliveWindow w_;
};

// Pre-warmed and plain idle workers expire by different rules; an older unused pre-warmed
// worker must not hold back a newer plain one that is due, nor the other way round. Each
// concurrency level pre-warms: a busy period that ran 2 at once is brought back to 2 workers.
TEST_F(PoolStateTest, PlainAndPrewarmedIdleWorkersEachRetireOnTime) {
  PoolConfig c = Serverless(4);
  c.policy = std::make_shared<ScriptedPolicy>(KeepAliveWindow{seconds(10), seconds(60)});
  PoolState p(c);
  const WallTime t0 = clock.Now();
  WorkerId a = 0, b = 0;
  Admit(p, 1, &a);
  Admit(p, 2, &b);
  p.OnWorkerReady(a, clock.Now());
  p.OnWorkerReady(b, clock.Now());
  p.OnReleased(a, clock.Now());
  p.OnReleased(b, clock.Now());                      // idle start t0, the busy period ran 2 at once
  EXPECT_EQ(p.Tick(clock.Now()).retire.size(), 2u);  // unloaded until the pre-warm
  clock.Set(t0 + seconds(10));
  PoolState::Upkeep up = p.Tick(clock.Now());
  ASSERT_EQ(up.prewarm, 2);
  WorkerId pc = p.StartWorker(clock.Now(), true), pd = p.StartWorker(clock.Now(), true);
  clock.Set(t0 + seconds(11));
  p.OnWorkerReady(pc, clock.Now());
  p.OnWorkerReady(pd, clock.Now());
  clock.Set(t0 + seconds(20));
  EXPECT_EQ(Admit(p, 3).worker, pc);  // a pre-warm hit; pd stays unused
  clock.Set(t0 + seconds(21));
  p.OnReleased(pc, clock.Now());  // idle start t0 + 21: pc (plain now) unloads at once
  up = p.Tick(clock.Now());
  EXPECT_EQ(up.retire, std::vector<WorkerId>{pc});
  ASSERT_TRUE(up.next_check);
  EXPECT_EQ(*up.next_check, t0 + seconds(31));  // level 1's pre-warm
  clock.Set(t0 + seconds(31));
  up = p.Tick(clock.Now());
  EXPECT_EQ(up.prewarm, 0);  // pd is still there: it serves as the pre-warm, kept with it
  ASSERT_TRUE(up.next_check);
  EXPECT_EQ(*up.next_check, t0 + seconds(81));  // idle start + keep_alive
  clock.Set(t0 + seconds(81));
  up = p.Tick(clock.Now());
  EXPECT_EQ(up.retire, std::vector<WorkerId>{pd});
  EXPECT_EQ(p.stats().prewarm_hits, 1);
  EXPECT_EQ(p.stats().prewarm_wasted, 1);
  EXPECT_EQ(p.workers(), 0);
}

}  // namespace
}  // namespace thaw::fleet
