#pragma once
// The process inside the sandbox. A worker serves the SageMaker container contract — GET /ping,
// POST /invocations over HTTP/1.1 — on one connected stream socket, one request at a time, until
// the server closes it. It runs in a child forked by the zygote, after the sandbox is in place,
// so it sees the model at `model_dir` (read-only) and nothing else of the host.

#include <string>
#include <utility>
#include <vector>

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
};

// Loads the model, then serves requests on `fd` until EOF. Single-threaded. Returns the process
// exit status (0 on a clean EOF). Never throws.
int RunWorker(int fd, const WorkerSpec& spec);

}  // namespace thaw::worker
