#include "api/auth_gate.h"

#include <array>
#include <nlohmann/json.hpp>

#include "common/logging.h"

namespace thaw::api {
namespace {

using auth::Refusal;

struct WireRefusal {
  const char* code;
  unsigned status;
};

// §5.5, one row per refusal: JSON services (control plane, runtime), then CloudWatch's query
// codes (awsQuery and awsJson1_0 share them). A scope naming the wrong service is a bad signature
// for AWS.
struct RefusalRow {
  Refusal refusal;
  WireRefusal control;
  WireRefusal runtime;
  WireRefusal query;
};
constexpr std::array kRefusals = {
    RefusalRow{Refusal::kMissing,
               {"MissingAuthenticationTokenException", 403},
               {"MissingAuthenticationTokenException", 403},
               {"MissingAuthenticationToken", 403}},
    RefusalRow{Refusal::kIncomplete,
               {"IncompleteSignatureException", 400},
               {"IncompleteSignatureException", 400},
               {"IncompleteSignature", 400}},
    RefusalRow{Refusal::kUnknownKey,
               {"UnrecognizedClientException", 400},
               {"UnrecognizedClientException", 403},
               {"InvalidClientTokenId", 403}},
    RefusalRow{Refusal::kBadSignature,
               {"InvalidSignatureException", 400},
               {"InvalidSignatureException", 403},
               {"SignatureDoesNotMatch", 403}},
    RefusalRow{Refusal::kWrongScope,
               {"InvalidSignatureException", 400},
               {"InvalidSignatureException", 403},
               {"SignatureDoesNotMatch", 403}},
    RefusalRow{Refusal::kExpired,
               {"InvalidSignatureException", 400},
               {"InvalidSignatureException", 403},
               {"RequestExpired", 400}},
};

std::string_view Sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

Response Refuse(const Request& req, const std::string& request_id, AuthSurface surface,
                const auth::Verdict& verdict) {
  const RefusalRow* row = &kRefusals[0];
  for (const RefusalRow& r : kRefusals) {
    if (r.refusal == verdict.refusal) row = &r;
  }
  WireRefusal wire =
      surface == AuthSurface::kRuntime ? row->runtime
      : surface == AuthSurface::kCloudWatchQuery || surface == AuthSurface::kCloudWatchJson
          ? row->query
          : row->control;
  Response res{static_cast<http::status>(wire.status), req.version()};
  res.set("x-amzn-RequestId", request_id);
  res.keep_alive(req.keep_alive());
  if (surface == AuthSurface::kCloudWatchQuery) {
    res.set(http::field::content_type, "text/xml");
    res.body() =
        "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">\n"
        "  <Error>\n    <Type>Sender</Type>\n    <Code>" +
        std::string(wire.code) + "</Code>\n    <Message>" + XmlEscape(verdict.message) +
        "</Message>\n  </Error>\n  <RequestId>" + request_id + "</RequestId>\n</ErrorResponse>\n";
  } else {
    nlohmann::json body = {{"__type", wire.code}, {"message", verdict.message}};
    if (surface == AuthSurface::kCloudWatchJson) {
      res.set(http::field::content_type, "application/x-amz-json-1.0");
      res.set("x-amzn-query-error", std::string(wire.code) + ";Sender");
    } else {
      body["Message"] = verdict.message;
      res.set(http::field::content_type,
              surface == AuthSurface::kRuntime ? "application/json" : "application/x-amz-json-1.1");
      res.set("x-amzn-ErrorType", wire.code);
    }
    res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  res.prepare_payload();
  return res;
}

}  // namespace

AuthSurface SurfaceOf(const Request& req) {
  std::string_view target = Sv(req.target());
  if (target.rfind("/endpoints/", 0) == 0) return AuthSurface::kRuntime;
  if (auto t = req.find("X-Amz-Target"); t != req.end()) {
    std::string_view v = Sv(t->value());
    if (v.rfind("SageMaker.", 0) == 0) return AuthSurface::kControlPlane;
    if (v.rfind("GraniteServiceVersion20100801.", 0) == 0) return AuthSurface::kCloudWatchJson;
    return AuthSurface::kOther;
  }
  if (target.rfind("/service/GraniteServiceVersion20100801/", 0) == 0) {
    return AuthSurface::kCloudWatchJson;  // rpc-v2-cbor: refused in JSON, which clients parse
  }
  if (auto ct = req.find(http::field::content_type);
      ct != req.end() && Sv(ct->value()).rfind("application/x-www-form-urlencoded", 0) == 0) {
    return AuthSurface::kCloudWatchQuery;
  }
  return AuthSurface::kOther;
}

AuthGate::AuthGate(AuthGateOptions options, WallClock now)
    : options_(std::move(options)), now_(std::move(now)) {}

std::optional<Response> AuthGate::Check(const Request& req, const std::string& request_id) const {
  std::string_view target = Sv(req.target());
  std::string_view path = target.substr(0, target.find('?'));
  if (req.method() == http::verb::get) {
    for (const std::string& open : options_.open_paths) {
      if (path == open) return std::nullopt;
    }
  }
  AuthSurface surface = SurfaceOf(req);
  auth::RequestView view{Sv(req.method_string()), target, {}, req.body()};
  std::vector<std::string> names;  // lower-cased header names, kept alive for the view
  names.reserve(std::distance(req.begin(), req.end()));
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    names.push_back(std::move(name));
  }
  size_t i = 0;
  for (const auto& field : req) view.headers.emplace_back(names[i++], Sv(field.value()));

  auth::VerifyOptions verify;
  verify.max_skew = options_.max_skew;
  switch (surface) {
    case AuthSurface::kControlPlane:
    case AuthSurface::kRuntime:
      verify.services = {"sagemaker"};
      break;
    case AuthSurface::kCloudWatchQuery:
    case AuthSurface::kCloudWatchJson:
      verify.services = {"monitoring"};
      break;
    case AuthSurface::kOther:
      break;  // routed later to an error of its own; any correctly signed scope gets that far
  }
  auth::Verdict verdict = auth::Verify(view, options_.keys, now_(), verify);
  if (verdict.ok()) return std::nullopt;
  Logger("api")->info("request_id={} refused: {}", request_id,
                      verdict.message.substr(0, verdict.message.find('\n')));
  return Refuse(req, request_id, surface, verdict);
}

}  // namespace thaw::api
