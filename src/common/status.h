#pragma once
// The one error type of thaw. Every fallible operation returns Status or Result<T>; nothing is
// thrown across module boundaries. Codes are semantic; src/api/error_table.cc alone maps them to
// AWS error names and HTTP statuses for each wire protocol.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace thaw {

enum class Code {
  kOk,
  kInvalidArgument,     // bad input value (ValidationException)
  kNotFound,            // a named resource does not exist (ValidationException in SageMaker)
  kAlreadyExists,       // create of an existing resource (ValidationException)
  kFailedPrecondition,  // wrong state for the operation (ValidationException)
  kResourceLimit,       // quota exceeded (ResourceLimitExceeded)
  kUnknownOperation,    // unknown X-Amz-Target (UnknownOperationException)
  kSerialization,       // body is not JSON or has wrong types (SerializationException)
  kThrottled,           // concurrency limit (ThrottlingException)
  kModelError,          // the model failed or answered 4xx/5xx (ModelError, 424)
  kUnavailable,         // temporarily cannot serve (ServiceUnavailable)
  kInternal,            // a bug or an environment failure (InternalFailure)
  // CloudWatch's own distinctions (ValidationException in SageMaker's protocols):
  kMissingParameter,    // a required member is absent (MissingParameter)
  kInvalidCombination,  // members that cannot go together (InvalidParameterCombination)
  kInvalidNextToken,    // a pagination token this server did not issue (InvalidNextToken)
  // SigV4 refusals (sagemaker-api.md §5.5):
  kUnauthenticated,      // no signature at all (MissingAuthenticationToken)
  kIncompleteSignature,  // a malformed Authorization header or X-Amz-Date (IncompleteSignature)
  kUnknownKey,           // an access key (or session token) thaw does not have
  kBadSignature,         // the signature does not match, or its scope names the wrong service
  kSignatureExpired,     // X-Amz-Date outside the allowed skew
};

const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

// A value or the Status that explains its absence.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace thaw

// Early-return helpers. THAW_TRY(expr) returns the Status of a failed Status or Result.
#define THAW_CONCAT_INNER(a, b) a##b
#define THAW_CONCAT(a, b) THAW_CONCAT_INNER(a, b)
#define THAW_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::thaw::Status thaw_status_ = (expr);        \
    if (!thaw_status_.ok()) return thaw_status_; \
  } while (0)
#define THAW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
#define THAW_ASSIGN_OR_RETURN(lhs, expr) \
  THAW_ASSIGN_OR_RETURN_IMPL(THAW_CONCAT(thaw_result_, __LINE__), lhs, expr)
