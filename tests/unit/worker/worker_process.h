#pragma once
// A RunWorker child on one end of a socketpair, and the test's end: raw HTTP/1.1, as the thaw
// server speaks it. Shared by the worker tests.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include "worker/worker.h"

namespace thaw::testing {

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
};

// A RunWorker child and the test's end of its socket.
class WorkerProcess {
 public:
  explicit WorkerProcess(const worker::WorkerSpec& spec) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    pid_ = fork();
    if (pid_ == 0) {
      close(fds[0]);
      _exit(worker::RunWorker(fds[1], spec));
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~WorkerProcess() {
    if (fd_ >= 0) close(fd_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  void Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = write(fd_, bytes.data(), bytes.size());
      ASSERT_GT(n, 0);
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Reads one response (Content-Length framed; the worker always sends one).
  Reply Receive() {
    Reply reply;
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return reply;
    }
    std::istringstream head(buffer_.substr(0, header_end));
    std::string line;
    std::getline(head, line);
    reply.status = std::stoi(line.substr(9, 3));
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = line.substr(colon + 2);
    }
    buffer_.erase(0, header_end + 4);
    size_t length =
        reply.headers.count("content-length") ? std::stoul(reply.headers["content-length"]) : 0;
    while (buffer_.size() < length) {
      if (!Fill()) return reply;
    }
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return reply;
  }

  Reply Exchange(std::string_view request) {
    Send(request);
    return Receive();
  }

  // Closes the test's end and returns the child's exit status.
  int CloseAndWait() {
    close(fd_);
    fd_ = -1;
    return WaitExit();
  }
  int WaitExit() {
    int status = 0;
    EXPECT_EQ(waitpid(pid_, &status, 0), pid_);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // True when the worker closed its end (EOF within 10 s).
  bool PeerClosed() { return buffer_.empty() && !Fill(); }

 private:
  bool Fill() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) {
      ADD_FAILURE() << "worker did not answer within 10 s";
      return false;
    }
    char chunk[65536];
    ssize_t n = read(fd_, chunk, sizeof(chunk));
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
};

inline std::string Post(std::string_view body, std::string_view content_type,
                        std::string_view accept, std::string_view extra = "") {
  std::string req = "POST /invocations HTTP/1.1\r\nHost: worker\r\n";
  if (!content_type.empty()) req.append("Content-Type: ").append(content_type).append("\r\n");
  if (!accept.empty()) req.append("Accept: ").append(accept).append("\r\n");
  req.append(extra);
  req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  req.append(body);
  return req;
}

}  // namespace thaw::testing
