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
#include <vector>

#include "api/http_types.h"
#include "auth/sigv4.h"

namespace thaw::api {

struct AuthGateOptions {
  std::vector<auth::Credential> keys;
  std::vector<std::string> open_paths = {"/ping", "/metrics"};  // GET only
  std::chrono::seconds max_skew{300};
};

class AuthGate {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;
  AuthGate(AuthGateOptions options, WallClock now);

  // nullopt lets the request through; otherwise the refusal to send back. `credential` (may be
  // null) receives the key that signed an accepted request.
  std::optional<Response> Check(const Request& request, const std::string& request_id,
                                const auth::Credential** credential = nullptr) const;

 private:
  AuthGateOptions options_;
  WallClock now_;
};

}  // namespace thaw::api
