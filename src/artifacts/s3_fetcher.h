#pragma once
// Fetching s3:// objects from a remote S3-compatible store (--s3-endpoint): SigV4-signed
// path-style GETs over plain HTTP (Beast), the body streamed to a file (never whole in memory)
// while its MD5 is computed, then verified against Content-Length and, for single-part objects,
// the ETag (multipart ETags, "<md5 of md5s>-<parts>", are checked only by size). 5xx answers,
// connection failures, timeouts and truncated or corrupt bodies are retried with exponential
// backoff; 4xx answers are final.
//
// Decisions are pure functions (IsRetryable, RetryDelay, ParseS3Error, DownloadFailure) so that
// tests cover them without a network; S3Fetcher is the thin effectful layer. Fetch blocks its
// thread for the whole download, sleeps included: call it from a job thread, never an I/O thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "artifacts/s3_url.h"
#include "auth/sigv4.h"
#include "common/clock.h"
#include "common/status.h"

namespace thaw::artifacts {

// What one GET attempt came to.
struct Attempt {
  enum class Kind {
    kOk,
    kHttpError,    // S3 answered a status other than 200 (code/message from its XML body)
    kUnreachable,  // name resolution or connect failed
    kTimedOut,     // no progress for the step timeout
    kBroken,       // the connection failed mid-exchange, or the body was truncated
    kCorrupt,      // the body's size or MD5 does not match what S3 announced
    kLocal,        // writing the file on this host failed (not retried)
  };
  Kind kind = Kind::kOk;
  int http_status = 0;
  std::string s3_code;     // NoSuchKey, AccessDenied, … (empty when the body had none)
  std::string s3_message;  // S3's <Message>
  std::string detail;      // the system error or the mismatch, for people
};

struct RetryPolicy {
  int max_attempts = 4;
  std::chrono::milliseconds first_delay{200};
  std::chrono::milliseconds max_delay{5000};
};

// 5xx (and 429 / SlowDown), unreachable, timed out, broken and corrupt attempts are worth another.
bool IsRetryable(const Attempt& attempt);
// The wait before the next attempt after `attempts_made` attempts ending with `last`; nullopt when
// there is no next attempt (success, a final error, or the policy's attempts used up). Doubles
// from first_delay, capped at max_delay.
std::optional<std::chrono::milliseconds> RetryDelay(const Attempt& last, int attempts_made,
                                                    const RetryPolicy& policy);

// <Error><Code>…</Code><Message>…</Message></Error> → (code, message); empty when absent.
std::pair<std::string, std::string> ParseS3Error(std::string_view xml);

// The Status of a failed download, its message the cause people read after "Failed to download
// model data from URL …": NotFound for NoSuchKey / NoSuchBucket, PermissionDenied-like refusals
// (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, …) as FailedPrecondition, Unavailable
// for an unreachable or failing endpoint, Internal for local failures.
Status DownloadFailure(const Attempt& last, int attempts, const S3Object& object,
                       const std::string& endpoint_url);

struct S3FetcherOptions {
  S3Endpoint endpoint;
  auth::Credential credential;
  std::string region = "us-east-1";
  RetryPolicy retry;
  std::chrono::milliseconds step_timeout{30000};  // connect, send, and each read of the body
};

struct FetchedObject {
  std::filesystem::path path;  // the downloaded bytes; the caller owns (and removes) the file
  uint64_t bytes = 0;
  std::string etag;  // as S3 sent it, quotes removed
};

using Sleeper = std::function<void(std::chrono::milliseconds)>;
Sleeper RealSleeper();

// Thread-safe (no mutable state); each Fetch uses its own connection.
class S3Fetcher {
 public:
  // `clock` dates the signatures (wall time); `sleeper` waits between attempts.
  S3Fetcher(S3FetcherOptions options, const Clock& clock, Sleeper sleeper = RealSleeper());

  // Downloads `object` to a new file `dir`/`name_prefix`<random>; on error no file is left.
  Result<FetchedObject> Fetch(const S3Object& object, const std::filesystem::path& dir,
                              std::string_view name_prefix) const;

  const S3FetcherOptions& options() const { return options_; }

 private:
  Attempt TryOnce(const S3Object& object, int fd, FetchedObject& out) const;

  S3FetcherOptions options_;
  const Clock& clock_;
  Sleeper sleeper_;
};

}  // namespace thaw::artifacts
