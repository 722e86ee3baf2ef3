#pragma once
// The scaling decisions of one production variant, as a pure state machine: no clock reads, no
// processes, no locks. The effectful Pool (pool.h) owns one PoolState on its strand, feeds it
// events with the `now` of each event, and carries out what it returns. Unit tests drive it with
// a fake clock.
//
// Rules (issue 3, sagemaker-api.md §3):
//  - (locality) among idle workers, one last used from the caller's I/O shard (`affinity`) is
//    preferred, so its socket stays registered with that shard's reactor; MRU otherwise;
//  - a request is admitted while admitted-but-unfinished requests < MaxConcurrency; beyond that
//    it is throttled at once (serverless) — never queued;
//  - an admitted request takes the most recently used idle worker; if none is idle and fewer
//    than MaxConcurrency workers exist (starting included), a cold start begins; the request then
//    waits and takes whichever worker of the variant becomes free first;
//  - idle workers retire after keep_alive, except the `provisioned` most recently used ones;
//  - instance variants keep `instance_count` workers always on and queue up to `max_queue`
//    requests instead of throttling.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "common/clock.h"

namespace thaw::fleet {

using WorkerId = uint64_t;
using RequestId = uint64_t;

struct PoolConfig {
  int max_concurrency = 1;  // serverless MaxConcurrency
  int provisioned = 0;      // ProvisionedConcurrency: warm floor
  bool instance_mode = false;
  int instance_count = 0;  // instance variants: always-on workers
  size_t max_queue = 0;    // instance variants: waiting requests beyond busy workers
  std::chrono::microseconds keep_alive = std::chrono::seconds(300);
};

enum class WorkerState { kStarting, kIdle, kBusy };

// What to do with a request that just arrived.
struct Admission {
  enum Kind { kRunOn, kWait, kThrottle } kind;
  WorkerId worker = 0;      // kRunOn: the worker to send it to
  bool cold_start = false;  // kWait: a new worker must be started for it (StartWorker())
};

// A waiting request and the worker it may now run on.
struct Assignment {
  RequestId request;
  WorkerId worker;
};

class PoolState {
 public:
  explicit PoolState(PoolConfig config) : config_(config) {}

  const PoolConfig& config() const { return config_; }

  // A request arrives. On kWait the request is queued; it comes back from OnWorkerReady /
  // OnReleased as an Assignment. On kWait with cold_start, the caller must start a worker: it
  // calls StartWorker() to get its id first.
  // `affinity` names the caller's I/O shard (any stable key; 0 = none): among idle workers the
  // most recently used one of that shard is preferred. The chosen worker takes that affinity.
  Admission Admit(RequestId request, WallTime now, uintptr_t affinity = 0);
  // Registers a worker being started; returns its id.
  WorkerId StartWorker(WallTime now);
  // A started worker passed its first /ping: it serves the oldest waiter, or goes idle.
  std::optional<Assignment> OnWorkerReady(WorkerId worker, WallTime now);
  // A start failed: the worker is forgotten. Returns the waiters that can no longer be served
  // by any worker (they must be failed), keeping those that existing workers will serve.
  std::vector<RequestId> OnStartFailed(WorkerId worker);
  // A request finished on `worker`: the worker serves the oldest waiter or goes idle.
  std::optional<Assignment> OnReleased(WorkerId worker, WallTime now);
  // A worker died or was killed (timeout): forgotten. If it was busy, its request is over
  // (failed by the caller). The caller then asks StartsNeeded() whether to start a replacement.
  void OnWorkerGone(WorkerId worker);
  // Cold starts needed now for the waiting requests (waiters not covered by starting workers),
  // within the cap.
  int StartsNeeded() const;
  // A waiting request gave up (client went away or deadline): removed from the queue.
  void Cancel(RequestId request);

  // Periodic upkeep: idle workers to retire now (keep-alive expired, above the provisioned
  // floor), and how many workers to start to reach the floor.
  struct Upkeep {
    std::vector<WorkerId> retire;
    int start = 0;
    std::optional<WallTime> next_check;  // when the next retirement falls due
  };
  Upkeep Tick(WallTime now);
  // Retires every idle worker (drain / memory pressure); returns their ids.
  std::vector<WorkerId> RetireAllIdle();
  // The least recently used idle worker and when it was last used, if any (node memory
  // pressure evicts across pools in this order).
  std::optional<std::pair<WorkerId, WallTime>> OldestIdle() const;
  // Removes one idle worker by id (eviction). False if it is not idle.
  bool Retire(WorkerId worker);
  // The idle workers this pool can give up to another pool's cold start (node memory budget),
  // least recently used first: every idle worker above the floor (provisioned / instance count).
  std::vector<std::pair<WorkerId, WallTime>> Evictable() const;
  // Records which I/O shard a worker's socket now lives on (a waiter took it).
  void SetAffinity(WorkerId worker, uintptr_t affinity);

  int in_flight() const { return in_flight_; }
  size_t waiting() const { return waiters_.size(); }
  int Count(WorkerState s) const { return counts_[static_cast<int>(s)]; }
  int workers() const { return static_cast<int>(workers_.size()); }

 private:
  struct Worker {
    WorkerState state;
    WallTime last_used;
    uintptr_t affinity = 0;
  };
  // Every state change goes through here, so the per-state counts stay exact.
  void SetState(Worker& w, WorkerState s);
  void Erase(std::map<WorkerId, Worker>::iterator it);
  int Floor() const { return config_.instance_mode ? config_.instance_count : config_.provisioned; }
  int Cap() const {
    return config_.instance_mode ? config_.instance_count : config_.max_concurrency;
  }
  std::optional<Assignment> ServeWaiterOrIdle(WorkerId worker, WallTime now);

  PoolConfig config_;
  WorkerId next_worker_ = 1;
  int in_flight_ = 0;  // admitted requests not yet finished (running or waiting)
  std::map<WorkerId, Worker> workers_;
  std::deque<RequestId> waiters_;
  int counts_[3] = {0, 0, 0};  // workers by WorkerState
};

}  // namespace thaw::fleet
