#pragma once
// The two SageMaker protocols as the `thaw` commands need them: control-plane calls
// (awsJson1_1: POST / with X-Amz-Target) and InvokeEndpoint (rest-json: POST
// /endpoints/{name}/invocations). Errors keep the AWS error name the server sent, because that
// name is what a user searches for and what the commands branch on ("Could not find endpoint").

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "cli/http_client.h"

namespace thaw::cli {

// A failed call. `http_status` 0 means the server never answered (then `code` is empty and
// `message` says why: connection refused, timeout, …).
struct ApiError {
  int http_status = 0;
  std::string code;     // "ValidationException", "ModelError", "ThrottlingException", …
  std::string message;  // may be empty (ThrottlingException sends null)
};

// "error: <code>: <message>" — or "error: <code>" / "error: <message>" when one part is empty.
std::string FormatError(const ApiError& error);

// Reads an error answer of either protocol (sagemaker-api.md §1.1, §1.2): the code from the
// x-amzn-ErrorType header (text after ':' dropped), else the body's `__type` (text up to '#'
// dropped), `code` or `Code`, else "HTTP <status>"; the message from `message` or `Message`, or
// the start of a non-JSON body.
ApiError ParseApiError(int http_status, std::string_view error_type_header, std::string_view body);

// A value or the ApiError explaining its absence (the CLI's edge counterpart of thaw::Result).
template <typename T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  const ApiError& error() const { return std::get<ApiError>(v_); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }

 private:
  std::variant<T, ApiError> v_;
};

struct InvokeResponse {
  int http_status = 200;
  std::string content_type;
  std::string body;
};

class SageMakerClient {
 public:
  // `target_prefix`: the awsJson1_1 service of Call ("Logs_20140328." for CloudWatch Logs).
  explicit SageMakerClient(HttpClient& http, std::string target_prefix = "SageMaker.")
      : http_(http), target_prefix_(std::move(target_prefix)) {}

  // One control-plane operation, e.g. Call("DescribeEndpoint", {{"EndpointName", "ep"}}).
  // A 2xx answer yields its JSON body ({} when empty).
  ApiResult<nlohmann::json> Call(std::string_view operation, const nlohmann::json& input);

  // InvokeEndpoint. An empty `content_type` or `accept` sends no such header (as boto3 does).
  ApiResult<InvokeResponse> Invoke(std::string_view endpoint_name, std::string body,
                                   std::string_view content_type, std::string_view accept);

 private:
  HttpClient& http_;
  std::string target_prefix_;
};

// "/endpoints/<name>/invocations" with the name percent-encoded where it is not [A-Za-z0-9-._~].
std::string InvocationTarget(std::string_view endpoint_name);

}  // namespace thaw::cli
