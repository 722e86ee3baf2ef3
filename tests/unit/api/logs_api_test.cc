#include "api/logs_api.h"

#include <gtest/gtest.h>

#include "api/error_table.h"
#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "logs/log_service.h"

namespace thaw::api {
namespace {

using nlohmann::json;
using thaw::testing::FakeClock;
using thaw::testing::TempDir;

constexpr char kGroup[] = "/aws/sagemaker/Endpoints/ep";

class LogsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(service_.Start().ok());
    // Two workers writing in turns, one millisecond apart: a-0, b-1, a-2, b-3, …
    for (int i = 0; i < 10; ++i) {
      service_.Append("ep", i % 2 ? "AllTraffic/b" : "AllTraffic/a",
                      (i % 3 == 0 ? "ERROR " : "info ") + std::to_string(i));
      service_.Flush();
      clock_.Advance(std::chrono::milliseconds(1));
    }
  }
  Result<json> Run(const std::string& op, const json& in) {
    return RunLogsOp(op, in, service_.store(), Identity{}, 30);
  }
  std::vector<std::string> Messages(const json& out) {
    std::vector<std::string> m;
    for (const auto& e : out["events"]) m.push_back(e["message"]);
    return m;
  }

  TempDir dir_;
  FakeClock clock_;
  logs::LogService service_{{dir_.path()}, clock_};
};

TEST_F(LogsApiTest, FilterInterleavesAndPagesWithoutLossOrRepetition) {
  std::vector<std::string> all;
  json in = {{"logGroupName", kGroup}, {"limit", 3}};
  int pages = 0;
  while (true) {
    auto out = Run("FilterLogEvents", in);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    for (auto& m : Messages(*out)) all.push_back(m);
    ++pages;
    if (!out->contains("nextToken")) break;
    in["nextToken"] = (*out)["nextToken"];
  }
  EXPECT_EQ(pages, 4);
  ASSERT_EQ(all.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(all[i].substr(all[i].find(' ') + 1), std::to_string(i));
}

TEST_F(LogsApiTest, FilterPatternTimeRangeAndStreams) {
  const int64_t t0 = ToEpochMicros(FakeClock().Now()) / 1000;
  auto out = Run("FilterLogEvents", {{"logGroupName", kGroup},
                                     {"filterPattern", "ERROR -9"},
                                     {"startTime", t0 + 1},
                                     {"endTime", t0 + 6}});  // inclusive
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Messages(*out), (std::vector<std::string>{"ERROR 3", "ERROR 6"}));
  out = Run("FilterLogEvents", {{"logGroupName", kGroup}, {"logStreamNames", {"AllTraffic/b"}}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Messages(*out).size(), 5u);
  EXPECT_EQ((*out)["events"][0]["logStreamName"], "AllTraffic/b");
  EXPECT_EQ((*out)["searchedLogStreams"].size(), 1u);
}

TEST_F(LogsApiTest, GetLogEventsForwardAndBackward) {
  json in = {{"logGroupName", kGroup}, {"logStreamName", "AllTraffic/a"}, {"limit", 2}};
  auto tail = Run("GetLogEvents", in);  // the default reads the end of the stream
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(Messages(*tail), (std::vector<std::string>{"ERROR 6", "info 8"}));
  in["nextToken"] = (*tail)["nextBackwardToken"];
  auto before = Run("GetLogEvents", in);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(Messages(*before), (std::vector<std::string>{"info 2", "info 4"}));
  in["nextToken"] = (*tail)["nextForwardToken"];
  auto after = Run("GetLogEvents", in);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(Messages(*after).empty());
  EXPECT_EQ((*after)["nextForwardToken"], (*tail)["nextForwardToken"]);  // the end: same token
  in.erase("nextToken");
  in["startFromHead"] = true;
  auto head = Run("GetLogEvents", in);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(Messages(*head), (std::vector<std::string>{"ERROR 0", "info 2"}));
}

TEST_F(LogsApiTest, DescribeGroupsAndStreams) {
  auto groups = Run("DescribeLogGroups", {{"logGroupNamePrefix", "/aws/sagemaker/"}});
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ((*groups)["logGroups"].size(), 1u);
  EXPECT_EQ((*groups)["logGroups"][0]["logGroupName"], kGroup);
  auto streams = Run(
      "DescribeLogStreams",
      {{"logGroupName", kGroup}, {"orderBy", "LastEventTime"}, {"descending", true}, {"limit", 1}});
  ASSERT_TRUE(streams.ok());
  ASSERT_EQ((*streams)["logStreams"].size(), 1u);
  EXPECT_EQ((*streams)["logStreams"][0]["logStreamName"], "AllTraffic/b");  // wrote last
  EXPECT_TRUE(streams->contains("nextToken"));
}

TEST_F(LogsApiTest, ErrorsMapToLogsExceptions) {
  auto missing = Run("FilterLogEvents", {{"logGroupName", "/aws/sagemaker/Endpoints/nope"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(MapError(missing.status().code(), Protocol::kLogs).code, "ResourceNotFoundException");
  auto stream = Run("GetLogEvents", {{"logGroupName", kGroup}, {"logStreamName", "x/y"}});
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(MapError(stream.status().code(), Protocol::kLogs).code, "ResourceNotFoundException");
  auto token = Run("FilterLogEvents", {{"logGroupName", kGroup}, {"nextToken", "bogus"}});
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(MapError(token.status().code(), Protocol::kLogs).code, "InvalidParameterException");
  auto limit = Run("FilterLogEvents", {{"logGroupName", kGroup}, {"limit", 0}});
  ASSERT_FALSE(limit.ok());
  EXPECT_EQ(MapError(limit.status().code(), Protocol::kLogs).code, "InvalidParameterException");
  auto pattern = Run("FilterLogEvents", {{"logGroupName", kGroup}, {"filterPattern", "{ $.a }"}});
  ASSERT_FALSE(pattern.ok());
  EXPECT_EQ(MapError(pattern.status().code(), Protocol::kLogs).code, "InvalidParameterException");
}

}  // namespace
}  // namespace thaw::api
