#pragma once
// The writer of per-endpoint logs: one thread that owns every log file.
//
// What goes in: the output of every worker (its stdout and stderr, one socket per worker whose
// read end Attach hands over: XGBoost's runtime, the embedded Python's prints and logging, a
// custom container's program) and thaw's own lines about an endpoint's workers (Append: started,
// retired, evicted, failed invocations; the zygote adds exits, crashes and OOM kills on the
// worker's own socket). Each line becomes one event, stamped with the injected clock when it is
// read or appended, in the worker's stream `{VariantName}/{worker id}` of the endpoint's group.
//
// Threading: Append and Attach are thread-safe and never touch the disk: they queue under a
// mutex and wake the writer thread (an eventfd write), so a request path that logs never waits
// on a file. The writer thread reads the sockets (epoll), appends each batch of lines with one
// write(2) per stream, rotates segments, and enforces the size cap and the retention.
//
// Durability: a line is in the kernel (page cache) once the writer has taken it from its
// socket or queue — within one loop turn (no user-space buffering across turns), so a crash of
// thaw loses at most the lines of the turn in progress plus the queue; the OS writes the page
// cache back on its own schedule, as for any log file. Lines queued beyond kMaxQueuedLines are
// dropped and counted (never block the caller).

#include <cstdint>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "logs/log_store.h"

namespace thaw::logs {

struct LogOptions {
  std::filesystem::path root;                   // <data-dir>/logs
  int64_t rotate_bytes = int64_t{8} << 20;      // a stream's segment size before the next
  int64_t max_group_bytes = int64_t{64} << 20;  // per endpoint: oldest segments deleted beyond
  int64_t retention_days = 30;                  // events older than this are deleted
  std::chrono::seconds housekeeping_interval{60};
};

class LogService {
 public:
  static constexpr size_t kMaxQueuedLines = 100'000;
  static constexpr size_t kMaxLineBytes = 256 * 1024;  // longer output lines are split

  LogService(LogOptions options, const Clock& clock);
  ~LogService();
  LogService(const LogService&) = delete;
  LogService& operator=(const LogService&) = delete;

  // Creates the directory and starts the writer thread.
  Status Start();
  // Reads what the attached sockets hold now, writes everything queued, stops the thread.
  void Stop();

  // Queues one event for `stream` of `endpoint`'s group, stamped now. Thread-safe.
  void Append(const std::string& endpoint, const std::string& stream, std::string message);
  // Takes ownership of `fd` (a worker's output): each line read from it becomes an event of
  // the stream; closed at EOF. Thread-safe.
  void Attach(const std::string& endpoint, const std::string& stream, int fd);
  // Blocks until everything appended before the call and everything readable from the
  // attached sockets at the time of the call is written. For tests and the API's reads.
  void Flush();
  // Housekeeping now (retention and the size cap), for tests.
  void RunHousekeeping();

  const LogStore& store() const { return store_; }
  const Clock& clock() const { return clock_; }
  uint64_t dropped_lines() const;

 private:
  struct Queued {
    std::string endpoint;
    std::string stream;
    int64_t timestamp_ms;
    std::string message;
  };
  struct Attachment {
    std::string endpoint;
    std::string stream;
    int fd;
  };
  struct Source {
    std::string endpoint;
    std::string stream;
    std::string partial;  // an unfinished line
  };
  struct Writer {
    std::string endpoint;
    std::string stream;
    int fd = -1;
    int64_t segment = 0;
    int64_t bytes = 0;
    int64_t last_ms = 0;
    std::string pending;  // encoded lines of this turn
    int sources = 0;      // attached sockets feeding it
  };

  void Run();
  int64_t NowMs() const;
  Writer& WriterFor(const std::string& endpoint, const std::string& stream);
  void AddEvent(const std::string& endpoint, const std::string& stream, int64_t ts,
                std::string_view message);
  // Reads everything available from a source; false at EOF or error (the source is done).
  bool ReadSource(int fd, Source& src);
  void CloseSource(int fd);
  void WritePending();
  bool OpenSegment(Writer& w, bool next);
  void EnforceCap(const std::string& endpoint);
  void Retain();

  LogOptions options_;
  const Clock& clock_;
  LogStore store_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;

  mutable std::mutex mu_;
  std::vector<Queued> queue_;                  // guarded by mu_
  std::vector<Attachment> attach_;             // guarded by mu_
  std::vector<std::promise<void>> flushes_;    // guarded by mu_
  bool housekeep_ = false;                     // guarded by mu_
  std::vector<std::promise<void>> housekept_;  // guarded by mu_
  bool stop_ = false;                          // guarded by mu_
  uint64_t dropped_ = 0;                       // guarded by mu_

  // Owned by the writer thread.
  std::map<int, Source> sources_;
  std::map<std::string, Writer> writers_;  // key: endpoint + '\n' + stream
};

}  // namespace thaw::logs
