#include "worker/worker.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/logging.h"
#include "worker/custom_container.h"
#include "worker/http_loop.h"
#include "worker/python_compat.h"
#include "worker/python_runtime.h"
#include "worker/xgboost_runtime.h"

namespace thaw::worker {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t MicrosSince(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t).count();
}

// The pre-warm's model: one tree of depth 2 over 3 features, binary:logistic, in the legacy
// binary format (762 bytes), made with Debian's python3-xgboost 1.7.4:
//   X = numpy.random.default_rng(0).random((50, 3)); y = (X[:, 0] > 0.5)
//   b = xgboost.train({"objective": "binary:logistic", "max_depth": 2}, DMatrix(X, y), 1)
//   b.save_raw(raw_format="deprecated")
constexpr unsigned char kPrewarmModel[] = {
#include "worker/prewarm_model.inc"
};

// Flask's MAX_CONTENT_LENGTH default, and the container's cap on MAX_CONTENT_LENGTH.
constexpr uint64_t kDefaultMaxContentLength = 6291456;
constexpr uint64_t kMaxPayloadSize = 20ull << 20;

constexpr std::string_view kHtml = "text/html; charset=utf-8";

// Werkzeug's pages for the errors the container's Flask app raises itself.
constexpr std::string_view kTooLargePage =
    "<!doctype html>\n<html lang=en>\n<title>413 Request Entity Too Large</title>\n"
    "<h1>Request Entity Too Large</h1>\n<p>The data value transmitted exceeds the capacity "
    "limit.</p>\n";
constexpr std::string_view kMethodNotAllowedPage =
    "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n"
    "<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n";

// The container's environment (CreateModel's Environment); the last definition wins, as in a
// dict built from the list.
std::optional<std::string_view> Env(const WorkerSpec& spec, std::string_view name) {
  std::optional<std::string_view> value;
  for (const auto& [k, v] : spec.env) {
    if (k == name) value = v;
  }
  return value;
}

// serve._get_max_content_length: int(MAX_CONTENT_LENGTH or 6291456), at most 20 MiB. (Python
// would fail to start on a value that is not an integer; thaw uses the default then.)
uint64_t MaxContentLength(const WorkerSpec& spec) {
  auto raw = Env(spec, "MAX_CONTENT_LENGTH");
  if (!raw) return kDefaultMaxContentLength;
  PyIntResult parsed = PyInt(*raw);
  if (parsed.error) {
    Logger("worker")->warn("ignoring MAX_CONTENT_LENGTH='{}'", std::string(*raw));
    return kDefaultMaxContentLength;
  }
  if (parsed.value < 0) return 0;
  return std::min<uint64_t>(static_cast<uint64_t>(parsed.value), kMaxPayloadSize);
}

XgboostOptions XgboostOptionsFor(const WorkerSpec& spec) {
  XgboostOptions options;
  options.model_dir = spec.model_dir;
  options.ensemble =
      AsciiLower(Env(spec, "SAGEMAKER_INFERENCE_ENSEMBLE").value_or("true")) != "false";
  if (auto accept = Env(spec, "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")) {
    options.default_accept = std::string(*accept);
  }
  options.batch = !Env(spec, "SAGEMAKER_BATCH").value_or("").empty();
  options.selectable_output = Env(spec, "SAGEMAKER_INFERENCE_OUTPUT").has_value();
  return options;
}

// A loaded runtime's POST /invocations; empty when the model did not load.
using Invoker = std::function<HttpResponse(const HttpRequest&)>;

HttpResponse Route(const HttpRequest& req, const Invoker& invoke, const Status& load_status,
                   uint64_t max_content_length) {
  if (req.path == "/ping") {
    if (req.method != "GET" && req.method != "HEAD") {
      return {405, std::string(kHtml), std::string(kMethodNotAllowedPage)};
    }
    if (!load_status.ok()) return {500, std::string(kHtml), load_status.message()};
    return {200, std::string(kHtml), ""};
  }
  if (req.path == "/invocations") {
    if (req.method != "POST") return {405, std::string(kHtml), std::string(kMethodNotAllowedPage)};
    if (!invoke) {
      return {500, std::string(kHtml), "Unable to load model: " + load_status.message()};
    }
    return invoke(req);
  }
  if (req.path == "/execution-parameters" && req.method == "GET") {
    // One worker serves one request at a time.
    return {
        200, "application/json",
        R"({"MaxConcurrentTransforms": 1, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": )" +
            std::to_string(max_content_length >> 20) + "}"};
  }
  // The container's nginx answers every other path itself.
  return {404, "application/octet-stream", "{}"};
}

}  // namespace

int RunWorker(int fd, const WorkerSpec& spec) {
  if (spec.runtime.rfind(kCustomRuntimePrefix, 0) == 0) {
    ContainerOptions options;
    options.program = spec.runtime.substr(sizeof kCustomRuntimePrefix - 1);
    options.port = spec.sandboxed ? 8080 : 0;
    options.env = spec.env;
    return RunCustomContainer(fd, options);
  }
  auto start = SteadyClock::now();
  std::string worker_id = spec.worker_id;  // a template's forked child learns its own
  // OpenMP must not spin up a team per core (TOOLCHAIN-NOTES trap 6). The variable covers
  // anything that reads it later; libgomp itself read it at load time, hence the explicit pin.
  setenv("OMP_NUM_THREADS", "1", 1);
  PinOpenMpToOneThread();
  // A server that goes away mid-response must not kill the worker with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    std::unique_ptr<XgboostRuntime> runtime;
    std::unique_ptr<PythonRuntime> python;
    Status load_status;
    Invoker invoke;
    if (spec.runtime == "xgboost") {
      runtime = std::make_unique<XgboostRuntime>(XgboostOptionsFor(spec));
      load_status = runtime->load_status();
      // The container's own order of checks answers even when the model did not load.
      invoke = [&runtime](const HttpRequest& req) {
        return runtime->Invoke(req.content_type, req.accept, req.body);
      };
    } else if (spec.runtime == "sklearn") {
      python = std::make_unique<PythonRuntime>(spec);
      load_status = python->load_status();
      if (spec.as_template) {
        if (load_status.ok()) load_status = PythonRuntime::CheckForkable();
        const std::string line = TemplateReadyLine(load_status);
        const bool told = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
        // The template never served: its exit runs none of the module's atexit handlers (a
        // forked worker's does, when it retires).
        if (!told || !load_status.ok() || !spec.serve_forks || !spec.serve_forks(fd, &worker_id)) {
          (void)python.release();
          return load_status.ok() ? 0 : 1;
        }
        fd = 3;  // a forked child: a worker, with the model the template loaded
        start = SteadyClock::now();
      }
      if (load_status.ok()) {
        invoke = [&python](const HttpRequest& req) {
          return python->Invoke(req.content_type, req.accept, req.body);
        };
      }
    } else {
      load_status =
          FailedPrecondition("runtime '" + spec.runtime + "' is not supported by this worker");
    }
    WorkerTimings timings;
    timings.model_load_us = MicrosSince(start);
    bool invoked = false;  // the first invocation's answer is being written
    bool reported = false;
    HttpLimits limits;
    limits.max_body_bytes = MaxContentLength(spec);
    limits.too_large = {413, std::string(kHtml), std::string(kTooLargePage)};
    auto handler = [&](const HttpRequest& req) {
      if (reported) return Route(req, invoke, load_status, limits.max_body_bytes);
      if (timings.first_request_us < 0) timings.first_request_us = MicrosSince(start);
      const auto t = SteadyClock::now();
      rusage before{};
      getrusage(RUSAGE_SELF, &before);
      HttpResponse res = Route(req, invoke, load_status, limits.max_body_bytes);
      if (req.path == "/invocations") {
        timings.first_predict_us = MicrosSince(t);
        rusage after{};
        getrusage(RUSAGE_SELF, &after);
        timings.first_predict_faults = after.ru_minflt - before.ru_minflt;
        auto cpu_us = [](const rusage& r) {
          return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1'000'000LL + r.ru_utime.tv_usec +
                 r.ru_stime.tv_usec;
        };
        timings.first_predict_cpu_us = cpu_us(after) - cpu_us(before);
        invoked = true;
      }
      return res;
    };
    auto after_write = [&] {
      if (!invoked || reported) return;
      reported = true;
      timings.first_invocation_us = MicrosSince(start);
      if (spec.on_first_invocation) spec.on_first_invocation();
      // Started at: CLOCK_MONOTONIC (steady_clock), as in the zygote's line for this worker.
      Logger("worker")->debug(
          "worker {} cold start: model load {} us, first request at {} us, first invocation "
          "answered at {} us (runtime {} us, {} us CPU, {} page faults); started at {} us",
          worker_id, timings.model_load_us, timings.first_request_us, timings.first_invocation_us,
          timings.first_predict_us, timings.first_predict_cpu_us, timings.first_predict_faults,
          std::chrono::duration_cast<std::chrono::microseconds>(start.time_since_epoch()).count());
    };
    return ServeHttp(fd, limits, handler, after_write);
  } catch (const std::exception& e) {
    Logger("worker")->error("worker failed: {}", e.what());
    return 1;
  }
}

std::string TemplateReadyLine(const Status& status) {
  if (status.ok()) return "ok\n";
  std::string reason = status.message();
  for (char& c : reason) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return "error " + reason + "\n";
}

std::optional<std::string> ParseTemplateReadyLine(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line == "ok") return std::string();
  if (line.rfind("error ", 0) == 0) return std::string(line.substr(6));
  return std::nullopt;
}

void PrewarmWorker(bool (*stop)()) {
  auto stopped = [stop] { return stop != nullptr && stop(); };
  if (stopped()) return;
  PinOpenMpToOneThread();
  try {
    XgboostOptions options;
    options.model_bytes = {reinterpret_cast<const char*>(kPrewarmModel), sizeof kPrewarmModel};
    XgboostRuntime runtime(options);
    if (stopped()) return;
    // The requests a cold start serves (/ping, then a CSV invocation), plus the JSON and libsvm
    // paths, through the real HTTP loop over a socketpair. Their answers (~1 KB) fit in the
    // socket buffer, so one thread can play both ends.
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return;
    auto post = [](std::string_view type, std::string_view accept, std::string_view body) {
      return "POST /invocations HTTP/1.1\r\nHost: w\r\nContent-Type: " + std::string(type) +
             "\r\nAccept: " + std::string(accept) +
             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    };
    const std::string requests = "GET /ping HTTP/1.1\r\nHost: w\r\n\r\n" +
                                 post("text/csv", "text/csv", "0.1,0.9,0.5") +
                                 post("text/csv", "application/json", "0.7,0.2,0.5\n0.3,,0.1") +
                                 post("text/libsvm", "application/jsonlines", "1 0:0.2 2:0.8");
    size_t sent = 0;
    while (sent < requests.size()) {
      ssize_t n = write(sv[1], requests.data() + sent, requests.size() - sent);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    shutdown(sv[1], SHUT_WR);
    HttpLimits limits;
    limits.too_large = {413, std::string(kHtml), std::string(kTooLargePage)};
    const Invoker invoke = [&runtime](const HttpRequest& req) {
      return runtime.Invoke(req.content_type, req.accept, req.body);
    };
    ServeHttp(sv[0], limits, [&](const HttpRequest& req) {
      return Route(req, invoke, runtime.load_status(), limits.max_body_bytes);
    });
    close(sv[1]);
  } catch (const std::exception& e) {
    Logger("worker")->warn("pre-warm failed: {}", e.what());
  }
}

}  // namespace thaw::worker
