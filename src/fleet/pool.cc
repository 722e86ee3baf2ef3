#include "fleet/pool.h"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "common/blocking.h"
#include "common/ids.h"
#include "common/logging.h"

namespace thaw::fleet {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::use_awaitable;
using Socket = asio::local::stream_protocol::socket;

namespace {

constexpr uint64_t kMaxWorkerResponse = 64ull << 20;

int64_t MicrosSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               t0)
      .count();
}

}  // namespace

struct Pool::Conn {
  Conn(asio::strand<asio::io_context::executor_type> ex, WorkerId id, pid_t pid, int fd)
      : id(id), pid(pid), sock(ex), deadline(ex) {
    boost::system::error_code ec;
    sock.assign(asio::local::stream_protocol(), fd, ec);
  }
  // Cancels the socket's pending I/O when `timeout` passes (the handler runs on the strand, as
  // does every use of the socket). `timed_out` tells the waiting coroutine why it woke.
  void ArmDeadline(std::chrono::steady_clock::duration timeout) {
    timed_out = false;
    deadline.expires_after(timeout);
    deadline.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      timed_out = true;
      boost::system::error_code ignored;
      sock.cancel(ignored);
    });
  }

  WorkerId id;
  pid_t pid;
  Socket sock;
  beast::flat_buffer buffer;
  asio::steady_timer deadline;
  bool timed_out = false;
  bool served = false;  // has it served a request yet (its first one is the cold one)
  int64_t setup_us = 0;
};

struct Pool::Waiter {
  explicit Waiter(asio::strand<asio::io_context::executor_type> ex) : timer(ex) {}
  asio::steady_timer timer;
  std::optional<WorkerId> worker;
  std::optional<std::string> failure;
  int64_t setup_us = 0;
};

Pool::Pool(asio::io_context& io, asio::thread_pool& blocking, Launcher& launcher,
           const Clock& clock, VariantSpec spec)
    : io_(io),
      blocking_(blocking),
      launcher_(launcher),
      clock_(clock),
      spec_(std::move(spec)),
      strand_(asio::make_strand(io)),
      state_(spec_.pool) {}

Pool::~Pool() {
  // No coroutine of this pool runs any more (each holds a shared_ptr): what is left is idle.
  for (auto& [id, conn] : conns_) launcher_.Kill(conn->pid);
}

// Not a coroutine itself: GCC 12 mis-destroys aggregates passed by value into coroutine frames
// (ASan "bad-free" on InvokeRequest's optionals), so the request travels in a shared_ptr.
asio::awaitable<InvokeResult> Pool::Invoke(InvokeRequest request) {
  return asio::co_spawn(
      strand_, DoInvoke(std::make_shared<const InvokeRequest>(std::move(request))), use_awaitable);
}

asio::awaitable<InvokeResult> Pool::DoInvoke(std::shared_ptr<const InvokeRequest> request) {
  auto self = shared_from_this();  // alive across every suspension below
  InvokeResult out;
  if (draining_) {
    out.failure = InvokeFailure::kDraining;
    co_return out;
  }
  RequestId rid = next_request_++;
  Admission admission = state_.Admit(rid, clock_.Now());
  if (admission.kind == Admission::kThrottle) {
    out.failure = InvokeFailure::kThrottled;
    co_return out;
  }
  WorkerId worker = admission.worker;
  bool waited = admission.kind == Admission::kWait;
  if (waited) {
    auto waiter = std::make_shared<Waiter>(strand_);
    waiters_[rid] = waiter;
    if (admission.cold_start) StartOne();
    Publish();
    waiter->timer.expires_after(spec_.startup_timeout);
    boost::system::error_code ec;
    co_await waiter->timer.async_wait(asio::redirect_error(use_awaitable, ec));
    waiters_.erase(rid);
    if (!waiter->worker) {
      state_.Cancel(rid);
      Publish();
      out.failure = InvokeFailure::kStartFailed;
      out.message = waiter->failure.value_or("No worker became ready in time.");
      co_return out;
    }
    worker = *waiter->worker;
  }
  Conn& conn = *conns_.at(worker);
  if (waited && !conn.served) {
    out.cold_start = true;
    out.setup_us = conn.setup_us;
  }
  conn.served = true;
  Publish();
  InvokeResult fwd = co_await Forward(conn, *request);
  fwd.cold_start = out.cold_start;
  fwd.setup_us = out.setup_us;
  if (fwd.failure == InvokeFailure::kNone) {
    Release(worker);
  } else {
    Logger("fleet")->warn("endpoint={} variant={} worker={} failed: {}", spec_.endpoint,
                          spec_.variant, conn.pid, fwd.message);
    Discard(worker, /*kill=*/true);
  }
  Publish();
  co_return fwd;
}

asio::awaitable<InvokeResult> Pool::Forward(Conn& conn, const InvokeRequest& request) {
  InvokeResult out;
  http::request<http::string_body> req{http::verb::post, "/invocations", 11};
  req.set(http::field::host, "localhost");
  if (request.content_type) req.set(http::field::content_type, *request.content_type);
  if (request.accept) req.set(http::field::accept, *request.accept);
  if (request.custom_attributes) {
    req.set("X-Amzn-SageMaker-Custom-Attributes", *request.custom_attributes);
  }
  req.body() = request.body;
  req.keep_alive(true);
  req.prepare_payload();

  conn.ArmDeadline(spec_.invocation_timeout);
  auto t0 = std::chrono::steady_clock::now();
  boost::system::error_code ec;
  co_await http::async_write(conn.sock, req, asio::redirect_error(use_awaitable, ec));
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxWorkerResponse);
  if (!ec) {
    co_await http::async_read(conn.sock, conn.buffer, parser,
                              asio::redirect_error(use_awaitable, ec));
  }
  conn.deadline.cancel();
  out.model_latency_us = MicrosSince(t0);
  if (ec) {
    out.failure = conn.timed_out ? InvokeFailure::kTimeout : InvokeFailure::kWorkerDied;
    out.message = conn.timed_out ? "invocation timed out" : "worker connection: " + ec.message();
    co_return out;
  }
  auto res = parser.release();
  out.status = res.result_int();
  if (auto it = res.find(http::field::content_type); it != res.end()) {
    out.content_type = std::string(it->value());
  }
  if (auto it = res.find("X-Amzn-SageMaker-Custom-Attributes"); it != res.end()) {
    out.custom_attributes = std::string(it->value());
  }
  out.body = std::move(res.body());
  co_return out;
}

void Pool::StartOne(std::shared_ptr<Waiter> trial) {
  WorkerId id = state_.StartWorker(clock_.Now());
  asio::co_spawn(strand_, shared_from_this()->StartWorker(id, std::move(trial)), asio::detached);
}

asio::awaitable<void> Pool::StartWorker(WorkerId id, std::shared_ptr<Waiter> trial) {
  auto self = shared_from_this();
  auto t0 = std::chrono::steady_clock::now();
  LaunchSpec launch{fmt::format("{}.{}.{}", spec_.endpoint, id, RandomHex(3)), spec_.runtime,
                    spec_.model_dir, spec_.memory_mb, spec_.env};
  Result<LaunchedWorker> launched =
      co_await RunBlocking(blocking_, [this, &launch] { return launcher_.Launch(launch); });

  std::string failure;
  std::unique_ptr<Conn> conn;
  if (!launched.ok()) {
    failure = "The worker could not be started: " + launched.status().message();
  } else {
    conn = std::make_unique<Conn>(strand_, id, launched->pid, launched->fd);
    http::request<http::empty_body> ping{http::verb::get, "/ping", 11};
    ping.set(http::field::host, "localhost");
    ping.keep_alive(true);
    conn->ArmDeadline(spec_.startup_timeout);
    boost::system::error_code ec;
    co_await http::async_write(conn->sock, ping, asio::redirect_error(use_awaitable, ec));
    http::response<http::string_body> res;
    if (!ec) {
      co_await http::async_read(conn->sock, conn->buffer, res,
                                asio::redirect_error(use_awaitable, ec));
    }
    conn->deadline.cancel();
    if (ec || res.result_int() != 200) {
      std::string detail =
          ec ? (conn->timed_out ? "no answer in time" : ec.message())
             : fmt::format("HTTP {}: {}", res.result_int(), res.body().substr(0, 512));
      failure = fmt::format(
          "The primary container for production variant {} did not pass the ping health check. "
          "Please check CloudWatch logs for this endpoint. ({})",
          spec_.variant, detail);
      launcher_.Kill(conn->pid);
    }
  }

  if (!failure.empty()) {
    Logger("fleet")->warn("endpoint={} variant={} start failed: {}", spec_.endpoint, spec_.variant,
                          failure);
    FailWaiters(state_.OnStartFailed(id), failure);
    if (trial) {
      trial->failure = failure;
      trial->timer.cancel();
    }
    Publish();
    co_return;
  }
  conn->setup_us = MicrosSince(t0);
  Logger("fleet")->debug("endpoint={} variant={} worker pid={} ready in {} us", spec_.endpoint,
                         spec_.variant, conn->pid, conn->setup_us);
  if (trial) {
    conn->served = true;  // the trial start is not a request's cold start
    trial->setup_us = conn->setup_us;
    trial->worker = id;
    trial->timer.cancel();
  }
  conns_[id] = std::move(conn);
  auto assignment = state_.OnWorkerReady(id, clock_.Now());
  bool keeps_floor = spec_.pool.instance_mode || spec_.pool.provisioned > 0;
  if (!assignment && (draining_ || (trial && !keeps_floor))) {
    // A serverless endpoint idles at zero workers: the trial start proved the model loads, and
    // the first request will cold-start.
    state_.Retire(id);
    Discard(id, true);
  }
  Wake(assignment);
  Publish();
}

asio::awaitable<Result<int64_t>> Pool::WarmOne() {
  auto self = shared_from_this();
  auto trial = std::make_shared<Waiter>(strand_);
  auto wait = [self, trial]() -> asio::awaitable<std::pair<Status, int64_t>> {
    self->StartOne(trial);
    self->Publish();
    trial->timer.expires_after(self->spec_.startup_timeout + std::chrono::seconds(5));
    boost::system::error_code ec;
    co_await trial->timer.async_wait(asio::redirect_error(use_awaitable, ec));
    if (!trial->worker) {
      co_return std::make_pair(
          Status(Code::kInvalidArgument, trial->failure.value_or("the worker did not start")),
          int64_t{0});
    }
    co_return std::make_pair(Status::Ok(), trial->setup_us);
  };
  auto [status, setup_us] = co_await asio::co_spawn(strand_, wait(), use_awaitable);
  if (!status.ok()) co_return status;
  co_return setup_us;
}

void Pool::Wake(const std::optional<Assignment>& a) {
  if (!a) return;
  auto it = waiters_.find(a->request);
  if (it == waiters_.end()) {
    // The waiter gave up between being queued and now: hand the worker back.
    Release(a->worker);
    return;
  }
  it->second->worker = a->worker;
  it->second->timer.cancel();
}

void Pool::Release(WorkerId id) {
  auto assignment = state_.OnReleased(id, clock_.Now());
  if (!assignment && draining_) {
    state_.Retire(id);
    Discard(id, true);
    return;
  }
  Wake(assignment);
}

void Pool::Discard(WorkerId id, bool kill) {
  auto it = conns_.find(id);
  if (it != conns_.end()) {
    if (kill) launcher_.Kill(it->second->pid);
    boost::system::error_code ignored;
    it->second->sock.close(ignored);
    conns_.erase(it);
  }
  state_.OnWorkerGone(id);
  if (draining_) return;
  for (int n = state_.StartsNeeded(); n > 0; --n) StartOne();
}

void Pool::FailWaiters(const std::vector<RequestId>& ids, const std::string& why) {
  for (RequestId r : ids) {
    auto it = waiters_.find(r);
    if (it == waiters_.end()) continue;
    it->second->failure = why;
    it->second->timer.cancel();
  }
}

void Pool::Tick() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->draining_) return;
    auto up = self->state_.Tick(self->clock_.Now());
    for (WorkerId id : up.retire) self->Discard(id, true);
    for (int i = 0; i < up.start; ++i) self->StartOne();
    self->Publish();
  });
}

void Pool::Drain() {
  asio::post(strand_, [self = shared_from_this()] {
    self->draining_ = true;
    for (WorkerId id : self->state_.RetireAllIdle()) self->Discard(id, true);
    self->Publish();
  });
}

void Pool::Publish() {
  starting_ = state_.Count(WorkerState::kStarting);
  idle_ = state_.Count(WorkerState::kIdle);
  busy_ = state_.Count(WorkerState::kBusy);
}

}  // namespace thaw::fleet
