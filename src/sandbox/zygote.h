#pragma once
// The zygote: a separate, single-threaded process forked from the server before the server
// creates any thread. It has libxgboost mapped (linked into the binary) but has started no OpenMP
// thread, so it can fork safely. Its workers enter their sandbox (cgroup, namespaces, read-only
// /opt/ml/model, private /tmp, unprivileged uid, no_new_privs) and then run the WorkerEntry on
// their end of a socketpair; the zygote hands the server the other end over SCM_RIGHTS. The
// zygote reaps every worker (children are reaped in one place); the server learns of a worker's
// death by EOF on its socket.
//
// What does not depend on the request is done ahead of it: the zygote keeps a pool of children
// already forked into their cgroup and namespaces, waiting for a spec, so a cold spawn costs
// ~0.4 ms to the worker's first byte (p50 on the 2-vCPU dev VM; ~2.4 ms when a burst has
// drained the pool). See zygote_pool.cc.
//
// What a worker sees (enabled mode): pid 1 of its own PID namespace with a fresh /proc; its own
// network (only its own loopback, up: no network at all), IPC and UTS (hostname "thaw-worker")
// namespaces; a mount namespace in which every host mount is read-only, /sys/fs/cgroup, /root,
// /home and SandboxOptions::hidden_paths are covered by empty tmpfs, /opt/ml/model is the spec's
// model_dir (read-only, nosuid, nodev) and /tmp and /dev/shm are private tmpfs; uid/gid
// SandboxOptions::uid/gid with no supplementary groups and no capabilities; no_new_privs;
// RLIMIT_CORE 0, RLIMIT_NOFILE 1024, RLIMIT_FSIZE 1 GiB; an environment of PATH, HOME=/tmp,
// OMP_NUM_THREADS=1 and the spec's env (which may override them); fds 0-2 inherited from the
// server (or, with SpawnSpec::capture_output, 1 and 2 on the worker's log socket), its socket at
// fd 3, nothing else; SIGPIPE ignored. Choices and their measured costs:
// zygote_pool.cc and namespaces.h.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/status.h"

namespace thaw::sandbox {

// Where the model appears inside the sandbox.
inline constexpr char kModelMountPoint[] = "/opt/ml/model";
// Where a custom container's program directory appears inside the sandbox.
inline constexpr char kProgramMountPoint[] = "/opt/ml/program";

struct SpawnSpec {
  std::string worker_id;  // unique; names the worker in logs and keys MemoryUsage
  std::string runtime;    // passed to the entry
  // Host path, bound read-only at /opt/ml/model; empty for none. The entry receives a copy of
  // the spec whose model_dir is where the model is visible to it: kModelMountPoint when the
  // sandbox is enabled, the host path when it is not.
  std::filesystem::path model_dir;
  int64_t memory_mb = 2048;  // cgroup memory limit; CPU weight is proportional to it
  std::vector<std::pair<std::string, std::string>> env;
  // Host path, bound read-only at /opt/ml/program; empty for none (a custom container's
  // directory: its program need not be visible in the sandbox's copy of the host otherwise).
  std::filesystem::path program_dir;
  // Not sent to the zygote: when set, Spawn gives the worker a fresh socket as its stdout and
  // stderr and returns the other end in SpawnedWorker::log_fd (else they are the server's).
  bool capture_output = false;
  // The scikit-learn template tier: the process becomes a template instead of a worker. Its
  // entry loads the runtime (the model), then calls ServeForks; later workers of the same
  // endpoint fork from it (Zygote::SpawnFrom), each in a cgroup of its own.
  bool as_template = false;
};

// Where the time of one spawn went on its path, measured in the zygote and the child
// (microseconds). On a pool hit the fork, the cgroup directories and joining them, the
// namespaces and /proc were done ahead of the request and count zero here.
struct SpawnTimings {
  int64_t fork_us = 0;        // fork() into a new PID namespace (pool miss only)
  int64_t namespaces_us = 0;  // entering the mount namespace (+ creating all of them on a miss)
  int64_t cgroup_us = 0;      // writing the limits (+ creating and joining the cgroup on a miss)
  int64_t mounts_us = 0;      // /opt/ml/model (+ /proc on a miss)
  int64_t total_us = 0;       // request received by the zygote → fd sent
  int64_t child_us = 0;       // in the child: spec received → ready to run the entry (+ arming)
  bool pool_hit = true;       // false when the request waited for a child to be armed
};

struct SpawnedWorker {
  int fd = -1;    // the server's end of the socketpair (close-on-exec); the caller owns it
  pid_t pid = 0;  // as seen from the host
  SpawnTimings timings;
  // With SpawnSpec::capture_output: the read end of the worker's stdout/stderr (a stream
  // socket, close-on-exec; the caller owns it). EOF once the worker and everything it started
  // are gone; just before, the zygote writes one line saying how the worker exited.
  int log_fd = -1;
};

struct SandboxOptions {
  bool enabled = true;  // false only with --unsafe-no-sandbox: plain fork, no isolation
  uid_t uid = 65534;    // nobody
  gid_t gid = 65534;
  int64_t pids_limit = 64;
  // Bounds the child's setup in the zygote and the server's wait for a reply (plus a second).
  std::chrono::milliseconds spawn_timeout{5000};
  // Host paths no worker may see (the server's data directory, for one): each is covered by an
  // empty read-only tmpfs in the workers' mount namespace. The model is bound from the host's
  // view, so hiding the directory that holds it is fine.
  std::vector<std::filesystem::path> hidden_paths;
  // Cap of each worker's private /tmp and /dev/shm (tmpfs; their pages count against the
  // worker's memory limit, which is the real bound).
  int64_t tmp_size_mb = 512;
  // Children armed ahead of the cold path (each with its cgroups and namespaces), refilled
  // while the zygote is idle. Each costs an idle process and a network namespace.
  int pool_size = 4;
  // Runs in the zygote process before it sets anything up or forks any child, so that every
  // worker inherits what it loaded (the scikit-learn zygote imports its Python libraries here).
  // It must leave the process single-threaded. An error fails the zygote's start-up with its
  // message.
  Status (*preload)() = nullptr;
  // Run by each armed child once it is in its cgroup and namespaces, before it reports armed
  // (still as root, before the spec and the limits), under SCHED_IDLE: warms what every worker
  // will touch — code pages, symbol bindings, the heap — while the child waits, off the cold
  // path. It should return soon once `stop()` is true (a spec has arrived: the child is needed
  // now). Must leave no thread or descriptor behind. Null: none.
  void (*prewarm)(bool (*stop)()) = nullptr;
};

// Runs in the forked worker after the sandbox is set up. Returns the exit status.
using WorkerEntry = int (*)(int fd, const SpawnSpec& spec);

// For the entry, in the worker's process: tells the zygote that this worker's cold start is
// over (its first answer is sent), so the zygote resumes its background work (re-arming its
// pool, removing cgroups), which it holds back while a cold start is in flight, for at most
// kMaxColdStartHold after the spawn. Only the first call does anything; harmless elsewhere.
void NotifyColdStartDone();

// What a template's runtime must do around each fork (Python: PyOS_BeforeFork and the
// AfterFork calls). Each may be null.
struct ForkHooks {
  void (*before)() = nullptr;
  void (*parent)() = nullptr;
  void (*child)() = nullptr;
  // In a child forked ahead of its request, after `child`, before it waits for the request:
  // warm-up that would otherwise be on the first request's path. Its pages are charged to the
  // template's cgroup (the child joins its own at the release).
  void (*spare)() = nullptr;
};

// For the entry of a template (SpawnSpec::as_template), in its process, once its runtime is
// loaded and it has told the server so on `server_fd`: serves the zygote's fork requests until
// the server closes `server_fd` (its stop request) and no child of it is left, or the zygote is
// gone; then returns false. Returns true in each forked child, which is then a worker: its own
// socket at fd 3 (the template's is closed), its output on fds 1-2, moved by the zygote into a
// cgroup of its own with its spec's memory limit before it was released. The children share the
// template's namespaces, credentials and filter (one endpoint's workers; see ARCHITECTURE.md).
// In a child, `child_worker_id` (when given) is set to the worker id its fork request named.
// The process must be single-threaded.
bool ServeForks(int server_fd, const ForkHooks& hooks, std::string* child_worker_id = nullptr);

// The server's data directory as SandboxOptions::hidden_paths should hide it: itself (absolute,
// normalised), or nothing when it is inside /tmp or /dev/shm, which every worker sees as its own
// empty tmpfs anyway. Pure: it looks at the path only.
std::vector<std::filesystem::path> DataDirToHide(const std::filesystem::path& data_dir);
inline constexpr std::chrono::milliseconds kMaxColdStartHold{10};

class Zygote {
 public:
  // Forks the zygote. Must be called while the process is single-threaded, from the thread that
  // will live as long as the Zygote (the zygote's parent-death signal follows the forking
  // thread). Fails with the exact reason when the sandbox cannot be set up here (and
  // options.enabled is true): the zygote probes by spawning one worker before it reports ready.
  static Result<std::unique_ptr<Zygote>> Start(const SandboxOptions& options, WorkerEntry entry);
  // Start without the wait: forks the zygote (same calling rules as Start) and returns at once,
  // while the zygote preloads and sets up in the background. WaitReady gives the outcome;
  // Spawn waits for it. Fails only when the fork itself fails.
  static Result<std::unique_ptr<Zygote>> Begin(const SandboxOptions& options, WorkerEntry entry);
  // Blocks until the zygote's start-up is over and returns its outcome (Start's errors); later
  // calls return the same outcome at once. Thread-safe.
  Status WaitReady();
  // For shutdown: stops a zygote whose start-up is still running (WaitReady then fails), so
  // that nobody waits for a preload that is no longer needed. No effect once it is ready.
  // Thread-safe.
  void CancelStart();
  // Stops the zygote, which kills every worker and removes every cgroup, and waits for it.
  // No other call may be running.
  ~Zygote();
  Zygote(const Zygote&) = delete;
  Zygote& operator=(const Zygote&) = delete;

  // Thread-safe; blocks for one round trip to the zygote, which includes the rest of the
  // child's setup (call off the I/O threads). Concurrent calls are pipelined: the zygote hands
  // the next spec out while the previous child finishes its setup. Errors: InvalidArgument for a
  // bad spec, Internal("sandbox setup failed: <step>: <reason>") when the child could not set
  // up, Unavailable when the zygote is gone or did not answer in spawn_timeout + 1 s.
  Result<SpawnedWorker> Spawn(const SpawnSpec& spec);
  // A worker forked from the template `template_pid` (a worker spawned with as_template that
  // entered ServeForks) instead of a fresh child: it holds what the template loaded, in a
  // cgroup of its own with spec.memory_mb. spec.model_dir, program_dir and env are the
  // template's (ignored here). Same threading and errors as Spawn, plus NotFound when the
  // template is gone (dead, retired, not a template): spawn afresh then.
  Result<SpawnedWorker> SpawnFrom(pid_t template_pid, const SpawnSpec& spec);
  // SIGKILLs a worker (e.g. after an invocation timeout). Thread-safe. The zygote only kills
  // pids it spawned and has not reaped yet, so a recycled pid is never hit.
  void Kill(pid_t pid);
  // Graceful retirement, for a worker whose socket the caller has closed (EOF is the worker's
  // stop request: a contract worker exits, a custom container's init SIGTERMs its program): the
  // zygote SIGKILLs the worker `grace` later if it is still running. Returns at once; nobody
  // waits for the grace (the zygote's loop keeps the deadline). Same pid rules as Kill; a zero
  // grace is Kill. Thread-safe.
  void Stop(pid_t pid, std::chrono::milliseconds grace);
  // The cgroup version in use ("v1", "v2" or "none").
  std::string cgroup_mode() const;
  // Memory in use by a worker's cgroup, in bytes (for MemoryUtilization); -1 when unknown.
  // Reads the cgroup file directly (no zygote round trip). Thread-safe.
  int64_t MemoryUsage(const std::string& worker_id) const;

  // For tests and diagnostics: the zygote's pid, and the thaw-<zygote pid> cgroup directories
  // (one per hierarchy) under which every worker cgroup lives.
  pid_t zygote_pid() const { return zygote_pid_; }
  const std::vector<std::filesystem::path>& cgroup_parent_dirs() const { return parent_dirs_; }

 private:
  struct Reply;
  Zygote() = default;
  // Spawn and SpawnFrom: sends `msg` (an encoded request with id `id`) and waits for its reply.
  Result<SpawnedWorker> Request(uint64_t id, const std::string& msg, const SpawnSpec& spec);
  // Waits for the reply to request `id`; one waiting thread at a time reads the socket and hands
  // other threads their replies.
  Result<Reply> AwaitReply(uint64_t id, std::chrono::steady_clock::time_point deadline);
  void DropLateReply(Reply& reply);  // mu_ held

  int ctl_fd_ = -1;
  pid_t zygote_pid_ = 0;
  bool sandbox_enabled_ = true;
  std::chrono::milliseconds startup_allowance_{10000};  // beyond spawn_timeout_, for WaitReady
  std::mutex ready_mu_;                                 // serialises the start-up handshake
  std::optional<Status> ready_;         // guarded by ready_mu_: the start-up outcome, once known
  std::atomic<bool> ready_ok_ = false;  // ready_ is OK (lets Spawn skip ready_mu_)
  std::chrono::milliseconds spawn_timeout_{5000};
  std::string cgroup_mode_ = "none";
  std::filesystem::path memory_dir_;
  std::string usage_file_;
  std::vector<std::filesystem::path> parent_dirs_;

  std::mutex send_mu_;  // serializes writes to ctl_fd_ (taken after mu_ when both are held)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_id_ = 1;                  // guarded by mu_
  bool reading_ = false;                  // guarded by mu_: a thread is reading ctl_fd_
  bool dead_ = false;                     // guarded by mu_: the zygote is gone
  std::unordered_set<uint64_t> waiting_;  // guarded by mu_
  std::unordered_map<uint64_t, std::shared_ptr<Reply>> replies_;  // guarded by mu_
  // worker_id → its memory cgroup directory name, for MemoryUsage; an entry goes when a read
  // finds the directory gone, or in a sweep once the map has doubled. Guarded by mu_.
  mutable std::unordered_map<std::string, std::string> cgroups_;
  size_t prune_at_ = 1024;  // guarded by mu_
};

}  // namespace thaw::sandbox
