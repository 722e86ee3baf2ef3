#pragma once
// How a worker leaves the fleet: a pure decision, per reason (unit-tested).
//
// The container contract (and SageMaker, like ECS) stops a container with SIGTERM and a grace
// period before SIGKILL, so a program can finish what it holds and flush what it writes. thaw
// retires gracefully whenever nothing is waiting for the worker's memory or for its death:
// keep-alive retirement, the drain of a replaced or deleted endpoint (a busy worker finishes
// its request first: only idle workers are retired), and the trial worker of a deploy. The
// graceful path closes the worker's socket (its stop request: a contract worker exits, a custom
// container's init SIGTERMs its program) and asks the launcher to SIGKILL it `grace` later if it
// still runs; nobody waits for the grace, neither a thread nor a lock.
//
// A worker is killed at once when it timed out or broke its protocol (it is not trusted to
// stop), and when it is evicted for another start under the node memory budget: the budget
// promises that reserved memory is free, so the evicted worker's memory must be gone now.

#include <chrono>

namespace thaw::fleet {

enum class StopReason {
  kKeepAlive,  // idle past --keep-alive, above the floor
  kDrained,    // the endpoint was replaced or deleted
  kTrialDone,  // a deploy's trial worker, once the model proved it loads (serverless idles at 0)
  kEvicted,    // idle, given up for another endpoint's start (node memory budget)
  kFailed,     // timed out, died mid-request, failed its /ping or broke the protocol
  kPoolGone,   // the pool itself is destroyed (server shutdown)
};

struct StopPlan {
  bool graceful = false;               // close the socket, SIGKILL after `grace` if still running
  std::chrono::milliseconds grace{0};  // meaningful when graceful
};

// `grace` is the server's --stop-grace; zero makes every stop a kill.
StopPlan PlanStop(StopReason reason, std::chrono::milliseconds grace);

}  // namespace thaw::fleet
