// RunWorker end to end: a forked child serves one end of a socketpair, the test speaks raw
// HTTP/1.1 on the other, as the thaw server will.
#include "worker/worker.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "fakes/temp_dir.h"
#include "unit/worker/fixtures.h"
#include "unit/worker/worker_process.h"
#include "worker/xgboost_runtime.h"

namespace thaw::worker {
namespace {

namespace fs = std::filesystem;

using testing::kFixtures;
using testing::Post;
using testing::ReadFile;
using testing::Reply;
using testing::WorkerProcess;

WorkerSpec Spec(const fs::path& model_dir) {
  WorkerSpec spec;
  spec.runtime = "xgboost";
  spec.model_dir = model_dir.string();
  return spec;
}

constexpr std::string_view kPing = "GET /ping HTTP/1.1\r\nHost: worker\r\n\r\n";

TEST(WorkerTest, ServesTheContractOnOneKeepAliveConnection) {
  WorkerProcess worker(Spec(kFixtures / "binary/model"));

  Reply r = worker.Exchange(kPing);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");

  const std::string rows = ReadFile(kFixtures / "binary/inputs/rows.csv");
  r = worker.Exchange(Post(rows, "text/csv", "text/csv"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/csv; charset=utf-8");
  EXPECT_EQ(r.body, ReadFile(kFixtures / "binary/expected/rows.csv.csv"));

  r = worker.Exchange(Post(rows, "text/csv", "application/json"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.body, ReadFile(kFixtures / "binary/expected/rows.csv.json"));

  // No Content-Type: libsvm.
  const std::string libsvm = ReadFile(kFixtures / "binary/inputs/rows.libsvm");
  r = worker.Exchange(Post(libsvm, "", ""));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, ReadFile(kFixtures / "binary/expected/rows.libsvm.csv"));

  r = worker.Exchange(Post(rows, "application/json", ""));
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.body.rfind("application/json is not an accepted ContentType: ", 0), 0u);

  r = worker.Exchange(Post(rows, "text/csv", "text/html"));
  EXPECT_EQ(r.status, 406);

  r = worker.Exchange(Post("", "text/csv", ""));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.body, "");

  r = worker.Exchange("GET /models HTTP/1.1\r\nHost: worker\r\n\r\n");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{}");

  r = worker.Exchange("GET /invocations HTTP/1.1\r\nHost: worker\r\n\r\n");
  EXPECT_EQ(r.status, 405);

  // A chunked body, and a query string that does not change the route.
  r = worker.Exchange(
      "POST /invocations?x=1 HTTP/1.1\r\nHost: worker\r\nContent-Type: text/csv\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      [&] {
        std::ostringstream chunked;
        chunked << std::hex << rows.size() << "\r\n" << rows << "\r\n0\r\n\r\n";
        return chunked.str();
      }());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, ReadFile(kFixtures / "binary/expected/rows.csv.csv"));

  // Expect: 100-continue gets its interim answer before the body is sent.
  worker.Send(
      "POST /invocations HTTP/1.1\r\nHost: worker\r\nContent-Type: text/csv\r\n"
      "Expect: 100-continue\r\nContent-Length: " +
      std::to_string(rows.size()) + "\r\n\r\n");
  r = worker.Receive();
  EXPECT_EQ(r.status, 100);
  worker.Send(rows);
  r = worker.Receive();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, ReadFile(kFixtures / "binary/expected/rows.csv.csv"));

  EXPECT_EQ(worker.CloseAndWait(), 0);  // EOF between requests: a clean exit
}

TEST(WorkerTest, EnsembleAveragesTwoModels) {
  WorkerProcess worker(Spec(kFixtures / "ensemble/model"));
  Reply r = worker.Exchange(
      Post(ReadFile(kFixtures / "ensemble/inputs/rows.csv"), "text/csv", "application/jsonlines"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/jsonlines");
  EXPECT_EQ(r.body, ReadFile(kFixtures / "ensemble/expected/rows.csv.jsonl"));
  EXPECT_EQ(worker.CloseAndWait(), 0);
}

TEST(WorkerTest, PickleFailsThePing) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "xgboost-model", std::ios::binary)
      << std::string("\x80\x04\x95\x10\x00\x00\x00.", 8);
  WorkerProcess worker(Spec(dir.path()));
  Reply r = worker.Exchange(kPing);
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("pickled models are not supported by thaw"), std::string::npos) << r.body;
  r = worker.Exchange(Post("1,2", "text/csv", ""));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.rfind("Unable to load model: Model ", 0), 0u);
  EXPECT_EQ(worker.CloseAndWait(), 0);
}

TEST(WorkerTest, OversizedBodyIsRefusedAndTheConnectionSurvives) {
  WorkerSpec spec = Spec(kFixtures / "binary/model");
  spec.env = {{"MAX_CONTENT_LENGTH", "64"}};
  WorkerProcess worker(spec);
  Reply r = worker.Exchange(Post(std::string(65, '1'), "text/csv", ""));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("Request Entity Too Large"), std::string::npos);
  std::string at_limit;
  for (int i = 0; i < 31; ++i) at_limit += "1,";
  at_limit += "11";
  ASSERT_EQ(at_limit.size(), 64u);
  r = worker.Exchange(Post(at_limit, "text/csv", ""));  // at the limit: accepted
  EXPECT_EQ(r.status, 400);                             // 32 columns for a 6-feature model
  EXPECT_NE(r.body.find("Feature size of csv inference data 32"), std::string::npos) << r.body;
  r = worker.Exchange(kPing);
  EXPECT_EQ(r.status, 200);

  // An oversized chunked body cannot be skipped: the worker answers and closes.
  r = worker.Exchange(
      "POST /invocations HTTP/1.1\r\nHost: w\r\nContent-Type: text/csv\r\n"
      "Transfer-Encoding: chunked\r\n\r\n50\r\n" +
      std::string(80, '1') + "\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(worker.PeerClosed());
  EXPECT_EQ(worker.WaitExit(), 1);
}

TEST(WorkerTest, ConnectionCloseAndGarbage) {
  WorkerProcess closing(Spec(kFixtures / "binary/model"));
  Reply r = closing.Exchange("GET /ping HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(closing.PeerClosed());
  EXPECT_EQ(closing.WaitExit(), 0);

  WorkerProcess garbage(Spec(kFixtures / "binary/model"));
  r = garbage.Exchange("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(garbage.WaitExit(), 1);
}

TEST(WorkerTest, UnknownRuntimeReportsOnPing) {
  WorkerSpec spec = Spec(kFixtures / "binary/model");
  spec.runtime = "tensorflow";
  WorkerProcess worker(spec);
  Reply r = worker.Exchange(kPing);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "runtime 'tensorflow' is not supported by this worker");
  EXPECT_EQ(worker.CloseAndWait(), 0);
}

// A scikit-learn worker must come from the zygote that preloaded Python; one forked from
// anywhere else says so on /ping (which fails the deploy with that reason) instead of crashing.
TEST(WorkerTest, SklearnWithoutThePythonZygoteReportsOnPing) {
  WorkerSpec spec = Spec(kFixtures / "binary/model");
  spec.runtime = "sklearn";
  WorkerProcess worker(spec);
  Reply r = worker.Exchange(kPing);
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("scikit-learn runtime is not loaded in this worker"), std::string::npos);
  EXPECT_EQ(worker.CloseAndWait(), 0);
}

// The sandbox hears once that the cold start is over: after the first invocation's answer,
// not after the ping before it, and not again (the later answers precede the check, and the
// worker has exited before the last one).
TEST(WorkerTest, FirstInvocationIsAnnouncedOnce) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  WorkerSpec spec = Spec(kFixtures / "binary/model");
  const int announce = p[1];
  spec.on_first_invocation = [announce] { EXPECT_EQ(write(announce, "x", 1), 1); };
  WorkerProcess worker(spec);
  close(p[1]);
  auto announced = [&] {
    std::string got;
    char buf[16];
    for (ssize_t n; (n = read(p[0], buf, sizeof buf)) > 0;) got.append(buf, n);
    return got;
  };
  EXPECT_EQ(worker.Exchange(kPing).status, 200);
  EXPECT_EQ(announced(), "");
  const std::string row = ReadFile(kFixtures / "binary/inputs/single.csv");
  EXPECT_EQ(worker.Exchange(Post(row, "text/csv", "text/csv")).status, 200);
  pollfd ready{p[0], POLLIN, 0};  // announced after the answer is written: wait for it
  EXPECT_EQ(poll(&ready, 1, 10000), 1);
  EXPECT_EQ(announced(), "x");
  EXPECT_EQ(worker.Exchange(Post(row, "text/csv", "text/csv")).status, 200);
  EXPECT_EQ(worker.Exchange(kPing).status, 200);
  EXPECT_EQ(worker.CloseAndWait(), 0);
  EXPECT_EQ(announced(), "");
  close(p[0]);
}

// Counts the entries of /proc/self/<dir> (descriptors or threads).
int CountProcEntries(const char* dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(fs::path("/proc/self") / dir)) {
    (void)e;
    ++n;
  }
  return n;
}

// The pre-warm leaves no descriptor or thread behind, and a worker started after it in the
// same process serves as usual. (In a child: it tunes malloc for the rest of the process.)
TEST(WorkerTest, PrewarmLeavesNothingBehind) {
  pid_t pid = fork();
  if (pid == 0) {
    const int fds = CountProcEntries("fd"), threads = CountProcEntries("task");
    PrewarmWorker(nullptr);
    _exit(CountProcEntries("fd") == fds && CountProcEntries("task") == threads ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  PrewarmWorker([] { return true; });  // stopped at once: touches nothing here
}

}  // namespace
}  // namespace thaw::worker
