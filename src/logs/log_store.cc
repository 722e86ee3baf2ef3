#include "logs/log_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>

namespace thaw::logs {
namespace fs = std::filesystem;
namespace {

bool ValidEndpointDir(const std::string& name) {
  return !name.empty() && EndpointOfGroup(GroupOf(name)).has_value();
}

// Reads [offset, offset + len) of a file; shorter at its end.
std::string ReadRange(const fs::path& path, int64_t offset, int64_t len) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  out.resize(static_cast<size_t>(len));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = pread(fd, out.data() + got, out.size() - got, offset + static_cast<int64_t>(got));
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  out.resize(got);
  return out;
}

}  // namespace

std::string LogStore::SegmentFileName(int64_t number) {
  char buf[32];
  snprintf(buf, sizeof buf, "%08lld.log", static_cast<long long>(number));
  return buf;
}

std::vector<std::string> LogStore::Endpoints() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_, ec)) {
    std::string name = e.path().filename().string();
    if (e.is_directory(ec) && ValidEndpointDir(name)) out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool LogStore::HasGroup(const std::string& endpoint) const {
  std::error_code ec;
  return ValidEndpointDir(endpoint) && fs::is_directory(root_ / endpoint, ec);
}

std::vector<Segment> LogStore::Segments(const fs::path& stream_dir) {
  std::vector<Segment> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(stream_dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() != 12 || name.substr(8) != ".log") continue;
    int64_t n = 0;
    auto [p, err] = std::from_chars(name.data(), name.data() + 8, n);
    if (err != std::errc() || p != name.data() + 8 || n <= 0) continue;
    std::error_code size_ec;
    auto size = e.file_size(size_ec);
    out.push_back({n, e.path(), size_ec ? 0 : static_cast<int64_t>(size)});
  }
  std::sort(out.begin(), out.end(),
            [](const Segment& a, const Segment& b) { return a.number < b.number; });
  return out;
}

int64_t LogStore::FirstTimestamp(const fs::path& segment) {
  std::string head = ReadRange(segment, 0, 4096);
  auto nl = head.find('\n');
  if (nl == std::string::npos) return 0;
  int64_t ts = 0;
  std::string message;
  return DecodeLine(std::string_view(head).substr(0, nl), &ts, &message) ? ts : 0;
}

int64_t LogStore::LastTimestamp(const fs::path& segment) {
  std::error_code ec;
  auto size = static_cast<int64_t>(fs::file_size(segment, ec));
  if (ec || size == 0) return 0;
  // A line's timestamp is at its start; lines can be long, so widen the window until one fits.
  for (int64_t window = 4096;; window *= 8) {
    int64_t from = std::max<int64_t>(0, size - window);
    std::string tail = ReadRange(segment, from, size - from);
    // The last complete line ends with the last '\n'; it starts after the one before.
    auto end = tail.rfind('\n');
    if (end == std::string::npos) {
      if (from == 0) return 0;
      continue;
    }
    auto start = end == 0 ? std::string::npos : tail.rfind('\n', end - 1);
    if (start == std::string::npos && from > 0) continue;
    start = start == std::string::npos ? 0 : start + 1;
    int64_t ts = 0;
    std::string message;
    return DecodeLine(std::string_view(tail).substr(start, end - start), &ts, &message) ? ts : 0;
  }
}

std::vector<StreamInfo> LogStore::Streams(const std::string& endpoint) const {
  std::vector<StreamInfo> out;
  if (!ValidEndpointDir(endpoint)) return out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ / endpoint, ec)) {
    if (!e.is_directory(ec)) continue;
    auto name = StreamFromDirName(e.path().filename().string());
    if (!name) continue;
    StreamInfo info;
    info.name = std::move(*name);
    auto segments = Segments(e.path());
    for (const auto& s : segments) info.stored_bytes += s.bytes;
    if (!segments.empty()) {
      info.first_ms = FirstTimestamp(segments.front().path);
      info.last_ms = LastTimestamp(segments.back().path);
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const StreamInfo& a, const StreamInfo& b) { return a.name < b.name; });
  return out;
}

bool LogStore::HasStream(const std::string& endpoint, const std::string& stream) const {
  std::error_code ec;
  return ValidEndpointDir(endpoint) && fs::is_directory(StreamDir(endpoint, stream), ec);
}

std::vector<StoredEvent> LogStore::Read(const std::string& endpoint, const std::string& stream,
                                        int64_t start_ms, int64_t end_ms) const {
  std::vector<StoredEvent> out;
  if (!ValidEndpointDir(endpoint)) return out;
  auto segments = Segments(StreamDir(endpoint, stream));
  for (size_t i = 0; i < segments.size(); ++i) {
    // Every event of segment i is <= the first of segment i + 1.
    if (i + 1 < segments.size() && FirstTimestamp(segments[i + 1].path) < start_ms) continue;
    std::string data = ReadRange(segments[i].path, 0, segments[i].bytes);
    size_t pos = 0;
    bool past_end = false;
    while (pos < data.size()) {
      auto nl = data.find('\n', pos);
      if (nl == std::string::npos) break;  // a line still being written (or torn by a crash)
      StoredEvent ev;
      if (DecodeLine(std::string_view(data).substr(pos, nl - pos), &ev.key.timestamp_ms,
                     &ev.message)) {
        if (ev.key.timestamp_ms >= end_ms) {
          past_end = true;
          break;
        }
        if (ev.key.timestamp_ms >= start_ms) {
          ev.key.stream = stream;
          ev.key.segment = segments[i].number;
          ev.key.offset = static_cast<int64_t>(pos);
          out.push_back(std::move(ev));
        }
      }
      pos = nl + 1;
    }
    if (past_end) break;
  }
  return out;
}

}  // namespace thaw::logs
