#include "fleet/stop_policy.h"

#include <gtest/gtest.h>

namespace thaw::fleet {
namespace {

using std::chrono::milliseconds;

TEST(StopPolicy, RetirementsAreGracefulWithTheServersGrace) {
  for (StopReason r : {StopReason::kKeepAlive, StopReason::kDrained, StopReason::kTrialDone}) {
    StopPlan plan = PlanStop(r, milliseconds(30000));
    EXPECT_TRUE(plan.graceful) << static_cast<int>(r);
    EXPECT_EQ(plan.grace, milliseconds(30000));
  }
}

TEST(StopPolicy, FailuresEvictionsAndShutdownKill) {
  for (StopReason r : {StopReason::kEvicted, StopReason::kFailed, StopReason::kPoolGone}) {
    EXPECT_FALSE(PlanStop(r, milliseconds(30000)).graceful) << static_cast<int>(r);
  }
}

TEST(StopPolicy, ZeroGraceKillsEvenOnRetirement) {
  EXPECT_FALSE(PlanStop(StopReason::kKeepAlive, milliseconds(0)).graceful);
  EXPECT_FALSE(PlanStop(StopReason::kDrained, milliseconds(0)).graceful);
}

}  // namespace
}  // namespace thaw::fleet
