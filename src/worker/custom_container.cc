#include "worker/custom_container.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <optional>

#include "common/logging.h"
#include "worker/http_loop.h"

extern char** environ;

namespace thaw::worker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using SteadyClock = std::chrono::steady_clock;

std::vector<std::string> ContainerEnvironment(
    const std::vector<std::string>& base,
    const std::vector<std::pair<std::string, std::string>>& env, int port) {
  std::vector<std::string> out = base;
  auto set = [&out](const std::string& name, const std::string& value) {
    const std::string prefix = name + "=";
    std::erase_if(out,
                  [&](const std::string& e) { return e.compare(0, prefix.size(), prefix) == 0; });
    out.push_back(prefix + value);
  };
  for (const auto& [name, value] : env) set(name, value);
  set("SAGEMAKER_BIND_TO_PORT", std::to_string(port));
  set("SAGEMAKER_SAFE_PORT_RANGE", kSafePortRange);
  return out;
}

namespace {

constexpr uint64_t kMaxBody = 64ull << 20;
constexpr std::string_view kHtml = "text/html; charset=utf-8";

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// "exited with status 3" / "was killed by signal 9 (Killed)".
std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "stopped";
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int PickFreePort() {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(s);
  return port;
}

int64_t MillisUntil(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return std::max<int64_t>(0, left.count());
}

// One readiness probe on a fresh connection: the status of GET /ping, or -1 when the program
// does not accept the connection or answer within `timeout`.
int Ping(int port, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int status = -1;
  auto wait_for = [&](short events) {
    pollfd p{s, events, 0};
    return poll(&p, 1, static_cast<int>(MillisUntil(deadline))) == 1 && (p.revents & events);
  };
  do {
    if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (errno != EINPROGRESS || !wait_for(POLLOUT)) break;
      int err = 0;
      socklen_t len = sizeof err;
      if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) break;
    }
    constexpr std::string_view kPing =
        "GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if (send(s, kPing.data(), kPing.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(kPing.size())) {
      break;
    }
    std::string head;
    while (head.find("\r\n") == std::string::npos && head.size() < 1024 && wait_for(POLLIN)) {
      std::array<char, 512> buf;
      ssize_t n = recv(s, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      head.append(buf.data(), static_cast<size_t>(n));
    }
    // "HTTP/1.1 200 OK"
    if (head.size() >= 12 && head.compare(0, 5, "HTTP/") == 0) {
      auto sp = head.find(' ');
      if (sp != std::string::npos && sp + 4 <= head.size()) {
        status = std::atoi(head.substr(sp + 1, 3).c_str());
      }
    }
  } while (false);
  close(s);
  return status;
}

bool HopByHop(http::field f) {
  switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::content_length:
      return true;
    default:
      return false;
  }
}

template <class From, class To>
void CopyFields(const From& from, To& to) {
  for (const auto& field : from) {
    if (field.name() != http::field::unknown && HopByHop(field.name())) continue;
    to.insert(field.name_string(), field.value());
  }
}

class Init {
 public:
  Init(int fd, const ContainerOptions& options) : fd_(fd), options_(options) {}

  int Run() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
    if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return Fatal(Errno("sigprocmask"));
    sfd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd_ < 0) return Fatal(Errno("signalfd"));
    if (fcntl(fd_, F_SETFD, FD_CLOEXEC) != 0) return Fatal(Errno("fcntl"));
    port_ = options_.port != 0 ? options_.port : PickFreePort();
    if (port_ <= 0) return Fatal("cannot find a free loopback port");

    std::string failure = StartProgram();
    if (failure.empty()) failure = AwaitReady();
    if (!failure.empty()) return ServeFailure(failure);
    Logger("worker")->debug("container {} is serving on port {}", options_.program, port_);
    return Bridge();
  }

 private:
  // The descriptors go with the process.
  static int Fatal(const std::string& why) {
    Logger("worker")->warn("container init: {}", why);
    return 1;
  }

  std::string StartProgram() {
    std::vector<std::string> base;
    for (char** e = environ; *e != nullptr; ++e) base.emplace_back(*e);
    std::vector<std::string> env = ContainerEnvironment(base, options_.env, port_);
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string program = options_.program;
    std::string serve = "serve";
    std::array<char*, 3> argv = {program.data(), serve.data(), nullptr};

    program_ = fork();
    if (program_ < 0) return Errno("fork");
    if (program_ == 0) {
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      signal(SIGPIPE, SIG_DFL);
      execve(program.c_str(), argv.data(), envp.data());
      std::string why = "thaw: cannot execute " + program + ": " + std::strerror(errno) + "\n";
      (void)!write(STDERR_FILENO, why.data(), why.size());
      _exit(127);
    }
    // The program runs as the same uid as this init: non-dumpable, the init's /proc/<pid>/mem
    // and the like are out of its reach (ptrace and process_vm_* are refused by the sandbox's
    // system-call filter already).
    prctl(PR_SET_DUMPABLE, 0);
    return {};
  }

  // Reaps every exited child; forwards termination signals to the program. Non-blocking.
  void HandleSignals() {
    signalfd_siginfo info;
    while (read(sfd_, &info, sizeof info) == sizeof info) {
      if (info.ssi_signo != SIGCHLD && program_ > 0 && !program_status_) {
        kill(program_, static_cast<int>(info.ssi_signo));
      }
    }
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid == program_) program_status_ = status;
    }
  }

  std::string ProgramExited() const {
    return "The container program " + options_.program + " " + DescribeExit(*program_status_) + ".";
  }

  // Waits for the program's first 200 on /ping: a probe every few milliseconds at first (a
  // program that is ready fast is found fast), at most 2 s each, 3 minutes in all.
  std::string AwaitReady() {
    const auto deadline = SteadyClock::now() + options_.startup_timeout;
    auto delay = std::chrono::milliseconds(1);
    for (;;) {
      HandleSignals();
      if (program_status_) return ProgramExited();
      int status = Ping(port_, options_.ping_timeout);
      if (status == 200) return {};
      if (SteadyClock::now() >= deadline) {
        return "The container program " + options_.program + " did not answer GET /ping with 200 " +
               "within " + std::to_string(options_.startup_timeout.count() / 1000) + " s" +
               (status > 0 ? " (last answer: HTTP " + std::to_string(status) + ")." : ".");
      }
      pollfd p{sfd_, POLLIN, 0};
      poll(&p, 1, static_cast<int>(std::min<int64_t>(delay.count(), MillisUntil(deadline))));
      delay = std::min(delay * 2, std::chrono::milliseconds(50));
    }
  }

  // The program never became ready: answer the server's health check with the reason (the deploy
  // fails with it), then stop.
  int ServeFailure(const std::string& failure) {
    Logger("worker")->warn("{}", failure);
    HttpLimits limits;
    limits.max_body_bytes = kMaxBody;
    limits.too_large = {413, std::string(kHtml), "Request Entity Too Large"};
    ServeHttp(fd_, limits, [&](const HttpRequest&) {
      return HttpResponse{500, "text/plain", failure};
    });
    Stop();
    return 1;
  }

  int Bridge() {
    asio::local::stream_protocol::socket server(io_);
    boost::system::error_code ec;
    server.assign(asio::local::stream_protocol(), fd_, ec);
    if (ec) return Fatal("assign: " + ec.message());
    beast::flat_buffer server_buf;
    for (;;) {
      if (server_buf.size() == 0) {
        std::array<pollfd, 2> p = {{{fd_, POLLIN, 0}, {sfd_, POLLIN, 0}}};
        if (poll(p.data(), p.size(), -1) < 0 && errno != EINTR) return Fatal(Errno("poll"));
        HandleSignals();
        if (program_status_) {
          Logger("worker")->warn("{}", ProgramExited());
          return ExitCodeOf(*program_status_);
        }
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      }
      http::request_parser<http::string_body> req;
      req.body_limit(kMaxBody);
      http::read(server, server_buf, req, ec);
      if (ec == http::error::end_of_stream || ec == asio::error::eof) {
        Stop();  // retirement: the server closed its end
        return program_status_ ? ExitCodeOf(*program_status_) : 0;
      }
      if (ec) return Fatal("reading the server's request: " + ec.message());

      std::optional<http::response<http::string_body>> res = Exchange(req.get());
      if (!res) {
        // The program died with the request: the server fails that request only, on EOF.
        Logger("worker")->warn("{}", ProgramExited());
        return ExitCodeOf(*program_status_);
      }
      http::write(server, *res, ec);
      if (ec) return Fatal("writing the response: " + ec.message());
    }
  }

  // Forwards one request to the program. nullopt when the program has died.
  std::optional<http::response<http::string_body>> Exchange(
      const http::request<http::string_body>& in) {
    http::request<http::string_body> out{in.method(), in.target(), 11};
    CopyFields(in.base(), out.base());
    out.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    out.body() = in.body();
    out.keep_alive(true);
    out.prepare_payload();

    boost::system::error_code ec;
    std::optional<http::response_parser<http::string_body>> parser;
    for (int attempt = 0; attempt < 2; ++attempt) {
      ec = {};
      parser.emplace();
      parser->body_limit(kMaxBody);
      if (!program_socket_.is_open()) {
        program_socket_.connect({asio::ip::address_v4::loopback(), static_cast<uint16_t>(port_)},
                                ec);
        if (ec) {
          boost::system::error_code ignored;
          program_socket_.close(ignored);
          break;
        }
      }
      http::write(program_socket_, out, ec);
      if (!ec) {
        http::read(program_socket_, program_buf_, *parser, ec);
        if (!ec) break;
      }
      // A kept-alive connection the program closed in the meantime: one retry on a new one,
      // but only if nothing of an answer arrived.
      boost::system::error_code ignored;
      program_socket_.close(ignored);
      program_buf_.consume(program_buf_.size());
      if (parser->got_some()) break;
    }
    if (ec) {
      HandleSignals();
      if (!program_status_) {
        // Give a dying program a moment to be reaped, so its death is reported as such.
        pollfd p{sfd_, POLLIN, 0};
        poll(&p, 1, 100);
        HandleSignals();
      }
      if (program_status_) return std::nullopt;
      http::response<http::string_body> bad{http::status::bad_gateway, 11};
      bad.set(http::field::content_type, "text/plain");
      bad.body() = "The container did not answer: " + ec.message();
      bad.keep_alive(true);
      bad.prepare_payload();
      return bad;
    }
    http::response<http::string_body> answer = parser->release();
    if (!answer.keep_alive()) {
      boost::system::error_code ignored;
      program_socket_.close(ignored);
    }
    http::response<http::string_body> back;
    back.version(11);
    back.result(answer.result_int());  // result() is `unknown` for codes Beast has no name for
    back.reason(answer.reason());
    CopyFields(answer.base(), back.base());
    back.body() = std::move(answer.body());
    back.keep_alive(true);
    back.prepare_payload();
    return back;
  }

  // SIGTERM, then wait for the program (reaping whatever else exits meanwhile). The grace is
  // not kept here: the zygote SIGKILLs this init after --stop-grace, which ends the program
  // with it (the PID namespace goes with its pid 1; unsandboxed, the process group).
  void Stop() {
    HandleSignals();
    if (program_ <= 0 || program_status_) return;
    kill(program_, SIGTERM);
    while (!program_status_) {
      pollfd p{sfd_, POLLIN, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) break;
      HandleSignals();
    }
  }

  int fd_;
  const ContainerOptions& options_;
  asio::io_context io_;
  asio::ip::tcp::socket program_socket_{io_};
  beast::flat_buffer program_buf_;
  int sfd_ = -1;
  int port_ = 0;
  pid_t program_ = -1;
  std::optional<int> program_status_;
};

}  // namespace

int RunCustomContainer(int fd, const ContainerOptions& options) {
  try {
    return Init(fd, options).Run();
  } catch (const std::exception& e) {
    Logger("worker")->warn("container init failed: {}", e.what());
    return 1;
  }
}

}  // namespace thaw::worker
