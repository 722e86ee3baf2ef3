#include "test_worker.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace thaw::sandbox::testing {

pid_t g_prewarm_pid = 0;
namespace {
bool g_forked = false;                  // this process was forked by a template
const char* g_template_mark = nullptr;  // set by the template before it forks
bool g_warmed = false;                  // this child ran ForkHooks::spare
// A template's ForkHooks::spare, from its spec's THAW_TEST_WARM_UP: "mark" (sets g_warmed),
// "slow" (never finishes within a test), "crash" (the spare dies); unset: no hook.
std::string g_warm_up;
void SpareWarmUp() {
  if (g_warm_up == "slow") std::this_thread::sleep_for(std::chrono::minutes(5));
  if (g_warm_up == "crash") _exit(3);
  g_warmed = true;
}
}  // namespace
bool g_linger = false;  // "linger": outlive EOF (as a program ignoring SIGTERM would)

void TestPrewarm(bool (*stop)()) {
  if (!stop()) g_prewarm_pid = getpid();
}

namespace {

std::string ErrAnswer() { return "err " + std::to_string(errno); }

bool ReadLine(int fd, std::string* buffer, std::string* line, int timeout_ms) {
  while (true) {
    size_t nl = buffer->find('\n');
    if (nl != std::string::npos) {
      *line = buffer->substr(0, nl);
      buffer->erase(0, nl + 1);
      return true;
    }
    if (timeout_ms >= 0) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, timeout_ms) <= 0) {
        *line = "<timeout>";
        return false;
      }
    }
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *line = "<eof>";
      return false;
    }
    buffer->append(chunk, static_cast<size_t>(n));
  }
}

std::string List(const std::string& path, bool skip_own_fd) {
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return ErrAnswer();
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (skip_own_fd && name == std::to_string(dirfd(d))) continue;
    names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  std::string out = "ok ";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? "," : "") + names[i];
  return out;
}

std::string Whoami() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::string capeff = "?";
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("CapEff:", 0) == 0) capeff = line.substr(line.find_last_of(" \t") + 1);
  }
  return "uid=" + std::to_string(getuid()) + " gid=" + std::to_string(getgid()) + " host=" + host +
         " groups=" + std::to_string(getgroups(0, nullptr)) + " capeff=" + capeff;
}

std::string Answer(const std::string& line, const SpawnSpec& spec) {
  std::istringstream in(line);
  std::string cmd, arg, arg2;
  in >> cmd >> arg >> arg2;
  if (cmd == "ping") return "pong";
  if (cmd == "whoami") return Whoami();
  if (cmd == "pid") return std::to_string(getpid());
  if (cmd == "modeldir") return spec.model_dir.native();
  if (cmd == "read") {
    int fd = open(arg.c_str(), O_RDONLY);
    if (fd < 0) return ErrAnswer();
    char buf[256] = {};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) return ErrAnswer();
    std::string s(buf, static_cast<size_t>(n));
    s.erase(std::remove(s.begin(), s.end(), '\n'), s.end());
    return "ok " + s;
  }
  if (cmd == "write") {
    int fd = open(arg.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return ErrAnswer();
    ssize_t n = write(fd, "x", 1);
    close(fd);
    return n == 1 ? "ok" : ErrAnswer();
  }
  if (cmd == "ls") return List(arg, false);
  if (cmd == "fds") return List("/proc/self/fd", true);
  if (cmd == "notify") {
    NotifyColdStartDone();
    return "ok";
  }
  if (cmd == "prewarmed") return "ok " + std::to_string(g_prewarm_pid);
  if (cmd == "env") {
    const char* v = getenv(arg.c_str());
    return v ? std::string("ok ") + v : "err unset";
  }
  if (cmd == "connect") {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return ErrAnswer();
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(std::atoi(arg2.c_str())));
    inet_pton(AF_INET, arg.c_str(), &a.sin_addr);
    int r = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    std::string out = r == 0 ? "ok" : ErrAnswer();
    close(s);
    return out;
  }
  if (cmd == "alloc") {
    // Touch every page in 1 MiB steps so a memory limit hits while allocating.
    size_t mb = static_cast<size_t>(std::atoll(arg.c_str()));
    for (size_t i = 0; i < mb; ++i) {
      void* p = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return ErrAnswer();
      std::memset(p, 1, 1 << 20);
    }
    return "ok";
  }
  if (cmd == "spin") {
    // "spin <threads>": that many threads burn CPU for half a second (a model spinning).
    const int threads = std::max(1, std::atoi(arg.c_str()));
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    std::atomic<uint64_t> sink{0};
    std::vector<std::thread> spinners;
    for (int i = 0; i < threads; ++i) {
      spinners.emplace_back([&] {
        uint64_t n = 0;
        while (std::chrono::steady_clock::now() < until) n += 1;
        sink += n;
      });
    }
    for (auto& t : spinners) t.join();
    return sink.load() > 0 ? "ok" : "err spin";
  }
  if (cmd == "exit") _exit(std::atoi(arg.c_str()));
  if (cmd == "forked") {
    return g_forked && g_template_mark != nullptr ? "yes" : "no";
  }
  if (cmd == "warmed") return g_warmed ? "yes" : "no";
  if (cmd == "sched") return sched_getscheduler(0) == SCHED_OTHER ? "other" : "not-other";
  if (cmd == "linger") {
    g_linger = true;
    return "ok";
  }
  return "err unknown-command";
}

}  // namespace

int TestWorkerEntry(int fd, const SpawnSpec& spec) {
  if (spec.as_template) {
    // A template: "loads" (marks the memory its children inherit), then forks on request.
    static char loaded[] = "loaded";
    g_template_mark = loaded;
    ForkHooks hooks;
    hooks.child = [] { g_forked = true; };
    for (const auto& [key, value] : spec.env) {
      if (key == "THAW_TEST_WARM_UP") g_warm_up = value;
    }
    if (!g_warm_up.empty()) hooks.spare = &SpareWarmUp;
    if (!ServeForks(fd, hooks)) return 0;
    fd = 3;  // a forked child: a worker on its own socket
  }
  std::string buffer, line;
  while (ReadLine(fd, &buffer, &line, -1)) {
    std::string out = Answer(line, spec) + "\n";
    if (write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) return 1;
  }
  while (g_linger) pause();
  return 0;
}

WorkerClient::~WorkerClient() {
  if (fd_ >= 0) close(fd_);
}

std::string WorkerClient::Call(const std::string& command, std::chrono::milliseconds timeout) {
  std::string out = command + "\n";
  if (send(fd_, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) {
    return "<eof>";
  }
  std::string line;
  ReadLine(fd_, &buffer_, &line, static_cast<int>(timeout.count()));
  return line;
}

bool WorkerClient::WaitEof(std::chrono::milliseconds timeout) {
  std::string line;
  while (ReadLine(fd_, &buffer_, &line, static_cast<int>(timeout.count()))) {
  }
  return line == "<eof>";
}

}  // namespace thaw::sandbox::testing
