#include "fleet/node_memory.h"

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"

namespace thaw::fleet {
namespace {

using std::chrono::seconds;
using testing::FakeClock;

class PlanEvictionTest : public ::testing::Test {
 protected:
  EvictionCandidate Idle(size_t owner, WorkerId w, int age_s, int64_t mb) {
    return {owner, w, clock.Now() - seconds(age_s), mb};
  }
  FakeClock clock;
};

TEST_F(PlanEvictionTest, FitsWithoutEvictingAnything) {
  EvictionPlan plan = PlanEviction(3072, 1024, 2048, {Idle(0, 1, 10, 1024)});
  EXPECT_TRUE(plan.fits);
  EXPECT_TRUE(plan.evict.empty());
}

TEST_F(PlanEvictionTest, EvictsTheFewestLeastRecentlyUsedFirst) {
  // 4096 used of 4096; 2048 needed: the two oldest 1024 MB workers go, the newer ones stay.
  EvictionPlan plan = PlanEviction(
      4096, 4096, 2048,
      {Idle(0, 1, 5, 1024), Idle(1, 2, 50, 1024), Idle(0, 3, 1, 1024), Idle(2, 4, 30, 1024)});
  ASSERT_TRUE(plan.fits);
  ASSERT_EQ(plan.evict.size(), 2u);
  EXPECT_EQ(plan.evict[0].worker, 2u);
  EXPECT_EQ(plan.evict[1].worker, 4u);
}

TEST_F(PlanEvictionTest, OneLargeOldWorkerMayBeEnough) {
  EvictionPlan plan = PlanEviction(3072, 3072, 2048, {Idle(0, 1, 100, 4096), Idle(1, 2, 1, 512)});
  ASSERT_TRUE(plan.fits);
  ASSERT_EQ(plan.evict.size(), 1u);
  EXPECT_EQ(plan.evict[0].worker, 1u);
}

TEST_F(PlanEvictionTest, EvictsNothingWhenEvenAllWouldNotDo) {
  // 4096 used, 1024 of it idle elsewhere: a 2048 MB start cannot fit in 4096.
  EvictionPlan plan = PlanEviction(4096, 4096, 2048, {Idle(0, 1, 100, 1024)});
  EXPECT_FALSE(plan.fits);
  EXPECT_TRUE(plan.evict.empty());
  // Larger than the whole budget: never fits.
  EXPECT_FALSE(PlanEviction(1024, 0, 2048, {}).fits);
}

TEST(NodeMemoryTest, ReservesUpToTheBudgetAndReleases) {
  NodeMemory memory(3072);
  EXPECT_TRUE(memory.Reserve(nullptr, 2048).ok());
  EXPECT_EQ(memory.used_mb(), 2048);
  Status full = memory.Reserve(nullptr, 2048);  // no pools to evict from
  EXPECT_EQ(full.code(), Code::kUnavailable);
  EXPECT_EQ(memory.used_mb(), 2048);
  EXPECT_TRUE(memory.Reserve(nullptr, 1024).ok());
  memory.Release(2048);
  EXPECT_TRUE(memory.Reserve(nullptr, 2048).ok());
  EXPECT_EQ(memory.used_mb(), 3072);
}

}  // namespace
}  // namespace thaw::fleet
