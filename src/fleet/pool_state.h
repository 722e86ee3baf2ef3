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
//    with a policy, each worker that goes idle gets its concurrency level's window (keep_alive.h:
//    the worker released when k requests fell to k − 1 keeps level k's), and a level whose window
//    pre-warms brings the pool back to k workers at its time;
//  - instance variants keep `instance_count` workers always on and queue up to `max_queue`
//    requests instead of throttling.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "fleet/keep_alive.h"

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
  // When set, it decides retirement and pre-warm (keep_alive.h) instead of `keep_alive`.
  std::shared_ptr<const KeepAlivePolicy> policy;
  // The template tier (scikit-learn): after a start from the generic zygote, keep a template
  // process holding the loaded model, from which later starts fork.
  bool templates = false;
};

// The variant's template (PoolConfig::templates). Rules:
//  - one is wanted after a worker started the generic way became ready, while there is none;
//  - starts fork from it while it is ready (a start that finds it gone goes the generic way);
//  - it retires `keep_alive` (the current window's) after the pool's last worker went (forked
//    from it or not) or its last fork, whichever is later, and only with no worker of its own
//    alive: those are in its PID namespace and would die with it. So it outlives the workers;
//  - under node memory pressure it is evicted after every idle worker (NodeMemory), and only
//    with no live worker either;
//  - a template that could not be created for a reason of the model (model_fn left threads,
//    the load failed) is not tried again for this pool; one that died, was evicted or could not
//    start for lack of memory is re-created after the next generic start.
enum class TemplateState { kNone, kStarting, kReady, kUnusable };

// What the pool's keep-alive did, for metrics and the simulator. Monotonic counters.
struct KeepAliveStats {
  int64_t requests = 0;        // admitted
  int64_t cold_starts = 0;     // admitted requests that had to wait for a starting worker
  int64_t prewarms = 0;        // pre-warm starts begun
  int64_t prewarm_hits = 0;    // pre-warmed workers whose first request found them ready
  int64_t prewarm_wasted = 0;  // pre-warmed workers retired without serving
  int64_t idle_worker_us = 0;  // worker-microseconds spent idle (ended idle spells only)
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
  explicit PoolState(PoolConfig config);

  const PoolConfig& config() const { return config_; }

  // A request arrives. On kWait the request is queued; it comes back from OnWorkerReady /
  // OnReleased as an Assignment. On kWait with cold_start, the caller must start a worker: it
  // calls StartWorker() to get its id first.
  // `affinity` names the caller's I/O shard (any stable key; 0 = none): among idle workers the
  // most recently used one of that shard is preferred. The chosen worker takes that affinity.
  Admission Admit(RequestId request, WallTime now, uintptr_t affinity = 0);
  // Registers a worker being started; returns its id. `prewarm`: a start the keep-alive policy
  // asked for (Upkeep::prewarm), not a request's. It forks from the template when one is ready
  // (FromTemplate tells).
  WorkerId StartWorker(WallTime now, bool prewarm = false);
  bool FromTemplate(WorkerId worker) const;

  // The template (see TemplateState).
  TemplateState template_state() const { return template_.state; }
  int template_workers() const { return template_.workers; }
  // A template should be started now (the caller then calls OnTemplateStarting).
  bool WantTemplate() const;
  void OnTemplateStarting();
  void OnTemplateReady(WallTime now);
  // `model`: it failed because of the model (not retried for this pool), else a transient
  // reason (memory, launch).
  void OnTemplateFailed(bool model);
  // It died, was evicted or retired: starts go the generic way; its workers count as theirs.
  void OnTemplateGone();
  // A start from the template found it gone, and went the generic way.
  void OnStartedGeneric(WorkerId worker);
  // When the template could be evicted (ready, no live worker of its own): its last use.
  std::optional<WallTime> EvictableTemplate() const;
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
  // floor), how many workers to start to reach the floor, and how many to pre-warm (the caller
  // starts each with StartWorker(now, /*prewarm=*/true)).
  struct Upkeep {
    std::vector<WorkerId> retire;
    bool retire_template = false;  // the template's keep-alive ran out (OnTemplateGone done)
    int start = 0;
    int prewarm = 0;
    std::optional<WallTime> next_check;  // when the next retirement or pre-warm falls due
  };
  Upkeep Tick(WallTime now);
  // Retires every idle worker (drain / memory pressure); returns their ids.
  std::vector<WorkerId> RetireAllIdle(WallTime now);
  // The least recently used idle worker and when it was last used, if any (node memory
  // pressure evicts across pools in this order).
  std::optional<std::pair<WorkerId, WallTime>> OldestIdle() const;
  // Removes one idle worker by id (eviction). False if it is not idle.
  bool Retire(WorkerId worker, WallTime now);
  // The idle workers this pool can give up to another pool's cold start (node memory budget),
  // least recently used first: every idle worker above the floor (provisioned / instance count).
  std::vector<std::pair<WorkerId, WallTime>> Evictable() const;
  // Records which I/O shard a worker's socket now lives on (a waiter took it).
  void SetAffinity(WorkerId worker, uintptr_t affinity);

  // Requests per second, exponentially decayed (half-life kFrequencyHalfLife): the frequency
  // term of the Greedy-Dual-Size-Frequency eviction order (node_memory.h).
  double Frequency(WallTime now) const;
  static constexpr std::chrono::seconds kFrequencyHalfLife{600};

  const KeepAliveStats& stats() const { return stats_; }
  // Level 1 (the endpoint: nothing in flight): its history, the window of its current (or,
  // while busy, last) idle period, and when that began (none while busy).
  const IdleHistogram& history() const { return levels_.front().history; }
  const KeepAliveWindow& window() const { return levels_.front().window; }
  const std::optional<WallTime>& idle_since() const { return levels_.front().idle_since; }
  // Concurrency levels with a history so far (the highest number in flight at once, at least 1).
  int levels() const { return static_cast<int>(levels_.size()); }
  const IdleHistogram& history(int level) const { return levels_.at(level - 1).history; }

  int in_flight() const { return in_flight_; }
  size_t waiting() const { return waiters_.size(); }
  int Count(WorkerState s) const { return counts_[static_cast<int>(s)]; }
  int workers() const { return static_cast<int>(workers_.size()); }

 private:
  struct Worker {
    WorkerState state;
    WallTime last_used;  // or, while idle, since when it is idle
    uintptr_t affinity = 0;
    bool prewarmed = false;  // started by a pre-warm and not used yet
    bool from_template = false;
    WallTime retire_at{};  // while idle (pre-warmed: from its start): when it retires
  };
  struct Template {
    TemplateState state = TemplateState::kNone;
    int workers = 0;       // live workers forked from it
    WallTime last_used{};  // its last fork, or when its last worker went
    bool wanted = false;   // a generic start became ready since it was last gone
  };
  // Idle workers are indexed by (last_used, id) and by (retire_at, id), so that choosing,
  // expiring and evicting them costs O(log n) instead of a scan over every worker (apps of the
  // Azure trace run hundreds of workers at once; the scan made a replay quadratic). The index
  // follows the state: a worker is in it exactly while it is kIdle, under the keys it went idle
  // with.
  using IdleKey = std::pair<WallTime, WorkerId>;
  using IdleSet = std::set<IdleKey>;
  using WorkerMap = std::map<WorkerId, Worker>;
  // Every state change goes through here, so the per-state counts and the index stay exact.
  void SetState(WorkerMap::iterator it, WorkerState s);
  void Erase(WorkerMap::iterator it, std::optional<WallTime> now = {});
  void Index(WorkerMap::iterator it);
  void Unindex(WorkerMap::iterator it);
  // The most recently used entry of a non-empty set; among equal last_used, the lowest id.
  static WorkerId MostRecent(const IdleSet& s);
  // Takes an idle worker out of service for good: retired, its idle spell accounted.
  void RetireIdle(WorkerMap::iterator it, WallTime now);
  int Floor() const { return config_.instance_mode ? config_.instance_count : config_.provisioned; }
  int Cap() const {
    return config_.instance_mode ? config_.instance_count : config_.max_concurrency;
  }
  // `retire_at`: when the worker retires if it goes idle.
  std::optional<Assignment> ServeWaiterOrIdle(WorkerId worker, WallTime now, WallTime retire_at);
  // One concurrency level's keep-alive state (keep_alive.h).
  struct Level {
    IdleHistogram history;
    std::optional<WallTime> idle_since;  // fewer than this many in flight since then
    KeepAliveWindow window;              // of the current (or last) idle period
    std::optional<WallTime> prewarm_at;  // its pending pre-warm (in prewarms_)
  };
  // Level k (1-based), created with an empty history when first reached.
  Level& LevelAt(int k);
  // When a worker that goes idle at `now` in level k's place retires.
  static WallTime IdleDeadline(const Level& level, WallTime now);
  // An idle worker leaves idle (taken, retired): its idle spell is accounted. Called after the
  // worker left the index.
  void EndIdle(Worker& w, WallTime now, bool retired);

  PoolConfig config_;
  WorkerId next_worker_ = 1;
  int in_flight_ = 0;  // admitted requests not yet finished (running or waiting)
  WorkerMap workers_;
  // The idle index: by last use, by retirement (Tick stops at the first one not due), and by
  // affinity (Admit's shard preference). No empty sets in idle_by_affinity_.
  IdleSet idle_;
  IdleSet idle_by_deadline_;  // (retire_at, id)
  std::map<uintptr_t, IdleSet> idle_by_affinity_;
  std::deque<RequestId> waiters_;
  int counts_[3] = {0, 0, 0};  // workers by WorkerState

  // Keep-alive (keep_alive.h): levels_[k - 1] is concurrency level k; never empty.
  std::vector<Level> levels_;
  std::set<std::pair<WallTime, int>> prewarms_;  // pending pre-warms: (when, level)
  WallTime prewarm_until_{};  // retire_at of the workers the last Tick's pre-warm starts
  KeepAliveStats stats_;
  Template template_;
  double frequency_ = 0;  // decayed request count, as of frequency_at_
  WallTime frequency_at_{};
};

}  // namespace thaw::fleet
