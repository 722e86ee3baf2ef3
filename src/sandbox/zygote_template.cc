// The zygote's template tier: workers forked from a template instead of a fresh child.
//
// A template is a worker spawned with SpawnSpec::as_template: it is in its own sandbox (cgroup,
// namespaces, model, nobody, filter) like any worker, has loaded its runtime (the endpoint's
// model), and waits in ServeForks on its go channel. A SpawnFrom request takes a spare cgroup
// slot (made while idle), writes the spec's limits into it, and sends the template one kFork
// with the worker's socket, a release channel and the log socket. The template forks and
// answers with the child's pidfd; the zygote reads the child's host pid from
// /proc/self/fdinfo/<pidfd>, writes it into each hierarchy's cgroup.procs of the slot, releases
// the child with one byte and replies to the server as for a spawn. Forks to one template are
// answered in order. The template forks each child ahead of its request (ServeForks), so the
// page-table copy of a process holding a model is off the cold path. No v1
// memory.move_charge_at_immigrate: measured 6-12 ms per join (the kernel walks the child's
// whole address space), and the pages the child touches after its release are charged to its
// own cgroup without it (those it shares stay the template's).
//
// Those children are not ours (the template, pid 1 of their namespace, has them reaped by the
// kernel): they live in adopted_, are signalled through their pidfd (no pid-reuse race) and are
// cleaned up (exit line, cgroup removal) when the pidfd turns readable. A template's death ends
// its children (they are in its PID namespace): the next SpawnFrom answers kTemplateGone.

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>

#include "sandbox/zygote_process.h"

namespace thaw::sandbox::internal {
namespace {

constexpr size_t kSpareSlots = 2;
// How long the node must have had no spawn request before a spare is moved into its cgroup.
constexpr std::chrono::milliseconds kSpareJoinQuiet{100};

// The pid a pidfd refers to, in our PID namespace; 0 when unknown or the process is gone.
pid_t PidOfPidfd(int pidfd) {
  std::string text;
  if (!ReadSmallFile("/proc/self/fdinfo/" + std::to_string(pidfd), &text)) return 0;
  size_t at = text.find("\nPid:");
  if (at == text.npos) return 0;
  at += 5;
  while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
  pid_t pid = 0;
  auto [p, ec] = std::from_chars(text.data() + at, text.data() + text.size(), pid);
  return ec == std::errc() && pid > 0 ? pid : 0;
}

void CloseIf(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

ZygoteProcess::Child* ZygoteProcess::FindRunning(pid_t pid) {
  if (auto it = children_.find(pid); it != children_.end()) {
    return it->second.state == State::kRunning ? &it->second : nullptr;
  }
  if (auto it = adopted_.find(pid); it != adopted_.end()) return &it->second;
  return nullptr;
}

bool ZygoteProcess::WantSpareSlot() const {
  if (!cgroups_ || spare_slots_.size() >= kSpareSlots) return false;
  if (SteadyClock::now() < refill_after_) return false;  // backing off after a failure
  for (const auto& [pid, c] : children_) {
    if (c.is_template && c.state == State::kRunning && c.go_fd >= 0) return true;
  }
  return false;
}

Result<CgroupSlot> ZygoteProcess::TakeSpareSlot() {
  if (!spare_slots_.empty()) {
    CgroupSlot slot = std::move(spare_slots_.front());
    spare_slots_.pop_front();
    return slot;
  }
  auto slot = cgroups_->NewSlot();
  return slot;
}

void ZygoteProcess::HandleSpawnFrom(const SpawnFromRequest& req, int log_fd) {
  const auto received = SteadyClock::now();
  auto fail_now = [&](const std::string& error) {
    Child failed;
    failed.request_id = req.request.id;
    failed.received = received;
    failed.log_fd = log_fd;
    SendReply(failed, 0, error);
  };
  auto it = children_.find(req.template_pid);
  if (it == children_.end() || !it->second.is_template || it->second.state != State::kRunning ||
      it->second.go_fd < 0) {
    fail_now(std::string(kTemplateGone) + "no live template with pid " +
             std::to_string(req.template_pid));
    return;
  }
  Child& t = it->second;
  PendingFork f;
  f.request_id = req.request.id;
  f.worker_id = req.request.spec.worker_id;
  f.memory_mb = req.request.spec.memory_mb;
  f.received = received;
  f.deadline = received + options_.spawn_timeout;
  f.log_fd = log_fd;
  if (cgroups_) {
    // The template hands this request to its spare, if it has one: when that child is already
    // in a cgroup of its own, the slot is its (limits rewritten only if the size differs).
    Spare* spare = nullptr;
    for (auto& [pid, sp] : spares_) {
      if (sp.template_pid == req.template_pid && !sp.handed && !sp.slot.name.empty()) {
        spare = &sp;
        f.prejoined = pid;
        break;
      }
    }
    if (spare != nullptr) {
      spare->handed = true;
      f.slot = std::exchange(spare->slot, CgroupSlot{});
    } else {
      auto slot = TakeSpareSlot();
      if (!slot.ok()) {
        fail_now("sandbox setup failed: " + slot.status().message());
        return;
      }
      f.slot = std::move(slot).value();
    }
    if (spare == nullptr || spare->memory_mb != f.memory_mb) {
      if (std::string err = ApplyLimits(f.slot, cgroups_->mode(), f.memory_mb); !err.empty()) {
        FailFork(f, "sandbox setup failed: " + err);
        return;
      }
    }
  }
  int sv[2], rel[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    FailFork(f, std::string("socketpair: ") + std::strerror(errno));
    return;
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rel) != 0) {
    close(sv[0]);
    close(sv[1]);
    FailFork(f, std::string("socketpair: ") + std::strerror(errno));
    return;
  }
  f.server_fd = sv[0];
  f.release_fd = rel[0];
  int fds[3] = {sv[1], rel[1], log_fd};
  Status sent = SendMessageFds(t.go_fd, EncodeFork(f.worker_id), {fds, log_fd >= 0 ? 3u : 2u});
  close(sv[1]);
  close(rel[1]);
  if (!sent.ok()) {
    FailFork(f,
             std::string(kTemplateGone) + "the template does not take requests: " + sent.message());
    return;
  }
  f.sent = SteadyClock::now();
  t.forks.push_back(std::move(f));
}

void ZygoteProcess::FailFork(PendingFork& f, const std::string& error) {
  CloseIf(f.server_fd);
  CloseIf(f.release_fd);
  std::string name = f.slot.name;
  f.slot.CloseFds();
  f.slot.name.clear();
  RemoveCgroup(name);
  if (f.request_id == 0) return;  // no reply owed (already answered)
  Child failed;
  failed.request_id = f.request_id;
  failed.received = f.received;
  failed.log_fd = std::exchange(f.log_fd, -1);
  f.request_id = 0;
  SendReply(failed, 0, error);
}

void ZygoteProcess::FailForks(Child& tmpl, const std::string& error) {
  while (!tmpl.forks.empty()) {
    FailFork(tmpl.forks.front(), error);
    tmpl.forks.pop_front();
  }
}

void ZygoteProcess::DrainTemplate(pid_t template_pid) {
  auto it = children_.find(template_pid);
  if (it == children_.end()) return;
  Child& t = it->second;
  std::string msg;
  std::vector<int> fds;
  while (t.go_fd >= 0) {
    if (!RecvMessageFds(t.go_fd, &msg, &fds)) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      // EOF: the template exited (Reap says how) or is retiring with its channel closed.
      CloseIf(t.go_fd);
      FailForks(t, std::string(kTemplateGone) + "the template exited");
      return;
    }
    if (PeekType(msg) == static_cast<uint8_t>(MessageType::kSpare) && DecodeSpare(msg) &&
        fds.size() == 1) {
      AddSpare(template_pid, t, fds[0]);
      continue;
    }
    bool ok = false;
    std::string why;
    if (PeekType(msg) != static_cast<uint8_t>(MessageType::kForked) ||
        !DecodeForked(msg, &ok, &why) || t.forks.empty()) {
      log_->error("template {} (pid {}): unexpected message ({} bytes)", t.worker_id, template_pid,
                  msg.size());
      for (int fd : fds) close(fd);
      continue;
    }
    PendingFork f = std::move(t.forks.front());
    t.forks.pop_front();
    int pidfd = fds.empty() ? -1 : fds[0];
    for (size_t i = 1; i < fds.size(); ++i) close(fds[i]);
    if (!ok || pidfd < 0) {
      CloseIf(pidfd);
      log_->warn("template {} (pid {}) could not fork worker {}: {}", t.worker_id, template_pid,
                 f.worker_id, why);
      FailFork(f, "the template could not fork: " + why);
      continue;
    }
    AdoptFork(template_pid, t, f, pidfd);
  }
}

void ZygoteProcess::AdoptFork(pid_t template_pid, Child& tmpl, PendingFork& f, int pidfd) {
  const auto forked = SteadyClock::now();
  const pid_t pid = PidOfPidfd(pidfd);
  auto give_up = [&](const std::string& why) {
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    close(pidfd);
    log_->warn("worker {} forked by template {}: {}", f.worker_id, tmpl.worker_id, why);
    FailFork(f, "sandbox setup failed: " + why);
  };
  if (pid <= 0 || adopted_.count(pid) > 0 || children_.count(pid) > 0) {
    give_up("cannot tell the forked child's pid");
    return;
  }
  // A spare we moved into its cgroup while idle is the common case; any other child (the
  // spare died, or was not joined in time) moves now.
  const bool prejoined = f.prejoined == pid;
  DropSpare(pid);
  if (std::string err = prejoined ? "" : JoinCgroup(f.slot, pid); !err.empty()) {
    give_up(err);
    return;
  }
  const int64_t cgroup_us = MicrosSince(forked);
  char go = 1;
  if (send(f.release_fd, &go, 1, MSG_NOSIGNAL) != 1) {
    give_up(std::string("release: ") + std::strerror(errno));
    return;
  }
  Child c;
  c.state = State::kRunning;
  c.cgroup = f.slot.name;
  f.slot.CloseFds();
  c.go_fd = std::exchange(f.release_fd, -1);  // the worker's "cold start over" byte comes here
  c.server_fd = std::exchange(f.server_fd, -1);
  c.log_fd = std::exchange(f.log_fd, -1);
  c.worker_id = f.worker_id;
  c.memory_mb = f.memory_mb;
  c.request_id = f.request_id;
  c.received = f.received;
  c.pidfd = pidfd;
  c.template_pid = template_pid;
  c.timings.pool_hit = true;
  c.timings.fork_us =
      std::chrono::duration_cast<std::chrono::microseconds>(forked - f.sent).count();
  c.timings.cgroup_us = cgroup_us;
  Child& adopted = adopted_[pid] = std::move(c);
  SendReply(adopted, pid, "");
}

void ZygoteProcess::AddSpare(pid_t template_pid, const Child& tmpl, int pidfd) {
  const pid_t pid = PidOfPidfd(pidfd);
  if (!cgroups_ || pid <= 0 || spares_.count(pid) > 0 || adopted_.count(pid) > 0) {
    close(pidfd);  // nothing to prepare (no cgroups), or a pid we cannot tell apart
    return;
  }
  Spare& s = spares_[pid];
  s.template_pid = template_pid;
  s.pidfd = pidfd;
  s.memory_mb = tmpl.memory_mb;
}

bool ZygoteProcess::WantJoinSpare(int* timeout) const {
  bool waiting = false;
  for (const auto& [pid, s] : spares_) {
    if (!s.handed && !s.join_failed && s.slot.name.empty()) waiting = true;
  }
  if (!waiting) return false;
  const auto quiet_at = last_request_ + kSpareJoinQuiet;
  if (SteadyClock::now() >= quiet_at) return true;
  if (timeout != nullptr) {
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(quiet_at - SteadyClock::now()).count();
    *timeout = static_cast<int>(std::max<int64_t>(1, ms));
  }
  return false;
}

void ZygoteProcess::JoinSpare() {
  for (auto& [pid, s] : spares_) {
    if (s.handed || s.join_failed || !s.slot.name.empty()) continue;
    auto slot = TakeSpareSlot();
    std::string err =
        slot.ok() ? ApplyLimits(*slot, cgroups_->mode(), s.memory_mb) : slot.status().message();
    if (err.empty()) err = JoinCgroup(*slot, pid);
    if (!err.empty()) {
      // Its fork request moves it instead, as without a spare. (It may have exited: its
      // pidfd says so next.)
      log_->debug("spare child {} of template {}: not moved ahead: {}", pid, s.template_pid, err);
      s.join_failed = true;
      if (slot.ok()) {
        slot->CloseFds();
        RemoveCgroup(slot->name);
      }
      return;
    }
    s.slot = std::move(slot).value();
    return;
  }
}

void ZygoteProcess::DropSpare(pid_t pid) {
  auto it = spares_.find(pid);
  if (it == spares_.end()) return;
  Spare& s = it->second;
  close(s.pidfd);
  if (!s.slot.name.empty()) {  // joined, never handed: its cgroup is left empty
    std::string name = s.slot.name;
    s.slot.CloseFds();
    RemoveCgroup(name);
  }
  spares_.erase(it);
}

void ZygoteProcess::AdoptedExited(pid_t pid) {
  auto it = adopted_.find(pid);
  if (it == adopted_.end()) return;
  Child& c = it->second;
  if (!c.cgroup.empty() && cgroups_ && cgroups_->OomKilled(c.cgroup)) {
    log_->info("worker {} (pid {}) was OOM-killed at its memory limit of {} MiB", c.worker_id, pid,
               c.memory_mb);
    WriteExitLine(c.log_fd, "thaw: worker " + c.worker_id +
                                " was OOM-killed at its memory limit of " +
                                std::to_string(c.memory_mb) + " MiB");
  } else {
    log_->debug("worker {} (pid {}, forked by a template) exited", c.worker_id, pid);
    WriteExitLine(c.log_fd, "thaw: worker " + c.worker_id + " exited");
  }
  for (int* fd : {&c.go_fd, &c.server_fd, &c.log_fd, &c.pidfd}) CloseIf(*fd);
  RemoveCgroup(c.cgroup);
  adopted_.erase(it);
}

}  // namespace thaw::sandbox::internal
