#pragma once
// One production variant's workers, and the thin effectful layer around PoolState.
//
// Threading (the warm path's cost is thread hand-offs, bench/ANALYSIS.md): a request's whole
// life runs on the executor of the connection that carries it. Invoke() takes `mu_` (a plain
// mutex, uncontended in the common case: no system call) for the PoolState bookkeeping only,
// then writes to and reads from the worker's socket on the caller's own executor. A worker
// serves one request at a time, so its socket has one user at a time; when a request on another
// I/O shard takes it, the socket is re-registered with that shard's reactor (two epoll_ctl on the
// caller's thread, no cross-thread wake-up). PoolState prefers an idle worker of the caller's
// shard, so under steady load sockets stay put.
//
// Contract: Invoke() must be awaited on a serial executor (a strand, or an io_context run by one
// thread): the waiter/timer hand-off below relies on it.
//
// The rare paths may cross threads: a cold start waiter is woken by a post to its executor;
// background starts (provisioned floor, trial starts) run on the pool's strand; launches run on
// the blocking pool (a round trip to the zygote). Every start first reserves its memory in the
// node budget (NodeMemory), which may evict other pools' idle workers.
//
// A worker is an HTTP/1.1 peer on a socketpair (the SageMaker container contract). A request
// that reaches a worker is never retried: a dead worker or a timeout fails only that request.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "fleet/launcher.h"
#include "fleet/node_memory.h"
#include "fleet/pool_state.h"
#include "fleet/stop_policy.h"

namespace thaw::fleet {

struct VariantSpec {
  std::string endpoint;
  std::string variant;
  std::string runtime;
  std::filesystem::path model_dir;
  std::vector<std::pair<std::string, std::string>> env;
  int64_t memory_mb = 2048;
  PoolConfig pool;
  std::chrono::milliseconds invocation_timeout{60000};
  std::chrono::milliseconds startup_timeout{180000};  // launch + first passing /ping
  std::chrono::milliseconds stop_grace{30000};        // graceful retirement (stop_policy.h)
};

struct InvokeRequest {
  std::string body;
  std::optional<std::string> content_type;  // forwarded exactly as received; none invented
  std::optional<std::string> accept;
  std::optional<std::string> custom_attributes;
};

enum class InvokeFailure {
  kNone,         // the worker answered (any status)
  kThrottled,    // over MaxConcurrency (ThrottlingException)
  kTimeout,      // no answer within the invocation timeout (worker killed)
  kWorkerDied,   // the worker died mid-request
  kStartFailed,  // no worker could be started for this request
  kDraining,     // the pool is shutting down
  kNoMemory,     // no worker could be started within the node memory budget (503)
};

// Default-constructible on purpose: it crosses co_spawn, which needs that in Boost 1.74.
struct InvokeResult {
  InvokeFailure failure = InvokeFailure::kNone;
  std::string message;  // for failures
  unsigned status = 0;  // the worker's HTTP status
  std::string body;
  std::optional<std::string> content_type;
  std::optional<std::string> custom_attributes;
  bool cold_start = false;
  int64_t model_latency_us = 0;  // round trip to the worker
  int64_t setup_us = 0;          // the cold start this request waited for (ModelSetupTime)
  std::string log_stream;        // the log stream of the worker, when it failed or answered 4xx/5xx
};

// The keep-alive counters of a pool (PoolState::stats), its current window and worker size;
// /metrics renders it (thaw_keepalive) and so does the thaw/KeepAlive CloudWatch namespace
// (server/metrics_wiring), which also shows the policy and its learned histogram.
struct KeepAliveReport {
  KeepAliveStats stats;
  KeepAliveWindow window;
  int64_t memory_mb = 0;
  std::string policy;                  // KeepAlivePolicy::Name(): "adaptive", "fixed:600"
  Micros bin{0};                       // the idle-time histogram's bin width
  std::vector<int64_t> idle_counts;    // idle times per bin
  int64_t idle_out_of_range = 0;       // idle times beyond the last bin
  std::optional<WallTime> idle_since;  // the current idle period's start; none while busy
};

struct PoolCounts {
  int starting = 0;
  int idle = 0;
  int busy = 0;
  int templates = 0;  // ready templates (0 or 1)
};

class Pool : public std::enable_shared_from_this<Pool> {
 public:
  // `memory` may be null: no node budget (tests).
  Pool(boost::asio::io_context& io, boost::asio::thread_pool& blocking, Launcher& launcher,
       const Clock& clock, VariantSpec spec, std::shared_ptr<NodeMemory> memory = nullptr);
  ~Pool();

  const VariantSpec& spec() const { return spec_; }

  // Runs on the caller's (serial) executor; `request` must stay alive until it completes.
  boost::asio::awaitable<InvokeResult> Invoke(const InvokeRequest& request);
  // Starts one worker and waits for its first passing /ping (a deploy's trial start). On
  // success the worker stays in the pool, idle. Returns the setup time in microseconds, or the
  // reason the worker did not become healthy (kResourceLimit: no room in the node budget).
  boost::asio::awaitable<Result<int64_t>> WarmOne();
  // Keep-alive retirement and the provisioned floor. Thread-safe; cheap.
  void Tick();
  // No more warm workers: retire idle ones now and busy ones as they finish. Thread-safe.
  void Drain();

  // Node memory budget (NodeMemory, which calls these with none of this pool's locks held):
  // the idle workers above the floor, least recently used first, and the retirement of one of
  // them (false if it is no longer idle). Thread-safe.
  std::vector<std::pair<WorkerId, WallTime>> Evictable() const;
  bool Evict(WorkerId worker);
  // The Greedy-Dual-Size-Frequency priority of this pool's idle workers (lowest evicted first):
  // decayed request rate × last measured start time ÷ MemorySizeInMB. Thread-safe.
  double EvictionPriority() const;
  // The template, when it may be evicted (ready, no live worker of its own): its last use.
  // EvictTemplate kills it (false if it is not evictable any more). Thread-safe.
  std::optional<WallTime> EvictableTemplate() const;
  bool EvictTemplate();

  KeepAliveReport keep_alive_report() const;
  // Called (under the pool's lock: it must not call back into the pool) with the setup time
  // of every pre-warm start that became ready. Set before the pool serves.
  void set_on_prewarm(std::function<void(int64_t setup_us)> f) { on_prewarm_ = std::move(f); }

  PoolCounts counts() const {
    return {starting_.load(std::memory_order_relaxed), idle_.load(std::memory_order_relaxed),
            busy_.load(std::memory_order_relaxed), templates_.load(std::memory_order_relaxed)};
  }

 private:
  struct Conn;
  struct Waiter;

  using Executor = boost::asio::any_io_executor;

  static boost::asio::awaitable<void> StartWorker(std::shared_ptr<Pool> self, WorkerId id,
                                                  std::shared_ptr<Waiter> trial, bool prewarm,
                                                  pid_t template_pid);
  // The template tier (pool_state.h, TemplateState): makes the template, on the strand.
  static boost::asio::awaitable<void> StartTemplate(std::shared_ptr<Pool> self);
  void StartTemplateLocked();
  // Stops the template as PlanStop(why) says, returns its memory, forgets it; `line` goes to
  // its log stream.
  void DropTemplateLocked(StopReason why, std::string line);
  boost::asio::awaitable<InvokeResult> Forward(Conn& conn, const InvokeRequest& request,
                                               const Executor& ex);
  // The *Locked helpers need mu_ held; they may post and kill, but never wait.
  void StartOneLocked(const Executor& ex, std::shared_ptr<Waiter> trial = nullptr,
                      bool prewarm = false);
  void WakeLocked(const std::optional<Assignment>& a);
  void ReleaseLocked(WorkerId id);
  // Forgets a worker and stops its process as PlanStop(why) says (its socket is closed either
  // way; a graceful stop leaves the SIGKILL to the launcher, after the grace).
  void DiscardLocked(WorkerId id, StopReason why);
  void FailWaitersLocked(const std::vector<RequestId>& ids, const std::string& why,
                         InvokeFailure kind, const std::string& log_stream);
  // A line for the worker's log stream (Launcher::Note).
  void Note(const std::string& log_stream, std::string line) const;
  void PublishLocked();

  boost::asio::io_context& io_;
  boost::asio::thread_pool& blocking_;
  Launcher& launcher_;
  const Clock& clock_;
  const VariantSpec spec_;
  const std::shared_ptr<NodeMemory> memory_;
  // Background work (floor and trial starts) runs here; requests never hop onto it.
  const boost::asio::strand<boost::asio::io_context::executor_type> strand_;

  mutable std::mutex mu_;
  // Guarded by mu_. A busy worker's Conn is used (outside mu_) only by the request that holds
  // it; an idle one only under mu_.
  PoolState state_;
  std::map<WorkerId, std::unique_ptr<Conn>> conns_;
  std::map<RequestId, std::shared_ptr<Waiter>> waiters_;
  std::unique_ptr<Conn> template_;  // the ready template (its socket: EOF = it died)
  RequestId next_request_ = 1;
  bool draining_ = false;

  // Mirrors of the worker counts for /metrics, written under mu_, read anywhere.
  std::atomic<int> starting_{0}, idle_{0}, busy_{0}, templates_{0};
  std::atomic<int64_t> last_setup_us_{0};  // the last start's setup time (eviction cost)
  std::function<void(int64_t)> on_prewarm_;
};

}  // namespace thaw::fleet
