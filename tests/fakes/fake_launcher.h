#pragma once
// A Launcher whose "workers" are threads in the test process speaking the container contract
// on a socketpair: /ping answers `ping_status`, /invocations echoes the body (or sleeps, or
// hangs up, as the test asks). Kill() shuts the worker's socket, as SIGKILL would; Stop() records
// the graceful stop (the pool has closed the socket, so the worker thread ends on EOF).
// Templates (LaunchSpec::as_template) answer `template_line` on their socket and fork workers
// through LaunchFrom until they are killed (LaunchFrom then answers NotFound).

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "fleet/launcher.h"

namespace thaw::testing {

class FakeLauncher final : public fleet::Launcher {
 public:
  ~FakeLauncher() override {
    std::map<pid_t, Worker> workers;
    {
      std::lock_guard lock(mu_);
      workers.swap(workers_);
    }
    for (auto& [pid, fd] : templates_) ::close(fd);
    for (auto& [pid, w] : workers) {
      ::shutdown(w.fd, SHUT_RDWR);
      w.thread.join();
      ::close(w.fd);
    }
  }

  Result<fleet::LaunchedWorker> Launch(const fleet::LaunchSpec& spec) override {
    if (fail_launch) return Internal("launch refused by the test");
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      return Internal("socketpair");
    std::lock_guard lock(mu_);
    if (spec.as_template) {
      pid_t pid = next_pid_++;
      template_launches++;
      std::string line = template_line;
      (void)::write(sv[1], line.data(), line.size());
      templates_[pid] = sv[1];
      return fleet::LaunchedWorker{sv[0], pid};
    }
    pid_t pid = next_pid_++;
    launches++;
    Worker& w = workers_[pid];
    w.fd = sv[1];
    w.thread = std::thread([this, fd = sv[1]] { Serve(fd); });
    return fleet::LaunchedWorker{sv[0], pid};
  }

  Result<fleet::LaunchedWorker> LaunchFrom(pid_t template_pid,
                                           const fleet::LaunchSpec& spec) override {
    {
      std::lock_guard lock(mu_);
      if (templates_.count(template_pid) == 0) return NotFound("no such template");
      forks++;
    }
    fleet::LaunchSpec plain = spec;
    plain.as_template = false;
    auto w = Launch(plain);
    if (w.ok()) launches--;  // counted as a fork, not a launch
    return w;
  }

  // A template dies (as if killed from outside): its socket reaches EOF.
  void KillTemplates() {
    std::lock_guard lock(mu_);
    for (auto& [pid, fd] : templates_) ::close(fd);
    templates_.clear();
  }
  int LiveTemplates() {
    std::lock_guard lock(mu_);
    return static_cast<int>(templates_.size());
  }

  void Kill(pid_t pid) override {
    std::lock_guard lock(mu_);
    if (auto t = templates_.find(pid); t != templates_.end()) {
      ::close(t->second);
      templates_.erase(t);
      kills++;
      return;
    }
    auto it = workers_.find(pid);
    if (it != workers_.end()) ::shutdown(it->second.fd, SHUT_RDWR);
    kills++;
  }

  // The pool has closed the worker's socket already (the worker thread sees EOF and ends).
  void Stop(pid_t pid, std::chrono::milliseconds grace) override {
    std::lock_guard lock(mu_);
    if (auto t = templates_.find(pid); t != templates_.end()) {  // it retires: no child left
      ::close(t->second);
      templates_.erase(t);
    }
    stops++;
    last_grace_ms = grace.count();
    stopped.push_back(pid);
  }

  std::vector<pid_t> Stopped() {
    std::lock_guard lock(mu_);
    return stopped;
  }

  std::atomic<int> ping_status{200};
  std::atomic<int> invoke_status{200};
  std::atomic<int> delay_ms{0};
  std::atomic<bool> hang_up{false};  // close the connection instead of answering
  std::atomic<bool> fail_launch{false};
  std::atomic<int> launches{0};
  std::atomic<int> kills{0};
  std::atomic<int> stops{0};
  std::atomic<int> template_launches{0};
  std::atomic<int> forks{0};
  std::string template_line = "ok\n";  // set before the template starts
  std::atomic<int64_t> last_grace_ms{-1};

 private:
  struct Worker {
    int fd = -1;
    std::thread thread;
  };

  void Serve(int fd) {
    namespace http = boost::beast::http;
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::socket sock(io);
    boost::system::error_code ec;
    sock.assign(boost::asio::local::stream_protocol(), ::dup(fd), ec);
    boost::beast::flat_buffer buf;
    while (!ec) {
      http::request<http::string_body> req;
      http::read(sock, buf, req, ec);
      if (ec) break;
      http::response<http::string_body> res;
      res.version(11);
      if (req.target() == "/ping") {
        res.result(ping_status.load());
      } else {
        if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
        if (hang_up) {
          ::shutdown(fd, SHUT_RDWR);  // as a crash would: the peer sees EOF
          break;
        }
        res.result(invoke_status.load());
        res.set(http::field::content_type, "text/plain");
        res.body() = "echo:" + req.body();
      }
      res.prepare_payload();
      http::write(sock, res, ec);
    }
  }

  std::mutex mu_;
  std::vector<pid_t> stopped;  // guarded by mu_
  std::map<pid_t, Worker> workers_;
  std::map<pid_t, int> templates_;  // pid → the template's end of its socket
  pid_t next_pid_ = 1000;
};

}  // namespace thaw::testing
