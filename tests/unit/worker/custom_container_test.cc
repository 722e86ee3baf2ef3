// The custom-container init as a real process tree, unsandboxed: a forked RunWorker child starts
// tests/e2e/programs/serve (a Python program serving the container contract) and bridges the
// test's socket to it.
#include "worker/custom_container.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "unit/worker/worker_process.h"

namespace thaw::worker {
namespace {

using testing::Post;
using testing::WorkerProcess;

WorkerSpec ContainerSpec(std::vector<std::pair<std::string, std::string>> env = {}) {
  WorkerSpec spec;
  spec.runtime = std::string(kCustomRuntimePrefix) + THAW_TEST_PROGRAM;
  spec.model_dir = "/nonexistent";
  spec.sandboxed = false;  // no network namespace: the init picks a free port
  spec.env = std::move(env);
  return spec;
}

constexpr std::string_view kPing = "GET /ping HTTP/1.1\r\nHost: w\r\n\r\n";

TEST(ContainerEnvironment, LaterDefinitionsReplaceEarlierOnes) {
  auto env = ContainerEnvironment(
      {"PATH=/usr/bin", "SAGEMAKER_BIND_TO_PORT=1", "SAGEMAKER_BIND_TO_PORTX=keep", "A=b"},
      {{"A", "model"}, {"SAGEMAKER_BIND_TO_PORT", "2"}, {"C", "d"}}, 8080);
  EXPECT_EQ(env,
            (std::vector<std::string>{"PATH=/usr/bin", "SAGEMAKER_BIND_TO_PORTX=keep", "A=model",
                                      "C=d", "SAGEMAKER_BIND_TO_PORT=8080",
                                      std::string("SAGEMAKER_SAFE_PORT_RANGE=") + kSafePortRange}));
}

TEST(CustomContainer, BridgesTheContractAndForwardsHeaders) {
  setenv("MY_FLAG", "on", 1);  // the worker's own environment reaches the program
  WorkerProcess w(ContainerSpec());
  auto ping = w.Exchange(kPing);
  EXPECT_EQ(ping.status, 200);
  auto r = w.Exchange(Post("hello", "text/plain", "application/json",
                           "X-Amzn-SageMaker-Custom-Attributes: a=1\r\n"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.headers["x-amzn-sagemaker-custom-attributes"], "seen");
  EXPECT_NE(r.body.find(R"("body": "hello")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("custom_attributes": "a=1")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("MY_FLAG": "on")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("argv": ["serve"])"), std::string::npos) << r.body;
  // A program's error status passes through untouched.
  auto refused = w.Exchange(Post("status:418", "text/plain", ""));
  EXPECT_EQ(refused.status, 418);
  EXPECT_EQ(refused.body, "refused by the program");
  // Retirement: the server closes its end; the init stops the program and exits cleanly.
  EXPECT_EQ(w.CloseAndWait(), 0);
}

TEST(CustomContainer, ProgramDeathMidRequestClosesTheConnectionWithoutAnAnswer) {
  WorkerProcess w(ContainerSpec());
  ASSERT_EQ(w.Exchange(kPing).status, 200);
  w.Send(Post("crash", "text/plain", ""));
  EXPECT_TRUE(w.PeerClosed());
  EXPECT_EQ(w.WaitExit(), 3);  // the program's status
}

TEST(CustomContainer, ProgramThatExitsAtStartFailsThePingWithTheReason) {
  WorkerProcess w(ContainerSpec({{"THAW_TEST_EXIT", "5"}}));
  auto ping = w.Exchange(kPing);
  EXPECT_EQ(ping.status, 500);
  EXPECT_NE(ping.body.find("exited with status 5"), std::string::npos) << ping.body;
  EXPECT_EQ(w.CloseAndWait(), 1);
}

TEST(CustomContainer, MissingProgramFailsThePing) {
  WorkerSpec spec = ContainerSpec();
  spec.runtime = std::string(kCustomRuntimePrefix) + "/nonexistent/serve";
  WorkerProcess w(spec);
  auto ping = w.Exchange(kPing);
  EXPECT_EQ(ping.status, 500);
  EXPECT_NE(ping.body.find("exited with status 127"), std::string::npos) << ping.body;
}

}  // namespace
}  // namespace thaw::worker
