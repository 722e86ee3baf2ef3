#pragma once
// The worker side of a spawn: what a child forked by the zygote does before it runs the entry.
//
// A child is forked ahead of the cold path ("armed") and finishes when the request comes:
//   arm: join its cgroup, enter its pre-created namespaces (as pid 1 of a new PID namespace),
//        mount its /proc, report "armed", then block on its go channel;
//   go:  receive the SpawnSpec, write the cgroup limits, bind the model read-only at
//        /opt/ml/model, drop privileges, set rlimits, environment and fds, report "ready", then
//        _exit(entry(3, spec)).
// Each phase reports once on the zygote's report pipe — success with its timings, or the step
// that failed — so that Spawn returns only workers whose sandbox is in place, and says why
// otherwise.

#include <sys/types.h>

#include <cstdint>

#include "sandbox/cgroups.h"
#include "sandbox/namespaces.h"
#include "sandbox/syscall_filter.h"
#include "sandbox/zygote.h"

namespace thaw::sandbox::internal {

inline constexpr int kWorkerFd = 3;  // where the entry finds its socket
// The go channel, until NotifyColdStartDone (a template keeps it: its fork requests arrive here).
inline constexpr int kNotifyFd = 5;
// In a worker: its end of the go channel; -1 elsewhere.
inline int g_notify_fd = -1;

// Exit status of a child whose sandbox setup failed (after it reported why).
inline constexpr int kSetupFailedExit = 121;

inline constexpr int32_t kPhaseArmed = 1;
inline constexpr int32_t kPhaseReady = 2;

// One packet on the report pipe. Smaller than PIPE_BUF, so concurrent children's writes never
// interleave; the pipe is in packet mode (O_DIRECT), so each read returns one report.
struct ChildReport {
  uint64_t token = 0;  // the zygote's id for this child (its pid is 1 in its own namespace)
  int32_t phase = 0;   // kPhaseArmed or kPhaseReady
  int32_t ok = 0;
  int64_t cgroup_us = 0;
  int64_t namespaces_us = 0;
  int64_t mounts_us = 0;
  int64_t child_us = 0;  // the whole phase
  char message[400] = {};
};

struct ChildContext {
  WorkerEntry entry = nullptr;
  bool sandboxed = true;
  uid_t uid = 65534;
  gid_t gid = 65534;
  CgroupMode cgroup_mode = CgroupMode::kNone;
  const CgroupSlot* cgroup = nullptr;     // null when unsandboxed
  const NsSlot* ns = nullptr;             // null when unsandboxed
  const SyscallFilter* filter = nullptr;  // null when unsandboxed
  int host_mnt_fd = -1;                   // the zygote's mount namespace, where model paths resolve
  int sock = -1;                          // the worker's end of its socketpair
  // Where the SpawnSpec arrives (SOCK_SEQPACKET, one message); the worker keeps it to tell the
  // zygote when its cold start is over (NotifyColdStartDone).
  int go_fd = -1;
  void (*prewarm)(bool (*stop)()) = nullptr;
  int report_fd = -1;  // write end of the report pipe
  uint64_t token = 0;
};

// Never returns: arms, waits for the spec, sets up the rest of the sandbox, reports, then
// _exit(entry(3, spec)) with the socket at fd 3; or reports the failure and
// _exit(kSetupFailedExit). Exits quietly (0) if the go channel closes before a spec arrives.
[[noreturn]] void RunWorkerChild(const ChildContext& ctx);

}  // namespace thaw::sandbox::internal
