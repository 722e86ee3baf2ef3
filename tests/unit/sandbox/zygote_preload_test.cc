// The zygote's preload hook and its non-blocking start (Begin / WaitReady / CancelStart), with
// real processes. Root needed (the sandbox is on), as for zygote_test.cc.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "fakes/temp_dir.h"
#include "sandbox/zygote.h"

namespace thaw::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Set before the zygote forks (it inherits them); the preload runs in the zygote.
std::string g_gate;   // the preload waits until this file exists
int g_preloaded = 0;  // what the preload "loaded"; workers report it
bool g_fail = false;  // the preload fails instead

Status GatedPreload() {
  while (!g_gate.empty() && !fs::exists(g_gate)) std::this_thread::sleep_for(1ms);
  if (g_fail) return Internal("the libraries would not import");
  g_preloaded = 42;
  return Status::Ok();
}

// Writes what it inherited from the zygote, then exits.
int ReportEntry(int fd, const SpawnSpec&) {
  std::string line = "preloaded=" + std::to_string(g_preloaded) + "\n";
  return write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) ? 0 : 1;
}

std::string ReadLine(int fd) {
  std::string out;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') out += c;
  return out;
}

class ZygotePreloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the sandbox tests need root";
#if defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "the sandbox cannot run under ThreadSanitizer";
#endif
    g_gate = (dir_.path() / "go").string();
    g_fail = false;
    g_preloaded = 0;
    options_.preload = &GatedPreload;
    options_.pool_size = 1;
  }
  SpawnSpec Spec() const {
    SpawnSpec spec;
    spec.worker_id = "preload-test";
    spec.runtime = "test";
    spec.memory_mb = 256;
    return spec;
  }
  void OpenGate() const { std::ofstream(g_gate).put('x'); }

  thaw::testing::TempDir dir_;
  SandboxOptions options_;
};

TEST_F(ZygotePreloadTest, BeginReturnsWhileThePreloadRunsAndWorkersInheritIt) {
  // The preload cannot finish before the gate opens, which happens only after Begin returned.
  auto z = Zygote::Begin(options_, &ReportEntry);
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  OpenGate();
  ASSERT_TRUE((*z)->WaitReady().ok());
  auto w = (*z)->Spawn(Spec());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(ReadLine(w->fd), "preloaded=42");
  close(w->fd);
  EXPECT_EQ(g_preloaded, 0);  // it ran in the zygote, not here
}

TEST_F(ZygotePreloadTest, SpawnWaitsForTheStartUp) {
  auto z = Zygote::Begin(options_, &ReportEntry);
  ASSERT_TRUE(z.ok());
  std::thread opener([this] { OpenGate(); });
  auto w = (*z)->Spawn(Spec());  // before WaitReady: waits for it
  opener.join();
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(ReadLine(w->fd), "preloaded=42");
  close(w->fd);
}

TEST_F(ZygotePreloadTest, PreloadFailureIsTheStartUpError) {
  g_fail = true;
  g_gate.clear();
  auto z = Zygote::Begin(options_, &ReportEntry);
  ASSERT_TRUE(z.ok());
  Status s = (*z)->WaitReady();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("the libraries would not import"), std::string::npos) << s.message();
  auto w = (*z)->Spawn(Spec());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Code::kUnavailable);
  EXPECT_NE(w.status().message().find("the libraries would not import"), std::string::npos);
  // Start reports the same failure.
  auto started = Zygote::Start(options_, &ReportEntry);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.status().message().find("would not import"), std::string::npos);
}

TEST_F(ZygotePreloadTest, CancelStartStopsAPreloadThatNeverEnds) {
  auto z = Zygote::Begin(options_, &ReportEntry);  // the gate never opens
  ASSERT_TRUE(z.ok());
  (*z)->CancelStart();
  EXPECT_FALSE((*z)->WaitReady().ok());
  EXPECT_FALSE((*z)->Spawn(Spec()).ok());
}

}  // namespace
}  // namespace thaw::sandbox
