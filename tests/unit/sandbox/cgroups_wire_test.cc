// Pure tests: cgroup layout detection from other hosts' /proc files, and the zygote wire format.

#include <gtest/gtest.h>

#include <map>

#include "sandbox/cgroups.h"
#include "sandbox/wire.h"

namespace thaw::sandbox::internal {
namespace {

namespace fs = std::filesystem;

auto Files(std::map<std::string, std::string> files) {
  return [files = std::move(files)](const fs::path& p) {
    auto it = files.find(p.native());
    return it == files.end() ? std::string() : it->second;
  };
}

// This dev VM: all controllers on v1, an empty cgroup2 at /sys/fs/cgroup/unified, and a nested
// memory cgroup.
constexpr char kHybridMountinfo[] =
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr char kHybridSelf[] = "8:pids:/\n4:memory:/process_api/c057\n2:cpuacct:/\n1:cpu:/\n0::/\n";

TEST(CgroupLayout, HybridHostUsesV1) {
  auto layout =
      ParseCgroupLayout(kHybridMountinfo, kHybridSelf,
                        Files({{"/sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n"}}));
  EXPECT_EQ(layout.mode, CgroupMode::kV1);
  EXPECT_EQ(layout.memory, "/sys/fs/cgroup/memory/process_api/c057");
  EXPECT_EQ(layout.cpu, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(layout.pids, "/sys/fs/cgroup/pids");
}

TEST(CgroupLayout, CoMountedCpuAndCpuacct) {
  auto layout = ParseCgroupLayout(
      "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
      "31 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
      "5:cpu,cpuacct:/user.slice\n4:memory:/user.slice/session-1.scope\n", Files({}));
  EXPECT_EQ(layout.mode, CgroupMode::kV1);
  EXPECT_EQ(layout.cpu, "/sys/fs/cgroup/cpu,cpuacct/user.slice");
  EXPECT_EQ(layout.memory, "/sys/fs/cgroup/memory/user.slice/session-1.scope");
  EXPECT_TRUE(layout.pids.empty());
}

TEST(CgroupLayout, PureV2) {
  auto layout =
      ParseCgroupLayout("25 22 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
                        "0::/system.slice/thaw.service\n",
                        Files({{"/sys/fs/cgroup/system.slice/thaw.service/cgroup.controllers",
                                "cpuset cpu io memory pids\n"}}));
  EXPECT_EQ(layout.mode, CgroupMode::kV2);
  EXPECT_EQ(layout.memory, "/sys/fs/cgroup/system.slice/thaw.service");
  EXPECT_EQ(layout.cpu, layout.memory);
  EXPECT_EQ(layout.pids, layout.memory);
}

TEST(CgroupLayout, V2WithoutMemoryIsNone) {
  auto layout = ParseCgroupLayout("25 22 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/\n",
                                  Files({{"/sys/fs/cgroup/cgroup.controllers", "cpu pids\n"}}));
  EXPECT_EQ(layout.mode, CgroupMode::kNone);
  EXPECT_FALSE(layout.why_none.empty());
}

TEST(CgroupLayout, NoCgroupFs) {
  auto layout = ParseCgroupLayout("27 1 254:0 / / rw - ext4 /dev/vda rw\n", "0::/\n", Files({}));
  EXPECT_EQ(layout.mode, CgroupMode::kNone);
  EXPECT_EQ(layout.why_none, "no cgroup filesystem is mounted");
}

TEST(CgroupLayout, ContainerWithBoundSubtreeAndEscapedSpace) {
  // A container sees its own cgroup mounted at the hierarchy root.
  auto layout = ParseCgroupLayout(
      "40 31 0:32 /docker/abc /sys/fs/cgroup/my\\040memory ro - cgroup cgroup rw,memory\n",
      "4:memory:/docker/abc\n", Files({}));
  EXPECT_EQ(layout.mode, CgroupMode::kV1);
  EXPECT_EQ(layout.memory, "/sys/fs/cgroup/my memory");
}

TEST(Wire, SpawnRoundTrip) {
  SpawnRequest req;
  req.id = 42;
  req.spec.worker_id = "w-1";
  req.spec.runtime = "xgboost";
  req.spec.model_dir = "/var/lib/thaw/models/m";
  req.spec.memory_mb = 3072;
  req.spec.env = {{"A", "1"}, {"EMPTY", ""}};
  SpawnRequest got;
  ASSERT_TRUE(DecodeSpawn(EncodeSpawn(req), &got));
  EXPECT_EQ(got.id, 42u);
  EXPECT_EQ(got.spec.worker_id, "w-1");
  EXPECT_EQ(got.spec.runtime, "xgboost");
  EXPECT_EQ(got.spec.model_dir, "/var/lib/thaw/models/m");
  EXPECT_EQ(got.spec.memory_mb, 3072);
  EXPECT_EQ(got.spec.env, req.spec.env);
}

TEST(Wire, ReplyAndReadyRoundTrip) {
  SpawnReply r;
  r.id = 7;
  r.ok = true;
  r.pid = 1234;
  r.timings.fork_us = 1;
  r.timings.total_us = 5;
  r.timings.pool_hit = false;
  r.cgroup = "w3";
  SpawnReply got;
  ASSERT_TRUE(DecodeSpawnReply(EncodeSpawnReply(r), &got));
  EXPECT_EQ(got.pid, 1234);
  EXPECT_EQ(got.timings.fork_us, 1);
  EXPECT_EQ(got.timings.total_us, 5);
  EXPECT_FALSE(got.timings.pool_hit);
  EXPECT_EQ(got.cgroup, "w3");

  ReadyMessage m;
  m.ok = true;
  m.cgroup_mode = "v1";
  m.parent_dirs = {"/a", "/b"};
  ReadyMessage got_ready;
  ASSERT_TRUE(DecodeReady(EncodeReady(m), &got_ready));
  EXPECT_EQ(got_ready.parent_dirs, m.parent_dirs);
}

TEST(Wire, TruncatedOrForeignMessagesAreRejected) {
  SpawnRequest req;
  req.spec.worker_id = "w";
  req.spec.env = {{"K", "V"}};
  std::string msg = EncodeSpawn(req);
  SpawnRequest got;
  for (size_t n = 0; n < msg.size(); ++n) {
    EXPECT_FALSE(DecodeSpawn(std::string_view(msg).substr(0, n), &got)) << n;
  }
  EXPECT_FALSE(DecodeSpawn(msg + "x", &got));  // trailing garbage
  pid_t pid;
  EXPECT_FALSE(DecodeKill(msg, &pid));  // wrong type
  int64_t grace = 0;
  ASSERT_TRUE(DecodeStop(EncodeStop(42, 1500), &pid, &grace));
  EXPECT_EQ(pid, 42);
  EXPECT_EQ(grace, 1500);
  EXPECT_FALSE(DecodeStop(EncodeKill(42), &pid, &grace));                  // wrong type
  EXPECT_FALSE(DecodeStop(EncodeStop(42, -1), &pid, &grace));              // a negative grace
  EXPECT_FALSE(DecodeStop(EncodeStop(42, 1).substr(0, 9), &pid, &grace));  // truncated
  // A huge env count cannot make the decoder reserve memory it does not have.
  std::string evil = msg.substr(0, msg.size() - 14) + std::string("\xff\xff\xff\x7f", 4);
  EXPECT_FALSE(DecodeSpawn(evil, &got));
}

// ---- CPU in proportion to memory ---------------------------------------------------------

TEST(CpuQuota, OneVcpuPer1769MbWithAFloorAndTheNodeAsCap) {
  const int64_t big_node = 64000;
  // Lambda's ratio above the floor: 1769 MB is one vCPU, 3538 MB two, 6144 MB (SageMaker
  // Serverless's largest) 3.473.
  EXPECT_EQ(CpuQuotaFor(1769, big_node), (CpuQuota{100000, 100000}));
  EXPECT_EQ(CpuQuotaFor(3538, big_node), (CpuQuota{200000, 100000}));
  EXPECT_EQ(CpuQuotaFor(6144, big_node).quota_us, 347300);
  // The floor: a 1 GB worker (and anything smaller) gets a whole vCPU, not Lambda's 0.58.
  EXPECT_EQ(CpuQuotaFor(1024, big_node).quota_us, 100000);
  EXPECT_EQ(CpuQuotaFor(128, big_node).quota_us, 100000);
  EXPECT_EQ(CpuQuotaFor(0, big_node).quota_us, 100000);
  // The cap: never more than the node has, even below the floor.
  EXPECT_EQ(CpuQuotaFor(6144, 2000).quota_us, 200000);
  EXPECT_EQ(CpuQuotaFor(1024, 500).quota_us, 50000);
  EXPECT_EQ(CpuQuotaFor(1024, 0).quota_us, 1000);  // at least 1 ms per period
}

TEST(CpuQuota, NodeCpusFromAffinityAndQuotasAbove) {
  EXPECT_EQ(MilliCpusFrom(4, {}), 4000);
  EXPECT_EQ(MilliCpusFrom(4, {{-1, 100000}, {-1, 100000}}), 4000);  // no quota anywhere
  EXPECT_EQ(MilliCpusFrom(4, {{150000, 100000}}), 1500);            // docker --cpus=1.5
  EXPECT_EQ(MilliCpusFrom(4, {{-1, 100000}, {50000, 50000}, {300000, 100000}}), 1000);
  EXPECT_EQ(MilliCpusFrom(2, {{800000, 100000}}), 2000);  // a quota above the CPUs there are
  EXPECT_EQ(MilliCpusFrom(0, {}), 1000);
}

}  // namespace
}  // namespace thaw::sandbox::internal
