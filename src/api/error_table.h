#pragma once
// The one table that turns a Status into an AWS error on the wire. Handlers never pick an HTTP
// status or an error name themselves: they return a Status and the protocol they speak.

#include <string>
#include <string_view>

#include "api/http_types.h"
#include "common/status.h"

namespace thaw::api {

enum class Protocol {
  kAwsJson11,  // SageMaker control plane
  kRestJson,   // SageMaker Runtime
};

struct WireError {
  std::string_view code;  // AWS error code, e.g. "ValidationException"
  unsigned http_status;
};

WireError MapError(Code code, Protocol protocol);

// A complete error response in the protocol's shape, carrying `request_id`.
Response ErrorResponse(const Status& status, Protocol protocol, const Request& request,
                       const std::string& request_id);

}  // namespace thaw::api
