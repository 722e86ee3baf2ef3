// Cold-spawn latency of the sandbox: Spawn → the worker's first byte, with the per-phase
// breakdown the zygote reports. Runs three configurations in one process, so the ratios compare
// like with like on a noisy machine:
//   sandboxed  — the default: pool of armed children, full isolation
//   no-pool    — pool_size 0: every spawn creates its cgroup, namespaces and child inline
//   unsandboxed — enabled=false: a plain pre-forked child (the floor of the mechanism)
// Needs root. Usage: sandbox_spawn_bench [spawns=200] [gap_ms=5]
// The gap between spawns lets the zygote refill its pool, as between real cold starts; gap 0
// measures a burst (the pool drains after pool_size spawns).

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/zygote.h"

namespace {

using thaw::sandbox::SandboxOptions;
using thaw::sandbox::SpawnSpec;
using thaw::sandbox::Zygote;
using Clock = std::chrono::steady_clock;

int OneByte(int fd, const SpawnSpec&) {
  char c = 'R';
  if (write(fd, &c, 1) != 1) return 1;
  while (read(fd, &c, 1) > 0) {
  }
  return 0;
}

struct Series {
  std::vector<double> v;
  double Q(double p) const {
    if (v.empty()) return 0;
    auto w = v;
    std::sort(w.begin(), w.end());
    return w[std::min(w.size() - 1, static_cast<size_t>(p * static_cast<double>(w.size())))];
  }
};

// Fraction of CPU time not idle over `window` (trap 12: the dev machines are shared).
double BusyFraction(std::chrono::milliseconds window) {
  auto sample = [] {
    std::ifstream f("/proc/stat");
    std::string cpu;
    long long v, total = 0, idle = 0;
    f >> cpu;
    for (int i = 0; i < 8 && f >> v; ++i) {
      total += v;
      if (i == 3 || i == 4) idle += v;  // idle, iowait
    }
    return std::make_pair(total, idle);
  };
  auto a = sample();
  std::this_thread::sleep_for(window);
  auto b = sample();
  double total = static_cast<double>(b.first - a.first);
  return total > 0 ? 1.0 - static_cast<double>(b.second - a.second) / total : 0;
}

struct Result {
  Series first_byte, fork, namespaces, cgroup, mounts, zygote_total, child;
  int misses = 0;
  double start_ms = 0;
};

bool Run(const char* name, SandboxOptions options, int n, int gap_ms, Result* r) {
  auto t0 = Clock::now();
  auto z = Zygote::Start(options, OneByte);
  if (!z.ok()) {
    std::printf("%s: %s\n", name, z.status().ToString().c_str());
    return false;
  }
  r->start_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const std::string model = "/tmp/thaw-spawn-bench-model";
  mkdir(model.c_str(), 0755);
  for (int i = 0; i < n + 10; ++i) {
    SpawnSpec spec;
    spec.worker_id = std::string(name) + "-" + std::to_string(i);
    spec.model_dir = model;
    spec.memory_mb = 1024;
    auto a = Clock::now();
    auto w = (*z)->Spawn(spec);
    if (!w.ok()) {
      std::printf("%s: spawn: %s\n", name, w.status().ToString().c_str());
      return false;
    }
    char c;
    pollfd p{w->fd, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1 || read(w->fd, &c, 1) != 1) {
      std::printf("%s: no first byte\n", name);
      return false;
    }
    auto b = Clock::now();
    close(w->fd);
    if (i >= 10) {  // warm-up
      r->first_byte.v.push_back(std::chrono::duration<double, std::micro>(b - a).count());
      const auto& t = w->timings;
      r->fork.v.push_back(static_cast<double>(t.fork_us));
      r->namespaces.v.push_back(static_cast<double>(t.namespaces_us));
      r->cgroup.v.push_back(static_cast<double>(t.cgroup_us));
      r->mounts.v.push_back(static_cast<double>(t.mounts_us));
      r->zygote_total.v.push_back(static_cast<double>(t.total_us));
      r->child.v.push_back(static_cast<double>(t.child_us));
      if (!t.pool_hit) ++r->misses;
    }
    if (gap_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
  }
  rmdir(model.c_str());
  return true;
}

void Print(const char* name, const Result& r) {
  std::printf(
      "%-12s start %6.1f ms  pool misses %3d  first byte p50 %6.0f p90 %6.0f p99 %6.0f us\n", name,
      r.start_ms, r.misses, r.first_byte.Q(0.5), r.first_byte.Q(0.9), r.first_byte.Q(0.99));
  std::printf(
      "%-12s p50 us: zygote %5.0f child %5.0f | fork %4.0f namespaces %4.0f cgroup %4.0f "
      "mounts %4.0f\n",
      "", r.zygote_total.Q(0.5), r.child.Q(0.5), r.fork.Q(0.5), r.namespaces.Q(0.5),
      r.cgroup.Q(0.5), r.mounts.Q(0.5));
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::max(1, std::atoi(argv[1])) : 200;
  const int gap_ms = argc > 2 ? std::atoi(argv[2]) : 5;
  std::printf("spawns %d, gap %d ms, CPU busy before: %.0f%%\n", n, gap_ms,
              100 * BusyFraction(std::chrono::seconds(1)));
  SandboxOptions sandboxed, no_pool, unsandboxed;
  no_pool.pool_size = 0;
  unsandboxed.enabled = false;
  Result a, b, c;
  if (!Run("sandboxed", sandboxed, n, gap_ms, &a) || !Run("no-pool", no_pool, n, gap_ms, &b) ||
      !Run("unsandboxed", unsandboxed, n, gap_ms, &c)) {
    return 1;
  }
  Print("sandboxed", a);
  Print("no-pool", b);
  Print("unsandboxed", c);
  std::printf("p50 ratios: sandboxed/unsandboxed %.2f, no-pool/sandboxed %.2f\n",
              a.first_byte.Q(0.5) / c.first_byte.Q(0.5), b.first_byte.Q(0.5) / a.first_byte.Q(0.5));
  std::printf("CPU busy after: %.0f%%\n", 100 * BusyFraction(std::chrono::seconds(1)));
  return 0;
}
