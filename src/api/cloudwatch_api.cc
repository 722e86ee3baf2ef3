#include "api/cloudwatch_api.h"

#include <boost/asio/use_awaitable.hpp>
#include <cctype>

#include "api/cloudwatch_codec.h"
#include "api/cloudwatch_ops.h"
#include "common/blocking.h"
#include "common/logging.h"

namespace thaw::api {
namespace {

constexpr std::string_view kTargetPrefix = "GraniteServiceVersion20100801.";
constexpr std::string_view kCborPrefix = "/service/GraniteServiceVersion20100801/operation/";

std::string_view HeaderValue(const Request& req, std::string_view name) {
  auto it = req.find(boost::beast::string_view(name.data(), name.size()));
  if (it == req.end()) return {};
  return {it->value().data(), it->value().size()};
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

Result<nlohmann::json> Decode(const Request& req, CloudWatchCall& call) {
  const std::string& body = req.body();
  switch (call.protocol) {
    case Protocol::kCloudWatchQuery: {
      std::string action;
      THAW_ASSIGN_OR_RETURN(nlohmann::json input, DecodeQueryForm(body, action));
      if (action.empty()) {
        return Status(Code::kMissingParameter, "The request must contain the parameter Action.");
      }
      call.op = std::move(action);
      return input;
    }
    case Protocol::kCloudWatchCbor:
      return DecodeCbor(body);
    default: {
      if (body.empty()) return nlohmann::json::object();
      auto parsed = nlohmann::json::parse(body, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        return Status(Code::kSerialization, "The request body is not a JSON object.");
      }
      return parsed;
    }
  }
}

}  // namespace

std::optional<CloudWatchCall> MatchCloudWatch(const Request& req) {
  if (req.method() != http::verb::post) return std::nullopt;
  std::string_view target(req.target().data(), req.target().size());
  std::string_view amz_target = HeaderValue(req, "X-Amz-Target");
  if (amz_target.rfind(kTargetPrefix, 0) == 0) {
    return CloudWatchCall{Protocol::kCloudWatchJson,
                          std::string(amz_target.substr(kTargetPrefix.size()))};
  }
  if (!amz_target.empty()) return std::nullopt;
  if (target.rfind(kCborPrefix, 0) == 0) {
    std::string_view op = target.substr(kCborPrefix.size());
    op = op.substr(0, op.find('?'));
    return CloudWatchCall{Protocol::kCloudWatchCbor, std::string(op)};
  }
  if ((target == "/" || target.rfind("/?", 0) == 0) &&
      StartsWithNoCase(HeaderValue(req, "Content-Type"), "application/x-www-form-urlencoded")) {
    return CloudWatchCall{Protocol::kCloudWatchQuery, ""};
  }
  return std::nullopt;
}

boost::asio::awaitable<Response> CloudWatchApi::Handle(Request& req, RequestContext& ctx,
                                                       CloudWatchCall& call) {
  auto input = Decode(req, call);
  if (!input.ok()) co_return ErrorResponse(input.status(), call.protocol, req, ctx.request_id);
  if (!metrics_) {
    co_return ErrorResponse(Status(Code::kUnavailable, "Metrics are not enabled on this server."),
                            call.protocol, req, ctx.request_id);
  }
  Result<nlohmann::json> result = co_await RunBlocking(blocking_, [this, &call, &input]() {
    return RunCloudWatchOp(call.op, *input, *metrics_, metrics_->clock().Now());
  });
  if (!result.ok()) {
    Logger("api")->debug("cloudwatch op={} request_id={} error={}", call.op, ctx.request_id,
                         result.status().ToString());
    co_return ErrorResponse(result.status(), call.protocol, req, ctx.request_id);
  }
  Response res{http::status::ok, req.version()};
  switch (call.protocol) {
    case Protocol::kCloudWatchQuery:
      res.set(http::field::content_type, "text/xml");
      res.body() = EncodeQueryXml(call.op, *result, ctx.request_id);
      break;
    case Protocol::kCloudWatchCbor:
      res.set(http::field::content_type, "application/cbor");
      res.set("smithy-protocol", "rpc-v2-cbor");
      res.body() = EncodeCbor(*result);
      break;
    default:
      res.set(http::field::content_type, "application/x-amz-json-1.0");
      res.body() = result->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  res.set("x-amzn-RequestId", ctx.request_id);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  co_return res;
}

}  // namespace thaw::api
