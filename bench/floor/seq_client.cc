// seq_client: sequential HTTP/1.1 requests on ONE keep-alive loopback connection, each timed.
//
//   seq_client --port P --body FILE (--path PATH [--n N] [--warmup W] | --paths-file FILE
//              [--gap-ms G]) [--prime PATH] [--content-type T] [--dump-body FILE]
//
// --path: W untimed then N timed POSTs of FILE to PATH (warm latency).
// --paths-file: one timed POST per line of that file, in order (cold starts: one per endpoint),
// with G ms of idle time between them when --gap-ms is given.
// --prime: one untimed GET of PATH first, so the connection is accepted and set up before the
// first timed request. Each timed request is written in one send() and its response read to the
// last body byte (Content-Length); the latency of each is printed in nanoseconds, one per line.
// Any answer but 200 stops the run with the status and body on stderr (exit 1).
// --dump-body writes the last response body (for the benchmark's cross-check of answers).
//
// Why not Python's http.client: it costs tens of microseconds per request itself, as much as
// the overhead under test.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  int port = 0;
  std::string body_file, path, paths_file, prime, dump_body;
  std::string content_type = "text/csv";
  long n = 1000, warmup = 100;
  long gap_ms = 0;
};

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Connection {
 public:
  explicit Connection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    }
  }
  ~Connection() { close(fd_); }

  // Sends the request and reads one whole response; returns the status code.
  int RoundTrip(const std::string& request, std::string* body) {
    for (size_t sent = 0; sent < request.size();) {
      ssize_t n = send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      sent += static_cast<size_t>(n);
    }
    size_t header_end;
    while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos) Fill();
    const std::string head = buf_.substr(0, header_end);
    int status = std::atoi(head.c_str() + head.find(' ') + 1);
    size_t length = ContentLength(head);
    size_t total = header_end + 4 + length;
    while (buf_.size() < total) Fill();
    body->assign(buf_, header_end + 4, length);
    buf_.erase(0, total);
    return status;
  }

 private:
  static size_t ContentLength(const std::string& head) {
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos) throw std::runtime_error("response without Content-Length");
    return std::strtoul(lower.c_str() + at + 17, nullptr, 10);
  }

  void Fill() {
    char chunk[65536];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) throw std::runtime_error("connection closed by the server");
    buf_.append(chunk, static_cast<size_t>(n));
  }

  int fd_ = -1;
  std::string buf_;
};

std::string Request(const char* method, const std::string& path, const Options& o,
                    const std::string& body) {
  std::string r = std::string(method) + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!body.empty()) {
    r += "Content-Type: " + o.content_type + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n";
  }
  return r + "\r\n" + body;
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--port")
      o.port = std::atoi(v.c_str());
    else if (k == "--body")
      o.body_file = v;
    else if (k == "--path")
      o.path = v;
    else if (k == "--paths-file")
      o.paths_file = v;
    else if (k == "--prime")
      o.prime = v;
    else if (k == "--content-type")
      o.content_type = v;
    else if (k == "--dump-body")
      o.dump_body = v;
    else if (k == "--n")
      o.n = std::atol(v.c_str());
    else if (k == "--warmup")
      o.warmup = std::atol(v.c_str());
    else if (k == "--gap-ms")
      o.gap_ms = std::atol(v.c_str());
    else
      throw std::runtime_error("unknown option " + k);
  }
  if (o.port <= 0 || o.body_file.empty() || o.path.empty() == o.paths_file.empty()) {
    throw std::runtime_error(
        "usage: seq_client --port P --body FILE (--path PATH [--n N] [--warmup W] | "
        "--paths-file FILE [--gap-ms G]) [--prime PATH] [--content-type T] [--dump-body FILE]");
  }
  return o;
}

void Expect200(int status, const std::string& what, const std::string& body) {
  if (status == 200) return;
  throw std::runtime_error(what + " answered " + std::to_string(status) + ": " +
                           body.substr(0, 800));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = Parse(argc, argv);
    const std::string payload = ReadFile(o.body_file);
    std::vector<std::string> paths;
    if (!o.paths_file.empty()) {
      std::istringstream lines(ReadFile(o.paths_file));
      for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) paths.push_back(line);
      }
    }
    Connection conn(o.port);
    std::string body;
    if (!o.prime.empty())
      Expect200(conn.RoundTrip(Request("GET", o.prime, o, ""), &body), o.prime, body);

    std::vector<int64_t> ns;
    if (paths.empty()) {
      const std::string req = Request("POST", o.path, o, payload);
      for (long i = 0; i < o.warmup; ++i) Expect200(conn.RoundTrip(req, &body), o.path, body);
      ns.reserve(static_cast<size_t>(o.n));
      for (long i = 0; i < o.n; ++i) {
        int64_t t0 = NowNs();
        int status = conn.RoundTrip(req, &body);
        ns.push_back(NowNs() - t0);
        Expect200(status, o.path, body);
      }
    } else {
      for (const auto& path : paths) {
        if (o.gap_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.gap_ms));
        const std::string req = Request("POST", path, o, payload);
        int64_t t0 = NowNs();
        int status = conn.RoundTrip(req, &body);
        ns.push_back(NowNs() - t0);
        Expect200(status, path, body);
      }
    }
    if (!o.dump_body.empty()) std::ofstream(o.dump_body, std::ios::binary) << body;
    std::string out;
    for (int64_t v : ns) out += std::to_string(v) + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seq_client: %s\n", e.what());
    return 1;
  }
}
