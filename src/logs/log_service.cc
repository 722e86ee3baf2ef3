#include "logs/log_service.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/logging.h"

namespace thaw::logs {
namespace fs = std::filesystem;
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// Per source and turn, so one chatty worker cannot starve the others.
constexpr size_t kMaxReadPerTurn = 1 << 20;

void Wake(int fd) {
  uint64_t one = 1;
  while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

LogService::LogService(LogOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock), store_(options_.root) {}

LogService::~LogService() {
  Stop();
  for (auto& [fd, src] : sources_) close(fd);
  for (auto& a : attach_) close(a.fd);
  for (auto& [key, w] : writers_) {
    if (w.fd >= 0) close(w.fd);
  }
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

Status LogService::Start() {
  std::error_code ec;
  fs::create_directories(options_.root, ec);
  if (ec) return Internal("cannot create " + options_.root.string() + ": " + ec.message());
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return Internal(std::string("epoll: ") + strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    return Internal(std::string("epoll_ctl: ") + strerror(errno));
  }
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void LogService::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  Wake(wake_fd_);
  thread_.join();
}

int64_t LogService::NowMs() const { return ToEpochMicros(clock_.Now()) / 1000; }

void LogService::Append(const std::string& endpoint, const std::string& stream,
                        std::string message) {
  int64_t ts = NowMs();
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueuedLines) {
      ++dropped_;
      return;
    }
    queue_.push_back({endpoint, stream, ts, std::move(message)});
    if (queue_.size() > 1) return;  // the writer is already woken
  }
  if (wake_fd_ >= 0) Wake(wake_fd_);
}

void LogService::Attach(const std::string& endpoint, const std::string& stream, int fd) {
  if (fd < 0) return;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);  // our end only
  {
    std::lock_guard lock(mu_);
    attach_.push_back({endpoint, stream, fd});
  }
  if (wake_fd_ >= 0) Wake(wake_fd_);
}

void LogService::Flush() {
  if (!thread_.joinable()) return;
  std::future<void> done;
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    flushes_.emplace_back();
    done = flushes_.back().get_future();
  }
  Wake(wake_fd_);
  done.wait();
}

void LogService::RunHousekeeping() {
  if (!thread_.joinable()) return;
  std::future<void> done;
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    housekeep_ = true;
    housekept_.emplace_back();
    done = housekept_.back().get_future();
  }
  Wake(wake_fd_);
  done.wait();
}

uint64_t LogService::dropped_lines() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void LogService::Run() {
  auto next_housekeeping = std::chrono::steady_clock::now();
  epoll_event events[64];
  while (true) {
    int n = epoll_wait(epoll_fd_, events, 64, 1000);
    std::vector<Queued> queue;
    std::vector<Attachment> attach;
    std::vector<std::promise<void>> flushes, housekept;
    bool stop = false, housekeep = false;
    {
      std::lock_guard lock(mu_);
      queue.swap(queue_);
      attach.swap(attach_);
      flushes.swap(flushes_);
      housekept.swap(housekept_);
      stop = stop_;
      housekeep = housekeep_;
      housekeep_ = false;
    }
    uint64_t drained;
    (void)!read(wake_fd_, &drained, sizeof drained);
    for (Attachment& a : attach) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.fd = a.fd;
      if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, a.fd, &ev) != 0) {
        close(a.fd);
        continue;
      }
      sources_[a.fd] = Source{a.endpoint, a.stream, {}};
      ++WriterFor(a.endpoint, a.stream).sources;
    }
    // Queued events first: they were stamped before anything read in this turn.
    for (Queued& q : queue) AddEvent(q.endpoint, q.stream, q.timestamp_ms, q.message);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      auto it = sources_.find(fd);
      if (it == sources_.end()) continue;
      if (!ReadSource(fd, it->second)) CloseSource(fd);
    }
    if (!flushes.empty() || stop) {
      // Everything readable now, from every source.
      std::vector<int> done;
      for (auto& [fd, src] : sources_) {
        if (!ReadSource(fd, src)) done.push_back(fd);
      }
      for (int fd : done) CloseSource(fd);
    }
    WritePending();
    if (housekeep || std::chrono::steady_clock::now() >= next_housekeeping) {
      Retain();
      for (const auto& endpoint : store_.Endpoints()) EnforceCap(endpoint);
      next_housekeeping = std::chrono::steady_clock::now() + options_.housekeeping_interval;
    }
    for (auto& p : flushes) p.set_value();
    for (auto& p : housekept) p.set_value();
    if (stop) break;
  }
  for (auto& [key, w] : writers_) {
    if (w.fd >= 0) close(w.fd);
    w.fd = -1;
  }
}

LogService::Writer& LogService::WriterFor(const std::string& endpoint, const std::string& stream) {
  std::string key = endpoint + '\n' + stream;
  auto it = writers_.find(key);
  if (it != writers_.end()) return it->second;
  Writer& w = writers_[key];
  w.endpoint = endpoint;
  w.stream = stream;
  return w;
}

void LogService::AddEvent(const std::string& endpoint, const std::string& stream, int64_t ts,
                          std::string_view message) {
  if (!EndpointOfGroup(GroupOf(endpoint)) || stream.empty()) return;
  Writer& w = WriterFor(endpoint, stream);
  w.last_ms = std::max(w.last_ms, ts);  // never backwards within a stream
  w.pending += EncodeLine(w.last_ms, message);
}

bool LogService::ReadSource(int fd, Source& src) {
  char buf[kReadChunk];
  size_t total = 0;
  while (total < kMaxReadPerTurn) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    if (n == 0) return false;
    total += static_cast<size_t>(n);
    const int64_t ts = NowMs();
    std::string_view data(buf, static_cast<size_t>(n));
    while (!data.empty()) {
      auto nl = data.find('\n');
      if (nl == std::string_view::npos) {
        src.partial.append(data);
        if (src.partial.size() >= kMaxLineBytes) {
          AddEvent(src.endpoint, src.stream, ts, src.partial);
          src.partial.clear();
        }
        break;
      }
      std::string_view line = data.substr(0, nl);
      data.remove_prefix(nl + 1);
      if (!src.partial.empty()) {
        src.partial.append(line);
        line = src.partial;
      }
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      AddEvent(src.endpoint, src.stream, ts, line);
      src.partial.clear();
    }
  }
  return true;
}

void LogService::CloseSource(int fd) {
  auto it = sources_.find(fd);
  if (it == sources_.end()) return;
  Source& src = it->second;
  if (!src.partial.empty()) AddEvent(src.endpoint, src.stream, NowMs(), src.partial);
  Writer& w = WriterFor(src.endpoint, src.stream);
  --w.sources;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  sources_.erase(it);
}

bool LogService::OpenSegment(Writer& w, bool next) {
  if (w.fd >= 0) close(w.fd);
  w.fd = -1;
  fs::path dir = store_.StreamDir(w.endpoint, w.stream);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (w.segment == 0) {  // first use in this process: continue the highest segment
    auto segments = LogStore::Segments(dir);
    w.segment = segments.empty() ? 1 : segments.back().number;
    if (!segments.empty()) {
      w.last_ms = std::max(w.last_ms, LogStore::LastTimestamp(segments.back().path));
    }
  } else if (next) {
    ++w.segment;
  }
  fs::path path = dir / LogStore::SegmentFileName(w.segment);
  w.fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (w.fd < 0) {
    Logger("logs")->warn("cannot open {}: {}", path.string(), strerror(errno));
    return false;
  }
  struct stat st;
  w.bytes = fstat(w.fd, &st) == 0 ? st.st_size : 0;
  return true;
}

void LogService::WritePending() {
  for (auto it = writers_.begin(); it != writers_.end();) {
    Writer& w = it->second;
    if (!w.pending.empty()) {
      bool ok = w.fd >= 0 || OpenSegment(w, false);
      if (ok && w.bytes > 0 &&
          w.bytes + static_cast<int64_t>(w.pending.size()) > options_.rotate_bytes) {
        ok = OpenSegment(w, true);
        if (ok) EnforceCap(w.endpoint);
      }
      if (ok && WriteAll(w.fd, w.pending)) {
        w.bytes += static_cast<int64_t>(w.pending.size());
      } else if (ok) {
        Logger("logs")->warn("cannot write the log of {} {}: {}", w.endpoint, w.stream,
                             strerror(errno));
      }
      w.pending.clear();
    }
    // A stream nobody feeds any more lets go of its file (reopened on its next event).
    if (w.sources == 0) {
      if (w.fd >= 0) close(w.fd);
      it = writers_.erase(it);
    } else {
      ++it;
    }
  }
}

// Deletes the oldest segments of an endpoint's streams (never one being written) until the
// group fits its cap.
void LogService::EnforceCap(const std::string& endpoint) {
  struct Candidate {
    int64_t first_ms;
    fs::path path;
    int64_t bytes;
  };
  std::vector<Candidate> candidates;
  int64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options_.root / endpoint, ec)) {
    if (!e.is_directory(ec)) continue;
    auto segments = LogStore::Segments(e.path());
    for (size_t i = 0; i < segments.size(); ++i) {
      total += segments[i].bytes;
      if (i + 1 < segments.size()) {  // the last one may be open
        candidates.push_back(
            {LogStore::FirstTimestamp(segments[i].path), segments[i].path, segments[i].bytes});
      }
    }
  }
  if (total <= options_.max_group_bytes) return;
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.first_ms < b.first_ms; });
  for (const auto& c : candidates) {
    if (total <= options_.max_group_bytes) break;
    if (fs::remove(c.path, ec)) total -= c.bytes;
  }
}

// Deletes what is older than the retention: segments whose successor starts before the cutoff,
// and whole streams (not being written) whose last event is before it.
void LogService::Retain() {
  const int64_t cutoff = NowMs() - options_.retention_days * 86'400'000;
  std::error_code ec;
  for (const auto& endpoint : store_.Endpoints()) {
    fs::path group = options_.root / endpoint;
    for (const auto& e : fs::directory_iterator(group, ec)) {
      if (!e.is_directory(ec)) continue;
      auto segments = LogStore::Segments(e.path());
      for (size_t i = 0; i + 1 < segments.size(); ++i) {
        if (LogStore::FirstTimestamp(segments[i + 1].path) < cutoff)
          fs::remove(segments[i].path, ec);
      }
      auto stream = StreamFromDirName(e.path().filename().string());
      bool open = stream && writers_.count(endpoint + '\n' + *stream) > 0;
      if (!open && !segments.empty() && LogStore::LastTimestamp(segments.back().path) < cutoff) {
        fs::remove_all(e.path(), ec);
      } else if (!open && segments.empty()) {
        fs::remove_all(e.path(), ec);
      }
    }
    if (fs::is_empty(group, ec)) fs::remove(group, ec);
  }
}

}  // namespace thaw::logs
