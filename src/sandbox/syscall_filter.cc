#include "sandbox/syscall_filter.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <memory>

namespace thaw::sandbox::internal {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Refused with EPERM, whatever the arguments. Names libseccomp does not know on this
// architecture are skipped (seccomp_syscall_resolve_name gives __NR_SCMP_ERROR).
constexpr const char* kDenied[] = {
    // Mounts and the root.
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    // Namespaces (clone's namespace flags are refused below). setns, open_tree, mount_setattr
    // and move_mount are left to the capability checks: see syscall_filter.h.
    "unshare",
    // Other processes' memory and state.
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    "process_madvise",
    // The kernel itself.
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "query_module",
    "get_kernel_syms",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "syslog",
    "_sysctl",
    "sysfs",
    "uselib",
    "ustat",
    "quotactl",
    "quotactl_fd",
    "nfsservctl",
    "lookup_dcookie",
    "vhangup",
    "iopl",
    "ioperm",
    "vm86",
    "vm86old",
    "sethostname",
    "setdomainname",
    // Clocks.
    "settimeofday",
    "stime",
    "clock_settime",
    "clock_settime64",
    "clock_adjtime",
    "clock_adjtime64",
    "adjtimex",
    // Large kernel surfaces a model has no use for.
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    "open_by_handle_at",
    "name_to_handle_at",
    "fanotify_init",
};

constexpr uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                     CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

}  // namespace

std::vector<std::string> SyscallFilter::DeniedNames() {
  std::vector<std::string> out(std::begin(kDenied), std::end(kDenied));
  out.push_back("clone (with a namespace flag)");
  out.push_back("clone3 (ENOSYS: its flags cannot be inspected; libc falls back to clone)");
  return out;
}

Result<SyscallFilter> SyscallFilter::Compile() {
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return Internal("seccomp_init failed");
  auto fail = [](const std::string& what, int rc) {
    return Internal("seccomp: " + what + ": " + std::strerror(-rc));
  };
  // A binary tree over the syscall numbers rather than a list: every allowed call (read, write,
  // futex…) is checked in ~7 comparisons instead of one per denied name. bench/seccomp_cost.cc
  // measures the difference.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc != 0) {
    return fail("attr OPTIMIZE", rc);
  }
  // no_new_privs is set by the worker itself (root may install without it).
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc != 0) {
    return fail("attr NNP", rc);
  }
  for (const char* name : kDenied) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;
    if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 0);
        rc != 0 && rc != -EDOM) {  // -EDOM: not a system call on this architecture
      return fail(name, rc);
    }
  }
  // clone with any namespace flag; one rule per flag (a masked compare tests all bits of it).
  for (uint64_t bit = 1; bit != 0; bit <<= 1) {
    if (!(kNamespaceFlags & bit)) continue;
    if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                  SCMP_A0(SCMP_CMP_MASKED_EQ, bit, bit));
        rc != 0) {
      return fail("clone", rc);
    }
  }
  if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
      rc != 0 && rc != -EDOM) {
    return fail("clone3", rc);
  }
  // libseccomp 2.5 exports only to a file descriptor: a memfd, read back.
  int fd = memfd_create("thaw-seccomp", MFD_CLOEXEC);
  if (fd < 0) return Internal(Errno("memfd_create"));
  std::string bytes;
  int rc = seccomp_export_bpf(ctx.get(), fd);
  if (rc == 0) {
    off_t size = lseek(fd, 0, SEEK_END);
    bytes.resize(size > 0 ? static_cast<size_t>(size) : 0);
    if (size <= 0 || pread(fd, bytes.data(), bytes.size(), 0) != size) rc = -EIO;
  }
  close(fd);
  if (rc != 0) return fail("export", rc);
  SyscallFilter filter;
  filter.program_.resize(bytes.size() / sizeof(sock_filter));
  std::memcpy(filter.program_.data(), bytes.data(), filter.program_.size() * sizeof(sock_filter));
  return filter;
}

std::string SyscallFilter::Install() const {
  sock_fprog prog{static_cast<unsigned short>(program_.size()),
                  const_cast<sock_filter*>(program_.data())};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
    return Errno("seccomp(SECCOMP_SET_MODE_FILTER)");
  }
  return {};
}

std::string DropCapabilityBounds() {
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return Errno("prctl PR_CAPBSET_DROP " + std::to_string(cap));
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    return Errno("prctl PR_CAP_AMBIENT_CLEAR_ALL");
  }
  // Root gets no capabilities from execve, the uid change drops them (no KEEP_CAPS, no
  // NO_SETUID_FIXUP) and nothing can raise an ambient one; all of it locked.
  const unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
                             SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
                             SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0) return Errno("prctl PR_SET_SECUREBITS");
  return {};
}

std::string DropRemainingCapabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capset, &header, data) != 0) return Errno("capset");
  if (syscall(SYS_capget, &header, data) != 0) return Errno("capget");
  for (const auto& d : data) {
    if (d.effective != 0 || d.permitted != 0 || d.inheritable != 0) {
      return "capabilities left after the uid change";
    }
  }
  if (prctl(PR_CAPBSET_READ, 0, 0, 0, 0) != 0) return "the bounding set is not empty";
  return {};
}

}  // namespace thaw::sandbox::internal
