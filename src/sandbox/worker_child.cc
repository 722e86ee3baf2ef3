#include "sandbox/worker_child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sandbox/wire.h"

namespace thaw::sandbox::internal {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kReportFd = 4;  // the report pipe, until the ready report is sent
constexpr char kPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

int64_t MicrosSince(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t).count();
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Sends a report; a failed write means the zygote is gone (EPIPE: SIGPIPE is ignored), and a
// worker nobody will hand to the server must not run.
void Report(int fd, ChildReport& report, const std::string& message) {
  std::strncpy(report.message, message.c_str(), sizeof report.message - 1);
  report.ok = message.empty() ? 1 : 0;
  while (write(fd, &report, sizeof report) < 0) {
    if (errno != EINTR) _exit(kSetupFailedExit);
  }
}

[[noreturn]] void Fail(int fd, ChildReport& report, const std::string& message) {
  Report(fd, report, message);
  _exit(kSetupFailedExit);
}

// Closes every fd above stdio but `keep`: the zygote's control channel, its other slots and
// other children's channels are none of this child's business.
void CloseAllExcept(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned next = 3;
  for (int fd : keep) {
    if (fd < static_cast<int>(next)) continue;
    if (static_cast<unsigned>(fd) > next) close_range(next, static_cast<unsigned>(fd) - 1, 0);
    next = static_cast<unsigned>(fd) + 1;
  }
  close_range(next, ~0U, 0);
}

std::string DropPrivileges(uid_t uid, gid_t gid) {
  if (setgroups(0, nullptr) != 0) return Errno("setgroups");
  if (setresgid(gid, gid, gid) != 0) return Errno("setresgid " + std::to_string(gid));
  if (setresuid(uid, uid, uid) != 0) return Errno("setresuid " + std::to_string(uid));
  // Leaving uid 0 without SECBIT_KEEP_CAPS cleared every capability; check rather than trust.
  if (uid != 0 && (geteuid() != uid || getegid() != gid)) return "credentials did not change";
  // The uid change made the process non-dumpable, which makes /proc/self root-owned; the
  // worker needs to read its own /proc (and RLIMIT_CORE 0 keeps core dumps off anyway).
  if (prctl(PR_SET_DUMPABLE, 1) != 0) return Errno("prctl PR_SET_DUMPABLE");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Errno("prctl PR_SET_NO_NEW_PRIVS");
  return {};
}

std::string SetLimits() {
  const struct {
    int resource;
    rlim_t value;
    const char* name;
  } limits[] = {
      {RLIMIT_CORE, 0, "RLIMIT_CORE"},
      {RLIMIT_NOFILE, 1024, "RLIMIT_NOFILE"},
      {RLIMIT_FSIZE, rlim_t{1} << 30, "RLIMIT_FSIZE"},
  };
  for (const auto& l : limits) {
    rlimit r{l.value, l.value};
    if (setrlimit(l.resource, &r) != 0) return Errno(l.name);
  }
  // Lets a worker raise its priority back to nice 0, never above: a template's spare warms up
  // under SCHED_IDLE and returns to SCHED_OTHER before it serves (ServeForks). Best effort: an
  // unprivileged server cannot raise the hard limit, and its spares then warm up as usual.
  rlimit nice{20, 20};
  setrlimit(RLIMIT_NICE, &nice);
  return {};
}

std::string SetEnvironment(const SpawnSpec& spec) {
  if (clearenv() != 0) return "clearenv failed";
  // Defaults first, so the model's Environment can override them (a deliberate
  // OMP_NUM_THREADS included).
  setenv("PATH", kPath, 1);
  setenv("HOME", "/tmp", 1);
  setenv("OMP_NUM_THREADS", "1", 1);
  for (const auto& [k, v] : spec.env) {
    if (setenv(k.c_str(), v.c_str(), 1) != 0) return Errno("setenv " + k);
  }
  return {};
}

// In an armed child: its go channel, for the pre-warm's stop().
int g_go_fd = -1;

bool SpecWaiting() {
  pollfd p{g_go_fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

// The pre-warm is background work: it runs under SCHED_IDLE, so it takes only CPU time nobody
// else wants (cold starts in flight, the server), not at all when a spec is already waiting,
// and stops early when one arrives. The zygote puts a child it hands out back to SCHED_OTHER, in
// case the spec arrived during the pre-warm; checking for a spec again after the switch closes the
// gap in between.
void Prewarm(const ChildContext& ctx) {
  g_go_fd = ctx.go_fd;
  if (SpecWaiting()) return;
  sched_param param{};
  const bool idle = sched_setscheduler(0, SCHED_IDLE, &param) == 0;
  if (!SpecWaiting()) ctx.prewarm(&SpecWaiting);
  if (idle) sched_setscheduler(0, SCHED_OTHER, &param);
}

// The arm phase: everything that does not depend on the request.
void Arm(const ChildContext& ctx, ChildReport& report) {
  const auto start = SteadyClock::now();
  const int rfd = ctx.report_fd;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // the zygote blocks SIGCHLD/SIGTERM for signalfd
  // Dies with the zygote. Had it died already, the report write below fails and we exit.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  setpgid(0, 0);  // own process group, so Kill reaches the worker's children (unsandboxed)
  // A real-time policy inherited from the server would make the v1 cpu cgroup refuse the
  // worker (no rt_runtime there), and a model has no business running real-time anyway.
  if (int policy = sched_getscheduler(0); policy == SCHED_FIFO || policy == SCHED_RR) {
    sched_param param{};
    sched_setscheduler(0, SCHED_OTHER, &param);
  }
  std::vector<int> keep = {ctx.sock, ctx.go_fd, rfd, ctx.host_mnt_fd};
  if (ctx.sandboxed) {
    keep.insert(keep.end(),
                {ctx.cgroup->memory_fd, ctx.cgroup->swap_fd, ctx.cgroup->cpu_fd,
                 ctx.cgroup->cpu_quota_fd, ctx.ns->net, ctx.ns->ipc, ctx.ns->uts, ctx.ns->mnt});
    keep.insert(keep.end(), ctx.cgroup->procs_fds.begin(), ctx.cgroup->procs_fds.end());
  }
  CloseAllExcept(keep);
  if (ctx.sandboxed) {
    auto t = SteadyClock::now();
    if (std::string err = JoinCgroup(*ctx.cgroup); !err.empty()) Fail(rfd, report, err);
    report.cgroup_us = MicrosSince(t);
    t = SteadyClock::now();
    if (std::string err = EnterSlotNamespaces(*ctx.ns); !err.empty()) Fail(rfd, report, err);
    report.namespaces_us = MicrosSince(t);
    t = SteadyClock::now();
    if (std::string err = MountProc(*ctx.ns, ctx.host_mnt_fd); !err.empty()) {
      Fail(rfd, report, err);
    }
    report.mounts_us = MicrosSince(t);
    // Off the cold path (measured: installing the filter costs 0.1-0.2 ms here, emptying the
    // bounding set ~40 prctl calls). Neither takes away what the rest of the setup needs as root:
    // the bounding set limits only what an exec could gain, and the filter leaves the four calls
    // the spec's mounts use (see syscall_filter.h).
    if (std::string err = DropCapabilityBounds(); !err.empty()) {
      Fail(rfd, report, "capabilities: " + err);
    }
    if (std::string err = ctx.filter->Install(); !err.empty()) Fail(rfd, report, err);
  }
  report.child_us = MicrosSince(start);
  if (ctx.prewarm) Prewarm(ctx);
  Report(rfd, report, "");
}

// Blocks until the zygote sends the spec (with, when output is captured, the socket that
// becomes stdout and stderr: *log_fd, else -1). EOF: the zygote discarded this child, or died.
SpawnSpec AwaitSpec(const ChildContext& ctx, ChildReport& report, int* log_fd) {
  std::string msg;
  while (true) {  // RecvMessage does not block: wait for the message first
    pollfd p{ctx.go_fd, POLLIN, 0};
    if (poll(&p, 1, -1) < 0 && errno != EINTR) _exit(0);
    if (RecvMessage(ctx.go_fd, &msg, log_fd)) break;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) _exit(0);  // EOF (errno 0)
  }
  SpawnRequest req;
  if (!DecodeSpawn(msg, &req)) Fail(ctx.report_fd, report, "undecodable spawn request");
  return std::move(req.spec);
}

}  // namespace

void RunWorkerChild(const ChildContext& ctx) {
  ChildReport report;
  report.token = ctx.token;
  report.phase = kPhaseArmed;
  Arm(ctx, report);

  int log_fd = -1;
  SpawnSpec spec = AwaitSpec(ctx, report, &log_fd);
  const auto start = SteadyClock::now();
  const int rfd = ctx.report_fd;
  report = ChildReport();
  report.token = ctx.token;
  report.phase = kPhaseReady;
  if (ctx.sandboxed) {
    auto t = SteadyClock::now();
    std::string err = ApplyLimits(*ctx.cgroup, ctx.cgroup_mode, spec.memory_mb);
    if (!err.empty()) Fail(rfd, report, err);
    report.cgroup_us = MicrosSince(t);

    t = SteadyClock::now();
    int tree_fd = -1, program_fd = -1;
    if (!spec.model_dir.empty()) {
      err = CloneTree(spec.model_dir, kModelMountPoint, &tree_fd);
      if (!err.empty()) Fail(rfd, report, err);
    }
    if (!spec.program_dir.empty()) {
      err = CloneTree(spec.program_dir, kProgramMountPoint, &program_fd);
      if (!err.empty()) Fail(rfd, report, err);
    }
    report.mounts_us = MicrosSince(t);
    t = SteadyClock::now();
    if (err = EnterSlotMountNamespace(*ctx.ns); !err.empty()) Fail(rfd, report, err);
    report.namespaces_us = MicrosSince(t);
    t = SteadyClock::now();
    if (tree_fd >= 0) {
      if (err = MountTree(tree_fd, kModelMountPoint); !err.empty()) Fail(rfd, report, err);
      close(tree_fd);
      spec.model_dir = kModelMountPoint;
    }
    if (program_fd >= 0) {
      if (err = MountTree(program_fd, kProgramMountPoint); !err.empty()) Fail(rfd, report, err);
      close(program_fd);
      spec.program_dir = kProgramMountPoint;
    }
    report.mounts_us += MicrosSince(t);

    if (err = DropPrivileges(ctx.uid, ctx.gid); !err.empty()) {
      Fail(rfd, report, "drop privileges: " + err);
    }
    if (err = DropRemainingCapabilities(); !err.empty()) {
      Fail(rfd, report, "capabilities: " + err);
    }
    // The credential change cleared the parent-death signal.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
  }
  if (std::string err = SetLimits(); !err.empty()) Fail(rfd, report, "setrlimit: " + err);
  if (std::string err = SetEnvironment(spec); !err.empty()) Fail(rfd, report, err);

  // Socket at 3, report pipe at 4, go channel at 5 (close-on-exec), nothing else above 2.
  // Moving them out of the way first keeps dup2 from clobbering one with another.
  if (log_fd >= 0 && (dup2(log_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0)) {
    Fail(rfd, report, Errno("stdout/stderr"));
  }
  int sock = fcntl(ctx.sock, F_DUPFD, 10);
  int rep = fcntl(rfd, F_DUPFD, 10);
  int go = fcntl(ctx.go_fd, F_DUPFD_CLOEXEC, 10);
  if (sock < 0 || rep < 0 || go < 0 || dup2(sock, kWorkerFd) < 0 || dup2(rep, kReportFd) < 0 ||
      dup3(go, kNotifyFd, O_CLOEXEC) < 0) {
    Fail(rfd, report, Errno("arrange fds"));
  }
  if (close_range(kNotifyFd + 1, ~0U, 0) != 0) Fail(kReportFd, report, Errno("close_range"));
  g_notify_fd = kNotifyFd;
  if (chdir("/") != 0) Fail(kReportFd, report, Errno("chdir /"));

  report.child_us = MicrosSince(start);
  Report(kReportFd, report, "");
  close(kReportFd);
  _exit(ctx.entry(kWorkerFd, spec));
}

}  // namespace thaw::sandbox::internal

namespace thaw::sandbox {
namespace {

// In a child forked by a template: puts its fds in place (socket at 3, release channel at 5,
// log on 1-2, nothing else), then waits until the zygote has moved it into its cgroup.
void BecomeForkedChild(const std::vector<int>& got) {
  // The template made itself non-dumpable (ServeForks); a worker needs its own /proc (as in
  // DropPrivileges), and the flag is per process after the fork.
  prctl(PR_SET_DUMPABLE, 1);
  using internal::kNotifyFd;
  using internal::kWorkerFd;
  const int log_fd = got.size() > 2 ? got[2] : -1;
  if (log_fd >= 0 && (dup2(log_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0)) _exit(1);
  int sock = fcntl(got[0], F_DUPFD, 10);
  int rel = fcntl(got[1], F_DUPFD_CLOEXEC, 10);
  if (sock < 0 || rel < 0 || dup2(sock, kWorkerFd) < 0 || dup3(rel, kNotifyFd, O_CLOEXEC) < 0) {
    _exit(1);
  }
  close(4);
  close_range(kNotifyFd + 1, ~0U, 0);  // the template's other children's pidfds among them
  internal::g_notify_fd = kNotifyFd;
  // The release: one byte once the zygote wrote our pid into our cgroup, so everything this
  // worker allocates from now on is charged to it. EOF: the zygote gave up on us.
  char go = 0;
  ssize_t n;
  do {
    n = recv(kNotifyFd, &go, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n != 1) _exit(0);
  // Dies with the template (without a PID namespace, --sandbox unsafe-off, nothing else would).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

// A spare's warm-up runs only on CPU time nobody else wants (SCHED_IDLE): right after a cold
// start the machine is busy with that request and the next ones, which the warm-up would slow
// down (measured: back-to-back cold starts of 20 endpoints got slower with the warm-up at normal
// priority). It goes back to SCHED_OTHER after, or the spare exits (never a worker under
// SCHED_IDLE); without the RLIMIT_NICE that allows that (an unprivileged server), it warms up
// at normal priority.
void WarmUpWhenIdle(void (*warm_up)()) {
  rlimit nice{};
  const bool can_return = getrlimit(RLIMIT_NICE, &nice) == 0 && nice.rlim_cur >= 20;
  sched_param param{};
  const bool idle = can_return && sched_setscheduler(0, SCHED_IDLE, &param) == 0;
  warm_up();
  if (idle && sched_setscheduler(0, SCHED_OTHER, &param) != 0) _exit(0);
}

}  // namespace

bool ServeForks(int server_fd, const ForkHooks& hooks, std::string* child_worker_id) {
  using internal::DecodeFork;
  using internal::EncodeForked;
  using internal::EncodeSpare;
  using internal::RecvMessageFds;
  using internal::SendMessage;
  const int go = internal::g_notify_fd;  // the zygote's fork requests arrive here
  if (go < 0) return false;
  // Non-dumpable, so that no worker forked from here (same uid, pid 1 is us) can open our
  // /proc/1/mem and write into the model every later worker of the endpoint is forked with.
  prctl(PR_SET_DUMPABLE, 0);
  // Children are reaped by the kernel (we are pid 1 of the namespace and never wait); their
  // pidfds say when they are gone. Each child restores the default.
  signal(SIGCHLD, SIG_IGN);
  std::vector<int> children;  // pidfds of live children
  bool stopping = false;      // the server closed server_fd: no more forks
  // One child forked ahead of the next request, waiting on `spare_sock` for its fds: the fork
  // of a process holding a model (its page tables) is off the cold path. Made once the
  // template has been idle for kSpareAfter, so it does not compete with a worker just started.
  // The child first runs hooks.spare (the runtime's warm-up), then says "ready" on its socket;
  // until then a request is forked for afresh (a slow warm-up never delays one), and only then
  // does the zygote learn of it (kSpare) and move it into a cgroup of its own. A spare that
  // dies before it is ready (its warm-up crashed it) turns the warm-up off for later spares.
  constexpr int kSpareAfterMs = 20;
  pid_t spare_pid = 0;
  int spare_pidfd = -1, spare_sock = -1;
  bool spare_ready = false;
  bool warm_up = hooks.spare != nullptr;
  auto drop_spare = [&] {
    if (spare_sock >= 0) close(spare_sock);
    if (spare_pidfd >= 0) close(spare_pidfd);
    spare_sock = spare_pidfd = -1;
    spare_pid = 0;
    spare_ready = false;
  };
  std::vector<pollfd> fds;
  while (!stopping || !children.empty()) {
    fds.assign({{go, POLLIN, 0}, {stopping ? -1 : server_fd, POLLIN, 0}});
    for (int p : children) fds.push_back({p, POLLIN, 0});
    const size_t spare_at = fds.size();  // the spare's "ready" (or its EOF), while it warms up
    fds.push_back({spare_pid != 0 && !spare_ready ? spare_sock : -1, POLLIN, 0});
    const bool want_spare = !stopping && spare_pid == 0;
    int n = poll(fds.data(), fds.size(), want_spare ? kSpareAfterMs : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0 && want_spare) {
      int sp[2];
      if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) continue;
      if (hooks.before) hooks.before();
      const pid_t pid = fork();
      if (pid == 0) {
        signal(SIGCHLD, SIG_DFL);
        if (hooks.child) hooks.child();
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(sp[0]);
        if (warm_up) WarmUpWhenIdle(hooks.spare);
        if (!SendMessage(sp[1], "ready").ok()) _exit(0);
        std::string msg;
        std::vector<int> got;
        while (true) {  // blocks until the template hands over a request's fds, or goes
          pollfd w{sp[1], POLLIN, 0};
          if (poll(&w, 1, -1) < 0 && errno != EINTR) _exit(0);
          if (RecvMessageFds(sp[1], &msg, &got)) break;
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) _exit(0);
        }
        if (got.size() < 2) _exit(0);
        BecomeForkedChild(got);
        if (child_worker_id != nullptr) *child_worker_id = std::move(msg);
        return true;
      }
      if (hooks.parent) hooks.parent();
      close(sp[1]);
      const int pidfd = pid > 0 ? static_cast<int>(syscall(SYS_pidfd_open, pid, 0)) : -1;
      if (pidfd < 0) {
        if (pid > 0) kill(pid, SIGKILL);
        close(sp[0]);
        continue;
      }
      spare_pid = pid;
      spare_pidfd = pidfd;
      spare_sock = sp[0];
      continue;
    }
    if (n == 0) continue;
    for (size_t i = spare_at; i-- > 2;) {
      if (!fds[i].revents) continue;
      close(children[i - 2]);
      children.erase(children.begin() + static_cast<std::ptrdiff_t>(i - 2));
    }
    if (fds[spare_at].revents) {
      char ready[8];
      const ssize_t got = recv(spare_sock, ready, sizeof ready, MSG_DONTWAIT);
      if (got > 0) {
        // The zygote moves it into a cgroup of its own now, off the cold path (a v1
        // migration can wait ~10 ms for an RCU grace period). Its copy of the pidfd says
        // which child.
        spare_ready = true;
        if (!SendMessage(go, EncodeSpare(), spare_pidfd).ok()) {
          kill(spare_pid, SIGKILL);
          drop_spare();
          return false;  // the zygote is gone
        }
      } else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        warm_up = false;  // it died warming up: the next spare does without
        drop_spare();
      }
    }
    if (fds[1].revents) {
      char buf[256];
      ssize_t got = read(server_fd, buf, sizeof buf);
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) stopping = true;
      if (stopping && spare_pid != 0) drop_spare();  // EOF on its channel: the spare exits
    }
    if (!fds[0].revents) continue;
    std::string msg;
    std::vector<int> got;
    if (!RecvMessageFds(go, &msg, &got)) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return false;  // the zygote is gone: so are we (our children with us, as pid 1)
    }
    std::string worker_id;
    // A child that has its request: its pidfd goes to the zygote, which adopts it. False when
    // the zygote is gone (the child is killed).
    auto report_forked = [&](pid_t pid, int pidfd) {
      if (!SendMessage(go, EncodeForked(true, ""), pidfd).ok()) {
        kill(pid, SIGKILL);
        close(pidfd);
        return false;
      }
      children.push_back(pidfd);
      return true;
    };
    auto refuse = [&](const std::string& why) {
      for (int fd : got) close(fd);
      return SendMessage(go, EncodeForked(false, why)).ok();
    };
    if (!DecodeFork(msg, &worker_id) || got.size() < 2) {
      if (!refuse("undecodable fork request")) return false;
      continue;
    }
    if (stopping) {
      if (!refuse("the template is retiring")) return false;
      continue;
    }
    if (spare_pid != 0 && spare_ready) {
      // The spare takes the request: its fds go over its channel, its pidfd to the zygote.
      const bool handed = internal::SendMessageFds(spare_sock, worker_id, got).ok();
      const int pidfd = spare_pidfd;
      const pid_t pid = spare_pid;
      spare_pidfd = -1;
      drop_spare();
      if (handed) {
        for (int fd : got) close(fd);
        if (!report_forked(pid, pidfd)) return false;
        continue;
      }
      kill(pid, SIGKILL);  // it died meanwhile: the request is forked for now, below
      close(pidfd);
    }
    if (hooks.before) hooks.before();
    const pid_t pid = fork();
    if (pid == 0) {
      signal(SIGCHLD, SIG_DFL);
      if (hooks.child) hooks.child();
      BecomeForkedChild(got);
      if (child_worker_id != nullptr) *child_worker_id = std::move(worker_id);
      return true;
    }
    const int fork_errno = errno;
    if (hooks.parent) hooks.parent();
    if (pid < 0) {
      if (!refuse(std::string("fork: ") + std::strerror(fork_errno))) return false;
      continue;
    }
    for (int fd : got) close(fd);
    // glibc 2.36's <sys/pidfd.h> lacks extern "C": the syscall directly. The child cannot exit
    // before its release, so the pid is still its own here.
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
      const int e = errno;
      kill(pid, SIGKILL);
      if (!SendMessage(go, EncodeForked(false, std::string("pidfd_open: ") + std::strerror(e)))
               .ok()) {
        return false;
      }
      continue;
    }
    if (!report_forked(pid, pidfd)) return false;
  }
  return false;
}

void NotifyColdStartDone() {
  int& fd = internal::g_notify_fd;
  if (fd < 0) return;
  // One byte; the zygote only watches for it (or for the channel closing) and never waits.
  char done = 1;
  while (send(fd, &done, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
  close(fd);
  fd = -1;
}

}  // namespace thaw::sandbox
