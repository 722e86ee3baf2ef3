#include "api/runtime_api.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/error_table.h"
#include "api/invocation_metrics.h"
#include "api/logs_api.h"

namespace thaw::api {
namespace {

constexpr std::string_view kPrefix = "/endpoints/";
constexpr std::string_view kSuffix = "/invocations";
constexpr char kCustomAttributes[] = "X-Amzn-SageMaker-Custom-Attributes";
// On every successful InvokeEndpoint answer: "true" when the request waited for a cold start.
constexpr char kColdStartHeader[] = "x-thaw-cold-start";

std::optional<std::string> Header(const Request& req, std::string_view name) {
  auto it = req.find(boost::beast::string_view(name.data(), name.size()));
  if (it == req.end()) return std::nullopt;
  return std::string(it->value());
}

int FromHex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> InvocationEndpoint(std::string_view target) {
  auto q = target.find('?');
  if (q != std::string_view::npos) target = target.substr(0, q);
  if (target.size() <= kPrefix.size() + kSuffix.size() ||
      target.substr(0, kPrefix.size()) != kPrefix ||
      target.substr(target.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  std::string_view raw =
      target.substr(kPrefix.size(), target.size() - kPrefix.size() - kSuffix.size());
  std::string name;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%') {
      if (i + 2 >= raw.size()) return std::nullopt;
      int hi = FromHex(raw[i + 1]), lo = FromHex(raw[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      name.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (raw[i] == '/') {
      return std::nullopt;
    } else {
      name.push_back(raw[i]);
    }
  }
  if (name.empty()) return std::nullopt;
  return name;
}

Response OversizeResponse(const Request& header, const std::string& request_id) {
  return ErrorResponse(InvalidArgument("Request " + request_id + " has oversize body."),
                       Protocol::kRestJson, header, request_id);
}

RuntimeApi::RuntimeApi(fleet::Fleet& fleet, Identity identity, metrics::Recorder* recorder,
                       const Clock& clock)
    : fleet_(fleet), identity_(std::move(identity)), recorder_(recorder), clock_(clock) {}

Response RuntimeApi::ModelError(const Request& req, const RequestContext& ctx,
                                const std::string& endpoint, const fleet::InvokeResult& result,
                                unsigned original_status, const std::string& original_message) {
  const std::string& region = identity_.region;
  std::string message = fmt::format(
      "Received {} error ({}) from primary with message \"{}\". See "
      "https://{}.console.aws.amazon.com/cloudwatch/home?region={}#logEventViewer:group=/aws/"
      "sagemaker/Endpoints/{} in account {} for more information.",
      original_status >= 500 || original_status == 0 ? "server" : "client", original_status,
      original_message, region, region, endpoint, identity_.account_id);
  Response res =
      ErrorResponse(Status(Code::kModelError, message), Protocol::kRestJson, req, ctx.request_id);
  nlohmann::json body = {
      {"ErrorCode", original_status >= 400 && original_status < 500 ? "CLIENT_ERROR_FROM_MODEL"
                                                                    : "SERVER_ERROR_FROM_MODEL"},
      {"Message", message},
      {"message", message},
      {"OriginalStatusCode", original_status},
      {"OriginalMessage", original_message},
      {"LogStreamArn", result.log_stream.empty()
                           ? fmt::format("arn:aws:logs:{}:{}:log-group:/aws/sagemaker/Endpoints/{}",
                                         region, identity_.account_id, endpoint)
                           : LogStreamArn(identity_, endpoint, result.log_stream)}};
  if (logs_ && !result.log_stream.empty()) {
    // Off the request path: a queue push (the log writer thread does the I/O).
    logs_->Append(endpoint, result.log_stream,
                  fmt::format("thaw: request {} failed: ModelError: {} (original status {})",
                              ctx.request_id, original_message.substr(0, 2048), original_status));
  }
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

boost::asio::awaitable<Response> RuntimeApi::Invoke(Request& req, RequestContext& ctx,
                                                    std::string endpoint) {
  const WallTime started = clock_.Now();
  fleet::InvokeRequest invoke{std::move(req.body()), Header(req, "Content-Type"),
                              Header(req, "Accept"), Header(req, kCustomAttributes)};
  fleet::InvokeResult result;
  std::shared_ptr<fleet::Pool> pool;
  // A pool may start draining between the lookup and the admission (an update switched
  // traffic): look up again; the new pool is already live.
  for (int attempt = 0; attempt < 3; ++attempt) {
    pool = fleet_.Find(endpoint);
    if (!pool) {
      co_return ErrorResponse(NotFound(fmt::format("Endpoint {} of account {} not found.", endpoint,
                                                   identity_.account_id)),
                              Protocol::kRestJson, req, ctx.request_id);
    }
    result = co_await pool->Invoke(invoke);
    if (result.failure != fleet::InvokeFailure::kDraining) break;
  }
  if (recorder_) {
    recorder_->Record(
        MakeInvocationRecord(pool->spec(), result, invoke.body.size(), started, clock_.Now()));
  }

  switch (result.failure) {
    case fleet::InvokeFailure::kNone:
      break;
    case fleet::InvokeFailure::kThrottled:
      co_return ErrorResponse(Status(Code::kThrottled, ""), Protocol::kRestJson, req,
                              ctx.request_id);
    case fleet::InvokeFailure::kTimeout:
      co_return ModelError(req, ctx, endpoint, result, 0,
                           "Your invocation timed out while waiting for a response from container "
                           "primary. Review the latency metrics for each container in Amazon "
                           "CloudWatch, resolve the issue, and try again.");
    case fleet::InvokeFailure::kWorkerDied:
      co_return ModelError(req, ctx, endpoint, result, 0,
                           "The model container exited while handling the request.");
    case fleet::InvokeFailure::kNoMemory:
      // Not a model failure: the node has no room for another worker right now.
      co_return ErrorResponse(Status(Code::kUnavailable, result.message), Protocol::kRestJson, req,
                              ctx.request_id);
    case fleet::InvokeFailure::kStartFailed:
    case fleet::InvokeFailure::kDraining:
      co_return ModelError(req, ctx, endpoint, result, 0, result.message);
  }
  if (result.status >= 400) {
    co_return ModelError(req, ctx, endpoint, result, result.status, result.body);
  }
  Response res{static_cast<http::status>(result.status), req.version()};
  if (result.content_type) res.set(http::field::content_type, *result.content_type);
  if (result.custom_attributes) res.set(kCustomAttributes, *result.custom_attributes);
  res.set("x-Amzn-Invoked-Production-Variant", pool->spec().variant);
  // thaw's own (clients ignore unknown x- headers): whether this request waited for a worker to
  // start — the console's test invoke shows it as reported, not guessed.
  res.set(kColdStartHeader, result.cold_start ? "true" : "false");
  res.set("x-amzn-RequestId", ctx.request_id);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(result.body);
  res.prepare_payload();
  co_return res;
}

}  // namespace thaw::api
