#include "sandbox/wire.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace thaw::sandbox::internal {
namespace {

class Writer {
 public:
  explicit Writer(MessageType type) { U8(static_cast<uint8_t>(type)); }
  void U8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Raw(&v, sizeof v); }
  void U64(uint64_t v) { Raw(&v, sizeof v); }
  void I64(int64_t v) { Raw(&v, sizeof v); }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    buf_.append(s);
  }
  std::string Take() { return std::move(buf_); }

 private:
  void Raw(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  std::string buf_;
};

// Every read checks the remaining length; after the first failure ok() stays false and reads
// yield zeros, so decoders check once at the end.
class Reader {
 public:
  Reader(std::string_view msg, MessageType type) : rest_(msg) {
    if (U8() != static_cast<uint8_t>(type)) ok_ = false;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && rest_.empty(); }
  uint8_t U8() {
    uint8_t v = 0;
    Raw(&v, sizeof v);
    return v;
  }
  uint32_t U32() {
    uint32_t v = 0;
    Raw(&v, sizeof v);
    return v;
  }
  uint64_t U64() {
    uint64_t v = 0;
    Raw(&v, sizeof v);
    return v;
  }
  int64_t I64() {
    int64_t v = 0;
    Raw(&v, sizeof v);
    return v;
  }
  std::string Str() {
    uint32_t n = U32();
    if (!ok_ || n > rest_.size()) {
      ok_ = false;
      return {};
    }
    std::string s(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return s;
  }

 private:
  void Raw(void* p, size_t n) {
    if (!ok_ || rest_.size() < n) {
      ok_ = false;
      return;
    }
    std::memcpy(p, rest_.data(), n);
    rest_.remove_prefix(n);
  }
  std::string_view rest_;
  bool ok_ = true;
};

}  // namespace

std::string EncodeSpawn(const SpawnRequest& r) {
  Writer w(MessageType::kSpawn);
  w.U64(r.id);
  w.Str(r.spec.worker_id);
  w.Str(r.spec.runtime);
  w.Str(r.spec.model_dir.native());
  w.I64(r.spec.memory_mb);
  w.U32(static_cast<uint32_t>(r.spec.env.size()));
  for (const auto& [k, v] : r.spec.env) {
    w.Str(k);
    w.Str(v);
  }
  w.Str(r.spec.program_dir.native());
  w.U8(r.spec.as_template ? 1 : 0);
  return w.Take();
}

bool DecodeSpawn(std::string_view msg, SpawnRequest* out) {
  Reader r(msg, MessageType::kSpawn);
  out->id = r.U64();
  out->spec.worker_id = r.Str();
  out->spec.runtime = r.Str();
  out->spec.model_dir = r.Str();
  out->spec.memory_mb = r.I64();
  uint32_t n = r.U32();
  out->spec.env.clear();
  // Each pair takes at least 8 bytes, which bounds n by the message size before reserving.
  if (!r.ok() || n > msg.size() / 8) return false;
  out->spec.env.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string k = r.Str();
    std::string v = r.Str();
    out->spec.env.emplace_back(std::move(k), std::move(v));
  }
  out->spec.program_dir = r.Str();
  out->spec.as_template = r.U8() != 0;
  return r.done();
}

std::string EncodeKill(pid_t pid) {
  Writer w(MessageType::kKill);
  w.I64(pid);
  return w.Take();
}

bool DecodeKill(std::string_view msg, pid_t* out) {
  Reader r(msg, MessageType::kKill);
  *out = static_cast<pid_t>(r.I64());
  return r.done();
}

std::string EncodeStop(pid_t pid, int64_t grace_ms) {
  Writer w(MessageType::kStop);
  w.I64(pid);
  w.I64(grace_ms);
  return w.Take();
}

bool DecodeStop(std::string_view msg, pid_t* pid, int64_t* grace_ms) {
  Reader r(msg, MessageType::kStop);
  *pid = static_cast<pid_t>(r.I64());
  *grace_ms = r.I64();
  return r.done() && *grace_ms >= 0;
}

std::string EncodeReady(const ReadyMessage& m) {
  Writer w(MessageType::kReady);
  w.U8(m.ok ? 1 : 0);
  w.Str(m.message);
  w.Str(m.cgroup_mode);
  w.Str(m.memory_dir);
  w.Str(m.usage_file);
  w.U32(static_cast<uint32_t>(m.parent_dirs.size()));
  for (const auto& d : m.parent_dirs) w.Str(d);
  return w.Take();
}

bool DecodeReady(std::string_view msg, ReadyMessage* out) {
  Reader r(msg, MessageType::kReady);
  out->ok = r.U8() != 0;
  out->message = r.Str();
  out->cgroup_mode = r.Str();
  out->memory_dir = r.Str();
  out->usage_file = r.Str();
  uint32_t n = r.U32();
  out->parent_dirs.clear();
  if (!r.ok() || n > msg.size() / 4) return false;
  for (uint32_t i = 0; i < n && r.ok(); ++i) out->parent_dirs.push_back(r.Str());
  return r.done();
}

std::string EncodeSpawnReply(const SpawnReply& r) {
  Writer w(MessageType::kSpawnReply);
  w.U64(r.id);
  w.U8(r.ok ? 1 : 0);
  w.Str(r.message);
  w.I64(r.pid);
  const SpawnTimings& t = r.timings;
  for (int64_t v : {t.fork_us, t.namespaces_us, t.cgroup_us, t.mounts_us, t.total_us, t.child_us}) {
    w.I64(v);
  }
  w.U8(t.pool_hit ? 1 : 0);
  w.Str(r.cgroup);
  return w.Take();
}

bool DecodeSpawnReply(std::string_view msg, SpawnReply* out) {
  Reader r(msg, MessageType::kSpawnReply);
  out->id = r.U64();
  out->ok = r.U8() != 0;
  out->message = r.Str();
  out->pid = static_cast<pid_t>(r.I64());
  SpawnTimings& t = out->timings;
  for (int64_t* v :
       {&t.fork_us, &t.namespaces_us, &t.cgroup_us, &t.mounts_us, &t.total_us, &t.child_us}) {
    *v = r.I64();
  }
  t.pool_hit = r.U8() != 0;
  out->cgroup = r.Str();
  return r.done();
}

std::string EncodeSpawnFrom(const SpawnFromRequest& r) {
  Writer w(MessageType::kSpawnFrom);
  w.I64(r.template_pid);
  w.Str(EncodeSpawn(r.request));
  return w.Take();
}

bool DecodeSpawnFrom(std::string_view msg, SpawnFromRequest* out) {
  Reader r(msg, MessageType::kSpawnFrom);
  out->template_pid = static_cast<pid_t>(r.I64());
  std::string inner = r.Str();
  return r.done() && DecodeSpawn(inner, &out->request);
}

std::string EncodeFork(const std::string& worker_id) {
  Writer w(MessageType::kFork);
  w.Str(worker_id);
  return w.Take();
}

bool DecodeFork(std::string_view msg, std::string* worker_id) {
  Reader r(msg, MessageType::kFork);
  *worker_id = r.Str();
  return r.done();
}

std::string EncodeForked(bool ok, const std::string& message) {
  Writer w(MessageType::kForked);
  w.U8(ok ? 1 : 0);
  w.Str(message);
  return w.Take();
}

bool DecodeForked(std::string_view msg, bool* ok, std::string* message) {
  Reader r(msg, MessageType::kForked);
  *ok = r.U8() != 0;
  *message = r.Str();
  return r.done();
}

std::string EncodeSpare() { return Writer(MessageType::kSpare).Take(); }

bool DecodeSpare(std::string_view msg) { return Reader(msg, MessageType::kSpare).done(); }

uint8_t PeekType(std::string_view msg) { return msg.empty() ? 0 : static_cast<uint8_t>(msg[0]); }

Status SendMessage(int sock, std::string_view msg, int fd) {
  if (fd < 0) return SendMessageFds(sock, msg, {});
  return SendMessageFds(sock, msg, {&fd, 1});
}

Status SendMessageFds(int sock, std::string_view msg, std::span<const int> fds) {
  if (fds.size() > kMaxFdsPerMessage) return InvalidArgument("too many fds for one message");
  iovec iov{const_cast<char*>(msg.data()), msg.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  if (!fds.empty()) {
    std::memset(control, 0, sizeof control);
    mh.msg_control = control;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  while (true) {
    ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(msg.size())) return Status::Ok();
    if (n < 0 && errno == EINTR) continue;
    return Internal(std::string("sendmsg: ") + (n < 0 ? std::strerror(errno) : "short write"));
  }
}

bool RecvMessage(int sock, std::string* msg, int* fd) {
  std::vector<int> fds;
  bool ok = RecvMessageFds(sock, msg, &fds);
  *fd = fds.empty() ? -1 : fds[0];
  for (size_t i = 1; i < fds.size(); ++i) close(fds[i]);  // only one fd per message is expected
  return ok;
}

bool RecvMessageFds(int sock, std::string* msg, std::vector<int>* fds) {
  fds->clear();
  msg->resize(kMaxMessageBytes);
  iovec iov{msg->data(), msg->size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int got;
      std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
      fds->push_back(got);
    }
  }
  auto drop = [fds] {
    for (int fd : *fds) close(fd);
    fds->clear();
  };
  if (n == 0) {
    drop();
    errno = 0;
    return false;
  }
  if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    drop();
    errno = EMSGSIZE;
    return false;
  }
  msg->resize(static_cast<size_t>(n));
  return true;
}

}  // namespace thaw::sandbox::internal
