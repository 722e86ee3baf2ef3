#pragma once
// The messages between the server and the zygote (one SOCK_SEQPACKET message each, at most one fd
// attached with SCM_RIGHTS). The encoding is a flat little binary: fixed-width integers in host
// byte order (both ends are the same binary) and u32-length-prefixed strings. Decoding is
// bounds-checked and never throws; a short or malformed message decodes to false.

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sandbox/zygote.h"

namespace thaw::sandbox::internal {

// Largest message either side sends or accepts. Bounded so the zygote can use a fixed buffer;
// SpawnSpec::env must fit (validated by the server before sending).
inline constexpr size_t kMaxMessageBytes = 64 * 1024;
// Most fds one message carries (a fork request: the worker's socket, its cold-start channel and
// its log socket).
inline constexpr size_t kMaxFdsPerMessage = 4;

enum class MessageType : uint8_t {
  kSpawn = 1,       // server → zygote: SpawnRequest
  kKill = 2,        // server → zygote: pid
  kReady = 3,       // zygote → server, once after start-up: ReadyMessage
  kSpawnReply = 4,  // zygote → server: SpawnReply (+ the worker's socket when ok)
  kStop = 5,        // server → zygote: pid, grace (ms): SIGKILL the worker if it outlives it
  kSpawnFrom = 6,  // server → zygote: SpawnFromRequest (+ the log socket); answered by kSpawnReply
  kFork = 7,       // zygote → template: worker id + [worker socket, release channel, log socket]
  kForked = 8,     // template → zygote: ok, message (+ the child's pidfd when ok)
  kSpare = 9,      // template → zygote: a child forked ahead of its request (+ its pidfd)
};

struct SpawnRequest {
  uint64_t id = 0;
  SpawnSpec spec;
};

// A worker forked from a template (SpawnSpec::as_template) instead of a fresh child.
struct SpawnFromRequest {
  pid_t template_pid = 0;  // as the server knows it (host pid)
  SpawnRequest request;
};

// The start of SpawnReply::message when the template named by a SpawnFromRequest is gone (dead,
// retired, or never was one): the server answers NotFound, and the caller spawns afresh.
inline constexpr std::string_view kTemplateGone = "template gone: ";

struct ReadyMessage {
  bool ok = false;
  std::string message;      // why start-up failed
  std::string cgroup_mode;  // "v1", "v2", "none"
  std::string memory_dir;   // the parent of the workers' memory cgroups ("" without cgroups)
  std::string usage_file;   // "memory.usage_in_bytes" (v1) or "memory.current" (v2)
  std::vector<std::string> parent_dirs;  // every thaw-<zygote pid> directory, one per hierarchy
};

struct SpawnReply {
  uint64_t id = 0;
  bool ok = false;
  std::string message;  // why the spawn failed
  pid_t pid = 0;
  SpawnTimings timings;
  std::string cgroup;  // the worker's cgroup directory name under ReadyMessage::memory_dir
};

std::string EncodeSpawn(const SpawnRequest& r);
std::string EncodeKill(pid_t pid);
std::string EncodeStop(pid_t pid, int64_t grace_ms);
std::string EncodeReady(const ReadyMessage& m);
std::string EncodeSpawnReply(const SpawnReply& r);
std::string EncodeSpawnFrom(const SpawnFromRequest& r);
std::string EncodeFork(const std::string& worker_id);
std::string EncodeForked(bool ok, const std::string& message);
std::string EncodeSpare();

// The type of an encoded message, or 0 when empty.
uint8_t PeekType(std::string_view msg);
bool DecodeSpawn(std::string_view msg, SpawnRequest* out);
bool DecodeKill(std::string_view msg, pid_t* out);
bool DecodeStop(std::string_view msg, pid_t* pid, int64_t* grace_ms);
bool DecodeReady(std::string_view msg, ReadyMessage* out);
bool DecodeSpawnReply(std::string_view msg, SpawnReply* out);
bool DecodeSpawnFrom(std::string_view msg, SpawnFromRequest* out);
bool DecodeFork(std::string_view msg, std::string* worker_id);
bool DecodeForked(std::string_view msg, bool* ok, std::string* message);
bool DecodeSpare(std::string_view msg);

// Sends one message, with `fd` attached when >= 0. Retries EINTR; never raises SIGPIPE.
Status SendMessage(int sock, std::string_view msg, int fd = -1);
// The same with up to kMaxFdsPerMessage fds, in order.
Status SendMessageFds(int sock, std::string_view msg, std::span<const int> fds);

// Receives one message into `msg`. A received fd (close-on-exec) goes to `*fd`, else -1.
// Returns false with errno == 0 at EOF, false with errno set on error (EAGAIN when non-blocking
// and empty). A truncated message or control block is an error (EMSGSIZE); any fd that came
// with it is closed.
bool RecvMessage(int sock, std::string* msg, int* fd);
// The same keeping every fd that came with the message, in order (close-on-exec).
bool RecvMessageFds(int sock, std::string* msg, std::vector<int>* fds);

}  // namespace thaw::sandbox::internal
