#include "logs/log_format.h"

#include <gtest/gtest.h>

namespace thaw::logs {
namespace {

TEST(LogFormat, LinesRoundTripWithEscapes) {
  std::string line = EncodeLine(1700000000123, "two\nlines \\ and\r");
  EXPECT_EQ(line, "1700000000123\ttwo\\nlines \\\\ and\\r\n");
  int64_t ts = 0;
  std::string message;
  ASSERT_TRUE(DecodeLine(line, &ts, &message));
  EXPECT_EQ(ts, 1700000000123);
  EXPECT_EQ(message, "two\nlines \\ and\r");
  EXPECT_FALSE(DecodeLine("garbage", &ts, &message));
  EXPECT_FALSE(DecodeLine("12x\tm", &ts, &message));
}

TEST(LogFormat, GroupsAreEndpointsOnly) {
  EXPECT_EQ(GroupOf("my-ep"), "/aws/sagemaker/Endpoints/my-ep");
  EXPECT_EQ(EndpointOfGroup("/aws/sagemaker/Endpoints/my-ep"), "my-ep");
  EXPECT_FALSE(EndpointOfGroup("/aws/sagemaker/Endpoints/"));
  EXPECT_FALSE(EndpointOfGroup("/aws/sagemaker/Endpoints/../x"));
  EXPECT_FALSE(EndpointOfGroup("/aws/lambda/f"));
}

TEST(LogFormat, StreamDirNamesRoundTrip) {
  for (std::string s : {"AllTraffic/ep.1.abc", "..", "%2F", "a/b/c"}) {
    std::string dir = StreamDirName(s);
    EXPECT_EQ(dir.find('/'), std::string::npos) << s;
    EXPECT_NE(dir, "..");
    EXPECT_NE(dir.front(), '.');
    EXPECT_EQ(StreamFromDirName(dir), s);
  }
}

TEST(FilterPattern, TermsPhrasesExclusionsAndOptionals) {
  auto p = ParseFilterPattern(R"(ERROR "bad input" -ignored)");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(Matches(*p, "ERROR: bad input here"));
  EXPECT_FALSE(Matches(*p, "ERROR: bad  input"));          // the phrase is exact
  EXPECT_FALSE(Matches(*p, "ERROR bad input (ignored)"));  // excluded
  EXPECT_FALSE(Matches(*p, "error: bad input"));           // case-sensitive
  auto any = ParseFilterPattern("?Traceback ?Killed");
  ASSERT_TRUE(any.ok());
  EXPECT_TRUE(Matches(*any, "Traceback (most recent call last):"));
  EXPECT_TRUE(Matches(*any, "Killed"));
  EXPECT_FALSE(Matches(*any, "fine"));
  auto excl_phrase = ParseFilterPattern(R"(-"GET /ping")");
  ASSERT_TRUE(excl_phrase.ok());
  EXPECT_FALSE(Matches(*excl_phrase, "x GET /ping y"));
  EXPECT_TRUE(Matches(*excl_phrase, "GET /invocations"));
  auto empty = ParseFilterPattern("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(Matches(*empty, "anything"));
  EXPECT_FALSE(ParseFilterPattern(R"("open)").ok());
  EXPECT_FALSE(ParseFilterPattern("{ $.level = \"x\" }").ok());
  EXPECT_FALSE(ParseFilterPattern("- x").ok());
}

TEST(EventKey, RoundTripsAndOrders) {
  EventKey a{5, "AllTraffic/w-1", 1, 40};
  EventKey b{5, "AllTraffic/w-2", 1, 0};
  EventKey c{6, "AllTraffic/w-0", 1, 0};
  EXPECT_TRUE(a < b);
  EXPECT_TRUE(b < c);
  auto decoded = DecodeKey(EncodeKey(a));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, a);
  EXPECT_FALSE(DecodeKey("nonsense"));
  EXPECT_FALSE(DecodeKey("1-2-3-zz"));
}

}  // namespace
}  // namespace thaw::logs
