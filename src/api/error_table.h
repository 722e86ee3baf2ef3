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
  // CloudWatch, in the protocol the request came in (modern-clients.md §3, §4.3):
  kCloudWatchQuery,  // awsQuery: XML <ErrorResponse>
  kCloudWatchJson,   // awsJson1_0: {"__type": "com.amazonaws.cloudwatch#<Shape>"} +
                     // x-amzn-query-error
  kCloudWatchCbor,   // rpc-v2-cbor: the same map in CBOR + x-amzn-query-error
  // S3 (rest-xml): <Error><Code>…</Code><Message>…</Message><RequestId>…</RequestId></Error>, no
  // body for HEAD. A Status from src/s3 names its S3 code as the message's "Code: " prefix
  // (s3::S3Error); other Statuses map by their Code.
  kS3,
  kStsQuery,  // STS (awsQuery): <ErrorResponse> as CloudWatch's query protocol, same codes
  kLogs,      // CloudWatch Logs (awsJson1_1): {"__type": "<Code>", "message"}
};

struct WireError {
  std::string_view code;  // AWS error code, e.g. "ValidationException"
  unsigned http_status;
  std::string_view shape = {};  // CloudWatch: the model's exception shape ("" = code)
};

WireError MapError(Code code, Protocol protocol);

// A complete error response in the protocol's shape, carrying `request_id`.
Response ErrorResponse(const Status& status, Protocol protocol, const Request& request,
                       const std::string& request_id);

}  // namespace thaw::api
