#include "worker/worker.h"

#include <csignal>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "common/logging.h"
#include "worker/custom_container.h"
#include "worker/http_loop.h"
#include "worker/python_compat.h"
#include "worker/python_runtime.h"
#include "worker/xgboost_runtime.h"

namespace thaw::worker {
namespace {

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
      if (load_status.ok()) {
        invoke = [&python](const HttpRequest& req) {
          return python->Invoke(req.content_type, req.accept, req.body);
        };
      }
    } else {
      load_status =
          FailedPrecondition("runtime '" + spec.runtime + "' is not supported by this worker");
    }
    HttpLimits limits;
    limits.max_body_bytes = MaxContentLength(spec);
    limits.too_large = {413, std::string(kHtml), std::string(kTooLargePage)};
    return ServeHttp(fd, limits, [&](const HttpRequest& req) {
      return Route(req, invoke, load_status, limits.max_body_bytes);
    });
  } catch (const std::exception& e) {
    Logger("worker")->error("worker failed: {}", e.what());
    return 1;
  }
}

}  // namespace thaw::worker
