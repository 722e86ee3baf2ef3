#pragma once
// Namespaces for workers, made ahead of the cold path. Creating a network namespace costs
// ~0.7 ms here and a mount namespace ~0.1 ms, while entering an existing one with setns costs
// ~10 µs, so the zygote creates a full set per slot while idle (unshare in the zygote itself,
// keep an fd from /proc/self/ns/*, setns back) and the child only enters them.
//
// Mounts: at start-up a helper child builds one template mount namespace: every host mount
// remounted read-only (once, ~0.2 ms, instead of per worker: 20 bind remounts cost ~0.18 ms
// here), /sys/fs/cgroup, /root, /home and the hidden paths covered by empty read-only tmpfs
// (submounts detached first), and the mount point /opt/ml/model. Each slot's mount namespace is
// a copy of the template (private: nothing propagates back) with its own /tmp and /dev/shm
// tmpfs. An armed child mounts the /proc of its own PID namespace there (~25 µs). On the
// request, the child clones the model directory as a detached read-only mount while still in
// the host's mount namespace (open_tree: a path hidden in the template stays reachable), enters
// the slot's namespace and moves the clone onto /opt/ml/model (~40 µs in all; a bind mount plus
// a read-only remount costs about the same but needs the source visible in the namespace).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace thaw::sandbox::internal {

// One worker's namespaces, as fds. Moved into the child by fork; the zygote closes its copies
// right after, so the namespaces die with the worker.
struct NsSlot {
  int net = -1, ipc = -1, uts = -1, mnt = -1;
  void Close();
};

struct MountPlan {
  std::vector<std::filesystem::path> hidden_paths;  // in addition to the built-in ones
  int64_t tmp_size_mb = 512;
};

class Namespaces {
 public:
  // In the zygote at start-up. Creates /opt/ml/model on the host (or, on a read-only root, a
  // tmpfs over /opt/ml in the template) and the template mount namespace. The zygote's own
  // namespaces are unchanged on return.
  static Result<std::unique_ptr<Namespaces>> Create(const MountPlan& plan);
  ~Namespaces();
  Namespaces(const Namespaces&) = delete;
  Namespaces& operator=(const Namespaces&) = delete;

  // Creating a slot's namespaces takes kSlotSteps steps (network, IPC, UTS, mount), so the
  // zygote can interleave them with requests: the longest (network) is ~0.7 ms. Step i fills
  // one fd of `slot`; on error the zygote is back in its own namespaces unless the message
  // starts with "fatal:" (setns back failed; the zygote must exit).
  static constexpr int kSlotSteps = 4;
  Status BuildSlotStep(NsSlot* slot, int step);
  Result<NsSlot> NewSlot();  // all steps at once

  // Around fork(): between the two calls, the next child forked is pid 1 of a new PID
  // namespace (unshare(CLONE_NEWPID) only affects children, and setns back re-arms it).
  Status BeginPidNamespace();
  Status EndPidNamespace();

  int host_mnt_fd() const { return self_mnt_; }

 private:
  Namespaces() = default;
  Status BuildTemplate(const MountPlan& plan);

  int self_net_ = -1, self_ipc_ = -1, self_uts_ = -1, self_mnt_ = -1, self_pid_ = -1;
  int template_mnt_ = -1;
  int64_t tmp_size_mb_ = 512;
};

// Hidden paths must be absolute and leave /opt/ml/model, /tmp, /proc and /dev alone.
Status ValidateHiddenPaths(const std::vector<std::filesystem::path>& paths);

// The sandbox needs root in the initial user namespace: from inside a user namespace the zygote
// could not return to its own namespaces. Checked first, for a clear message.
Status CheckInitialUserNamespace();

// Child-side steps; each returns "" or a message naming what failed.
// Arm: net, ipc, uts; then a /proc for the child's PID namespace in the slot's mount namespace,
// returning to the host's (`host_mnt_fd`), where the model path resolves.
std::string EnterSlotNamespaces(const NsSlot& slot);
std::string MountProc(const NsSlot& slot, int host_mnt_fd);
// Go: clone `dir` as a detached read-only, nosuid, nodev mount (host view), enter the slot's
// mount namespace and move the clone onto `mount_point` (/opt/ml/model, /opt/ml/program).
std::string CloneTree(const std::filesystem::path& dir, const char* mount_point, int* tree_fd);
std::string EnterSlotMountNamespace(const NsSlot& slot);
std::string MountTree(int tree_fd, const char* mount_point);

}  // namespace thaw::sandbox::internal
