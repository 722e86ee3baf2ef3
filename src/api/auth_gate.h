#pragma once
// SigV4 at the door (sagemaker-api.md §5): every request but the open paths (/ping, /metrics by
// default) must be signed with a key from <data-dir>/credentials, scoped to the service of the
// API it calls — `sagemaker` for the control plane and the runtime, `monitoring` for CloudWatch.
// A refusal is answered in the shape of the request's protocol (§5.5): JSON with __type for the
// control plane, rest-json with x-amzn-ErrorType for the runtime, XML ErrorResponse for
// CloudWatch's awsQuery, JSON with x-amzn-query-error for its awsJson1_0.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/http_types.h"
#include "auth/sigv4.h"

namespace thaw::api {

// Which API (and wire protocol) a request is for, as far as auth is concerned.
enum class AuthSurface { kControlPlane, kRuntime, kCloudWatchQuery, kCloudWatchJson, kOther };
AuthSurface SurfaceOf(const Request& request);

struct AuthGateOptions {
  std::vector<auth::Credential> keys;
  std::vector<std::string> open_paths = {"/ping", "/metrics"};  // GET only
  std::chrono::seconds max_skew{300};
};

class AuthGate {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;
  AuthGate(AuthGateOptions options, WallClock now);

  // nullopt lets the request through; otherwise the refusal to send back.
  std::optional<Response> Check(const Request& request, const std::string& request_id) const;

 private:
  AuthGateOptions options_;
  WallClock now_;
};

}  // namespace thaw::api
