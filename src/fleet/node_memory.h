#pragma once
// The node memory budget (issue 3 §4): the sum of MemorySizeInMB over every live worker of every
// endpoint (starting, idle or busy; provisioned and instance floors included) never exceeds
// `--memory-budget-mb`.
//
// Every worker start reserves its MemorySizeInMB here before the launch; the reservation is
// returned when the worker is gone (start failed, retired, killed, evicted). A start that does
// not fit retires idle workers of OTHER pools, in Greedy-Dual-Size-Frequency order (PlanEviction),
// never one that keeps a
// pool's provisioned / instance floor; if even that is not enough, nothing is evicted and the
// start fails (the waiting request gets ServiceUnavailable 503).
//
// PlanEviction is the pure decision; NodeMemory carries it out. Lock order: NodeMemory::mu_ →
// Fleet's route table → one Pool's mutex. A Pool never calls Reserve with its own mutex held;
// Release is lock-free, so a Pool may call it from anywhere.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "fleet/pool_state.h"

namespace thaw::fleet {

class Pool;

// An idle worker another pool could give up.
struct EvictionCandidate {
  size_t owner = 0;  // index of its pool in the caller's list
  WorkerId worker = 0;
  WallTime last_used;
  int64_t mb = 0;
  // Greedy-Dual-Size-Frequency priority (Pool::EvictionPriority): the lowest goes first; equal
  // priorities go least recently used first.
  double priority = 0;
  // A pool's template (Pool::EvictTemplate; `worker` unused): evicted only after every idle
  // worker, whatever its priority — it is what makes the pool's next cold start cheap.
  bool is_template = false;
};

struct EvictionPlan {
  bool fits = false;                     // `need_mb` fits once `evict` is carried out
  std::vector<EvictionCandidate> evict;  // lowest priority first; empty if it fits as is
};

// Which idle workers to retire so that `need_mb` more fits into `budget_mb` with `used_mb` in
// use: candidates in Greedy-Dual-Size-Frequency order (FaasCache, ASPLOS'21: frequency ×
// cold-start cost ÷ memory, lowest first; ties least recently used first) until there is room.
// When even all of them do not make room, `fits` is false and nothing is to be evicted.
EvictionPlan PlanEviction(int64_t budget_mb, int64_t used_mb, int64_t need_mb,
                          std::vector<EvictionCandidate> candidates);

class NodeMemory {
 public:
  // `budget_mb` <= 0: no budget (tests that do not care).
  explicit NodeMemory(int64_t budget_mb) : budget_mb_(budget_mb) {}

  // Where eviction candidates come from: every pool that may hold idle workers. Set by the
  // Fleet; cleared (null) when the Fleet goes away.
  void SetPools(std::function<std::vector<std::shared_ptr<Pool>>()> pools);

  // Reserves `mb` for a worker `requester` is about to start, evicting idle workers of other
  // pools if needed. kUnavailable (with a message saying how much is free) when it cannot fit.
  // Blocking only on other pools' short critical sections. Thread-safe.
  Status Reserve(const Pool* requester, int64_t mb);
  // Reserves `mb` only if it fits as is (evicts nothing): for a template, which is worth less
  // than any warm worker. Thread-safe.
  bool TryReserve(int64_t mb);
  // Returns a reservation. Lock-free; thread-safe.
  void Release(int64_t mb) { used_mb_.fetch_sub(mb, std::memory_order_relaxed); }

  int64_t budget_mb() const { return budget_mb_; }
  int64_t used_mb() const { return used_mb_.load(std::memory_order_relaxed); }

 private:
  const int64_t budget_mb_;
  std::mutex mu_;  // serialises Reserve (check + evict + add) and guards pools_
  std::function<std::vector<std::shared_ptr<Pool>>()> pools_;
  // Only Reserve (under mu_) increases it, so a check-then-add there cannot overshoot.
  std::atomic<int64_t> used_mb_{0};
};

}  // namespace thaw::fleet
