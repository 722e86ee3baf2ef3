#pragma once
// The on-disk layout of per-endpoint logs and the read side the CloudWatch Logs API uses.
//
//   <data-dir>/logs/<EndpointName>/<StreamDirName(stream)>/<segment>.log
//
// A stream is a directory of segments numbered from 1; LogService appends to the highest and
// starts the next when it outgrows --log-rotate-mb. Timestamps never go backwards within a
// stream (the writer clamps them), so a segment's events are all <= the next segment's first
// one, which lets a read skip whole segments before its start time.
//
// Reads take no lock: they see whole lines (a torn last line is skipped) of whatever the
// writer has written so far. Thread-safe.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "logs/log_format.h"

namespace thaw::logs {

struct Segment {
  int64_t number = 0;
  std::filesystem::path path;
  int64_t bytes = 0;
};

struct StreamInfo {
  std::string name;
  int64_t first_ms = 0;  // first event (0: none yet)
  int64_t last_ms = 0;   // last event
  int64_t stored_bytes = 0;
};

struct StoredEvent {
  EventKey key;
  std::string message;
};

class LogStore {
 public:
  explicit LogStore(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }

  // Endpoints that have a log directory, sorted.
  std::vector<std::string> Endpoints() const;
  bool HasGroup(const std::string& endpoint) const;
  // The streams of an endpoint, sorted by name.
  std::vector<StreamInfo> Streams(const std::string& endpoint) const;
  bool HasStream(const std::string& endpoint, const std::string& stream) const;
  // The events of one stream with start_ms <= timestamp < end_ms, in stream order.
  std::vector<StoredEvent> Read(const std::string& endpoint, const std::string& stream,
                                int64_t start_ms, int64_t end_ms) const;

  std::filesystem::path StreamDir(const std::string& endpoint, const std::string& stream) const {
    return root_ / endpoint / StreamDirName(stream);
  }
  // A stream directory's segments, by number.
  static std::vector<Segment> Segments(const std::filesystem::path& stream_dir);
  // The first / last event's timestamp in a segment file; 0 when it has none.
  static int64_t FirstTimestamp(const std::filesystem::path& segment);
  static int64_t LastTimestamp(const std::filesystem::path& segment);
  static std::string SegmentFileName(int64_t number);

 private:
  std::filesystem::path root_;
};

}  // namespace thaw::logs
