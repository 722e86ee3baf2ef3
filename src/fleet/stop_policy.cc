#include "fleet/stop_policy.h"

namespace thaw::fleet {

StopPlan PlanStop(StopReason reason, std::chrono::milliseconds grace) {
  switch (reason) {
    case StopReason::kKeepAlive:
    case StopReason::kDrained:
    case StopReason::kTrialDone:
      if (grace.count() > 0) return {true, grace};
      return {};
    case StopReason::kEvicted:
    case StopReason::kFailed:
    case StopReason::kPoolGone:
      return {};
  }
  return {};
}

}  // namespace thaw::fleet
