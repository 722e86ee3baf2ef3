#include "fleet/pool.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/span_body.hpp>

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

// Which I/O shard an executor belongs to: its execution context (an io_context per shard).
uintptr_t AffinityOf(const asio::any_io_executor& ex) {
  return reinterpret_cast<uintptr_t>(&asio::query(ex, asio::execution::context));
}

// A per-operation deadline on the socket's own executor: when it passes, the socket's pending
// I/O is cancelled. Shared with its timer handler, so a handler that was already queued when
// the operation finished finds it disarmed and does nothing.
struct Deadline {
  explicit Deadline(Socket& sock) : timer(sock.get_executor()), sock(&sock) {}
  asio::steady_timer timer;
  Socket* sock;
  bool armed = true;
  bool fired = false;
};

std::shared_ptr<Deadline> Arm(Socket& sock, std::chrono::steady_clock::duration timeout) {
  auto d = std::make_shared<Deadline>(sock);
  d->timer.expires_after(timeout);
  d->timer.async_wait([d](boost::system::error_code ec) {
    if (ec || !d->armed) return;
    d->fired = true;
    boost::system::error_code ignored;
    d->sock->cancel(ignored);
  });
  return d;
}

void Disarm(Deadline& d) {
  d.armed = false;
  d.timer.cancel();
}

int64_t MicrosSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               t0)
      .count();
}

}  // namespace

struct Pool::Conn {
  Conn(WorkerId id, pid_t pid, int fd, std::string log_stream)
      : id(id), pid(pid), fd(fd), log_stream(std::move(log_stream)) {}
  ~Conn() { Close(); }

  // The socket, registered with the reactor of `ex` (moved there if another shard used it
  // last: epoll_ctl DEL + ADD on the calling thread). The caller must hold the worker (busy or
  // starting), so nobody else uses the socket meanwhile.
  Socket& On(const asio::any_io_executor& ex) {
    if (sock && sock->get_executor() == ex) return *sock;
    boost::system::error_code ec;
    int raw = fd;
    if (sock) raw = sock->release(ec);  // no operation is pending on an unused socket
    sock.emplace(ex);
    sock->assign(asio::local::stream_protocol(), raw, ec);
    return *sock;
  }
  void Close() {
    boost::system::error_code ignored;
    if (sock) {
      sock->close(ignored);
    } else if (fd >= 0) {
      ::close(fd);
    }
    sock.reset();
    fd = -1;
  }

  const WorkerId id;
  const pid_t pid;
  int fd;
  std::optional<Socket> sock;
  beast::flat_buffer buffer;
  bool served = false;  // has it served a request yet (its first one is the cold one)
  int64_t setup_us = 0;
  const std::string log_stream;
};

// A request waiting for a worker (cold start), or a trial start waiting for its worker. The
// fields are written under Pool::mu_; the waker then posts `timer.cancel()` to the timer's
// (serial) executor, which runs only after the waiting coroutine has started its wait.
struct Pool::Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  std::optional<WorkerId> worker;
  std::optional<std::string> failure;
  InvokeFailure failure_kind = InvokeFailure::kStartFailed;
  std::string failure_stream;  // the log stream of the worker that failed to start
  int64_t setup_us = 0;
};

Pool::Pool(asio::io_context& io, asio::thread_pool& blocking, Launcher& launcher,
           const Clock& clock, VariantSpec spec, std::shared_ptr<NodeMemory> memory)
    : io_(io),
      blocking_(blocking),
      launcher_(launcher),
      clock_(clock),
      spec_(std::move(spec)),
      memory_(std::move(memory)),
      strand_(asio::make_strand(io)),
      state_(spec_.pool) {}

Pool::~Pool() {
  // No coroutine of this pool runs any more (each holds a shared_ptr): what is left is idle.
  for (auto& [id, conn] : conns_) {
    launcher_.Kill(conn->pid);
    if (memory_) memory_->Release(spec_.memory_mb);
  }
  if (template_) {
    launcher_.Kill(template_->pid);
    if (memory_) memory_->Release(spec_.memory_mb);
  }
}

asio::awaitable<InvokeResult> Pool::Invoke(const InvokeRequest& request) {
  auto self = shared_from_this();  // alive across every suspension below
  const Executor ex = co_await asio::this_coro::executor;
  InvokeResult out;
  Conn* conn = nullptr;
  WorkerId worker = 0;
  RequestId rid = 0;
  std::shared_ptr<Waiter> waiter;
  {
    std::lock_guard lock(mu_);
    if (draining_) {
      out.failure = InvokeFailure::kDraining;
      co_return out;
    }
    rid = next_request_++;
    Admission admission = state_.Admit(rid, clock_.Now(), AffinityOf(ex));
    if (admission.kind == Admission::kThrottle) {
      out.failure = InvokeFailure::kThrottled;
      co_return out;
    }
    if (admission.kind == Admission::kRunOn) {
      worker = admission.worker;
      conn = conns_.at(worker).get();
    } else {
      waiter = std::make_shared<Waiter>(ex);
      waiters_[rid] = waiter;
      if (admission.cold_start) StartOneLocked(ex);
    }
    PublishLocked();
  }
  if (waiter) {
    waiter->timer.expires_after(spec_.startup_timeout);
    boost::system::error_code ec;
    co_await waiter->timer.async_wait(asio::redirect_error(use_awaitable, ec));
    std::lock_guard lock(mu_);
    waiters_.erase(rid);
    if (!waiter->worker) {
      state_.Cancel(rid);
      PublishLocked();
      out.failure = waiter->failure ? waiter->failure_kind : InvokeFailure::kStartFailed;
      out.message = waiter->failure.value_or("No worker became ready in time.");
      out.log_stream = waiter->failure_stream;
      co_return out;
    }
    worker = *waiter->worker;
    conn = conns_.at(worker).get();
    state_.SetAffinity(worker, AffinityOf(ex));
    if (!conn->served) {
      out.cold_start = true;
      out.setup_us = conn->setup_us;
    }
  }
  conn->served = true;
  InvokeResult fwd = co_await Forward(*conn, request, ex);
  fwd.cold_start = out.cold_start;
  fwd.setup_us = out.setup_us;
  // Only a failure needs it (LogStreamArn): a warm success copies no string.
  if (fwd.failure != InvokeFailure::kNone || fwd.status >= 400) fwd.log_stream = conn->log_stream;
  if (fwd.failure != InvokeFailure::kNone) {
    Logger("fleet")->warn("endpoint={} variant={} worker={} failed: {}", spec_.endpoint,
                          spec_.variant, conn->pid, fwd.message);
    Note(conn->log_stream, "thaw: " + fwd.message + "; the worker is stopped");
  }
  {
    std::lock_guard lock(mu_);
    if (fwd.failure == InvokeFailure::kNone) {
      ReleaseLocked(worker);
    } else {
      DiscardLocked(worker, StopReason::kFailed);
    }
    PublishLocked();
  }
  co_return fwd;
}

asio::awaitable<InvokeResult> Pool::Forward(Conn& conn, const InvokeRequest& request,
                                            const Executor& ex) {
  InvokeResult out;
  Socket& sock = conn.On(ex);
  // The body is sent from the caller's buffer, not copied into the message.
  http::request<http::span_body<const char>> req{http::verb::post, "/invocations", 11};
  req.set(http::field::host, "localhost");
  if (request.content_type) req.set(http::field::content_type, *request.content_type);
  if (request.accept) req.set(http::field::accept, *request.accept);
  if (request.custom_attributes) {
    req.set("X-Amzn-SageMaker-Custom-Attributes", *request.custom_attributes);
  }
  req.body() = beast::span<const char>(request.body.data(), request.body.size());
  req.keep_alive(true);
  req.prepare_payload();

  auto deadline = Arm(sock, spec_.invocation_timeout);
  auto t0 = std::chrono::steady_clock::now();
  boost::system::error_code ec;
  co_await http::async_write(sock, req, asio::redirect_error(use_awaitable, ec));
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxWorkerResponse);
  if (!ec) {
    co_await http::async_read(sock, conn.buffer, parser, asio::redirect_error(use_awaitable, ec));
  }
  Disarm(*deadline);
  out.model_latency_us = MicrosSince(t0);
  if (ec) {
    out.failure = deadline->fired ? InvokeFailure::kTimeout : InvokeFailure::kWorkerDied;
    out.message = deadline->fired ? "invocation timed out" : "worker connection: " + ec.message();
    co_return out;
  }
  auto& res = parser.get();
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

void Pool::StartOneLocked(const Executor& ex, std::shared_ptr<Waiter> trial, bool prewarm) {
  WorkerId id = state_.StartWorker(clock_.Now(), prewarm);
  pid_t template_pid = 0;
  if (state_.FromTemplate(id)) {
    if (template_ && !trial) {
      template_pid = template_->pid;
    } else {
      state_.OnStartedGeneric(id);
    }
  }
  asio::co_spawn(ex, StartWorker(shared_from_this(), id, std::move(trial), prewarm, template_pid),
                 asio::detached);
}

// Static: the frame owns `self`, so the pool outlives a start that began after its last user
// let go of it.
asio::awaitable<void> Pool::StartWorker(std::shared_ptr<Pool> self, WorkerId id,
                                        std::shared_ptr<Waiter> trial, bool prewarm,
                                        pid_t template_pid) {
  Pool* const p = self.get();
  const Executor ex = co_await asio::this_coro::executor;
  auto t0 = std::chrono::steady_clock::now();
  std::string failure;
  InvokeFailure failure_kind = InvokeFailure::kStartFailed;
  std::string log_stream;
  std::unique_ptr<Conn> conn;
  bool from_template = false;
  // The node budget first: this may retire other endpoints' idle workers (never with mu_ held).
  Status reserved = p->memory_ ? p->memory_->Reserve(p, p->spec_.memory_mb) : Status::Ok();
  if (!reserved.ok()) {
    failure = reserved.message();
    failure_kind = InvokeFailure::kNoMemory;
  } else {
    LaunchSpec launch{fmt::format("{}.{}.{}", p->spec_.endpoint, id, RandomHex(3)),
                      p->spec_.runtime, p->spec_.model_dir, p->spec_.memory_mb, p->spec_.env};
    launch.endpoint = p->spec_.endpoint;
    launch.log_stream = p->spec_.variant + "/" + launch.worker_id;
    log_stream = launch.log_stream;
    std::optional<Result<LaunchedWorker>> forked;
    if (template_pid > 0) {
      forked = co_await RunBlocking(p->blocking_, [p, &launch, template_pid] {
        return p->launcher_.LaunchFrom(template_pid, launch);
      });
      if (!forked->ok()) {
        // The generic path instead; a template that is gone is forgotten (re-created after
        // this start).
        Logger("fleet")->info("endpoint={} variant={} no fork from the template: {}",
                              p->spec_.endpoint, p->spec_.variant, forked->status().message());
        std::lock_guard lock(p->mu_);
        p->state_.OnStartedGeneric(id);
        if (forked->status().code() == Code::kNotFound && p->template_ &&
            p->template_->pid == template_pid) {
          p->DropTemplateLocked(StopReason::kFailed,
                                "thaw: the template is gone (" + forked->status().message() +
                                    "); cold starts use the generic path until it is re-created");
          p->PublishLocked();
        }
        forked.reset();
      }
    }
    from_template = forked.has_value();
    if (!forked) {
      // (No co_await inside a conditional expression: GCC 12 mishandles its temporaries.)
      Result<LaunchedWorker> fresh =
          co_await RunBlocking(p->blocking_, [p, &launch] { return p->launcher_.Launch(launch); });
      forked.emplace(std::move(fresh));
    }
    Result<LaunchedWorker>& launched = *forked;
    if (!launched.ok()) {
      failure = "The worker could not be started: " + launched.status().message();
    } else {
      conn = std::make_unique<Conn>(id, launched->pid, launched->fd, log_stream);
      Socket& sock = conn->On(ex);
      http::request<http::empty_body> ping{http::verb::get, "/ping", 11};
      ping.set(http::field::host, "localhost");
      ping.keep_alive(true);
      auto deadline = Arm(sock, p->spec_.startup_timeout);
      boost::system::error_code ec;
      co_await http::async_write(sock, ping, asio::redirect_error(use_awaitable, ec));
      http::response<http::string_body> res;
      if (!ec) {
        co_await http::async_read(sock, conn->buffer, res, asio::redirect_error(use_awaitable, ec));
      }
      Disarm(*deadline);
      if (ec || res.result_int() != 200) {
        std::string detail =
            ec ? (deadline->fired ? "no answer in time" : ec.message())
               : fmt::format("HTTP {}: {}", res.result_int(), res.body().substr(0, 512));
        failure = fmt::format(
            "The primary container for production variant {} did not pass the ping health "
            "check. Please check CloudWatch logs for this endpoint. ({})",
            p->spec_.variant, detail);
        p->launcher_.Kill(conn->pid);
        conn.reset();
      }
    }
    if (!failure.empty() && p->memory_) p->memory_->Release(p->spec_.memory_mb);
  }

  if (!failure.empty()) {
    Logger("fleet")->warn("endpoint={} variant={} start failed: {}", p->spec_.endpoint,
                          p->spec_.variant, failure);
    if (!log_stream.empty()) p->Note(log_stream, "thaw: the worker did not start: " + failure);
    std::lock_guard lock(p->mu_);
    p->FailWaitersLocked(p->state_.OnStartFailed(id), failure, failure_kind, log_stream);
    if (trial) {
      trial->failure = failure;
      trial->failure_kind = failure_kind;
      trial->failure_stream = log_stream;
      asio::post(trial->timer.get_executor(), [trial] { trial->timer.cancel(); });
    }
    p->PublishLocked();
    co_return;
  }
  conn->setup_us = MicrosSince(t0);
  p->last_setup_us_.store(conn->setup_us, std::memory_order_relaxed);
  Logger("fleet")->debug("endpoint={} variant={} worker pid={} ready in {} us", p->spec_.endpoint,
                         p->spec_.variant, conn->pid, conn->setup_us);
  p->Note(conn->log_stream,
          fmt::format("thaw: worker started ({}): ready in {:.1f} ms ({} MB)",
                      trial           ? "deploy trial start"
                      : from_template ? "cold start, forked from the endpoint's template"
                                      : "cold start",
                      static_cast<double>(conn->setup_us) / 1000.0, p->spec_.memory_mb));
  std::lock_guard lock(p->mu_);
  if (trial) {
    conn->served = true;  // the trial start is not a request's cold start
    trial->setup_us = conn->setup_us;
    trial->worker = id;
    asio::post(trial->timer.get_executor(), [trial] { trial->timer.cancel(); });
  }
  p->conns_[id] = std::move(conn);
  p->state_.SetAffinity(id, AffinityOf(ex));
  auto assignment = p->state_.OnWorkerReady(id, p->clock_.Now());
  if (!p->draining_ && p->state_.WantTemplate()) p->StartTemplateLocked();
  if (prewarm) {
    // Recorded as a model setup, off every request's path. A pre-warm that finds a waiter came
    // too late: that request saw a cold start.
    if (!assignment) p->conns_[id]->served = true;
    if (p->on_prewarm_) p->on_prewarm_(p->conns_[id]->setup_us);
  }
  bool keeps_floor = p->spec_.pool.instance_mode || p->spec_.pool.provisioned > 0;
  if (!assignment && (p->draining_ || (trial && !keeps_floor))) {
    // A serverless endpoint idles at zero workers: the trial start proved the model loads, and
    // the first request will cold-start.
    p->state_.Retire(id, p->clock_.Now());
    p->Note(log_stream, p->draining_ ? "thaw: worker retired (the endpoint's pool is draining)"
                                     : "thaw: worker retired after the deploy's trial start "
                                       "(a serverless endpoint idles at zero workers)");
    p->DiscardLocked(id, p->draining_ ? StopReason::kDrained : StopReason::kTrialDone);
  }
  p->WakeLocked(assignment);
  p->PublishLocked();
}

void Pool::StartTemplateLocked() {
  state_.OnTemplateStarting();
  asio::co_spawn(strand_, StartTemplate(shared_from_this()), asio::detached);
}

asio::awaitable<void> Pool::StartTemplate(std::shared_ptr<Pool> self) {
  Pool* const p = self.get();
  const Executor ex = co_await asio::this_coro::executor;
  const auto t0 = std::chrono::steady_clock::now();
  // A template is worth less than any warm worker: it never evicts one.
  if (p->memory_ && !p->memory_->TryReserve(p->spec_.memory_mb)) {
    Logger("fleet")->info("endpoint={} variant={} no template: no room in the node memory budget",
                          p->spec_.endpoint, p->spec_.variant);
    std::lock_guard lock(p->mu_);
    p->state_.OnTemplateFailed(/*model=*/false);
    co_return;
  }
  LaunchSpec launch{fmt::format("{}.template.{}", p->spec_.endpoint, RandomHex(3)),
                    p->spec_.runtime, p->spec_.model_dir, p->spec_.memory_mb, p->spec_.env};
  launch.endpoint = p->spec_.endpoint;
  launch.log_stream = p->spec_.variant + "/" + launch.worker_id;
  launch.as_template = true;
  Result<LaunchedWorker> launched =
      co_await RunBlocking(p->blocking_, [p, &launch] { return p->launcher_.Launch(launch); });
  std::string failure;
  bool model_failure = false;
  std::unique_ptr<Conn> conn;
  if (!launched.ok()) {
    failure = launched.status().message();
  } else {
    // One line once the model is loaded: "ok", or "error <reason>".
    conn = std::make_unique<Conn>(0, launched->pid, launched->fd, launch.log_stream);
    Socket& sock = conn->On(ex);
    auto deadline = Arm(sock, p->spec_.startup_timeout);
    std::string line;
    boost::system::error_code ec;
    co_await asio::async_read_until(sock, asio::dynamic_buffer(line), '\n',
                                    asio::redirect_error(use_awaitable, ec));
    Disarm(*deadline);
    if (ec) {
      failure = deadline->fired ? "no answer in time" : "its socket: " + ec.message();
    } else if (line.rfind("error ", 0) == 0) {
      failure = line.substr(6, line.find('\n') - 6);
      model_failure = true;
    } else if (line.rfind("ok\n", 0) != 0) {
      failure = "an unexpected answer";
      model_failure = true;
    }
    if (!failure.empty()) {
      p->launcher_.Kill(conn->pid);
      conn.reset();
    }
  }
  std::lock_guard lock(p->mu_);
  if (failure.empty() && (p->draining_ || p->state_.template_state() != TemplateState::kStarting)) {
    failure = "the endpoint's pool is draining";
    p->launcher_.Kill(conn->pid);
    conn.reset();
  }
  if (!failure.empty()) {
    if (p->memory_) p->memory_->Release(p->spec_.memory_mb);
    if (p->state_.template_state() == TemplateState::kStarting) {
      p->state_.OnTemplateFailed(model_failure);
    }
    Logger("fleet")->info("endpoint={} variant={} no template: {}", p->spec_.endpoint,
                          p->spec_.variant, failure);
    p->Note(launch.log_stream, "thaw: the template could not be made: " + failure +
                                   "; cold starts use the generic path");
    co_return;
  }
  const int64_t setup_us = MicrosSince(t0);
  p->Note(launch.log_stream,
          fmt::format("thaw: template ready in {:.1f} ms ({} MB): later cold starts fork from it",
                      static_cast<double>(setup_us) / 1000.0, p->spec_.memory_mb));
  p->template_ = std::move(conn);
  p->state_.OnTemplateReady(p->clock_.Now());
  p->PublishLocked();
}

void Pool::DropTemplateLocked(StopReason why, std::string line) {
  state_.OnTemplateGone();
  if (!template_) return;
  const pid_t pid = template_->pid;
  const std::string log_stream = template_->log_stream;
  const StopPlan plan = PlanStop(why, spec_.stop_grace);
  if (!plan.graceful) launcher_.Kill(pid);
  template_.reset();  // closes its socket: EOF is its stop request
  if (plan.graceful) launcher_.Stop(pid, plan.grace);
  if (memory_) memory_->Release(spec_.memory_mb);
  Note(log_stream, std::move(line));
}

std::optional<WallTime> Pool::EvictableTemplate() const {
  std::lock_guard lock(mu_);
  if (!template_) return std::nullopt;
  return state_.EvictableTemplate();
}

bool Pool::EvictTemplate() {
  std::lock_guard lock(mu_);
  if (!template_ || !state_.EvictableTemplate()) return false;
  DropTemplateLocked(StopReason::kEvicted,
                     "thaw: template evicted to make room in the node memory budget");
  PublishLocked();
  return true;
}

asio::awaitable<Result<int64_t>> Pool::WarmOne() {
  auto self = shared_from_this();
  auto trial = std::make_shared<Waiter>(strand_);
  auto wait = [self, trial]() -> asio::awaitable<std::pair<Status, int64_t>> {
    {
      std::lock_guard lock(self->mu_);
      self->StartOneLocked(self->strand_, trial);
      self->PublishLocked();
    }
    trial->timer.expires_after(self->spec_.startup_timeout + std::chrono::seconds(5));
    boost::system::error_code ec;
    co_await trial->timer.async_wait(asio::redirect_error(use_awaitable, ec));
    std::lock_guard lock(self->mu_);
    if (!trial->worker) {
      // (Not kUnavailable: to a deploy job that means "shutting down, resume after restart".)
      Code code = trial->failure_kind == InvokeFailure::kNoMemory ? Code::kResourceLimit
                                                                  : Code::kInvalidArgument;
      co_return std::make_pair(Status(code, trial->failure.value_or("the worker did not start")),
                               int64_t{0});
    }
    co_return std::make_pair(Status::Ok(), trial->setup_us);
  };
  auto [status, setup_us] = co_await asio::co_spawn(strand_, wait(), use_awaitable);
  if (!status.ok()) co_return status;
  co_return setup_us;
}

void Pool::WakeLocked(const std::optional<Assignment>& a) {
  if (!a) return;
  auto it = waiters_.find(a->request);
  if (it == waiters_.end()) {
    // The waiter gave up between being queued and now: hand the worker back.
    ReleaseLocked(a->worker);
    return;
  }
  it->second->worker = a->worker;
  asio::post(it->second->timer.get_executor(), [w = it->second] { w->timer.cancel(); });
}

void Pool::ReleaseLocked(WorkerId id) {
  auto assignment = state_.OnReleased(id, clock_.Now());
  if (!assignment && draining_) {
    state_.Retire(
        id, clock_.Now());  // its request is over: a drained worker retires after it, not during it
    if (auto it = conns_.find(id); it != conns_.end()) {
      Note(it->second->log_stream, "thaw: worker retired (the endpoint's pool is draining)");
    }
    DiscardLocked(id, StopReason::kDrained);
    return;
  }
  WakeLocked(assignment);
}

void Pool::DiscardLocked(WorkerId id, StopReason why) {
  auto it = conns_.find(id);
  if (it != conns_.end()) {
    const pid_t pid = it->second->pid;
    const StopPlan plan = PlanStop(why, spec_.stop_grace);
    if (!plan.graceful) launcher_.Kill(pid);
    conns_.erase(it);  // closes the socket: EOF is the worker's stop request
    if (plan.graceful) launcher_.Stop(pid, plan.grace);
    // A retiring worker's memory returns to the budget now, though its process may use it for
    // up to the grace (bounded by its cgroup); an eviction kills, so its memory is free now.
    if (memory_) memory_->Release(spec_.memory_mb);
  }
  state_.OnWorkerGone(id);
  if (draining_) return;
  for (int n = state_.StartsNeeded(); n > 0; --n) StartOneLocked(strand_);
}

void Pool::Note(const std::string& log_stream, std::string line) const {
  launcher_.Note(spec_.endpoint, log_stream, std::move(line));
}

void Pool::FailWaitersLocked(const std::vector<RequestId>& ids, const std::string& why,
                             InvokeFailure kind, const std::string& log_stream) {
  for (RequestId r : ids) {
    auto it = waiters_.find(r);
    if (it == waiters_.end()) continue;
    it->second->failure = why;
    it->second->failure_kind = kind;
    it->second->failure_stream = log_stream;
    asio::post(it->second->timer.get_executor(), [w = it->second] { w->timer.cancel(); });
  }
}

void Pool::Tick() {
  std::lock_guard lock(mu_);
  if (draining_) return;
  if (template_) {
    // The template never writes after its ready line: readable means EOF, it died.
    char byte;
    if (::recv(template_->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
      DropTemplateLocked(StopReason::kFailed,
                         "thaw: the template exited; cold starts use the generic path until it is "
                         "re-created");
    }
  }
  auto up = state_.Tick(clock_.Now());
  if (up.retire_template) {
    DropTemplateLocked(StopReason::kKeepAlive,
                       "thaw: template retired after its keep-alive (no worker of it left)");
  }
  for (WorkerId id : up.retire) {
    if (auto it = conns_.find(id); it != conns_.end()) {
      Note(it->second->log_stream, "thaw: worker retired after its keep-alive idle time");
    }
    DiscardLocked(id, StopReason::kKeepAlive);
  }
  for (int i = 0; i < up.start; ++i) StartOneLocked(strand_);
  for (int i = 0; i < up.prewarm; ++i) StartOneLocked(strand_, nullptr, /*prewarm=*/true);
  PublishLocked();
}

void Pool::Drain() {
  std::lock_guard lock(mu_);
  draining_ = true;
  DropTemplateLocked(StopReason::kDrained,
                     "thaw: template retired (the endpoint's pool is draining)");
  for (WorkerId id : state_.RetireAllIdle(clock_.Now())) {
    if (auto it = conns_.find(id); it != conns_.end()) {
      Note(it->second->log_stream, "thaw: worker retired (the endpoint's pool is draining)");
    }
    DiscardLocked(id, StopReason::kDrained);
  }
  PublishLocked();
}

std::vector<std::pair<WorkerId, WallTime>> Pool::Evictable() const {
  std::lock_guard lock(mu_);
  return state_.Evictable();
}

double Pool::EvictionPriority() const {
  double frequency;
  {
    std::lock_guard lock(mu_);
    frequency = state_.Frequency(clock_.Now());
  }
  // Greedy-Dual-Size-Frequency: frequency × cold-start cost ÷ memory. Before any start was
  // measured, a start is taken to cost one second.
  int64_t cost_us = last_setup_us_.load(std::memory_order_relaxed);
  if (cost_us <= 0) cost_us = 1'000'000;
  return frequency * static_cast<double>(cost_us) /
         static_cast<double>(std::max<int64_t>(1, spec_.memory_mb));
}

KeepAliveReport Pool::keep_alive_report() const {
  std::lock_guard lock(mu_);
  const IdleHistogram& h = state_.history();
  return {state_.stats(),
          state_.window(),
          spec_.memory_mb,
          state_.config().policy ? state_.config().policy->Name() : std::string("fixed"),
          h.bin(),
          h.counts(),
          h.oob(),
          state_.idle_since()};
}

bool Pool::Evict(WorkerId worker) {
  std::lock_guard lock(mu_);
  if (!state_.Retire(worker, clock_.Now())) return false;
  if (auto it = conns_.find(worker); it != conns_.end()) {
    Note(it->second->log_stream,
         "thaw: idle worker evicted to make room in the node memory budget");
  }
  DiscardLocked(worker, StopReason::kEvicted);
  PublishLocked();
  return true;
}

void Pool::PublishLocked() {
  starting_.store(state_.Count(WorkerState::kStarting), std::memory_order_relaxed);
  idle_.store(state_.Count(WorkerState::kIdle), std::memory_order_relaxed);
  busy_.store(state_.Count(WorkerState::kBusy), std::memory_order_relaxed);
  templates_.store(template_ ? 1 : 0, std::memory_order_relaxed);
}

}  // namespace thaw::fleet
