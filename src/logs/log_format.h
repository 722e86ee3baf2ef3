#pragma once
// The pure parts of per-endpoint logs: how an event is stored on a line, how group and stream
// names map to directories, CloudWatch filter patterns, and the order of events across streams.
//
// On disk an event is one line: "<epoch ms>\t<message>\n", with '\\', '\n' and '\r' in the
// message escaped ("\\\\", "\\n", "\\r"). A worker's output is split at newlines, so escapes
// only appear in thaw's own multi-line events.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace thaw::logs {

// SageMaker's log group of an endpoint: "/aws/sagemaker/Endpoints/{EndpointName}".
inline constexpr std::string_view kGroupPrefix = "/aws/sagemaker/Endpoints/";
std::string GroupOf(std::string_view endpoint);
// The endpoint of a group name, or nullopt when it is not an endpoint's group.
std::optional<std::string> EndpointOfGroup(std::string_view group);

std::string EncodeLine(int64_t timestamp_ms, std::string_view message);
// False for a line that is not "<digits>\t…" (a torn last line after a crash, say).
bool DecodeLine(std::string_view line, int64_t* timestamp_ms, std::string* message);

// A stream name ("AllTraffic/ep.1.a3f2c1") as one directory name and back: '%', '/' and a
// leading '.' are percent-encoded.
std::string StreamDirName(std::string_view stream);
std::optional<std::string> StreamFromDirName(std::string_view dir);

// A CloudWatch Logs filter pattern of terms: `ERROR` (the message contains it), `"two words"`
// (an exact phrase), `-term` / `-"phrase"` (must not contain it), `?term` (at least one of the
// ?-terms). Matching is case-sensitive, as CloudWatch's. JSON (`{…}`) and space-delimited
// (`[…]`) patterns are refused.
struct FilterPattern {
  std::vector<std::string> all;
  std::vector<std::string> any;
  std::vector<std::string> none;
};
Result<FilterPattern> ParseFilterPattern(std::string_view pattern);
bool Matches(const FilterPattern& pattern, std::string_view message);

// Where an event sits in the interleaved order of a group: by timestamp, then stream, then its
// place in the stream (segment, byte offset). Its text form is the event id and the basis of
// pagination tokens.
struct EventKey {
  int64_t timestamp_ms = 0;
  std::string stream;
  int64_t segment = 0;
  int64_t offset = 0;

  friend bool operator<(const EventKey& a, const EventKey& b) {
    if (a.timestamp_ms != b.timestamp_ms) return a.timestamp_ms < b.timestamp_ms;
    if (a.stream != b.stream) return a.stream < b.stream;
    if (a.segment != b.segment) return a.segment < b.segment;
    return a.offset < b.offset;
  }
  friend bool operator==(const EventKey& a, const EventKey& b) {
    return a.timestamp_ms == b.timestamp_ms && a.stream == b.stream && a.segment == b.segment &&
           a.offset == b.offset;
  }
};
std::string EncodeKey(const EventKey& key);  // digits, '-', and the stream hex-encoded
std::optional<EventKey> DecodeKey(std::string_view text);

}  // namespace thaw::logs
