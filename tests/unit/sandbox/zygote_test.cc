// Real-process tests of the zygote: they fork, create namespaces and cgroups, and so need root
// (the sandboxed ones skip otherwise). Every wait is a poll with a deadline.

#include "sandbox/zygote.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/ids.h"
#include "fakes/temp_dir.h"
#include "sandbox/cgroups.h"
#include "test_worker.h"

namespace thaw::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using thaw::sandbox::testing::TestPrewarm;
using thaw::sandbox::testing::TestWorkerEntry;
using thaw::sandbox::testing::WorkerClient;
using thaw::testing::TempDir;

template <typename F>
bool Eventually(F f, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return f();
}

// Gone or a zombie nobody reaped yet: not running either way.
bool ProcessDead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  if (text.empty()) return true;
  size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
}

std::string Errno(int e) { return "err " + std::to_string(e); }

#if defined(__SANITIZE_THREAD__)
constexpr bool kThreadSanitizer = true;
#else
constexpr bool kThreadSanitizer = false;
#endif

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the sandbox tests need root";
    // TSan runs a background thread in every process, and setns into a mount namespace
    // refuses a multi-threaded caller: Start fails (saying so) under TSan.
    if (kThreadSanitizer) GTEST_SKIP() << "the sandbox cannot run under ThreadSanitizer";
  }

  std::unique_ptr<Zygote> StartZygote(SandboxOptions options = {}) {
    auto z = Zygote::Start(options, TestWorkerEntry);
    EXPECT_TRUE(z.ok()) << z.status().ToString();
    return z.ok() ? std::move(z).value() : nullptr;
  }

  static SpawnSpec Spec(const std::string& id, const fs::path& model_dir = {}) {
    SpawnSpec spec;
    spec.worker_id = id;
    spec.runtime = "test";
    spec.model_dir = model_dir;
    spec.memory_mb = 256;
    return spec;
  }
};

TEST_F(SandboxTest, SpawnedWorkerIsUnprivilegedPid1WithItsOwnHostname) {
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->cgroup_mode() == "v1" || z->cgroup_mode() == "v2", true) << z->cgroup_mode();
  auto w = z->Spawn(Spec("who"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_GT(w->pid, 0);
  EXPECT_GT(w->timings.total_us, 0);
  EXPECT_GT(w->timings.child_us, 0);
  EXPECT_TRUE(w->timings.pool_hit);  // Start fills the pool
  EXPECT_EQ(w->timings.fork_us, 0);
  WorkerClient c(w->fd);
  EXPECT_EQ(c.Call("ping"), "pong");
  EXPECT_EQ(c.Call("whoami"),
            "uid=65534 gid=65534 host=thaw-worker groups=0 capeff=0000000000000000");
  EXPECT_EQ(c.Call("pid"), "1");
  // stdio, the socket and the go channel until the cold start is over; nothing of the server
  EXPECT_EQ(c.Call("fds"), "ok 0,1,2,3,5");
  EXPECT_EQ(c.Call("notify"), "ok");
  EXPECT_EQ(c.Call("fds"), "ok 0,1,2,3");
  EXPECT_EQ(c.Call("notify"), "ok");  // only the first call does anything
  EXPECT_EQ(c.Call("ls /sys/fs/cgroup"), "ok ");
  EXPECT_EQ(c.Call("ls /root"), "ok ");
  EXPECT_EQ(c.Call("prewarmed"), "ok 0");  // no pre-warm configured
}

// The pre-warm runs in the armed child itself (pid 1 of its namespace), not in the zygote.
TEST_F(SandboxTest, PrewarmRunsInTheArmedChild) {
  SandboxOptions options;
  options.prewarm = &TestPrewarm;
  auto z = StartZygote(options);
  ASSERT_NE(z, nullptr);
  for (int i = 0; i < 2; ++i) {
    auto w = z->Spawn(Spec("warm-" + std::to_string(i)));
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    WorkerClient c(w->fd);
    EXPECT_EQ(c.Call("prewarmed"), "ok 1");
    EXPECT_EQ(c.Call("whoami"),
              "uid=65534 gid=65534 host=thaw-worker groups=0 capeff=0000000000000000");
  }
}

// Background work waits while a cold start is in flight; the pool is back to full once the
// workers said they are done, and also when one never says so (kMaxColdStartHold).
TEST_F(SandboxTest, PoolRefillsAfterColdStarts) {
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  const std::string zygote = std::to_string(z->zygote_pid());
  auto children = [&] {
    std::ifstream f("/proc/" + zygote + "/task/" + zygote + "/children");
    int n = 0;
    for (pid_t pid; f >> pid;) ++n;
    return n;
  };
  auto quiet = z->Spawn(Spec("never-notifies"));
  ASSERT_TRUE(quiet.ok()) << quiet.status().ToString();
  auto done = z->Spawn(Spec("notifies"));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  WorkerClient q(quiet->fd), d(done->fd);
  EXPECT_EQ(d.Call("notify"), "ok");
  const int want = SandboxOptions().pool_size + 2;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (children() < want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(children(), want);
  EXPECT_EQ(q.Call("ping"), "pong");
  EXPECT_EQ(d.Call("ping"), "pong");
}

TEST_F(SandboxTest, ModelDirIsVisibleReadOnly) {
  TempDir model;
  fs::permissions(model.path(), fs::perms::all);  // only the mount may refuse a write
  std::ofstream(model.path() / "xgboost-model") << "model-bytes";
  fs::permissions(model.path() / "xgboost-model", fs::perms::all);
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  auto w = z->Spawn(Spec("model", model.path()));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  WorkerClient c(w->fd);
  EXPECT_EQ(c.Call("modeldir"), "/opt/ml/model");
  EXPECT_EQ(c.Call("ls /opt/ml/model"), "ok xgboost-model");
  EXPECT_EQ(c.Call("read /opt/ml/model/xgboost-model"), "ok model-bytes");
  EXPECT_EQ(c.Call("write /opt/ml/model/xgboost-model"), Errno(EROFS));
  EXPECT_EQ(c.Call("write /opt/ml/model/new"), Errno(EROFS));
  // The rest of the host is read-only too, even where the permissions would allow a write.
  EXPECT_EQ(c.Call("write /var/tmp/thaw-sandbox-test"), Errno(EROFS));
  EXPECT_EQ(c.Call("write /dev/shm/../thaw-sandbox-test"), Errno(EROFS));
}

TEST_F(SandboxTest, TmpIsPrivateAndWritable) {
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  auto a = z->Spawn(Spec("tmp-a"));
  auto b = z->Spawn(Spec("tmp-b"));
  ASSERT_TRUE(a.ok() && b.ok());
  WorkerClient ca(a->fd), cb(b->fd);
  const std::string name = "thaw-sandbox-" + RandomHex(6);
  EXPECT_EQ(ca.Call("write /tmp/" + name), "ok");
  EXPECT_EQ(ca.Call("read /tmp/" + name), "ok x");
  EXPECT_EQ(ca.Call("write /dev/shm/" + name), "ok");
  EXPECT_FALSE(fs::exists("/tmp/" + name));
  EXPECT_FALSE(fs::exists("/dev/shm/" + name));
  EXPECT_EQ(cb.Call("read /tmp/" + name), Errno(ENOENT));
}

TEST_F(SandboxTest, HiddenPathsAreEmpty) {
  // Outside /tmp, which workers do not see anyway.
  fs::path hidden = "/var/tmp/thaw-hidden-" + RandomHex(6);
  fs::create_directories(hidden);
  std::ofstream(hidden / "secret") << "s3cr3t";
  SandboxOptions options;
  options.hidden_paths = {hidden};
  auto z = StartZygote(options);
  ASSERT_NE(z, nullptr);
  auto w = z->Spawn(Spec("hidden"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  WorkerClient c(w->fd);
  EXPECT_EQ(c.Call("read " + (hidden / "secret").native()), Errno(ENOENT));
  EXPECT_EQ(c.Call("ls " + hidden.native()), "ok ");
  fs::remove_all(hidden);
}

TEST_F(SandboxTest, HiddenPathMayNotCoverTheModel) {
  SandboxOptions options;
  options.hidden_paths = {"/opt"};
  auto z = Zygote::Start(options, TestWorkerEntry);
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.status().code(), Code::kInvalidArgument);
  EXPECT_NE(z.status().message().find("/opt/ml/model"), std::string::npos) << z.status().ToString();
}

TEST_F(SandboxTest, NoNetwork) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof a;
  getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string port = std::to_string(ntohs(a.sin_port));
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  auto w = z->Spawn(Spec("net"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  WorkerClient c(w->fd);
  std::string got = c.Call("connect 127.0.0.1 " + port);
  EXPECT_TRUE(got == Errno(ENETUNREACH) || got == Errno(ECONNREFUSED)) << got;
  close(listener);
}

TEST_F(SandboxTest, EnvironmentIsTheSpecsOnly) {
  setenv("THAW_SANDBOX_TEST_SECRET", "leak", 1);
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  SpawnSpec spec = Spec("env");
  spec.env = {{"SAGEMAKER_PROGRAM", "inference.py"}, {"PATH", "/usr/bin"}};
  auto w = z->Spawn(spec);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  WorkerClient c(w->fd);
  EXPECT_EQ(c.Call("env SAGEMAKER_PROGRAM"), "ok inference.py");
  EXPECT_EQ(c.Call("env PATH"), "ok /usr/bin");  // the spec overrides the defaults
  EXPECT_EQ(c.Call("env OMP_NUM_THREADS"), "ok 1");
  EXPECT_EQ(c.Call("env THAW_SANDBOX_TEST_SECRET"), "err unset");
  unsetenv("THAW_SANDBOX_TEST_SECRET");
}

TEST_F(SandboxTest, MemoryLimitKillsOnlyTheWorkerThatExceedsIt) {
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  SpawnSpec big = Spec("oom-big"), small = Spec("oom-small");
  big.memory_mb = small.memory_mb = 96;
  auto a = z->Spawn(big);
  auto b = z->Spawn(small);
  ASSERT_TRUE(a.ok() && b.ok());
  WorkerClient ca(a->fd), cb(b->fd);
  EXPECT_EQ(cb.Call("alloc 24"), "ok");
  EXPECT_GE(z->MemoryUsage("oom-small"), 24 << 20);
  EXPECT_EQ(ca.Call("alloc 400", 30s), "<eof>");  // OOM-killed
  EXPECT_EQ(cb.Call("ping"), "pong");
  EXPECT_TRUE(Eventually([&] { return ProcessDead(a->pid); }));
  // Reaped, and its cgroup removed.
  EXPECT_TRUE(Eventually([&] { return z->MemoryUsage("oom-big") == -1; }));
  EXPECT_EQ(z->MemoryUsage("no-such-worker"), -1);
}

// The directory of a worker's cgroup that holds `file` (the cpu hierarchy's on v1).
fs::path WorkerCgroupDir(const Zygote& z, pid_t pid, const std::string& file) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    std::string name = line.substr(line.find_last_of('/') + 1);
    for (const fs::path& parent : z.cgroup_parent_dirs()) {
      if (!parent.empty() && !name.empty() && fs::exists(parent / name / file)) {
        return parent / name;
      }
    }
  }
  return {};
}

void WriteSmall(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

int64_t CpuStat(const fs::path& dir, const std::string& key) {
  std::ifstream in(dir / "cpu.stat");
  std::string k;
  int64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return -1;
}

// CPU in proportion to memory, a CFS quota: a worker whose threads spin is throttled, and the
// quota the kernel holds is CpuQuotaFor's.
TEST_F(SandboxTest, SpinningWorkerIsThrottledByItsCpuQuota) {
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  const bool v2 = z->cgroup_mode() == "v2";
  const std::string quota_file = v2 ? "cpu.max" : "cpu.cfs_quota_us";
  SpawnSpec spec = Spec("spinner");
  spec.memory_mb = 1024;  // SageMaker Serverless's smallest: one vCPU (the floor)
  auto w = z->Spawn(spec);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  const fs::path dir = WorkerCgroupDir(*z, w->pid, quota_file);
  if (dir.empty()) GTEST_SKIP() << "no cpu controller for workers on this host";
  const int64_t node = internal::NodeMilliCpus(internal::DetectCgroupLayout());
  const internal::CpuQuota want = internal::CpuQuotaFor(1024, node);
  std::string text;
  ASSERT_TRUE(internal::ReadSmallFile(dir / quota_file, &text));
  EXPECT_EQ(std::stoll(text), want.quota_us) << text;
  if (v2) EXPECT_EQ(text.substr(text.find(' ') + 1), std::to_string(want.period_us) + "\n");
  if (node < 2000) GTEST_SKIP() << "one CPU: two spinning threads fit the one-vCPU quota";

  // On a shared machine busy with other work, cgroup weights share out the CPU between groups,
  // and a group of weight 1024 among ten busy tasks never gets a whole vCPU however many
  // threads it runs. Give this zygote's parent group the largest weight so the worker can reach
  // its quota (test setup only: thaw leaves the parent's weight alone).
  const fs::path parent = dir.parent_path();
  WriteSmall(parent / (v2 ? "cpu.weight" : "cpu.shares"), v2 ? "10000" : "262144");
  WorkerClient c(w->fd);
  const int64_t periods = CpuStat(dir, "nr_periods"), throttled = CpuStat(dir, "nr_throttled");
  ASSERT_GE(periods, 0);
  ASSERT_GE(throttled, 0);
  // Four threads want 4 vCPUs; the quota gives 1. The kernel counts bandwidth periods only for
  // a cgroup with a quota, so nr_periods moving proves the quota is enforced; nr_throttled moves
  // once the worker actually gets more than its quota in a period — which a shared machine busy
  // with other work may not give a group at all (cgroup CPU weights share out what is left):
  // spin a few more times then, and skip rather than fail if the host still never lets it.
  for (int i = 0; i < 10 && CpuStat(dir, "nr_throttled") == throttled; ++i) {
    ASSERT_EQ(c.Call("spin 4", 30s), "ok");
  }
  EXPECT_GT(CpuStat(dir, "nr_periods"), periods);
  EXPECT_EQ(c.Call("ping"), "pong");
  if (CpuStat(dir, "nr_throttled") == throttled) {
    GTEST_SKIP() << "the host is too busy for a worker to reach one vCPU: nr_periods "
                 << CpuStat(dir, "nr_periods") << ", nr_throttled " << throttled;
  }
  EXPECT_GT(CpuStat(dir, v2 ? "throttled_usec" : "throttled_time"), 0);
}

TEST_F(SandboxTest, KillEndsTheWorker) {
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  auto w = z->Spawn(Spec("victim"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  WorkerClient c(w->fd);
  EXPECT_EQ(c.Call("ping"), "pong");
  EXPECT_GT(z->MemoryUsage("victim"), 0);
  z->Kill(w->pid);
  EXPECT_TRUE(c.WaitEof());
  EXPECT_TRUE(Eventually([&] { return !fs::exists("/proc/" + std::to_string(w->pid)); }));
  EXPECT_TRUE(Eventually([&] { return z->MemoryUsage("victim") == -1; }));

  // A pid the zygote did not spawn is left alone.
  pid_t bystander = fork();
  if (bystander == 0) {
    while (true) pause();
  }
  z->Kill(bystander);
  auto after = z->Spawn(Spec("after-kill"));  // the channel is ordered: the kill was handled
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(WorkerClient(after->fd).Call("ping"), "pong");
  EXPECT_EQ(waitpid(bystander, nullptr, WNOHANG), 0);  // still running
  kill(bystander, SIGKILL);
  waitpid(bystander, nullptr, 0);
}

// Graceful retirement: the server closes the socket and asks the zygote to SIGKILL the worker
// after the grace. A worker that exits on EOF is gone without it; one that lingers is alive
// while the grace runs and killed after it.
TEST_F(SandboxTest, StopKillsOnlyAWorkerThatOutlivesItsGrace) {
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  auto quick = z->Spawn(Spec("quick"));
  ASSERT_TRUE(quick.ok()) << quick.status().ToString();
  {
    WorkerClient c(quick->fd);
    EXPECT_EQ(c.Call("ping"), "pong");
  }  // EOF: the worker's stop request
  z->Stop(quick->pid, std::chrono::hours(1));
  EXPECT_TRUE(Eventually([&] { return ProcessDead(quick->pid); }));

  auto stubborn = z->Spawn(Spec("stubborn"));
  ASSERT_TRUE(stubborn.ok()) << stubborn.status().ToString();
  {
    WorkerClient c(stubborn->fd);
    EXPECT_EQ(c.Call("linger"), "ok");
  }
  z->Stop(stubborn->pid, std::chrono::hours(1));
  auto probe = z->Spawn(Spec("probe"));  // the channel is ordered: the stop was handled
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  EXPECT_EQ(WorkerClient(probe->fd).Call("ping"), "pong");
  EXPECT_FALSE(ProcessDead(stubborn->pid));  // not killed while its grace runs
  z->Stop(stubborn->pid, 50ms);              // a shorter grace replaces the longer one
  EXPECT_TRUE(Eventually([&] { return ProcessDead(stubborn->pid); }));
  EXPECT_TRUE(Eventually([&] { return z->MemoryUsage("stubborn") == -1; }));  // reaped
}

TEST_F(SandboxTest, SetupFailureSaysWhy) {
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  auto w = z->Spawn(Spec("no-model", "/nonexistent/model"));
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Code::kInternal);
  EXPECT_NE(w.status().message().find("sandbox setup failed: mount /opt/ml/model"),
            std::string::npos)
      << w.status().message();
  EXPECT_NE(w.status().message().find("No such file"), std::string::npos);
  // The zygote is fine afterwards.
  auto ok = z->Spawn(Spec("after"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(WorkerClient(ok->fd).Call("ping"), "pong");
}

TEST_F(SandboxTest, InvalidSpecsAreRejected) {
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->Spawn(Spec("")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(z->Spawn(Spec("rel", "relative/dir")).status().code(), Code::kInvalidArgument);
  SpawnSpec bad_env = Spec("env");
  bad_env.env = {{"A=B", "c"}};
  EXPECT_EQ(z->Spawn(bad_env).status().code(), Code::kInvalidArgument);
}

TEST_F(SandboxTest, DestroyingTheZygoteLeavesNothingBehind) {
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  auto a = z->Spawn(Spec("d1"));
  auto b = z->Spawn(Spec("d2"));
  ASSERT_TRUE(a.ok() && b.ok());
  WorkerClient ca(a->fd), cb(b->fd);
  EXPECT_EQ(ca.Call("ping"), "pong");
  const pid_t zygote = z->zygote_pid();
  const auto dirs = z->cgroup_parent_dirs();
  ASSERT_FALSE(dirs.empty());
  for (const auto& d : dirs) EXPECT_TRUE(fs::exists(d)) << d;
  z.reset();  // returns once the zygote has exited
  for (pid_t pid : {a->pid, b->pid, zygote}) {
    EXPECT_FALSE(fs::exists("/proc/" + std::to_string(pid))) << pid;
  }
  for (const auto& d : dirs) EXPECT_FALSE(fs::exists(d)) << d;
  EXPECT_TRUE(ca.WaitEof());
}

// The server dies by SIGKILL: the zygote must still kill its workers and remove its cgroups.
TEST_F(SandboxTest, KilledServerLeavesNothingBehind) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  // Become the subreaper so the orphaned zygote is ours to reap (a zombie left for init would
  // still show in /proc).
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  pid_t server = fork();
  ASSERT_GE(server, 0);
  if (server == 0) {
    close(p[0]);
    auto z = Zygote::Start({}, TestWorkerEntry);
    std::string info = "fail";
    if (z.ok()) {
      auto w = (*z)->Spawn(Spec("orphan"));
      if (w.ok()) {
        info = std::to_string((*z)->zygote_pid()) + " " + std::to_string(w->pid);
        for (const auto& d : (*z)->cgroup_parent_dirs()) info += " " + d.native();
      }
    }
    info += "\n";
    (void)!write(p[1], info.data(), info.size());
    while (true) pause();
  }
  close(p[1]);
  std::string info;
  char buf[1024];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) {
    info.append(buf, static_cast<size_t>(n));
    if (info.find('\n') != std::string::npos) break;
  }
  close(p[0]);
  std::istringstream in(info);
  pid_t zygote = 0, worker = 0;
  in >> zygote >> worker;
  std::vector<fs::path> dirs;
  for (std::string d; in >> d;) dirs.emplace_back(d);
  kill(server, SIGKILL);
  waitpid(server, nullptr, 0);
  ASSERT_GT(zygote, 0) << info;
  ASSERT_FALSE(dirs.empty()) << info;
  EXPECT_TRUE(Eventually([&] { return waitpid(zygote, nullptr, WNOHANG) == zygote; }));
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  EXPECT_FALSE(fs::exists("/proc/" + std::to_string(zygote)));
  EXPECT_FALSE(fs::exists("/proc/" + std::to_string(worker)));
  for (const auto& d : dirs) EXPECT_FALSE(fs::exists(d)) << d;
}

// The zygote itself dies: its workers die with it and spawning fails cleanly.
TEST_F(SandboxTest, KilledZygoteTakesItsWorkersAlong) {
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  auto w = z->Spawn(Spec("pdeath"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  WorkerClient c(w->fd);
  kill(z->zygote_pid(), SIGKILL);
  EXPECT_TRUE(c.WaitEof());
  EXPECT_TRUE(Eventually([&] { return ProcessDead(w->pid); }));
  auto again = z->Spawn(Spec("late"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kUnavailable);
  const auto dirs = z->cgroup_parent_dirs();
  z.reset();  // reaps the zygote and removes the cgroups it could not
  for (const auto& d : dirs) EXPECT_FALSE(fs::exists(d)) << d;
}

TEST_F(SandboxTest, SpawnSurvivesDeadPoolEntries) {
  auto z = StartZygote();
  ASSERT_NE(z, nullptr);
  const std::string zygote = std::to_string(z->zygote_pid());
  std::ifstream f("/proc/" + zygote + "/task/" + zygote + "/children");
  int killed = 0;
  for (pid_t pid; f >> pid; ++killed) kill(pid, SIGKILL);  // the armed children
  EXPECT_EQ(killed, SandboxOptions().pool_size);
  auto w = z->Spawn(Spec("after-massacre"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(WorkerClient(w->fd).Call("ping"), "pong");
}

TEST_F(SandboxTest, WithoutAPoolEverySpawnArmsItsOwnChild) {
  SandboxOptions options;
  options.pool_size = 0;
  auto z = StartZygote(options);
  ASSERT_NE(z, nullptr);
  for (int i = 0; i < 2; ++i) {
    auto w = z->Spawn(Spec("nopool-" + std::to_string(i)));
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_FALSE(w->timings.pool_hit);
    EXPECT_GT(w->timings.fork_us, 0);
    WorkerClient c(w->fd);
    EXPECT_EQ(c.Call("whoami"),
              "uid=65534 gid=65534 host=thaw-worker groups=0 capeff=0000000000000000");
  }
}

// Four threads spawn three workers each; every worker answers.
void SpawnFromFourThreads(Zygote& z) {
  std::mutex mu;
  std::set<pid_t> pids;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        SpawnSpec spec;
        spec.worker_id = "c" + std::to_string(t) + "-" + std::to_string(i);
        spec.memory_mb = 256;
        auto w = z.Spawn(spec);
        if (!w.ok()) {
          ++failures;
          continue;
        }
        WorkerClient c(w->fd);
        if (c.Call("ping") != "pong") ++failures;
        std::lock_guard lock(mu);
        pids.insert(w->pid);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(pids.size(), 12u);
}

TEST_F(SandboxTest, ConcurrentSpawnsFromFourThreads) {
  auto z = StartZygote();  // before any thread: Start forks
  ASSERT_NE(z, nullptr);
  SpawnFromFourThreads(*z);
}

TEST(SandboxDisabled, ConcurrentSpawnsFromFourThreads) {
  SandboxOptions options;
  options.enabled = false;
  auto z = Zygote::Start(options, TestWorkerEntry);
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  SpawnFromFourThreads(**z);
}

// Zygote::Start in a forked child after `prepare`; returns the status text.
std::string StartInChild(bool (*prepare)()) {
  int p[2];
  if (pipe(p) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    std::string out = "prepare failed";
    if (prepare()) {
      auto z = Zygote::Start({}, TestWorkerEntry);
      out = z.ok() ? "ok" : z.status().ToString();
    }
    (void)!write(p[1], out.data(), out.size());
    _exit(0);
  }
  close(p[1]);
  std::string out;
  char buf[1024];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(p[0]);
  waitpid(pid, nullptr, 0);
  return out;
}

TEST_F(SandboxTest, UnprivilegedStartSaysWhy) {
  std::string got = StartInChild(
      [] { return setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0; });
  EXPECT_NE(got.find("FAILED_PRECONDITION: cannot set up the worker sandbox: "), std::string::npos)
      << got;
  EXPECT_NE(got.find("Permission denied"), std::string::npos) << got;
  EXPECT_NE(got.find("--unsafe-no-sandbox"), std::string::npos) << got;
}

TEST_F(SandboxTest, UserNamespaceRootIsNotEnough) {
  std::string got = StartInChild([] { return unshare(CLONE_NEWUSER) == 0; });
  EXPECT_NE(got.find("running inside a user namespace"), std::string::npos) << got;
}

TEST(SandboxDisabled, PlainForkStillWorks) {
  SandboxOptions options;
  options.enabled = false;
  TempDir model;
  auto started = Zygote::Start(options, TestWorkerEntry);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  std::unique_ptr<Zygote> z = std::move(started).value();
  EXPECT_EQ(z->cgroup_mode(), "none");
  SpawnSpec spec;
  spec.worker_id = "dev";
  spec.model_dir = model.path();
  spec.env = {{"A", "b"}};
  auto w = z->Spawn(spec);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  WorkerClient c(w->fd);
  EXPECT_EQ(c.Call("modeldir"), model.path().native());
  EXPECT_EQ(c.Call("pid"), std::to_string(w->pid));
  EXPECT_EQ(c.Call("env A"), "ok b");
  EXPECT_EQ(c.Call("fds"), "ok 0,1,2,3,5");
  EXPECT_EQ(z->MemoryUsage("dev"), -1);
  z->Kill(w->pid);
  EXPECT_TRUE(c.WaitEof());
  const pid_t zygote = z->zygote_pid();
  z.reset();
  EXPECT_FALSE(fs::exists("/proc/" + std::to_string(zygote)));
}

}  // namespace
}  // namespace thaw::sandbox
