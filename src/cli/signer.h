#pragma once
// SigV4 for the thaw CLI, with credentials found the way AWS's own clients find them.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "auth/sigv4.h"
#include "cli/http_client.h"

namespace thaw::cli {

// Reads one environment variable; nullopt when unset. Injected so tests do not touch the real
// environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); else the profile AWS_PROFILE
// (default "default") of AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials). nullopt when
// neither gives a key; an error when the named file exists but cannot be parsed.
Result<std::optional<auth::Credential>> FindCredentials(const EnvLookup& env);

// Signs every request with SigV4 for `service` in `region` at `now()`: X-Amz-Date (and
// X-Amz-Security-Token) added, every header but User-Agent and Expect signed, as botocore does.
RequestSigner SigV4Signer(
    auth::Credential credential, std::string region, std::string service,
    std::function<std::chrono::system_clock::time_point()> now = [] {
      return std::chrono::system_clock::now();
    });

}  // namespace thaw::cli
