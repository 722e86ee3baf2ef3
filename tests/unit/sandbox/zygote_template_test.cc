// The template tier of the zygote, with real processes and cgroups (root needed, as for
// zygote_test.cc): a template's forked workers land in cgroups of their own with their spec's
// memory limit (v1 here, v2 elsewhere), the limit kills the child and not the template, and a
// dead template answers NotFound so that callers go back to plain spawns.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/zygote.h"
#include "test_worker.h"

namespace thaw::sandbox {
namespace {

using namespace std::chrono_literals;
using thaw::sandbox::testing::TestWorkerEntry;
using thaw::sandbox::testing::WorkerClient;

template <typename F>
bool Eventually(F f, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return f();
}

bool ProcessDead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  if (text.empty()) return true;
  size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
}

// The memory cgroup a host process is in, as /proc/<pid>/cgroup names it.
std::string MemoryCgroup(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    // v1 "N:memory:/path"; v2 "0::/path"
    if (line.find(":memory:") != line.npos || line.rfind("0::", 0) == 0) {
      return line.substr(line.rfind(':') + 1);
    }
  }
  return "";
}

class TemplateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the sandbox tests need root";
#if defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "the sandbox cannot run under ThreadSanitizer";
#endif
    SandboxOptions options;
    options.pool_size = 2;
    auto z = Zygote::Start(options, TestWorkerEntry);
    ASSERT_TRUE(z.ok()) << z.status().ToString();
    zygote_ = std::move(z).value();
  }

  static SpawnSpec Spec(const std::string& id, int64_t memory_mb = 256) {
    SpawnSpec spec;
    spec.worker_id = id;
    spec.runtime = "test";
    spec.memory_mb = memory_mb;
    return spec;
  }
  SpawnedWorker StartTemplate(const std::string& id, const std::string& warm_up = "") {
    SpawnSpec spec = Spec(id);
    spec.as_template = true;
    if (!warm_up.empty()) spec.env.emplace_back("THAW_TEST_WARM_UP", warm_up);
    auto t = zygote_->Spawn(spec);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : SpawnedWorker{};
  }

  std::unique_ptr<Zygote> zygote_;
};

TEST_F(TemplateTest, ForkedWorkerHoldsTheTemplatesStateInACgroupOfItsOwn) {
  SpawnedWorker t = StartTemplate("tmpl");
  ASSERT_GE(t.fd, 0);
  WorkerClient template_socket(t.fd);
  auto w = zygote_->SpawnFrom(t.pid, Spec("forked", 96));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  WorkerClient c(w->fd);
  EXPECT_EQ(c.Call("ping"), "pong");
  EXPECT_EQ(c.Call("forked"), "yes");  // forked, after the template's "load"
  EXPECT_NE(c.Call("pid"), "1");       // the template is pid 1 of the namespace
  EXPECT_EQ(c.Call("whoami"),          // the template's credentials and sandbox
            "uid=65534 gid=65534 host=thaw-worker groups=0 capeff=0000000000000000");
  EXPECT_NE(w->pid, t.pid);
  ASSERT_FALSE(MemoryCgroup(w->pid).empty());
  EXPECT_NE(MemoryCgroup(w->pid), MemoryCgroup(t.pid));
  EXPECT_GT(zygote_->MemoryUsage("forked"), 0);
  EXPECT_GT(zygote_->MemoryUsage("tmpl"), 0);

  // Its own socket: closing it ends this worker, not the template.
  auto second = zygote_->SpawnFrom(t.pid, Spec("forked-2", 96));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  {
    WorkerClient c2(second->fd);
    EXPECT_EQ(c2.Call("ping"), "pong");
  }
  EXPECT_TRUE(Eventually([&] { return ProcessDead(second->pid); }));
  EXPECT_TRUE(Eventually([&] { return zygote_->MemoryUsage("forked-2") == -1; }));  // removed
  EXPECT_FALSE(ProcessDead(t.pid));
  EXPECT_EQ(c.Call("ping"), "pong");
}

TEST_F(TemplateTest, MemoryLimitKillsTheForkedWorkerNotTheTemplate) {
  SpawnedWorker t = StartTemplate("tmpl-oom");
  ASSERT_GE(t.fd, 0);
  WorkerClient template_socket(t.fd);
  auto w = zygote_->SpawnFrom(t.pid, Spec("greedy", 96));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  WorkerClient c(w->fd);
  EXPECT_EQ(c.Call("alloc 24"), "ok");
  EXPECT_GE(zygote_->MemoryUsage("greedy"), 24 << 20);  // charged to the worker's cgroup
  EXPECT_LT(zygote_->MemoryUsage("tmpl-oom"), 24 << 20);
  EXPECT_EQ(c.Call("alloc 400", 30s), "<eof>");  // past its 96 MB: OOM-killed
  EXPECT_TRUE(Eventually([&] { return ProcessDead(w->pid); }));
  EXPECT_FALSE(ProcessDead(t.pid));
  // The template still forks.
  auto next = zygote_->SpawnFrom(t.pid, Spec("after-oom", 96));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(WorkerClient(next->fd).Call("ping"), "pong");
}

TEST_F(TemplateTest, DeadTemplateAnswersNotFoundAndPlainSpawnsGoOn) {
  SpawnedWorker t = StartTemplate("tmpl-dead");
  ASSERT_GE(t.fd, 0);
  WorkerClient template_socket(t.fd);
  auto w = zygote_->SpawnFrom(t.pid, Spec("orphan", 96));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  zygote_->Kill(t.pid);
  EXPECT_TRUE(Eventually([&] { return ProcessDead(t.pid); }));
  // Its children were in its PID namespace: they die with it, and are cleaned up.
  EXPECT_TRUE(Eventually([&] { return ProcessDead(w->pid); }));
  EXPECT_TRUE(Eventually([&] { return zygote_->MemoryUsage("orphan") == -1; }));
  auto again = zygote_->SpawnFrom(t.pid, Spec("too-late", 96));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kNotFound) << again.status().ToString();
  // Not a template at all: the same answer.
  auto plain = zygote_->Spawn(Spec("plain"));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  WorkerClient pc(plain->fd);
  EXPECT_EQ(pc.Call("ping"), "pong");
  auto not_template = zygote_->SpawnFrom(plain->pid, Spec("nope", 96));
  EXPECT_EQ(not_template.status().code(), Code::kNotFound);
}

TEST_F(TemplateTest, TemplateRetiresOnceTheServerLetsGoAndNoChildIsLeft) {
  SpawnedWorker t = StartTemplate("tmpl-retire");
  ASSERT_GE(t.fd, 0);
  auto template_socket = std::make_unique<WorkerClient>(t.fd);
  auto w = zygote_->SpawnFrom(t.pid, Spec("last-one", 96));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto c = std::make_unique<WorkerClient>(w->fd);
  template_socket.reset();  // the template's stop request
  EXPECT_EQ(c->Call("ping"), "pong");
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(ProcessDead(t.pid));  // waits for its child
  c.reset();                         // the child's stop request
  EXPECT_TRUE(Eventually([&] { return ProcessDead(w->pid); }));
  EXPECT_TRUE(Eventually([&] { return ProcessDead(t.pid); }));
}

// The children of a host process (its main thread's), from /proc.
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<pid_t> out;
  for (pid_t child; in >> child;) out.push_back(child);
  return out;
}

// Whether a host process is in a cgroup the zygote made for a worker other than `other`'s (an
// exiting process is back in the root cgroup on v1).
bool InAWorkerCgroupOtherThan(pid_t pid, pid_t other) {
  std::string group = MemoryCgroup(pid);
  return group.find("/thaw-") != std::string::npos && group != MemoryCgroup(other);
}

// The template's spare once the zygote has moved it into a cgroup of its own (0 if none in 10 s).
pid_t PreparedSpare(pid_t template_pid) {
  pid_t spare = 0;
  Eventually([&] {
    for (pid_t child : ChildrenOf(template_pid)) {
      if (InAWorkerCgroupOtherThan(child, template_pid)) spare = child;
    }
    return spare != 0;
  });
  return spare;
}

TEST_F(TemplateTest, SpareChildIsMovedIntoItsOwnCgroupBeforeItsRequest) {
  SpawnedWorker t = StartTemplate("tmpl-spare");
  ASSERT_GE(t.fd, 0);
  WorkerClient template_socket(t.fd);
  // The template forks one child ahead while idle; the zygote moves it into a cgroup of its
  // own while idle too, so that the request needs no cgroup move (ServeForks, kSpare).
  const pid_t spare = PreparedSpare(t.pid);
  ASSERT_NE(spare, 0);
  const std::string prepared = MemoryCgroup(spare);
  auto w = zygote_->SpawnFrom(t.pid, Spec("from-spare", 96));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->pid, spare);
  EXPECT_EQ(MemoryCgroup(w->pid), prepared);
  WorkerClient c(w->fd);
  EXPECT_EQ(c.Call("forked"), "yes");
  EXPECT_GT(zygote_->MemoryUsage("from-spare"), 0);  // its limits, its usage

  // The next spare gets a cgroup of its own as well.
  pid_t next = 0;
  ASSERT_TRUE(Eventually([&] {
    for (pid_t child : ChildrenOf(t.pid)) {
      if (child != spare && InAWorkerCgroupOtherThan(child, t.pid) &&
          MemoryCgroup(child) != prepared) {
        next = child;
      }
    }
    return next != 0;
  }));
}

TEST_F(TemplateTest, SpareRunsTheWarmUpBeforeItTakesARequest) {
  SpawnedWorker t = StartTemplate("tmpl-warm", "mark");
  ASSERT_GE(t.fd, 0);
  WorkerClient template_socket(t.fd);
  const pid_t spare = PreparedSpare(t.pid);
  ASSERT_NE(spare, 0);
  auto w = zygote_->SpawnFrom(t.pid, Spec("warmed", 96));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->pid, spare);
  WorkerClient c(w->fd);
  EXPECT_EQ(c.Call("warmed"), "yes");
  EXPECT_EQ(c.Call("sched"), "other");  // warmed up under SCHED_IDLE, serves under SCHED_OTHER
}

TEST_F(TemplateTest, SpareStillWarmingUpNeverDelaysARequest) {
  SpawnedWorker t = StartTemplate("tmpl-slow", "slow");
  ASSERT_GE(t.fd, 0);
  WorkerClient template_socket(t.fd);
  pid_t warming = 0;
  ASSERT_TRUE(Eventually([&] {
    auto children = ChildrenOf(t.pid);
    if (children.size() == 1) warming = children[0];
    return warming != 0;
  }));
  auto w = zygote_->SpawnFrom(t.pid, Spec("not-the-spare", 96));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_NE(w->pid, warming);  // forked for the request instead
  WorkerClient c(w->fd);
  EXPECT_EQ(c.Call("forked"), "yes");
  EXPECT_EQ(c.Call("warmed"), "no");
  EXPECT_NE(MemoryCgroup(w->pid), MemoryCgroup(t.pid));
  // The zygote never heard of the spare: it is still in the template's cgroup.
  EXPECT_FALSE(ProcessDead(warming));
  EXPECT_EQ(MemoryCgroup(warming), MemoryCgroup(t.pid));
}

TEST_F(TemplateTest, WarmUpThatKillsTheSpareIsTurnedOff) {
  SpawnedWorker t = StartTemplate("tmpl-crash", "crash");
  ASSERT_GE(t.fd, 0);
  WorkerClient template_socket(t.fd);
  const pid_t spare = PreparedSpare(t.pid);  // the next spare, without the warm-up
  ASSERT_NE(spare, 0);
  auto w = zygote_->SpawnFrom(t.pid, Spec("after-crash", 96));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->pid, spare);
  WorkerClient c(w->fd);
  EXPECT_EQ(c.Call("warmed"), "no");
  EXPECT_EQ(c.Call("ping"), "pong");
}

}  // namespace
}  // namespace thaw::sandbox
