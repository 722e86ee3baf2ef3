#pragma once
// Every endpoint's live variant, by endpoint name: the routing table of the runtime API.
//
// A deploy prepares a new Pool (optionally starting its first worker and waiting for /ping),
// then Activate() switches the endpoint to it atomically; the previous pool drains (its
// in-flight requests finish, then its workers exit). Remove() drains and forgets an endpoint.
// A one-second tick drives keep-alive retirement and the provisioned floor of every pool.
//
// Every pool shares the fleet's NodeMemory (the node memory budget): a cold start that does not
// fit evicts idle workers of the other live pools, least recently used first.
//
// Thread-safety: all methods are thread-safe. The table is behind a shared_mutex (the invoke
// path takes it shared for one lookup).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>

#include "fleet/launcher.h"
#include "fleet/node_memory.h"
#include "fleet/pool.h"

namespace thaw::fleet {

class Fleet {
 public:
  // `io` runs the upkeep tick and background starts. `memory_budget_mb` <= 0: no budget.
  Fleet(boost::asio::io_context& io, boost::asio::thread_pool& blocking, Launcher& launcher,
        const Clock& clock, int64_t memory_budget_mb = 0);
  ~Fleet();

  std::shared_ptr<Pool> NewPool(VariantSpec spec);
  // Blocking: starts the pool's first worker and waits for its /ping (deploy threads only).
  // Returns the setup time (microseconds) or the FailureReason.
  Result<int64_t> TrialStart(const std::shared_ptr<Pool>& pool);
  void Activate(const std::string& endpoint, std::shared_ptr<Pool> pool);
  void Remove(const std::string& endpoint);
  // The live pool of an endpoint (exact name, as InvokeEndpoint matches it), or null.
  std::shared_ptr<Pool> Find(const std::string& endpoint) const;

  // Where pre-warm starts report their setup time (ModelSetupTime, off any request's path).
  // Set before the first pool is made; may stay unset.
  using SetupSink = std::function<void(const VariantSpec&, int64_t setup_us)>;
  void set_setup_sink(SetupSink sink) { setup_sink_ = std::move(sink); }
  // The upkeep period (1 s; shorter in test configurations with short keep-alive bins). Set
  // before Start().
  void set_tick_interval(std::chrono::milliseconds t) { tick_interval_ = t; }

  // Starts the periodic upkeep on the io_context.
  void Start();
  void Stop();

  // Prometheus text for the fleet's gauges (thaw_workers{endpoint,variant,state}, and the node
  // memory budget: thaw_memory_budget_mb, thaw_memory_reserved_mb) and the keep-alive counters
  // per endpoint (cold starts, pre-warms, hits, wasted, idle worker-seconds and GB-seconds).
  std::string PrometheusText() const;

  const NodeMemory& memory() const { return *memory_; }

 private:
  void ScheduleTick();

  boost::asio::io_context& io_;
  boost::asio::thread_pool& blocking_;
  Launcher& launcher_;
  const Clock& clock_;
  boost::asio::steady_timer tick_;
  const std::shared_ptr<NodeMemory> memory_;  // shared with every pool, which may outlive us
  mutable std::shared_mutex mu_;              // guards routes_
  std::map<std::string, std::shared_ptr<Pool>> routes_;
  bool stopped_ = false;
  SetupSink setup_sink_;
  std::chrono::milliseconds tick_interval_{1000};
};

}  // namespace thaw::fleet
