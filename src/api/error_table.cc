#include "api/error_table.h"

#include <array>
#include <nlohmann/json.hpp>

namespace thaw::api {
namespace {

struct Row {
  Code code;
  WireError aws_json;   // control plane (awsJson1_1)
  WireError rest_json;  // runtime (rest-json): its validation code is "ValidationError"
};

// Never 429/500/503 for a client's own mistake: botocore retries those (sagemaker-api.md §7.2).
constexpr std::array kTable = {
    Row{Code::kInvalidArgument, {"ValidationException", 400}, {"ValidationError", 400}},
    Row{Code::kNotFound, {"ValidationException", 400}, {"ValidationError", 400}},
    Row{Code::kAlreadyExists, {"ValidationException", 400}, {"ValidationError", 400}},
    Row{Code::kFailedPrecondition, {"ValidationException", 400}, {"ValidationError", 400}},
    Row{Code::kResourceLimit, {"ResourceLimitExceeded", 400}, {"ValidationError", 400}},
    Row{Code::kUnknownOperation,
        {"UnknownOperationException", 400},
        {"UnknownOperationException", 404}},
    Row{Code::kSerialization, {"SerializationException", 400}, {"ValidationError", 400}},
    Row{Code::kThrottled, {"ThrottlingException", 400}, {"ThrottlingException", 400}},
    Row{Code::kModelError, {"ModelError", 424}, {"ModelError", 424}},
    Row{Code::kUnavailable, {"ServiceUnavailable", 503}, {"ServiceUnavailable", 503}},
    Row{Code::kInternal, {"InternalFailure", 500}, {"InternalFailure", 500}},
};

}  // namespace

WireError MapError(Code code, Protocol protocol) {
  for (const Row& row : kTable) {
    if (row.code == code) return protocol == Protocol::kAwsJson11 ? row.aws_json : row.rest_json;
  }
  return {"InternalFailure", 500};
}

Response ErrorResponse(const Status& status, Protocol protocol, const Request& request,
                       const std::string& request_id) {
  WireError wire = MapError(status.code(), protocol);
  Response res{static_cast<http::status>(wire.http_status), request.version()};
  nlohmann::json body = {{"__type", wire.code}};
  // botocore reads `message` then `Message`; modeled SageMaker errors need `Message`, JS v3 reads
  // either. Both keys keep every client happy.
  if (status.code() == Code::kThrottled && status.message().empty()) {
    body["message"] = nullptr;  // what AWS sends; clients print "None"
  } else {
    body["message"] = status.message();
    body["Message"] = status.message();
  }
  res.set(http::field::content_type,
          protocol == Protocol::kAwsJson11 ? "application/x-amz-json-1.1" : "application/json");
  res.set("x-amzn-ErrorType", std::string(wire.code));
  res.set("x-amzn-RequestId", request_id);
  res.keep_alive(request.keep_alive());
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

}  // namespace thaw::api
