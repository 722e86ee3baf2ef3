#pragma once
// Worker cgroups, v1 (memory + cpu + pids hierarchies) or v2 (one unified hierarchy). The zygote
// owns one parent directory `thaw-<zygote pid>` per hierarchy, under the cgroup it started in,
// and one directory per worker below it. Directories are created ahead of the cold path (a
// CgroupSlot holds them with their control files open); on spawn the child writes its limits and
// "0" into cgroup.procs through those fds, which takes no path lookup and no help from the
// zygote. Parsing is split from the filesystem so tests can feed other hosts' layouts.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace thaw::sandbox::internal {

enum class CgroupMode { kNone, kV1, kV2 };
const char* CgroupModeName(CgroupMode mode);

// Where this process's cgroups are.
struct CgroupLayout {
  CgroupMode mode = CgroupMode::kNone;
  // The current process's own cgroup directory per controller; v2 sets all three to the same
  // directory. cpu and pids may be empty on v1 hosts that lack those hierarchies.
  std::filesystem::path memory, cpu, pids;
  std::string why_none;  // for kNone: what was looked for and not found
};

// Decides the layout from the text of /proc/self/mountinfo and /proc/self/cgroup. Pure v2 when a
// cgroup2 mount offers the memory controller to our cgroup (`read_file` reads its
// cgroup.controllers); v1 when a v1 hierarchy has the memory controller; none otherwise.
CgroupLayout ParseCgroupLayout(
    std::string_view mountinfo, std::string_view self_cgroup,
    const std::function<std::string(const std::filesystem::path&)>& read_file);
CgroupLayout DetectCgroupLayout();

// A worker's CPU bound, as Lambda and SageMaker Serverless give CPU: in proportion to memory,
// one vCPU per kMbPerVcpu (Lambda's documented 1,769 MB = 1 vCPU), never less than
// kMinWorkerMilliCpus (so 1 GB workers, SageMaker Serverless's smallest, get a whole core rather
// than Lambda's 0.58) and never more than the node has (`node_millicpus`: the CPUs thaw may run
// on, after affinity and any quota above thaw's own cgroup). A CFS bandwidth limit of quota_us
// per period_us: cpu.max "quota period" (v2), cpu.cfs_quota_us (v1; period 100 ms, the
// kernel's default for a new cgroup).
inline constexpr int64_t kMbPerVcpu = 1769;
inline constexpr int64_t kMinWorkerMilliCpus = 1000;
inline constexpr int64_t kCpuPeriodUs = 100000;
struct CpuQuota {
  int64_t quota_us = 0;
  int64_t period_us = kCpuPeriodUs;
  bool operator==(const CpuQuota&) const = default;
};
CpuQuota CpuQuotaFor(int64_t memory_mb, int64_t node_millicpus);
// The CPUs available to thaw in thousandths: online CPUs in its affinity mask (`affinity_cpus`),
// capped by the tightest quota/period pair in `quotas` (thaw's own cgroup and its ancestors;
// a quota of -1 or "max" is none). Pure; NodeMilliCpus reads the host.
int64_t MilliCpusFrom(int64_t affinity_cpus,
                      const std::vector<std::pair<int64_t, int64_t>>& quotas);
int64_t NodeMilliCpus(const CgroupLayout& layout);

// One worker's cgroup with its control files open (write-only). Moved into the child by fork.
struct CgroupSlot {
  std::string name;
  std::vector<int> procs_fds;  // cgroup.procs of each hierarchy
  int memory_fd = -1;          // memory.limit_in_bytes | memory.max
  int swap_fd = -1;            // memory.memsw.limit_in_bytes | memory.swap.max; -1 if absent
  int cpu_fd = -1;             // cpu.shares | cpu.weight; -1 without a cpu controller
  int cpu_quota_fd = -1;       // cpu.cfs_quota_us | cpu.max; -1 without a cpu controller
  int64_t node_millicpus = 0;  // the cap of the worker's CpuQuotaFor
  void CloseFds();
};

// In the child. Join moves the calling process into the slot (when armed); ApplyLimits writes
// the limits for `memory_mb` (when the spec arrives: memory, CPU weight and CPU quota). Each
// returns a message naming the failed step, "" on success; the child reports it. The zygote
// joins a template's child by its host `pid` (0: the calling process).
std::string JoinCgroup(const CgroupSlot& slot, pid_t pid = 0);
std::string ApplyLimits(const CgroupSlot& slot, CgroupMode mode, int64_t memory_mb);

class Cgroups {
 public:
  // Creates thaw-<zygote_pid> in every hierarchy of `layout` (on v2 also enabling the
  // controllers for it, moving this process into a leaf if our cgroup must stop holding
  // processes for that), after removing empty thaw-<pid> directories whose process is gone.
  static Result<Cgroups> Create(const CgroupLayout& layout, pid_t zygote_pid, int64_t pids_limit);
  Cgroups() = default;

  CgroupMode mode() const { return layout_.mode; }
  const std::vector<std::filesystem::path>& parent_dirs() const { return parents_; }
  std::filesystem::path memory_parent() const { return parents_.empty() ? "" : parents_[0]; }
  const char* usage_file() const;

  // mkdir of a fresh, never reused name in every hierarchy, pids.max set, control files open.
  Result<CgroupSlot> NewSlot();
  // rmdir in every hierarchy; false when some directory is still busy (retry later).
  bool RemoveSlot(const std::string& name);
  // Whether the kernel OOM-killed a process of this cgroup (memory.oom_control / memory.events).
  bool OomKilled(const std::string& name) const;
  // Removes the parent directories (empty by then); false when one remains.
  bool RemoveParents();

 private:
  CgroupLayout layout_;
  std::vector<std::filesystem::path> parents_;  // memory first, then cpu, pids (v2: one)
  int64_t pids_limit_ = 0;
  int64_t node_millicpus_ = 0;
  uint64_t next_slot_ = 0;
};

// Writes `value` to an open cgroup control file; returns errno or 0.
int WriteFd(int fd, std::string_view value);
// Reads a small file whole; false when it cannot be read.
bool ReadSmallFile(const std::filesystem::path& path, std::string* out);

}  // namespace thaw::sandbox::internal
