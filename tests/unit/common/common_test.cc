#include <gtest/gtest.h>

#include <set>

#include "common/arn.h"
#include "common/hash.h"
#include "common/ids.h"
#include "common/status.h"
#include "common/time_format.h"

namespace thaw {
namespace {

TEST(Status, OkAndError) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = NotFound("nope");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: nope");
}

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  THAW_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(Result, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_EQ(Quarter(6).status().code(), Code::kInvalidArgument);
}

TEST(Arn, LowerCasesTheName) {
  Identity id{"eu-west-1", "111122223333"};
  EXPECT_EQ(SageMakerArn(id, "endpoint", "DEMO-ep"),
            "arn:aws:sagemaker:eu-west-1:111122223333:endpoint/demo-ep");
}

TEST(Ids, UuidShapeAndUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string u = NewUuid();
    ASSERT_EQ(u.size(), 36u);
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(seen.insert(u).second);
  }
  EXPECT_EQ(RandomHex(4).size(), 8u);
}

TEST(Hash, Sha256AndBase64) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  for (std::string s : {"", "a", "ab", "abc", "hello world"}) {
    EXPECT_EQ(*Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_FALSE(Base64Decode("abc").has_value());
  EXPECT_FALSE(Base64Decode("!!!!").has_value());
}

TEST(Iso8601, RoundTripAndRejects) {
  auto t = ParseIso8601("2023-01-01T00:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(ToEpochSeconds(*t), 1672531200.0);
  EXPECT_EQ(FormatIso8601(*t), "2023-01-01T00:00:00Z");
  auto frac = ParseIso8601("2023-01-01T00:00:00.250Z");
  ASSERT_TRUE(frac);
  EXPECT_EQ(ToEpochMicros(*frac), 1672531200250000);
  EXPECT_EQ(FormatIso8601(*frac, true), "2023-01-01T00:00:00.250Z");
  for (const char* bad : {"", "2023-01-01", "2023-13-01T00:00:00Z", "2023-01-01T25:00:00Z",
                          "2023-01-01T00:00:00", "2023-01-01T00:00:00.Z", "xxxx-01-01T00:00:00Z"}) {
    EXPECT_FALSE(ParseIso8601(bad)) << bad;
  }
}

}  // namespace
}  // namespace thaw
