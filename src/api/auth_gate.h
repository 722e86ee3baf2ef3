#pragma once
// SigV4 at the door (sagemaker-api.md §5): every request but the open paths (/ping, /metrics by
// default) must be signed with a key from <data-dir>/credentials, scoped to the service of the
// API it calls — `sagemaker` for the control plane and the runtime, `monitoring` for CloudWatch,
// `sts` for STS, `s3` for S3 (any request no other API claims, signed or not).
// A refusal is a Status (kUnauthenticated, kBadSignature, …) answered through the error table in
// the shape of the request's protocol (§5.5).

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"
#include "auth/sigv4.h"

namespace thaw::api {

// Who may GET the open paths (/ping, /metrics) without a signature (--open-endpoints):
//   kLoopback  clients on 127.0.0.0/8 or ::1 (also ::ffff:127.x.x.x); the default
//   kAny       every client (thaw before this option)
//   kNone      nobody
// A client the mode does not open them to must sign the request like any other API call
// (SigV4, any of thaw's services' scopes), and is refused in the S3 shape otherwise.
enum class OpenEndpoints { kLoopback, kAny, kNone };
std::optional<OpenEndpoints> ParseOpenEndpoints(std::string_view text);
// Whether a peer ("ip:port", "[ip6]:port" as RequestContext::remote has it) is on loopback.
// Anything unparsable is not.
bool IsLoopbackPeer(std::string_view remote);
// The open paths' decision for one peer.
bool OpenPathsAllowed(OpenEndpoints mode, std::string_view remote);

struct AuthGateOptions {
  std::vector<auth::Credential> keys;
  std::vector<std::string> open_paths = {"/ping", "/metrics"};  // GET only
  std::chrono::seconds max_skew{300};
  OpenEndpoints open_endpoints = OpenEndpoints::kLoopback;
};

class AuthGate {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;
  AuthGate(AuthGateOptions options, WallClock now);

  // nullopt lets the request through; otherwise the refusal to send back. `credential` (may be
  // null) receives the key that signed an accepted request. `remote` is the peer's address
  // (RequestContext::remote; empty: unknown, not loopback).
  std::optional<Response> Check(const Request& request, const std::string& request_id,
                                const auth::Credential** credential = nullptr,
                                std::string_view remote = {}) const;

 private:
  AuthGateOptions options_;
  WallClock now_;
};

}  // namespace thaw::api
