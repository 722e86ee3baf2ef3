// The server's side of the zygote: start-up handshake, pipelined spawn requests, kill, memory
// usage, shutdown. See zygote_process.cc for the zygote process itself.

#include "sandbox/zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <thread>

#include "common/logging.h"
#include "sandbox/cgroups.h"
#include "sandbox/namespaces.h"
#include "sandbox/wire.h"
#include "sandbox/zygote_process.h"

namespace thaw::sandbox {

using internal::DecodeReady;
using internal::DecodeSpawnReply;
using internal::EncodeKill;
using internal::EncodeSpawn;
using internal::EncodeSpawnFrom;
using internal::EncodeStop;
using internal::MessageType;
using internal::ReadyMessage;
using internal::RecvMessage;
using internal::SendMessage;
using internal::SpawnReply;
using internal::SpawnRequest;

struct Zygote::Reply {
  SpawnReply reply;
  int fd = -1;
};

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr char kSandboxHint[] =
    " (the worker sandbox needs root; start with --unsafe-no-sandbox to run workers without "
    "isolation)";

Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }

// Waits up to `timeout` for fd to become readable; false on timeout.
bool WaitReadable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  int n;
  do {
    n = poll(&p, 1, static_cast<int>(std::max<int64_t>(timeout.count(), 0)));
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

// Waits for `pid` (our child) to exit, SIGKILLing it after `grace`.
void ReapChild(pid_t pid, std::chrono::milliseconds grace) {
  // glibc 2.36's <sys/pidfd.h> lacks extern "C", so call the syscall directly.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    if (!WaitReadable(pidfd, grace)) kill(pid, SIGKILL);
    close(pidfd);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

Status Validate(const SpawnSpec& spec) {
  if (spec.worker_id.empty()) return InvalidArgument("worker_id is empty");
  if (spec.memory_mb <= 0) return InvalidArgument("memory_mb must be positive");
  if (!spec.model_dir.empty() && !spec.model_dir.is_absolute()) {
    return InvalidArgument("model_dir must be an absolute path: " + spec.model_dir.native());
  }
  if (!spec.program_dir.empty() && !spec.program_dir.is_absolute()) {
    return InvalidArgument("program_dir must be an absolute path: " + spec.program_dir.native());
  }
  for (const auto& [k, v] : spec.env) {
    if (k.empty() || k.find('=') != k.npos || k.find('\0') != k.npos || v.find('\0') != v.npos) {
      return InvalidArgument("invalid environment variable name or value: " + k);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Zygote>> Zygote::Start(const SandboxOptions& options, WorkerEntry entry) {
  THAW_ASSIGN_OR_RETURN(std::unique_ptr<Zygote> z, Begin(options, entry));
  if (Status s = z->WaitReady(); !s.ok()) return s;
  return z;
}

Result<std::unique_ptr<Zygote>> Zygote::Begin(const SandboxOptions& options, WorkerEntry entry) {
  if (entry == nullptr) return InvalidArgument("no worker entry");
  if (options.enabled) THAW_RETURN_IF_ERROR(internal::ValidateHiddenPaths(options.hidden_paths));
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return Internal(std::string("socketpair: ") + std::strerror(errno));
  }
  const pid_t server_pid = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    return Internal(std::string("fork the zygote: ") + std::strerror(e));
  }
  if (pid == 0) {
    close(sv[0]);
    internal::RunZygote(sv[1], server_pid, options, entry);
  }
  close(sv[1]);
  std::unique_ptr<Zygote> z(new Zygote());
  z->ctl_fd_ = sv[0];
  z->zygote_pid_ = pid;
  z->spawn_timeout_ = options.spawn_timeout;
  z->sandbox_enabled_ = options.enabled;
  // Importing a runtime's libraries takes seconds on a loaded machine (7 s seen for scikit-learn
  // with both CPUs busy): a preloading zygote gets more time.
  z->startup_allowance_ =
      options.preload != nullptr ? std::chrono::seconds(120) : std::chrono::seconds(10);
  return z;
}

Status Zygote::WaitReady() {
  if (ready_ok_.load(std::memory_order_acquire)) return Status::Ok();
  std::lock_guard lock(ready_mu_);
  if (ready_) return *ready_;
  // Start-up includes the preload, the probe spawn and filling the pool.
  const auto startup_timeout = spawn_timeout_ + startup_allowance_;
  std::string msg;
  int fd = -1;
  ReadyMessage ready;
  bool got = WaitReadable(ctl_fd_, startup_timeout) && RecvMessage(ctl_fd_, &msg, &fd);
  if (fd >= 0) close(fd);
  if (!got || !DecodeReady(msg, &ready) || !ready.ok) {
    std::string why = !got ? "the zygote exited or did not answer during start-up"
                      : ready.message.empty() ? "the zygote sent an invalid start-up message"
                                              : ready.message;
    {
      std::lock_guard state(mu_);
      dead_ = true;  // Spawn fails fast from now on
    }
    if (why.rfind(internal::kPreloadFailed, 0) == 0) {
      ready_ = Internal("cannot start the zygote: " + why.substr(internal::kPreloadFailed.size()));
    } else if (sandbox_enabled_) {
      ready_ = FailedPrecondition("cannot set up the worker sandbox: " + why + kSandboxHint);
    } else {
      ready_ = Internal("cannot start the zygote: " + why);
    }
    return *ready_;
  }
  cgroup_mode_ = ready.cgroup_mode;
  memory_dir_ = ready.memory_dir;
  usage_file_ = ready.usage_file;
  for (const auto& d : ready.parent_dirs) parent_dirs_.emplace_back(d);
  ready_ = Status::Ok();
  ready_ok_.store(true, std::memory_order_release);
  return *ready_;
}

void Zygote::CancelStart() {
  // SIGTERM is the zygote's shutdown request at any point of its start-up (see RunZygote).
  if (!ready_ok_.load(std::memory_order_acquire) && zygote_pid_ > 0) kill(zygote_pid_, SIGTERM);
}

Zygote::~Zygote() {
  {
    // A zygote still starting up (preloading) would only notice the closed channel when it is
    // done: stop it now. SIGTERM is safe at any point of its start-up (see RunZygote).
    std::lock_guard lock(ready_mu_);
    if (!ready_ && zygote_pid_ > 0) kill(zygote_pid_, SIGTERM);
  }
  if (ctl_fd_ >= 0) close(ctl_fd_);  // EOF: the zygote kills its workers and cleans up
  if (zygote_pid_ > 0) ReapChild(zygote_pid_, spawn_timeout_ + std::chrono::seconds(5));
  // Backstop for a zygote that was itself killed: the cgroups it left behind, once their
  // processes (killed by their parent-death signal) are gone.
  auto deadline = SteadyClock::now() + std::chrono::seconds(2);
  std::vector<std::filesystem::path> left = parent_dirs_;
  while (!left.empty()) {
    std::vector<std::filesystem::path> again;
    for (const auto& parent : left) {
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
        if (entry.is_directory(ec)) rmdir(entry.path().c_str());
      }
      if (rmdir(parent.c_str()) != 0 && errno != ENOENT) again.push_back(parent);
    }
    left = std::move(again);
    if (left.empty() || SteadyClock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& [id, r] : replies_) {
    if (r->fd >= 0) close(r->fd);
  }
}

Result<SpawnedWorker> Zygote::Spawn(const SpawnSpec& spec) {
  THAW_RETURN_IF_ERROR(Validate(spec));
  if (Status s = WaitReady(); !s.ok()) return Unavailable(s.message());
  SpawnRequest req;
  req.spec = spec;
  {
    std::lock_guard lock(mu_);
    if (dead_) return Unavailable("the zygote has exited");
    req.id = next_id_++;
  }
  return Request(req.id, EncodeSpawn(req), spec);
}

Result<SpawnedWorker> Zygote::SpawnFrom(pid_t template_pid, const SpawnSpec& spec) {
  if (template_pid <= 0) return NotFound("no template");
  THAW_RETURN_IF_ERROR(Validate(spec));
  if (Status s = WaitReady(); !s.ok()) return Unavailable(s.message());
  internal::SpawnFromRequest req;
  req.template_pid = template_pid;
  req.request.spec.worker_id = spec.worker_id;
  req.request.spec.runtime = spec.runtime;
  req.request.spec.memory_mb = spec.memory_mb;
  {
    std::lock_guard lock(mu_);
    if (dead_) return Unavailable("the zygote has exited");
    req.request.id = next_id_++;
  }
  return Request(req.request.id, EncodeSpawnFrom(req), spec);
}

Result<SpawnedWorker> Zygote::Request(uint64_t id, const std::string& msg, const SpawnSpec& spec) {
  SpawnRequest req;
  req.id = id;
  if (msg.size() > internal::kMaxMessageBytes) {
    return InvalidArgument("spawn request too large (environment too big)");
  }
  {
    std::lock_guard lock(mu_);
    waiting_.insert(req.id);
  }
  // The worker's stdout/stderr: its end travels with the request (the zygote passes it on).
  int out[2] = {-1, -1};
  if (spec.capture_output && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out) != 0) {
    std::lock_guard lock(mu_);
    waiting_.erase(req.id);
    return Internal(std::string("socketpair: ") + std::strerror(errno));
  }
  Status sent;
  {
    std::lock_guard lock(send_mu_);
    sent = SendMessage(ctl_fd_, msg, out[1]);
  }
  if (out[1] >= 0) {
    shutdown(out[0], SHUT_WR);  // one-way: the server only reads
    close(out[1]);
  }
  if (!sent.ok()) {
    if (out[0] >= 0) close(out[0]);
    std::lock_guard lock(mu_);
    waiting_.erase(req.id);
    return Unavailable("the zygote is gone: " + sent.message());
  }
  // The zygote bounds the child's setup by spawn_timeout; the extra second covers the trip.
  auto deadline = SteadyClock::now() + spawn_timeout_ + std::chrono::seconds(1);
  auto awaited = AwaitReply(req.id, deadline);
  if (!awaited.ok() || !awaited->reply.ok || awaited->fd < 0) {
    if (out[0] >= 0) close(out[0]);
    if (!awaited.ok()) return awaited.status();
    if (awaited->fd >= 0) close(awaited->fd);
    if (!awaited->reply.ok) {
      const std::string& m = awaited->reply.message;
      if (m.rfind(internal::kTemplateGone, 0) == 0) {
        return NotFound(m.substr(internal::kTemplateGone.size()));
      }
      return Internal(m);
    }
    return Internal("the zygote's reply carried no socket");
  }
  Reply reply = std::move(awaited).value();
  if (!reply.reply.cgroup.empty()) {
    std::lock_guard lock(mu_);
    cgroups_[spec.worker_id] = reply.reply.cgroup;
    if (cgroups_.size() >= prune_at_) {  // forget workers whose cgroup is gone
      std::error_code ec;
      std::erase_if(cgroups_, [&](const auto& kv) {
        return !std::filesystem::exists(memory_dir_ / kv.second, ec);
      });
      prune_at_ = std::max<size_t>(1024, 2 * cgroups_.size());
    }
  }
  return SpawnedWorker{reply.fd, reply.reply.pid, reply.reply.timings, out[0]};
}

Result<Zygote::Reply> Zygote::AwaitReply(uint64_t id, SteadyClock::time_point deadline) {
  std::unique_lock lock(mu_);
  while (true) {
    if (auto it = replies_.find(id); it != replies_.end()) {
      Reply r = std::move(*it->second);
      replies_.erase(it);
      waiting_.erase(id);
      return r;
    }
    auto now = SteadyClock::now();
    if (dead_ || now >= deadline) {
      waiting_.erase(id);  // a late reply is dropped (its worker killed) by whoever reads it
      if (dead_) return Unavailable("the zygote has exited");
      return Unavailable("the zygote did not answer within " +
                         std::to_string(spawn_timeout_.count() + 1000) + " ms");
    }
    if (reading_) {
      cv_.wait_until(lock, deadline);
      continue;
    }
    // This thread reads the socket for everyone until its own reply comes or time runs out.
    reading_ = true;
    lock.unlock();
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                std::chrono::milliseconds(1);
    std::string msg;
    int fd = -1;
    bool readable = WaitReadable(ctl_fd_, wait);
    bool got = readable && RecvMessage(ctl_fd_, &msg, &fd);
    bool eof = readable && !got && errno != EAGAIN && errno != EWOULDBLOCK;
    lock.lock();
    reading_ = false;
    if (eof) dead_ = true;
    if (got) {
      auto r = std::make_shared<Reply>();
      r->fd = fd;
      if (internal::PeekType(msg) != static_cast<uint8_t>(MessageType::kSpawnReply) ||
          !DecodeSpawnReply(msg, &r->reply)) {
        Logger("sandbox")->error("undecodable message from the zygote ({} bytes)", msg.size());
        if (fd >= 0) close(fd);
      } else if (waiting_.count(r->reply.id) == 0) {
        DropLateReply(*r);
      } else {
        replies_[r->reply.id] = std::move(r);
      }
    }
    cv_.notify_all();
  }
}

void Zygote::DropLateReply(Reply& reply) {
  if (reply.fd >= 0) close(reply.fd);
  reply.fd = -1;
  if (reply.reply.ok && reply.reply.pid > 0) {
    std::lock_guard lock(send_mu_);
    (void)SendMessage(ctl_fd_, EncodeKill(reply.reply.pid));
  }
}

void Zygote::Kill(pid_t pid) {
  if (pid <= 0) return;
  std::lock_guard lock(send_mu_);
  (void)SendMessage(ctl_fd_, EncodeKill(pid));  // a dead zygote has killed every worker already
}

void Zygote::Stop(pid_t pid, std::chrono::milliseconds grace) {
  if (pid <= 0) return;
  std::lock_guard lock(send_mu_);
  (void)SendMessage(ctl_fd_, EncodeStop(pid, std::max<int64_t>(0, grace.count())));
}

std::string Zygote::cgroup_mode() const { return cgroup_mode_; }

int64_t Zygote::MemoryUsage(const std::string& worker_id) const {
  std::string cgroup;
  {
    std::lock_guard lock(mu_);
    auto it = cgroups_.find(worker_id);
    if (it == cgroups_.end() || memory_dir_.empty()) return -1;
    cgroup = it->second;
  }
  std::string text;
  if (!internal::ReadSmallFile(memory_dir_ / cgroup / usage_file_, &text)) {
    if (errno == ENOENT) {
      std::lock_guard lock(mu_);  // the worker is gone and its cgroup removed
      auto it = cgroups_.find(worker_id);
      if (it != cgroups_.end() && it->second == cgroup) cgroups_.erase(it);
    }
    return -1;
  }
  int64_t bytes = -1;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  return ec == std::errc() ? bytes : -1;
}

std::vector<std::filesystem::path> DataDirToHide(const std::filesystem::path& data_dir) {
  const std::filesystem::path dir = data_dir.lexically_normal();
  for (const std::filesystem::path private_dir : {"/tmp", "/dev/shm"}) {
    auto [a, b] = std::mismatch(private_dir.begin(), private_dir.end(), dir.begin(), dir.end());
    if (a == private_dir.end() && b != dir.end()) return {};  // strictly inside
  }
  return {dir};
}

}  // namespace thaw::sandbox
