#include "logs/log_service.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"

namespace thaw::logs {
namespace {

using thaw::testing::FakeClock;
using thaw::testing::TempDir;

std::vector<std::string> Messages(const std::vector<StoredEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.message);
  return out;
}

constexpr int64_t kAll = int64_t{1} << 62;

TEST(LogService, AttachedOutputBecomesEventsStampedByTheClock) {
  TempDir dir;
  FakeClock clock;
  LogService logs({dir.path() / "logs"}, clock);
  ASSERT_TRUE(logs.Start().ok());
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  logs.Attach("ep", "AllTraffic/w1", sv[0]);
  std::string out = "hello\npartial";
  ASSERT_EQ(write(sv[1], out.data(), out.size()), static_cast<ssize_t>(out.size()));
  logs.Flush();
  clock.Advance(std::chrono::seconds(2));
  out = " line\r\nlast without newline";
  ASSERT_EQ(write(sv[1], out.data(), out.size()), static_cast<ssize_t>(out.size()));
  close(sv[1]);  // EOF: the unfinished line is kept
  logs.Flush();
  logs.Append("ep", "AllTraffic/w1", "thaw: retired");
  logs.Flush();
  logs.Flush();
  auto events = logs.store().Read("ep", "AllTraffic/w1", 0, kAll);
  EXPECT_EQ(Messages(events), (std::vector<std::string>{"hello", "partial line",
                                                        "last without newline", "thaw: retired"}));
  const int64_t t0 = ToEpochMicros(FakeClock().Now()) / 1000;
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].key.timestamp_ms, t0);
  EXPECT_EQ(events[1].key.timestamp_ms, t0 + 2000);
  auto streams = logs.store().Streams("ep");
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].name, "AllTraffic/w1");
  EXPECT_EQ(streams[0].first_ms, t0);
  EXPECT_EQ(streams[0].last_ms, t0 + 2000);
  EXPECT_EQ(logs.store().Endpoints(), std::vector<std::string>{"ep"});
}

TEST(LogService, TimestampsNeverGoBackwardsInAStream) {
  TempDir dir;
  FakeClock clock;
  LogService logs({dir.path()}, clock);
  ASSERT_TRUE(logs.Start().ok());
  logs.Append("ep", "v/w", "first");
  clock.Advance(-std::chrono::seconds(10));
  logs.Append("ep", "v/w", "second");
  logs.Flush();
  auto events = logs.store().Read("ep", "v/w", 0, kAll);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].key.timestamp_ms, events[0].key.timestamp_ms);
}

TEST(LogService, RotatesBySizeAndCapsTheGroup) {
  TempDir dir;
  FakeClock clock;
  LogOptions options{dir.path()};
  options.rotate_bytes = 1000;
  options.max_group_bytes = 3000;
  LogService logs(options, clock);
  ASSERT_TRUE(logs.Start().ok());
  std::string filler(80, 'x');
  for (int i = 0; i < 100; ++i) {
    logs.Append("ep", "v/w", std::to_string(i) + " " + filler);
    clock.Advance(std::chrono::milliseconds(1));
    logs.Flush();  // one write per line, so segments fill one line at a time
  }
  auto segments = LogStore::Segments(logs.store().StreamDir("ep", "v/w"));
  ASSERT_GE(segments.size(), 2u);
  int64_t total = 0;
  for (const auto& s : segments) {
    EXPECT_LE(s.bytes, 1000);
    total += s.bytes;
  }
  EXPECT_LE(total, 3000 + 1000);          // the cap, plus the segment being written
  EXPECT_GT(segments.front().number, 1);  // the oldest were deleted
  // What is left is the newest lines, contiguous and in order, ending with the last one.
  auto events = logs.store().Read("ep", "v/w", 0, kAll);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().message, "99 " + filler);
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(std::stoi(events[i].message), std::stoi(events[i - 1].message) + 1);
  }
  // Reads skip whole segments before the start time and stop at the end time.
  int64_t mid = events[events.size() / 2].key.timestamp_ms;
  auto tail = logs.store().Read("ep", "v/w", mid, mid + 3);
  ASSERT_EQ(tail.size(), 3u);
  EXPECT_EQ(tail.front().key.timestamp_ms, mid);
}

TEST(LogService, RetentionDeletesOldStreams) {
  TempDir dir;
  FakeClock clock;
  LogOptions options{dir.path()};
  options.retention_days = 1;
  LogService logs(options, clock);
  ASSERT_TRUE(logs.Start().ok());
  logs.Append("old", "v/w", "ancient");
  logs.Flush();
  clock.Advance(std::chrono::hours(30));
  logs.Append("ep", "v/w", "recent");
  logs.Flush();
  logs.RunHousekeeping();
  EXPECT_EQ(logs.store().Endpoints(), std::vector<std::string>{"ep"});
}

TEST(LogService, ContinuesTheLastSegmentAfterARestart) {
  TempDir dir;
  FakeClock clock;
  {
    LogService logs({dir.path()}, clock);
    ASSERT_TRUE(logs.Start().ok());
    logs.Append("ep", "v/w", "before");
  }  // Stop() writes what is queued
  LogService logs({dir.path()}, clock);
  ASSERT_TRUE(logs.Start().ok());
  logs.Append("ep", "v/w", "after");
  logs.Flush();
  EXPECT_EQ(Messages(logs.store().Read("ep", "v/w", 0, kAll)),
            (std::vector<std::string>{"before", "after"}));
}

TEST(LogStore, IgnoresATornLastLine) {
  TempDir dir;
  LogStore store(dir.path());
  auto stream_dir = store.StreamDir("ep", "v/w");
  std::filesystem::create_directories(stream_dir);
  FILE* f = fopen((stream_dir / LogStore::SegmentFileName(1)).c_str(), "w");
  fputs("10\tcomplete\n11\ttor", f);
  fclose(f);
  EXPECT_EQ(Messages(store.Read("ep", "v/w", 0, kAll)), std::vector<std::string>{"complete"});
  EXPECT_EQ(LogStore::LastTimestamp(stream_dir / LogStore::SegmentFileName(1)), 10);
}

}  // namespace
}  // namespace thaw::logs
