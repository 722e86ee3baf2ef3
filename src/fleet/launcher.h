#pragma once
// The fleet's seam to the operating system: starting and killing worker processes. The server
// implements it over sandbox::Zygote; tests use a fake that runs workers in-process.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace thaw::fleet {

struct LaunchSpec {
  std::string worker_id;
  std::string runtime;
  std::filesystem::path model_dir;
  int64_t memory_mb = 0;
  std::vector<std::pair<std::string, std::string>> env;
  // Where the worker's output goes: the endpoint's log group, stream "{variant}/{worker id}".
  std::string endpoint;
  std::string log_stream;
  // A template (the scikit-learn template tier): it loads the model, says "ok" or "error
  // <reason>" in one line on its socket (worker::TemplateReadyLine), then only forks workers
  // (LaunchFrom). Closing its socket asks it to retire once no worker of it is left.
  bool as_template = false;
};

struct LaunchedWorker {
  int fd = -1;  // connected stream socket speaking the container contract; caller owns it
  pid_t pid = 0;
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Blocking (one round trip to the zygote): call off the I/O threads. Thread-safe.
  virtual Result<LaunchedWorker> Launch(const LaunchSpec& spec) = 0;
  // A worker forked from the template `template_pid` (launched with as_template), holding the
  // model it loaded; model_dir and env of `spec` are the template's. NotFound when the
  // template is gone; any error: launch afresh. Blocking, thread-safe.
  virtual Result<LaunchedWorker> LaunchFrom(pid_t template_pid, const LaunchSpec& spec) {
    (void)template_pid, (void)spec;
    return NotFound("this launcher has no templates");
  }
  // SIGKILL now. Thread-safe; harmless for a worker that already exited.
  virtual void Kill(pid_t pid) = 0;
  // Graceful retirement (stop_policy.h): the caller has closed the worker's socket, which asks
  // it to stop; the worker is SIGKILLed `grace` later if it still runs. Never waits.
  // Thread-safe; harmless for a worker that already exited.
  virtual void Stop(pid_t pid, std::chrono::milliseconds grace) = 0;
  // One line of thaw's own about a worker (started, retired, failed …) for the endpoint's log
  // stream. Thread-safe, never blocks on I/O; the default drops it.
  virtual void Note(const std::string& endpoint, const std::string& log_stream, std::string line) {
    (void)endpoint, (void)log_stream, (void)line;
  }
};

}  // namespace thaw::fleet
