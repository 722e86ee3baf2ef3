#include "fleet/node_memory.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/logging.h"
#include "fleet/pool.h"

namespace thaw::fleet {

EvictionPlan PlanEviction(int64_t budget_mb, int64_t used_mb, int64_t need_mb,
                          std::vector<EvictionCandidate> candidates) {
  EvictionPlan plan;
  if (used_mb + need_mb <= budget_mb) {
    plan.fits = true;
    return plan;
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const EvictionCandidate& a, const EvictionCandidate& b) {
                     if (a.is_template != b.is_template) return b.is_template;
                     if (a.priority != b.priority) return a.priority < b.priority;
                     return a.last_used < b.last_used;
                   });
  int64_t freed = 0;
  for (const EvictionCandidate& c : candidates) {
    plan.evict.push_back(c);
    freed += c.mb;
    if (used_mb - freed + need_mb <= budget_mb) {
      plan.fits = true;
      return plan;
    }
  }
  plan.evict.clear();  // evicting everything would not be enough: keep them all
  return plan;
}

bool NodeMemory::TryReserve(int64_t mb) {
  std::lock_guard lock(mu_);
  if (budget_mb_ > 0 && used_mb_.load(std::memory_order_relaxed) + mb > budget_mb_) return false;
  used_mb_.fetch_add(mb, std::memory_order_relaxed);
  return true;
}

void NodeMemory::SetPools(std::function<std::vector<std::shared_ptr<Pool>>()> pools) {
  std::lock_guard lock(mu_);
  pools_ = std::move(pools);
}

Status NodeMemory::Reserve(const Pool* requester, int64_t mb) {
  if (budget_mb_ <= 0) {
    used_mb_.fetch_add(mb, std::memory_order_relaxed);
    return Status::Ok();
  }
  std::lock_guard lock(mu_);
  // A candidate may turn busy between the plan and its eviction: plan again a few times.
  for (int attempt = 0; attempt < 8; ++attempt) {
    int64_t used = used_mb_.load(std::memory_order_relaxed);
    if (used + mb <= budget_mb_) {
      used_mb_.fetch_add(mb, std::memory_order_relaxed);
      return Status::Ok();
    }
    std::vector<std::shared_ptr<Pool>> pools;
    if (pools_) pools = pools_();
    std::vector<EvictionCandidate> candidates;
    for (size_t i = 0; i < pools.size(); ++i) {
      if (pools[i].get() == requester) continue;
      double priority = pools[i]->EvictionPriority();
      for (const auto& [worker, last_used] : pools[i]->Evictable()) {
        candidates.push_back({i, worker, last_used, pools[i]->spec().memory_mb, priority});
      }
      if (auto last_used = pools[i]->EvictableTemplate()) {
        candidates.push_back({i, 0, *last_used, pools[i]->spec().memory_mb, priority, true});
      }
    }
    EvictionPlan plan = PlanEviction(budget_mb_, used, mb, std::move(candidates));
    if (!plan.fits) break;
    for (const EvictionCandidate& c : plan.evict) {
      if (c.is_template) {
        if (pools[c.owner]->EvictTemplate()) {
          Logger("fleet")->info("memory budget: evicted the template of endpoint={} ({} MB)",
                                pools[c.owner]->spec().endpoint, c.mb);
        }
        continue;
      }
      if (pools[c.owner]->Evict(c.worker)) {
        Logger("fleet")->info("memory budget: evicted an idle worker of endpoint={} ({} MB)",
                              pools[c.owner]->spec().endpoint, c.mb);
      }
    }
  }
  int64_t used = used_mb_.load(std::memory_order_relaxed);
  return Status(Code::kUnavailable,
                fmt::format("Not enough memory on this node to start a worker of {} MB: {} MB of "
                            "the {} MB budget are in use by workers that cannot be retired.",
                            mb, used, budget_mb_));
}

}  // namespace thaw::fleet
