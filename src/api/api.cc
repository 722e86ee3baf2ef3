#include "api/api.h"

#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "api/error_table.h"
#include "common/blocking.h"
#include "common/logging.h"
#include "control/validation.h"

namespace thaw::api {
namespace {

constexpr std::string_view kSageMakerPrefix = "SageMaker.";

Response JsonResponse(const Request& req, const std::string& request_id, std::string body,
                      const char* content_type) {
  Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, content_type);
  res.set("x-amzn-RequestId", request_id);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace

Response BodyTooLarge(const Request& header, const std::string& request_id) {
  std::string_view target(header.target().data(), header.target().size());
  if (InvocationEndpoint(target)) return OversizeResponse(header, request_id);
  return ErrorResponse(InvalidArgument("The request body is too large."), Protocol::kAwsJson11,
                       header, request_id);
}

namespace {

const Clock& SystemClockInstance() {
  static const SystemClock clock;
  return clock;
}

}  // namespace

Api::Api(control::ControlPlane& control, fleet::Fleet& fleet, boost::asio::thread_pool& blocking,
         metrics::MetricsService* metrics)
    : control_(control),
      fleet_(fleet),
      runtime_(fleet, control.identity(), metrics,
               metrics ? metrics->clock() : SystemClockInstance()),
      cloudwatch_(metrics, blocking),
      logs_(control.identity(), blocking),
      blocking_(blocking),
      metrics_(metrics) {}

std::shared_ptr<BodySink> Api::BodySinkFor(const http::request_header<>& fields) const {
  if (s3_ == nullptr || fields.method() != http::verb::put) return nullptr;
  const Request header{fields};
  const std::string service = SignedService(header);
  if (service != "s3" && !service.empty()) return nullptr;
  const auth::Credential* credential = nullptr;
  if (gate_ != nullptr && gate_->Check(header, "-", &credential)) {
    return S3Api::Discard();  // Handle refuses it again, with its request id
  }
  return s3_->SinkFor(header, credential);
}

boost::asio::awaitable<Response> Api::Handle(Request& req, RequestContext& ctx) {
  // The console's files are public (the app signs its own API calls); nothing else is.
  if (console_ != nullptr && req.method() == http::verb::get &&
      IsConsoleTarget(std::string_view(req.target().data(), req.target().size()))) {
    co_return console_->Serve(req);
  }
  const auth::Credential* credential = nullptr;
  if (gate_ != nullptr) {
    if (std::optional<Response> refused =
            gate_->Check(req, ctx.request_id, &credential, ctx.remote)) {
      co_return std::move(*refused);
    }
  }
  if (s3_ != nullptr) {
    if (IsStsRequest(req)) co_return s3_->CallerIdentity(req, ctx, credential);
    if (SignedService(req) == "s3") co_return co_await s3_->Handle(req, ctx);
  }
  std::string_view target(req.target().data(), req.target().size());
  if (req.method() == http::verb::get && (target == "/ping" || target.rfind("/ping?", 0) == 0)) {
    Response res{ready_ ? http::status::ok : http::status::service_unavailable, req.version()};
    res.set("x-amzn-RequestId", ctx.request_id);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_return res;
  }

  if (req.method() == http::verb::post) {
    if (auto endpoint = InvocationEndpoint(target)) {
      co_return co_await runtime_.Invoke(req, ctx, std::move(*endpoint));
    }
  }
  if (req.method() == http::verb::get && target == "/metrics") {
    Response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    res.keep_alive(req.keep_alive());
    res.body() = fleet_.PrometheusText();
    if (metrics_ != nullptr) res.body() += metrics_->PrometheusText();
    res.prepare_payload();
    co_return res;
  }

  if (std::optional<CloudWatchCall> cw = MatchCloudWatch(req)) {
    co_return co_await cloudwatch_.Handle(req, ctx, *cw);
  }

  if (std::optional<std::string> logs_op = MatchLogs(req)) {
    co_return co_await logs_.Handle(req, ctx, *logs_op);
  }

  auto amz_target = req.find("X-Amz-Target");
  if (amz_target != req.end()) {
    std::string_view t(amz_target->value().data(), amz_target->value().size());
    if (t.rfind(kSageMakerPrefix, 0) == 0) {
      co_return co_await HandleSageMaker(req, ctx, std::string(t.substr(kSageMakerPrefix.size())));
    }
    co_return ErrorResponse(
        Status(Code::kUnknownOperation, "The target " + std::string(t) + " is not served here."),
        Protocol::kAwsJson11, req, ctx.request_id);
  }
  if (s3_ != nullptr && SignedService(req).empty()) co_return co_await s3_->Handle(req, ctx);
  co_return ErrorResponse(
      Status(Code::kUnknownOperation, "No operation matches " + std::string(req.method_string()) +
                                          " " + std::string(target) + "."),
      Protocol::kRestJson, req, ctx.request_id);
}

boost::asio::awaitable<Response> Api::HandleSageMaker(Request& req, RequestContext& ctx,
                                                      std::string op) {
  auto parsed = control::ParseBody(req.body());
  if (!parsed.ok())
    co_return ErrorResponse(parsed.status(), Protocol::kAwsJson11, req, ctx.request_id);
  Result<nlohmann::json> result = co_await RunBlocking(
      blocking_, [this, &op, &parsed]() { return control_.Handle(op, *parsed); });
  if (!result.ok()) {
    Logger("api")->debug("op={} request_id={} error={}", op, ctx.request_id,
                         result.status().ToString());
    co_return ErrorResponse(result.status(), Protocol::kAwsJson11, req, ctx.request_id);
  }
  co_return JsonResponse(req, ctx.request_id,
                         result->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                         "application/x-amz-json-1.1");
}

}  // namespace thaw::api
