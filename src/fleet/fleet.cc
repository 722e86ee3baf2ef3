#include "fleet/fleet.h"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_future.hpp>
#include <future>

namespace thaw::fleet {

namespace asio = boost::asio;

Fleet::Fleet(asio::io_context& io, asio::thread_pool& blocking, Launcher& launcher,
             const Clock& clock, int64_t memory_budget_mb)
    : io_(io),
      blocking_(blocking),
      launcher_(launcher),
      clock_(clock),
      tick_(io),
      memory_(std::make_shared<NodeMemory>(memory_budget_mb)) {
  // Eviction candidates: the live pools. A draining pool has no idle worker left, and a pool
  // still in its trial start keeps at most its floor.
  memory_->SetPools([this] {
    std::vector<std::shared_ptr<Pool>> pools;
    std::shared_lock lock(mu_);
    pools.reserve(routes_.size());
    for (const auto& [name, pool] : routes_) pools.push_back(pool);
    return pools;
  });
}

Fleet::~Fleet() {
  Stop();
  memory_->SetPools(nullptr);
}

std::shared_ptr<Pool> Fleet::NewPool(VariantSpec spec) {
  auto pool = std::make_shared<Pool>(io_, blocking_, launcher_, clock_, std::move(spec), memory_);
  if (setup_sink_) {
    pool->set_on_prewarm(
        [sink = setup_sink_, p = pool.get()](int64_t setup_us) { sink(p->spec(), setup_us); });
  }
  return pool;
}

Result<int64_t> Fleet::TrialStart(const std::shared_ptr<Pool>& pool) {
  std::promise<Result<int64_t>> done;
  auto fut = done.get_future();
  asio::co_spawn(
      io_,
      [pool, done = std::make_shared<std::promise<Result<int64_t>>>(std::move(done))]() mutable
      -> asio::awaitable<void> { done->set_value(co_await pool->WarmOne()); },
      asio::detached);
  // The io_context stops at shutdown: never wait on it forever.
  while (fut.wait_for(std::chrono::milliseconds(100)) == std::future_status::timeout) {
    std::shared_lock lock(mu_);
    if (stopped_) return Status(Code::kUnavailable, "the server is shutting down");
  }
  return fut.get();
}

void Fleet::Activate(const std::string& endpoint, std::shared_ptr<Pool> pool) {
  std::shared_ptr<Pool> old;
  {
    std::unique_lock lock(mu_);
    auto& slot = routes_[endpoint];
    old = std::move(slot);
    slot = std::move(pool);
  }
  if (old) old->Drain();
  if (auto p = Find(endpoint)) p->Tick();  // bring up a provisioned floor at once
}

void Fleet::Remove(const std::string& endpoint) {
  std::shared_ptr<Pool> old;
  {
    std::unique_lock lock(mu_);
    auto it = routes_.find(endpoint);
    if (it == routes_.end()) return;
    old = std::move(it->second);
    routes_.erase(it);
  }
  old->Drain();
}

std::shared_ptr<Pool> Fleet::Find(const std::string& endpoint) const {
  std::shared_lock lock(mu_);
  auto it = routes_.find(endpoint);
  return it == routes_.end() ? nullptr : it->second;
}

void Fleet::Start() { ScheduleTick(); }

void Fleet::Stop() {
  std::vector<std::shared_ptr<Pool>> pools;
  {
    std::unique_lock lock(mu_);
    stopped_ = true;
    for (auto& [name, pool] : routes_) pools.push_back(pool);
  }
  for (auto& p : pools) p->Drain();
  boost::system::error_code ignored;
  tick_.cancel();
}

void Fleet::ScheduleTick() {
  tick_.expires_after(tick_interval_);
  tick_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    std::vector<std::shared_ptr<Pool>> pools;
    {
      std::shared_lock lock(mu_);
      if (stopped_) return;
      for (auto& [name, pool] : routes_) pools.push_back(pool);
    }
    for (auto& p : pools) p->Tick();
    ScheduleTick();
  });
}

std::string Fleet::PrometheusText() const {
  // Prometheus conventions: base units (bytes), one HELP/TYPE per family.
  constexpr int64_t kMb = 1024 * 1024;
  std::string out;
  if (memory_->budget_mb() > 0) {
    out += fmt::format(
        "# HELP thaw_memory_budget_bytes Node memory budget for workers (MemorySizeInMB sum).\n"
        "# TYPE thaw_memory_budget_bytes gauge\n"
        "thaw_memory_budget_bytes {}\n",
        memory_->budget_mb() * kMb);
  }
  out += fmt::format(
      "# HELP thaw_memory_reserved_bytes MemorySizeInMB sum of live workers.\n"
      "# TYPE thaw_memory_reserved_bytes gauge\n"
      "thaw_memory_reserved_bytes {}\n",
      memory_->used_mb() * kMb);
  std::shared_lock lock(mu_);
  out +=
      "# HELP thaw_workers Worker processes by endpoint, variant and state (template: the "
      "scikit-learn template tier's process holding the loaded model, 0 or 1).\n"
      "# TYPE thaw_workers gauge\n";
  for (const auto& [name, pool] : routes_) {
    PoolCounts c = pool->counts();
    for (auto [state, n] : {std::pair{"starting", c.starting}, std::pair{"idle", c.idle},
                            std::pair{"busy", c.busy}, std::pair{"template", c.templates}}) {
      out += fmt::format("thaw_workers{{endpoint=\"{}\",variant=\"{}\",state=\"{}\"}} {}\n", name,
                         pool->spec().variant, state, n);
    }
  }
  // One gauge per line of the variant's config and its in-flight executions, so a dashboard can
  // draw concurrency against MaxConcurrency.
  auto gauge = [&](const char* family, const char* help, auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", family, help, family);
    for (const auto& [name, pool] : routes_) {
      out += fmt::format("{}{{endpoint=\"{}\",variant=\"{}\"}} {}\n", family, name,
                         pool->spec().variant, value(*pool));
    }
  };
  gauge("thaw_concurrent_executions", "Requests running on workers now (busy workers).",
        [](const Pool& p) { return p.counts().busy; });
  gauge("thaw_max_concurrency", "The variant's MaxConcurrency.",
        [](const Pool& p) { return p.spec().pool.max_concurrency; });
  gauge("thaw_provisioned_concurrency", "The variant's ProvisionedConcurrency (0: none).",
        [](const Pool& p) { return p.spec().pool.provisioned; });
  gauge("thaw_memory_size_bytes", "The variant's MemorySizeInMB, in bytes.",
        [&](const Pool& p) { return p.spec().memory_mb * kMb; });
  out +=
      "# HELP thaw_keepalive Keep-alive counters per endpoint (cold_starts, prewarms, "
      "prewarm_hits, prewarm_wasted: counts; idle_worker_seconds, idle_gb_seconds: ended idle "
      "spells; keep_alive_seconds, prewarm_after_seconds: the current window).\n"
      "# TYPE thaw_keepalive gauge\n";
  for (const auto& [name, pool] : routes_) {
    KeepAliveReport r = pool->keep_alive_report();
    double idle_s = static_cast<double>(r.stats.idle_worker_us) / 1e6;
    const std::pair<const char*, double> values[] = {
        {"cold_starts", static_cast<double>(r.stats.cold_starts)},
        {"prewarms", static_cast<double>(r.stats.prewarms)},
        {"prewarm_hits", static_cast<double>(r.stats.prewarm_hits)},
        {"prewarm_wasted", static_cast<double>(r.stats.prewarm_wasted)},
        {"idle_worker_seconds", idle_s},
        {"idle_gb_seconds", idle_s * static_cast<double>(r.memory_mb) / 1024.0},
        {"keep_alive_seconds", static_cast<double>(r.window.keep_alive.count()) / 1e6},
        {"prewarm_after_seconds", static_cast<double>(r.window.prewarm_after.count()) / 1e6},
    };
    for (const auto& [what, v] : values) {
      out += fmt::format("thaw_keepalive{{endpoint=\"{}\",variant=\"{}\",counter=\"{}\"}} {}\n",
                         name, pool->spec().variant, what, v);
    }
  }
  return out;
}

}  // namespace thaw::fleet
