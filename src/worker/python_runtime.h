#pragma once
// The scikit-learn 1.2-1 runtime: Debian's Python 3.11 (libpython3.11, with /usr/bin/python3's
// site-packages: scikit-learn 1.2.1, numpy, scipy, joblib) embedded in the worker. The worker's
// C++ HTTP loop serves the container contract; each /invocations calls the handler module
// (python/thaw_sklearn.py, compiled into the binary), which runs the user's inference.py
// handlers. There is no Python HTTP server and no gunicorn: one worker process is one
// interpreter serving one request at a time, and several workers of an endpoint run in parallel
// as separate processes (no shared GIL).
//
// Cold start: the interpreter is initialised once, in a zygote of its own (PreloadPython is that
// zygote's preload hook), with numpy, scipy, scikit-learn and joblib imported and BLAS/OpenMP
// pinned to one thread before the imports, so no thread exists when it forks. A worker forked
// from it only imports the user's module and calls model_fn.

#include <optional>
#include <string_view>

#include "common/status.h"
#include "worker/http_loop.h"
#include "worker/worker.h"

namespace thaw::worker {

// Initialises the interpreter in the calling process and imports the handler module and the
// libraries every worker needs. Runs in the scikit-learn zygote before it forks anything, and
// fails (with the reason) if the imports fail or left a thread running. The calling thread keeps
// the GIL: the process stays single-threaded, and its forked workers inherit the held GIL.
Status PreloadPython();

// The interpreter's fork protocol, for a template (sandbox::ForkHooks): PyOS_BeforeFork, then
// PyOS_AfterFork_Parent in the template, or PyOS_AfterFork_Child and fresh random seeds in the
// child.
void PythonBeforeFork();
void PythonAfterForkParent();
void PythonAfterForkChild();
// In a template's child forked ahead of its request (ForkHooks::spare): one synthetic request
// through the loaded handler when no user code would run (thaw_sklearn Handler.warm_up), so the
// first real request does not pay for the copy-on-write faults and first calls of a prediction.
void PythonWarmUpSpare();

// One worker's handlers. Not thread-safe (the worker is single-threaded).
class PythonRuntime {
 public:
  // Runs in the worker, inside the sandbox: refreshes the interpreter after the fork, then
  // imports SAGEMAKER_PROGRAM and calls its model_fn. A failure is kept (load_status) rather
  // than returned: the worker answers /ping with it, which fails the deploy with the reason.
  explicit PythonRuntime(const WorkerSpec& spec);
  ~PythonRuntime();
  PythonRuntime(const PythonRuntime&) = delete;
  PythonRuntime& operator=(const PythonRuntime&) = delete;

  const Status& load_status() const { return load_status_; }
  // A template may fork only while single-threaded: a model_fn that started threads (a thread
  // pool, a BLAS it configured itself) leaves the endpoint on the generic path.
  static Status CheckForkable();

  // POST /invocations. `content_type` and `accept` are the raw headers (nullopt when absent).
  HttpResponse Invoke(std::optional<std::string_view> content_type,
                      std::optional<std::string_view> accept, std::string_view body);

 private:
  Status load_status_;
  void* handler_ = nullptr;  // PyObject*: the thaw_sklearn.Handler (owned reference)
};

}  // namespace thaw::worker
