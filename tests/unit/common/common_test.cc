#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

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

// RFC 4231 section 4: the HMAC-SHA-256 rows of its seven test cases.
TEST(Hash, HmacSha256MatchesRfc4231) {
  struct Case {
    std::string key, data, mac_hex;
  };
  std::string key4;
  for (char c = 1; c <= 25; ++c) key4.push_back(c);
  const std::string big_key(131, '\xaa');
  const std::vector<Case> cases = {
      {std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {key4, std::string(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      // Test case 5 gives only the MAC's first 128 bits; compared as a prefix below.
      {std::string(20, '\x0c'), "Test With Truncation", "a3b6167473100ee06e0c796c2955552b"},
      {big_key, "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {big_key,
       "This is a test using a larger than block-size key and a larger than block-size data. The "
       "key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("RFC 4231 test case " + std::to_string(i + 1));
    const std::string mac = HmacSha256(cases[i].key, cases[i].data);
    ASSERT_EQ(mac.size(), 32u);  // raw bytes, not hex
    EXPECT_EQ(HexEncode(mac).substr(0, cases[i].mac_hex.size()), cases[i].mac_hex);
  }
}

TEST(Hash, HmacSha256TakesAnEmptyKeyWithoutAPointer) {
  // A default string_view has a null data(): it must still mean the empty key
  // (python3: hmac.new(b"", b"", hashlib.sha256).hexdigest()).
  EXPECT_EQ(HexEncode(HmacSha256(std::string_view{}, std::string_view{})),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(Hash, HexEncodeIsLowerCaseHighNibbleFirst) {
  EXPECT_EQ(HexEncode(""), "");
  const std::string bytes("\x00\x01\x0f\x10\x7f\x80\xab\xff", 8);
  const std::string hex = HexEncode(bytes);
  EXPECT_EQ(hex, "00010f107f80abff");
  std::string back;
  for (size_t i = 0; i < hex.size(); i += 2) {
    back.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  EXPECT_EQ(back, bytes);
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
