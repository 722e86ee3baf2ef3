#pragma once
// One production variant's workers, and the thin effectful layer around PoolState.
//
// Everything that touches `state_`, `conns_` or `waiters_` runs on `strand_`: Invoke hops onto
// it (co_spawn), so requests of different variants never contend, and a variant's requests
// contend only for the few microseconds of bookkeeping. Worker launches run on the blocking pool
// (a round trip to the zygote); worker I/O is asynchronous on the strand.
//
// A worker is an HTTP/1.1 peer on a socketpair (the SageMaker container contract). A request
// that reaches a worker is never retried: a dead worker or a timeout fails only that request.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "fleet/launcher.h"
#include "fleet/pool_state.h"

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
};

struct PoolCounts {
  int starting = 0;
  int idle = 0;
  int busy = 0;
};

class Pool : public std::enable_shared_from_this<Pool> {
 public:
  Pool(boost::asio::io_context& io, boost::asio::thread_pool& blocking, Launcher& launcher,
       const Clock& clock, VariantSpec spec);
  ~Pool();

  const VariantSpec& spec() const { return spec_; }

  boost::asio::awaitable<InvokeResult> Invoke(InvokeRequest request);
  // Starts one worker and waits for its first passing /ping (a deploy's trial start). On
  // success the worker stays in the pool, idle. Returns the setup time in microseconds, or the
  // reason the worker did not become healthy.
  boost::asio::awaitable<Result<int64_t>> WarmOne();
  // Keep-alive retirement and the provisioned floor. Posted to the strand; cheap.
  void Tick();
  // No more warm workers: retire idle ones now and busy ones as they finish.
  void Drain();

  PoolCounts counts() const { return {starting_.load(), idle_.load(), busy_.load()}; }

 private:
  struct Conn;
  struct Waiter;

  boost::asio::awaitable<InvokeResult> DoInvoke(std::shared_ptr<const InvokeRequest> request);
  boost::asio::awaitable<void> StartWorker(WorkerId id, std::shared_ptr<Waiter> trial);
  boost::asio::awaitable<InvokeResult> Forward(Conn& conn, const InvokeRequest& request);
  void StartOne(std::shared_ptr<Waiter> trial = nullptr);
  void Wake(const std::optional<Assignment>& a);
  void Release(WorkerId id);
  void Discard(WorkerId id, bool kill);
  void FailWaiters(const std::vector<RequestId>& ids, const std::string& why);
  void Publish();

  boost::asio::io_context& io_;
  boost::asio::thread_pool& blocking_;
  Launcher& launcher_;
  const Clock& clock_;
  const VariantSpec spec_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;

  // Strand-only state.
  PoolState state_;
  std::map<WorkerId, std::unique_ptr<Conn>> conns_;
  std::map<RequestId, std::shared_ptr<Waiter>> waiters_;
  RequestId next_request_ = 1;
  bool draining_ = false;

  // Mirrors of the worker counts for /metrics, written on the strand, read anywhere.
  std::atomic<int> starting_{0}, idle_{0}, busy_{0};
};

}  // namespace thaw::fleet
