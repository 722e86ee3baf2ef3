#pragma once
// The process inside the sandbox. A worker serves the SageMaker container contract — GET /ping,
// POST /invocations over HTTP/1.1 — on one connected stream socket, one request at a time, until
// the server closes it. It runs in a child forked by the zygote, after the sandbox is in place,
// so it sees the model at `model_dir` (read-only) and nothing else of the host.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace thaw::worker {

struct WorkerSpec {
  // "xgboost", or "custom:<program>" for a custom container (the program's absolute path as the
  // worker sees it).
  std::string runtime;
  std::string model_dir = "/opt/ml/model";
  // The container's Environment, as given in CreateModel (SAGEMAKER_* variables among them).
  std::vector<std::pair<std::string, std::string>> env;
  // In a sandbox of its own (its own network namespace, so a container can take port 8080).
  bool sandboxed = true;
  std::string worker_id;  // names the worker in its log lines
  // Called once, after the first response to POST /invocations has been written (the cold start
  // is over); the sandbox uses it to tell the zygote that background work may resume. May be
  // empty.
  std::function<void()> on_first_invocation;
  // The scikit-learn template tier: this process loads the runtime (imports the module, runs
  // model_fn), tells the server on its socket — one line, "ok" or "error <reason>" — and then,
  // instead of serving, calls serve_forks(fd, &id) (sandbox::ServeForks with the runtime's fork
  // hooks). That returns false when the template should exit, true in each forked child, which
  // then serves as a worker on fd 3 with the model already loaded, named `id` in its lines.
  bool as_template = false;
  std::function<bool(int fd, std::string* child_worker_id)> serve_forks;
};

// The template's line to the server once it is loaded, and its parse (for the server).
std::string TemplateReadyLine(const Status& status);
// "" for "ok", else the reason; nullopt when `line` is not a ready line.
std::optional<std::string> ParseTemplateReadyLine(std::string_view line);

// Where a worker's own part of a cold start went, in microseconds from RunWorker's start.
struct WorkerTimings {
  int64_t model_load_us = 0;         // the runtime constructed (models loaded or failed)
  int64_t first_request_us = -1;     // the first request's headers were read
  int64_t first_invocation_us = -1;  // the first POST /invocations answer written
  int64_t first_predict_us = -1;     // time inside the runtime for that invocation
  // That invocation's page faults (copy-on-write of what the worker shares with its zygote or
  // template) and CPU time: figures a busy machine does not distort as it does wall time.
  int64_t first_predict_faults = -1;
  int64_t first_predict_cpu_us = -1;
};

// Loads the model, then serves requests on `fd` until EOF. Single-threaded. Returns the process
// exit status (0 on a clean EOF). Never throws.
int RunWorker(int fd, const WorkerSpec& spec);

// Runs the runtime once on a tiny embedded model and its requests through the HTTP loop, so
// that a process forked ahead of the cold path (the zygote's armed children) has already
// faulted in the code pages a worker touches and resolved their symbols. (It does not pre-grow
// the heap: touching 4 MB cost 3.5 ms of CPU per child on the dev VM, ~3.4 µs per page fault,
// more than the worker's own heap faults it would save.)
// Leaves no thread, file or descriptor behind. Returns early once `stop()` is true (checked
// between steps); a null `stop` never stops.
void PrewarmWorker(bool (*stop)());

}  // namespace thaw::worker
