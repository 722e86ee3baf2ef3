#pragma once
// SigV4 for the thaw CLI, with credentials found the way AWS's own clients find them.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "auth/client_signing.h"
#include "auth/sigv4.h"
#include "cli/http_client.h"

namespace thaw::cli {

// The credential chain lives in auth/client_signing.h (the server's S3 fetcher uses it too).
using auth::EnvLookup;
using auth::ProcessEnv;
inline Result<std::optional<auth::Credential>> FindCredentials(const EnvLookup& env) {
  return auth::FindCredentials(env);
}

// Signs every request with SigV4 for `service` in `region` at `now()`: X-Amz-Date (and
// X-Amz-Security-Token) added, every header but User-Agent and Expect signed, as botocore does.
RequestSigner SigV4Signer(
    auth::Credential credential, std::string region, std::string service,
    std::function<std::chrono::system_clock::time_point()> now = [] {
      return std::chrono::system_clock::now();
    });

}  // namespace thaw::cli
