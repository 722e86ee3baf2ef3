#include "api/error_table.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace thaw::api {
namespace {

TEST(ErrorTable, ControlPlaneCodes) {
  EXPECT_EQ(MapError(Code::kNotFound, Protocol::kAwsJson11).code, "ValidationException");
  EXPECT_EQ(MapError(Code::kAlreadyExists, Protocol::kAwsJson11).http_status, 400u);
  EXPECT_EQ(MapError(Code::kResourceLimit, Protocol::kAwsJson11).code, "ResourceLimitExceeded");
  EXPECT_EQ(MapError(Code::kSerialization, Protocol::kAwsJson11).code, "SerializationException");
  EXPECT_EQ(MapError(Code::kUnknownOperation, Protocol::kAwsJson11).code,
            "UnknownOperationException");
  EXPECT_EQ(MapError(Code::kInternal, Protocol::kAwsJson11).http_status, 500u);
}

TEST(ErrorTable, RuntimeSpeaksValidationError) {
  EXPECT_EQ(MapError(Code::kNotFound, Protocol::kRestJson).code, "ValidationError");
  // Throttling is 400, never 429: botocore would re-run the request.
  EXPECT_EQ(MapError(Code::kThrottled, Protocol::kRestJson).http_status, 400u);
}

TEST(ErrorTable, EveryCodeHasARow) {
  for (Code c : {Code::kInvalidArgument, Code::kNotFound, Code::kAlreadyExists,
                 Code::kFailedPrecondition, Code::kResourceLimit, Code::kUnknownOperation,
                 Code::kSerialization, Code::kThrottled, Code::kModelError, Code::kUnavailable}) {
    EXPECT_NE(MapError(c, Protocol::kAwsJson11).code, "InternalFailure") << CodeName(c);
  }
}

TEST(ErrorTable, ThrottlingCarriesANullMessageLikeAws) {
  Request req{http::verb::post, "/endpoints/e/invocations", 11};
  Response res = ErrorResponse(Status(Code::kThrottled, ""), Protocol::kRestJson, req, "r");
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_EQ(res["x-amzn-ErrorType"], "ThrottlingException");
  EXPECT_TRUE(nlohmann::json::parse(res.body())["message"].is_null());
}

TEST(ErrorTable, ResponseShape) {
  Request req{http::verb::post, "/", 11};
  Response res =
      ErrorResponse(NotFound("Could not find model \"x\"."), Protocol::kAwsJson11, req, "rid-1");
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_EQ(res["x-amzn-RequestId"], "rid-1");
  EXPECT_EQ(res[http::field::content_type], "application/x-amz-json-1.1");
  auto body = nlohmann::json::parse(res.body());
  EXPECT_EQ(body["__type"], "ValidationException");
  EXPECT_EQ(body["message"], "Could not find model \"x\".");
  EXPECT_EQ(body["Message"], "Could not find model \"x\".");
}

TEST(ErrorTable, InvalidUtf8InAMessageIsReplacedNotThrown) {
  Request req{http::verb::post, "/", 11};
  Response res = ErrorResponse(InvalidArgument("bad \xff byte"), Protocol::kRestJson, req, "r");
  EXPECT_TRUE(nlohmann::json::accept(res.body()));
}

}  // namespace
}  // namespace thaw::api
