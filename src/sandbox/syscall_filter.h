#pragma once

// The last layer of a worker's sandbox: no capabilities and a seccomp filter.
//
// The filter follows the spirit of Docker's default profile, as a deny list: every system call a
// model never needs — one that changes the kernel, the mounts, the namespaces, the clock, another
// process' memory, or that opens a large kernel surface (bpf, perf_event_open, io_uring,
// userfaultfd, keyrings) — fails with EPERM; everything else is allowed. A worker is unprivileged
// already (uid 65534, no capabilities), so most of these would fail anyway; the filter removes
// the ones that do not (new user namespaces, ptrace of a same-uid process, keyctl,
// perf_event_open, userfaultfd, io_uring) and shrinks the kernel surface of the rest.
//
// libseccomp compiles the filter once, in the zygote; each armed child installs the compiled
// program with one seccomp() call while it waits in the pool, off the cold path, still root.
// The setup that follows the spec needs four calls as root — setns into its mount namespace,
// open_tree, mount_setattr and move_mount for /opt/ml/model — so the filter leaves those four;
// once the worker has dropped its capabilities they fail with EPERM all the same, because each
// needs CAP_SYS_ADMIN, and the only way to get it back, a new user namespace, is refused.

#include <linux/filter.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace thaw::sandbox::internal {

class SyscallFilter {
 public:
  // Compiles the filter for this process' architecture. Fails if libseccomp cannot.
  static Result<SyscallFilter> Compile();

  // Installs the filter on every thread of the process: as root, or with no_new_privs set.
  // Returns "" or what failed.
  std::string Install() const;

  size_t instructions() const { return program_.size(); }

  // The names of the system calls the filter refuses (for the documentation and tests).
  static std::vector<std::string> DeniedNames();

 private:
  std::vector<sock_filter> program_;
};

// As root in the worker, before the uid change: empties the capability bounding set and the
// ambient set and locks the securebits that would let a uid-0 process regain capabilities.
// Returns "" or what failed.
std::string DropCapabilityBounds();

// After the uid change: clears the inheritable set and checks that no capability is left in any
// set. Returns "" or what failed.
std::string DropRemainingCapabilities();

}  // namespace thaw::sandbox::internal
