// The worker's last sandbox layer: the seccomp filter and the capability drop, each checked in a
// forked child (both are one-way for the process that applies them), and the data-dir decision.

#include "sandbox/syscall_filter.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "sandbox/zygote.h"

namespace thaw::sandbox {
namespace {

using internal::SyscallFilter;

// Runs `body` in a forked child; returns its exit status (the number of the first failed check,
// 0 when all passed).
int InChild(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

int Errno(long rc) { return rc == -1 ? errno : 0; }

TEST(SyscallFilter, RefusesWhatAModelNeverNeedsAndAllowsTheRest) {
  auto filter = SyscallFilter::Compile();
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  EXPECT_GT(filter->instructions(), 20u);
  const SyscallFilter& f = *filter;
  EXPECT_EQ(InChild([&] {
              if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 1;
              if (!f.Install().empty()) return 2;
              if (Errno(unshare(CLONE_NEWUSER)) != EPERM) return 3;
              if (Errno(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)) != EPERM) return 4;
              if (Errno(syscall(SYS_keyctl, 0, -3, 0, 0)) != EPERM) return 5;
              if (Errno(syscall(SYS_bpf, 0, 0, 0)) != EPERM) return 6;
              if (Errno(syscall(SYS_perf_event_open, 0, 0, -1, -1, 0)) != EPERM) return 7;
              if (Errno(syscall(SYS_userfaultfd, 0)) != EPERM) return 8;
              if (Errno(syscall(SYS_mount, 0, 0, 0, 0, 0)) != EPERM) return 9;
              if (Errno(syscall(SYS_clone3, 0, 0)) != ENOSYS) return 10;  // libc falls back
              if (Errno(syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0)) != EPERM) {
                return 11;
              }
              // What every runtime does: fork (clone without namespace flags), threads, files.
              pid_t child = fork();
              if (child == 0) _exit(0);
              if (child < 0) return 12;
              int status = 0;
              if (waitpid(child, &status, 0) != child || status != 0) return 13;
              if (getpid() <= 0 || access("/", R_OK) != 0) return 14;
              return 0;
            }),
            0);
}

TEST(SyscallFilter, InstallNeedsNoNewPrivsWhenUnprivileged) {
  if (geteuid() == 0) GTEST_SKIP() << "root may install a filter without no_new_privs";
  auto filter = SyscallFilter::Compile();
  ASSERT_TRUE(filter.ok());
  EXPECT_FALSE(filter->Install().empty());
}

TEST(Capabilities, NoneLeftAfterTheDropAndTheUidChange) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_EQ(InChild([] {
              if (!internal::DropCapabilityBounds().empty()) return 1;
              if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0) return 2;
              if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) {
                return 3;
              }
              if (!internal::DropRemainingCapabilities().empty()) return 4;
              // Locked securebits: getting root back would give no capabilities either.
              if (prctl(PR_SET_SECUREBITS, 0, 0, 0, 0) == 0) return 5;
              return 0;
            }),
            0);
}

TEST(DataDirToHide, HidesTheDataDirUnlessEveryWorkerHasItsOwnCopyOfWhereItLives) {
  using V = std::vector<std::filesystem::path>;
  EXPECT_EQ(DataDirToHide("/var/lib/thaw"), V{"/var/lib/thaw"});
  EXPECT_EQ(DataDirToHide("/srv/thaw/../thaw-data/"), V{"/srv/thaw-data/"});
  EXPECT_EQ(DataDirToHide("/tmp/pytest-1/thaw/data"), V{});
  EXPECT_EQ(DataDirToHide("/dev/shm/thaw"), V{});
  EXPECT_EQ(DataDirToHide("/tmpfoo/thaw"), V{"/tmpfoo/thaw"});
  // /tmp itself is not inside /tmp: hiding it is refused later, with a reason
  // (ValidateHiddenPaths), rather than silently dropped.
  EXPECT_EQ(DataDirToHide("/tmp"), V{"/tmp"});
}

}  // namespace
}  // namespace thaw::sandbox
