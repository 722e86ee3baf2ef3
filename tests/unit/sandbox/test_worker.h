#pragma once
// A WorkerEntry for the sandbox tests and a client for it. The worker answers one line per
// command line on its socket, so a test can ask what the sandbox looks like from inside:
//   ping | whoami | pid | modeldir | read PATH | write PATH | ls PATH | env NAME | fds
//   connect IP PORT | alloc MB | exit N | notify (NotifyColdStartDone) | forked ("yes" in a
//   worker forked by a template spawned with as_template) | prewarmed (the pid
//   TestPrewarm ran in, as this process sees it; 0 if it did not run here) | linger (do not
//   exit on EOF: wait to be killed)
// Failures answer "err <errno>" so tests can compare with EROFS, ENOENT, ...

#include <sys/types.h>

#include <chrono>
#include <string>

#include "sandbox/zygote.h"

namespace thaw::sandbox::testing {

int TestWorkerEntry(int fd, const SpawnSpec& spec);

// A SandboxOptions::prewarm that records the pid it ran in (for "prewarmed").
void TestPrewarm(bool (*stop)());
extern pid_t g_prewarm_pid;

// Owns the server's end of a worker's socket.
class WorkerClient {
 public:
  explicit WorkerClient(int fd) : fd_(fd) {}
  ~WorkerClient();
  WorkerClient(const WorkerClient&) = delete;
  WorkerClient& operator=(const WorkerClient&) = delete;

  // Sends one command and returns the answer line; "<eof>" when the worker is gone and
  // "<timeout>" when it did not answer in time.
  std::string Call(const std::string& command,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits for EOF on the socket (the worker died).
  bool WaitEof(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  int fd_;
  std::string buffer_;
};

}  // namespace thaw::sandbox::testing
