#pragma once
// The client side of SigV4 and the AWS credential chain, shared by the thaw CLI (which signs its
// API calls) and the artifact fetcher (which signs its GETs to a remote S3). The server's
// verifier (sigv4.h) builds the same canonical request, so both sides agree by construction.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "auth/sigv4.h"
#include "common/status.h"

namespace thaw::auth {

// The `Authorization` value for `request`, signing every header it carries (names lower-case;
// x-amz-date must be among them, x-amz-security-token too when the credential has a session
// token) in `region` for `service`, at `amz_date` ("20130524T000000Z"). The payload hash is
// x-amz-content-sha256 when present, else SHA-256 of the body.
std::string SignedAuthorization(const Credential& credential, std::string_view region,
                                std::string_view service, std::string_view amz_date,
                                const RequestView& request);

// Reads one environment variable; nullopt when unset. Injected so tests do not touch the real
// environment (only src/server and the CLI's entry point pass the process's own).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); else the profile `profile`
// (when empty: AWS_PROFILE, else "default") of AWS_SHARED_CREDENTIALS_FILE (default
// ~/.aws/credentials). nullopt when neither gives a key; an error when the file exists but
// cannot be parsed.
Result<std::optional<Credential>> FindCredentials(const EnvLookup& env,
                                                  std::string_view profile = {});

// AWS_REGION, else AWS_DEFAULT_REGION, else `region =` of the profile (`[default]` or
// `[profile name]`) in AWS_CONFIG_FILE (default ~/.aws/config), else "us-east-1".
std::string FindRegion(const EnvLookup& env, std::string_view profile = {});

}  // namespace thaw::auth
