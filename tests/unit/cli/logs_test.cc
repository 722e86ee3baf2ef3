#include "cli/logs.h"

#include <gtest/gtest.h>

#include "common/time_format.h"

namespace thaw::cli {
namespace {

TEST(ParseSince, DurationsAndIsoTimes) {
  const WallTime now = FromEpochSeconds(1'700'000'000);
  EXPECT_EQ(ParseSince("30s", now), now - std::chrono::seconds(30));
  EXPECT_EQ(ParseSince("10m", now), now - std::chrono::minutes(10));
  EXPECT_EQ(ParseSince("2h", now), now - std::chrono::hours(2));
  EXPECT_EQ(ParseSince("1d", now), now - std::chrono::hours(24));
  EXPECT_EQ(ParseSince("2023-11-14T22:13:20Z", now), FromEpochSeconds(1'700'000'000));
  EXPECT_FALSE(ParseSince("10", now));
  EXPECT_FALSE(ParseSince("m", now));
  EXPECT_FALSE(ParseSince("-5m", now));
  EXPECT_FALSE(ParseSince("yesterday", now));
}

}  // namespace
}  // namespace thaw::cli
