// The template tier's decisions in PoolState (when a template is wanted, which starts fork from
// it, when it retires, when it may be evicted), on a fake clock.

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"
#include "fleet/node_memory.h"
#include "fleet/pool_state.h"

namespace thaw::fleet {
namespace {

using std::chrono::seconds;
using testing::FakeClock;

PoolConfig WithTemplates(bool on = true) {
  PoolConfig c;
  c.max_concurrency = 4;
  c.keep_alive = seconds(60);
  c.templates = on;
  return c;
}

class TemplateStateTest : public ::testing::Test {
 protected:
  // One request served by a cold start: admitted, worker started and ready, released.
  WorkerId ColdRequest(PoolState& p, RequestId r) {
    Admission a = p.Admit(r, clock.Now());
    EXPECT_TRUE(a.kind == Admission::kWait && a.cold_start);
    WorkerId w = p.StartWorker(clock.Now());
    EXPECT_TRUE(p.OnWorkerReady(w, clock.Now()));
    p.OnReleased(w, clock.Now());
    return w;
  }
  // Retires every idle worker whose keep-alive ran out, as the pool's tick does.
  PoolState::Upkeep TickAt(PoolState& p, seconds later) {
    clock.Advance(later);
    return p.Tick(clock.Now());
  }
  FakeClock clock;
};

TEST_F(TemplateStateTest, WantedAfterTheFirstGenericStartOnlyWhenEnabled) {
  PoolState off(WithTemplates(false));
  ColdRequest(off, 1);
  EXPECT_FALSE(off.WantTemplate());

  PoolState p(WithTemplates());
  EXPECT_FALSE(p.WantTemplate());  // nothing started yet
  WorkerId w = ColdRequest(p, 1);
  EXPECT_FALSE(p.FromTemplate(w));
  EXPECT_TRUE(p.WantTemplate());
  p.OnTemplateStarting();
  EXPECT_FALSE(p.WantTemplate());  // one at a time
  EXPECT_EQ(p.template_state(), TemplateState::kStarting);
}

TEST_F(TemplateStateTest, StartsForkFromAReadyTemplateAndCountItsWorkers) {
  PoolState p(WithTemplates());
  WorkerId generic = ColdRequest(p, 1);
  p.OnTemplateStarting();
  // While it starts, starts are generic.
  p.Admit(2, clock.Now());  // the generic worker is idle: warm
  p.Admit(3, clock.Now());
  WorkerId during = p.StartWorker(clock.Now());
  EXPECT_FALSE(p.FromTemplate(during));
  p.OnTemplateReady(clock.Now());
  p.Admit(4, clock.Now());
  WorkerId forked = p.StartWorker(clock.Now());
  EXPECT_TRUE(p.FromTemplate(forked));
  EXPECT_EQ(p.template_workers(), 1);
  EXPECT_FALSE(p.FromTemplate(generic));
  // A start that found the template gone went the generic way: not one of its workers.
  p.OnStartedGeneric(forked);
  EXPECT_FALSE(p.FromTemplate(forked));
  EXPECT_EQ(p.template_workers(), 0);
  // A worker forked from it that goes away (died, retired) no longer counts.
  p.Admit(5, clock.Now());
  WorkerId again = p.StartWorker(clock.Now());
  EXPECT_EQ(p.template_workers(), 1);
  p.OnWorkerGone(again);
  EXPECT_EQ(p.template_workers(), 0);
}

TEST_F(TemplateStateTest, RetiresKeepAliveAfterItsLastWorkerIsGoneNeverBefore) {
  PoolState p(WithTemplates());
  ColdRequest(p, 1);
  p.OnTemplateStarting();
  p.OnTemplateReady(clock.Now());
  // The generic worker retires after its keep-alive; the template, made after it, retires one
  // keep-alive after that worker is gone, though it served no start.
  auto up = TickAt(p, seconds(59));
  EXPECT_FALSE(up.retire_template);
  ASSERT_TRUE(up.next_check);
  up = TickAt(p, seconds(1));
  EXPECT_EQ(up.retire.size(), 1u);
  EXPECT_FALSE(up.retire_template);
  EXPECT_FALSE(TickAt(p, seconds(59)).retire_template);
  EXPECT_TRUE(TickAt(p, seconds(1)).retire_template);
  EXPECT_EQ(p.template_state(), TemplateState::kNone);

  // With workers of its own it stays, however long; after the last is gone, one keep-alive.
  PoolState q(WithTemplates());
  ColdRequest(q, 1);
  q.OnTemplateStarting();
  q.OnTemplateReady(clock.Now());
  TickAt(q, seconds(60));  // the generic worker
  EXPECT_TRUE(TickAt(q, seconds(60)).retire_template);
  ColdRequest(q, 2);  // generic again; the template is wanted again
  ASSERT_TRUE(q.WantTemplate());
  q.OnTemplateStarting();
  q.OnTemplateReady(clock.Now());
  clock.Advance(seconds(10));
  // Two requests at once: the generic worker takes one, a worker forked from the template the
  // other (released last, so the most recently used from now on).
  Admission on_generic = q.Admit(3, clock.Now());
  ASSERT_EQ(on_generic.kind, Admission::kRunOn);
  ASSERT_TRUE(q.Admit(4, clock.Now()).cold_start);
  WorkerId forked = q.StartWorker(clock.Now());
  EXPECT_TRUE(q.FromTemplate(forked));
  ASSERT_TRUE(q.OnWorkerReady(forked, clock.Now()));
  q.OnReleased(on_generic.worker, clock.Now());
  clock.Advance(seconds(1));
  q.OnReleased(forked, clock.Now());
  // The forked worker keeps being used for ten minutes: the template must not go meanwhile.
  for (int i = 0; i < 10; ++i) {
    clock.Advance(seconds(59));
    Admission a = q.Admit(10 + i, clock.Now());
    ASSERT_EQ(a.kind, Admission::kRunOn);
    EXPECT_EQ(a.worker, forked);
    q.OnReleased(forked, clock.Now());
    EXPECT_FALSE(q.Tick(clock.Now()).retire_template);
  }
  auto last = TickAt(q, seconds(60));  // the forked worker retires now
  ASSERT_EQ(last.retire.size(), 1u);
  EXPECT_EQ(last.retire[0], forked);
  EXPECT_FALSE(last.retire_template);  // later than its workers
  EXPECT_EQ(q.template_state(), TemplateState::kReady);
  EXPECT_FALSE(TickAt(q, seconds(59)).retire_template);
  EXPECT_TRUE(TickAt(q, seconds(1)).retire_template);
}

TEST_F(TemplateStateTest, EvictableOnlyWhenReadyWithoutLiveWorkers) {
  PoolState p(WithTemplates());
  ColdRequest(p, 1);
  EXPECT_FALSE(p.EvictableTemplate());
  p.OnTemplateStarting();
  EXPECT_FALSE(p.EvictableTemplate());
  p.OnTemplateReady(clock.Now());
  EXPECT_TRUE(p.EvictableTemplate());
  p.Admit(2, clock.Now());  // warm on the generic worker
  p.Admit(3, clock.Now());
  WorkerId forked = p.StartWorker(clock.Now());
  EXPECT_FALSE(p.EvictableTemplate());  // its death would take the worker along
  p.OnStartFailed(forked);
  EXPECT_TRUE(p.EvictableTemplate());
}

TEST_F(TemplateStateTest, GoneTemplateSendsStartsBackToTheGenericPathUntilRecreated) {
  PoolState p(WithTemplates());
  ColdRequest(p, 1);
  p.OnTemplateStarting();
  p.OnTemplateReady(clock.Now());
  p.Admit(2, clock.Now());
  p.Admit(3, clock.Now());
  WorkerId forked = p.StartWorker(clock.Now());
  ASSERT_TRUE(p.FromTemplate(forked));
  p.OnTemplateGone();  // died (its worker with it, as the pool learns on its socket)
  EXPECT_FALSE(p.FromTemplate(forked));
  EXPECT_EQ(p.template_state(), TemplateState::kNone);
  EXPECT_FALSE(p.WantTemplate());  // not before the next generic start
  p.OnWorkerGone(forked);
  p.Admit(4, clock.Now());
  WorkerId generic = p.StartWorker(clock.Now());
  EXPECT_FALSE(p.FromTemplate(generic));
  p.OnWorkerReady(generic, clock.Now());
  EXPECT_TRUE(p.WantTemplate());
}

TEST_F(TemplateStateTest, FailuresOfTheModelAreFinalOthersWaitForTheNextGenericStart) {
  PoolState p(WithTemplates());
  WorkerId w = ColdRequest(p, 1);
  p.OnTemplateStarting();
  p.OnTemplateFailed(/*model=*/false);  // e.g. no room in the node budget
  EXPECT_FALSE(p.WantTemplate());
  p.Admit(2, clock.Now());
  p.Admit(3, clock.Now());
  WorkerId next = p.StartWorker(clock.Now());
  p.OnWorkerReady(next, clock.Now());
  EXPECT_TRUE(p.WantTemplate());
  p.OnTemplateStarting();
  p.OnTemplateFailed(/*model=*/true);  // model_fn left threads running
  EXPECT_EQ(p.template_state(), TemplateState::kUnusable);
  p.OnTemplateGone();
  p.OnReleased(w, clock.Now());
  p.Admit(4, clock.Now());
  p.Admit(5, clock.Now());
  p.Admit(6, clock.Now());
  WorkerId later = p.StartWorker(clock.Now());
  p.OnWorkerReady(later, clock.Now());
  EXPECT_FALSE(p.WantTemplate());
  EXPECT_FALSE(p.FromTemplate(later));
}

TEST(TemplateEviction, TemplatesGoAfterEveryIdleWorker) {
  const WallTime t0{};
  std::vector<EvictionCandidate> candidates = {
      {0, 0, t0, 1024, /*priority=*/0.0, /*is_template=*/true},  // oldest, cheapest: still last
      {1, 7, t0 + seconds(50), 1024, 5.0},
      {2, 9, t0 + seconds(60), 1024, 9.0},
  };
  EvictionPlan two = PlanEviction(4096, 4096, 2048, candidates);
  ASSERT_TRUE(two.fits);
  ASSERT_EQ(two.evict.size(), 2u);
  EXPECT_FALSE(two.evict[0].is_template);
  EXPECT_FALSE(two.evict[1].is_template);
  EvictionPlan three = PlanEviction(4096, 4096, 3072, candidates);
  ASSERT_TRUE(three.fits);
  ASSERT_EQ(three.evict.size(), 3u);
  EXPECT_TRUE(three.evict[2].is_template);
}

}  // namespace
}  // namespace thaw::fleet
