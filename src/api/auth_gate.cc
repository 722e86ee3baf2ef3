#include "api/auth_gate.h"

#include <boost/asio/ip/address.hpp>

#include "api/cloudwatch_api.h"
#include "api/error_table.h"
#include "api/logs_api.h"
#include "api/runtime_api.h"
#include "api/s3_api.h"
#include "common/logging.h"

namespace thaw::api {
namespace {

std::string_view Sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

Code CodeOf(auth::Refusal refusal) {
  switch (refusal) {
    case auth::Refusal::kMissing:
      return Code::kUnauthenticated;
    case auth::Refusal::kIncomplete:
      return Code::kIncompleteSignature;
    case auth::Refusal::kUnknownKey:
      return Code::kUnknownKey;
    case auth::Refusal::kExpired:
      return Code::kSignatureExpired;
    case auth::Refusal::kNone:  // not a refusal; unreachable
    case auth::Refusal::kBadSignature:
    case auth::Refusal::kWrongScope:  // a bad signature for AWS
      break;
  }
  return Code::kBadSignature;
}

}  // namespace

std::optional<OpenEndpoints> ParseOpenEndpoints(std::string_view text) {
  if (text == "loopback") return OpenEndpoints::kLoopback;
  if (text == "any") return OpenEndpoints::kAny;
  if (text == "none") return OpenEndpoints::kNone;
  return std::nullopt;
}

bool IsLoopbackPeer(std::string_view remote) {
  std::string_view host = remote;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == host.npos) return false;
    host = host.substr(1, close - 1);
  } else if (size_t colon = host.rfind(':'); colon != host.npos) {
    host = host.substr(0, colon);
  }
  boost::system::error_code ec;
  boost::asio::ip::address address = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return false;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  return address.is_loopback();  // v4: 127.0.0.0/8; v6: ::1
}

bool OpenPathsAllowed(OpenEndpoints mode, std::string_view remote) {
  switch (mode) {
    case OpenEndpoints::kAny:
      return true;
    case OpenEndpoints::kNone:
      return false;
    case OpenEndpoints::kLoopback:
      break;
  }
  return IsLoopbackPeer(remote);
}

AuthGate::AuthGate(AuthGateOptions options, WallClock now)
    : options_(std::move(options)), now_(std::move(now)) {}

std::optional<Response> AuthGate::Check(const Request& req, const std::string& request_id,
                                        const auth::Credential** credential,
                                        std::string_view remote) const {
  std::string_view target = Sv(req.target());
  std::string_view path = target.substr(0, target.find('?'));
  bool open_path = false;
  if (req.method() == http::verb::get) {
    for (const std::string& open : options_.open_paths) open_path = open_path || path == open;
    if (open_path && OpenPathsAllowed(options_.open_endpoints, remote)) return std::nullopt;
  }
  // The API the request is for decides the scope's service and the refusal's shape; anything
  // else is routed later to an error of its own, so any correctly signed scope gets that far.
  Protocol protocol = Protocol::kAwsJson11;
  std::vector<std::string> services;
  const std::string signed_service = SignedService(req);
  if (open_path) {
    protocol = Protocol::kRestJson;  // like the runtime's; a signature of any service's scope
  } else if (signed_service == "s3") {
    protocol = Protocol::kS3;
    services = {"s3"};
  } else if (IsStsRequest(req)) {
    protocol = Protocol::kStsQuery;
    services = {"sts"};
  } else if (auto cloudwatch = MatchCloudWatch(req)) {
    protocol = cloudwatch->protocol;
    services = {"monitoring"};
  } else if (MatchLogs(req)) {
    protocol = Protocol::kLogs;
    services = {"logs"};
  } else if (req.method() == http::verb::post && InvocationEndpoint(target)) {
    protocol = Protocol::kRestJson;
    services = {"sagemaker"};
  } else if (auto t = req.find("X-Amz-Target");
             t != req.end() && Sv(t->value()).rfind("SageMaker.", 0) == 0) {
    services = {"sagemaker"};
  } else if (signed_service.empty()) {
    protocol = Protocol::kS3;  // unsigned and no other API's: refused as S3 refuses
  }
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
  verify.services = std::move(services);
  auth::Verdict verdict = auth::Verify(view, options_.keys, now_(), verify);
  if (verdict.ok()) {
    if (credential != nullptr) *credential = verdict.credential;
    return std::nullopt;
  }
  Logger("api")->info("request_id={} refused: {}", request_id,
                      verdict.message.substr(0, verdict.message.find('\n')));
  return ErrorResponse(Status(CodeOf(verdict.refusal), verdict.message), protocol, req, request_id);
}

}  // namespace thaw::api
