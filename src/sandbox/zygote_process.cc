// The zygote process: the loop and the request path.
//
// One thread, one poll loop over three fds: the control channel (spawn, kill and stop requests from
// the server; EOF means the server is gone), a signalfd (SIGCHLD: reap; SIGTERM, which is also
// our parent-death signal: shut down) and the report pipe on which each child reports "armed"
// and then "ready", or the step that failed. A spawn takes an armed child from the pool (see
// zygote_pool.cc), sends it the spec and goes back to the loop; the reply, with the server's end
// of the worker's socket, goes out when the child's ready report arrives. So Spawn returns only
// workers whose sandbox is in place, or the exact reason why not, and concurrent spawns overlap.
//
// Background work (building pool entries, removing cgroups) runs one short step at a time,
// never while a spawn waits for its child's ready report, and otherwise only while no cold
// start is in flight: from the spawn request until the new worker says its first invocation is
// answered (NotifyColdStartDone, on its go channel), kMaxColdStartHold at most. It would
// compete for the CPU with the child, the server thread taking the reply and the new worker
// loading its model, and for the kernel's cgroup and netns locks with the child: with refills
// starting 2 ms after each reply, as before, the zygote spent 2.7-3 ms of CPU per back-to-back
// cold start while the worker loaded its model on a 2-vCPU machine. A pool drained below half
// is refilled regardless: in a burst of cold starts there is no gap between them, and holding
// every refill drained the pool (21 of 40 back-to-back spawns found an armed child).
//
// Children are reaped here and only here (waitpid(-1) on SIGCHLD); a child's cgroup is removed
// after it is reaped (retried while busy). On shutdown every child is SIGKILLed and reaped, and
// every cgroup is removed, before the zygote exits.

#include "sandbox/zygote_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <utility>
#include <vector>

namespace thaw::sandbox::internal {
namespace {

// Milliseconds until `t` for poll(): rounded up, never negative.
int MillisUntil(SteadyClock::time_point t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t - SteadyClock::now()).count();
  return us <= 0 ? 0 : static_cast<int>(std::min<int64_t>((us + 999) / 1000, 1 << 30));
}

void AddReport(SpawnTimings& t, const ChildReport& report) {
  t.cgroup_us += report.cgroup_us;
  t.namespaces_us += report.namespaces_us;
  t.mounts_us += report.mounts_us;
  t.child_us += report.child_us;
}

}  // namespace

void ZygoteProcess::Run() {
  ReadyMessage ready;
  Status s = options_.preload != nullptr ? options_.preload() : Status::Ok();
  if (!s.ok()) s = Status(s.code(), std::string(kPreloadFailed) + s.message());
  if (s.ok()) s = Init();
  ready.ok = s.ok();
  ready.message = s.message();
  ready.cgroup_mode = CgroupModeName(cgroups_ ? cgroups_->mode() : CgroupMode::kNone);
  if (cgroups_) {
    ready.memory_dir = cgroups_->memory_parent();
    ready.usage_file = cgroups_->usage_file();
    for (const auto& d : cgroups_->parent_dirs()) {
      if (!d.empty()) ready.parent_dirs.push_back(d);
    }
  }
  if (!SendMessage(ctl_, EncodeReady(ready)).ok() || !s.ok()) Shutdown(s.ok() ? 0 : 1);
  Loop();
}

bool ZygoteProcess::ColdStartInFlight(SteadyClock::time_point now, bool* pending, int* timeout) {
  bool in_flight = false;
  *pending = false;
  auto held = [&](Child& c) {
    if (now >= c.hold_until) {
      close(c.go_fd);
      c.go_fd = -1;
      return;
    }
    in_flight = true;
    int ms = MillisUntil(c.hold_until);
    if (*timeout < 0 || ms < *timeout) *timeout = ms;
  };
  for (auto& [pid, c] : adopted_) {
    if (c.go_fd >= 0) held(c);
  }
  for (auto& [pid, c] : children_) {
    if (c.is_template) {
      if (c.forks.empty()) continue;
      in_flight = *pending = true;  // a fork request waits for its answer
      int ms = MillisUntil(c.forks.front().deadline);
      if (*timeout < 0 || ms < *timeout) *timeout = ms;
      continue;
    }
    if (c.state == State::kPending) {
      in_flight = *pending = true;
      int ms = MillisUntil(c.deadline);
      if (*timeout < 0 || ms < *timeout) *timeout = ms;
    } else if (c.state == State::kRunning && c.go_fd >= 0) {
      held(c);
    }
  }
  return in_flight;
}

void ZygoteProcess::Loop() {
  std::vector<pollfd> fds;
  // What each of fds[3…] is: a child's go channel (a template's: its fork answers), an adopted
  // worker's go channel, an adopted worker's pidfd.
  enum class Watch { kGo, kAdoptedGo, kAdoptedExit, kSpareExit };
  std::vector<std::pair<Watch, pid_t>> watched;
  while (true) {
    int timeout = -1;
    const auto now = SteadyClock::now();
    bool pending = false;
    const bool in_flight = ColdStartInFlight(now, &pending, &timeout);
    const int pooled = static_cast<int>(pool_.size());
    const bool want_refill = pooled < options_.pool_size && now >= refill_after_;
    // A pool drained below half is refilled even during a cold start: in a burst there is no
    // gap between cold starts, and the next spawns would build their slots on their own path.
    // Never while a spawn waits for its child's ready report: a step (up to ~1 ms for a
    // network namespace, more under load) would delay the reply.
    const bool low = 2 * pooled < options_.pool_size;
    const bool may_work = !pending && (!in_flight || (want_refill && low));
    int join_in = -1;  // ms until a spare may be moved into its cgroup
    const bool want_spare = WantSpareSlot() || WantJoinSpare(&join_in);
    if (may_work && (want_refill || want_spare || !to_remove_.empty())) timeout = 0;
    if (may_work && join_in >= 0 && (timeout < 0 || join_in < timeout)) timeout = join_in;
    if (!in_flight && !busy_.empty() && timeout < 0) timeout = 100;
    for (const auto* group : {&children_, &adopted_}) {
      for (const auto& [pid, c] : *group) {
        if (!c.kill_at) continue;
        int ms = MillisUntil(*c.kill_at);
        if (timeout < 0 || ms < timeout) timeout = ms;
      }
    }
    fds.assign({{ctl_, POLLIN, 0}, {sig_fd_, POLLIN, 0}, {report_r_, POLLIN, 0}});
    watched.clear();
    for (const auto& [pid, c] : children_) {
      if (c.state != State::kRunning || c.go_fd < 0) continue;
      fds.push_back({c.go_fd, POLLIN, 0});
      watched.emplace_back(Watch::kGo, pid);
    }
    for (const auto& [pid, c] : adopted_) {
      if (c.go_fd >= 0) {
        fds.push_back({c.go_fd, POLLIN, 0});
        watched.emplace_back(Watch::kAdoptedGo, pid);
      }
      fds.push_back({c.pidfd, POLLIN, 0});
      watched.emplace_back(Watch::kAdoptedExit, pid);
    }
    for (const auto& [pid, spare] : spares_) {
      fds.push_back({spare.pidfd, POLLIN, 0});
      watched.emplace_back(Watch::kSpareExit, pid);
    }
    int n = poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) {
      log_->critical("poll: {}", std::strerror(errno));
      Shutdown(2);
    }
    if (n == 0 && may_work) IdleWork(want_refill, in_flight);
    if (n > 0) {
      // The end of a cold start: a byte, or the channel closing (the worker exited). A
      // template's channel: fork answers. An adopted worker's pidfd: it exited.
      for (size_t i = 3; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        const auto [what, pid] = watched[i - 3];
        if (what == Watch::kAdoptedExit) {
          AdoptedExited(pid);
          continue;
        }
        if (what == Watch::kSpareExit) {
          // (Unless an adoption already dropped it and the pid is another spare's now.)
          if (auto sp = spares_.find(pid); sp != spares_.end() && sp->second.pidfd == fds[i].fd) {
            DropSpare(pid);
          }
          continue;
        }
        auto& group = what == Watch::kGo ? children_ : adopted_;
        auto it = group.find(pid);
        if (it == group.end() || it->second.go_fd != fds[i].fd) continue;
        if (it->second.is_template) {
          DrainTemplate(pid);
          continue;
        }
        close(it->second.go_fd);
        it->second.go_fd = -1;
      }
      // Reports before reaping: a child writes its report before it can exit.
      if (fds[2].revents) DrainReports();
      if (fds[1].revents) DrainSignals();
      if (fds[0].revents) DrainControl();
    }
    CheckDeadlines();
  }
}

void ZygoteProcess::DrainControl() {
  std::string msg;
  int fd;
  while (true) {
    if (!RecvMessage(ctl_, &msg, &fd)) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      Shutdown(0);  // EOF (or a broken channel): the server is gone or done with us
    }
    const auto type = static_cast<MessageType>(PeekType(msg));
    if (fd >= 0 && type != MessageType::kSpawn && type != MessageType::kSpawnFrom) close(fd);
    switch (type) {
      case MessageType::kSpawn: {
        auto req = std::make_shared<SpawnRequest>();
        if (!DecodeSpawn(msg, req.get())) {
          log_->error("undecodable spawn request ({} bytes)", msg.size());
          if (fd >= 0) close(fd);
          break;
        }
        last_request_ = SteadyClock::now();
        HandleSpawn(std::move(req), last_request_, 0, fd);
        break;
      }
      case MessageType::kSpawnFrom: {
        SpawnFromRequest req;
        if (!DecodeSpawnFrom(msg, &req)) {
          log_->error("undecodable spawn-from request ({} bytes)", msg.size());
          if (fd >= 0) close(fd);
          break;
        }
        last_request_ = SteadyClock::now();
        HandleSpawnFrom(req, fd);
        break;
      }
      case MessageType::kKill: {
        pid_t pid;
        if (DecodeKill(msg, &pid)) KillWorker(pid);
        break;
      }
      case MessageType::kStop: {
        pid_t pid;
        int64_t grace_ms;
        if (DecodeStop(msg, &pid, &grace_ms)) StopWorker(pid, grace_ms);
        break;
      }
      default:
        log_->error("unexpected control message type {}", PeekType(msg));
    }
  }
}

void ZygoteProcess::HandleSpawn(std::shared_ptr<const SpawnRequest> req,
                                SteadyClock::time_point received, int retries, int log_fd) {
  // A pooled child may have died since it armed (its SIGCHLD not handled yet): its go channel
  // then refuses the spec, and the next child gets it. Every turn shrinks the pool, and a child
  // armed just now is the last resort.
  while (true) {
    pid_t pid = TakeFromPool();
    const bool pooled = pid != 0;
    const bool hit = pid != 0 && children_[pid].state == State::kArmed;
    if (pid == 0) {
      auto armed = ArmNow(entry_);
      if (!armed.ok()) {
        Child failed;
        failed.request_id = req->id;
        failed.received = received;
        failed.log_fd = log_fd;
        SendReply(failed, 0, "sandbox setup failed: " + armed.status().message());
        return;
      }
      pid = *armed;
    }
    Child& c = children_[pid];
    Status sent = SendMessage(c.go_fd, EncodeSpawn(*req), log_fd);
    if (!sent.ok()) {
      close(c.go_fd);
      c.go_fd = -1;
    }
    if (!sent.ok()) {
      kill(pid, SIGKILL);
      c.state = State::kRunning;  // nobody waits on it; Reap cleans up
      if (pooled) continue;
    }
    if (sent.ok() && !hit) {
      // Still arming, maybe pre-warming under SCHED_IDLE (worker_child.cc): full speed now.
      sched_param param{};
      sched_setscheduler(pid, SCHED_OTHER, &param);
    }
    c.state = State::kPending;
    c.worker_id = req->spec.worker_id;
    c.memory_mb = req->spec.memory_mb;
    c.request_id = req->id;
    c.request = req;
    c.retries = retries;
    c.received = received;
    c.deadline = received + options_.spawn_timeout;
    c.timings = hit ? SpawnTimings() : c.arm;  // a miss pays for the slot and the fork
    c.timings.pool_hit = hit;
    c.log_fd = log_fd;
    c.is_template = req->spec.as_template;
    if (!sent.ok()) SendReply(c, 0, "the worker died before its spawn: " + sent.message());
    return;
  }
}

void ZygoteProcess::SendReply(Child& c, pid_t pid, const std::string& error) {
  SpawnReply r;
  r.id = c.request_id;
  r.ok = error.empty();
  r.message = error;
  r.pid = pid;
  r.cgroup = c.cgroup;
  r.timings = c.timings;
  r.timings.total_us = MicrosSince(c.received);
  Status sent = SendMessage(ctl_, EncodeSpawnReply(r), r.ok ? c.server_fd : -1);
  if (c.server_fd >= 0) close(c.server_fd);
  c.server_fd = -1;
  c.state = State::kRunning;  // or about to exit, on failure
  c.hold_until = SteadyClock::now() + kMaxColdStartHold;
  if (!r.ok && c.go_fd >= 0) {
    close(c.go_fd);
    c.go_fd = -1;
  }
  if (!r.ok && c.log_fd >= 0) {
    close(c.log_fd);
    c.log_fd = -1;
  }
  if (!sent.ok()) Shutdown(0);  // the server is gone
  if (r.ok && log_->should_log(spdlog::level::debug)) {
    const SpawnTimings& t = r.timings;
    // The request's time on CLOCK_MONOTONIC (steady_clock), which the worker's line shares.
    const auto received_us =
        std::chrono::duration_cast<std::chrono::microseconds>(c.received.time_since_epoch());
    log_->debug(
        "worker {} spawned (pid {}): {} in {} us: fork {} us, namespaces {} us, cgroup {} us, "
        "mounts {} us, child {} us; request at {} us",
        c.worker_id, pid, t.pool_hit ? "pool hit" : "pool miss", t.total_us, t.fork_us,
        t.namespaces_us, t.cgroup_us, t.mounts_us, t.child_us, received_us.count());
  }
}

void ZygoteProcess::DrainReports() {
  ChildReport report;
  while (read(report_r_, &report, sizeof report) == sizeof report) {
    auto t = tokens_.find(report.token);
    if (t == tokens_.end()) continue;
    const pid_t pid = t->second;
    Child& c = children_[pid];
    report.message[sizeof report.message - 1] = '\0';
    const bool pending = c.state == State::kPending;
    if (!report.ok) {
      tokens_.erase(t);
      if (pending) {
        log_->warn("worker {} (pid {}): sandbox setup failed: {}", c.worker_id, pid,
                   report.message);
        SendReply(c, 0, std::string("sandbox setup failed: ") + report.message);
      } else {
        // A pool entry that cannot arm: stop building for a while rather than spin.
        log_->warn("cannot prepare a worker (pid {}): {}", pid, report.message);
        std::erase(pool_, pid);
        refill_after_ = SteadyClock::now() + std::chrono::seconds(1);
      }
      continue;  // the child exits; Reap does the rest
    }
    if (report.phase == kPhaseArmed) {
      if (c.state == State::kArming) c.state = State::kArmed;
      if (pending) AddReport(c.timings, report);  // the request waited for the arm phase too
      continue;
    }
    tokens_.erase(t);
    if (!pending) continue;
    AddReport(c.timings, report);
    SendReply(c, pid, "");
  }
}

void ZygoteProcess::DrainSignals() {
  signalfd_siginfo si;
  bool stop = false;
  while (read(sig_fd_, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo != SIGCHLD) stop = true;
  }
  Reap();
  if (stop) Shutdown(0);
}

void WriteExitLine(int log_fd, std::string line) {
  if (log_fd < 0) return;
  line += '\n';
  while (send(log_fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
         errno == EINTR) {
  }
}

// The one place children are reaped.
void ZygoteProcess::Reap() {
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    auto it = children_.find(pid);
    if (it == children_.end()) continue;  // an orphan we inherited as subreaper
    Child& c = it->second;
    if (c.state == State::kPending && c.retries <= options_.pool_size) {
      // Died before it was ready without saying why (a setup failure is reported, and answered,
      // before the exit): most likely killed from outside while in the pool. Another child,
      // pool_size + 1 times at most.
      log_->warn("worker {} (pid {}) exited before it was ready ({}); retrying", c.worker_id, pid,
                 DescribeExit(status));
      HandleSpawn(c.request, c.received, c.retries + 1, std::exchange(c.log_fd, -1));
    } else if (c.state == State::kPending) {
      log_->warn("worker {} (pid {}) exited during sandbox setup: {}", c.worker_id, pid,
                 DescribeExit(status));
      SendReply(c, 0, "worker exited during sandbox setup: " + DescribeExit(status));
    } else if (c.state != State::kRunning) {
      if (std::erase(pool_, pid) > 0) {  // not one that already reported why
        log_->warn("a prepared worker (pid {}) exited: {}", pid, DescribeExit(status));
      }
    } else if (!c.cgroup.empty() && cgroups_->OomKilled(c.cgroup)) {
      log_->info("worker {} (pid {}) was OOM-killed at its memory limit of {} MiB", c.worker_id,
                 pid, c.memory_mb);
      WriteExitLine(c.log_fd,
                    "thaw: worker " + c.worker_id + " was OOM-killed at its memory limit of " +
                        std::to_string(c.memory_mb) + " MiB (" + DescribeExit(status) + ")");
    } else {
      log_->debug("worker {} (pid {}) exited: {}", c.worker_id, pid, DescribeExit(status));
      WriteExitLine(c.log_fd, "thaw: worker " + c.worker_id + " exited: " + DescribeExit(status));
    }
    if (c.is_template) FailForks(c, std::string(kTemplateGone) + "the template exited");
    for (int fd : {c.go_fd, c.server_fd, c.log_fd}) {
      if (fd >= 0) close(fd);
    }
    tokens_.erase(c.token);
    RemoveCgroup(c.cgroup);
    children_.erase(it);
  }
}

void ZygoteProcess::CheckDeadlines() {
  auto now = SteadyClock::now();
  for (auto& [pid, c] : adopted_) {
    if (c.kill_at && now >= *c.kill_at) {
      c.kill_at.reset();
      log_->info(
          "worker {} (pid {}) did not exit within the {} ms grace after its stop request: "
          "killed",
          c.worker_id, pid, c.grace_ms);
      KillWorker(pid);
    }
  }
  for (auto& [pid, c] : children_) {
    if (c.is_template && !c.forks.empty() && now >= c.forks.front().deadline) {
      // A template that does not answer cannot be trusted with the next fork either.
      log_->warn("template {} (pid {}) did not fork within {} ms: killed", c.worker_id, pid,
                 options_.spawn_timeout.count());
      FailForks(c, "the template did not fork within " +
                       std::to_string(options_.spawn_timeout.count()) + " ms");
      KillWorker(pid);
      continue;
    }
    if (c.kill_at && now >= *c.kill_at) {
      c.kill_at.reset();
      log_->info(
          "worker {} (pid {}) did not exit within the {} ms grace after its stop request: "
          "killed",
          c.worker_id, pid, c.grace_ms);
      KillWorker(pid);
      continue;
    }
    if (c.state != State::kPending || now < c.deadline) continue;
    kill(pid, SIGKILL);  // reaped by the SIGCHLD that follows
    log_->warn("worker {} (pid {}): sandbox setup did not finish within {} ms", c.worker_id, pid,
               options_.spawn_timeout.count());
    SendReply(c, 0,
              "sandbox setup did not finish within " +
                  std::to_string(options_.spawn_timeout.count()) + " ms");
  }
}

// Only workers we handed out and have not reaped: a recycled pid is never ours.
void ZygoteProcess::KillWorker(pid_t pid) {
  if (auto a = adopted_.find(pid); a != adopted_.end()) {
    // Not our child: through its pidfd, which cannot reach a process that reused the pid.
    syscall(SYS_pidfd_send_signal, a->second.pidfd, SIGKILL, nullptr, 0);
    return;
  }
  auto it = children_.find(pid);
  if (it == children_.end() || it->second.state != State::kRunning) return;
  kill(-pid, SIGKILL);  // the worker's process group (its children, unsandboxed)
  kill(pid, SIGKILL);
}

void ZygoteProcess::StopWorker(pid_t pid, int64_t grace_ms) {
  Child* found = FindRunning(pid);
  if (found == nullptr) return;
  if (grace_ms <= 0) {
    KillWorker(pid);
    return;
  }
  Child& c = *found;
  auto at = SteadyClock::now() + std::chrono::milliseconds(grace_ms);
  if (!c.kill_at || at < *c.kill_at) {
    c.kill_at = at;
    c.grace_ms = grace_ms;
  }
  log_->debug("worker {} (pid {}) asked to stop; killed in {} ms unless it exits", c.worker_id, pid,
              grace_ms);
}

void ZygoteProcess::Shutdown(int code) {
  for (auto& [pid, c] : adopted_) {
    syscall(SYS_pidfd_send_signal, c.pidfd, SIGKILL, nullptr, 0);
    for (int fd : {c.go_fd, c.server_fd, c.log_fd}) {
      if (fd >= 0) close(fd);
    }
  }
  for (auto& [pid, c] : children_) {
    for (auto& f : c.forks) {
      for (int fd : {f.server_fd, f.release_fd, f.log_fd}) {
        if (fd >= 0) close(fd);
      }
      f.slot.CloseFds();
      RemoveCgroup(f.slot.name);
    }
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    for (int fd : {c.go_fd, c.server_fd, c.log_fd}) {
      if (fd >= 0) close(fd);
    }
  }
  // A SIGKILLed process exits promptly unless stuck in the kernel; bound the wait anyway.
  auto deadline = SteadyClock::now() + std::chrono::seconds(5);
  while (!children_.empty() && SteadyClock::now() < deadline) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      if (auto it = children_.find(pid); it != children_.end()) {
        RemoveCgroup(it->second.cgroup);
        children_.erase(it);
      }
      continue;
    }
    if (pid < 0 && errno == ECHILD) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Adopted workers die with their templates (killed above) if not by their own SIGKILL.
  for (auto& [pid, c] : adopted_) {
    pollfd p{c.pidfd, POLLIN, 0};
    while (poll(&p, 1, 10) == 0 && SteadyClock::now() < deadline) {
    }
    close(c.pidfd);
    RemoveCgroup(c.cgroup);
  }
  adopted_.clear();
  while (!spares_.empty()) DropSpare(spares_.begin()->first);
  for (auto& slot : spare_slots_) {
    slot.CloseFds();
    RemoveCgroup(slot.name);
  }
  spare_slots_.clear();
  if (building_) DiscardSlot(*building_);
  if (cgroups_) {
    std::vector<std::string> left(to_remove_.begin(), to_remove_.end());
    left.insert(left.end(), busy_.begin(), busy_.end());
    // Memory cgroups can stay busy for a moment after their last task is reaped.
    while (!left.empty()) {
      std::vector<std::string> again;
      for (const auto& name : left) {
        if (!cgroups_->RemoveSlot(name)) again.push_back(name);
      }
      left = std::move(again);
      if (left.empty() || SteadyClock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (const auto& name : left) log_->warn("cannot remove cgroup {}", name);
    if (!cgroups_->RemoveParents()) log_->warn("cannot remove the thaw cgroup directories");
  }
  _exit(code);
}

void RunZygote(int ctl_fd, pid_t server_pid, const SandboxOptions& options, WorkerEntry entry) {
  // SIGTERM, not SIGKILL: the zygote must outlive the server long enough to kill its workers
  // and remove their cgroups. It arrives through the signalfd like any shutdown request.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != server_pid) _exit(0);  // the server died before the line above
  setsid();  // no controlling terminal: a terminal's ^C goes to the server, which then closes us
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Only the control channel and stdio survive; the server's other fds are not ours.
  if (ctl_fd != 3 && dup2(ctl_fd, 3) < 0) _exit(1);
  close_range(4, ~0U, 0);
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD}) {
    signal(sig, SIG_DFL);  // a server's SIG_IGN on SIGCHLD would make waitpid useless
  }
  signal(SIGPIPE, SIG_IGN);  // inherited by workers: a vanished peer is EPIPE, not death
  setenv("OMP_NUM_THREADS", "1", 1);
  ZygoteProcess(3, options, entry).Run();
}

}  // namespace thaw::sandbox::internal
