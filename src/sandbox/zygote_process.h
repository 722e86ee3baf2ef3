#pragma once
// The zygote process: start-up, the event loop, the pool of armed children, reaping and
// shutdown. Zygote::Start forks and calls RunZygote in the child; nothing here runs in the
// server. zygote_process.cc has the loop and the request path, zygote_pool.cc the pool.

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/logging.h"
#include "common/status.h"
#include "sandbox/cgroups.h"
#include "sandbox/namespaces.h"
#include "sandbox/syscall_filter.h"
#include "sandbox/wire.h"
#include "sandbox/worker_child.h"
#include "sandbox/zygote.h"

namespace thaw::sandbox::internal {

// Never returns. `ctl_fd` is the zygote's end of the control channel; `server_pid` the process
// that forked us (to notice it died before the parent-death signal was armed).
[[noreturn]] void RunZygote(int ctl_fd, pid_t server_pid, const SandboxOptions& options,
                            WorkerEntry entry);

using SteadyClock = std::chrono::steady_clock;

// Prefixes a start-up failure of SandboxOptions::preload (not a sandbox problem) in ReadyMessage.
inline constexpr std::string_view kPreloadFailed = "preload: ";

class ZygoteProcess {
 public:
  ZygoteProcess(int ctl_fd, const SandboxOptions& options, WorkerEntry entry);
  [[noreturn]] void Run();

 private:
  // What a child needs that is slow to create: cgroup directories and namespaces.
  struct Slot {
    CgroupSlot cgroup;
    NsSlot ns;
    void Close() {
      cgroup.CloseFds();
      ns.Close();
    }
  };
  // A fork request sent to a template, until its answer.
  struct PendingFork {
    uint64_t request_id = 0;
    std::string worker_id;
    int64_t memory_mb = 0;
    CgroupSlot slot;      // the child's, limits written; the zygote moves the child into it
    pid_t prejoined = 0;  // the template's spare, already in `slot` (no move at the adoption)
    int server_fd = -1;   // the server's end of the worker's socket
    int release_fd = -1;  // our end of the child's release / cold-start channel
    int log_fd = -1;
    SteadyClock::time_point received;
    SteadyClock::time_point sent;
    SteadyClock::time_point deadline;
  };
  enum class State {
    kArming,   // forked, entering its slot; in pool_
    kArmed,    // waiting for a spec; in pool_
    kPending,  // spec sent; the server waits for the reply
    kRunning,  // handed to the server
  };
  struct Child {
    State state = State::kArming;
    uint64_t token = 0;
    std::string cgroup;  // slot name; "" when unsandboxed
    // Our end of the go channel: the spec goes out on it, then the worker says on it that its
    // cold start is over (or closes it by exiting); closed then, or at hold_until.
    int go_fd = -1;
    int server_fd = -1;  // the server's end of the worker socket, until the reply carries it
    // The worker's stdout/stderr socket (-1: not captured), kept to write its exit line.
    int log_fd = -1;
    SpawnTimings arm;  // zygote-side cost of the slot and the fork (charged on a pool miss)
    // The request, from kPending on.
    std::shared_ptr<const SpawnRequest> request;
    int retries = 0;  // children this request lost to deaths before they were ready
    std::string worker_id;
    int64_t memory_mb = 0;
    uint64_t request_id = 0;
    SteadyClock::time_point received;
    SteadyClock::time_point deadline;
    SteadyClock::time_point hold_until;  // kRunning: background work waits until then at most
    SpawnTimings timings;
    // kRunning, asked to stop (Zygote::Stop): SIGKILLed at this time if still running.
    std::optional<SteadyClock::time_point> kill_at;
    int64_t grace_ms = 0;
    // A template (SpawnSpec::as_template): its go channel stays open and carries its fork
    // requests and their answers (oldest first).
    bool is_template = false;
    std::deque<PendingFork> forks;
    // In adopted_ (a template's child, not ours: we learn of its exit through its pidfd).
    int pidfd = -1;
    pid_t template_pid = 0;
  };

  // zygote_pool.cc: start-up and the pool.
  Status Init();
  Status Probe();
  // One step of building the next pool entry: the cgroups, each namespace, then the fork.
  Status BuildStep();
  int LastBuildStep() const;
  // A pool entry now, all steps at once (start-up, or a request that found the pool empty).
  Result<pid_t> ArmNow(WorkerEntry entry);
  Result<pid_t> Arm(Slot& slot, WorkerEntry entry, const SpawnTimings& cost);
  pid_t TakeFromPool();  // 0 when empty; prefers an armed child
  void DiscardSlot(Slot& slot);
  void RemoveCgroup(const std::string& name);
  // One step of background work: removing a cgroup, else building the pool (`refill`). Only
  // the latter when `refill_only` (a drained pool during a cold start).
  void IdleWork(bool refill, bool refill_only);

  // zygote_process.cc: the loop and the request path.
  [[noreturn]] void Loop();
  void DrainControl();
  // `log_fd` (owned; -1 for none) becomes the worker's stdout/stderr.
  void HandleSpawn(std::shared_ptr<const SpawnRequest> req, SteadyClock::time_point received,
                   int retries = 0, int log_fd = -1);
  void SendReply(Child& c, pid_t pid, const std::string& error);
  // zygote_template.cc: the template tier.
  void HandleSpawnFrom(const SpawnFromRequest& req, int log_fd);
  // A template's go channel is readable: fork answers, or EOF.
  void DrainTemplate(pid_t template_pid);
  void AdoptFork(pid_t template_pid, Child& tmpl, PendingFork& f, int pidfd);
  void FailFork(PendingFork& f, const std::string& error);
  void FailForks(Child& tmpl, const std::string& error);
  // An adopted child's pidfd is readable: it exited.
  void AdoptedExited(pid_t pid);
  // A template's child forked ahead of its request (kSpare): moved into a cgroup of its own
  // while the zygote is idle, so its fork request needs no cgroup move.
  struct Spare {
    pid_t template_pid = 0;
    int pidfd = -1;
    int64_t memory_mb = 0;
    CgroupSlot slot;  // joined when slot.name is set; moved to its PendingFork when handed
    bool handed = false;
    bool join_failed = false;
  };
  void AddSpare(pid_t template_pid, const Child& tmpl, int pidfd);
  // `*timeout` (when given) is lowered to the end of the quiet period a waiting join needs.
  bool WantJoinSpare(int* timeout = nullptr) const;
  void JoinSpare();  // one spare, as a step of idle work
  // The spare was adopted as a worker, or exited: forget it (its cgroup if it is left empty).
  void DropSpare(pid_t pid);
  Result<CgroupSlot> TakeSpareSlot();
  bool WantSpareSlot() const;
  Child* FindRunning(pid_t pid);
  void DrainReports();
  // Whether a cold start is in flight: a spawn waiting for its child (then also `*pending`), or
  // a spawned worker with no word on its go channel yet, within kMaxColdStartHold of its reply.
  // Closes the channels of those past it; lowers `*timeout` to the next deadline.
  bool ColdStartInFlight(SteadyClock::time_point now, bool* pending, int* timeout);
  void DrainSignals();
  void Reap();
  void CheckDeadlines();
  void KillWorker(pid_t pid);
  // A retiring worker: its socket is closed (its stop request); SIGKILL after `grace_ms` unless
  // it has exited by then. Never waits.
  void StopWorker(pid_t pid, int64_t grace_ms);
  [[noreturn]] void Shutdown(int code);

  const int ctl_;
  const SandboxOptions options_;
  const WorkerEntry entry_;
  std::shared_ptr<spdlog::logger> log_;
  int sig_fd_ = -1;
  int report_r_ = -1;
  int report_w_ = -1;
  std::unique_ptr<Cgroups> cgroups_;
  std::unique_ptr<Namespaces> namespaces_;
  std::optional<SyscallFilter> filter_;  // compiled once here, installed by each worker

  std::map<pid_t, Child> children_;  // every child not reaped yet
  // Workers forked by templates (host pid → child), until their pidfd says they exited. Kept
  // apart from children_: their pids are not ours to waitpid, and may be reused once gone.
  std::map<pid_t, Child> adopted_;
  std::deque<CgroupSlot> spare_slots_;  // for template forks: made when idle, limits unset
  std::map<pid_t, Spare> spares_;       // host pid → a template's forked-ahead child
  std::map<uint64_t, pid_t> tokens_;    // token → pid, until the ready report
  std::deque<pid_t> pool_;              // kArming and kArmed children, oldest first
  std::optional<Slot> building_;        // the next pool entry, built step by step when idle
  int building_step_ = 0;
  SpawnTimings building_cost_;
  std::deque<std::string> to_remove_;  // cgroups of reaped children, removed when idle
  std::vector<std::string> busy_;      // removal failed (still busy): retried every 100 ms
  uint64_t next_token_ = 1;
  SteadyClock::time_point refill_after_;  // backoff after a failure to build or arm
  // The last spawn request: a spare is moved into its cgroup only once the node has had none
  // for kSpareJoinQuiet (a v1 move can block the loop ~10 ms, which a burst's next request
  // would wait for; in a burst the fork request moves it instead).
  SteadyClock::time_point last_request_;
};

int64_t MicrosSince(SteadyClock::time_point t);
// The worker's last line in its own log: how it ended. Never blocks (a full socket loses it).
void WriteExitLine(int log_fd, std::string line);
std::string DescribeExit(int status);

}  // namespace thaw::sandbox::internal
