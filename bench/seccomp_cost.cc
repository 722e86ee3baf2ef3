// The seccomp filter's own costs, outside thaw: compiling it (once per zygote), installing it
// (once per armed child, off the cold path) and the overhead it adds to every system call.
//   g++ -std=c++20 -O2 -include utility -Isrc bench/seccomp_cost.cc src/sandbox/syscall_filter.cc \
//       -lseccomp -o /tmp/seccomp_cost && /tmp/seccomp_cost
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "sandbox/syscall_filter.h"
using namespace std::chrono;
static double PerCallNs(int n) {
  auto t = steady_clock::now();
  for (int i = 0; i < n; ++i) syscall(SYS_getppid);
  return duration<double, std::nano>(steady_clock::now() - t).count() / n;
}
int main() {
  auto t0 = steady_clock::now();
  auto f = thaw::sandbox::internal::SyscallFilter::Compile();
  auto compile_us = duration<double, std::micro>(steady_clock::now() - t0).count();
  printf("compile (once per zygote): %.0f us, %zu instructions\n", compile_us, f->instructions());
  for (int round = 0; round < 5; ++round) {
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
      double before = PerCallNs(2000000);
      prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      auto t = steady_clock::now();
      f->Install();
      double install_us = duration<double, std::micro>(steady_clock::now() - t).count();
      double after = PerCallNs(2000000);
      dprintf(p[1], "install %.1f us; getppid %.1f ns -> %.1f ns (+%.1f ns per system call)\n",
              install_us, before, after, after - before);
      _exit(0);
    }
    close(p[1]);
    char buf[256];
    int n = read(p[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("%s", buf);
    waitpid(pid, nullptr, 0);
    close(p[0]);
  }
}
