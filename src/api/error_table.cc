#include "api/error_table.h"

#include <array>
#include <nlohmann/json.hpp>

#include "api/cloudwatch_codec.h"
#include "common/xml.h"

namespace thaw::api {
namespace {

struct Row {
  Code code;
  WireError aws_json;    // control plane (awsJson1_1)
  WireError rest_json;   // runtime (rest-json): its validation code is "ValidationError"
  WireError cloudwatch;  // every CloudWatch protocol: the model's query code + shape
};

constexpr WireError kCwInvalid{"InvalidParameterValue", 400, "InvalidParameterValueException"};
constexpr WireError kCwInternal{"InternalServiceError", 500, "InternalServiceFault"};

// Never 429/500/503 for a client's own mistake: botocore retries those (sagemaker-api.md §7.2).
constexpr std::array kTable = {
    Row{Code::kInvalidArgument, {"ValidationException", 400}, {"ValidationError", 400}, kCwInvalid},
    Row{Code::kNotFound, {"ValidationException", 400}, {"ValidationError", 400}, kCwInvalid},
    Row{Code::kAlreadyExists, {"ValidationException", 400}, {"ValidationError", 400}, kCwInvalid},
    Row{Code::kFailedPrecondition,
        {"ValidationException", 400},
        {"ValidationError", 400},
        kCwInvalid},
    Row{Code::kResourceLimit,
        {"ResourceLimitExceeded", 400},
        {"ValidationError", 400},
        {"LimitExceeded", 400, "LimitExceededFault"}},
    Row{Code::kUnknownOperation,
        {"UnknownOperationException", 400},
        {"UnknownOperationException", 404},
        {"InvalidAction", 400}},
    Row{Code::kSerialization,
        {"SerializationException", 400},
        {"ValidationError", 400},
        kCwInvalid},
    Row{Code::kThrottled,
        {"ThrottlingException", 400},
        {"ThrottlingException", 400},
        {"Throttling", 400}},
    Row{Code::kModelError, {"ModelError", 424}, {"ModelError", 424}, kCwInternal},
    Row{Code::kUnavailable,
        {"ServiceUnavailable", 503},
        {"ServiceUnavailable", 503},
        {"ServiceUnavailable", 503}},
    Row{Code::kInternal, {"InternalFailure", 500}, {"InternalFailure", 500}, kCwInternal},
    Row{Code::kMissingParameter,
        {"ValidationException", 400},
        {"ValidationError", 400},
        {"MissingParameter", 400, "MissingRequiredParameterException"}},
    Row{Code::kInvalidCombination,
        {"ValidationException", 400},
        {"ValidationError", 400},
        {"InvalidParameterCombination", 400, "InvalidParameterCombinationException"}},
    Row{Code::kInvalidNextToken,
        {"ValidationException", 400},
        {"ValidationError", 400},
        {"InvalidNextToken", 400, "InvalidNextToken"}},
    // SigV4 refusals: SageMaker's JSON codes (the runtime's 403s), CloudWatch's query codes.
    Row{Code::kUnauthenticated,
        {"MissingAuthenticationTokenException", 403},
        {"MissingAuthenticationTokenException", 403},
        {"MissingAuthenticationToken", 403}},
    Row{Code::kIncompleteSignature,
        {"IncompleteSignatureException", 400},
        {"IncompleteSignatureException", 400},
        {"IncompleteSignature", 400}},
    Row{Code::kUnknownKey,
        {"UnrecognizedClientException", 400},
        {"UnrecognizedClientException", 403},
        {"InvalidClientTokenId", 403}},
    Row{Code::kBadSignature,
        {"InvalidSignatureException", 400},
        {"InvalidSignatureException", 403},
        {"SignatureDoesNotMatch", 403}},
    Row{Code::kSignatureExpired,
        {"InvalidSignatureException", 400},
        {"InvalidSignatureException", 403},
        {"RequestExpired", 400}},
};

// S3's own error codes (a Status from src/s3 carries one as its message prefix).
constexpr std::array<WireError, 25> kS3Codes = {{
    {"NoSuchBucket", 404},
    {"NoSuchKey", 404},
    {"NoSuchUpload", 404},
    {"BucketNotEmpty", 409},
    {"BucketAlreadyOwnedByYou", 409},
    {"BucketAlreadyExists", 409},
    {"InvalidBucketName", 400},
    {"InvalidArgument", 400},
    {"InvalidURI", 400},
    {"InvalidRequest", 400},
    {"KeyTooLongError", 400},
    {"BadDigest", 400},
    {"InvalidDigest", 400},
    {"XAmzContentSHA256Mismatch", 400},
    {"IncompleteBody", 400},
    {"MalformedXML", 400},
    {"InvalidPart", 400},
    {"InvalidPartOrder", 400},
    {"EntityTooSmall", 400},
    {"InvalidRange", 416},
    {"SignatureDoesNotMatch", 403},
    {"AccessDenied", 403},
    {"NotImplemented", 501},
    {"InternalError", 500},
    {"SlowDown", 503},
}};

// S3's answer to a Status without an S3 code of its own.
WireError S3Generic(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
    case Code::kSerialization:
    case Code::kMissingParameter:
    case Code::kInvalidCombination:
      return {"InvalidArgument", 400};
    case Code::kInvalidNextToken:
      return {"InvalidArgument", 400};
    case Code::kNotFound:
      return {"NoSuchKey", 404};
    case Code::kAlreadyExists:
      return {"BucketAlreadyOwnedByYou", 409};
    case Code::kFailedPrecondition:
    case Code::kResourceLimit:
      return {"InvalidRequest", 400};
    case Code::kUnknownOperation:
      return {"NotImplemented", 501};
    case Code::kThrottled:
      return {"SlowDown", 503};
    case Code::kUnavailable:
      return {"ServiceUnavailable", 503};
    case Code::kUnauthenticated:
      return {"AccessDenied", 403};
    case Code::kIncompleteSignature:
      return {"AuthorizationHeaderMalformed", 400};
    case Code::kUnknownKey:
      return {"InvalidAccessKeyId", 403};
    case Code::kBadSignature:
      return {"SignatureDoesNotMatch", 403};
    case Code::kSignatureExpired:
      return {"RequestTimeTooSkewed", 403};
    case Code::kOk:
    case Code::kModelError:
    case Code::kInternal:
      break;
  }
  return {"InternalError", 500};
}

Response S3ErrorResponse(const Status& status, const Request& request,
                         const std::string& request_id) {
  WireError wire = S3Generic(status.code());
  std::string_view message = status.message();
  if (size_t colon = message.find(": "); colon != message.npos) {
    for (const WireError& known : kS3Codes) {
      if (known.code == message.substr(0, colon)) {
        wire = known;
        message.remove_prefix(colon + 2);
        break;
      }
    }
  }
  if (status.code() == Code::kUnauthenticated) message = "Access Denied";
  Response res{static_cast<http::status>(wire.http_status), request.version()};
  if (request.method() != http::verb::head) {
    res.set(http::field::content_type, "application/xml");
    std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
    body += std::string(wire.code) + "</Code><Message>";
    AppendXmlEscaped(body, message.substr(0, message.find('\n')));
    body += "</Message><RequestId>" + request_id + "</RequestId></Error>";
    res.body() = std::move(body);
  }
  res.set("x-amz-request-id", request_id);
  res.set("x-amzn-RequestId", request_id);
  res.keep_alive(request.keep_alive());
  res.prepare_payload();
  return res;
}
// CloudWatch Logs has exceptions of its own (its model's InvalidParameterException,
// ResourceNotFoundException, ServiceUnavailableException); codes missing here are a
// ServiceUnavailableException.
struct LogsRow {
  Code code;
  WireError wire;
};
constexpr WireError kLogsInvalid{"InvalidParameterException", 400};
constexpr std::array kLogsTable = {
    LogsRow{Code::kInvalidArgument, kLogsInvalid},
    LogsRow{Code::kMissingParameter, kLogsInvalid},
    LogsRow{Code::kInvalidCombination, kLogsInvalid},
    LogsRow{Code::kInvalidNextToken, kLogsInvalid},
    LogsRow{Code::kFailedPrecondition, kLogsInvalid},
    LogsRow{Code::kNotFound, {"ResourceNotFoundException", 400}},
    LogsRow{Code::kAlreadyExists, {"ResourceAlreadyExistsException", 400}},
    LogsRow{Code::kResourceLimit, {"LimitExceededException", 400}},
    LogsRow{Code::kSerialization, {"SerializationException", 400}},
    LogsRow{Code::kUnknownOperation, {"UnknownOperationException", 400}},
    LogsRow{Code::kThrottled, {"ThrottlingException", 400}},
    LogsRow{Code::kUnavailable, {"ServiceUnavailableException", 503}},
    LogsRow{Code::kUnauthenticated, {"MissingAuthenticationTokenException", 403}},
    LogsRow{Code::kIncompleteSignature, {"IncompleteSignatureException", 400}},
    LogsRow{Code::kUnknownKey, {"UnrecognizedClientException", 400}},
    LogsRow{Code::kBadSignature, {"InvalidSignatureException", 400}},
    LogsRow{Code::kSignatureExpired, {"InvalidSignatureException", 400}},
};

bool IsCloudWatch(Protocol p) {
  return p == Protocol::kCloudWatchQuery || p == Protocol::kCloudWatchJson ||
         p == Protocol::kCloudWatchCbor || p == Protocol::kStsQuery;
}

Response CloudWatchError(const Status& status, Protocol protocol, WireError wire,
                         const Request& request, const std::string& request_id) {
  Response res{static_cast<http::status>(wire.http_status), request.version()};
  std::string_view fault = wire.http_status >= 500 ? "Receiver" : "Sender";
  if (protocol == Protocol::kCloudWatchQuery || protocol == Protocol::kStsQuery) {
    res.set(http::field::content_type, "text/xml");
    res.body() = EncodeQueryErrorXml(fault, wire.code, status.message(), request_id);
  } else {
    // The awsQueryCompatible trait: clients map the error back to the query code by this header.
    res.set("x-amzn-query-error", std::string(wire.code) + ";" + std::string(fault));
    nlohmann::json body = {{"__type", "com.amazonaws.cloudwatch#" +
                                          std::string(wire.shape.empty() ? wire.code : wire.shape)},
                           {"message", status.message()}};
    if (protocol == Protocol::kCloudWatchJson) {
      res.set(http::field::content_type, "application/x-amz-json-1.0");
      res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      res.set(http::field::content_type, "application/cbor");
      res.set("smithy-protocol", "rpc-v2-cbor");
      res.body() = EncodeCbor(body);
    }
  }
  res.set("x-amzn-RequestId", request_id);
  res.keep_alive(request.keep_alive());
  res.prepare_payload();
  return res;
}

}  // namespace

WireError MapError(Code code, Protocol protocol) {
  if (protocol == Protocol::kS3) return S3Generic(code);
  if (protocol == Protocol::kLogs) {
    for (const LogsRow& row : kLogsTable) {
      if (row.code == code) return row.wire;
    }
    return {"ServiceUnavailableException", 500};
  }
  for (const Row& row : kTable) {
    if (row.code != code) continue;
    if (IsCloudWatch(protocol)) return row.cloudwatch;
    return protocol == Protocol::kAwsJson11 ? row.aws_json : row.rest_json;
  }
  return IsCloudWatch(protocol) ? kCwInternal : WireError{"InternalFailure", 500};
}

Response ErrorResponse(const Status& status, Protocol protocol, const Request& request,
                       const std::string& request_id) {
  if (protocol == Protocol::kS3) return S3ErrorResponse(status, request, request_id);
  WireError wire = MapError(status.code(), protocol);
  if (IsCloudWatch(protocol)) return CloudWatchError(status, protocol, wire, request, request_id);
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
  res.set(http::field::content_type, protocol == Protocol::kAwsJson11 || protocol == Protocol::kLogs
                                         ? "application/x-amz-json-1.1"
                                         : "application/json");
  res.set("x-amzn-ErrorType", std::string(wire.code));
  res.set("x-amzn-RequestId", request_id);
  res.keep_alive(request.keep_alive());
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

}  // namespace thaw::api
