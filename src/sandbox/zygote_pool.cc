// The zygote's pool: start-up, and the children it arms ahead of the cold path.
//
// Everything about a worker that does not depend on the request is done ahead of it. A pool
// entry is a child forked into a new PID namespace that has already joined its cgroup, entered
// its network, IPC and UTS namespaces and mounted its /proc, and now waits on its go channel for
// a SpawnSpec; a request only costs what depends on it (limits, model mount, credentials, env).
// Entries are built one step at a time while the zygote is idle — cgroup directories, each
// namespace, the fork — so a request arriving meanwhile waits for one step at most.
//
// Measured on the 2-vCPU dev VM (kernel 6.18, cgroup v1, Firecracker guest), per worker:
// creating a network namespace ~0.7-1 ms, an IPC namespace ~50 µs, a mount namespace plus its
// two tmpfs ~0.13 ms, three v1 cgroup mkdirs ~0.15 ms (ms under load), forking into a new PID
// namespace ~0.25 ms (the PID namespace itself adds ~30 µs; it makes the worker pid 1, so its
// whole process tree dies with it, and hides the host's processes) plus the child's first page
// faults (~0.2 ms in this VM), joining the v1 cgroups ~0.05-0.1 ms (up to ms: the write side of
// cgroup_threadgroup_rwsem waits for an RCU grace period), /proc ~25 µs. On a pool hit none of
// that is on the cold path: Spawn → first byte p50 ~0.45 ms, p90 ~0.8 ms on an idle VM (an
// unsandboxed pre-forked child: ~0.35 ms); a miss (pool drained by a burst) costs ~2.2 ms.
// Each pooled child is an idle process (~130 kB private memory) holding a network namespace.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "sandbox/zygote_process.h"

namespace thaw::sandbox::internal {
namespace {

int ProbeEntry(int, const SpawnSpec&) { return 0; }

std::string Errno() { return std::strerror(errno); }

}  // namespace

int64_t MicrosSince(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t).count();
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "status " + std::to_string(status);
}

ZygoteProcess::ZygoteProcess(int ctl_fd, const SandboxOptions& options, WorkerEntry entry)
    : ctl_(ctl_fd), options_(options), entry_(entry), log_(Logger("sandbox")) {}

Status ZygoteProcess::Init() {
  int p[2];
  if (pipe2(p, O_DIRECT | O_CLOEXEC) != 0) return Internal("pipe2: " + Errno());
  report_r_ = p[0];
  report_w_ = p[1];
  fcntl(report_r_, F_SETFL, O_NONBLOCK);
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGCHLD, SIGTERM, SIGHUP, SIGINT}) sigaddset(&set, sig);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return Internal("sigprocmask: " + Errno());
  sig_fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sig_fd_ < 0) return Internal("signalfd: " + Errno());
  if (options_.enabled) {
    THAW_RETURN_IF_ERROR(CheckInitialUserNamespace());
    auto cg = Cgroups::Create(DetectCgroupLayout(), getpid(), options_.pids_limit);
    if (!cg.ok()) return cg.status();
    cgroups_ = std::make_unique<Cgroups>(std::move(cg).value());
    auto ns = Namespaces::Create(MountPlan{options_.hidden_paths, options_.tmp_size_mb});
    if (!ns.ok()) return ns.status();
    namespaces_ = std::move(ns).value();
    auto filter = SyscallFilter::Compile();
    if (!filter.ok()) return filter.status();
    filter_ = std::move(filter).value();
    THAW_RETURN_IF_ERROR(Probe());
  }
  while (static_cast<int>(pool_.size()) < options_.pool_size) THAW_RETURN_IF_ERROR(BuildStep());
  return Status::Ok();
}

// One real spawn with a trivial entry, so every step a worker takes is known to work here.
Status ZygoteProcess::Probe() {
  auto armed = ArmNow(ProbeEntry);
  if (!armed.ok()) return armed.status();
  const pid_t pid = *armed;
  Child& c = children_[pid];
  SpawnRequest req;
  req.spec.worker_id = "startup-probe";
  req.spec.model_dir = "/";
  req.spec.memory_mb = 64;
  Status s = SendMessage(c.go_fd, EncodeSpawn(req));
  std::string failure = s.ok() ? "" : s.message();
  auto deadline = SteadyClock::now() + options_.spawn_timeout;
  bool ready = false;
  while (failure.empty() && !ready && SteadyClock::now() < deadline) {
    pollfd pfd{report_r_, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    ChildReport report;
    while (read(report_r_, &report, sizeof report) == sizeof report) {
      if (report.token != c.token) continue;
      report.message[sizeof report.message - 1] = '\0';
      if (!report.ok) failure = report.message;
      if (report.phase == kPhaseReady) ready = true;
    }
  }
  if (failure.empty() && !ready) failure = "the probe worker did not report";
  if (!failure.empty()) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (failure.empty() && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
    failure = "the probe worker failed: " + DescribeExit(status);
  }
  for (int fd : {c.go_fd, c.server_fd}) {
    if (fd >= 0) close(fd);
  }
  RemoveCgroup(c.cgroup);
  tokens_.erase(c.token);
  children_.erase(pid);
  if (!failure.empty()) return FailedPrecondition(failure);
  return Status::Ok();
}

int ZygoteProcess::LastBuildStep() const {
  return options_.enabled ? Namespaces::kSlotSteps + 1 : 0;  // cgroups, namespaces, fork
}

Status ZygoteProcess::BuildStep() {
  if (!building_) {
    building_.emplace();
    building_step_ = 0;
    building_cost_ = SpawnTimings();
  }
  auto start = SteadyClock::now();
  Status s;
  if (building_step_ == LastBuildStep()) {
    auto armed = Arm(*building_, entry_, building_cost_);
    building_.reset();  // Arm closed or discarded it
    if (!armed.ok()) return armed.status();
    pool_.push_back(*armed);
    return Status::Ok();
  }
  if (building_step_ == 0) {
    auto cg = cgroups_->NewSlot();
    if (cg.ok()) building_->cgroup = std::move(cg).value();
    s = cg.status();
    building_cost_.cgroup_us += MicrosSince(start);
  } else {
    s = namespaces_->BuildSlotStep(&building_->ns, building_step_ - 1);
    building_cost_.namespaces_us += MicrosSince(start);
  }
  if (!s.ok()) {
    if (s.message().rfind("fatal:", 0) == 0) {
      log_->critical("{}", s.message());  // stuck in a worker's namespace: stop
      Shutdown(2);
    }
    DiscardSlot(*building_);
    building_.reset();
    return s;
  }
  ++building_step_;
  return s;
}

Result<pid_t> ZygoteProcess::ArmNow(WorkerEntry entry) {
  // Finishes the entry being built, if any, rather than start over.
  if (!building_) {
    building_.emplace();
    building_step_ = 0;
    building_cost_ = SpawnTimings();
  }
  while (building_step_ < LastBuildStep()) {
    THAW_RETURN_IF_ERROR(BuildStep());
  }
  auto armed = Arm(*building_, entry, building_cost_);
  building_.reset();  // Arm closed or discarded it
  return armed;
}

Result<pid_t> ZygoteProcess::Arm(Slot& slot, WorkerEntry entry, const SpawnTimings& cost) {
  int sv[2], go[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    std::string why = "socketpair: " + Errno();
    DiscardSlot(slot);
    return Internal(why);
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, go) != 0) {
    std::string why = "socketpair: " + Errno();
    for (int fd : sv) close(fd);
    DiscardSlot(slot);
    return Internal(why);
  }
  ChildContext ctx;
  ctx.entry = entry;
  ctx.sandboxed = options_.enabled;
  ctx.uid = options_.uid;
  ctx.gid = options_.gid;
  ctx.cgroup_mode = cgroups_ ? cgroups_->mode() : CgroupMode::kNone;
  ctx.cgroup = &slot.cgroup;
  ctx.ns = &slot.ns;
  ctx.filter = filter_ ? &*filter_ : nullptr;
  ctx.host_mnt_fd = namespaces_ ? namespaces_->host_mnt_fd() : -1;
  ctx.sock = sv[1];
  ctx.go_fd = go[1];
  ctx.prewarm = options_.prewarm;
  ctx.report_fd = report_w_;
  ctx.token = next_token_++;
  auto start = SteadyClock::now();
  Status pid_ns = namespaces_ ? namespaces_->BeginPidNamespace() : Status::Ok();
  pid_t pid = pid_ns.ok() ? fork() : -1;
  if (pid == 0) RunWorkerChild(ctx);
  int fork_errno = errno;
  if (pid_ns.ok() && namespaces_ && !namespaces_->EndPidNamespace().ok()) {
    log_->critical("cannot return to the zygote's PID namespace");
    Shutdown(2);
  }
  close(sv[1]);
  close(go[1]);
  Child c;
  c.token = ctx.token;
  c.cgroup = slot.cgroup.name;
  c.arm = cost;
  c.arm.fork_us = MicrosSince(start);
  slot.Close();  // the child holds what it needs; the namespaces now live and die with it
  if (pid < 0) {
    close(sv[0]);
    close(go[0]);
    RemoveCgroup(c.cgroup);
    if (!pid_ns.ok()) return pid_ns;
    return Internal(std::string("fork: ") + std::strerror(fork_errno));
  }
  c.server_fd = sv[0];
  c.go_fd = go[0];
  tokens_[c.token] = pid;
  children_.emplace(pid, std::move(c));
  return pid;
}

pid_t ZygoteProcess::TakeFromPool() {
  for (auto it = pool_.begin(); it != pool_.end(); ++it) {
    if (children_[*it].state == State::kArmed) {
      pid_t pid = *it;
      pool_.erase(it);
      return pid;
    }
  }
  if (pool_.empty()) return 0;
  pid_t pid = pool_.front();  // still arming: sooner than starting over
  pool_.pop_front();
  return pid;
}

void ZygoteProcess::DiscardSlot(Slot& slot) {
  std::string name = slot.cgroup.name;
  slot.Close();
  RemoveCgroup(name);
}

// Removal waits for an idle moment: rmdir of a memory cgroup can take milliseconds, which a
// spawn request arriving meanwhile should not wait for.
void ZygoteProcess::RemoveCgroup(const std::string& name) {
  if (cgroups_ && !name.empty()) to_remove_.push_back(name);
}

// One step of background work per idle poll, so a request waits for one step at most (the
// longest, creating a network namespace, takes ~0.7 ms).
void ZygoteProcess::IdleWork(bool want_refill, bool refill_only) {
  if (WantJoinSpare() && !refill_only) {  // the next fork from a template needs no cgroup move
    JoinSpare();
    return;
  }
  if (!to_remove_.empty() && !refill_only) {
    std::string name = std::move(to_remove_.front());
    to_remove_.pop_front();
    if (!cgroups_->RemoveSlot(name)) busy_.push_back(std::move(name));
    return;
  }
  if (WantSpareSlot() && !refill_only) {
    // A cgroup for the next fork from a template, off its cold path (mkdir in each hierarchy).
    auto slot = cgroups_->NewSlot();
    if (slot.ok()) {
      spare_slots_.push_back(std::move(slot).value());
    } else {
      log_->warn("cannot prepare a cgroup for template forks: {}", slot.status().message());
      refill_after_ = SteadyClock::now() + std::chrono::seconds(1);
    }
    return;
  }
  if (want_refill) {
    if (Status s = BuildStep(); !s.ok()) {
      log_->warn("cannot prepare a worker slot: {}", s.message());
      refill_after_ = SteadyClock::now() + std::chrono::seconds(1);
    }
    return;
  }
  if (refill_only) return;
  // Still busy a moment after the last task was reaped (memory being uncharged): later.
  to_remove_.insert(to_remove_.end(), busy_.begin(), busy_.end());
  busy_.clear();
}

}  // namespace thaw::sandbox::internal
