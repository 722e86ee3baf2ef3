#include "common/status.h"

namespace thaw {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case Code::kNotFound:
      return "NOT_FOUND";
    case Code::kAlreadyExists:
      return "ALREADY_EXISTS";
    case Code::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case Code::kResourceLimit:
      return "RESOURCE_LIMIT";
    case Code::kUnknownOperation:
      return "UNKNOWN_OPERATION";
    case Code::kSerialization:
      return "SERIALIZATION";
    case Code::kThrottled:
      return "THROTTLED";
    case Code::kModelError:
      return "MODEL_ERROR";
    case Code::kUnavailable:
      return "UNAVAILABLE";
    case Code::kInternal:
      return "INTERNAL";
    case Code::kMissingParameter:
      return "MISSING_PARAMETER";
    case Code::kInvalidCombination:
      return "INVALID_COMBINATION";
    case Code::kInvalidNextToken:
      return "INVALID_NEXT_TOKEN";
    case Code::kUnauthenticated:
      return "UNAUTHENTICATED";
    case Code::kIncompleteSignature:
      return "INCOMPLETE_SIGNATURE";
    case Code::kUnknownKey:
      return "UNKNOWN_KEY";
    case Code::kBadSignature:
      return "BAD_SIGNATURE";
    case Code::kSignatureExpired:
      return "SIGNATURE_EXPIRED";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace thaw
